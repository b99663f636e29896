"""deploy_on_approval handler: every SageMaker request and response is checked by a Stubber on a real client."""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest

from tests.handlers.conftest import load_handler
from botocore.exceptions import ClientError
from botocore.stub import Stubber

doa = load_handler("deploy_on_approval")

ACCOUNT, REGION = "123456789012", "us-east-1"
GROUP, ENDPOINT, VERSION = "churn-model", "churn-endpoint", 7
PACKAGE_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{GROUP}/{VERSION}"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/model-execution"
KMS = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
OLD_CONFIG = "EndpointConfig-AbC123dEf456"
TARGET = doa.resource_name(GROUP, VERSION, PACKAGE_ARN, ENDPOINT)
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/churn:1.4"
MODEL_DATA = "s3://models-bucket/churn/7/model.tar.gz"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
DEPLOYMENT_CONFIG = {
    "BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": 300,
                                        "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10}},
        "TerminationWaitInSeconds": 600, "MaximumExecutionTimeoutInSeconds": 3600},
    "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "churn-endpoint-5xx"}, {"AlarmName": "churn-latency"}]},
}
VPC = {"Subnets": ["subnet-0123456789abcdef0"], "SecurityGroupIds": ["sg-0123456789abcdef0"]}
DATA_CAPTURE = {"EnableCapture": True, "InitialSamplingPercentage": 20, "DestinationS3Uri": "s3://capture/churn",
                "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]}


@pytest.fixture(autouse=True)
def env(monkeypatch, tmp_path):
    """Fake credentials and region, no profile or config file; the function's configuration."""
    for name, value in {
        "ENDPOINT_NAME": ENDPOINT, "MODEL_PACKAGE_GROUP_NAME": GROUP, "EXECUTION_ROLE_ARN": ROLE,
        "DEPLOYMENT_CONFIG": json.dumps(DEPLOYMENT_CONFIG),
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("VARIANT_NAME", "VPC_CONFIG", "ENABLE_NETWORK_ISOLATION", "KMS_KEY_ARN",
                 "DATA_CAPTURE_CONFIG"):
        monkeypatch.delenv(name, raising=False)


class SageMaker:
    """A real sagemaker client with a Stubber, installed as the handler's client; records the calls made."""

    def __init__(self) -> None:
        self.client = boto3.client("sagemaker", region_name=REGION)
        self.stub = Stubber(self.client)
        self.calls: list[str] = []
        self.client.meta.events.register("before-call.*.*", lambda model, **_: self.calls.append(model.name))

    def package(self, status: str = "Approved", containers: list | None = None) -> None:
        self.stub.add_response("describe_model_package", {
            "ModelPackageName": GROUP, "ModelPackageGroupName": GROUP, "ModelPackageVersion": VERSION,
            "ModelPackageArn": PACKAGE_ARN, "CreationTime": NOW, "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": []}, "ModelApprovalStatus": status,
            "InferenceSpecification": {"Containers": containers or [{
                "Image": IMAGE, "ImageDigest": "sha256:" + "a" * 64, "ModelDataUrl": MODEL_DATA,
                "Environment": {"SAGEMAKER_PROGRAM": "inference.py"}, "Framework": "XGBOOST"}],
                "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]},
        }, {"ModelPackageName": PACKAGE_ARN})

    def endpoint(self, status: str = "InService", config: str = OLD_CONFIG, pending: str | None = None,
                 instances: int | None = 4) -> None:
        variant = {"VariantName": "AllTraffic", "CurrentWeight": 1.0, "DesiredWeight": 1.0,
                   **({"CurrentInstanceCount": instances, "DesiredInstanceCount": instances} if instances else {})}
        self.stub.add_response("describe_endpoint", {
            "EndpointName": ENDPOINT, "EndpointArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{ENDPOINT}",
            "EndpointConfigName": config, "ProductionVariants": [variant], "EndpointStatus": status,
            "CreationTime": NOW, "LastModifiedTime": NOW,
            **({"PendingDeploymentSummary": {"EndpointConfigName": pending, "StartTime": NOW}} if pending else {}),
        }, {"EndpointName": ENDPOINT})

    def config(self, variant: dict | None = None) -> None:
        self.stub.add_response("describe_endpoint_config", {
            "EndpointConfigName": OLD_CONFIG, "CreationTime": NOW,
            "EndpointConfigArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/{OLD_CONFIG.lower()}",
            "ProductionVariants": [variant or {
                "VariantName": "AllTraffic", "ModelName": "Model-Old", "InitialInstanceCount": 2,
                "InstanceType": "ml.m5.xlarge", "InitialVariantWeight": 1.0,
                "ContainerStartupHealthCheckTimeoutInSeconds": 600}],
        }, {"EndpointConfigName": OLD_CONFIG})

    def create_model(self, **overrides) -> None:
        self.stub.add_response("create_model", {"ModelArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/{TARGET}"},
                               expected_model(**overrides))

    def create_config(self, **overrides) -> None:
        self.stub.add_response(
            "create_endpoint_config",
            {"EndpointConfigArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/{TARGET}"},
            expected_config(**overrides))

    def update(self, **overrides) -> None:
        self.stub.add_response(
            "update_endpoint", {"EndpointArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{ENDPOINT}"},
            {"EndpointName": ENDPOINT, "EndpointConfigName": TARGET, "RetainAllVariantProperties": False,
             "DeploymentConfig": DEPLOYMENT_CONFIG, **overrides})

    def error(self, method: str, code: str, message: str, status: int = 400) -> None:
        self.stub.add_client_error(method, code, message, status)


TAGS = [{"Key": "sagemaker-constructs:model-package-arn", "Value": PACKAGE_ARN},
        {"Key": "sagemaker-constructs:deployed-by", "Value": "platform"}]


def expected_model(**overrides) -> dict:
    return {"ModelName": TARGET, "ExecutionRoleArn": ROLE,
            "PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": MODEL_DATA,
                                 "Environment": {"SAGEMAKER_PROGRAM": "inference.py"}},
            "EnableNetworkIsolation": True,
            "Tags": TAGS, **overrides}


def expected_config(variant: dict | None = None, **overrides) -> dict:
    return {"EndpointConfigName": TARGET, "ProductionVariants": [{
        "VariantName": "AllTraffic", "ModelName": TARGET, "InitialVariantWeight": 1.0, "InstanceType": "ml.m5.xlarge",
        "ContainerStartupHealthCheckTimeoutInSeconds": 600, "InitialInstanceCount": 4, **(variant or {})}],
        "Tags": TAGS, **overrides}


@pytest.fixture
def sm(monkeypatch):
    sm = SageMaker()
    sm.stub.activate()
    monkeypatch.setattr(doa, "_client", lambda name: {"sagemaker": sm.client}[name])
    yield sm
    sm.stub.assert_no_pending_responses()  # every queued call was made: a missed step fails the test
    sm.stub.deactivate()


def event(status: str = "Approved", group: str = GROUP) -> dict:
    return {"version": "0", "id": "5d3b6c7e-1111-2222-3333-444455556666",
            "detail-type": "SageMaker Model Package State Change", "source": "aws.sagemaker",
            "account": ACCOUNT, "time": "2026-01-01T00:00:00Z", "region": REGION, "resources": [PACKAGE_ARN],
            "detail": {"ModelPackageGroupName": group, "ModelPackageVersion": VERSION, "ModelPackageArn": PACKAGE_ARN,
                       "ModelPackageName": f"{group}/{VERSION}", "ModelApprovalStatus": status,
                       "ModelPackageStatus": "Completed", "CreationTime": 1767225600000}}


def decisions(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


# --- deployed


def test_approved_package_is_deployed_with_blue_green_and_kept_capacity(sm, capsys):
    sm.package()
    sm.endpoint(instances=4)  # scaled out from the configured 2: the new variant keeps 4
    sm.config()
    sm.create_model()
    sm.create_config()
    sm.update()
    result = doa.handler(event(), None)
    assert result["decision"] == "deployed" and result["name"] == TARGET
    assert result["model_created"] and result["config_created"] and result["previous_config"] == OLD_CONFIG
    assert sm.calls == ["DescribeModelPackage", "DescribeEndpoint", "DescribeEndpointConfig", "CreateModel",
                        "CreateEndpointConfig", "UpdateEndpoint"]
    assert decisions(capsys) == [result]  # one JSON line per decision


def test_optional_settings_reach_the_requests(sm, monkeypatch):
    for name, value in {"VPC_CONFIG": json.dumps(VPC), "ENABLE_NETWORK_ISOLATION": "false", "KMS_KEY_ARN": KMS,
                        "DATA_CAPTURE_CONFIG": json.dumps(DATA_CAPTURE), "VARIANT_NAME": "Primary",
                        "DEPLOYMENT_CONFIG": ""}.items():
        monkeypatch.setenv(name, value)
    sm.package()
    sm.endpoint(instances=None)  # no running count known: the configured count is kept
    sm.config()
    sm.create_model(VpcConfig=VPC, EnableNetworkIsolation=False)
    sm.create_config(variant={"VariantName": "Primary", "InitialInstanceCount": 2}, KmsKeyId=KMS,
                     DataCaptureConfig=DATA_CAPTURE)
    sm.stub.add_response("update_endpoint", {"EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/e"},
                         {"EndpointName": ENDPOINT, "EndpointConfigName": TARGET, "RetainAllVariantProperties": False})
    assert doa.handler(event(), None)["decision"] == "deployed"


def test_config_settings_no_variable_sets_are_carried(sm):
    """An endpoint config's ExplainerConfig, AsyncInferenceConfig and MetricsConfig were left out of the new
    config: an approval switched off online explainability (or an async endpoint's output configuration)."""
    explainer = {"ClarifyExplainerConfig": {"ShapConfig": {"ShapBaselineConfig": {"MimeType": "text/csv",
                                                                                  "ShapBaseline": "1,2,3"}}}}
    asynchronous = {"OutputConfig": {"S3OutputPath": "s3://results/churn/", "KmsKeyId": KMS}}
    metrics = {"EnableEnhancedMetrics": True}
    sm.package()
    sm.endpoint()
    sm.stub.add_response("describe_endpoint_config", {
        "EndpointConfigName": OLD_CONFIG, "CreationTime": NOW,
        "EndpointConfigArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/{OLD_CONFIG.lower()}",
        "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "Model-Old", "InitialInstanceCount": 2,
                                "InstanceType": "ml.m5.xlarge", "InitialVariantWeight": 1.0,
                                "ContainerStartupHealthCheckTimeoutInSeconds": 600}],
        "ExplainerConfig": explainer, "AsyncInferenceConfig": asynchronous, "MetricsConfig": metrics,
    }, {"EndpointConfigName": OLD_CONFIG})
    sm.create_model()
    sm.create_config(ExplainerConfig=explainer, AsyncInferenceConfig=asynchronous, MetricsConfig=metrics)
    sm.update()
    assert doa.handler(event(), None)["decision"] == "deployed"


