"""Issue 12, what remained: sizes and counts from botocore's shapes, combinations SageMaker refuses,
rollouts it silently runs all at once, arguments that were ignored, Tokens never read as numbers.

Table-driven like ``test_validation.py``: each bad value with the message fragment it must produce,
and valid-but-unusual values (limits exactly, Tokens) that must still synthesize.
"""

from __future__ import annotations

import aws_cdk as cdk
import botocore.session
import pytest
from aws_cdk import Duration
from aws_cdk import aws_iam as iam

from sagemaker_constructs import (
    ContainerImage,
    CreateModelStep,
    DataCapture,
    DeployOnApproval,
    DeploymentGuardrail,
    EndpointInvoker,
    InstanceGroup,
    InstanceRecommender,
    IsolatedNetwork,
    JobExecutionRole,
    Model,
    ModelData,
    ModelMonitor,
    ModelPackageGroup,
    ModelQualityMonitor,
    MultiModelEndpoint,
    Parameter,
    Pipeline,
    PlatformKey,
    ProcessingStep,
    PromoteOnApproval,
    PromotionTarget,
    RealtimeEndpoint,
    SecureBucket,
    ServerlessEndpoint,
    TrainingStep,
    TransformStep,
    TuningStep,
    IntegerRange,
    ValidationError,
)
from sagemaker_constructs.validation import combinations, limits
from tests.conftest import new_app
from tests.harness.templates import only, resources, template_of

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
IMG = ContainerImage.from_uri(IMAGE)


def _raises(fragment, call, *args, **kwargs):
    with pytest.raises(ValidationError, match=fragment) as info:
        call(*args, **kwargs)
    return info.value


# --- the data is botocore's ----------------------------------------------------------------------

def _shapes(service):
    return botocore.session.get_session().get_service_model(service)


def test_map_shapes_match_botocore():
    model = _shapes("sagemaker")
    for name, (most, key, value) in limits.MAP_SHAPES.items():
        shape = model.shape_for(name)
        assert (shape.metadata.get("max"), shape.key.name, shape.value.name) == (most, key, value), name


def test_string_shapes_match_botocore():
    for name, (service, least, most, pattern) in limits.STRING_SHAPES.items():
        metadata = _shapes(service).shape_for(name).metadata
        assert (metadata.get("min", 0), metadata["max"], metadata.get("pattern")) == (least, most, pattern), name


def test_list_shapes_match_botocore():
    for name, (service, least, most, member) in limits.LIST_SHAPES.items():
        shape = _shapes(service).shape_for(name)
        assert (shape.metadata["min"], shape.metadata["max"], shape.member.name) == (least, most, member), name


def test_the_members_we_check_use_those_shapes():
    """The API members the constructs fill are of the shapes their checks name."""
    model = _shapes("sagemaker")

    def member(operation, *path):
        shape = model.operation_model(operation).input_shape
        for name in path:
            shape = shape.members[name]
        return shape.name

    assert member("CreateModel", "PrimaryContainer", "Environment") == "EnvironmentMap"
    assert member("CreateModelPackage", "InferenceSpecification", "Containers") == "ModelPackageContainerDefinitionList"
    assert member("CreateTrainingJob", "Environment") == "TrainingEnvironmentMap"
    assert member("CreateTrainingJob", "HyperParameters") == "HyperParameters"
    assert member("CreateProcessingJob", "Environment") == "ProcessingEnvironmentMap"
    assert member("CreateTransformJob", "Environment") == "TransformEnvironmentMap"
    assert member("CreateTransformJob", "TransformInput", "ContentType") == "ContentType"
    assert member("CreateTransformJob", "TransformOutput", "Accept") == "Accept"
    assert member("CreateHyperParameterTuningJob", "TrainingJobDefinition", "Environment") == \
        "HyperParameterTrainingJobEnvironmentMap"
    assert member("CreateEndpointConfig", "DataCaptureConfig", "CaptureContentTypeHeader",
                  "JsonContentTypes") == "JsonContentTypes"
    assert member("CreateAppImageConfig", "JupyterLabAppImageConfig", "ContainerConfig",
                  "ContainerEnvironmentVariables") == "CustomImageContainerEnvironmentVariables"
    runtime = _shapes("sagemaker-runtime").operation_model("InvokeEndpoint").input_shape
    assert runtime.members["ContentType"].name == runtime.members["Accept"].name == "Header"


