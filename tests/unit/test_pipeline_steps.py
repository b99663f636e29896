"""Pipeline of typed steps: every step's Arguments against botocore's request shape (and the
published definition schema where it has the step), secure defaults per job type, references and
dependency inference, the role's permissions per step type, and every validation rule."""

from __future__ import annotations

import json

import botocore.session
import jsonschema
import pytest
from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from botocore.validate import ParamValidator

from sagemaker_constructs import (
    AutoMLStep,
    CategoricalRange,
    Condition,
    ConditionStep,
    ContainerImage,
    ContinuousRange,
    CreateModelStep,
    Distribution,
    Execution,
    FailStep,
    InstanceGroup,
    InstanceRecommendation,
    IntegerRange,
    IsolatedNetwork,
    JobExecutionRole,
    LambdaStep,
    ModelPackageGroup,
    Parameter,
    Pipeline,
    PlatformKey,
    ProcessingInput,
    ProcessingOutput,
    ProcessingStep,
    RegisterModelStep,
    SecureBucket,
    TrainingStep,
    TransformStep,
    TuningStep,
    ValidationError,
    s3_uri,
)
from sagemaker_constructs.rules.pipeline_jobs_hardened import pipeline_jobs_hardened
from tests.harness.templates import only, resources, template_of
from tests.unit.test_pipelines import IMAGE, SCHEMA, TRAINING, _definition, _placeholders, _steps

KMS = "arn:aws:kms:us-east-1:111122223333:key/k"
REQUESTS = {
    "Training": ("CreateTrainingJob", {"TrainingJobName": "t"}),
    "Processing": ("CreateProcessingJob", {"ProcessingJobName": "p"}),
    "Transform": ("CreateTransformJob", {"TransformJobName": "t"}),
    "Tuning": ("CreateHyperParameterTuningJob", {"HyperParameterTuningJobName": "t"}),
    "AutoML": ("CreateAutoMLJob", {"AutoMLJobName": "a"}),
    "Model": ("CreateModel", {"ModelName": "m"}),
    "RegisterModel": ("CreateModelPackage", {}),
}
SCHEMAS = {"Training": "TrainingStep", "Processing": "ProcessingStep", "Transform": "TransformStep",
           "Model": "CreateModelStep", "Lambda": "LambdaStep", "Fail": "FailStep"}
METRICS = {"validation:accuracy": r"accuracy=([0-9\.]+)"}


def _concrete(value):
    """Placeholders of the right type for run-time values (so botocore checks the structure)."""
    value = _placeholders(value, "s3://bucket/placeholder")
    text = json.dumps(value).replace('"TOKEN"', f'"{KMS}"')
    return json.loads(text)


def assert_valid(definition, *, schema=True):
    """botocore's request shape per step; the published schema too unless the step uses settings
    newer than the schema (warm pools, heterogeneous clusters)."""
    model = botocore.session.get_session().get_service_model("sagemaker")
    checked = set()
    for step in _steps(definition).values():
        if step["Type"] in REQUESTS:
            operation, extra = REQUESTS[step["Type"]]
            params = {**_concrete(step["Arguments"]), **extra}
            for path in (("ResourceConfig",), ("TransformResources",), ("TrainingJobDefinition", "ResourceConfig")):
                node = params
                for key in path:
                    node = node.get(key, {}) if isinstance(node, dict) else {}
                if isinstance(node, dict) and node.get("InstanceType", "").startswith("s3://"):
                    node["InstanceType"] = "ml.m5.xlarge"
            for key in ("ModelName",):
                if str(params.get(key, "")).startswith("s3://"):
                    params[key] = "model"
            report = ParamValidator().validate(params, model.operation_model(operation).input_shape)
            assert not report.has_errors(), f"{step['Name']}: {report.generate_report()}"
            checked.add(step["Type"])
        if schema and step["Type"] in SCHEMAS:
            body = {k: v for k, v in step.items() if k != "PropertyFiles"}
            jsonschema.validate(_placeholders(body, "s3://bucket/placeholder"),
                                {"definitions": SCHEMA["definitions"], "$ref": f"#/definitions/{SCHEMAS[step['Type']]}"})
    return checked


def _base(stack):
    key = PlatformKey(stack, "Key")
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="training")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    group = ModelPackageGroup(stack, "Group", model_package_group_name="churn")
    return key, net.vpc, bucket, group


IMG = ContainerImage.from_uri(IMAGE)
OUT = "s3://bucket/out"


def _train(name="Train", **kwargs):
    kwargs.setdefault("inputs", {"train": Parameter.string("InputDataUrl", "s3://bucket/train/")})
    kwargs.setdefault("output_uri", s3_uri(OUT, Execution.ID, "model"))
    kwargs.setdefault("metric_definitions", METRICS)
    return TrainingStep(name, image=IMG, **kwargs)


def _full(stack, function=None):
    key, vpc, bucket, group = _base(stack)
    train = _train(use_spot=True, checkpoint_uri="s3://bucket/ckpt", code=str(TRAINING / "dist" / "sourcedir.tar.gz"),
                   hyperparameters={"max_depth": "5"})
    evaluate = ProcessingStep(
        "Evaluate", image=IMG, code=str(TRAINING / "evaluate.py"),
        inputs=[ProcessingInput("model", train.model_artifacts, "/opt/ml/processing/model")],
        outputs=[ProcessingOutput("evaluation", s3_uri(OUT, Execution.ID, "eval"), "/opt/ml/processing/evaluation")])
    report = evaluate.property_file("EvaluationReport", output_name="evaluation", path="evaluation.json")
    tuning = TuningStep("Tune", training=_train("TuneTemplate"), objective_metric="validation:accuracy",
                        ranges=[IntegerRange("max_depth", 2, 10), ContinuousRange("eta", 0.01, 0.3, "Logarithmic"),
                                CategoricalRange("booster", ["gbtree", "dart"])],
                        strategy="Bayesian", max_jobs=8, max_parallel_jobs=2, early_stopping=True)
    register = RegisterModelStep("Register", model_package_group=group, image=IMG,
                                 model_data=tuning.best_model_artifacts,
                                 recommend_instances=InstanceRecommendation("s3://bucket/payload.tar.gz"))
    model = CreateModelStep("CreateModel", image=IMG, model_data=train.model_artifacts)
    transform = TransformStep("Score", model_name=model.model_name, input_uri="s3://bucket/score/",
                              output_uri=s3_uri(OUT, Execution.ID, "scores"), content_type="text/csv",
                              split_type="Line", batch_strategy="MultiRecord", max_payload_mb=6,
                              input_filter="$[1:]", join_source="Input", output_filter="$[0,-1]")
    automl = AutoMLStep("AutoML", input_uri="s3://bucket/tabular/", output_uri="s3://bucket/automl/",
                        target_column="churn", problem_type="BinaryClassification", objective="F1",
                        max_candidates=10)
    register_automl = RegisterModelStep("RegisterAutoML", model_package_group=group,
                                        image=automl.best_candidate_image, model_data=automl.best_model_artifacts)
    fail = FailStep("TooLow", message="accuracy too low")
    check = ConditionStep("Check", conditions=[Condition.greater_than_or_equal(
        report.json_get("metrics.accuracy.value"), Parameter.float("Threshold", 0.8))],
        if_steps=[register, model, transform], else_steps=[fail])
    steps = [train, evaluate, tuning, check, automl, register_automl]
    if function is not None:
        steps.append(LambdaStep("Notify", function=function, inputs={"model": train.model_artifacts},
                                outputs={"status": "String"}))
    pipeline = Pipeline(stack, "Pipeline", steps=steps, encryption_key=key, vpc=vpc, data_bucket=bucket)
    return pipeline, dict(train=train, evaluate=evaluate, tuning=tuning, check=check, register=register,
                          model=model, transform=transform, automl=automl, register_automl=register_automl)