def test_serverless_variant_keeps_its_serverless_config(sm):
    serverless = {"MemorySizeInMB": 4096, "MaxConcurrency": 20}
    sm.package()
    sm.endpoint(instances=None)
    sm.config({"VariantName": "AllTraffic", "ModelName": "Model-Old", "ServerlessConfig": serverless})
    sm.create_model()
    sm.stub.add_response("create_endpoint_config", {"EndpointConfigArn": "arn:aws:sagemaker:us-east-1:1:x/y"}, {
        "EndpointConfigName": TARGET, "ProductionVariants": [{
            "VariantName": "AllTraffic", "ModelName": TARGET, "InitialVariantWeight": 1.0,
            "ServerlessConfig": serverless}], "Tags": TAGS})
    sm.update()
    assert doa.handler(event(), None)["decision"] == "deployed"


def test_multi_container_package_becomes_containers(sm):
    first = {"Image": IMAGE, "ModelDataUrl": MODEL_DATA}
    second = {"Image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/post:2", "Environment": {"MODE": "post"}}
    sm.package(containers=[first, second])
    sm.endpoint()
    sm.config()
    model = expected_model(Containers=[first, second])
    del model["PrimaryContainer"]
    sm.stub.add_response("create_model", {"ModelArn": "arn:aws:sagemaker:us-east-1:1:model/m"}, model)
    sm.create_config()
    sm.update()
    assert doa.handler(event(), None)["decision"] == "deployed"