# --- sizes and counts: the checkers ----------------------------------------------------------------

BAD_SIZES = [
    (lambda: limits.check_map("S", "environment", {f"V{i}": "x" for i in range(101)}, shape="EnvironmentMap"),
     r"environment.*101 entries.*0 to 100 entries.*EnvironmentMap"),
    (lambda: limits.check_map("S", "environment", {"1BAD": "x"}, shape="EnvironmentMap"),
     r"environment key.*'1BAD'.*a letter or '_'"),
    (lambda: limits.check_map("S", "environment", {"K": "v" * 1025}, shape="EnvironmentMap"),
     r"environment\['K'\].*0 to 1024 characters \(got 1025\)"),
    (lambda: limits.check_map("S", "environment", {"K" * 513: "v"}, shape="TrainingEnvironmentMap"),
     "0 to 512 characters"),
    (lambda: limits.check_map("S", "environment", {f"V{i}": "" for i in range(17)}, shape="TransformEnvironmentMap"),
     "0 to 16 entries"),
    (lambda: limits.check_map("S", "environment", {f"V{i}": "" for i in range(51)}, shape="MonitoringEnvironmentMap"),
     "0 to 50 entries"),
    (lambda: limits.check_map("S", "hyperparameters", {"k": "v" * 2501}, shape="HyperParameters"),
     "0 to 2500 characters"),
    (lambda: limits.check_map("S", "hyperparameters", {"k\nl": "v"}, shape="HyperParameters"), "on one line"),
    (lambda: limits.check_map("S", "environment", {" ": "v"}, shape="CustomImageContainerEnvironmentVariables"),
     "not blank"),
    (lambda: limits.check_map("S", "environment", {7: "v"}, shape="EnvironmentMap"), "a string of"),
    (lambda: limits.check_string("S", "content_type", "text/csv; charset=utf-8", shape="CsvContentType"),
     r"MIME type type/subtype.*CsvContentType"),
    (lambda: limits.check_string("S", "content_type", "é/x", shape="Header"), "ASCII characters"),
    (lambda: limits.check_string("S", "accept", "a" * 257, shape="Accept"), "0 to 256 characters"),
    (lambda: limits.check_string("S", "response_type", "json", shape="ResponseMIMEType"), "type/subtype"),
    (lambda: limits.check_string_list("S", "json_content_types", [f"a/b{i}" for i in range(11)],
                                      shape="JsonContentTypes"), "1 to 10 entries"),
    (lambda: limits.check_reserved_concurrency("S", "reserved_concurrency", 901), r"from 1 to 900.*100 Lambda keeps"),
    (lambda: limits.check_reserved_concurrency("S", "reserved_concurrency", 0), "from 1 to 900"),
    (lambda: limits.check_reserved_concurrency("S", "reserved_concurrency", 2.5), "a whole number"),
    (lambda: limits.check_timeout_outlives("S", "timeout", 60, 70, what="one attempt"), r"at least 70 s: one attempt"),
]


@pytest.mark.parametrize("call,fragment", BAD_SIZES)
def test_sizes_refused(call, fragment):
    _raises(fragment, call)


GOOD_SIZES = [
    lambda: limits.check_map("S", "environment", {f"V{i}": "v" * 1024 for i in range(100)}, shape="EnvironmentMap"),
    lambda: limits.check_map("S", "environment", {"_" + "k" * 1023: ""}, shape="EnvironmentMap"),
    lambda: limits.check_map("S", "environment", {"K": "multi\nline value"}, shape="EnvironmentMap"),
    lambda: limits.check_map("S", "environment", {f"V{i}": "v" * 10240 for i in range(16)},
                             shape="TransformEnvironmentMap"),
    lambda: limits.check_map("S", "hyperparameters", {"k" * 256: "v" * 2500, "a-b.c": ""}, shape="HyperParameters"),
    lambda: limits.check_map("S", "environment", None, shape="EnvironmentMap"),
    lambda: limits.check_string("S", "content_type", "application/x-recordio-protobuf", shape="JsonContentType"),
    lambda: limits.check_string("S", "content_type", "text/csv;header=present", shape="ContentType"),
    lambda: limits.check_string("S", "content_type", "a" * 1024, shape="Header"),
    lambda: limits.check_string_list("S", "csv_content_types", [f"text/csv{i}" for i in range(10)],
                                     shape="CsvContentTypes"),
    lambda: limits.check_reserved_concurrency("S", "reserved_concurrency", 900),
    lambda: limits.check_timeout_outlives("S", "timeout", 70, 70, what="one attempt"),
    lambda: limits.check_timeout_outlives("S", "timeout", None, 70, what="one attempt"),
]


