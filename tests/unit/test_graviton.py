"""Graviton: ContainerImage architecture, the arm64/x86 check on endpoints, and the README table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets

from sagemaker_constructs import (
    ContainerImage,
    Model,
    ModelData,
    MultiModelEndpoint,
    PlatformKey,
    RealtimeEndpoint,
    SecureBucket,
    ValidationError,
)
from sagemaker_constructs.cost.prices import hosting_price
from sagemaker_constructs.mlops.serving import image_architecture
from sagemaker_constructs.validation.catalog import instance_facts
from tests.harness.templates import only, template_of

REPO = Path(__file__).resolve().parents[2]
ACCOUNTS = {"us-east-1": "683313688378", "eu-west-1": "141502667606"}
X86_URI = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ARM_URI = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.0-1-arm64-cpu-py3"
CUSTOM_URI = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/model:1"


@pytest.mark.parametrize(("image", "expected"), [
    (lambda: ContainerImage.from_regional_registry(ACCOUNTS, "sagemaker-scikit-learn:1.2-1-cpu-py3"), "x86_64"),
    (lambda: ContainerImage.from_regional_registry(ACCOUNTS, "sagemaker-scikit-learn:1.0-1-arm64-cpu-py3"), "arm64"),
    (lambda: ContainerImage.from_regional_registry(ACCOUNTS, "sagemaker-xgboost:1.5-1-arm64"), "arm64"),
    (lambda: ContainerImage.from_regional_registry(ACCOUNTS, "sagemaker-xgboost:1.7-1"), "x86_64"),
    (lambda: ContainerImage.from_uri(X86_URI), "x86_64"),
    (lambda: ContainerImage.from_uri(ARM_URI), "arm64"),
    (lambda: ContainerImage.from_uri("763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference-graviton:2.0.1-cpu-py310"),
     "arm64"),
    (lambda: ContainerImage.from_uri("763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1.0-gpu-py310-cu118"),
     "x86_64"),
    (lambda: ContainerImage.from_uri(CUSTOM_URI), None),
    (lambda: ContainerImage.from_uri(CUSTOM_URI, architecture="arm64"), "arm64"),
    (lambda: ContainerImage.from_uri(CUSTOM_URI, architecture="multi-arch"), "multi-arch"),
    (lambda: ContainerImage.from_regional_registry(ACCOUNTS, "my-image:1", architecture="arm64"), "arm64"),
    (lambda: ContainerImage.from_asset(str(REPO / "stacks"), platform=ecr_assets.Platform.LINUX_ARM64), "arm64"),
    (lambda: ContainerImage.from_asset(str(REPO / "stacks"), platform=ecr_assets.Platform.LINUX_AMD64), "x86_64"),
    (lambda: ContainerImage.from_asset(str(REPO / "stacks")), None),
])
def test_architecture_is_read_from_the_image_or_told(image, expected):
    assert image().architecture == expected


def test_architecture_of_a_repository_is_what_it_is_told(stack):
    repo = ecr.Repository.from_repository_name(stack, "Repo", "team/model")
    assert ContainerImage.from_ecr_repository(repo, "v1").architecture is None
    marked = ContainerImage.from_ecr_repository(repo, "v1", architecture="arm64")
    assert marked.architecture == "arm64"
    assert image_architecture(marked) == "arm"  # the pipeline then registers Graviton types


def test_serving_reads_the_public_architecture():
    assert image_architecture(ContainerImage.from_uri(CUSTOM_URI, architecture="x86_64")) == "x86"
    assert image_architecture(ContainerImage.from_uri(CUSTOM_URI, architecture="multi-arch")) == "unknown"
    assert image_architecture(ContainerImage.from_uri(CUSTOM_URI)) == "unknown"


def test_asset_architecture_sets_the_build_platform(stack):
    image = ContainerImage.from_asset(str(REPO / "stacks" / "assets"), architecture="arm64")
    assert image.architecture == "arm64"
    assert image._asset_options["platform"].platform == "linux/arm64"


@pytest.mark.parametrize("make", [
    lambda: ContainerImage.from_uri(X86_URI, architecture="arm"),
    lambda: ContainerImage.from_regional_registry(ACCOUNTS, "sagemaker-xgboost:1.7-1", architecture="aarch64"),
    lambda: ContainerImage.from_asset(str(REPO / "stacks"), architecture="amd64"),
])
def test_unknown_architecture_names_are_refused(make):
    with pytest.raises(ValidationError, match=r"architecture.*x86_64, arm64, multi-arch"):
        make()


def test_asset_architecture_conflicting_with_its_platform_is_refused():
    with pytest.raises(ValidationError, match=r"architecture.*linux/amd64"):
        ContainerImage.from_asset(str(REPO / "stacks"), architecture="arm64", platform=ecr_assets.Platform.LINUX_AMD64)


def _model(stack, image, id="Model"):
    key = stack.node.try_find_child("Key") or PlatformKey(stack, "Key")
    bucket = stack.node.try_find_child("Data") or SecureBucket(stack, "Data", encryption_key=key)
    return Model(stack, id, image=image, model_data=ModelData.from_bucket(bucket, "m/model.tar.gz"), encryption_key=key)


@pytest.mark.parametrize("image", [
    lambda: ContainerImage.from_uri(X86_URI),
    lambda: ContainerImage.from_uri(CUSTOM_URI),  # unknown: not marked arm64
    lambda: ContainerImage.from_regional_registry(ACCOUNTS, "sagemaker-scikit-learn:1.2-1-cpu-py3"),
])
def test_arm64_instance_type_with_an_image_not_marked_arm64_is_refused(stack, image):
    with pytest.raises(ValidationError, match=r"instance_type.*ml\.c7g\.large.*arm64.*architecture=\"arm64\""):
        RealtimeEndpoint(stack, "Endpoint", model=_model(stack, image()), instance_type="ml.c7g.large")


def test_x86_instance_type_with_an_arm64_only_image_is_refused(stack):
    with pytest.raises(ValidationError, match=r"instance_type.*ml\.m5\.large.*arm64-only"):
        RealtimeEndpoint(stack, "Endpoint", model=_model(stack, ContainerImage.from_uri(ARM_URI)),
                         instance_type="ml.m5.large")


def test_multi_model_endpoint_checks_its_image_too(stack):
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    with pytest.raises(ValidationError, match=r"instance_type.*ml\.c6g\.xlarge.*image is x86_64"):
        MultiModelEndpoint(stack, "Mme", image=ContainerImage.from_uri(X86_URI), instance_type="ml.c6g.xlarge",
                           model_data_prefix=ModelData.from_bucket(bucket, "models/"), encryption_key=key)


@pytest.mark.parametrize(("instance_type", "image"), [
    ("ml.c7g.large", lambda: ContainerImage.from_uri(ARM_URI)),
    ("ml.m6g.large", lambda: ContainerImage.from_uri(CUSTOM_URI, architecture="arm64")),
    ("ml.c6g.large", lambda: ContainerImage.from_uri(CUSTOM_URI, architecture="multi-arch")),
    ("ml.m5.large", lambda: ContainerImage.from_uri(CUSTOM_URI, architecture="multi-arch")),
    ("ml.m5.large", lambda: ContainerImage.from_uri(CUSTOM_URI)),  # unknown passes on x86_64
])
def test_matching_architectures_synthesize(stack, instance_type, image):
    RealtimeEndpoint(stack, "Endpoint", model=_model(stack, image()), instance_type=instance_type)
    config = only(template_of(stack), "AWS::SageMaker::EndpointConfig")
    assert config["ProductionVariants"][0]["InstanceType"] == instance_type


def test_an_imported_model_is_not_checked(stack):
    from aws_cdk import aws_iam as iam
    role = iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::111122223333:role/model")
    model = Model.from_model_attributes(stack, "Imported", model_name="team-model", role=role)
    assert model.architecture is None
    RealtimeEndpoint(stack, "Endpoint", model=model, instance_type="ml.c7g.large")


# ------------------------------------------------------------------ the README's Graviton table

def _graviton_table() -> list[list[str]]:
    text = (REPO / "README.md").read_text()
    section = text[text.index("#### Graviton (arm64) instance types"):]
    section = section[:section.index("\n#")]
    return [[c.strip() for c in line.strip("|").split("|")] for line in section.splitlines()
            if line.startswith("| `ml.")]


def _hosting_enum() -> set[str]:
    import botocore.session
    model = botocore.session.get_session().get_service_model("sagemaker")
    return set(model.shape_for("ProductionVariantInstanceType").enum)


def test_readme_graviton_table_lists_only_hosting_types_botocore_knows():
    rows = _graviton_table()
    assert len(rows) >= 6
    hosting = _hosting_enum()
    for arm, x86, *_ in rows:
        arm_type, x86_type = arm.strip("`"), x86.strip("`")
        assert arm_type in hosting, arm_type
        assert x86_type in hosting, x86_type
        assert instance_facts(arm_type).arm64 and not instance_facts(x86_type).arm64


def test_readme_graviton_table_prices_come_from_the_price_table():
    for arm, x86, arm_price, x86_price, *_ in _graviton_table():
        for cell, instance in ((arm_price, arm.strip("`")), (x86_price, x86.strip("`"))):
            price = hosting_price("us-east-1", instance)
            if price is None:
                assert cell == "not in price table", (instance, cell)
            else:
                assert re.fullmatch(r"\$?" + re.escape(str(price.usd)), cell), (instance, cell)


def test_m7g_and_r7g_are_not_hosting_types():
    """Why the table has no ml.m7g/ml.r7g rows: botocore's ProductionVariantInstanceType lists none."""
    hosting = _hosting_enum()
    assert not any(t.startswith(("ml.m7g.", "ml.r7g.")) for t in hosting)
