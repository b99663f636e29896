"""InstanceRecommender and RecommendInstancesStep: the step after RegisterModel (a Lambda step with
the new version's ARN), the function's least-privilege statements, the record schedule, and every
validation rule."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Duration

from sagemaker_constructs import (
    InstanceRecommendation,
    InstanceRecommender,
    ModelPackageGroup,
    Pipeline,
    RecommendInstancesStep,
    RegisterModelStep,
    ValidationError,
)
from tests.harness.templates import resources, template_of
from tests.unit.test_pipeline_steps import IMG, _base, _train
from tests.unit.test_pipelines import _definition, _steps


def _register(group, recommend=True):
    train = _train()
    return train, RegisterModelStep(
        "Register", model_package_group=group, image=IMG, model_data=train.model_artifacts,
        recommend_instances=InstanceRecommendation("s3://bucket/payload.tar.gz", framework="SKLEARN")
        if recommend else None)


@pytest.fixture
def built(stack):
    key, vpc, bucket, group = _base(stack)
    recommender = InstanceRecommender(stack, "Recommender", model_package_group=group, encryption_key=key,
                                      model_buckets=[bucket], vpc=vpc)
    train, register = _register(group)
    step = RecommendInstancesStep("Recommend", register=register, recommender=recommender, job_type="Advanced",
                                  instance_types=["ml.c6i.large", "ml.m5.large"], max_latency_ms=100,
                                  max_invocations=300)
    pipeline = Pipeline(stack, "P", steps=[train, register, step], encryption_key=key, vpc=vpc, data_bucket=bucket)
    return recommender, pipeline, template_of(stack)


def test_step_passes_the_new_version_and_targets(built, stack):
    recommender, pipeline, _ = built
    s = _steps(_definition(stack))["Recommend"]
    assert s["Type"] == "Lambda" and s["FunctionArn"]
    assert s["Arguments"] == {"ModelPackageArn": {"Get": "Steps.Register.ModelPackageArn"}, "JobType": "Advanced",
                              "InstanceTypes": ["ml.c6i.large", "ml.m5.large"], "MaxLatencyMs": 100,
                              "MaxInvocations": 300}
    assert s["OutputParameters"] == [{"OutputName": "JobName", "OutputType": "String"},
                                     {"OutputName": "Status", "OutputType": "String"}]
    register = _steps(_definition(stack))["Register"]["Arguments"]
    assert register["SamplePayloadUrl"] == "s3://bucket/payload.tar.gz"
    assert [d.name for d in pipeline.dependencies_of(pipeline.steps[2])] == ["Register"]


def test_function_may_only_touch_its_jobs_and_the_groups_versions(built):
    recommender, _, t = built
    policies = resources(t, "AWS::IAM::ManagedPolicy")
    statements = {s.get("Sid"): s for lid, p in policies.items() if lid.startswith("RecommenderPolicy")
                  for s in p["Properties"]["PolicyDocument"]["Statement"]}
    assert "inference-recommendations-job/churn-rec-v*" in json.dumps(statements["RecommendationsJobs"]["Resource"])
    assert "model-package/churn/*" in json.dumps(statements["RecordOnTheGroupsVersions"]["Resource"])
    assert statements["PassOnlyTheJobRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    env = next(r for r in resources(t, "AWS::Lambda::Function").values()
               if r["Properties"].get("Handler") == "recommend_instances.handler")["Properties"]["Environment"]
    variables = env["Variables"]
    assert variables["JOB_PREFIX"] == "churn-rec" and variables["MODEL_PACKAGE_GROUP_NAME"] == "churn"
    assert "VPC_CONFIG" in variables and "KMS_KEY_ARN" in variables


def test_record_schedule_invokes_the_function_in_record_mode(built):
    _, _, t = built
    (rule,) = [r for lid, r in resources(t, "AWS::Events::Rule").items() if "RecordSchedule" in lid]
    assert rule["Properties"]["ScheduleExpression"] == "rate(30 minutes)"
    assert json.loads(rule["Properties"]["Targets"][0]["Input"]) == {"action": "record"}
    assert rule["Properties"]["Targets"][0]["DeadLetterConfig"]


def test_pipeline_role_may_invoke_the_recommender(built):
    recommender, pipeline, t = built
    text = json.dumps(resources(t, "AWS::IAM::ManagedPolicy"))
    assert "lambda:InvokeFunction" in text


def test_default_job_step(stack):
    key, vpc, bucket, group = _base(stack)
    recommender = InstanceRecommender(stack, "Recommender", model_package_group=group, encryption_key=key)
    _, register = _register(group)
    step = RecommendInstancesStep("Recommend", register=register, recommender=recommender, max_latency_ms=50,
                                  job_duration=Duration.hours(1))
    assert step.inputs["JobType"] == "Default" and step.inputs["JobDurationSeconds"] == 3600


@pytest.mark.parametrize("kwargs, match", [
    ({"job_type": "Fast"}, "job_type"),
    ({"job_type": "Advanced"}, "instance_types"),
    ({"instance_types": ["ml.m5.large"]}, "instance_types"),
    ({"max_invocations": 10}, "max_invocations"),
    ({"job_type": "Advanced", "instance_types": ["ml.m5.large"] * 11}, "instance_types"),
    ({"job_type": "Advanced", "instance_types": ["ml.m5.xlage"]}, "instance_types"),
    ({"max_latency_ms": 0}, "max_latency_ms"),
    ({"job_duration": Duration.seconds(0)}, "job_duration"),
    ({"register": "Register"}, "register"),
    ({"recommender": "fn"}, "recommender"),
])
def test_step_validation(stack, kwargs, match):
    key, vpc, bucket, group = _base(stack)
    recommender = InstanceRecommender(stack, "Recommender", model_package_group=group, encryption_key=key)
    _, register = _register(group)
    args = {"register": register, "recommender": recommender, **kwargs}
    with pytest.raises(ValidationError, match=match):
        RecommendInstancesStep("Recommend", **args)


def test_register_step_needs_the_sample_payload_and_the_same_group(stack):
    key, vpc, bucket, group = _base(stack)
    recommender = InstanceRecommender(stack, "Recommender", model_package_group=group, encryption_key=key)
    _, bare = _register(group, recommend=False)
    with pytest.raises(ValidationError, match="recommend_instances"):
        RecommendInstancesStep("Recommend", register=bare, recommender=recommender)
    other = ModelPackageGroup(stack, "Other", model_package_group_name="other")
    _, elsewhere = _register(other)
    with pytest.raises(ValidationError, match="recommender"):
        RecommendInstancesStep("Recommend", register=elsewhere, recommender=recommender)


def test_recommender_validation(stack):
    key, vpc, bucket, group = _base(stack)
    with pytest.raises(ValidationError, match="record_interval"):
        InstanceRecommender(stack, "R1", model_package_group=group, encryption_key=key,
                            record_interval=Duration.minutes(1))
    with pytest.raises(ValidationError, match="model_package_group"):
        InstanceRecommender(stack, "R2", model_package_group="churn", encryption_key=key)  # type: ignore[arg-type]


@pytest.mark.parametrize("timeout", [Duration.minutes(1), Duration.seconds(119)])
def test_recommender_timeout_outlives_one_sdk_attempt(stack, timeout):
    key, _, _, group = _base(stack)
    with pytest.raises(ValidationError, match=r"invalid timeout='\d+ s'; at least 120 s: one attempt of the "
                                              r"handler's SageMaker client"):
        InstanceRecommender(stack, "R", model_package_group=group, encryption_key=key, timeout=timeout)


def test_recommender_default_timeout_fits_one_sdk_attempt(stack):
    key, _, _, group = _base(stack)
    InstanceRecommender(stack, "R", model_package_group=group, encryption_key=key)
    InstanceRecommender(stack, "Edge", model_package_group=group, encryption_key=key, timeout=Duration.seconds(120))
    timeouts = sorted(r["Properties"]["Timeout"] for r in resources(template_of(stack), "AWS::Lambda::Function").values()
                      if "InstanceRecommender" in r["Properties"].get("Description", "")
                      or "Inference Recommender" in r["Properties"].get("Description", ""))
    assert timeouts == [120, 180], timeouts


def test_sdk_attempt_is_the_handlers_client(monkeypatch):
    """The handler's client keeps botocore's connect and read timeouts: one attempt is their sum."""
    pytest.importorskip("boto3")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    from sagemaker_constructs.handlers import recommend_instances
    from sagemaker_constructs.mlops.recommend import SDK_ATTEMPT_SECONDS
    recommend_instances._client.cache_clear()
    try:
        config = recommend_instances._client("sagemaker").meta.config
    finally:
        recommend_instances._client.cache_clear()
    assert config.connect_timeout + config.read_timeout == SDK_ATTEMPT_SECONDS


def _job_statement(t, recommender_id):
    policies = resources(t, "AWS::IAM::ManagedPolicy")
    (statement,) = [s for lid, p in policies.items() if lid.startswith(f"{recommender_id}Policy")
                    for s in p["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == "RecommendationsJobs"]
    return json.dumps(statement["Resource"])


def test_job_arn_matches_neither_another_groups_jobs_nor_misses_a_mixed_case_group(stack):
    """"churn-rec*" also matched group "churn-recall"'s jobs (churn-recall-rec-v1-...): the function could
    describe and tag them. And "Churn-rec*" never matched: SageMaker lower-cases names in ARNs, so a
    mixed-case group's function was refused CreateInferenceRecommendationsJob on its own jobs."""
    from sagemaker_constructs import PlatformKey
    key = PlatformKey(stack, "Key")
    for rid, name in (("Churn", "churn"), ("Recall", "churn-recall"), ("Mixed", "ChurnModel")):
        group = ModelPackageGroup(stack, f"{rid}Group", model_package_group_name=name)
        InstanceRecommender(stack, rid, model_package_group=group, encryption_key=key)
    t = template_of(stack)
    churn = _job_statement(t, "Churn")
    assert "inference-recommendations-job/churn-rec-v*" in churn
    import fnmatch
    pattern = "churn-rec-v*"
    assert not fnmatch.fnmatchcase("churn-recall-rec-v1-0123abcd", pattern)
    assert fnmatch.fnmatchcase("churn-rec-v1-0123abcd", pattern)
    mixed = _job_statement(t, "Mixed")
    assert "inference-recommendations-job/churnmodel-rec-v*" in mixed and "ChurnModel" not in mixed