@pytest.mark.parametrize("call", GOOD_SIZES)
def test_sizes_at_their_limits_pass(call):
    call()


def test_size_checks_skip_tokens():
    stack = cdk.Stack(new_app(), "S")
    text = cdk.CfnParameter(stack, "T").value_as_string
    number = cdk.CfnParameter(stack, "N", type="Number").value_as_number
    limits.check_map(stack, "environment", {text: text, "K": text}, shape="EnvironmentMap")
    limits.check_string(stack, "content_type", text, shape="CsvContentType")
    limits.check_string_list(stack, "types", cdk.CfnParameter(stack, "L", type="CommaDelimitedList").value_as_list,
                             shape="JsonContentTypes")
    limits.check_reserved_concurrency(stack, "reserved_concurrency", number)
    combinations.check_rollback_thresholds(stack, number, number)


def test_a_raised_lambda_quota_through_context():
    stack = cdk.Stack(new_app(context={limits.ACCOUNT_CONCURRENCY_CONTEXT: 5000}), "S")
    limits.check_reserved_concurrency(stack, "reserved_concurrency", 4900)
    _raises("from 1 to 4900", limits.check_reserved_concurrency, stack, "reserved_concurrency", 4901)
    bad = cdk.Stack(new_app(context={limits.ACCOUNT_CONCURRENCY_CONTEXT: "lots"}), "S")
    _raises("lambdaAccountConcurrency", limits.check_reserved_concurrency, bad, "reserved_concurrency", 5)


# --- sizes and counts: the constructs --------------------------------------------------------------

def _key_bucket(stack, name="Data"):
    key = PlatformKey(stack, f"{name}Key")
    return key, SecureBucket(stack, name, encryption_key=key)


def _model(stack, id="Model", **kwargs):
    key, bucket = _key_bucket(stack, f"{id}Data")
    kwargs.setdefault("model_data", ModelData.from_bucket(bucket, "m/model.tar.gz"))
    return Model(stack, id, image=IMG, encryption_key=key, **kwargs)


def _train(name="Train", **kwargs):
    kwargs.setdefault("inputs", {"train": Parameter.string("InputDataUrl", "s3://bucket/train/")})
    kwargs.setdefault("output_uri", "s3://bucket/out")
    return TrainingStep(name, image=IMG, **kwargs)


