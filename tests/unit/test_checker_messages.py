"""Raises moved from hand-built messages to the checkers (issue 12, "one mechanism"): each bad value
still names the argument, the value and what is allowed; the checkers' options (``step``,
``note``, ``of``, ``shown``, ``label``, ``check_excluded``, ``check_glob``) have their own cases."""

from __future__ import annotations

import re

import pytest
from aws_cdk import Token
from aws_cdk import aws_ec2 as ec2

from sagemaker_constructs import (
    AutoMLStep,
    BiasFacet,
    ClarifyCheckStep,
    ContainerImage,
    Distribution,
    InstanceGroup,
    IsolatedNetwork,
    LambdaStep,
    ModelData,
    Parameter,
    PlatformKey,
    ProcessingInput,
    ProcessingOutput,
    ProcessingStep,
    QualityCheckStep,
    SecureBucket,
    TrainingStep,
    TransformStep,
    TuningStep,
    IntegerRange,
    ValidationError,
)
from sagemaker_constructs.network import private_subnets
from tests.conftest import new_stack
from sagemaker_constructs.validation.checks import (
    check_choice,
    check_count,
    check_excluded,
    check_glob,
    check_range,
)

IMG = ContainerImage.from_uri("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1")
METRICS = {"validation:accuracy": "accuracy=([0-9.]+)"}


def _raises(match, fn, *args, **kwargs):
    with pytest.raises(ValidationError, match=match) as info:
        fn(*args, **kwargs)
    return info.value


# --- the checkers' options ----------------------------------------------------------------------

@pytest.mark.parametrize("value", [0, 0.3, 1.1, 0.2])
def test_range_with_a_step(value):
    error = _raises(r"invalid n=.*allowed: 0\.25 to inf, in steps of 0\.25", check_range, "S", "n", value,
                    minimum=0.25, step=0.25)
    assert error.argument == "n" and error.value == value


@pytest.mark.parametrize("value", [0.25, 0.5, 1.75, 12, None])
def test_range_steps_that_fit(value):
    check_range("S", "n", value, minimum=0.25, step=0.25)


def test_range_step_skips_tokens():
    check_range("S", "n", Token.as_number({"Ref": "P"}), minimum=0.25, step=0.25)


def test_range_note():
    _raises(r"allowed: 0 to 1, with MODEL_BIAS", check_range, "S", "t", 2, minimum=0, maximum=1, note="with MODEL_BIAS")


def test_choice_of_a_named_set_and_none():
    _raises(r"invalid o='x'; one of outputs \(a, b\)", check_choice, "S", "o", "x", ["a", "b"], of="outputs")
    _raises(r"invalid o='x'; one of outputs \(none\)", check_choice, "S", "o", "x", [], of="outputs")
    _raises(r"invalid o='x'; allowed: none", check_choice, "S", "o", "x", [])


def test_choice_note_and_shown():
    _raises(r"allowed: a, b, when there is no script", check_choice, "S", "o", "x", ["a", "b"],
            note="when there is no script")
    error = _raises(r"one of names \(n0, n1, n2, \.\.\. \(30 in all\)\)", check_choice, "S", "o", "x",
                    [f"n{i}" for i in range(30)], of="names", shown=3)
    assert "n3" not in str(error)


def test_choice_label_compares_objects_and_names_them():
    class Thing:
        def __init__(self, name):
            self.name = name
    a, b, other_a = Thing("a"), Thing("b"), Thing("a")
    check_choice("S", "owner", a, [a, b], label=lambda t: t.name)
    error = _raises(r"invalid owner='a'; one of the members \(a, b\)", check_choice, "S", "owner", other_a, [a, b],
                    of="the members", label=lambda t: t.name)
    assert error.value == "a"


def test_count_note():
    _raises(r"invalid f='0 features'; 1 to 2500 features per feature group", check_count, "S", "f", [],
            minimum=1, maximum=2500, what="features", note="per feature group")


@pytest.mark.parametrize("value", ["is_deleted", "Write_Time"])
def test_excluded(value):
    _raises(r"not one of the reserved names \(api_invocation_time, is_deleted, write_time\)", check_excluded,
            "S", "name", value, ["api_invocation_time", "is_deleted", "write_time"], what="reserved names",
            key=str.lower)


