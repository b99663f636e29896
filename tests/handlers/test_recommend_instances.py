"""recommend_instances handler (Stubber, botocore's sagemaker model): start a recommendations job
for a new version once, record the cheapest recommendation that meets the latency target on the
version, failures and versions of other groups."""

from __future__ import annotations

import datetime

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from tests.handlers.conftest import load_handler

ri = load_handler("recommend_instances")

ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/iris/7"
ROLE = "arn:aws:iam::123456789012:role/recommender-jobs"
KMS = "arn:aws:kms:us-east-1:123456789012:key/k"
PREFIX = "sagemaker-constructs:recommendation-"
NAME = ri.job_name("iris-rec", ARN)


@pytest.fixture
def sm(monkeypatch):
    client = boto3.client("sagemaker", region_name="us-east-1")
    stub = Stubber(client)
    monkeypatch.setattr(ri, "_client", lambda name: client)
    monkeypatch.setattr(ri, "_now", lambda: datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc))
    for name, value in {"JOB_ROLE_ARN": ROLE, "JOB_PREFIX": "iris-rec", "MODEL_PACKAGE_GROUP_NAME": "iris",
                        "KMS_KEY_ARN": KMS,
                        "VPC_CONFIG": '{"Subnets": ["subnet-0abc"], "SecurityGroupIds": ["sg-0abc"]}'}.items():
        monkeypatch.setenv(name, value)
    stub.activate()
    yield stub
    stub.assert_no_pending_responses()


def describe_package(sm, metadata):
    sm.add_response("describe_model_package", {
        "ModelPackageName": "iris", "ModelPackageArn": ARN, "CreationTime": datetime.datetime(2026, 1, 1),
        "ModelPackageStatus": "Completed", "ModelPackageStatusDetails": {"ValidationStatuses": []},
        **({"CustomerMetadataProperties": metadata} if metadata else {})}, {"ModelPackageName": ARN})


def update_package(sm, metadata):
    sm.add_response("update_model_package", {"ModelPackageArn": ARN},
                    {"ModelPackageArn": ARN, "CustomerMetadataProperties": metadata})


def test_job_names_are_stable_and_short():
    assert NAME == ri.job_name("iris-rec", ARN) and NAME.startswith("iris-rec-v7-") and len(NAME) <= 64
    assert len(ri.job_name("x" * 80, ARN)) <= 64
    assert ri.job_name("iris-rec", ARN.replace("/7", "/8")) != NAME


def test_default_job_started_and_recorded_on_the_version(sm):
    sm.add_response("create_inference_recommendations_job", {"JobArn": "arn:aws:sagemaker:us-east-1:1:x/y"}, {
        "JobName": NAME, "JobType": "Default", "RoleArn": ROLE, "JobDescription": ANY,
        "InputConfig": {"ModelPackageVersionArn": ARN, "VolumeKmsKeyId": KMS,
                        "VpcConfig": {"Subnets": ["subnet-0abc"], "SecurityGroupIds": ["sg-0abc"]}},
        "OutputConfig": {"KmsKeyId": KMS}})
    describe_package(sm, {"team": "ml"})
    update_package(sm, {"team": "ml", PREFIX + "job": NAME, PREFIX + "status": "IN_PROGRESS"})
    assert ri.handler({"ModelPackageArn": ARN}) == {"JobName": NAME, "Status": "IN_PROGRESS"}