def test_package_containers_keep_their_additional_model_data_and_hostname(sm):
    """A package whose container lists AdditionalModelDataSources (a draft model, adapters) was deployed
    without them: the model served without the data its container expects."""
    extra = [{"ChannelName": "draft", "S3DataSource": {
        "S3Uri": "s3://models-bucket/churn/7/draft/", "S3DataType": "S3Prefix", "CompressionType": "None"}}]
    sm.package(containers=[{"Image": IMAGE, "ModelDataUrl": MODEL_DATA, "ContainerHostname": "churn",
                            "AdditionalModelDataSources": extra}])
    sm.endpoint()
    sm.config()
    sm.create_model(PrimaryContainer={"Image": IMAGE, "ModelDataUrl": MODEL_DATA, "ContainerHostname": "churn",
                                      "AdditionalModelDataSources": extra})
    sm.create_config()
    sm.update()
    assert doa.handler(event(), None)["decision"] == "deployed"


def test_serving_variant_keeps_its_instance_pools_and_capacity_reservation(sm):
    """The serving variant's InstancePools (no InstanceType then), capacity reservation and provisioning
    timeout were dropped: CreateEndpointConfig got a variant without an instance type, or the endpoint
    left its reserved capacity at the first approval."""
    pools = [{"InstanceType": "ml.g5.xlarge", "Priority": 1}, {"InstanceType": "ml.g6.xlarge", "Priority": 2}]
    reservation = {"CapacityReservationPreference": "capacity-reservations-only",
                   "MlReservationArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-plan/plan"}
    settings = {"InstancePools": pools, "CapacityReservationConfig": reservation,
                "VariantInstanceProvisionTimeoutInSeconds": 900}
    sm.package()
    sm.endpoint()
    sm.config({"VariantName": "AllTraffic", "ModelName": "Model-Old", "InitialInstanceCount": 2,
               "InitialVariantWeight": 1.0, **settings})
    sm.create_model()
    sm.stub.add_response("create_endpoint_config", {"EndpointConfigArn": "arn:aws:sagemaker:us-east-1:1:x/y"}, {
        "EndpointConfigName": TARGET, "ProductionVariants": [{
            "VariantName": "AllTraffic", "ModelName": TARGET, "InitialVariantWeight": 1.0, "InitialInstanceCount": 4,
            **settings}], "Tags": TAGS})
    sm.update()
    assert doa.handler(event(), None)["decision"] == "deployed"