def test_excluded_passes_others_and_tokens():
    check_excluded("S", "name", "age", ["is_deleted"])
    check_excluded("S", "name", Token.as_string({"Ref": "P"}), ["is_deleted"])
    check_excluded("S", "name", None, ["is_deleted"])


def test_glob():
    check_glob("S", "t", "ml.t3.medium", ["ml.t3.*", "ml.m5.large"])
    check_glob("S", "t", Token.as_string({"Ref": "P"}), ["ml.t3.*"])
    _raises(r"invalid t='ml.g5.xlarge'; matching one of allowed_instance_types \(ml.t3.\*, ml.m5.large\)",
            check_glob, "S", "t", "ml.g5.xlarge", ["ml.t3.*", "ml.m5.large"], of="allowed_instance_types")
    _raises(r"matching one of", check_glob, "S", "t", "ML.T3.MEDIUM", ["ml.t3.*"])


# --- the converted call sites -------------------------------------------------------------------

def _train(**kwargs):
    kwargs.setdefault("inputs", {"train": "s3://bucket/train/"})
    kwargs.setdefault("output_uri", "s3://bucket/out")
    kwargs.setdefault("metric_definitions", METRICS)
    return TrainingStep("Train", image=IMG, **kwargs)


def _processing(**kwargs):
    return ProcessingStep("P", image=IMG, entrypoint=["x"], **kwargs)


_OUT = [ProcessingOutput("o", "s3://b/o", "/opt/ml/processing/o")]

