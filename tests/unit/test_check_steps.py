"""QualityCheckStep and ClarifyCheckStep: Arguments against botocore's CreateProcessingJob, the
step keys the SageMaker Python SDK renders, the published schema's step types, secure defaults,
the analysis configuration, the role's grants and every validation rule."""

from __future__ import annotations

import json

import botocore.session
import jsonschema
import pytest
from aws_cdk import Duration, Stack
from botocore.validate import ParamValidator

from sagemaker_constructs import (
    BiasFacet,
    ClarifyCheckStep,
    ContainerImage,
    CreateModelStep,
    Execution,
    Parameter,
    Pipeline,
    QualityCheckStep,
    ValidationError,
    s3_uri,
)
from sagemaker_constructs.mlops.monitor import ANALYZER_IMAGE_ACCOUNTS, CLARIFY_IMAGE_ACCOUNTS
from sagemaker_constructs.rules.pipeline_jobs_hardened import pipeline_jobs_hardened
from tests.harness.templates import only, resources, template_of
from tests.unit.test_pipeline_steps import IMG, OUT, _base, _concrete
from tests.unit.test_pipelines import SCHEMA, _definition, _placeholders, _steps

SCHEMAS = {"QualityCheck": "QualityCheckStep", "ClarifyCheck": "ClarifyCheckStep"}
STEP_KEYS = {"Name", "Type", "Arguments", "DependsOn", "DisplayName", "Description", "CheckType",
             "ModelPackageGroupName", "SkipCheck", "RegisterNewBaseline", "SuppliedBaselineStatistics",
             "SuppliedBaselineConstraints", "ModelName"}


def _pipeline(stack):
    key, vpc, bucket, group = _base(stack)
    data = QualityCheckStep("DataQuality", baseline_dataset=Parameter.string("BaselineData", "s3://bucket/base/"),
                            output_uri=s3_uri(OUT, Execution.ID, "dq"), model_package_group=group,
                            skip_check=Parameter.boolean("SkipCheck", False), register_new_baseline=True)
    quality = QualityCheckStep("ModelQuality", check_type="MODEL_QUALITY", baseline_dataset="s3://bucket/pred/",
                               output_uri=s3_uri(OUT, Execution.ID, "mq"), problem_type="BinaryClassification",
                               inference_attribute="prediction", probability_attribute="probability",
                               ground_truth_attribute="label", probability_threshold_attribute=0.5,
                               dataset_format="json", supplied_baseline_statistics="s3://bucket/b/statistics.json",
                               supplied_baseline_constraints="s3://bucket/b/constraints.json")
    bias = ClarifyCheckStep("DataBias", dataset_uri="s3://bucket/train.csv", output_uri=s3_uri(OUT, Execution.ID, "db"),
                            label="target", headers=["target", "age", "income"], facets=[BiasFacet("age", [40])],
                            label_values=[1], methods=["CI", "DPL"], model_package_group=group)
    model = CreateModelStep("CreateModel", image=IMG, model_data="s3://bucket/model.tar.gz")
    model_bias = ClarifyCheckStep("ModelBias", check_type="MODEL_BIAS", dataset_uri="s3://bucket/train.csv",
                                  output_uri=s3_uri(OUT, Execution.ID, "mb"), label="target",
                                  facets=[BiasFacet("age", [40])], label_values=[1], model_name=model.model_name,
                                  probability_threshold=0.6, probability=0, skip_check=True)
    explain = ClarifyCheckStep("Explain", check_type="MODEL_EXPLAINABILITY", dataset_uri="s3://bucket/train.csv",
                               output_uri=s3_uri(OUT, Execution.ID, "ex"), label="target",
                               model_name=model.model_name, shap_baseline=[[35, 50000]], shap_num_samples=50,
                               supplied_baseline_constraints="s3://bucket/ex/analysis.json",
                               max_runtime=Duration.minutes(30))
    steps = [data, quality, bias, model, model_bias, explain]
    pipeline = Pipeline(stack, "Checks", steps=steps, encryption_key=key, vpc=vpc, data_bucket=bucket)
    return pipeline, {s.name: s for s in steps}


@pytest.fixture
def checks(stack):
    pipeline, steps = _pipeline(stack)
    return pipeline, steps, _definition(stack)