BAD_CONSTRUCT_SIZES = [
    (lambda s: _model(s, environment={f"V{i}": "1" for i in range(101)}), r"Model: invalid environment=.101 entries"),
    (lambda s: _model(s, environment={"K": "x" * 1025}), r"environment\['K'\].*1024"),
    (lambda s: MultiModelEndpoint(s, "MME", image=IMG, model_data_prefix=ModelData.from_bucket(
        _key_bucket(s)[1], "models/"), instance_type="ml.m5.large", environment={"bad-key": "1"}), "environment key"),
    (lambda s: _train(hyperparameters={f"h{i}": "1" for i in range(101)}), "hyperparameters.*0 to 100 entries"),
    (lambda s: _train(hyperparameters={"k": "v" * 2501}), "HyperParameters"),
    (lambda s: _train(environment={"K": "v" * 513}), "TrainingEnvironmentMap"),
    (lambda s: ProcessingStep("P", image=IMG, entrypoint=["python3"], environment={"K": "v" * 257}),
     "ProcessingEnvironmentMap"),
    (lambda s: CreateModelStep("M", image=IMG, model_data="s3://b/m.tar.gz", environment={"9": "v"}), "environment key"),
    (lambda s: TransformStep("T", model_name="m", input_uri="s3://b/in/", output_uri="s3://b/out/",
                             environment={f"V{i}": "" for i in range(17)}), "TransformEnvironmentMap"),
    (lambda s: TransformStep("T", model_name="m", input_uri="s3://b/in/", output_uri="s3://b/out/",
                             content_type="t" * 257), r"content_type.*ContentType"),
    (lambda s: TuningStep("Tune", training=_train(environment={f"V{i}": "" for i in range(49)},
                                                  metric_definitions={"acc": "acc=(.*)"}),
                          objective_metric="acc", ranges=[IntegerRange("depth", 1, 3)]),
     "HyperParameterTrainingJobEnvironmentMap"),
    (lambda s: RealtimeEndpoint(s, "E", model=_model(s), instance_type="ml.m5.large",
                                data_capture=DataCapture(_key_bucket(s, "Cap")[1],
                                                         csv_content_types=("text/csv; charset=utf-8",))),
     r"data_capture.csv_content_types\[0\]"),
    (lambda s: RealtimeEndpoint(s, "E", model=_model(s), instance_type="ml.m5.large",
                                data_capture=DataCapture(_key_bucket(s, "Cap")[1],
                                                         json_content_types=[f"a/j{i}" for i in range(11)])),
     "1 to 10 entries"),
    (lambda s: EndpointInvoker(s, "I", endpoint=_fake(s), content_type="ü/x"), "content_type.*ASCII"),
    (lambda s: EndpointInvoker(s, "I", endpoint=_fake(s), accept=""), "accept.*at least 1"),
    (lambda s: EndpointInvoker(s, "I", endpoint=_fake(s), reserved_concurrency=1000), "reserved_concurrency.*900"),
]


def _fake(stack, name="churn-endpoint"):
    class Endpoint:
        endpoint_name = name
        endpoint_arn = stack.format_arn(service="sagemaker", resource="endpoint", resource_name=name)
    return Endpoint()


@pytest.mark.parametrize("build,fragment", BAD_CONSTRUCT_SIZES)
def test_constructs_refuse_sizes(stack, build, fragment):
    _raises(fragment, build, stack)


def test_constructs_accept_sizes_at_their_limits(stack):
    env = {f"V{i}": "v" * 1024 for i in range(100)}
    model = _model(stack, environment=env)
    assert len(only(template_of(stack), "AWS::SageMaker::Model")["PrimaryContainer"]["Environment"]) == 100
    token = cdk.CfnParameter(stack, "Env").value_as_string
    _model(stack, "Model2", environment={"FROM_PARAMETER": token})
    _train(hyperparameters={f"h{i}": "v" * 2500 for i in range(100)}, environment={"K" * 512: "v" * 512})
    TransformStep("T", model_name="m", input_uri="s3://b/in/", output_uri="s3://b/out/", content_type="t" * 256,
                  environment={f"V{i}": "v" * 10240 for i in range(16)})
    RealtimeEndpoint(stack, "E", model=model, instance_type="ml.m5.large", data_capture=DataCapture(
        _key_bucket(stack, "Cap")[1], json_content_types=[f"application/j{i}" for i in range(10)], csv_content_types=()))
    EndpointInvoker(stack, "I", endpoint=_fake(stack), content_type="text/csv;charset=utf-8", reserved_concurrency=900)


def test_invoker_reserved_concurrency_from_a_parameter(stack):
    number = cdk.CfnParameter(stack, "Concurrency", type="Number").value_as_number
    EndpointInvoker(stack, "I", endpoint=_fake(stack), reserved_concurrency=number)


def test_training_pipeline_hyperparameters(stack):
    from sagemaker_constructs import TrainingPipeline

    from tests.unit.test_pipelines import TRAINING

    key, bucket = _key_bucket(stack)
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="training")
    group = ModelPackageGroup(stack, "Group", model_package_group_name="iris")
    _raises("hyperparameters.*0 to 100 entries", TrainingPipeline, stack, "Pipeline", training_image=IMG,
            data_bucket=bucket, encryption_key=key, vpc=net.vpc, model_package_group=group,
            training_code=str(TRAINING / "dist" / "sourcedir.tar.gz"), evaluation_script=str(TRAINING / "evaluate.py"),
            hyperparameters={f"h{i}": "1" for i in range(101)})