def test_advanced_job_with_targets_and_candidates(sm):
    sm.add_response("create_inference_recommendations_job", {"JobArn": "arn:aws:sagemaker:us-east-1:1:x/y"}, {
        "JobName": NAME, "JobType": "Advanced", "RoleArn": ROLE, "JobDescription": ANY,
        "InputConfig": {"ModelPackageVersionArn": ARN, "VolumeKmsKeyId": KMS, "JobDurationInSeconds": 3600,
                        "VpcConfig": {"Subnets": ["subnet-0abc"], "SecurityGroupIds": ["sg-0abc"]},
                        "EndpointConfigurations": [{"InstanceType": "ml.c6i.large"}, {"InstanceType": "ml.m5.large"}]},
        "StoppingConditions": {"MaxInvocations": 300,
                               "ModelLatencyThresholds": [{"Percentile": "P95", "ValueInMilliseconds": 100}]},
        "OutputConfig": {"KmsKeyId": KMS}})
    describe_package(sm, None)
    update_package(sm, {PREFIX + "job": NAME, PREFIX + "status": "IN_PROGRESS", PREFIX + "max-latency-ms": "100"})
    ri.handler({"ModelPackageArn": ARN, "JobType": "Advanced", "InstanceTypes": ["ml.c6i.large", "ml.m5.large"],
                "MaxLatencyMs": 100, "MaxInvocations": 300, "JobDurationSeconds": 3600})


def test_a_retried_step_does_not_start_a_second_job(sm):
    sm.add_client_error("create_inference_recommendations_job", service_error_code="ResourceInUse")
    describe_package(sm, {PREFIX + "job": NAME, PREFIX + "status": "IN_PROGRESS"})
    update_package(sm, {PREFIX + "job": NAME, PREFIX + "status": "IN_PROGRESS"})
    assert ri.handler({"ModelPackageArn": ARN})["JobName"] == NAME


def test_throttling_is_raised_for_a_retry(sm):
    sm.add_client_error("create_inference_recommendations_job", service_error_code="ThrottlingException")
    with pytest.raises(ClientError):
        ri.handler({"ModelPackageArn": ARN})


@pytest.mark.parametrize("event, match", [
    ({}, "ModelPackageArn"),
    ({"ModelPackageArn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/other/1"}, "not a version of iris"),
    ({"ModelPackageArn": "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/iris"}, "versioned"),
    ({"ModelPackageArn": ARN, "JobType": "Fast"}, "JobType"),
    ({"ModelPackageArn": ARN, "JobType": "Advanced"}, "InstanceTypes"),
])
def test_refused_requests(sm, event, match):
    with pytest.raises(ri.RecommendationError, match=match):
        ri.handler(event)


RECOMMENDATIONS = [
    {"Metrics": {"CostPerHour": 0.1, "CostPerInference": 0.0001, "MaxInvocations": 900, "ModelLatency": 180},
     "EndpointConfiguration": {"EndpointName": "e1", "VariantName": "v", "InstanceType": "ml.c6i.large",
                               "InitialInstanceCount": 1}, "ModelConfiguration": {}},
    {"Metrics": {"CostPerHour": 0.12, "CostPerInference": 0.0001, "MaxInvocations": 1200, "ModelLatency": 60},
     "EndpointConfiguration": {"EndpointName": "e2", "VariantName": "v", "InstanceType": "ml.m5.large",
                               "InitialInstanceCount": 1}, "ModelConfiguration": {}},
    {"Metrics": {"CostPerHour": 0.5, "CostPerInference": 0.0002, "MaxInvocations": 5000, "ModelLatency": 20},
     "EndpointConfiguration": {"EndpointName": "e3", "VariantName": "v", "InstanceType": "ml.c6i.4xlarge",
                               "InitialInstanceCount": 1}, "ModelConfiguration": {}},
]


def list_jobs(sm, status):
    sm.add_response("list_inference_recommendations_jobs", {"InferenceRecommendationsJobs": [{
        "JobName": NAME, "JobDescription": "d", "JobType": "Default", "JobArn": "arn:aws:sagemaker:us-east-1:1:j/x",
        "Status": status, "CreationTime": datetime.datetime(2026, 11, 30), "RoleArn": ROLE,
        "LastModifiedTime": datetime.datetime(2026, 11, 30)}]},
        {"NameContains": "iris-rec", "LastModifiedTimeAfter": ANY, "MaxResults": 100})


