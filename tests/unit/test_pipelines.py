"""ModelPackageGroup and TrainingPipeline: the parsed definition, validation against botocore's
request shapes and the published definition schema, scheduling, and every validation rule."""

from __future__ import annotations

import json

import botocore.session
import jsonschema
import pytest
from aws_cdk import Duration, Stack
from botocore.validate import ParamValidator

from sagemaker_constructs import (
    ContainerImage,
    IsolatedNetwork,
    ModelPackageGroup,
    PlatformKey,
    SecureBucket,
    TrainingPipeline,
    ValidationError,
)
from sagemaker_constructs.rules.pack import pipeline_definition, pipeline_steps
from tests.conftest import REPO
from tests.harness.templates import only, resources, template_of

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
TRAINING = REPO / "stacks" / "assets" / "iris_training"
SCHEMA = json.loads((REPO / "tests" / "fixtures" / "pipeline-definition-schema.json").read_text())


def _pipeline(stack, **kwargs):
    key = PlatformKey(stack, "Key")
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="training")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    group = kwargs.pop("group", None) or ModelPackageGroup(stack, "Group", model_package_group_name="iris")
    kwargs.setdefault("evaluation_script", str(TRAINING / "evaluate.py"))
    kwargs.setdefault("training_code", str(TRAINING / "dist" / "sourcedir.tar.gz"))
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    return TrainingPipeline(stack, "Pipeline", training_image=ContainerImage.from_uri(IMAGE), data_bucket=bucket,
                            encryption_key=key, vpc=net.vpc, model_package_group=group, **kwargs)


def _definition(stack) -> dict:
    """The PipelineDefinitionBody as CloudFormation will see it, tokens rendered as placeholders."""
    definition = pipeline_definition({"Properties": only(template_of(stack), "AWS::SageMaker::Pipeline")})
    assert definition is not None, "the inline definition is not valid JSON"
    return definition


def _steps(definition):
    return {s["Name"]: s for s in pipeline_steps(definition["Steps"])}


@pytest.fixture
def definition(stack):
    _pipeline(stack)
    return _definition(stack)


def test_definition_is_inline_with_train_evaluate_condition_register(definition):
    steps = _steps(definition)
    assert [s["Name"] for s in definition["Steps"]] == ["Train", "Evaluate", "CheckMetric"]
    assert steps["Train"]["Type"] == "Training"
    assert steps["Evaluate"]["Type"] == "Processing"
    assert steps["Register"]["Type"] == "RegisterModel"
    assert steps["MetricBelowThreshold"]["Type"] == "Fail"
    assert definition["Version"] == "2020-12-01"