@pytest.fixture
def full(stack):
    pipeline, steps = _full(stack)
    return pipeline, steps, _definition(stack)


def test_every_step_is_a_valid_request_and_matches_the_schema(full):
    _, _, definition = full
    assert assert_valid(definition) == set(REQUESTS)


def test_job_steps_inherit_the_secure_defaults(full):
    _, _, definition = full
    s = {k: v["Arguments"] for k, v in _steps(definition).items()}
    for name in ("Train",):
        a = s[name]
        assert a["EnableNetworkIsolation"] is True and a["EnableInterContainerTrafficEncryption"] is True
        assert a["VpcConfig"]["Subnets"] and a["VpcConfig"]["SecurityGroupIds"]
        assert a["ResourceConfig"]["VolumeKmsKeyId"] == "TOKEN" and a["OutputDataConfig"]["KmsKeyId"] == "TOKEN"
        assert a["StoppingCondition"]["MaxRuntimeInSeconds"] == 7200
    net = s["Evaluate"]["NetworkConfig"]
    assert net["EnableNetworkIsolation"] is True and net["EnableInterContainerTrafficEncryption"] is True
    assert s["Evaluate"]["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == "TOKEN"
    assert s["Evaluate"]["ProcessingOutputConfig"]["KmsKeyId"] == "TOKEN"
    job = s["Tune"]["TrainingJobDefinition"]
    assert job["EnableNetworkIsolation"] is True and job["EnableInterContainerTrafficEncryption"] is True
    assert job["VpcConfig"]["Subnets"] and job["ResourceConfig"]["VolumeKmsKeyId"] == "TOKEN"
    assert job["OutputDataConfig"]["KmsKeyId"] == "TOKEN" and job["StoppingCondition"]["MaxRuntimeInSeconds"]
    assert s["CreateModel"]["EnableNetworkIsolation"] is True and s["CreateModel"]["VpcConfig"]["Subnets"]
    assert s["Score"]["TransformResources"]["VolumeKmsKeyId"] == "TOKEN"
    assert s["Score"]["TransformOutput"]["KmsKeyId"] == "TOKEN"
    security = s["AutoML"]["AutoMLJobConfig"]["SecurityConfig"]
    assert security["VolumeKmsKeyId"] == "TOKEN" and security["EnableInterContainerTrafficEncryption"] is True
    assert security["VpcConfig"]["Subnets"] and s["AutoML"]["OutputDataConfig"]["KmsKeyId"] == "TOKEN"
    assert s["AutoML"]["AutoMLJobConfig"]["CompletionCriteria"]["MaxAutoMLJobRuntimeInSeconds"] == 14400
    assert s["AutoML"]["AutoMLJobConfig"]["Mode"] == "ENSEMBLING"


def test_references_render_to_get_join_and_json_get(full):
    _, _, definition = full
    s = _steps(definition)
    model_in = s["Evaluate"]["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"]
    assert model_in == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    (cond,) = s["Check"]["Arguments"]["Conditions"]
    assert cond["LeftValue"] == {"Std:JsonGet": {
        "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"}, "Path": "metrics.accuracy.value"}}
    assert cond["RightValue"] == {"Get": "Parameters.Threshold"}
    best = s["Register"]["Arguments"]["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    assert best == {"Std:Join": {"On": "/", "Values": [
        OUT, {"Get": "Execution.PipelineExecutionId"}, "model",
        {"Get": "Steps.Tune.TrainingJobSummaries[0].TrainingJobName"}, "output/model.tar.gz"]}}
    assert s["Score"]["Arguments"]["ModelName"] == {"Get": "Steps.CreateModel.ModelName"}
    automl = s["RegisterAutoML"]["Arguments"]["InferenceSpecification"]["Containers"][0]
    assert automl == {"Image": {"Get": "Steps.AutoML.BestCandidate.InferenceContainers[0].Image"},
                      "ModelDataUrl": {"Get": "Steps.AutoML.BestCandidate.InferenceContainers[0].ModelDataUrl"}}
    assert s["Evaluate"]["PropertyFiles"] == [{"PropertyFileName": "EvaluationReport", "OutputName": "evaluation",
                                              "FilePath": "evaluation.json"}]
    # Referenced parameters are declared even when not listed.
    assert {p["Name"]: p["Type"] for p in definition["Parameters"]} == {"InputDataUrl": "String", "Threshold": "Float"}
    assert [st["Name"] for st in definition["Steps"]] == ["Train", "Evaluate", "Tune", "Check", "AutoML",
                                                          "RegisterAutoML"]


def test_dependencies_follow_from_references_and_depends_on(full):
    pipeline, steps, _ = full
    assert pipeline.dependencies_of(steps["evaluate"]) == [steps["train"]]
    assert pipeline.dependencies_of(steps["check"]) == [steps["evaluate"]]
    assert pipeline.dependencies_of(steps["register"]) == [steps["tuning"]]
    assert pipeline.dependencies_of(steps["transform"]) == [steps["model"]]
    assert pipeline.dependencies_of(steps["train"]) == []


def test_explicit_depends_on_is_rendered(stack):
    key, vpc, _, _ = _base(stack)
    first = _train("First")
    second = _train("Second", depends_on=[first])
    pipeline = Pipeline(stack, "Pipeline", steps=[first, second], encryption_key=key, vpc=vpc)
    assert _steps(_definition(stack))["Second"]["DependsOn"] == ["First"]
    assert pipeline.dependencies_of(second) == [first]