def test_every_production_variant_member_is_carried_or_set():
    """The serving variant is rebuilt from a list of keys: a ProductionVariant member missing from it is
    silently dropped by every approval."""
    import botocore.session

    members = set(botocore.session.get_session().get_service_model("sagemaker")
                  .shape_for("ProductionVariant").members)
    set_by_handler = {"VariantName", "ModelName", "InitialVariantWeight", "InitialInstanceCount"}
    assert members - set_by_handler - set(doa.CARRIED_VARIANT_KEYS) == set()


# --- ignored and already-deployed


@pytest.mark.parametrize("status", ["Rejected", "PendingManualApproval", None])
def test_not_approved_is_ignored_without_aws_calls(sm, capsys, status):
    result = doa.handler(event(status), None)
    assert result["decision"] == "ignored" and sm.calls == []
    assert decisions(capsys) == [result]


def test_other_group_is_ignored_without_aws_calls(sm):
    assert doa.handler(event(group="fraud-model"), None)["decision"] == "ignored"
    assert sm.calls == []


@pytest.mark.parametrize("status", ["Rejected", "PendingManualApproval"])
def test_package_no_longer_approved_is_ignored(sm, status):
    sm.package(status)
    result = doa.handler(event(), None)
    assert result["decision"] == "ignored" and status in result["reason"]
    assert sm.calls == ["DescribeModelPackage"]