def test_arguments_are_create_processing_job_requests_and_match_the_schema(checks):
    _, _, definition = checks
    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.operation_model("CreateProcessingJob").input_shape
    seen = set()
    for step in _steps(definition).values():
        if step["Type"] not in SCHEMAS:
            continue
        seen.add(step["Type"])
        report = ParamValidator().validate({**_concrete(step["Arguments"]), "ProcessingJobName": "p"}, shape)
        assert not report.has_errors(), f"{step['Name']}: {report.generate_report()}"
        jsonschema.validate(_placeholders(step, "s3://bucket/placeholder"),
                            {"definitions": SCHEMA["definitions"], "$ref": f"#/definitions/{SCHEMAS[step['Type']]}"})
        assert set(step) <= STEP_KEYS
    assert seen == set(SCHEMAS)


def test_step_keys_as_the_sdk_renders_them(checks):
    _, _, definition = checks
    s = _steps(definition)
    assert s["DataQuality"]["CheckType"] == "DATA_QUALITY"
    assert s["DataQuality"]["ModelPackageGroupName"] == "churn"
    assert s["DataQuality"]["SkipCheck"] == {"Get": "Parameters.SkipCheck"}
    assert s["DataQuality"]["RegisterNewBaseline"] is True
    assert s["ModelQuality"]["CheckType"] == "MODEL_QUALITY" and "ModelPackageGroupName" not in s["ModelQuality"]
    assert s["ModelQuality"]["SuppliedBaselineStatistics"] == "s3://bucket/b/statistics.json"
    assert s["ModelQuality"]["SuppliedBaselineConstraints"] == "s3://bucket/b/constraints.json"
    assert s["DataBias"]["CheckType"] == "DATA_BIAS" and "ModelName" not in s["DataBias"]
    assert s["ModelBias"]["CheckType"] == "MODEL_BIAS"
    assert s["ModelBias"]["ModelName"] == {"Get": "Steps.CreateModel.ModelName"}
    assert s["Explain"]["CheckType"] == "MODEL_EXPLAINABILITY"
    assert s["Explain"]["SkipCheck"] is False and s["Explain"]["RegisterNewBaseline"] is False