def test_role_may_create_only_the_jobs_of_its_steps(stack):
    key, vpc, bucket, _ = _base(stack)
    Pipeline(stack, "Pipeline", steps=[_train()], encryption_key=key, vpc=vpc, data_bucket=bucket)
    t = template_of(stack)
    docs = json.dumps([s for k, p in resources(t, "AWS::IAM::ManagedPolicy").items() if k.startswith("PipelineRole")
                       for s in p["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"])
    assert "sagemaker:CreateTrainingJob" in docs and "iam:PassRole" in docs
    for absent in ("CreateProcessingJob", "CreateTransformJob", "CreateHyperParameterTuningJob", "CreateModel\"",
                   "CreateAutoMLJob\"", "lambda:InvokeFunction", "CreateModelPackage"):
        assert absent not in docs, absent


def test_role_permissions_for_every_step_type(stack):
    function = lambda_.Function.from_function_arn(stack, "Fn", "arn:aws:lambda:us-east-1:111122223333:function:notify")
    _full(stack, function=function)
    t = template_of(stack)
    statements = [s for k, p in resources(t, "AWS::IAM::ManagedPolicy").items() if k.startswith("PipelineRole")
                  for s in p["Properties"]["PolicyDocument"]["Statement"]]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    for needed in ("sagemaker:CreateTrainingJob", "sagemaker:CreateProcessingJob", "sagemaker:CreateTransformJob",
                   "sagemaker:CreateHyperParameterTuningJob", "sagemaker:CreateModel", "sagemaker:CreateAutoMLJob",
                   "sagemaker:CreateModelPackage", "iam:PassRole", "lambda:InvokeFunction"):
        assert needed in actions, needed
    (invoke,) = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
    assert invoke["Resource"] == "arn:aws:lambda:us-east-1:111122223333:function:notify"
    notify = _steps(_definition(stack))["Notify"]
    assert notify["FunctionArn"] == "arn:aws:lambda:us-east-1:111122223333:function:notify"
    assert notify["Arguments"] == {"model": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}}
    assert notify["OutputParameters"] == [{"OutputName": "status", "OutputType": "String"}]


def test_pipeline_rule_covers_every_job_step_type(full, stack):
    assert pipeline_jobs_hardened({"Properties": only(template_of(stack), "AWS::SageMaker::Pipeline")}).value == \
        "compliant"


def test_supplied_role_gets_the_default_statements(stack):
    key, vpc, bucket, _ = _base(stack)
    role = JobExecutionRole(stack, "Mine", encryption_key=key)
    Pipeline(stack, "Pipeline", steps=[_train()], encryption_key=key, vpc=vpc, data_bucket=bucket, role=role)
    t = template_of(stack)
    docs = json.dumps([p["Properties"] for p in [*resources(t, "AWS::IAM::ManagedPolicy").values(),
                                                  *resources(t, "AWS::IAM::Policy").values()]])
    assert "sagemaker:CreateTrainingJob" in docs
    assert only(t, "AWS::SageMaker::Pipeline")["RoleArn"] == {"Fn::GetAtt": [next(
        k for k in resources(t, "AWS::IAM::Role") if k.startswith("Mine")), "Arn"]}


