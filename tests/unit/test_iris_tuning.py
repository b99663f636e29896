"""The reference tuning pipeline's training code: the committed archive is the build of its
sources, and a run prints the objective metric the tuning step reads."""

from __future__ import annotations

import importlib.util
import io
import json
import re
import subprocess
import sys
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = REPO / "stacks" / "assets" / "iris_tuning"
ROWS = [("setosa", [5.1, 3.5, 1.4, 0.2]), ("setosa", [4.9, 3.0, 1.4, 0.2]), ("versicolor", [7.0, 3.2, 4.7, 1.4]),
        ("versicolor", [6.4, 3.2, 4.5, 1.5]), ("virginica", [6.3, 3.3, 6.0, 2.5]), ("virginica", [5.8, 2.7, 5.1, 1.9]),
        ("setosa", [5.0, 3.6, 1.4, 0.2]), ("versicolor", [6.9, 3.1, 4.9, 1.5]), ("virginica", [7.1, 3.0, 5.9, 2.1]),
        ("setosa", [5.4, 3.9, 1.7, 0.4])]


def _build():
    spec = importlib.util.spec_from_file_location("iris_tuning_build", HERE / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_archive_is_the_build_of_its_sources():
    assert (HERE / "dist" / "sourcedir.tar.gz").read_bytes() == _build().build(), \
        "run: python stacks/assets/iris_tuning/build.py"


def test_training_prints_the_objective_metric_and_writes_the_model(tmp_path):
    with tarfile.open(fileobj=io.BytesIO((HERE / "dist" / "sourcedir.tar.gz").read_bytes())) as tar:
        tar.extractall(tmp_path / "code", filter="data")
    data = tmp_path / "train"
    data.mkdir()
    (data / "iris.csv").write_text("\n".join(",".join([label, *map(str, f)]) for label, f in ROWS))
    model_dir = tmp_path / "model"
    out = subprocess.run([sys.executable, str(tmp_path / "code" / "train.py")], capture_output=True, text=True,
                         check=True, env={"SM_CHANNEL_TRAIN": str(data), "SM_MODEL_DIR": str(model_dir),
                                          "SM_HPS": json.dumps({"shrinkage": "0.2"})}).stdout
    # the tuning step's metric definition (stacks/mlops.py) reads this line
    from stacks.mlops import TUNING_METRICS

    (pattern,) = TUNING_METRICS.values()
    value = float(re.search(pattern, out).group(1))
    assert 0 <= value <= 1
    model = json.loads((model_dir / "model.json").read_text())
    assert model["classes"] == ["setosa", "versicolor", "virginica"] and (model_dir / "code" / "inference.py").exists()