# --- Lambda timeouts and the SDK calls they wrap ---------------------------------------------------

def _realtime(stack, id="Endpoint", **kwargs):
    key, bucket = _key_bucket(stack, f"{id}Data")
    kwargs.setdefault("instance_type", "ml.m5.large")
    kwargs.setdefault("data_capture", DataCapture(bucket))
    return RealtimeEndpoint(stack, id, model=_model(stack, f"{id}Model"), encryption_key=key, **kwargs)


def test_deploy_on_approval_timeout_outlives_one_sdk_attempt(stack):
    from sagemaker_constructs.handlers.common import CONNECT_TIMEOUT, READ_TIMEOUT

    endpoint = _realtime(stack)
    group = ModelPackageGroup(stack, "Group", model_package_group_name="churn")
    _raises(rf"timeout.*at least {CONNECT_TIMEOUT + READ_TIMEOUT} s: one attempt", DeployOnApproval, stack, "D",
            model_package_group=group, endpoint=endpoint, timeout=Duration.seconds(60))
    DeployOnApproval(stack, "D2", model_package_group=group, endpoint=endpoint,
                     timeout=Duration.seconds(CONNECT_TIMEOUT + READ_TIMEOUT))


def test_promote_on_approval_timeout_outlives_botocores_default_attempt(stack):
    group = ModelPackageGroup(stack, "Group", model_package_group_name="iris")
    role = iam.Role(stack, "CfnRole", assumed_by=iam.ServicePrincipal("cloudformation.amazonaws.com"))
    target = PromotionTarget.stack_update(stack, deployment_role=role)
    _raises(r"timeout.*at least 120 s", PromoteOnApproval, stack, "P", model_package_group=group, target=target,
            timeout=Duration.seconds(119))
    PromoteOnApproval(stack, "P2", model_package_group=group, target=target)  # the default: 2 minutes


# --- combinations SageMaker refuses ----------------------------------------------------------------

def _multi_model(stack, **kwargs):
    key, bucket = _key_bucket(stack, "Models")
    kwargs.setdefault("data_capture", DataCapture(bucket))
    return MultiModelEndpoint(stack, "MME", image=IMG, model_data_prefix=ModelData.from_bucket(bucket, "models/"),
                              instance_type="ml.m5.large", encryption_key=key, **kwargs)


def _quality(stack, endpoint):
    key, bucket = _key_bucket(stack, "Out")
    return ModelQualityMonitor(stack, "Quality", endpoint=endpoint, ground_truth_uri="s3://gt-bucket/labels",
                               output_bucket=bucket, encryption_key=key, problem_type="Regression",
                               alarm_threshold=1.0, inference_attribute="prediction")


def _data_quality(stack, endpoint):
    key, bucket = _key_bucket(stack, "Out")
    return ModelMonitor(stack, "Monitor", endpoint=endpoint, baseline_uri="s3://baseline-bucket/iris",
                        output_bucket=bucket, encryption_key=key, features=["f"])


def _serverless(stack):
    return ServerlessEndpoint(stack, "Serverless", model=_model(stack, "ServerlessModel", network_isolation=False))