def test_duplicate_approval_is_already_deployed(sm):
    sm.package()
    sm.endpoint(config=TARGET)
    assert doa.handler(event(), None)["decision"] == "already-deployed"
    assert sm.calls == ["DescribeModelPackage", "DescribeEndpoint"]


@pytest.mark.parametrize("status", sorted(doa.BUSY))
def test_busy_endpoint_raises_endpoint_busy(sm, capsys, status):
    sm.package()
    sm.endpoint(status, pending="EndpointConfig-SomethingElse")
    with pytest.raises(doa.EndpointBusy, match=status):
        doa.handler(event(), None)
    assert "CreateModel" not in sm.calls
    assert decisions(capsys)[-1]["decision"] == "endpoint-busy"


def test_failed_endpoint_raises_without_creating_a_model_or_config(sm, capsys):
    """On a Failed endpoint only DeleteEndpoint works (botocore DescribeEndpoint EndpointStatus): the handler
    created a Model and an EndpointConfig that could never serve, then failed on UpdateEndpoint."""
    sm.package()
    sm.endpoint("Failed")
    with pytest.raises(doa.DeploymentError, match="is Failed"):
        doa.handler(event(), None)
    assert sm.calls == ["DescribeModelPackage", "DescribeEndpoint"]
    assert decisions(capsys)[-1]["decision"] == "failed"


@pytest.mark.parametrize("current, pending", [(TARGET, None), (OLD_CONFIG, TARGET)])
def test_busy_endpoint_already_serving_the_package_is_already_deployed(sm, current, pending):
    sm.package()
    sm.endpoint("Updating", config=current, pending=pending)
    result = doa.handler(event(), None)
    assert result["decision"] == "already-deployed" and result["pending"] is bool(pending)


# --- partial failures and errors


def test_model_and_config_already_existing_are_tolerated(sm):
    sm.package()
    sm.endpoint()
    sm.config()
    sm.error("create_model", "ValidationException",
             f'Cannot create already existing model "arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/{TARGET}".')
    sm.error("create_endpoint_config", "ValidationException", "Cannot create already existing endpoint "
             f'configuration "arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/{TARGET}".')
    sm.update()
    result = doa.handler(event(), None)
    assert result["decision"] == "deployed" and not result["model_created"] and not result["config_created"]


def test_access_denied_on_create_model_raises(sm, capsys):
    sm.package()
    sm.endpoint()
    sm.config()
    sm.error("create_model", "AccessDeniedException", "not authorized to perform: sagemaker:CreateModel")
    with pytest.raises(doa.DeploymentError, match="create_model failed.*AccessDeniedException.*not authorized") as exc:
        doa.handler(event(), None)
    assert isinstance(exc.value.__cause__, ClientError)
    assert decisions(capsys)[-1] == {
        "decision": "failed", "operation": "create_model", "error": "AccessDeniedException",
        "detail": "not authorized to perform: sagemaker:CreateModel", "endpoint": ENDPOINT,
        "model_package_arn": PACKAGE_ARN, "version": VERSION, "name": TARGET}
    assert "UpdateEndpoint" not in sm.calls


def test_other_validation_error_on_create_is_not_tolerated(sm):
    sm.package()
    sm.endpoint()
    sm.config()
    sm.error("create_model", "ValidationException", "Could not access model data at s3://models-bucket/churn.")
    with pytest.raises(doa.DeploymentError, match="Could not access model data"):
        doa.handler(event(), None)


@pytest.mark.parametrize("method", ["describe_model_package", "describe_endpoint", "update_endpoint"])
def test_throttling_raises_the_client_error(sm, capsys, method):
    if method != "describe_model_package":
        sm.package()
    if method == "update_endpoint":
        sm.endpoint()
        sm.config()
        sm.create_model()
        sm.create_config()
    sm.error(method, "ThrottlingException", "Rate exceeded")
    with pytest.raises(ClientError, match="ThrottlingException"):
        doa.handler(event(), None)
    assert decisions(capsys)[-1]["decision"] == "throttled"