SITES = [
    ("image uri with a space", lambda: ContainerImage.from_uri("a b"),
     r"ContainerImage.from_uri: invalid uri='a b'; an image URI without spaces, at most 255 characters"),
    ("image uri too long", lambda: ContainerImage.from_uri("a" * 256), r"uri=.*at most 255 characters \(got 256\)"),
    ("architecture", lambda: ContainerImage.from_uri("a", architecture="arm"),
     r"invalid architecture='arm'; allowed: x86_64, arm64, multi-arch, or None"),
    ("parameter name", lambda: Parameter("bad name"), r"invalid name='bad name'; 1-256 letters, digits"),
    ("parameter type", lambda: Parameter("p", "Str"), r"Parameter 'p': invalid type='Str'; allowed: String, "),
    ("parameter name token", lambda: Parameter(Token.as_string({"Ref": "P"})), r"name=.*known at synth"),
    ("training metric name", lambda: _train(metric_definitions={"": "x"}),
     r"metric_definitions \(name\)=''.*1-255 characters"),
    ("training metric regex", lambda: _train(metric_definitions={"m": "x" * 501}),
     r"metric_definitions\['m'\]=.*at most 500 characters"),
    ("data parallel instance type", lambda: _train(distribution=Distribution.data_parallel(),
                                                   instance_type="ml.g5.xlarge", instance_count=2),
     r"instance_type='ml.g5.xlarge'; allowed: .*ml.p4d.24xlarge.*, with Distribution.data_parallel"),
    ("distribution instance group", lambda: _train(distribution=Distribution.torchrun(instance_groups=["nope"]),
                                                   instance_groups=[InstanceGroup("gpu", "ml.g5.xlarge", 2)]),
     r"distribution.instance_groups='nope'; one of instance_groups \(gpu\)"),
    ("final metric", lambda: _train().final_metric("loss"),
     r"final_metric='loss'; one of metric_definitions \(validation:accuracy\)"),
    ("processing inputs count", lambda: ProcessingStep(
        "P", image=IMG, entrypoint=["x"],
        inputs=[ProcessingInput(f"i{i}", "s3://b/i", f"/opt/ml/processing/i{i}") for i in range(11)]),
     r"invalid inputs='11 inputs'; 0 to 10 inputs"),
    ("processing inputs unique", lambda: ProcessingStep(
        "P", image=IMG, entrypoint=["x"],
        inputs=[ProcessingInput("i", "s3://b/i", f"/opt/ml/processing/i{i}") for i in range(2)]),
     r"inputs=\['i', 'i'\]; inputs with unique names"),
    ("processing outputs count", lambda: _processing(
        outputs=[ProcessingOutput(f"o{i}", "s3://b/o", f"/opt/ml/processing/o{i}") for i in range(11)]),
     r"invalid outputs='11 outputs'; 0 to 10 outputs"),
    ("output uri", lambda: _processing(outputs=_OUT).output_uri("x"), r"output_uri='x'; one of outputs \(o\)"),
    ("property file", lambda: _processing().property_file("R", output_name="x", path="r.json"),
     r"property_file output_name='x'; one of outputs \(none\)"),
    ("transform split type", lambda: TransformStep("S", model_name="m", input_uri="s3://b/in",
                                                   output_uri="s3://b/out", split_type="Word"),
     r"split_type='Word'; allowed: None, Line, RecordIO, TFRecord, or not given"),
    ("tuning objective", lambda: TuningStep("T", training=_train(), objective_metric="loss",
                                            ranges=[IntegerRange("max_depth", 2, 10)]),
     r"objective_metric='loss'; one of training's metric_definitions \(validation:accuracy\)"),
    ("automl target column", lambda: AutoMLStep("A", input_uri="s3://b/in", output_uri="s3://b/out",
                                                target_column="x" * 257),
     r"target_column=.*at most 256 characters"),
    ("lambda output", lambda: _lambda_output(), r"output='x'; one of outputs \(none\)"),
    ("quality problem type", lambda: QualityCheckStep(
        "Q", baseline_dataset="s3://b/base/", output_uri="s3://b/out", skip_check=True, check_type="MODEL_QUALITY",
        problem_type="Ranking", ground_truth_attribute="y", inference_attribute="p"),
     r"problem_type='Ranking'; allowed: Regression, BinaryClassification, .*, with MODEL_QUALITY"),
    ("quality threshold", lambda: QualityCheckStep(
        "Q", baseline_dataset="s3://b/base/", output_uri="s3://b/out", skip_check=True, check_type="MODEL_QUALITY",
        problem_type="BinaryClassification", ground_truth_attribute="y", probability_attribute="p",
        probability_threshold_attribute=True), r"probability_threshold_attribute=True; a number from 0 to 1"),
    ("clarify literal", lambda: BiasFacet("x" * 257), r"BiasFacet: invalid name=.*1-256 characters"),
    ("clarify threshold type", lambda: ClarifyCheckStep(
        "C", dataset_uri="s3://b/t.csv", output_uri="s3://b/out", label="y", facets=[BiasFacet("age", [40])],
        label_values=[1], probability_threshold=0.5, skip_check=True),
     r"probability_threshold=0.5; only with check_type MODEL_BIAS"),
    ("clarify threshold range", lambda: ClarifyCheckStep(
        "C", check_type="MODEL_BIAS", dataset_uri="s3://b/t.csv", output_uri="s3://b/out", label="y",
        facets=[BiasFacet("age", [40])], label_values=[1], model_name="m", probability_threshold=2, skip_check=True),
     r"probability_threshold=2; allowed: 0 to 1, with MODEL_BIAS"),
    ("clarify model name", lambda: ClarifyCheckStep(
        "C", check_type="MODEL_BIAS", dataset_uri="s3://b/t.csv", output_uri="s3://b/out", label="y",
        facets=[BiasFacet("age", [40])], label_values=[1], model_name="bad_name", skip_check=True),
     r"model_name='bad_name'; 1-63 letters"),
]


def _lambda_output():
    from aws_cdk import App, Stack
    from aws_cdk import aws_lambda as lambda_
    stack = Stack(App(), "S")
    fn = lambda_.Function.from_function_arn(stack, "Fn", "arn:aws:lambda:us-east-1:111122223333:function:f")
    return LambdaStep("L", function=fn).output("x")


@pytest.mark.parametrize("case, build, match", SITES, ids=[s[0] for s in SITES])
def test_converted_sites_name_argument_value_and_what_is_allowed(case, build, match):
    _raises(match, build)