def describe_job(sm, status, recommendations=(), reason=None):
    sm.add_response("describe_inference_recommendations_job", {
        "JobName": NAME, "JobType": "Default", "JobArn": "arn:aws:sagemaker:us-east-1:1:j/x", "RoleArn": ROLE,
        "Status": status, "CreationTime": datetime.datetime(2026, 11, 30),
        "LastModifiedTime": datetime.datetime(2026, 11, 30), "InputConfig": {"ModelPackageVersionArn": ARN},
        **({"InferenceRecommendations": list(recommendations)} if recommendations else {}),
        **({"FailureReason": reason} if reason else {})}, {"JobName": NAME})


def test_record_cheapest_recommendation_meeting_the_latency_target(sm):
    list_jobs(sm, "COMPLETED")
    describe_job(sm, "COMPLETED", RECOMMENDATIONS)
    pending = {PREFIX + "job": NAME, PREFIX + "status": "IN_PROGRESS", PREFIX + "max-latency-ms": "100"}
    describe_package(sm, pending)   # is it still waiting for this job?
    describe_package(sm, pending)   # merged with what the version has
    update_package(sm, {**pending, PREFIX + "status": "COMPLETED", PREFIX + "instance-type": "ml.m5.large",
                        PREFIX + "instance-count": "1", PREFIX + "cost-per-hour": "0.12",
                        PREFIX + "model-latency-ms": "60", PREFIX + "max-invocations": "1200"})
    result = ri.handler({"source": "aws.events"})
    assert [d["instance_type"] for d in result["Recorded"]] == ["ml.m5.large"]


def test_without_a_target_the_cheapest_wins_and_none_fitting_is_recorded():
    assert ri.best(RECOMMENDATIONS, None)["EndpointConfiguration"]["InstanceType"] == "ml.c6i.large"
    assert ri.best(RECOMMENDATIONS, 10) is None


def test_record_no_candidate_and_failed_jobs(sm):
    list_jobs(sm, "COMPLETED")
    describe_job(sm, "COMPLETED", RECOMMENDATIONS)
    pending = {PREFIX + "job": NAME, PREFIX + "status": "IN_PROGRESS", PREFIX + "max-latency-ms": "10"}
    describe_package(sm, pending)
    describe_package(sm, pending)
    update_package(sm, {**pending, PREFIX + "status": "NO_CANDIDATE",
                        PREFIX + "reason": "no recommendation with ModelLatency at most 10 ms"})
    assert ri.handler({"action": "record"})["Decisions"][0]["status"] == "NO_CANDIDATE"
    list_jobs(sm, "FAILED")
    describe_job(sm, "FAILED", reason="The model failed to load")
    pending = {PREFIX + "job": NAME, PREFIX + "status": "IN_PROGRESS"}
    describe_package(sm, pending)
    describe_package(sm, pending)
    update_package(sm, {**pending, PREFIX + "status": "FAILED", PREFIX + "reason": "The model failed to load"})
    assert ri.handler({"action": "record"})["Decisions"][0]["status"] == "FAILED"


def test_already_recorded_versions_and_running_jobs_are_left_alone(sm):
    list_jobs(sm, "COMPLETED")
    describe_job(sm, "COMPLETED", RECOMMENDATIONS)
    describe_package(sm, {PREFIX + "job": NAME, PREFIX + "status": "COMPLETED"})
    assert ri.handler({"action": "record"})["Decisions"][0]["decision"] == "ignored"
    list_jobs(sm, "IN_PROGRESS")
    assert ri.handler({"action": "record"})["Decisions"] == []


def _sagemaker_accepts_metadata_value(value: str) -> bool:
    """UpdateModelPackage's CustomerMetadataValue, as botocore's sagemaker model writes it (a Java
    pattern; its trailing ``${1,256}`` is the length, checked here separately)."""
    import botocore.session
    import regex

    shape = botocore.session.get_session().get_service_model("sagemaker").shape_for("CustomerMetadataValue")
    pattern = shape.metadata["pattern"].split("$", 1)[0]
    return (shape.metadata["min"] <= len(value) <= shape.metadata["max"]
            and regex.fullmatch(pattern, value) is not None)


