"""ModelQualityMonitor, ModelBiasMonitor, ModelExplainabilityMonitor: job definitions against
botocore's Create*JobDefinition shapes, secure defaults, schedules, alarms, the retraining
trigger (also on ModelMonitor), the rule pack, and every validation rule."""

from __future__ import annotations

import json

import botocore.session
import pytest
from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from botocore.validate import ParamValidator

from sagemaker_constructs import (
    BiasFacet,
    ModelBiasMonitor,
    ModelExplainabilityMonitor,
    ModelMonitor,
    ModelQualityMonitor,
    ValidationError,
)
from sagemaker_constructs.mlops.monitor import CLARIFY_IMAGE_ACCOUNTS
from sagemaker_constructs.rules.pack import evaluate
from tests.harness.templates import only, resources, template_of
from tests.unit.test_monitoring import (
    ENDPOINT_KEY_ARN,
    FEATURES,
    KEY_READ,
    _setup,
    decrypts,
    imported_capture_endpoint,
    statements_of_role,
)
from tests.unit.test_pipeline_steps import _train
from sagemaker_constructs import Pipeline
from tests.conftest import new_stack

GT = "s3://baseline-bucket/ground-truth"
KINDS = {"ModelQuality": "AWS::SageMaker::ModelQualityJobDefinition",
         "ModelBias": "AWS::SageMaker::ModelBiasJobDefinition",
         "ModelExplainability": "AWS::SageMaker::ModelExplainabilityJobDefinition"}


def _quality(stack, env, **kwargs):
    key, net, bucket, endpoint = env
    kwargs.setdefault("problem_type", "MulticlassClassification")
    kwargs.setdefault("vpc", net.vpc)
    return ModelQualityMonitor(stack, kwargs.pop("id", "Quality"), endpoint=endpoint, ground_truth_uri=GT,
                               output_bucket=bucket, encryption_key=key,
                               constraints_uri="s3://baseline-bucket/mq/constraints.json",
                               inference_attribute="prediction", **kwargs)


def _bias(stack, env, **kwargs):
    key, net, bucket, endpoint = env
    kwargs.setdefault("label", "species")
    kwargs.setdefault("facets", [BiasFacet("sepal_length_cm", [5.0])])
    kwargs.setdefault("label_values", [1])
    kwargs.setdefault("vpc", net.vpc)
    return ModelBiasMonitor(stack, kwargs.pop("id", "Bias"), endpoint=endpoint, ground_truth_uri=GT,
                            output_bucket=bucket, encryption_key=key, **kwargs)


def _explain(stack, env, **kwargs):
    key, net, bucket, endpoint = env
    kwargs.setdefault("model_name", "iris-model")
    kwargs.setdefault("alarm_feature", "petal_width_cm")
    kwargs.setdefault("alarm_threshold", 0.5)
    kwargs.setdefault("vpc", net.vpc)
    return ModelExplainabilityMonitor(stack, kwargs.pop("id", "Explain"), endpoint=endpoint, output_bucket=bucket,
                                      encryption_key=key, **kwargs)


@pytest.fixture
def monitors(stack):
    env = _setup(stack)
    made = {"ModelQuality": _quality(stack, env), "ModelBias": _bias(stack, env),
            "ModelExplainability": _explain(stack, env, shap_baseline=[[5.1, 3.5, 1.4, 0.2]])}
    return made, template_of(stack)