def test_model_data_key(stack):
    bucket = SecureBucket(stack, "Data", encryption_key=PlatformKey(stack, "Key"))
    _raises(r"ModelData.from_bucket: invalid key='/m.tar.gz'; an S3 key of 1-1024 characters, not starting with '/'",
            ModelData.from_bucket, bucket, "/m.tar.gz")
    _raises(r"key=''; at least 1 characters", ModelData.from_bucket, bucket, "")
    _raises(r"key=.*at most 1024 characters", ModelData.from_bucket, bucket, "k" * 1025)
    ModelData.from_bucket(bucket, "a/" + "k" * 1020)


def test_subnet_counts(stack):
    net = IsolatedNetwork(stack, "Network", endpoints="none")
    subnets = [ec2.Subnet.from_subnet_id(stack, f"S{i}", f"subnet-{i:02d}") for i in range(17)]
    _raises(r"invalid subnets='17 subnets'; 1 to 16 subnets \(private or isolated\)",
            private_subnets, _owner(stack), net.vpc, subnets)
    _raises(r"invalid subnets='0 subnets'; 1 to 16 subnets", private_subnets, _owner(stack, "O2"), net.vpc, [])


def _owner(stack, id="Owner"):
    from constructs import Construct
    return Construct(stack, id)


def test_messages_keep_the_construct_path(stack):
    error = _raises(r"subnets", private_subnets, _owner(stack, "Named"), IsolatedNetwork(
        stack, "Net", endpoints="none").vpc, [])
    assert re.search(r"/Named$", error.construct_path)


# --- converted sites that need a stack ------------------------------------------------------------

def test_feature_group_sites(stack):
    from sagemaker_constructs import Feature
    from tests.unit.test_feature_store import _group
    _raises(r"features (name)='Is_Deleted'; not one of the reserved names \(api_invocation_time, is_deleted, "
            r"write_time\)".replace("(name)", r"\(name\)"), _group, stack,
            features=[Feature.string("record_id"), Feature.string("event_time"), Feature.string("Is_Deleted")])


def test_feature_group_record_identifier_and_count():
    from sagemaker_constructs import Feature
    from tests.unit.test_feature_store import _group
    _raises(r"record_identifier='id'; one of the features \(record_id, event_time", _group, new_stack("A"),
            record_identifier="id")
    _raises(r"features='0 features'; 1 to 2500 features per feature group", _group, new_stack("B"), features=[])
    many = [Feature.string("record_id"), Feature.string("event_time"), *(Feature.string(f"f{i}") for i in range(2499))]
    _raises(r"features='2501 features'; 1 to 2500 features", _group, new_stack("C"), features=many)


def test_studio_sites():
    from aws_cdk import aws_ecr as ecr
    from sagemaker_constructs import CustomImage
    from tests.unit.test_studio_apps import _domain
    _raises(r"default_instance_type='ml.g5.xlarge'; matching one of allowed_instance_types \(ml.t3.\*\)", _domain,
            new_stack("A"), default_instance_type="ml.g5.xlarge", allowed_instance_types=["ml.t3.*"])
    stack = new_stack("B")
    repo = ecr.Repository.from_repository_name(stack, "Repo", "team-image")
    listed, other = CustomImage(stack, "Image", repository=repo), CustomImage(stack, "Other", repository=repo)
    _raises(r"default_image='B/Other'; one of custom_images \(B/Image\)", _domain, stack, custom_images=[listed],
            default_image=other)
    domain, *_ = _domain(new_stack("C"))
    alice, bob = domain.add_user_profile("alice"), domain.add_user_profile("bob")
    _raises(r"owner='bob'; one of the members \(alice\)", domain.add_shared_space, "Team", name="team",
            members=[alice], owner=bob)


def test_registry_description(stack):
    from sagemaker_constructs import ModelPackageGroup
    _raises(r"description=.*0 to 1024 characters \(got 1025\)", ModelPackageGroup, stack, "G",
            model_package_group_name="churn", description="d" * 1025)
    ModelPackageGroup(stack, "Ok", model_package_group_name="churn2", description="d" * 1024)