@pytest.mark.parametrize("status, reason, target, recommendations", [
    ("COMPLETED", None, "10", RECOMMENDATIONS),     # NO_CANDIDATE: the reason quotes the target
    ("FAILED", "ClientError: Could not load the model (HTTP 500); see 'logs', <stream>, et al. " * 5, None, ()),
])
def test_recorded_values_are_ones_sagemaker_accepts(sm, monkeypatch, status, reason, target, recommendations):
    """A failure reason with punctuation, or the NO_CANDIDATE reason, is recorded as a value UpdateModelPackage
    accepts: one it refuses (``<``, ``(``, ``'``, ``;``) failed every record run, and the version stayed
    IN_PROGRESS."""
    recorded = []
    list_jobs(sm, "COMPLETED" if status == "COMPLETED" else "FAILED")
    describe_job(sm, status, recommendations, reason=reason)
    pending = {PREFIX + "job": NAME, PREFIX + "status": "IN_PROGRESS",
               **({PREFIX + "max-latency-ms": target} if target else {})}
    describe_package(sm, pending)
    describe_package(sm, pending)
    sm.add_response("update_model_package", {"ModelPackageArn": ARN}, None)
    client = ri._client("sagemaker")
    client.meta.events.register("provide-client-params.sagemaker.UpdateModelPackage",
                                lambda params, **_: recorded.append(params["CustomerMetadataProperties"]))
    ri.handler({"action": "record"})
    (metadata,) = recorded
    assert metadata[PREFIX + "status"] in ("NO_CANDIDATE", "FAILED")
    assert metadata[PREFIX + "reason"]
    bad = {k: v for k, v in metadata.items() if not _sagemaker_accepts_metadata_value(v)}
    assert not bad, bad


def test_job_description_fits_for_the_longest_group_name(sm, monkeypatch):
    """A 63-character group name in a long Region: "Instance recommendations for <version ARN>" was 154 characters,
    and SageMaker refuses a JobDescription above 128 (botocore RecommendationJobDescription)."""
    group = "g" * 63
    arn = f"arn:aws:sagemaker:ap-southeast-2:123456789012:model-package/{group}/12"
    monkeypatch.setenv("MODEL_PACKAGE_GROUP_NAME", group)
    monkeypatch.delenv("KMS_KEY_ARN")
    monkeypatch.delenv("VPC_CONFIG")
    limit = ri._client("sagemaker").meta.service_model.shape_for("RecommendationJobDescription").metadata["max"]
    sent = []
    ri._client("sagemaker").meta.events.register(
        "provide-client-params.sagemaker.CreateInferenceRecommendationsJob",
        lambda params, **_: sent.append(params["JobDescription"]))
    sm.add_response("create_inference_recommendations_job", {"JobArn": "arn:aws:sagemaker:us-east-1:1:x/y"}, None)
    sm.add_response("describe_model_package", {
        "ModelPackageName": group, "ModelPackageArn": arn, "CreationTime": datetime.datetime(2026, 1, 1),
        "ModelPackageStatus": "Completed", "ModelPackageStatusDetails": {"ValidationStatuses": []}}, None)
    sm.add_response("update_model_package", {"ModelPackageArn": arn}, None)
    ri.handler({"ModelPackageArn": arn})
    (description,) = sent
    assert len(description) <= limit and f"{group[:40]}" in description, description
    assert ri.job_description(ARN) == "Instance recommendations for model package iris/7"