def _concrete(value):
    """Intrinsics as placeholder strings, so botocore checks the structure."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref")):
            return "arn:aws:iam::111122223333:role/placeholder"
        return {k: _concrete(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_concrete(v) for v in value]
    return value


def test_job_definitions_are_valid_requests(monitors):
    _, t = monitors
    model = botocore.session.get_session().get_service_model("sagemaker")
    for kind, cfn_type in KINDS.items():
        props = _concrete(only(t, cfn_type))
        for path in (("NetworkConfig", "VpcConfig", "Subnets"), ("NetworkConfig", "VpcConfig", "SecurityGroupIds")):
            node = props
            for k in path[:-1]:
                node = node[k]
            node[path[-1]] = ["subnet-0abc" if "Subnets" in path else "sg-0abc"] * len(node[path[-1]])
        report = ParamValidator().validate({**props, "JobDefinitionName": "j"},
                                           model.operation_model(f"Create{kind}JobDefinition").input_shape)
        assert not report.has_errors(), f"{kind}: {report.generate_report()}"


def test_secure_defaults(monitors):
    _, t = monitors
    for kind, cfn_type in KINDS.items():
        job = only(t, cfn_type)
        net = job["NetworkConfig"]
        assert net["EnableNetworkIsolation"] is (kind != "ModelExplainability"), kind
        assert net["EnableInterContainerTrafficEncryption"] is True and net["VpcConfig"]["Subnets"]
        assert job["JobResources"]["ClusterConfig"]["VolumeKmsKeyId"]
        output = job[f"{kind}JobOutputConfig"]
        assert output["KmsKeyId"] and output["MonitoringOutputs"][0]["S3Output"]["S3UploadMode"] == "EndOfJob"
        assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    findings = evaluate(t)
    assert not [r for r in findings if "Job" in r], findings


def test_inputs_configs_and_schedules(monitors):
    made, t = monitors
    quality = only(t, KINDS["ModelQuality"])
    assert quality["ModelQualityAppSpecification"]["ProblemType"] == "MulticlassClassification"
    assert quality["ModelQualityJobInput"]["GroundTruthS3Input"] == {"S3Uri": GT}
    endpoint_input = quality["ModelQualityJobInput"]["EndpointInput"]
    assert (endpoint_input["InferenceAttribute"], endpoint_input["StartTimeOffset"], endpoint_input["EndTimeOffset"]) \
        == ("prediction", "-P1D", "-PT0H")
    assert quality["ModelQualityBaselineConfig"]["ConstraintsResource"]["S3Uri"].endswith("constraints.json")
    bias = only(t, KINDS["ModelBias"])
    assert bias["ModelBiasAppSpecification"]["ConfigUri"] and bias["ModelBiasJobInput"]["GroundTruthS3Input"]
    assert made["ModelBias"].analysis_config == {
        "label": "species", "facet": [{"name_or_index": "sepal_length_cm", "value_or_threshold": [5.0]}],
        "label_values_or_threshold": [1], "methods": {"post_training_bias": {"methods": "all"}}}
    explain = made["ModelExplainability"].analysis_config
    assert explain["predictor"]["model_name"] == "iris-model" and explain["methods"]["shap"]["baseline"]
    body = json.dumps(t)
    assert "sagemaker-clarify-processing:1.0" in body and "sagemaker-model-monitor-analyzer" in body
    accounts = [{r: v["account"] for r, v in m.items()} for m in t.get("Mappings", {}).values()]
    assert CLARIFY_IMAGE_ACCOUNTS in accounts
    schedules = {s["MonitoringScheduleConfig"]["MonitoringType"]: s
                 for s in (r["Properties"] for r in resources(t, "AWS::SageMaker::MonitoringSchedule").values())}
    assert set(schedules) == {"ModelQuality", "ModelBias", "ModelExplainability"}
    for s in schedules.values():
        assert s["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"] == "cron(0 0 ? * * *)"
    names = {m.schedule_name for m in made.values()}
    assert len(names) == 3 and all(len(n) <= 63 for n in names if "Token" not in n)


def test_each_monitor_has_an_alarm_on_its_metrics(monitors):
    made, t = monitors
    alarms = resources(t, "AWS::CloudWatch::Alarm")
    assert len(alarms) == 3
    text = {lid: json.dumps(a) for lid, a in alarms.items()}
    quality = next(v for k, v in text.items() if "Quality" in k)
    assert "aws/sagemaker/Endpoints/model-metrics" in quality and '"accuracy"' in quality
    assert "LessThanThreshold" in quality
    bias = next(v for k, v in text.items() if "Bias" in k)
    assert "SELECT MAX(bias_metric_DPPL)" in bias and "aws/sagemaker/Endpoints/bias-metrics" in bias
    explain = next(v for k, v in text.items() if "Explain" in k)
    assert "MAX(feature_petal_width_cm)" in explain and "explainability-metrics" in explain
    for monitor in made.values():
        assert monitor.alarm_topic is not None and monitor.violations_alarm is not None


def test_roles_publish_only_their_namespace_and_explainability_may_run_shadow_endpoints(monitors):
    _, t = monitors
    statements = [s for r in {**resources(t, "AWS::IAM::Policy"), **resources(t, "AWS::IAM::ManagedPolicy")}.values()
                  for s in r["Properties"]["PolicyDocument"]["Statement"]]
    namespaces = {s["Condition"]["StringEquals"]["cloudwatch:namespace"] for s in statements
                  if s.get("Action") == "cloudwatch:PutMetricData" and "Condition" in s
                  and "cloudwatch:namespace" in s["Condition"].get("StringEquals", {})}
    assert {"aws/sagemaker/Endpoints/model-metrics", "aws/sagemaker/Endpoints/bias-metrics",
            "aws/sagemaker/Endpoints/explainability-metrics"} <= namespaces
    endpoint_actions = [s for s in statements if "sagemaker:CreateEndpoint" in json.dumps(s.get("Action"))]
    assert len(endpoint_actions) == 1


def test_retraining_trigger_starts_only_that_pipeline(stack):
    env = _setup(stack)
    key, net, bucket, endpoint = env
    pipeline = Pipeline(stack, "Retrain", steps=[_train()], encryption_key=key, vpc=net.vpc)
    quality = _quality(stack, env)
    quality.on_violation_start(pipeline, parameters={"InputDataUrl": "s3://b/new/"})
    drift = ModelMonitor(stack, "Drift", endpoint=endpoint, baseline_uri="s3://baseline-bucket/iris",
                         output_bucket=bucket, encryption_key=key, vpc=net.vpc, features=FEATURES)
    drift.on_violation_start(pipeline)
    t = template_of(stack)
    rules = resources(t, "AWS::Events::Rule")
    assert len(rules) == 2
    for rule in rules.values():
        p = rule["Properties"]
        assert p["EventPattern"]["detail-type"] == ["CloudWatch Alarm State Change"]
        assert p["EventPattern"]["detail"] == {"state": {"value": ["ALARM"]}}
        assert p["EventPattern"]["resources"][0]["Fn::GetAtt"][1] == "Arn"
        assert p["Targets"][0]["RetryPolicy"]["MaximumEventAgeInSeconds"] == 86400
    with_params = [r["Properties"]["Targets"][0] for r in rules.values()
                   if "SageMakerPipelineParameters" in r["Properties"]["Targets"][0]]
    assert with_params[0]["SageMakerPipelineParameters"]["PipelineParameterList"] == [
        {"Name": "InputDataUrl", "Value": "s3://b/new/"}]
    policies = [p for lid, p in resources(t, "AWS::IAM::ManagedPolicy").items() if "RetrainOnViolation" in lid]
    assert len(policies) == 2
    for policy in policies:
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Action"] == "sagemaker:StartPipelineExecution"
        assert "pipeline/" in json.dumps(statement["Resource"])
    trust = [r for lid, r in resources(t, "AWS::IAM::Role").items() if "RetrainOnViolation" in lid]
    assert all(r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
               == {"Service": "events.amazonaws.com"} for r in trust)


def test_retraining_trigger_validation(stack):
    env = _setup(stack)
    quality = _quality(stack, env)
    with pytest.raises(ValidationError, match="pipeline"):
        quality.on_violation_start("my-pipeline")  # type: ignore[arg-type]
    key, net, _, _ = env
    pipeline = Pipeline(stack, "Retrain", steps=[_train()], encryption_key=key, vpc=net.vpc)
    with pytest.raises(ValidationError, match="parameters"):
        quality.on_violation_start(pipeline, parameters={"bad name": "x"})



@pytest.mark.parametrize("parameters, match", [
    ({"Input_Data": "s3://b/new/"}, "no '_'"),      # SageMaker takes it; an EventBridge rule target refuses it
    ({"-InputDataUrl": "s3://b/new/"}, "no '_'"),
    ({"InputDataURL": "s3://b/new/"}, "a parameter the pipeline declares"),  # a typo: silently never used
    ({"InputDataUrl": 7}, "a string"),
])
def test_retraining_parameters_are_ones_eventbridge_and_the_pipeline_take(stack, parameters, match):
    """Names were checked against SageMaker's pattern, not EventBridge's (botocore events
    SageMakerPipelineParameterName: ^[a-zA-Z0-9](-*[a-zA-Z0-9])*$), so PutTargets failed the deployment;
    and a name the pipeline does not declare was accepted and never reached a step."""
    env = _setup(stack)
    key, net, _, _ = env
    pipeline = Pipeline(stack, "Retrain", steps=[_train()], encryption_key=key, vpc=net.vpc)
    quality = _quality(stack, env)
    with pytest.raises(ValidationError, match=match):
        quality.on_violation_start(pipeline, parameters=parameters)


@pytest.mark.parametrize("factory, kwargs, match", [
    (_quality, {"problem_type": "Ranking"}, "problem_type"),
    (_quality, {"alarm_metric": "loss"}, "alarm_metric"),
    (_quality, {"problem_type": "Regression"}, "alarm_threshold"),
    (_quality, {"start_time_offset": "P1D"}, "start_time_offset"),
    (_quality, {"probability_threshold_attribute": 0.5}, "probability_threshold_attribute"),
    (_quality, {"schedule_expression": "rate(1 hour)"}, "schedule_expression"),
    (_quality, {"max_runtime": Duration.hours(25)}, "max_runtime"),
    (_quality, {"instance_type": "ml.m5.xlage"}, "instance_type"),
    (_bias, {"facets": []}, "facets"),
    (_bias, {"label_values": []}, "label_values"),
    (_bias, {"label": ""}, "label"),
    (_bias, {"alarm_metric": "XYZ"}, "alarm_metric"),
    (_bias, {"headers": ["a", "b"]}, "label"),
    (_bias, {"probability_threshold_attribute": 2}, "probability_threshold_attribute"),
    (_explain, {"model_name": "bad name"}, "model_name"),
    (_explain, {"alarm_feature": "has space"}, "alarm_feature"),
    (_explain, {"headers": ["a"]}, "alarm_feature"),
    (_explain, {"shap_baseline": "local.csv"}, "shap_baseline"),
    (_explain, {"shap_num_samples": 0}, "shap_num_samples"),
    (_explain, {"shap_agg_method": "max"}, "shap_agg_method"),
    (_explain, {"model_instance_type": "ml.m5.xlage"}, "model_instance_type"),
], ids=lambda v: v.__name__ if callable(v) else None)
def test_validation(stack, factory, kwargs, match):
    env = _setup(stack)
    with pytest.raises(ValidationError, match=match):
        factory(stack, env, **kwargs)


def test_endpoint_without_capture_and_ground_truth_uri_are_refused(stack):
    key, net, bucket, endpoint = _setup(stack)
    with pytest.raises(ValidationError, match="ground_truth_uri"):
        ModelQualityMonitor(stack, "Q", endpoint=endpoint, ground_truth_uri="/local", output_bucket=bucket,
                            encryption_key=key, problem_type="Regression", alarm_threshold=1.0)
    with pytest.raises(ValidationError, match="endpoint"):
        ModelBiasMonitor(stack, "B", endpoint="name", ground_truth_uri=GT, output_bucket=bucket,  # type: ignore
                         encryption_key=key, label="y", facets=[BiasFacet("a")], label_values=[1])
    other = new_stack()
    k2, _, b2, uncaptured = _setup(other, capture=False)
    with pytest.raises(ValidationError, match="data_capture"):
        ModelQualityMonitor(other, "Q", endpoint=uncaptured, ground_truth_uri=GT, output_bucket=b2,
                            encryption_key=k2, problem_type="Regression", alarm_threshold=1.0)


@pytest.mark.parametrize("factory", [_quality, _bias, _explain], ids=lambda f: f.__name__)
@pytest.mark.parametrize("supplied", [False, True], ids=["default-role", "supplied-role"])
def test_roles_may_decrypt_captures_encrypted_with_the_endpoints_key(stack, factory, supplied):
    key, net, bucket, _ = _setup(stack)
    endpoint = imported_capture_endpoint(stack)
    role = iam.Role(stack, "TeamRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")) if supplied else None
    monitor = factory(stack, (key, net, bucket, endpoint), role=role)
    statements = statements_of_role(template_of(stack), monitor.role)
    assert decrypts(statements, ENDPOINT_KEY_ARN)
    assert [s for s in statements if s["Resource"] == ENDPOINT_KEY_ARN] == [
        {"Effect": "Allow", "Action": KEY_READ, "Resource": ENDPOINT_KEY_ARN}]


def test_no_second_key_statement_when_the_captures_use_the_monitors_key(monitors):
    made, t = monitors  # the endpoint's captures are encrypted with the platform key, which every role uses
    for monitor in made.values():
        assert not [s for s in statements_of_role(t, monitor.role) if s["Action"] == KEY_READ]


@pytest.mark.parametrize("factory", [_quality, _bias, _explain], ids=lambda f: f.__name__)
@pytest.mark.parametrize("argument", ["subnets", "endpoint_security_group"])
def test_network_settings_without_vpc_are_refused(stack, factory, argument):
    env = _setup(stack)
    _, net, _, _ = env
    value = (list(net.vpc.isolated_subnets) if argument == "subnets"
             else ec2.SecurityGroup.from_security_group_id(stack, "EndpointsSg", "sg-0123456789abcdef0"))
    with pytest.raises(ValidationError, match=f"{argument}.*pass vpc= together with {argument}"):
        factory(stack, env, vpc=None, **{argument: value})


@pytest.mark.parametrize("kind", ["DataQuality", "ModelQuality", "ModelBias", "ModelExplainability"])
def test_max_runtime_from_a_parameter_is_a_reference(stack, kind):
    """max_runtime=Duration.seconds(<CfnParameter>) is referenced as MaxRuntimeInSeconds."""
    import aws_cdk as cdk
    env = _setup(stack)
    runtime = Duration.seconds(cdk.CfnParameter(stack, "MaxRuntime", type="Number").value_as_number)
    if kind == "DataQuality":
        key, net, bucket, endpoint = env
        ModelMonitor(stack, "Monitor", endpoint=endpoint, baseline_uri="s3://baseline-bucket/iris",
                     output_bucket=bucket, encryption_key=key, features=FEATURES, max_runtime=runtime)
    else:
        {"ModelQuality": _quality, "ModelBias": _bias, "ModelExplainability": _explain}[kind](
            stack, env, max_runtime=runtime)
    definition = only(template_of(stack), f"AWS::SageMaker::{kind}JobDefinition")
    assert definition["StoppingCondition"] == {"MaxRuntimeInSeconds": {"Ref": "MaxRuntime"}}


def test_max_runtime_parameter_in_hours_is_refused_by_name(stack):
    """Duration.hours(<CfnParameter>): CDK cannot convert it to seconds and raised its own RuntimeError
    from deep inside the job definition; it is a ValidationError naming max_runtime."""
    import aws_cdk as cdk
    env = _setup(stack)
    runtime = Duration.hours(cdk.CfnParameter(stack, "MaxRuntime", type="Number").value_as_number)
    with pytest.raises(ValidationError, match="max_runtime"):
        _quality(stack, env, max_runtime=runtime)
