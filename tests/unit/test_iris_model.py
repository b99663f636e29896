"""The model artifact the reference InferenceStack deploys: reproducible and actually predicting."""

from __future__ import annotations

import importlib.util
import io
import json
import tarfile

from stacks.inference import MODEL_ARTIFACT
from tests.conftest import REPO

HERE = REPO / "stacks" / "assets" / "iris_model"


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_artifact_is_the_build_of_its_sources():
    build = _load(HERE / "build.py", "iris_build")
    assert MODEL_ARTIFACT.read_bytes() == build.build(), "run: python stacks/assets/iris_model/build.py"


def test_archive_layout_is_what_the_sklearn_container_expects():
    with tarfile.open(fileobj=io.BytesIO(MODEL_ARTIFACT.read_bytes()), mode="r:gz") as tar:
        assert sorted(tar.getnames()) == ["code/inference.py", "model.json"]


def test_handlers_predict_iris_classes(tmp_path):
    with tarfile.open(MODEL_ARTIFACT, mode="r:gz") as tar:
        tar.extractall(tmp_path, filter="data")
    inference = _load(tmp_path / "code" / "inference.py", "iris_inference")
    model = inference.model_fn(str(tmp_path))
    rows = inference.input_fn(json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 2.8, 4.3, 1.3]]}),
                              "application/json")
    body, content_type = inference.output_fn(inference.predict_fn(rows, model), "application/json")
    assert content_type == "application/json"
    assert [p["label"] for p in json.loads(body)["predictions"]] == ["setosa", "virginica", "versicolor"]
    assert inference.input_fn("5.1,3.5,1.4,0.2\n", "text/csv") == [[5.1, 3.5, 1.4, 0.2]]
