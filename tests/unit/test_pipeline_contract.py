"""TrainingPipeline for other people's apps: the minimal contract, a training-metric decision,
supplied roles (mutable, imported, immutable), code paths under any synthesizer, and the
registered model's serving metadata."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam

from sagemaker_constructs import (
    ContainerImage,
    IsolatedNetwork,
    ModelPackageGroup,
    PlatformKey,
    SecureBucket,
    TrainingPipeline,
    ValidationError,
)
from sagemaker_constructs.mlops import serving
from tests.conftest import REPO, new_app
from tests.harness.templates import only, resources, template_of
from tests.unit.test_pipelines import IMAGE, TRAINING, _definition, _steps, assert_valid_requests

EVALUATE = str(TRAINING / "evaluate.py")
CODE = str(TRAINING / "dist" / "sourcedir.tar.gz")


def _base(stack):
    key = PlatformKey(stack, "Key")
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="training")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    group = ModelPackageGroup(stack, "Group", model_package_group_name="iris")
    return dict(training_image=ContainerImage.from_uri(IMAGE), data_bucket=bucket, encryption_key=key, vpc=net.vpc,
                model_package_group=group)


def _pipeline(stack, **kwargs):
    return TrainingPipeline(stack, "Pipeline", **{**_base(stack), **kwargs})


# ------------------------------------------------------------------ the contract's five arguments
def test_builds_with_only_the_contract_arguments(stack):
    _pipeline(stack)
    definition = _definition(stack)
    assert [s["Name"] for s in definition["Steps"]] == ["Train", "Register"]
    assert {p["Name"] for p in definition["Parameters"]} == {"InputDataUrl", "TrainingInstanceType"}
    register = _steps(definition)["Register"]["Arguments"]
    assert register["ModelApprovalStatus"] == "PendingManualApproval"
    assert "ModelMetrics" not in register  # no evaluation report to point at
    assert stack.node.find_child("Pipeline").node.try_find_child("EvaluationScript") is None
    assert_valid_requests(definition)


def test_with_an_imported_group(stack):
    base = _base(stack)
    base["model_package_group"] = ModelPackageGroup.from_model_package_group_name(stack, "Imported", "churn")
    TrainingPipeline(stack, "Pipeline", **base)
    register = _steps(_definition(stack))["Register"]["Arguments"]
    assert register["ModelPackageGroupName"] == "churn"
    docs = json.dumps([p["Properties"]["PolicyDocument"] for p in resources(template_of(stack),
                                                                            "AWS::IAM::ManagedPolicy").values()])
    assert "model-package/churn/*" in docs and "model-package-group/churn" in docs


def test_a_gpu_instance_type_with_local_storage_gets_no_volume_key(stack):
    """instance_type is the TrainingInstanceType parameter's default: on ml.g5 (local NVMe storage)
    SageMaker refuses a VolumeKmsKeyId, so every execution with the default failed."""
    _pipeline(stack, instance_type="ml.g5.xlarge")
    resources_ = _steps(_definition(stack))["Train"]["Arguments"]["ResourceConfig"]
    assert resources_["InstanceType"] == {"Get": "Parameters.TrainingInstanceType"}
    assert "VolumeKmsKeyId" not in resources_
    guardrail = json.dumps([p["Properties"] for p in resources(template_of(stack), "AWS::IAM::ManagedPolicy").values()])
    assert '"sagemaker:InstanceTypes": ["ml.g5.xlarge"]' in guardrail  # the role's guardrail lets it through


METRICS = {"accuracy": r"accuracy=([0-9\.]+)", "train:loss": r"loss=([0-9\.]+)"}


def test_training_metric_decides_without_an_evaluation_script(stack):
    _pipeline(stack, metric_definitions=METRICS, metric_threshold=0.9)
    definition = _definition(stack)
    steps = _steps(definition)
    assert [s["Name"] for s in definition["Steps"]] == ["Train", "CheckMetric"]
    assert steps["Train"]["Arguments"]["AlgorithmSpecification"]["MetricDefinitions"] == [
        {"Name": "accuracy", "Regex": r"accuracy=([0-9\.]+)"}, {"Name": "train:loss", "Regex": r"loss=([0-9\.]+)"}]
    (condition,) = steps["CheckMetric"]["Arguments"]["Conditions"]
    assert condition == {"Type": "GreaterThanOrEqualTo",
                         "LeftValue": {"Get": "Steps.Train.FinalMetricDataList['accuracy'].Value"},
                         "RightValue": {"Get": "Parameters.MetricThreshold"}}
    assert [s["Name"] for s in steps["CheckMetric"]["Arguments"]["IfSteps"]] == ["Register"]
    params = {p["Name"]: p for p in definition["Parameters"]}
    assert set(params) == {"InputDataUrl", "TrainingInstanceType", "MetricThreshold"}
    assert params["MetricThreshold"]["DefaultValue"] == 0.9
    assert_valid_requests(definition)


def test_a_loss_registers_when_at_most_the_threshold(stack):
    _pipeline(stack, metric_definitions=METRICS, metric_name="train:loss", higher_is_better=False)
    steps = _steps(_definition(stack))
    (condition,) = steps["CheckMetric"]["Arguments"]["Conditions"]
    assert condition["Type"] == "LessThanOrEqualTo"
    assert condition["LeftValue"] == {"Get": "Steps.Train.FinalMetricDataList['train:loss'].Value"}
    assert steps["MetricBelowThreshold"]["Arguments"]["ErrorMessage"]["Std:Join"]["Values"][0] == "train:loss above"


def test_metric_definitions_also_go_to_training_with_an_evaluation_script(stack):
    _pipeline(stack, evaluation_script=EVALUATE, metric_definitions=METRICS, metric_name="accuracy")
    steps = _steps(_definition(stack))
    assert len(steps["Train"]["Arguments"]["AlgorithmSpecification"]["MetricDefinitions"]) == 2
    (condition,) = steps["CheckMetric"]["Arguments"]["Conditions"]
    assert "Std:JsonGet" in condition["LeftValue"]


def test_rejects_a_metric_name_that_is_not_defined(stack):
    with pytest.raises(ValidationError, match="metric_name.*one of metric_definitions"):
        _pipeline(stack, metric_definitions={"f1": "f1=(.*)"})


def test_rejects_more_metric_definitions_than_create_training_job_takes(stack):
    with pytest.raises(ValidationError, match="metric_definitions.*0 to 40 definitions"):
        _pipeline(stack, metric_definitions={f"m{i}": "(.*)" for i in range(41)}, metric_name="m0")


@pytest.mark.parametrize("definitions,match", [
    ({"n" * 256: "(.*)"}, "metric_definitions.*1 to 255 characters"),
    ({"": "(.*)"}, "metric_definitions.*1 to 255 characters"),
    ({"accuracy": "r" * 501}, "1 to 500 characters"),
    ({"accuracy": ""}, "1 to 500 characters"),
])
def test_rejects_metric_definitions_beyond_the_api_limits(stack, definitions, match):
    with pytest.raises(ValidationError, match=match):
        _pipeline(stack, metric_definitions=definitions)


def test_rejects_quotes_in_a_training_metric_name(stack):
    with pytest.raises(ValidationError, match="metric_name"):
        _pipeline(stack, metric_definitions={"it's": "(.*)"}, metric_name="it's")


def test_rejects_an_evaluation_image_without_a_script(stack):
    with pytest.raises(ValidationError, match="evaluation_image"):
        _pipeline(stack, evaluation_image=ContainerImage.from_uri(IMAGE))


def test_rejects_role_is_prepared_without_a_role(stack):
    with pytest.raises(ValidationError, match="role_is_prepared"):
        _pipeline(stack, role_is_prepared=True)


# ------------------------------------------------------------------ supplied roles
def _policies_of(template, role_logical_id):
    ref = {"Ref": role_logical_id}
    for type_ in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for policy in resources(template, type_).values():
            if ref in policy["Properties"].get("Roles", []):
                yield policy["Properties"]["PolicyDocument"]


def _grants(template, role_logical_id):
    """``{(effect, action, resource, condition)}`` of a role's policies, its own ARN as SELF."""
    self_arn = json.dumps({"Fn::GetAtt": [role_logical_id, "Arn"]})
    found = set()
    for doc in _policies_of(template, role_logical_id):
        for s in doc["Statement"]:
            actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
            targets = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
            for a in actions:
                for r in targets:
                    resource = json.dumps(r, sort_keys=True).replace(self_arn, '"SELF"')
                    found.add((s["Effect"], a, resource, json.dumps(s.get("Condition"), sort_keys=True)))
    return found