BAD_COMBINATIONS = [
    (lambda s: ServerlessEndpoint(s, "S", model=_model(s, multi_model=True, network_isolation=False,
                                                      model_data=ModelData.from_bucket(_key_bucket(s)[1], "models/"))),
     r"S: invalid model=.*Serverless Inference does not support multi-model endpoints.*serverless-endpoints.html"),
    (lambda s: _data_quality(s, _multi_model(s)), r"Monitor: invalid endpoint=.*MME.*ModelMonitor.*single model"),
    (lambda s: _quality(s, _multi_model(s)), r"ModelQualityMonitor cannot watch a multi-model endpoint.*model-monitor"),
    (lambda s: _quality(s, _serverless(s)), r"cannot watch a serverless endpoint"),
    (lambda s: DeployOnApproval(s, "D", model_package_group=ModelPackageGroup(s, "G", model_package_group_name="churn"), endpoint=_multi_model(s)),
     r"D: invalid endpoint=.*MME.*a single-model endpoint.*multi-model-endpoints.html"),
    (lambda s: PromoteOnApproval(s, "P", model_package_group=ModelPackageGroup(s, "G", model_package_group_name="churn"), endpoint=_multi_model(s),
                                 target=PromotionTarget.stack_update(s, deployment_role=iam.Role(
                                     s, "R", assumed_by=iam.ServicePrincipal("cloudformation.amazonaws.com")))),
     r"PromoteOnApproval deploys one model package version"),
    (lambda s: EndpointInvoker(s, "I", endpoint=_fake(s), vpc=IsolatedNetwork(s, "N", endpoints="training").vpc),
     r"I: invalid vpc=.*N.*sagemaker.runtime interface endpoint EndpointInvoker calls.*'training'"),
    (lambda s: EndpointInvoker(s, "I", endpoint=_fake(s), vpc=IsolatedNetwork(s, "N", endpoints=["sts"]).vpc),
     r"network.require\('sagemaker.runtime'"),
    (lambda s: DeployOnApproval(s, "D", model_package_group=ModelPackageGroup(s, "G", model_package_group_name="churn"), endpoint=_realtime(s),
                                vpc=IsolatedNetwork(s, "N", endpoints=["sagemaker.runtime"]).vpc), r"sagemaker.api interface"),
]


@pytest.mark.parametrize("build,fragment", BAD_COMBINATIONS)
def test_combinations_sagemaker_refuses(stack, build, fragment):
    _raises(fragment, build, stack)


def test_invoker_in_networks_that_reach_the_runtime(stack):
    for i, endpoints in enumerate(["inference", "auto", ["sagemaker.runtime"]]):
        net = IsolatedNetwork(stack, f"N{i}", endpoints=endpoints)
        EndpointInvoker(stack, f"I{i}", endpoint=_fake(stack), vpc=net.vpc)
    required = IsolatedNetwork(stack, "Required", endpoints="training")
    required.require("sagemaker.runtime", reason="my invoker")
    EndpointInvoker(stack, "Invoker", endpoint=_fake(stack), vpc=required.vpc)


def test_single_model_endpoints_still_deploy_and_monitor(stack):
    endpoint = _realtime(stack)
    DeployOnApproval(stack, "D", model_package_group=ModelPackageGroup(stack, "G", model_package_group_name="churn"), endpoint=endpoint)
    _data_quality(stack, endpoint)


def test_training_refuses_types_training_does_not_offer():
    _raises(r"instance_type.*does not offer ml.inf2.xlarge for training", _train, instance_type="ml.inf2.xlarge")
    _raises(r"instance_groups\['a'\].instance_type.*training",
            _train, instance_groups=[InstanceGroup("a", "ml.c7g.large")])


def _definition(stack):
    import json

    from sagemaker_constructs.rules.pipeline_jobs_hardened import pipeline_definition

    return json.loads(json.dumps(pipeline_definition({"Properties": only(template_of(stack),
                                                                         "AWS::SageMaker::Pipeline")})))


@pytest.mark.parametrize("groups, keyed", [
    ([("gpu", "ml.g5.2xlarge", 1), ("cpu", "ml.c5.xlarge", 1)], False),  # g5: NVMe
    ([("a", "ml.r5d.xlarge", 1)], False),
    ([("a", "ml.p3.2xlarge", 1), ("b", "ml.c5.xlarge", 1)], True),
])
def test_heterogeneous_training_volume_key_follows_the_groups(stack, groups, keyed):
    key, bucket = _key_bucket(stack)
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="training")
    train = _train(instance_groups=[InstanceGroup(*g) for g in groups])
    Pipeline(stack, "Pipeline", steps=[train], encryption_key=key, vpc=net.vpc)
    (step,) = _definition(stack)["Steps"]
    assert ("VolumeKmsKeyId" in step["Arguments"]["ResourceConfig"]) is keyed


def test_local_storage_types_have_no_volume_key_in_processing_and_training(stack):
    key, bucket = _key_bucket(stack)
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="training")
    train = _train(instance_type="ml.g5.xlarge")
    process = ProcessingStep("P", image=IMG, entrypoint=["python3"], instance_type="ml.r5d.xlarge")
    Pipeline(stack, "Pipeline", steps=[train, process], encryption_key=key, vpc=net.vpc)
    steps = {s["Name"]: s["Arguments"] for s in _definition(stack)["Steps"]}
    assert "VolumeKmsKeyId" not in steps["Train"]["ResourceConfig"]
    assert "VolumeKmsKeyId" not in steps["P"]["ProcessingResources"]["ClusterConfig"]


