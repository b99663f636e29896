"""BatchTransform: a scheduled pipeline around one transform job; the job's request against
botocore, KMS, VPC and isolation through the model, data processing filters, the schedule, and
every validation rule."""

from __future__ import annotations

import pytest

from sagemaker_constructs import BatchTransform, ContainerImage, IsolatedNetwork, PlatformKey, SecureBucket, ValidationError
from sagemaker_constructs.rules.pipeline_jobs_hardened import pipeline_jobs_hardened
from tests.harness.templates import only, template_of
from tests.unit.test_pipeline_steps import assert_valid
from tests.unit.test_pipelines import IMAGE, _definition, _steps


def _batch(stack, **kwargs):
    kwargs.setdefault("model_data", "s3://models/iris/model.tar.gz")
    kwargs.setdefault("input_uri", "s3://data/score/")
    key = PlatformKey(stack, "Key")
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="training")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    return BatchTransform(stack, "Scoring", image=ContainerImage.from_uri(IMAGE),
                          output_uri="s3://data/scores", encryption_key=key, vpc=net.vpc, data_bucket=bucket, **kwargs)


def test_pipeline_of_model_and_transform_with_secure_defaults(stack):
    batch = _batch(stack, schedule="cron(0 2 * * ? *)", content_type="text/csv", accept="text/csv",
                   split_type="Line", batch_strategy="MultiRecord", max_payload_mb=6, assemble_with="Line",
                   input_filter="$[1:]", join_source="Input", output_filter="$[0,-1]", max_concurrent_transforms=4)
    definition = _definition(stack)
    assert assert_valid(definition) == {"Model", "Transform"}
    s = _steps(definition)
    model, transform = s["CreateModel"]["Arguments"], s["Transform"]["Arguments"]
    assert model["EnableNetworkIsolation"] is True and model["VpcConfig"]["Subnets"]
    assert model["PrimaryContainer"]["ModelDataUrl"] == {"Get": "Parameters.ModelDataUrl"}
    assert transform["ModelName"] == {"Get": "Steps.CreateModel.ModelName"}
    assert transform["TransformResources"]["VolumeKmsKeyId"] == "TOKEN"
    assert transform["TransformOutput"]["KmsKeyId"] == "TOKEN"
    assert transform["TransformOutput"]["S3OutputPath"] == {"Std:Join": {"On": "/", "Values": [
        {"Get": "Parameters.OutputDataUrl"}, {"Get": "Execution.PipelineExecutionId"}]}}
    assert transform["DataProcessing"] == {"InputFilter": "$[1:]", "OutputFilter": "$[0,-1]", "JoinSource": "Input"}
    assert (transform["BatchStrategy"], transform["MaxPayloadInMB"], transform["MaxConcurrentTransforms"]) == (
        "MultiRecord", 6, 4)
    assert transform["TransformInput"]["SplitType"] == "Line"
    params = {p["Name"]: p["DefaultValue"] for p in definition["Parameters"]}
    assert params == {"InputDataUrl": "s3://data/score/", "OutputDataUrl": "s3://data/scores",
                      "ModelDataUrl": "s3://models/iris/model.tar.gz"}
    t = template_of(stack)
    schedule = only(t, "AWS::Scheduler::Schedule")
    assert schedule["ScheduleExpression"] == "cron(0 2 * * ? *)" and schedule["KmsKeyArn"]
    assert batch.schedule is not None and batch.pipeline.node.find_child("Resource")
    assert pipeline_jobs_hardened({"Properties": only(t, "AWS::SageMaker::Pipeline")}).value == "compliant"


def test_without_schedule_there_is_none(stack):
    batch = _batch(stack)
    assert batch.schedule is None
    assert "AWS::Scheduler::Schedule" not in {r["Type"] for r in template_of(stack)["Resources"].values()}
    assert batch.pipeline_name and batch.pipeline_arn


def test_role_creates_only_models_and_transform_jobs(stack):
    _batch(stack)
    statements = [s for r in template_of(stack)["Resources"].values() if r["Type"] == "AWS::IAM::ManagedPolicy"
                  for s in r["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == "RunPipelineSteps"]
    (run,) = statements
    assert "sagemaker:CreateTransformJob" in run["Action"] and "sagemaker:CreateModel" in run["Action"]
    assert "sagemaker:CreateTrainingJob" not in run["Action"] and "sagemaker:CreateProcessingJob" not in run["Action"]


@pytest.mark.parametrize("kwargs, match", [
    ({"max_payload_mb": 101}, "max_payload_mb"),
    ({"max_payload_mb": -1}, "max_payload_mb"),
    ({"instance_count": 0}, "instance_count"),
    ({"split_type": "Paragraph"}, "split_type"),
    ({"batch_strategy": "AllAtOnce"}, "batch_strategy"),
    ({"join_source": "Output"}, "join_source"),
    ({"input_filter": "x" * 64}, "input_filter"),
    ({"instance_type": "ml.m5.xlage"}, "instance_type"),
    ({"schedule": "every day"}, "schedule"),
    ({"model_data": "/local/model.tar.gz"}, "model_data"),
    ({"input_uri": "data/score"}, "input_uri"),
])
def test_validation(stack, kwargs, match):
    with pytest.raises(ValidationError, match=match):
        _batch(stack, **kwargs)


def test_image_must_be_a_container_image(stack):
    key = PlatformKey(stack, "Key")
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="training")
    with pytest.raises(ValidationError, match="image"):
        BatchTransform(stack, "B", image=IMAGE, model_data="s3://m/model.tar.gz",  # type: ignore[arg-type]
                       input_uri="s3://d/in/", output_uri="s3://d/out", encryption_key=key, vpc=net.vpc)


@pytest.mark.parametrize("parameters, match", [
    ({"InputDataURL": "s3://data/other/"}, "a parameter the pipeline declares"),   # a typo: never reached a step
    ({"InputDataUrl": ""}, "1 to 1024"),    # Scheduler's SageMakerPipelineParameter.Value is 1-1024 characters
    ({"InputDataUrl": 3}, "a string"),
])
def test_schedule_parameters_are_ones_the_pipeline_and_scheduler_take(stack, parameters, match):
    """A schedule's parameters were checked by name shape only: an undeclared name (a typo of InputDataUrl)
    was silently never used, and an empty value failed the deployment (Scheduler refuses it)."""
    batch = _batch(stack)
    with pytest.raises(ValidationError, match=match):
        batch.pipeline.schedule("rate(1 day)", parameters=parameters)
    batch.pipeline.schedule("rate(1 day)", parameters={"InputDataUrl": "s3://data/other/"}, id="Daily")
    assert only(template_of(stack), "AWS::Scheduler::Schedule")["Target"]["SageMakerPipelineParameters"] == {
        "PipelineParameterList": [{"Name": "InputDataUrl", "Value": "s3://data/other/"}]}