def test_update_racing_another_update_raises_endpoint_busy(sm):
    sm.package()
    sm.endpoint()
    sm.config()
    sm.create_model()
    sm.create_config()
    sm.error("update_endpoint", "ValidationException",
             f'Cannot update in-progress endpoint "arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{ENDPOINT}".')
    with pytest.raises(doa.EndpointBusy):
        doa.handler(event(), None)


def test_missing_endpoint_raises_a_clear_error(sm):
    sm.package()
    sm.error("describe_endpoint", "ValidationException", f'Could not find endpoint "{ENDPOINT}".')
    with pytest.raises(doa.DeploymentError, match="describe_endpoint failed.*Could not find endpoint"):
        doa.handler(event(), None)


@pytest.mark.parametrize("name, value, match", [
    ("EXECUTION_ROLE_ARN", "", "EXECUTION_ROLE_ARN is not set"),
    ("DEPLOYMENT_CONFIG", "{not json", "DEPLOYMENT_CONFIG is not valid JSON"),
    ("ENABLE_NETWORK_ISOLATION", "yes", "ENABLE_NETWORK_ISOLATION must be true or false"),
])
def test_bad_configuration_raises(sm, monkeypatch, name, value, match):
    monkeypatch.setenv(name, value)
    with pytest.raises(doa.DeploymentError, match=match):
        doa.handler(event(), None)
    assert sm.calls == []


# --- names


@pytest.mark.parametrize("group", [
    "churn-model", "a", "A1", "x" * 63, "a-" * 31 + "a", "model_with_underscores", "_leading.dot.name",
    "ends-with-hyphen-at-the-cut-pos-itio", "CamelCase--Double--Hyphen", "___",
])
@pytest.mark.parametrize("version", [1, 7, 42, 12345, 10**12])
def test_names_are_deterministic_valid_and_distinct(group, version):
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{group.lower()}/{version}"
    name = doa.resource_name(group, version, arn, ENDPOINT)
    assert name == doa.resource_name(group, version, arn, ENDPOINT)
    assert doa.NAME_PATTERN.fullmatch(name) and len(name) <= 63
    assert name.endswith(f"-v{version}-" + name[-8:]) and all(c in "0123456789abcdef" for c in name[-8:])
    others = {doa.resource_name(group, version + 1, arn[:-1] + "x", ENDPOINT),
              doa.resource_name(group, version, arn, "other-endpoint")}
    assert name not in others


def test_name_keeps_a_valid_group_prefix_verbatim():
    group = "Churn-Prediction-Model-For-Retail-Customers"
    name = doa.resource_name(group, 3, PACKAGE_ARN, ENDPOINT)
    assert name.startswith(f"{group[:30]}-v3-")


# --- packaging




# --- SQS batches (the construct buffers approvals in a queue)


def _sqs(*events: dict) -> dict:
    return {"Records": [{"messageId": f"m{i}", "body": json.dumps(e), "eventSource": "aws:sqs"}
                        for i, e in enumerate(events)]}


def test_sqs_batch_of_ignored_events_reports_no_failures(sm):
    result = doa.handler(_sqs(event("Rejected"), event(group="other-group")), None)
    assert result["batchItemFailures"] == []
    assert [r["decision"] for r in result["results"]] == ["ignored", "ignored"]