def test_record_leaves_the_jobs_of_a_group_whose_prefix_starts_with_ours_alone(sm):
    """NameContains "iris-rec" also lists group "iris-recall"'s jobs ("iris-recall-rec-v1-..."): recording them
    described a version this function may not read (AccessDenied), and the run failed before reaching its own."""
    other_arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/iris-recall/1"
    other = ri.job_name("iris-recall-rec", other_arn)
    summary = {"JobDescription": "d", "JobType": "Default", "JobArn": "arn:aws:sagemaker:us-east-1:1:j/x",
               "Status": "COMPLETED", "CreationTime": datetime.datetime(2026, 11, 30), "RoleArn": ROLE,
               "LastModifiedTime": datetime.datetime(2026, 11, 30)}
    sm.add_response("list_inference_recommendations_jobs", {"InferenceRecommendationsJobs": [
        {**summary, "JobName": other}, {**summary, "JobName": NAME}]},
        {"NameContains": "iris-rec", "LastModifiedTimeAfter": ANY, "MaxResults": 100})
    describe_job(sm, "COMPLETED", RECOMMENDATIONS)
    pending = {PREFIX + "job": NAME, PREFIX + "status": "IN_PROGRESS"}
    describe_package(sm, pending)
    describe_package(sm, pending)
    sm.add_response("update_model_package", {"ModelPackageArn": ARN}, None)
    result = ri.handler({"action": "record"})
    assert [d["job"] for d in result["Decisions"]] == [NAME]
    assert ri.is_own_job("iris-rec", NAME) and not ri.is_own_job("iris-rec", other)


def test_a_job_for_another_groups_version_is_ignored(sm):
    """Two groups sharing their first 40 characters share a prefix: a job whose version is of the other
    group is not recorded (the function may not read or update that group's versions)."""
    list_jobs(sm, "COMPLETED")
    sm.add_response("describe_inference_recommendations_job", {
        "JobName": NAME, "JobType": "Default", "JobArn": "arn:aws:sagemaker:us-east-1:1:j/x", "RoleArn": ROLE,
        "Status": "COMPLETED", "CreationTime": datetime.datetime(2026, 11, 30),
        "LastModifiedTime": datetime.datetime(2026, 11, 30),
        "InputConfig": {"ModelPackageVersionArn": ARN.replace("/iris/", "/iris-two/")}}, {"JobName": NAME})
    (decision,) = ri.handler({"action": "record"})["Decisions"]
    assert decision["decision"] == "ignored" and "not a version of iris" in decision["why"]


def test_one_jobs_error_does_not_keep_the_others_from_being_recorded(sm):
    """A version whose describe fails (deleted since its job ran, access denied) raised out of the loop:
    every later job of the two-day lookback stayed IN_PROGRESS at every scheduled run."""
    old_arn = ARN.replace("/7", "/6")
    old_name = ri.job_name("iris-rec", old_arn)
    summary = {"JobDescription": "d", "JobType": "Default", "JobArn": "arn:aws:sagemaker:us-east-1:1:j/x",
               "Status": "COMPLETED", "CreationTime": datetime.datetime(2026, 11, 30), "RoleArn": ROLE,
               "LastModifiedTime": datetime.datetime(2026, 11, 30)}
    sm.add_response("list_inference_recommendations_jobs", {"InferenceRecommendationsJobs": [
        {**summary, "JobName": old_name}, {**summary, "JobName": NAME}]},
        {"NameContains": "iris-rec", "LastModifiedTimeAfter": ANY, "MaxResults": 100})
    sm.add_response("describe_inference_recommendations_job", {
        "JobName": old_name, "JobType": "Default", "JobArn": "arn:aws:sagemaker:us-east-1:1:j/o", "RoleArn": ROLE,
        "Status": "COMPLETED", "CreationTime": datetime.datetime(2026, 11, 30),
        "LastModifiedTime": datetime.datetime(2026, 11, 30), "InputConfig": {"ModelPackageVersionArn": old_arn},
        "InferenceRecommendations": list(RECOMMENDATIONS)}, {"JobName": old_name})
    sm.add_client_error("describe_model_package", "ValidationException", f"ModelPackage {old_arn} does not exist.",
                        expected_params={"ModelPackageName": old_arn})
    describe_job(sm, "FAILED", reason="The model failed to load")
    pending = {PREFIX + "job": NAME, PREFIX + "status": "IN_PROGRESS"}
    describe_package(sm, pending)
    describe_package(sm, pending)
    update_package(sm, {**pending, PREFIX + "status": "FAILED", PREFIX + "reason": "The model failed to load"})
    with pytest.raises(ri.RecommendationError, match=rf"1 job.*{old_name}.*does not exist"):
        ri.handler({"action": "record"})