def test_secure_defaults_and_network_isolation_per_check(checks):
    _, _, definition = checks
    for name, isolated in (("DataQuality", True), ("ModelQuality", True), ("DataBias", False),
                           ("ModelBias", False), ("Explain", False)):
        a = _steps(definition)[name]["Arguments"]
        net = a["NetworkConfig"]
        assert net["EnableNetworkIsolation"] is isolated, name
        assert net["EnableInterContainerTrafficEncryption"] is True
        assert net["VpcConfig"]["Subnets"] and net["VpcConfig"]["SecurityGroupIds"]
        assert a["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == "TOKEN"
        assert a["ProcessingOutputConfig"]["KmsKeyId"] == "TOKEN"
        assert a["StoppingCondition"]["MaxRuntimeInSeconds"] == (1800 if name == "Explain" else 3600)
        assert a["RoleArn"] == "TOKEN" and "ContainerEntrypoint" not in a["AppSpecification"]
    assert pipeline_jobs_hardened({"Properties": only(template_of(Stack.of(checks[0])), "AWS::SageMaker::Pipeline")}).value \
        == "compliant"


def test_quality_check_environment_and_io(checks):
    _, _, definition = checks
    s = _steps(definition)
    env = s["DataQuality"]["Arguments"]["Environment"]
    assert json.loads(env["dataset_format"]) == {"csv": {"header": True, "output_columns_position": "START"}}
    assert env["dataset_source"] == "/opt/ml/processing/input/baseline_dataset_input"
    assert env["output_path"] == "/opt/ml/processing/output" and env["publish_cloudwatch_metrics"] == "Disabled"
    assert "analysis_type" not in env
    inputs = s["DataQuality"]["Arguments"]["ProcessingInputs"]
    assert [(i["InputName"], i["S3Input"]["S3Uri"]) for i in inputs] == [
        ("baseline_dataset_input", {"Get": "Parameters.BaselineData"})]
    outputs = s["DataQuality"]["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    assert outputs[0]["OutputName"] == "quality_check_output"
    env = s["ModelQuality"]["Arguments"]["Environment"]
    assert json.loads(env["dataset_format"]) == {"json": {"lines": True}}
    assert (env["analysis_type"], env["problem_type"], env["ground_truth_attribute"], env["inference_attribute"],
            env["probability_attribute"], env["probability_threshold_attribute"]) == (
        "MODEL_QUALITY", "BinaryClassification", "label", "prediction", "probability", "0.5")


def test_images_are_the_regional_analyzer_and_clarify_images(checks):
    pipeline, _, definition = checks
    template = template_of(Stack.of(pipeline))
    s = _steps(definition)
    body = json.dumps(only(template, "AWS::SageMaker::Pipeline"))
    assert "sagemaker-model-monitor-analyzer" in body and "sagemaker-clarify-processing:1.0" in body
    mappings = template.get("Mappings", {})
    accounts = [{r: v["account"] for r, v in m.items()} for m in mappings.values()]
    assert ANALYZER_IMAGE_ACCOUNTS in accounts and CLARIFY_IMAGE_ACCOUNTS in accounts
    assert s["DataBias"]["Arguments"]["AppSpecification"]["ImageUri"].endswith("/sagemaker-clarify-processing:1.0")
    assert s["DataQuality"]["Arguments"]["AppSpecification"]["ImageUri"].endswith("/sagemaker-model-monitor-analyzer")


def test_clarify_analysis_configuration(checks):
    _, steps, definition = checks
    config = steps["DataBias"].analysis_config
    assert config == {
        "dataset_type": "text/csv", "headers": ["target", "age", "income"], "label": "target",
        "label_values_or_threshold": [1], "facet": [{"name_or_index": "age", "value_or_threshold": [40]}],
        "methods": {"pre_training_bias": {"methods": ["CI", "DPL"]},
                    "report": {"name": "report", "title": "Analysis Report"}},
    }
    model_bias = steps["ModelBias"].analysis_config
    assert model_bias["methods"]["post_training_bias"] == {"methods": "all"}
    assert model_bias["predictor"] == {"instance_type": "ml.m5.large", "initial_instance_count": 1,
                                       "content_type": "text/csv", "accept_type": "text/csv", "probability": 0}
    assert model_bias["probability_threshold"] == 0.6 and "model_name" not in model_bias["predictor"]
    shap = steps["Explain"].analysis_config["methods"]["shap"]
    assert shap == {"baseline": [[35, 50000]], "num_samples": 50, "agg_method": "mean_abs", "use_logit": False,
                    "save_local_shap_values": True}
    inputs = _steps(definition)["DataBias"]["Arguments"]["ProcessingInputs"]
    assert [(i["InputName"], i["S3Input"]["LocalPath"]) for i in inputs] == [
        ("analysis_config", "/opt/ml/processing/input/config"), ("dataset", "/opt/ml/processing/input/data")]
    assert _steps(definition)["DataBias"]["Arguments"]["ProcessingOutputConfig"]["Outputs"][0]["OutputName"] \
        == "analysis_result"


def test_dependencies_follow_from_the_model_name(checks):
    pipeline, steps, _ = checks
    assert pipeline.dependencies_of(steps["ModelBias"]) == [steps["CreateModel"]]
    assert pipeline.dependencies_of(steps["DataBias"]) == []


def test_role_reads_the_group_and_may_run_clarify_shadow_endpoints(checks):
    pipeline, _, _ = checks
    statements = [s for r in resources(template_of(Stack.of(pipeline)), "AWS::IAM::Policy").values()
                  for s in r["Properties"]["PolicyDocument"]["Statement"]]
    statements += [s for r in resources(template_of(Stack.of(pipeline)), "AWS::IAM::ManagedPolicy").values()
                   for s in r["Properties"]["PolicyDocument"]["Statement"]]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {"sagemaker:CreateEndpoint", "sagemaker:InvokeEndpoint", "sagemaker:DeleteEndpoint",
            "sagemaker:CreateProcessingJob", "sagemaker:DescribeModelPackage"} <= actions


def test_data_bias_only_pipeline_does_not_get_endpoint_permissions(stack):
    key, vpc, bucket, group = _base(stack)
    Pipeline(stack, "P", encryption_key=key, vpc=vpc, steps=[ClarifyCheckStep(
        "Bias", dataset_uri="s3://b/d.csv", output_uri="s3://b/out", label="y", facets=[BiasFacet("age")],
        label_values=[1], skip_check=True)])
    text = json.dumps(template_of(stack))
    assert "sagemaker:CreateEndpoint\"" not in text and "sagemaker:InvokeEndpoint" not in text


def _quality(**kwargs):
    kwargs.setdefault("baseline_dataset", "s3://b/base/")
    kwargs.setdefault("output_uri", "s3://b/out")
    kwargs.setdefault("skip_check", True)
    return QualityCheckStep("Q", **kwargs)


@pytest.mark.parametrize("kwargs, match", [
    ({"check_type": "BIAS"}, "check_type"),
    ({"baseline_dataset": "not-s3"}, "baseline_dataset"),
    ({"output_uri": 5}, "output_uri"),
    ({"dataset_format": "xml"}, "dataset_format"),
    ({"dataset_format": "json", "header": False}, "header"),
    ({"problem_type": "Regression"}, "problem_type"),
    ({"ground_truth_attribute": "label"}, "ground_truth_attribute"),
    ({"check_type": "MODEL_QUALITY", "ground_truth_attribute": "y", "inference_attribute": "p"}, "problem_type"),
    ({"check_type": "MODEL_QUALITY", "problem_type": "Regression", "inference_attribute": "p"},
     "ground_truth_attribute"),
    ({"check_type": "MODEL_QUALITY", "problem_type": "Regression", "ground_truth_attribute": "y"},
     "inference_attribute"),
    ({"check_type": "MODEL_QUALITY", "problem_type": "BinaryClassification", "ground_truth_attribute": "y",
      "probability_attribute": "p", "probability_threshold_attribute": 1.5}, "probability_threshold_attribute"),
    ({"check_type": "MODEL_QUALITY", "problem_type": "Regression", "ground_truth_attribute": "y",
      "inference_attribute": "p", "probability_threshold_attribute": 0.5}, "probability_threshold_attribute"),
    ({"skip_check": "yes"}, "skip_check"),
    ({"register_new_baseline": 1}, "register_new_baseline"),
    ({"skip_check": False}, "model_package_group"),
    ({"model_package_group": "churn"}, "model_package_group"),
    ({"supplied_baseline_statistics": "file.json"}, "supplied_baseline_statistics"),
    ({"instance_type": "ml.m5.xlage"}, "instance_type"),
    ({"instance_count": 0}, "instance_count"),
    ({"volume_size_gb": 0}, "volume_size_gb"),
    ({"max_runtime": Duration.days(8)}, "max_runtime"),
    ({"skip_check": Parameter.string("S")}, "skip_check"),
])
def test_quality_check_validation(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        _quality(**kwargs)


def _clarify(**kwargs):
    kwargs.setdefault("dataset_uri", "s3://b/d.csv")
    kwargs.setdefault("output_uri", "s3://b/out")
    kwargs.setdefault("skip_check", True)
    if kwargs.get("check_type", "DATA_BIAS") != "MODEL_EXPLAINABILITY":
        kwargs.setdefault("label", "y")
        kwargs.setdefault("facets", [BiasFacet("age", [40])])
        kwargs.setdefault("label_values", [1])
    return ClarifyCheckStep("C", **kwargs)


@pytest.mark.parametrize("kwargs, match", [
    ({"check_type": "DATA_QUALITY"}, "check_type"),
    ({"dataset_uri": "/local"}, "dataset_uri"),
    ({"dataset_type": "text/xml"}, "dataset_type"),
    ({"label": None}, "label"),
    ({"facets": []}, "facets"),
    ({"facets": ["age"]}, "facets"),
    ({"label_values": []}, "label_values"),
    ({"headers": ["y", "y"]}, "headers"),
    ({"headers": ["y", "income"]}, "facets"),
    ({"headers": ["age", "income"]}, "label"),
    ({"methods": ["DPPL"]}, "methods"),
    ({"methods": "CI"}, "methods"),
    ({"methods": []}, "methods"),
    ({"check_type": "MODEL_BIAS", "methods": ["CI"], "model_name": "m"}, "methods"),
    ({"check_type": "MODEL_BIAS"}, "model_name"),
    ({"model_name": "m"}, "model_name"),
    ({"check_type": "MODEL_BIAS", "model_name": "bad name"}, "model_name"),
    ({"check_type": "MODEL_BIAS", "model_name": "m", "probability_threshold": 2}, "probability_threshold"),
    ({"probability_threshold": 0.5}, "probability_threshold"),
    ({"check_type": "MODEL_BIAS", "model_name": "m", "model_instance_type": "ml.m5.xlage"}, "model_instance_type"),
    ({"check_type": "MODEL_BIAS", "model_name": "m", "model_instance_count": 0}, "model_instance_count"),
    ({"shap_baseline": [[1]]}, "shap_baseline"),
    ({"check_type": "MODEL_EXPLAINABILITY", "model_name": "m", "shap_baseline": "baseline.csv"}, "shap_baseline"),
    ({"check_type": "MODEL_EXPLAINABILITY", "model_name": "m", "shap_num_samples": 0}, "shap_num_samples"),
    ({"check_type": "MODEL_EXPLAINABILITY", "model_name": "m", "shap_agg_method": "max"}, "shap_agg_method"),
    ({"check_type": "MODEL_EXPLAINABILITY", "model_name": "m", "facets": [BiasFacet("age")]}, "facets"),
    ({"check_type": "MODEL_EXPLAINABILITY", "model_name": "m", "methods": ["CI"]}, "methods"),
    ({"check_type": "MODEL_EXPLAINABILITY", "model_name": "m", "skip_check": False}, "model_package_group"),
    ({"content_type": ""}, "content_type"),
])
def test_clarify_check_validation(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        _clarify(**kwargs)


def test_bias_facet_validation():
    with pytest.raises(ValidationError, match="name"):
        BiasFacet("")
    with pytest.raises(ValidationError, match="values"):
        BiasFacet("age", [True])


def test_a_model_artifact_is_not_a_model_name(stack):
    model = CreateModelStep("M", image=ContainerImage.from_uri("1.dkr.ecr.us-east-1.amazonaws.com/x:1"),
                            model_data="s3://b/model.tar.gz")
    from sagemaker_constructs import TrainingStep

    train = TrainingStep("T", image=IMG, inputs={"train": "s3://b/t/"}, output_uri="s3://b/o")
    with pytest.raises(ValidationError, match="model_name"):
        _clarify(check_type="MODEL_BIAS", model_name=train.model_artifacts)
    assert _clarify(check_type="MODEL_BIAS", model_name=model.model_name).model_name.render() == {
        "Get": "Steps.M.ModelName"}


@pytest.mark.parametrize("step, expected", [
    ({"Type": "QualityCheck", "Arguments": {"NetworkConfig": {"EnableNetworkIsolation": True, "VpcConfig": {"S": 1}},
                                            "ProcessingResources": {"ClusterConfig": {"VolumeKmsKeyId": "k"}}}},
     "compliant"),
    ({"Type": "QualityCheck", "Arguments": {"NetworkConfig": {"EnableNetworkIsolation": False, "VpcConfig": {"S": 1}},
                                            "ProcessingResources": {"ClusterConfig": {"VolumeKmsKeyId": "k"}}}},
     "non-compliant"),
    ({"Type": "ClarifyCheck", "Arguments": {
        "NetworkConfig": {"EnableNetworkIsolation": False, "EnableInterContainerTrafficEncryption": True,
                          "VpcConfig": {"S": 1}},
        "ProcessingResources": {"ClusterConfig": {"VolumeKmsKeyId": "k"}},
        "ProcessingOutputConfig": {"KmsKeyId": "k"}}}, "compliant"),
    ({"Type": "ClarifyCheck", "Arguments": {
        "NetworkConfig": {"EnableNetworkIsolation": False, "EnableInterContainerTrafficEncryption": True},
        "ProcessingResources": {"ClusterConfig": {"VolumeKmsKeyId": "k"}},
        "ProcessingOutputConfig": {"KmsKeyId": "k"}}}, "non-compliant"),
    ({"Type": "ClarifyCheck", "Arguments": {
        "NetworkConfig": {"EnableInterContainerTrafficEncryption": True, "VpcConfig": {"S": 1}},
        "ProcessingResources": {"ClusterConfig": {"VolumeKmsKeyId": "k"}}, "ProcessingOutputConfig": {}}},
     "non-compliant"),
], ids=["quality-ok", "quality-not-isolated", "clarify-ok", "clarify-no-vpc", "clarify-no-output-key"])
def test_pipeline_rule_on_check_steps(step, expected):
    body = json.dumps({"Version": "2020-12-01", "Steps": [{"Name": "S", **step}]})
    resource = {"Properties": {"PipelineDefinition": {"PipelineDefinitionBody": body}}}
    assert pipeline_jobs_hardened(resource).value == expected


def test_temporary_images_never_share_a_bound_uri():
    """Regression: the bind cache was keyed by id() alone, so a garbage-collected temporary image's
    id could be reused by the next one, which then got the first image's URI."""
    import gc

    from aws_cdk import aws_iam as iam

    from sagemaker_constructs import ContainerImage
    from sagemaker_constructs.mlops.pipeline import _BindContext
    from tests.conftest import new_stack

    stack = new_stack()
    role = iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    ctx = _BindContext(stack, role, None)  # type: ignore[arg-type]
    import weakref

    uris, alive = [], []
    for repository in ("repo-a", "repo-b", "repo-c", "repo-d"):
        image = ContainerImage.from_regional_registry({"us-east-1": "111111111111"}, repository)
        uris.append(ctx.image_uri(image))
        alive.append(weakref.ref(image))
        del image
        gc.collect()
    # Each bound image stays alive while the pipeline binds, so no id() is reused.
    assert all(ref() is not None for ref in alive)
    assert [u.rsplit("/", 1)[-1] for u in uris] == ["repo-a", "repo-b", "repo-c", "repo-d"]