def test_parameters_for_data_location_and_instance_type(definition):
    params = {p["Name"]: p for p in definition["Parameters"]}
    assert set(params) == {"InputDataUrl", "TestDataUrl", "TrainingInstanceType", "MetricThreshold"}
    assert params["TrainingInstanceType"]["DefaultValue"] == "ml.m5.xlarge"
    train = _steps(definition)["Train"]["Arguments"]
    assert train["ResourceConfig"]["InstanceType"] == {"Get": "Parameters.TrainingInstanceType"}
    assert train["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == {"Get": "Parameters.InputDataUrl"}


def test_training_job_is_isolated_encrypted_in_vpc_on_spot(definition):
    train = _steps(definition)["Train"]["Arguments"]
    assert train["EnableNetworkIsolation"] is True
    assert train["EnableInterContainerTrafficEncryption"] is True
    assert train["VpcConfig"]["Subnets"] and train["VpcConfig"]["SecurityGroupIds"]
    assert train["ResourceConfig"]["VolumeKmsKeyId"] == "TOKEN"
    assert train["OutputDataConfig"]["KmsKeyId"] == "TOKEN"
    assert train["EnableManagedSpotTraining"] is True
    assert train["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200, "MaxWaitTimeInSeconds": 14400}
    assert train["CheckpointConfig"]["S3Uri"].endswith("/checkpoints")
    assert [c["ChannelName"] for c in train["InputDataConfig"]] == ["train", "code"]
    assert json.loads(train["HyperParameters"]["sagemaker_program"]) == "train.py"


def test_evaluation_job_is_isolated_encrypted_in_vpc(definition):
    step = _steps(definition)["Evaluate"]
    args = step["Arguments"]
    assert args["NetworkConfig"]["EnableNetworkIsolation"] is True
    assert args["NetworkConfig"]["EnableInterContainerTrafficEncryption"] is True
    assert args["NetworkConfig"]["VpcConfig"]["Subnets"]
    assert args["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == "TOKEN"
    assert args["ProcessingOutputConfig"]["KmsKeyId"] == "TOKEN"
    assert args["StoppingCondition"]["MaxRuntimeInSeconds"] == 3600
    assert step["PropertyFiles"] == [{"PropertyFileName": "EvaluationReport", "OutputName": "evaluation",
                                      "FilePath": "evaluation.json"}]
    model_input = next(i for i in args["ProcessingInputs"] if i["InputName"] == "model")
    assert model_input["S3Input"]["S3Uri"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}


def test_condition_on_metric_threshold(definition):
    (condition,) = _steps(definition)["CheckMetric"]["Arguments"]["Conditions"]
    assert condition["Type"] == "GreaterThanOrEqualTo"
    assert condition["LeftValue"] == {"Std:JsonGet": {
        "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"}, "Path": "metrics.accuracy.value"}}
    assert condition["RightValue"] == {"Get": "Parameters.MetricThreshold"}


def test_register_step_pending_manual_approval(definition):
    register = _steps(definition)["Register"]["Arguments"]
    assert register["ModelPackageGroupName"] == "iris"
    assert register["ModelApprovalStatus"] == "PendingManualApproval"
    (container,) = register["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    assert register["ModelMetrics"]["ModelQuality"]["Statistics"]["ContentType"] == "application/json"


def _placeholders(value, kind):
    """Replace pipeline functions (Get, Std:Join, Std:JsonGet) by plain values of the request's type."""
    if isinstance(value, dict):
        if set(value) & {"Get", "Std:Join", "Std:JsonGet"}:
            return kind
        return {k: _placeholders(v, kind) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v, kind) for v in value]
    return value


REQUESTS = {"Training": ("CreateTrainingJob", {"TrainingJobName": "t"}),
            "Processing": ("CreateProcessingJob", {"ProcessingJobName": "p"}),
            "RegisterModel": ("CreateModelPackage", {})}


def assert_valid_requests(definition):
    """Each step's Arguments validated against botocore's SageMaker service model (the API contract)."""
    model = botocore.session.get_session().get_service_model("sagemaker")
    for step in _steps(definition).values():
        if step["Type"] not in REQUESTS:
            continue
        operation, extra = REQUESTS[step["Type"]]
        params = {**_placeholders(step["Arguments"], "s3://bucket/placeholder"), **extra}
        params = json.loads(json.dumps(params).replace('"TOKEN"', '"arn:aws:kms:us-east-1:111122223333:key/k"'))
        if step["Type"] == "Training":
            params["ResourceConfig"]["InstanceType"] = "ml.m5.xlarge"
        report = ParamValidator().validate(params, model.operation_model(operation).input_shape)
        assert not report.has_errors(), f"{step['Name']}: {report.generate_report()}"


def test_step_arguments_are_valid_sagemaker_requests(definition):
    assert_valid_requests(definition)


@pytest.mark.parametrize("kwargs", [
    {"evaluation_script": None, "training_code": None},
    {"evaluation_script": None, "metric_definitions": {"accuracy": "accuracy=([0-9.]+)"}},
    {"metric_definitions": {"accuracy": "accuracy=([0-9.]+)"}, "use_spot": False,
     "inference_instance_types": ["ml.c6g.large"], "transform_instance_types": []},
], ids=["minimal", "training-metric", "evaluation-and-metrics"])
def test_every_shape_of_the_definition_is_valid_sagemaker_requests(stack, kwargs):
    _pipeline(stack, **kwargs)
    definition = _definition(stack)
    assert_valid_requests(definition)
    assert {s["Type"] for s in _steps(definition).values()} >= {"Training", "RegisterModel"}


def test_jobs_match_the_published_pipeline_definition_schema(definition):
    """The Training and Processing steps against AWS's published definition schema. (The schema
    predates PropertyFiles, Std:JsonGet and ModelApprovalStatus, which the SDK emits too, so those
    parts are checked against botocore above.)"""
    steps = _steps(definition)
    for name, schema_name in (("Train", "TrainingStep"), ("Evaluate", "ProcessingStep")):
        step = {k: v for k, v in steps[name].items() if k != "PropertyFiles"}
        step = _placeholders(step, "s3://bucket/placeholder")
        jsonschema.validate(step, {"definitions": SCHEMA["definitions"], "$ref": f"#/definitions/{schema_name}"})


def test_role_may_register_only_in_its_group(stack):
    _pipeline(stack)
    t = template_of(stack)
    docs = json.dumps([p["Properties"]["PolicyDocument"] for p in resources(t, "AWS::IAM::ManagedPolicy").values()])
    assert "sagemaker:CreateModelPackage" in docs
    assert "model-package/iris/*" in docs
    assert "AmazonSageMakerFullAccess" not in json.dumps(t)


def test_job_security_group_has_no_outside_ingress(stack):
    _pipeline(stack)
    t = template_of(stack)
    sg_id = next(k for k in resources(t, "AWS::EC2::SecurityGroup") if k.startswith("PipelineJobSecurityGroup"))
    ingress = [r["Properties"] for r in resources(t, "AWS::EC2::SecurityGroupIngress").values()
               if r["Properties"]["GroupId"] == {"Fn::GetAtt": [sg_id, "GroupId"]}]
    assert ingress and all(r["SourceSecurityGroupId"] == {"Fn::GetAtt": [sg_id, "GroupId"]} for r in ingress)


def test_no_spot(stack):
    _pipeline(stack, use_spot=False)
    train = _steps(_definition(stack))["Train"]["Arguments"]
    assert train["EnableManagedSpotTraining"] is False
    assert "MaxWaitTimeInSeconds" not in train["StoppingCondition"] and "CheckpointConfig" not in train


def test_schedule_starts_the_pipeline(stack):
    pipeline = _pipeline(stack)
    pipeline.schedule("cron(0 3 * * ? *)", parameters={"TrainingInstanceType": "ml.m5.large"})
    t = template_of(stack)
    schedule = only(t, "AWS::Scheduler::Schedule")
    assert schedule["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert "KmsKeyArn" in schedule
    assert schedule["Target"]["SageMakerPipelineParameters"]["PipelineParameterList"] == [
        {"Name": "TrainingInstanceType", "Value": "ml.m5.large"}]
    role_id = schedule["Target"]["RoleArn"]["Fn::GetAtt"][0]
    trust = resources(t, "AWS::IAM::Role")[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    policy = next(p for k, p in resources(t, "AWS::IAM::ManagedPolicy").items() if k.startswith("PipelineSchedulePolicy"))
    actions = [s["Action"] for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    assert "sagemaker:StartPipelineExecution" in actions


def test_a_second_schedule_under_the_same_id_is_refused(stack):
    """pipeline.schedule() twice (a nightly and a weekly run) failed in jsii with "There is already a
    Construct with name 'ScheduleRole'"; an id the pipeline already uses ("Resource") too."""
    pipeline = _pipeline(stack)
    pipeline.schedule("cron(0 3 * * ? *)")
    with pytest.raises(ValidationError, match=r"id.*not used yet.*Schedule exists"):
        pipeline.schedule("cron(0 4 ? * SUN *)")
    with pytest.raises(ValidationError, match=r"id.*not used yet.*Resource exists"):
        pipeline.schedule("rate(1 day)", id="Resource")
    pipeline.schedule("cron(0 4 ? * SUN *)", id="Weekly")
    assert len(resources(template_of(stack), "AWS::Scheduler::Schedule")) == 2


def test_model_package_group_defaults(stack):
    group = ModelPackageGroup(stack, "Group", model_package_group_name="churn", description="churn models")
    t = template_of(stack)
    (res,) = resources(t, "AWS::SageMaker::ModelPackageGroup").values()
    assert res["Properties"]["ModelPackageGroupName"] == "churn"
    assert res["DeletionPolicy"] == "Retain"
    assert Stack.of(stack).resolve(group.model_package_arn_pattern)["Fn::Join"][1][-1].endswith("model-package/churn/*")


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize("name", ["-bad", "bad-", "has_underscore", "g" * 64])
def test_rejects_bad_group_names(stack, name):
    with pytest.raises(ValidationError, match="model_package_group_name"):
        ModelPackageGroup(stack, "Group", model_package_group_name=name)


@pytest.mark.parametrize("name", ["has--double", "-lead", "trail-", "under_score", "p" * 257])
def test_rejects_bad_pipeline_names(stack, name):
    with pytest.raises(ValidationError, match="pipeline_name"):
        _pipeline(stack, pipeline_name=name)


@pytest.mark.parametrize("runtime", [Duration.seconds(0), Duration.days(29)])
def test_rejects_max_runtime_out_of_range(stack, runtime):
    with pytest.raises(ValidationError, match="max_runtime"):
        _pipeline(stack, max_runtime=runtime)


def test_rejects_max_wait_below_max_runtime(stack):
    with pytest.raises(ValidationError, match="max_wait"):
        _pipeline(stack, max_runtime=Duration.hours(2), max_wait=Duration.hours(1))


def test_rejects_max_wait_without_spot(stack):
    with pytest.raises(ValidationError, match="max_wait"):
        _pipeline(stack, use_spot=False, max_wait=Duration.hours(3))


@pytest.mark.parametrize("count", [0, 101])
def test_rejects_instance_count_out_of_range(stack, count):
    with pytest.raises(ValidationError, match="instance_count"):
        _pipeline(stack, instance_count=count)


@pytest.mark.parametrize("threshold", ["0.8", float("nan")])
def test_rejects_non_numeric_metric_thresholds(stack, threshold):
    with pytest.raises(ValidationError, match="metric_threshold"):
        _pipeline(stack, metric_threshold=threshold)


def test_rejects_bad_metric_name(stack):
    with pytest.raises(ValidationError, match="metric_name"):
        _pipeline(stack, metric_name="accuracy.value")


def test_rejects_bad_instance_type(stack):
    with pytest.raises(ValidationError, match="instance_type"):
        _pipeline(stack, instance_type="m5.xlarge")


@pytest.mark.parametrize("expression", ["every day", "rate(0 days)", "cron(0 3 * *)", "at(2026-01-01T00:00:00)"])
def test_rejects_schedules_that_are_not_rate_or_cron(stack, expression):
    pipeline = _pipeline(stack)
    with pytest.raises(ValidationError, match="schedule expression"):
        pipeline.schedule(expression)


def test_rejects_non_string_hyperparameters(stack):
    with pytest.raises(ValidationError, match="hyperparameters"):
        _pipeline(stack, hyperparameters={"epochs": 10})