def _volume_key_guardrail(t):
    (statement,) = [s for k, p in resources(t, "AWS::IAM::ManagedPolicy").items() if k.startswith("PipelineRole")
                    for s in p["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == "DenyMissingVolumeKey"]
    return statement


def test_the_roles_volume_key_guardrail_exempts_the_steps_nvme_instance_types(stack):
    """A step on a type with local NVMe storage leaves VolumeKmsKeyId out (SageMaker rejects it
    there): the pipeline role's own guardrail must not deny that job."""
    key, vpc, bucket, _ = _base(stack)
    tuning = TuningStep("Tune", training=_train("TuneTemplate", instance_type="ml.p4d.24xlarge"),
                        objective_metric="validation:accuracy", ranges=[IntegerRange("max_depth", 2, 8)])
    Pipeline(stack, "Pipeline", steps=[_train(instance_type="ml.g5.xlarge"), tuning,
                                       _train("Cpu", instance_type="ml.m5.xlarge")],
             encryption_key=key, vpc=vpc, data_bucket=bucket)
    t = template_of(stack)
    train = _steps(_definition(stack))["Train"]["Arguments"]["ResourceConfig"]
    assert "VolumeKmsKeyId" not in train
    guardrail = _volume_key_guardrail(t)
    assert guardrail["Condition"]["ForAnyValue:StringNotLike"] == {
        "sagemaker:InstanceTypes": ["ml.g5.xlarge", "ml.p4d.24xlarge"]}
    assert guardrail["Condition"]["Null"] == {"sagemaker:VolumeKmsKey": "true"}


def test_a_parameters_nvme_default_leaves_the_volume_key_out_and_is_exempted(stack):
    """An instance type given as a String parameter runs on its default unless an execution says
    otherwise: on ml.g5 (local NVMe storage) SageMaker refuses VolumeKmsKeyId, so every execution with
    the default failed. The key follows the default, and the role's guardrail exempts it."""
    key, vpc, bucket, _ = _base(stack)
    gpu = Parameter.string("GpuType", "ml.g5.xlarge")
    evaluate = ProcessingStep("Evaluate", image=IMG, entrypoint=["python3"], instance_type=Parameter.string(
        "EvalType", "ml.m5d.large"))
    model = CreateModelStep("Model", image=IMG, model_data="s3://bucket/m/model.tar.gz")
    score = TransformStep("Score", model_name=model.model_name, input_uri="s3://bucket/in/", output_uri=OUT,
                          instance_type=Parameter.string("ScoreType", "ml.g4dn.xlarge"))
    groups = _train("Groups", instance_groups=[InstanceGroup("gpu", gpu, 1), InstanceGroup("cpu", "ml.c5.xlarge", 1)])
    cpu = _train("Cpu", instance_type=Parameter.string("CpuType", "ml.m5.xlarge"))
    Pipeline(stack, "Pipeline", steps=[_train(instance_type=gpu), evaluate, model, score, groups, cpu],
             encryption_key=key, vpc=vpc, data_bucket=bucket)
    steps = _steps(_definition(stack))
    assert "VolumeKmsKeyId" not in steps["Train"]["Arguments"]["ResourceConfig"]
    assert "VolumeKmsKeyId" not in steps["Evaluate"]["Arguments"]["ProcessingResources"]["ClusterConfig"]
    assert "VolumeKmsKeyId" not in steps["Score"]["Arguments"]["TransformResources"]
    assert "VolumeKmsKeyId" not in steps["Groups"]["Arguments"]["ResourceConfig"]
    assert steps["Cpu"]["Arguments"]["ResourceConfig"]["VolumeKmsKeyId"] == "TOKEN"
    assert _volume_key_guardrail(template_of(stack))["Condition"]["ForAnyValue:StringNotLike"] == {
        "sagemaker:InstanceTypes": ["ml.g4dn.xlarge", "ml.g5.xlarge", "ml.m5d.large"]}


def test_the_roles_volume_key_guardrail_has_no_exemption_without_nvme_steps(stack):
    key, vpc, bucket, _ = _base(stack)
    Pipeline(stack, "Pipeline", steps=[_train(instance_type="ml.m5.xlarge")], encryption_key=key, vpc=vpc,
             data_bucket=bucket)
    assert _volume_key_guardrail(template_of(stack))["Condition"] == {"Null": {"sagemaker:VolumeKmsKey": "true"}}


def test_a_supplied_pipeline_role_must_exempt_the_steps_nvme_instance_types(stack):
    key, vpc, bucket, _ = _base(stack)
    strict = JobExecutionRole(stack, "Strict", encryption_key=key, orchestrate_pipelines=True)
    with pytest.raises(ValidationError, match=r"volume_key_exempt_instance_types=\['ml.g5.xlarge'\]"):
        Pipeline(stack, "P1", steps=[_train(instance_type="ml.g5.xlarge")], encryption_key=key, vpc=vpc,
                 data_bucket=bucket, role=strict)
    ready = JobExecutionRole(stack, "Ready", encryption_key=key, orchestrate_pipelines=True,
                             volume_key_exempt_instance_types=["ml.g5.*"])
    Pipeline(stack, "P2", steps=[_train(instance_type="ml.g5.xlarge")], encryption_key=key, vpc=vpc,
             data_bucket=bucket, role=ready)
    plain = JobExecutionRole(stack, "Plain", encryption_key=key)  # no guardrails of its own: gets the pipeline's
    Pipeline(stack, "P3", steps=[_train(instance_type="ml.g5.xlarge")], encryption_key=key, vpc=vpc,
             data_bucket=bucket, role=plain)


def test_job_execution_role_refuses_an_exemption_that_is_not_an_instance_type(stack):
    with pytest.raises(ValidationError, match="volume_key_exempt_instance_types"):
        JobExecutionRole(stack, "R", encryption_key=PlatformKey(stack, "Key"), orchestrate_pipelines=True,
                         volume_key_exempt_instance_types=["g5.xlarge"])


@pytest.mark.parametrize("account, expected", [
    (None, "central-models"),  # the pipeline's own account: the name
    ("222222222222", ":222222222222:model-package-group/central-models"),
])
def test_register_step_names_a_group_of_another_account_by_arn(stack, account, expected):
    """A bare ModelPackageGroupName means a group of the caller's account (botocore: ArnOrName)."""
    key, vpc, bucket, _ = _base(stack)
    group = ModelPackageGroup.from_model_package_group_name(stack, "Central", "central-models", account=account)
    train = _train()
    Pipeline(stack, "Pipeline", steps=[train, RegisterModelStep("Register", model_package_group=group, image=IMG,
                                                                model_data=train.model_artifacts)],
             encryption_key=key, vpc=vpc, data_bucket=bucket)
    name = _steps(_definition(stack))["Register"]["Arguments"]["ModelPackageGroupName"]
    if account is None:
        assert name == expected
    else:
        assert name.startswith("arn:") and name.endswith(expected), name


@pytest.mark.parametrize("cidr", [None, "10.1.0.0/16"])
def test_s3_prefix_list_on_an_imported_vpc(stack, cidr):
    """Egress to the VPC's endpoints needs its CIDR: an imported VPC without one is refused clearly."""
    from aws_cdk import aws_ec2 as ec2

    key = PlatformKey(stack, "Key")
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Team", vpc_id="vpc-0123456789abcdef0", availability_zones=["us-east-1a"],
                                      isolated_subnet_ids=["subnet-1"], **({"vpc_cidr_block": cidr} if cidr else {}))
    build = lambda: Pipeline(stack, "Pipeline", steps=[_train()], encryption_key=key, vpc=vpc,  # noqa: E731
                             data_bucket=SecureBucket(stack, "Data", encryption_key=key), s3_prefix_list_id="pl-63a5400a")
    if cidr is None:
        with pytest.raises(ValidationError, match="vpc_cidr_block"):
            build()
        return
    build()
    t = template_of(stack)
    (group,) = [g for k, g in resources(t, "AWS::EC2::SecurityGroup").items() if k.startswith("PipelineJobSecurityGroup")]
    egress = [*group["Properties"]["SecurityGroupEgress"],
              *[e["Properties"] for e in resources(t, "AWS::EC2::SecurityGroupEgress").values()]]
    found = {(e.get("CidrIp"), e.get("DestinationPrefixListId"), e["FromPort"]) for e in egress}
    assert {(cidr, None, 443), (None, "pl-63a5400a", 443)} <= found


# ------------------------------------------------------------------ distributed training
@pytest.mark.parametrize("distribution, instance_type, expected", [
    (Distribution.torchrun(), "ml.g5.12xlarge", {"sagemaker_torch_distributed_enabled": "true"}),
    (Distribution.mpi(processes_per_host=4), "ml.p3.8xlarge",
     {"sagemaker_mpi_enabled": "true", "sagemaker_mpi_num_of_processes_per_host": "4"}),
    (Distribution.data_parallel(), "ml.p4d.24xlarge", {"sagemaker_distributed_dataparallel_enabled": "true",
                                                        "sagemaker_distributed_dataparallel_custom_mpi_options": '""'}),
    (Distribution.model_parallel(parameters={"partitions": 2}), "ml.p4d.24xlarge",
     {"sagemaker_mpi_enabled": "true", "mp_parameters": '{"partitions": 2}'}),
    (Distribution.parameter_server(), "ml.c5.xlarge", {"sagemaker_parameter_server_enabled": "true"}),
], ids=["torchrun", "mpi", "data-parallel", "model-parallel", "parameter-server"])
def test_distribution_is_rendered_as_the_containers_expect(stack, distribution, instance_type, expected):
    key, vpc, _, _ = _base(stack)
    train = _train(instance_type=instance_type, instance_count=2, distribution=distribution)
    Pipeline(stack, "Pipeline", steps=[train], encryption_key=key, vpc=vpc)
    definition = _definition(stack)
    args = _steps(definition)["Train"]["Arguments"]
    assert expected.items() <= args["HyperParameters"].items()
    assert args["HyperParameters"]["sagemaker_instance_type"] == json.dumps(instance_type)
    assert args["ResourceConfig"]["InstanceCount"] == 2
    assert_valid(definition)


def test_heterogeneous_cluster_and_warm_pool(stack):
    key, vpc, _, _ = _base(stack)
    train = _train(instance_groups=[InstanceGroup("gpu", "ml.p3.16xlarge", 2), InstanceGroup("cpu", "ml.c5.4xlarge")],
                   distribution=Distribution.torchrun(instance_groups=["gpu"]), keep_alive=Duration.minutes(30))
    Pipeline(stack, "Pipeline", steps=[train], encryption_key=key, vpc=vpc)
    definition = _definition(stack)
    resource = _steps(definition)["Train"]["Arguments"]["ResourceConfig"]
    assert resource["InstanceGroups"] == [
        {"InstanceGroupName": "gpu", "InstanceType": "ml.p3.16xlarge", "InstanceCount": 2},
        {"InstanceGroupName": "cpu", "InstanceType": "ml.c5.4xlarge", "InstanceCount": 1}]
    assert "InstanceType" not in resource and resource["KeepAlivePeriodInSeconds"] == 1800
    assert assert_valid(definition, schema=False) == {"Training"}


@pytest.mark.parametrize("kwargs, match", [
    ({"distribution": Distribution.parameter_server()}, "distribution"),
    ({"distribution": Distribution.mpi()}, "distribution"),
    ({"distribution": Distribution.data_parallel(), "instance_type": "ml.g5.xlarge", "instance_count": 2},
     "instance_type"),
    ({"distribution": Distribution.torchrun(), "instance_type": "ml.m5.xlarge", "instance_count": 2}, "instance_type"),
    ({"distribution": Distribution.torchrun(instance_groups=["nope"]),
      "instance_groups": [InstanceGroup("gpu", "ml.g5.xlarge", 2)]}, "distribution.instance_groups"),
    ({"instance_groups": [InstanceGroup("a", "ml.m5.xlarge"), InstanceGroup("a", "ml.m5.xlarge")]}, "instance_groups"),
    ({"keep_alive": Duration.hours(7)}, "keep_alive"),  # botocore KeepAlivePeriodInSeconds: at most 21600
    ({"instance_count": 0}, "instance_count"),
    ({"instance_count": 101}, "instance_count"),
    ({"max_runtime": Duration.days(29)}, "max_runtime"),
    ({"max_wait": Duration.hours(3)}, "max_wait"),
    ({"use_spot": True, "max_wait": Duration.hours(1)}, "max_wait"),
    ({"checkpoint_uri": "s3://b/c"}, "checkpoint_uri"),
    ({"instance_type": "m5.xlarge"}, "instance_type"),
    ({"inputs": {}}, "inputs"),
    ({"hyperparameters": {"epochs": 10}}, "hyperparameters"),
    ({"output_uri": "bucket/out"}, "output_uri"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_training_step_validation(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        _train(**kwargs)


def test_a_model_artifact_where_a_string_is_expected_is_refused():
    train = _train()
    with pytest.raises(ValidationError, match="hyperparameters"):
        _train("Other", hyperparameters={"model": train.model_artifacts})
    with pytest.raises(ValidationError, match="instance_type"):
        _train("Other", instance_type=train.model_artifacts)
    with pytest.raises(ValidationError, match="operand"):
        Condition.greater_than_or_equal(train.model_artifacts, 1).check("here")
    with pytest.raises(ValidationError, match="instance_count"):
        _train("Other", instance_count=Parameter.string("Count", "2"))


# ------------------------------------------------------------------ graph validation
def test_rejects_duplicate_step_names(stack):
    key, vpc, _, _ = _base(stack)
    with pytest.raises(ValidationError, match="unique step names"):
        Pipeline(stack, "Pipeline", steps=[_train(), _train()], encryption_key=key, vpc=vpc)


def test_rejects_a_branch_step_listed_again(stack):
    key, vpc, _, _ = _base(stack)
    fail = FailStep("Stop")
    check = ConditionStep("Check", conditions=[Condition.equals(Parameter.string("Go", "yes"), "yes")],
                          if_steps=[fail])
    with pytest.raises(ValidationError, match="unique step names"):
        Pipeline(stack, "Pipeline", steps=[check, fail], encryption_key=key, vpc=vpc)


def test_rejects_references_to_steps_not_in_the_pipeline(stack):
    key, vpc, _, _ = _base(stack)
    train = _train()
    evaluate = ProcessingStep("Evaluate", image=IMG, entrypoint=["python3", "x.py"],
                              inputs=[ProcessingInput("model", train.model_artifacts, "/opt/ml/processing/model")])
    with pytest.raises(ValidationError, match="not in it"):
        Pipeline(stack, "Pipeline", steps=[evaluate], encryption_key=key, vpc=vpc)


def test_rejects_depends_on_outside_the_pipeline(stack):
    key, vpc, _, _ = _base(stack)
    with pytest.raises(ValidationError, match="depends_on"):
        Pipeline(stack, "Pipeline", steps=[_train("B", depends_on=[_train("A")])], encryption_key=key, vpc=vpc)


def test_rejects_dependency_cycles(stack):
    key, vpc, _, _ = _base(stack)
    a = _train("A")
    b = _train("B", depends_on=[a])
    a.depends_on.append(b)
    with pytest.raises(ValidationError, match="cycles"):
        Pipeline(stack, "Pipeline", steps=[a, b], encryption_key=key, vpc=vpc)


def test_rejects_a_step_reading_its_own_properties(stack):
    key, vpc, _, _ = _base(stack)
    train = _train("Self")
    train.hyperparameters["x"] = train.training_job_name
    with pytest.raises(ValidationError, match="its own properties"):
        Pipeline(stack, "Pipeline", steps=[train], encryption_key=key, vpc=vpc)


def test_rejects_conflicting_parameters(stack):
    key, vpc, _, _ = _base(stack)
    with pytest.raises(ValidationError, match="one declaration per name"):
        Pipeline(stack, "Pipeline", steps=[_train()], encryption_key=key, vpc=vpc,
                 parameters=[Parameter.string("InputDataUrl", "s3://other/")])


@pytest.mark.parametrize("name", ["", "has space", "x" * 65, "slash/name"])
def test_rejects_bad_step_names(name):
    with pytest.raises(ValidationError, match="name"):
        FailStep(name)


@pytest.mark.parametrize("name", ["bad name", "", "x" * 257])
def test_rejects_bad_parameter_names(name):
    with pytest.raises(ValidationError, match="name"):
        Parameter.string(name)


def test_rejects_an_empty_pipeline(stack):
    key, vpc, _, _ = _base(stack)
    with pytest.raises(ValidationError, match="steps"):
        Pipeline(stack, "Pipeline", steps=[], encryption_key=key, vpc=vpc)


# ------------------------------------------------------------------ tuning, transform, AutoML validation
def _tune(**kwargs):
    kwargs.setdefault("ranges", [IntegerRange("max_depth", 2, 10)])
    return TuningStep("Tune", training=_train("T"), objective_metric=kwargs.pop("objective_metric",
                                                                                 "validation:accuracy"), **kwargs)


@pytest.mark.parametrize("kwargs, match", [
    ({"ranges": [IntegerRange("max_depth", 10, 2)]}, "min_value"),
    ({"ranges": [ContinuousRange("eta", 0.5, 0.1)]}, "min_value"),
    ({"ranges": [CategoricalRange("booster", [])]}, "values"),
    ({"ranges": []}, "ranges"),
    ({"max_jobs": 2, "max_parallel_jobs": 4}, "max_parallel_jobs"),
    ({"strategy": "Genetic"}, "strategy"),
    ({"strategy": "Grid"}, "CategoricalRange"),
    ({"strategy": "Hyperband", "early_stopping": True}, "early_stopping"),
    ({"objective_metric": "loss"}, "objective_metric"),
    ({"ranges": [ContinuousRange("eta", 0.0, 1.0, "Logarithmic")]}, "min_value"),
    ({"ranges": [ContinuousRange("eta", 0.5, 5.0, "ReverseLogarithmic")]}, "0 <= x < 1"),
    ({"ranges": [ContinuousRange("eta", -0.1, 0.5, "ReverseLogarithmic")]}, "0 <= x < 1"),
    ({"ranges": [IntegerRange("depth", 1, 10, "ReverseLogarithmic")]}, "IntegerRange"),
    ({"warm_start_from": ["a", "b", "c", "d", "e", "f"]}, "warm_start_from"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_tuning_step_validation(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        _tune(**kwargs)


@pytest.mark.parametrize("kwargs", [
    {"target_objective_value": float("nan")}, {"target_objective_value": float("inf")},
    {"target_objective_value": "high"}, {"ranges": [ContinuousRange("eta", float("nan"), 0.5)]},
    {"ranges": [ContinuousRange("eta", 0.1, float("inf"))]},
], ids=["target-nan", "target-inf", "target-text", "range-nan", "range-inf"])
def test_tuning_numbers_must_be_finite(kwargs):
    """NaN or infinity as the target objective killed jsii's kernel at synth (raw JSONDecodeError); a
    range's bound went to SageMaker as the string 'nan'."""
    with pytest.raises(ValidationError, match="finite number"):
        _tune(**kwargs)


@pytest.mark.parametrize("make", [
    lambda fn: [ConditionStep("Gate", conditions=[Condition.greater_than(Parameter.float("Score", 0.5),
                                                                         float("inf"))], if_steps=[FailStep("Stop")])],
    lambda fn: [ConditionStep("Gate", conditions=[Condition.is_in(Parameter.float("Score", 0.5), [float("nan")])],
                              if_steps=[FailStep("Stop")])],
    lambda fn: [LambdaStep("Notify", function=fn, inputs={"threshold": float("nan")})],
], ids=["condition-inf", "in-nan", "lambda-input-nan"])
def test_a_definition_with_nan_or_infinity_is_refused(stack, make):
    """Literal NaN or infinity anywhere in the definition reached jsii, whose kernel died (JSONDecodeError)."""
    key, vpc, _, _ = _base(stack)
    fn = lambda_.Function.from_function_arn(stack, "Fn", "arn:aws:lambda:us-east-1:111122223333:function:notify")
    with pytest.raises(ValidationError, match="finite number"):
        Pipeline(stack, "Pipeline", steps=make(fn), encryption_key=key, vpc=vpc)


@pytest.mark.parametrize("default", [float("nan"), float("inf"), float("-inf")])
def test_a_float_parameter_default_must_be_finite(default):
    with pytest.raises(ValidationError, match="finite"):
        Parameter.float("Threshold", default)


def test_a_numeric_text_target_objective_still_renders(stack):
    key, vpc, _, _ = _base(stack)
    Pipeline(stack, "Pipeline", steps=[_tune(target_objective_value="0.9")], encryption_key=key, vpc=vpc)
    config = _steps(_definition(stack))["Tune"]["Arguments"]["HyperParameterTuningJobConfig"]
    assert config["TuningJobCompletionCriteria"] == {"TargetObjectiveMetricValue": 0.9}


def test_tuning_strategies_grid_and_hyperband_with_warm_start(stack):
    key, vpc, _, _ = _base(stack)
    grid = TuningStep("Grid", training=_train("T1"), objective_metric="validation:accuracy", strategy="Grid",
                      ranges=[CategoricalRange("booster", ["gbtree", "dart"])], max_parallel_jobs=2)
    hyperband = TuningStep("Hyperband", training=_train("T2"), objective_metric="validation:accuracy",
                           strategy="Hyperband", ranges=[IntegerRange("max_depth", 2, 10)],
                           warm_start_from=["parent-job"], objective_type="Minimize", max_runtime=Duration.hours(3))
    Pipeline(stack, "Pipeline", steps=[grid, hyperband], encryption_key=key, vpc=vpc)
    definition = _definition(stack)
    assert assert_valid(definition) == {"Tuning"}
    config = _steps(definition)["Grid"]["Arguments"]["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Grid" and "MaxNumberOfTrainingJobs" not in config["ResourceLimits"]
    args = _steps(definition)["Hyperband"]["Arguments"]
    assert args["WarmStartConfig"]["ParentHyperParameterTuningJobs"] == [{"HyperParameterTuningJobName": "parent-job"}]
    assert args["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxRuntimeInSeconds"] == 10800


@pytest.mark.parametrize("kwargs, match", [
    ({"max_payload_mb": 101}, "max_payload_mb"),
    ({"max_payload_mb": -1}, "max_payload_mb"),
    ({"split_type": "Word"}, "split_type"),
    ({"batch_strategy": "All"}, "batch_strategy"),
    ({"join_source": "Output"}, "join_source"),
    ({"input_filter": "x" * 64}, "input_filter"),
    ({"instance_count": 0}, "instance_count"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_transform_step_validation(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        TransformStep("Score", model_name="m", input_uri="s3://b/in", output_uri="s3://b/out", **kwargs)


@pytest.mark.parametrize("kwargs, match", [
    ({"target_column": ""}, "target_column"),
    ({"mode": "HYPERPARAMETER_TUNING"}, "mode"),
    ({"problem_type": "Clustering"}, "problem_type"),
    ({"objective": "F1"}, "problem_type"),
    ({"objective": "Speed", "problem_type": "Regression"}, "objective"),
    # botocore AutoMLJobObjective.MetricName: each tabular problem type's own metrics
    ({"objective": "F1", "problem_type": "Regression"}, "objective.*with problem_type Regression"),
    ({"objective": "RMSE", "problem_type": "BinaryClassification"}, "objective"),
    ({"objective": "AUC", "problem_type": "MulticlassClassification"}, "objective"),
    ({"objective": "MAPE", "problem_type": "Regression"}, "objective"),
    ({"max_candidates": 0}, "max_candidates"),
    ({"validation_fraction": 1.5}, "validation_fraction"),
    # botocore AutoMLChannel.SampleWeightAttributeName [a-zA-Z0-9_-]+, 1-256: refused when the job started
    ({"sample_weight_column": "sample weight"}, "sample_weight_column.*letters, digits"),
    ({"sample_weight_column": ""}, "sample_weight_column.*at least 1"),
    ({"sample_weight_column": "w" * 257}, "sample_weight_column.*at most 256"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_automl_step_validation(kwargs, match):
    kwargs.setdefault("target_column", "churn")
    with pytest.raises(ValidationError, match=match):
        AutoMLStep("AutoML", input_uri="s3://b/in", output_uri="s3://b/out", **kwargs)


def test_processing_and_register_and_lambda_validation(stack):
    processing = ProcessingStep("P", image=IMG, entrypoint=["x"],
                                outputs=[ProcessingOutput("o", "s3://b/o", "/opt/ml/processing/o")])
    with pytest.raises(ValidationError, match="output_name"):
        processing.property_file("R", output_name="missing", path="r.json")
    with pytest.raises(ValidationError, match="output_uri"):
        processing.output_uri("missing")
    with pytest.raises(ValidationError, match="local_path"):
        ProcessingStep("P", image=IMG, inputs=[ProcessingInput("i", "s3://b/i", "/tmp/i")])
    with pytest.raises(ValidationError, match="max_runtime"):
        ProcessingStep("P", image=IMG, max_runtime=Duration.days(8))
    with pytest.raises(ValidationError, match="approval_status"):
        RegisterModelStep("R", model_package_group=ModelPackageGroup.from_model_package_group_name(stack, "G", "g"),
                          image=IMG, model_data="s3://b/m.tar.gz", approval_status="Maybe")
    with pytest.raises(ValidationError, match="model_package_group"):
        RegisterModelStep("R", model_package_group=None, image=IMG, model_data="s3://b/m.tar.gz")
    fn = lambda_.Function.from_function_arn(stack, "Fn", "arn:aws:lambda:us-east-1:111122223333:function:f")
    with pytest.raises(ValidationError, match="outputs"):
        LambdaStep("L", function=fn, outputs={"x": "List"})
    with pytest.raises(ValidationError, match="output"):
        LambdaStep("L", function=fn).output("x")
    with pytest.raises(ValidationError, match="final_metric"):
        _train().final_metric("loss")
    with pytest.raises(ValidationError, match="conditions"):
        ConditionStep("C", conditions=[], if_steps=[FailStep("F")])


# ------------------------------------------------------------------ the rule pack on the new step types
_VPC = {"Subnets": ["s"], "SecurityGroupIds": ["g"]}
_TRAINING = {"EnableNetworkIsolation": True, "ResourceConfig": {"VolumeKmsKeyId": "k"},
             "OutputDataConfig": {"KmsKeyId": "k"}, "VpcConfig": _VPC}


@pytest.mark.parametrize("step, expected", [
    ({"Type": "Tuning", "Arguments": {"TrainingJobDefinition": _TRAINING}}, "compliant"),
    ({"Type": "Tuning", "Arguments": {"TrainingJobDefinition": {**_TRAINING, "EnableNetworkIsolation": False}}},
     "non-compliant"),
    ({"Type": "Transform", "Arguments": {"TransformResources": {"VolumeKmsKeyId": "k"},
                                         "TransformOutput": {"KmsKeyId": "k"}}}, "compliant"),
    ({"Type": "Transform", "Arguments": {"TransformResources": {}, "TransformOutput": {"KmsKeyId": "k"}}},
     "non-compliant"),
    ({"Type": "AutoML", "Arguments": {"AutoMLJobConfig": {"SecurityConfig": {"VolumeKmsKeyId": "k", "VpcConfig": _VPC}},
                                      "OutputDataConfig": {"KmsKeyId": "k"}}}, "compliant"),
    ({"Type": "AutoML", "Arguments": {"AutoMLJobConfig": {}, "OutputDataConfig": {"KmsKeyId": "k"}}},
     "non-compliant"),
    ({"Type": "Model", "Arguments": {"EnableNetworkIsolation": True, "VpcConfig": _VPC}}, "compliant"),
    ({"Type": "Model", "Arguments": {"EnableNetworkIsolation": False}}, "non-compliant"),
    ({"Type": "Fail", "Arguments": {}}, "not-applicable"),
], ids=lambda v: v["Type"] if isinstance(v, dict) else v)
def test_pipeline_rule_on_each_job_step_type(step, expected):
    body = json.dumps({"Version": "2020-12-01", "Steps": [{"Name": "S", **step}]})
    resource = {"Properties": {"PipelineDefinition": {"PipelineDefinitionBody": body}}}
    assert pipeline_jobs_hardened(resource).value == expected


def test_tuning_counts_may_be_pipeline_parameters():
    """A Parameter (or a CfnParameter) is compared by SageMaker at run time, not by Python."""
    jobs, parallel = Parameter.integer("MaxJobs", 20), Parameter.integer("MaxParallelJobs", 4)
    assert _tune(max_jobs=jobs, max_parallel_jobs=parallel).max_jobs is jobs
    with pytest.raises(ValidationError, match="at most max_jobs"):
        _tune(max_jobs=2, max_parallel_jobs=3)


def test_top_model_artifacts_refuse_an_output_uri_with_a_trailing_slash():
    """``<output_uri>/<job>/output/model.tar.gz`` joined on '/': a trailing '/' would make '//'."""
    tuning = TuningStep("Tune", training=_train("T", output_uri="s3://bucket/tuning/"),
                        objective_metric="validation:accuracy", ranges=[IntegerRange("max_depth", 2, 10)])
    with pytest.raises(ValidationError, match="trailing '/'"):
        tuning.best_model_artifacts
    fine = TuningStep("Tune2", training=_train("T2", output_uri="s3://bucket/tuning"),
                      objective_metric="validation:accuracy", ranges=[IntegerRange("max_depth", 2, 10)])
    assert fine.top_model_artifacts(1).to_json() == {"Std:Join": {"On": "/", "Values": [
        "s3://bucket/tuning", {"Get": "Steps.Tune2.TrainingJobSummaries[1].TrainingJobName"}, "output/model.tar.gz"]}}


def test_reverse_logarithmic_scaling_takes_a_continuous_range_from_zero():
    """botocore ContinuousParameterRange.ScalingType: reverse logarithmic for ranges within 0 <= x < 1."""
    step = _tune(ranges=[ContinuousRange("momentum", 0.0, 0.99, "ReverseLogarithmic")])
    assert step.ranges[0].min_value == 0.0


@pytest.mark.parametrize("kwargs, match", [
    ({"description": "d" * 1025}, "description"),  # botocore EntityDescription: at most 1024
    ({"description": "line one\nline two"}, "description"),  # no control characters
    ({"recommend_instances": InstanceRecommendation("s3://b/p.tar.gz", framework_version="12")},
     "framework_version"),  # botocore ModelPackageFrameworkVersion: at least 3, [0-9].[A-Za-z0-9.-]+
])
def test_register_step_strings_fit_the_api(stack, kwargs, match):
    group = ModelPackageGroup.from_model_package_group_name(stack, "G", "g")
    with pytest.raises(ValidationError, match=match):
        RegisterModelStep("R", model_package_group=group, image=IMG, model_data="s3://b/m.tar.gz", **kwargs)


def test_register_step_accepts_a_container_version_tag(stack):
    group = ModelPackageGroup.from_model_package_group_name(stack, "G", "g")
    RegisterModelStep("R", model_package_group=group, image=IMG, model_data="s3://b/m.tar.gz",
                      description="Churn model, trained on 2026-12 data (AUC 0.91)",
                      recommend_instances=InstanceRecommendation("s3://b/p.tar.gz", framework="SKLEARN",
                                                                 framework_version="1.2-1"))


def test_transform_payload_times_concurrency_is_at_most_100_mb():
    """botocore CreateTransformJobRequest.MaxPayloadInMB: MaxConcurrentTransforms x MaxPayloadInMB <= 100."""
    def transform(**kwargs):
        return TransformStep("T", model_name="m", input_uri="s3://b/in", output_uri="s3://b/out", **kwargs)

    with pytest.raises(ValidationError, match="max_concurrent_transforms.*100 MB"):
        transform(max_payload_mb=100, max_concurrent_transforms=8)
    transform(max_payload_mb=10, max_concurrent_transforms=10)
    transform(max_payload_mb=Parameter.integer("Payload", 6), max_concurrent_transforms=50)


def test_keep_alive_up_to_six_hours_and_not_in_a_tuning_step():
    """botocore KeepAlivePeriodInSeconds: 0-21600. A tuning step's jobs would drop it: refused there."""
    assert _train(keep_alive=Duration.hours(6)).keep_alive == 21600
    with pytest.raises(ValidationError, match="keep_alive"):
        _train(keep_alive=Duration.seconds(21601))
    with pytest.raises(ValidationError, match="training.keep_alive"):
        TuningStep("Tune", training=_train("T", keep_alive=Duration.minutes(30)),
                   objective_metric="validation:accuracy", ranges=[IntegerRange("max_depth", 2, 10)])


@pytest.mark.parametrize("problem_type, objective", [
    ("Regression", "R2"), ("BinaryClassification", "AUC"), ("MulticlassClassification", "F1macro")])
def test_automl_objective_of_its_problem_type(problem_type, objective):
    step = AutoMLStep("AutoML", input_uri="s3://b/in", output_uri="s3://b/out", target_column="y",
                      problem_type=problem_type, objective=objective)
    assert step.objective == objective


def test_more_than_five_security_groups_are_refused(stack):
    """Every job's VpcConfig.SecurityGroupIds takes 1-5 (botocore VpcSecurityGroupIds): six passed synth
    and every execution failed when its first job started."""
    from aws_cdk import aws_ec2 as ec2

    key, vpc, bucket, _ = _base(stack)
    groups = [ec2.SecurityGroup.from_security_group_id(stack, f"Sg{i}", f"sg-0{i}23456789abcdef0") for i in range(6)]
    with pytest.raises(ValidationError, match=r"security_groups.*6 security groups.*1 to 5"):
        Pipeline(stack, "P", steps=[_train()], encryption_key=key, vpc=vpc, data_bucket=bucket,
                 security_groups=groups)
    Pipeline(stack, "Five", steps=[_train("T5")], encryption_key=key, vpc=vpc, data_bucket=bucket,
             security_groups=groups[:5])


@pytest.mark.parametrize("factory, default", [
    (Parameter.integer, "5"), (Parameter.integer, 2.5), (Parameter.integer, True), (Parameter.float, "0.8"),
    (Parameter.float, False), (Parameter.boolean, "true"), (Parameter.boolean, 1), (Parameter.string, 3),
])
def test_rejects_a_default_of_another_type(factory, default):
    """The definition's DefaultValue is typed (integer, number, boolean, string in the pipeline definition
    schema): Parameter.integer('N', '5') wrote "5" and CreatePipeline refused the definition at deployment."""
    with pytest.raises(ValidationError, match=r"default.*of the parameter's type"):
        factory("P", default)


def test_defaults_of_the_right_type_and_cloudformation_parameters_pass(stack):
    import aws_cdk as cdk

    assert Parameter.float("F", 1).default == 1 and Parameter.integer("I", 3).default == 3
    assert Parameter.boolean("B", False).default is False and Parameter.string("S", "").default == ""
    number = cdk.CfnParameter(stack, "N", type="Number").value_as_number
    assert Parameter.integer("I", number).default is number  # a Ref, resolved by CloudFormation
    assert Parameter.string("S", cdk.CfnParameter(stack, "T").value_as_string).default


@pytest.mark.parametrize("condition", [lambda: Condition.not_(None),  # type: ignore[arg-type]
                                       lambda: Condition.or_(Condition.equals(1, 1), "x")])  # type: ignore[arg-type]
def test_a_combined_condition_of_something_else_is_a_validation_error(condition):
    """Condition.not_(None) or Condition.or_(..., "x") raised AttributeError ('NoneType' object has no attribute
    'check') from inside ConditionStep."""
    with pytest.raises(ValidationError, match=r"(Not|Or) condition.*Condition objects"):
        ConditionStep("Check", conditions=[condition()], if_steps=[FailStep("Stop")])


def test_a_pipeline_description_longer_than_the_api_takes_is_refused(stack):
    """PipelineDescription is at most 3072 characters (botocore CreatePipelineRequest): a longer description
    passed synth and failed the AWS::SageMaker::Pipeline at deployment (the default one is cut to fit)."""
    key, vpc, bucket, _ = _base(stack)
    with pytest.raises(ValidationError, match=r"description.*3072 characters \(got 3073\)"):
        Pipeline(stack, "P", steps=[_train()], encryption_key=key, vpc=vpc, data_bucket=bucket, description="d" * 3073)
    Pipeline(stack, "Fits", steps=[_train("T2")], encryption_key=key, vpc=vpc, data_bucket=bucket, description="d" * 3072)


@pytest.mark.parametrize("kwargs, match", [
    ({"entrypoint": []}, r"entrypoint.*0 entries.*1 to 100"),
    ({"entrypoint": ["python3"] * 101}, r"entrypoint.*101 entries.*1 to 100"),
    ({"arguments": ["--x"] * 101}, r"arguments.*101 arguments.*0 to 100"),
    ({"arguments": ["a" * 257]}, r"arguments.*at most 256 characters \(got 257\)"),
    ({"entrypoint": ["python3", "b" * 257]}, r"entrypoint.*at most 256 characters"),
])
def test_processing_entrypoint_and_arguments_beyond_the_api_limits_are_refused(kwargs, match):
    """AppSpecification.ContainerEntrypoint and ContainerArguments take 1-100 entries of at most 256
    characters (botocore): an empty entrypoint or 101 arguments passed synth and failed when the step started."""
    with pytest.raises(ValidationError, match=match):
        ProcessingStep("Prep", image=IMG, **kwargs)


def test_processing_entrypoint_and_arguments_within_the_limits_pass():
    step = ProcessingStep("Prep", image=IMG, entrypoint=["python3", "x" * 256], arguments=["--n", Parameter.string("N")])
    assert len(step.arguments) == 2