# --- rollouts ----------------------------------------------------------------------------------------

BAD_ROLLOUTS = [
    (dict(instance_type="ml.inf1.xlarge", deployment=DeploymentGuardrail.canary(instances=1)),
     r"instance_type='ml.inf1.xlarge'.*ignores the canary guardrail.*deployment-guardrails-exclusions"),
    (dict(instance_type="ml.inf1.2xlarge", deployment=DeploymentGuardrail.linear(step_percent=50)), "linear"),
    (dict(instance_type="ml.inf1.xlarge", deployment=DeploymentGuardrail.all_at_once()), "no final baking period"),
    (dict(deployment=DeploymentGuardrail.canary(instances=1), rollback_5xx_threshold=0),
     r"rollback_5xx_threshold=0.*allowed: 1 to inf errors per minute.*Sum >= 0 fires on every minute"),
    (dict(deployment=DeploymentGuardrail.canary(instances=1), rollback_5xx_threshold=1.5), "a whole number"),
    (dict(deployment=DeploymentGuardrail.canary(instances=1), rollback_latency=Duration.millis(0)),
     r"rollback_latency \(ms\)=0.*ModelLatency > 0"),
]


@pytest.mark.parametrize("kwargs,fragment", BAD_ROLLOUTS)
def test_rollouts_sagemaker_would_not_honour(stack, kwargs, fragment):
    _raises(fragment, _realtime, stack, data_capture=None, instance_count=2, **kwargs)


def test_rollouts_that_still_synthesize(stack):
    # Inf1 without a guardrail; Inf2 with one; a threshold of 1 error (the default) and 1 ms latency;
    # thresholds from parameters; custom alarms make the thresholds irrelevant.
    _realtime(stack, "A", data_capture=None, instance_type="ml.inf1.xlarge")
    _realtime(stack, "B", data_capture=None, instance_type="ml.inf2.xlarge", instance_count=2,
              deployment=DeploymentGuardrail.canary(instances=1), rollback_latency=Duration.millis(1))
    number = cdk.CfnParameter(stack, "Threshold", type="Number").value_as_number
    _realtime(stack, "C", data_capture=None, instance_count=2, deployment=DeploymentGuardrail.canary(instances=1),
              rollback_5xx_threshold=number)
    _realtime(stack, "D", data_capture=None, instance_count=2, rollback_5xx_threshold=0,
              deployment=DeploymentGuardrail.canary(instances=1, alarms=[]))


def test_added_variant_on_a_type_the_guardrail_skips_raises(stack):
    endpoint = _realtime(stack, data_capture=None, instance_count=2, deployment=DeploymentGuardrail.canary(instances=1))
    _raises(r"add_variant instance_type='ml.inf1.xlarge'.*ignores the canary guardrail",
            endpoint.add_variant, "Inf", model=_model(stack, "InfModel"), instance_type="ml.inf1.xlarge",
            instance_count=2)
    endpoint.add_variant("Inf2", model=_model(stack, "Inf2Model"), instance_type="ml.inf2.xlarge", instance_count=2)


# --- silent surprises ----------------------------------------------------------------------------------

def test_model_buckets_with_a_supplied_job_role_raise(stack):
    key, bucket = _key_bucket(stack)
    group = ModelPackageGroup(stack, "Group", model_package_group_name="iris")
    role = JobExecutionRole(stack, "JobRole", encryption_key=key)
    _raises(r"model_buckets.*only with the default job role.*grant_read", InstanceRecommender, stack, "R",
            model_package_group=group, encryption_key=key, job_role=role, model_buckets=[bucket])
    InstanceRecommender(stack, "R2", model_package_group=group, encryption_key=key, job_role=role)
    recommender = InstanceRecommender(stack, "R3", model_package_group=group, encryption_key=key, model_buckets=[bucket])
    assert recommender.job_role.node.path.endswith("R3/JobRole")
    assert resources(template_of(stack), "AWS::SageMaker::ModelPackageGroup")