def test_sqs_record_for_a_busy_endpoint_is_retried_later(sm, capsys):
    sm.package()
    sm.endpoint("Updating", pending="EndpointConfig-SomethingElse")
    result = doa.handler(_sqs(event()), None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m0"}], "results": []}
    assert decisions(capsys)[-1]["decision"] == "retry-later"


def test_sqs_record_that_deploys_reports_no_failure(sm):
    sm.package()
    sm.endpoint()
    sm.config()
    sm.create_model()
    sm.create_config()
    sm.update()
    result = doa.handler(_sqs(event()), None)
    assert result["batchItemFailures"] == []
    assert result["results"][0]["decision"] == "deployed"


# --- endpoints with several variants: only VARIANT_NAME gets the new model, the others are carried


def _describe(sm, production: list[dict], shadows: list[dict] | None = None,
              running: dict[str, int] | None = None) -> None:
    running = running or {}

    def summary(v):
        count = running.get(v["VariantName"])
        return {"VariantName": v["VariantName"], "CurrentWeight": v["InitialVariantWeight"],
                "DesiredWeight": v["InitialVariantWeight"],
                **({"CurrentInstanceCount": count, "DesiredInstanceCount": count} if count else {})}

    sm.stub.add_response("describe_endpoint", {
        "EndpointName": ENDPOINT, "EndpointArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{ENDPOINT}",
        "EndpointConfigName": OLD_CONFIG, "ProductionVariants": [summary(v) for v in production],
        **({"ShadowProductionVariants": [summary(v) for v in shadows]} if shadows else {}),
        "EndpointStatus": "InService", "CreationTime": NOW, "LastModifiedTime": NOW,
    }, {"EndpointName": ENDPOINT})
    sm.stub.add_response("describe_endpoint_config", {
        "EndpointConfigName": OLD_CONFIG, "CreationTime": NOW,
        "EndpointConfigArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/{OLD_CONFIG.lower()}",
        "ProductionVariants": production, **({"ShadowProductionVariants": shadows} if shadows else {}),
    }, {"EndpointConfigName": OLD_CONFIG})


def test_ab_variants_keep_the_other_variant_and_the_weights(sm):
    primary = {"VariantName": "AllTraffic", "ModelName": "Model-Old", "InitialInstanceCount": 2,
               "InstanceType": "ml.m5.xlarge", "InitialVariantWeight": 0.8}
    challenger = {"VariantName": "Challenger", "ModelName": "Model-Challenger", "InitialInstanceCount": 1,
                  "InstanceType": "ml.c5.large", "InitialVariantWeight": 0.2, "VolumeSizeInGB": 10}
    sm.package()
    _describe(sm, [primary, challenger], running={"AllTraffic": 3, "Challenger": 2})
    sm.create_model()
    sm.stub.add_response("create_endpoint_config", {"EndpointConfigArn": "arn:aws:sagemaker:us-east-1:1:x/y"}, {
        "EndpointConfigName": TARGET, "ProductionVariants": [
            {"VariantName": "AllTraffic", "ModelName": TARGET, "InitialVariantWeight": 0.8,
             "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 3},
            {**challenger, "InitialInstanceCount": 2},  # unchanged but for its running count
        ], "Tags": TAGS})
    sm.update()
    result = doa.handler(event(), None)
    assert result["decision"] == "deployed" and result["variant"]["VariantName"] == "AllTraffic"


def test_shadow_variant_is_carried_unchanged(sm):
    primary = {"VariantName": "AllTraffic", "ModelName": "Model-Old", "InitialInstanceCount": 2,
               "InstanceType": "ml.m5.xlarge", "InitialVariantWeight": 1.0}
    shadow = {"VariantName": "Shadow", "ModelName": "Model-Candidate", "InitialInstanceCount": 1,
              "InstanceType": "ml.c5.large", "InitialVariantWeight": 0.25}
    sm.package()
    _describe(sm, [primary], [shadow], running={"AllTraffic": 2, "Shadow": 1})
    sm.create_model()
    sm.stub.add_response("create_endpoint_config", {"EndpointConfigArn": "arn:aws:sagemaker:us-east-1:1:x/y"}, {
        "EndpointConfigName": TARGET, "ProductionVariants": [
            {"VariantName": "AllTraffic", "ModelName": TARGET, "InitialVariantWeight": 1.0,
             "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 2}],
        "ShadowProductionVariants": [shadow], "Tags": TAGS})
    sm.update()
    assert doa.handler(event(), None)["decision"] == "deployed"