def _role_id(template, prefix):
    return next(k for k in resources(template, "AWS::IAM::Role") if k.startswith(prefix))


def _synth_with(role_factory, **kwargs):
    stack = cdk.Stack(new_app(), "Test")
    role = role_factory(stack)
    _pipeline(stack, role=role, training_code=CODE, evaluation_script=EVALUATE, **kwargs)
    return stack, role, template_of(stack)


def test_a_supplied_role_gets_exactly_the_default_roles_statements():
    default_stack = cdk.Stack(new_app(), "Test")
    _pipeline(default_stack, training_code=CODE, evaluation_script=EVALUATE)
    default_template = template_of(default_stack)
    expected = _grants(default_template, _role_id(default_template, "PipelineRole"))
    assert len({a for effect, a, *_ in expected if effect == "Allow"}) >= 45
    assert ("Allow", "sagemaker:CreateTrainingJob") in {(e, a) for e, a, *_ in expected}

    stack, role, template = _synth_with(lambda s: iam.Role(
        s, "Mine", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")))
    mine = _role_id(template, "Mine")
    assert _grants(template, mine) == expected
    passes = [g for g in _grants(template, mine) if g[1] == "iam:PassRole"]
    assert passes and all(g[2] == '"SELF"' for g in passes)  # the supplied role passes itself
    assert not any(k.startswith("PipelineDefaultRoleTemplate") for k in template["Resources"])
    definition = _definition(stack)
    assert _steps(definition)["Train"]["Arguments"]["RoleArn"] == "TOKEN"
    assert only(template, "AWS::SageMaker::Pipeline")["RoleArn"] == {"Fn::GetAtt": [mine, "Arn"]}


def test_the_pipeline_waits_for_the_supplied_roles_policy():
    _, _, template = _synth_with(lambda s: iam.Role(s, "Mine", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")))
    (pipeline,) = resources(template, "AWS::SageMaker::Pipeline").values()
    policy_id = next(k for k in resources(template, "AWS::IAM::Policy") if k.startswith("MineDefaultPolicy"))
    assert policy_id in pipeline.get("DependsOn", [])


def test_an_imported_mutable_role_gets_the_statements_in_a_policy():
    _, _, template = _synth_with(lambda s: iam.Role.from_role_arn(s, "Mine", "arn:aws:iam::111122223333:role/ml"))
    policies = [p["Properties"] for p in resources(template, "AWS::IAM::Policy").values()
                if p["Properties"].get("Roles") == ["ml"]]
    actions = {a for p in policies for s in p["PolicyDocument"]["Statement"]
               for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert {"sagemaker:CreateTrainingJob", "iam:PassRole", "s3:PutObject", "sagemaker:CreateModelPackage"} <= actions


def test_an_immutable_role_is_refused_naming_the_actions_it_needs():
    with pytest.raises(ValidationError, match="role") as error:
        _synth_with(lambda s: iam.Role.from_role_arn(s, "Mine", "arn:aws:iam::111122223333:role/ml", mutable=False))
    message = str(error.value)
    for action in ("sagemaker:CreateTrainingJob", "iam:PassRole", "s3:PutObject", "kms:GenerateDataKey",
                   "sagemaker:CreateModelPackage"):
        assert action in message
    assert "role_is_prepared=True" in message


def test_a_prepared_immutable_role_is_used_as_it_is():
    stack, _, template = _synth_with(
        lambda s: iam.Role.from_role_arn(s, "Mine", "arn:aws:iam::111122223333:role/ml", mutable=False),
        role_is_prepared=True)
    assert not resources(template, "AWS::IAM::Policy") or all(
        "ml" not in json.dumps(p["Properties"].get("Roles")) for p in resources(template, "AWS::IAM::Policy").values())
    assert only(template, "AWS::SageMaker::Pipeline")["RoleArn"] == "arn:aws:iam::111122223333:role/ml"
    assert not any(k.startswith("PipelineRole") for k in resources(template, "AWS::IAM::Role"))


# ------------------------------------------------------------------ code paths under any synthesizer
def _code_paths(stack):
    steps = _steps(_definition(stack))
    submit = json.loads(steps["Train"]["Arguments"]["HyperParameters"]["sagemaker_submit_directory"])
    script = steps["Evaluate"]["Arguments"]["AppSpecification"]["ContainerEntrypoint"][1]
    return submit, script


def _assets(stack):
    pipeline = stack.node.find_child("Pipeline")
    return pipeline.node.find_child("TrainingCode"), pipeline.node.find_child("EvaluationScript")


@pytest.mark.parametrize("synthesizer", [
    cdk.DefaultStackSynthesizer(bucket_prefix="team-a/"),
    cdk.DefaultStackSynthesizer(bucket_prefix="org/team-a/ml-"),
    cdk.CliCredentialsStackSynthesizer(bucket_prefix="x/y/"),
    cdk.DefaultStackSynthesizer(),
], ids=["prefix", "nested-prefix-and-stem", "cli-credentials", "default"])
def test_container_code_paths_are_the_objects_file_names(synthesizer):
    stack = cdk.Stack(new_app(), "Test", synthesizer=synthesizer)
    _pipeline(stack, training_code=CODE, evaluation_script=EVALUATE)
    code, script = _assets(stack)
    submit, entry = _code_paths(stack)
    assert submit == f"/opt/ml/input/data/code/{code.s3_object_key.rsplit('/', 1)[-1]}"
    assert entry == f"/opt/ml/processing/input/code/{script.s3_object_key.rsplit('/', 1)[-1]}"
    assert "team-a" not in submit + entry and "x/y" not in submit + entry
    assert submit.endswith(f"/{code.asset_hash}.gz") or "ml-" in code.s3_object_key
    # the channel and the input still point at the whole object
    steps = _steps(_definition(stack))
    channel = steps["Train"]["Arguments"]["InputDataConfig"][1]["DataSource"]["S3DataSource"]
    assert channel["S3DataType"] == "S3Prefix"


def test_container_code_paths_under_the_legacy_synthesizer():
    """Its object keys are deploy-time parameters (``<prefix>||<hash><extension>``): the file name
    is the hash and the extension, as the CLI uploads it."""
    stack = cdk.Stack(new_app(), "Test", synthesizer=cdk.LegacyStackSynthesizer())
    _pipeline(stack, training_code=CODE, evaluation_script=EVALUATE)
    code, script = _assets(stack)
    assert cdk.Token.is_unresolved(code.s3_object_key)
    assert _code_paths(stack) == (f"/opt/ml/input/data/code/{code.asset_hash}.gz",
                                  f"/opt/ml/processing/input/code/{script.asset_hash}.py")


# ------------------------------------------------------------------ serving metadata
def _inference(stack):
    return _steps(_definition(stack))["Register"]["Arguments"]["InferenceSpecification"]


def test_defaults_for_a_sagemaker_cpu_image_are_x86(stack):
    spec = _inference(_pipeline(stack).node.scope)
    assert spec["SupportedRealtimeInferenceInstanceTypes"] == list(serving.X86_REALTIME)
    assert spec["SupportedTransformInstanceTypes"] == list(serving.X86_TRANSFORM)
    assert spec["SupportedContentTypes"] == ["application/json", "text/csv"]
    assert spec["SupportedResponseMIMETypes"] == ["application/json"]


@pytest.mark.parametrize("image,architecture", [
    (ContainerImage.from_uri("763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference-graviton:2.0.1-cpu-py310"),
     "arm"),
    (ContainerImage.from_uri("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.0-1-arm64-cpu-py3"),
     "arm"),
    (ContainerImage.from_uri("763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1.0-gpu-py310-cu118"),
     "gpu"),
    (ContainerImage.from_uri("763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference-neuronx:1.13.1"),
     "neuron"),
    (ContainerImage.from_regional_registry({"us-east-1": "683313688378"}, "sagemaker-xgboost:1.7-1"), "x86"),
    (ContainerImage.from_uri("111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/model:1"), "unknown"),
    (ContainerImage.from_asset(str(REPO / "stacks"), platform=ecr_assets.Platform.LINUX_ARM64), "arm"),
    (ContainerImage.from_asset(str(REPO / "stacks"), platform=ecr_assets.Platform.LINUX_AMD64), "x86"),
    (ContainerImage.from_asset(str(REPO / "stacks")), "unknown"),
])
def test_the_image_decides_where_versions_are_deployable(image, architecture):
    assert serving.image_architecture(image) == architecture


def test_an_arm_image_registers_graviton_and_no_transform(stack):
    arm = ContainerImage.from_uri("763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference-graviton:2.0.1")
    spec = _inference(_pipeline(stack, inference_image=arm).node.scope)
    assert "ml.c6g.large" in spec["SupportedRealtimeInferenceInstanceTypes"]
    assert not any(t.startswith(("ml.m5", "ml.c5")) for t in spec["SupportedRealtimeInferenceInstanceTypes"])
    assert "SupportedTransformInstanceTypes" not in spec


def test_an_image_that_does_not_say_gets_x86_and_graviton(stack):
    spec = _inference(_pipeline(stack, training_image=ContainerImage.from_uri(
        "111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/model:1")).node.scope)
    assert {"ml.c6g.large", "ml.m5.large"} <= set(spec["SupportedRealtimeInferenceInstanceTypes"])


def test_serving_metadata_from_arguments(stack):
    _pipeline(stack, inference_instance_types=["ml.c6g.large", "ml.c7g.xlarge"], transform_instance_types=[],
              content_types=["application/x-npy"], response_types=["application/x-npy", "text/csv"])
    spec = _inference(stack)
    assert spec["SupportedRealtimeInferenceInstanceTypes"] == ["ml.c6g.large", "ml.c7g.xlarge"]
    assert "SupportedTransformInstanceTypes" not in spec
    assert spec["SupportedContentTypes"] == ["application/x-npy"]
    assert spec["SupportedResponseMIMETypes"] == ["application/x-npy", "text/csv"]
    assert_valid_requests(_definition(stack))


def test_every_default_list_is_in_the_apis_enums():
    realtime, transform = serving.allowed_instance_types("realtime"), serving.allowed_instance_types("transform")
    for live, batch in serving.DEFAULT_INSTANCE_TYPES.values():
        assert set(live) <= set(realtime) and set(batch) <= set(transform)


@pytest.mark.parametrize("kwargs,match", [
    ({"inference_instance_types": ["ml.m5.huge"]}, "inference_instance_types.*ProductionVariantInstanceType"),
    ({"inference_instance_types": ["m5.large"]}, "inference_instance_types.*ml.<family>.<size>"),
    ({"inference_instance_types": []}, "inference_instance_types.*at least one"),
    ({"inference_instance_types": ["ml.m5.large", "ml.m5.large"]}, "each instance type once"),
    ({"transform_instance_types": ["ml.c6g.large"]}, "transform_instance_types.*TransformInstanceType"),
    ({"content_types": []}, "content_types.*at least one"),
    ({"content_types": ["x" * 257]}, r"content_types\[0\].*0 to 256 characters"),
    ({"response_types": ["json"]}, "response_types.*MIME type"),
])
def test_rejects_serving_metadata_the_api_refuses(stack, kwargs, match):
    with pytest.raises(ValidationError, match=match):
        _pipeline(stack, **kwargs)


def test_without_botocore_instance_types_are_checked_by_form(stack, monkeypatch):
    monkeypatch.setattr(serving, "sagemaker_service_model", lambda: None)
    assert serving.allowed_instance_types("realtime") is None
    _pipeline(stack, inference_instance_types=["ml.m99.large"], metric_definitions={"accuracy": "a=(.*)"})
    assert _inference(stack)["SupportedRealtimeInferenceInstanceTypes"] == ["ml.m99.large"]
    other = cdk.Stack(new_app(), "Other")
    with pytest.raises(ValidationError, match="ml.<family>.<size>"):
        _pipeline(other, inference_instance_types=["m99.large"])
    with pytest.raises(ValidationError, match="0 to 40 definitions"):
        _pipeline(cdk.Stack(new_app(), "Third"), metric_definitions={f"m{i}": "(.*)" for i in range(41)},
                  metric_name="m0")


@pytest.mark.parametrize("use_spot", [True, False])
def test_a_max_runtime_from_a_cloudformation_parameter_is_a_validation_error(stack, use_spot):
    """max_runtime=Duration.seconds(<CfnParameter>) with the default use_spot=True failed in jsii
    ('DurationAmountsCannotNegative: ... -3.78e+289': the spot max wait was computed from the Token's
    number encoding); the Train step needs a literal MaxRuntimeInSeconds."""
    runtime = cdk.Duration.seconds(cdk.CfnParameter(stack, "Runtime", type="Number").value_as_number)
    with pytest.raises(ValidationError, match=r"max_runtime.*a Duration known at synth"):
        _pipeline(stack, max_runtime=runtime, use_spot=use_spot)