def test_more_than_five_job_security_groups_are_refused(stack):
    """The jobs' VpcConfig (RecommendationJobVpcConfig.SecurityGroupIds) takes 1-5: six were written into
    the function's VPC_CONFIG and every recommendations job was refused."""
    from aws_cdk import aws_ec2 as ec2

    key, vpc, _, group = _base(stack)
    groups = [ec2.SecurityGroup.from_security_group_id(stack, f"Sg{i}", f"sg-0{i}23456789abcdef0") for i in range(6)]
    with pytest.raises(ValidationError, match=r"job_security_groups.*6 security groups.*1 to 5"):
        InstanceRecommender(stack, "R", model_package_group=group, encryption_key=key, vpc=vpc,
                            job_security_groups=groups)


def test_a_record_interval_parameter_in_seconds_is_a_validation_error(stack):
    """record_interval=Duration.seconds(<CfnParameter>) failed in jsii (InvalidScheduleUnit: EventBridge rate
    schedules take minutes, hours or days); Duration.minutes(<CfnParameter>) works."""
    import aws_cdk as cdk

    key, _, _, group = _base(stack)
    minutes = cdk.CfnParameter(stack, "Every", type="Number").value_as_number
    with pytest.raises(ValidationError, match=r"record_interval.*Duration.minutes\(<parameter>\)"):
        InstanceRecommender(stack, "R", model_package_group=group, encryption_key=key,
                            record_interval=Duration.seconds(minutes))
    InstanceRecommender(stack, "Ok", model_package_group=group, encryption_key=key,
                        record_interval=Duration.minutes(minutes))
