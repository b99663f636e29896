"""ContainerImage.for_builtin_algorithm: the shipped account tables against the published
registry paths (tests/fixtures/ecr-paths), URIs per algorithm and region, the deploy-time mapping,
and every validation rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sagemaker_constructs import ContainerImage, Model, ModelData, PlatformKey, SecureBucket, ValidationError
from sagemaker_constructs.inference.builtin_images import DLC_ACCOUNTS, FIRST_PARTY_ACCOUNTS
from tests.harness.templates import only, template_of

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ecr-paths"


def test_tables_match_the_published_registry_paths():
    assert dict(FIRST_PARTY_ACCOUNTS) == json.loads((FIXTURES / "sagemaker-xgboost.json").read_text())
    assert dict(DLC_ACCOUNTS) == json.loads((FIXTURES / "deep-learning-containers.json").read_text())


def test_the_reference_stacks_sklearn_table_agrees_where_it_lists_a_region():
    from stacks.inference import SKLEARN_IMAGE_ACCOUNTS

    assert {r: a for r, a in SKLEARN_IMAGE_ACCOUNTS.items()} == {
        r: FIRST_PARTY_ACCOUNTS[r] for r in SKLEARN_IMAGE_ACCOUNTS}


@pytest.mark.parametrize("args, kwargs, uri", [
    (("xgboost", "1.7-1", "us-east-1"), {}, "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"),
    (("xgboost", "1.7-1", "eu-west-1"), {}, "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"),
    (("sklearn", "1.2-1", "us-east-1"), {},
     "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"),
    (("scikit-learn", "1.2-1", "cn-north-1"), {},
     "450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-scikit-learn:1.2-1-cpu-py3"),
    (("pytorch", "2.1.0", "us-west-2"), {"processor": "gpu", "py_version": "py310"},
     "763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-training:2.1.0-gpu-py310"),
    (("pytorch", "2.1.0", "ap-east-1"), {"scope": "inference", "py_version": "py310"},
     "871362719292.dkr.ecr.ap-east-1.amazonaws.com/pytorch-inference:2.1.0-cpu-py310"),
    (("tensorflow", "2.13.0", "us-east-1"), {"scope": "inference"},
     "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-inference:2.13.0-cpu"),
    (("tensorflow", "2.13.0", "us-east-1"), {"py_version": "py310"},
     "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-training:2.13.0-cpu-py310"),
    (("huggingface", "2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04", "us-east-1"), {"scope": "inference"},
     "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:"
     "2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04"),
])
def test_uris_for_a_known_region(stack, args, kwargs, uri):
    image = ContainerImage.for_builtin_algorithm(*args, **kwargs)
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    Model(stack, "Model", image=image, model_data=ModelData.from_bucket(bucket, "m/model.tar.gz"), encryption_key=key)
    assert only(template_of(stack), "AWS::SageMaker::Model")["PrimaryContainer"]["Image"] == uri


def test_without_region_a_deploy_time_mapping(stack):
    image = ContainerImage.for_builtin_algorithm("xgboost", "1.7-1")
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    Model(stack, "Model", image=image, model_data=ModelData.from_bucket(bucket, "m/model.tar.gz"), encryption_key=key)
    t = template_of(stack)
    assert {r: v["account"] for m in t["Mappings"].values() for r, v in m.items()} == dict(FIRST_PARTY_ACCOUNTS)
    assert "sagemaker-xgboost:1.7-1" in json.dumps(only(t, "AWS::SageMaker::Model")["PrimaryContainer"]["Image"])


@pytest.mark.parametrize("args, kwargs, match", [
    (("lightgbm", "1.0"), {}, "algorithm"),
    (("xgboost", "1.7"), {}, "version"),
    (("pytorch", "2.1"), {"py_version": "py310"}, "version"),
    (("pytorch", "2.1.0"), {}, "py_version"),
    (("pytorch", "2.1.0"), {"py_version": "python3"}, "py_version"),
    (("pytorch", "2.1.0"), {"py_version": "py310", "scope": "serving"}, "scope"),
    (("pytorch", "2.1.0"), {"py_version": "py310", "processor": "tpu"}, "processor"),
    (("sklearn", "1.2-1"), {"processor": "gpu"}, "processor"),
    (("huggingface", "4.37.0"), {}, "version"),
    (("xgboost", "1.7-1", "mars-north-1"), {}, "region"),
    (("pytorch", "2.1.0", "il-central-1"), {"py_version": "py310"}, "region"),
])
def test_validation(args, kwargs, match):
    with pytest.raises(ValidationError, match=match):
        ContainerImage.for_builtin_algorithm(*args, **kwargs)


def test_a_stack_pinned_to_a_region_the_table_lacks_is_refused():
    """A stack pinned to ap-south-2 with a Deep Learning Container image (the DLC table lists no
    ap-south-2): the template's Fn::FindInMap of that region failed the deployment."""
    import aws_cdk as cdk

    from tests.conftest import new_app

    pinned = cdk.Stack(new_app(), "Pinned", env=cdk.Environment(account="111122223333", region="ap-south-2"))
    image = ContainerImage.for_builtin_algorithm("pytorch", "2.1.0", scope="inference", py_version="py310")
    with pytest.raises(ValidationError, match="image.*stack's region ap-south-2"):
        Model(pinned, "Model", image=image)
    listed = cdk.Stack(new_app(), "Listed", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    Model(listed, "Model", image=image)  # a listed region keeps the deploy-time mapping
    assert "Fn::FindInMap" in json.dumps(only(template_of(listed), "AWS::SageMaker::Model")["PrimaryContainer"])
