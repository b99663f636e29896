"""SageMakerChecks: each rule with a compliant and a non-compliant fixture, and the plugin end to end."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sagemaker as sagemaker

from sagemaker_constructs import SAGEMAKER_RULES, acknowledge, add_compliance_checks
from sagemaker_constructs.rules.pack import Compliance, evaluate
from tests.conftest import new_app
from tests.harness.reference import ReferenceAssembly

C, N, NA = Compliance.COMPLIANT, Compliance.NON_COMPLIANT, Compliance.NOT_APPLICABLE
RULES = {r.id: r for r in SAGEMAKER_RULES}
VPC = {"Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}


def _pipeline(training_isolated: bool) -> dict:
    steps = [{"Name": "T", "Type": "Training", "Arguments": {
        "EnableNetworkIsolation": training_isolated, "ResourceConfig": {"VolumeKmsKeyId": "k"},
        "OutputDataConfig": {"KmsKeyId": "k"}, "VpcConfig": VPC}},
        {"Name": "C", "Type": "Condition", "Arguments": {"IfSteps": [{"Name": "P", "Type": "Processing", "Arguments": {
            "NetworkConfig": {"EnableNetworkIsolation": True, "VpcConfig": VPC},
            "ProcessingResources": {"ClusterConfig": {"VolumeKmsKeyId": "k"}}}}], "ElseSteps": []}}]
    text = json.dumps({"Version": "2020-12-01", "Steps": steps})
    head, tail = text.split('"k"', 1)  # one value is a reference, as CDK renders tokens
    body = {"Fn::Join": ["", [head + '"', {"Fn::GetAtt": ["Key", "Arn"]}, '"' + tail]]}
    return {"Properties": {"PipelineDefinition": {"PipelineDefinitionBody": body}}}


CASES = {
    "SageMaker-ModelNetworkIsolation": [({"EnableNetworkIsolation": True}, C), ({}, N)],
    "SageMaker-ModelInVpc": [({"VpcConfig": VPC}, C), ({}, N)],
    "SageMaker-EndpointConfigVolumeKey": [
        ({"KmsKeyId": "k", "ProductionVariants": [{"InstanceType": "ml.m5.large"}]}, C),
        ({"ProductionVariants": [{"InstanceType": "ml.m5.large"}]}, N),
        ({"ProductionVariants": [{"ServerlessConfig": {"MemorySizeInMB": 2048}}]}, NA),
        ({"ProductionVariants": [{"InstanceType": "ml.g5.xlarge"}]}, NA),
    ],
    "SageMaker-DataCaptureEncrypted": [({"DataCaptureConfig": {"EnableCapture": True, "KmsKeyId": "k"}}, C),
                                       ({"DataCaptureConfig": {"EnableCapture": True}}, N), ({}, NA)],
    "SageMaker-EndpointMultiInstance": [
        ({"ProductionVariants": [{"InitialInstanceCount": 2}]}, C),
        ({"ProductionVariants": [{"InitialInstanceCount": 1}]}, N),
        ({"ProductionVariants": [{"ServerlessConfig": {}}]}, NA),
        ({"ProductionVariants": [{"InitialInstanceCount": 1, "ManagedInstanceScaling": {
            "Status": "ENABLED", "MinInstanceCount": 0, "MaxInstanceCount": 2}}]}, NA),
        ({"ProductionVariants": [{"InitialInstanceCount": 1, "ManagedInstanceScaling": {
            "Status": "ENABLED", "MinInstanceCount": 1, "MaxInstanceCount": 2}}]}, N),
        ({"AsyncInferenceConfig": {"OutputConfig": {}}, "ProductionVariants": [{"InitialInstanceCount": 1}]}, NA),
    ],
    "SageMaker-AsyncOutputEncrypted": [
        ({"AsyncInferenceConfig": {"OutputConfig": {"S3OutputPath": "s3://b/o", "KmsKeyId": "k"}}}, C),
        ({"AsyncInferenceConfig": {"OutputConfig": {"S3OutputPath": "s3://b/o"}}}, N),
        ({"ProductionVariants": [{"InstanceType": "ml.m5.large"}]}, NA),
    ],
    "SageMaker-ComponentEndpointIsolated": [
        ({"EnableNetworkIsolation": True, "ProductionVariants": [{"InstanceType": "ml.m5.large"}]}, C),
        ({"VpcConfig": VPC, "ProductionVariants": [{"InstanceType": "ml.m5.large"}]}, C),
        ({"ProductionVariants": [{"InstanceType": "ml.m5.large"}]}, N),
        ({"ProductionVariants": [{"InstanceType": "ml.m5.large", "ModelName": "m"}]}, NA),
    ],
    "SageMaker-DomainVpcOnly": [({"AppNetworkAccessType": "VpcOnly"}, C), ({"AppNetworkAccessType": "PublicInternetOnly"}, N)],
    "SageMaker-DomainEncrypted": [({"KmsKeyId": "k"}, C), ({}, N)],
    "SageMaker-DomainNotebookSharing": [
        ({"DefaultUserSettings": {"SharingSettings": {"NotebookOutputOption": "Disabled"}}}, C),
        ({"DefaultUserSettings": {"SharingSettings": {"NotebookOutputOption": "Allowed", "S3KmsKeyId": "k"}}}, C),
        ({"DefaultUserSettings": {"SharingSettings": {"NotebookOutputOption": "Allowed"}}}, N),
    ],
    "SageMaker-NotebookInstanceHardened": [
        ({"DirectInternetAccess": "Disabled", "RootAccess": "Disabled", "KmsKeyId": "k", "SubnetId": "s"}, C),
        ({"DirectInternetAccess": "Enabled", "RootAccess": "Disabled", "KmsKeyId": "k", "SubnetId": "s"}, N),
    ],
    "SageMaker-NoFullAccessPolicy": [
        ({"ManagedPolicyArns": [{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                                                    ":iam::aws:policy/AmazonSageMakerFullAccess"]]}]}, N),
        ({"ManagedPolicyArns": ["arn:aws:iam::111122223333:policy/mine"]}, C),
        ({}, NA),
    ],
    "SageMaker-MonitoringJobHardened": [
        ({"NetworkConfig": {"EnableNetworkIsolation": True}, "JobResources": {"ClusterConfig": {"VolumeKmsKeyId": "k"}},
          "DataQualityJobOutputConfig": {"KmsKeyId": "k"}}, C),
        ({"NetworkConfig": {"EnableNetworkIsolation": False}}, N),
    ],
    "SageMaker-ModelQualityJobHardened": [
        ({"NetworkConfig": {"EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True},
          "JobResources": {"ClusterConfig": {"VolumeKmsKeyId": "k"}}, "ModelQualityJobOutputConfig": {"KmsKeyId": "k"}},
         C),
        ({"NetworkConfig": {"EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": False},
          "JobResources": {"ClusterConfig": {"VolumeKmsKeyId": "k"}}, "ModelQualityJobOutputConfig": {"KmsKeyId": "k"}},
         N),
        ({"NetworkConfig": {"EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True},
          "JobResources": {"ClusterConfig": {}}, "ModelQualityJobOutputConfig": {"KmsKeyId": "k"}}, N),
    ],
    "SageMaker-ModelBiasJobHardened": [
        ({"NetworkConfig": {"EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True},
          "JobResources": {"ClusterConfig": {"VolumeKmsKeyId": "k"}}, "ModelBiasJobOutputConfig": {"KmsKeyId": "k"}}, C),
        ({"NetworkConfig": {"EnableNetworkIsolation": False, "EnableInterContainerTrafficEncryption": True},
          "JobResources": {"ClusterConfig": {"VolumeKmsKeyId": "k"}}, "ModelBiasJobOutputConfig": {"KmsKeyId": "k"}}, N),
        ({"NetworkConfig": {"EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True},
          "JobResources": {"ClusterConfig": {"VolumeKmsKeyId": "k"}}, "ModelBiasJobOutputConfig": {}}, N),
    ],
    "SageMaker-ModelExplainabilityJobHardened": [
        ({"NetworkConfig": {"EnableNetworkIsolation": False, "EnableInterContainerTrafficEncryption": True,
                            "VpcConfig": {"Subnets": ["s"], "SecurityGroupIds": ["g"]}},
          "JobResources": {"ClusterConfig": {"VolumeKmsKeyId": "k"}},
          "ModelExplainabilityJobOutputConfig": {"KmsKeyId": "k"}}, C),
        ({"NetworkConfig": {"EnableInterContainerTrafficEncryption": True},
          "JobResources": {"ClusterConfig": {"VolumeKmsKeyId": "k"}},
          "ModelExplainabilityJobOutputConfig": {"KmsKeyId": "k"}}, N),
        ({"NetworkConfig": {"EnableInterContainerTrafficEncryption": True, "VpcConfig": {"Subnets": ["s"]}},
          "JobResources": {"ClusterConfig": {"VolumeKmsKeyId": "k"}}, "ModelExplainabilityJobOutputConfig": {}}, N),
    ],
    "SageMaker-FeatureGroupEncrypted": [
        ({"OnlineStoreConfig": {"EnableOnlineStore": True, "SecurityConfig": {"KmsKeyId": "k"}},
          "OfflineStoreConfig": {"S3StorageConfig": {"S3Uri": "s3://b/p", "KmsKeyId": "k"}}}, C),
        ({"OfflineStoreConfig": {"S3StorageConfig": {"S3Uri": "s3://b/p", "KmsKeyId": "k"}}}, C),
        ({"OnlineStoreConfig": {"EnableOnlineStore": True}}, N),
        ({"OnlineStoreConfig": {"EnableOnlineStore": True, "SecurityConfig": {"KmsKeyId": "k"}},
          "OfflineStoreConfig": {"S3StorageConfig": {"S3Uri": "s3://b/p"}}}, N),
    ],
    "SageMaker-ShadowVariantEncrypted": [
        ({"KmsKeyId": "k", "ProductionVariants": [{"InstanceType": "ml.m5.large"}],
          "ShadowProductionVariants": [{"InstanceType": "ml.c5.large"}],
          "DataCaptureConfig": {"EnableCapture": True, "KmsKeyId": "k"}}, C),
        # the production variant on NVMe takes no key, the shadow on EBS does
        ({"ProductionVariants": [{"InstanceType": "ml.g5.xlarge"}],
          "ShadowProductionVariants": [{"InstanceType": "ml.c5.large"}]}, N),
        ({"KmsKeyId": "k", "ShadowProductionVariants": [{"InstanceType": "ml.c5.large"}],
          "DataCaptureConfig": {"EnableCapture": True}}, N),
        ({"ShadowProductionVariants": [{"InstanceType": "ml.g5.xlarge"}]}, C),
        ({"KmsKeyId": "k", "ProductionVariants": [{"InstanceType": "ml.m5.large"}],
          "DataCaptureConfig": {"EnableCapture": True}}, NA),
    ],
    "SageMaker-CanvasDirectDeployOff": [
        ({"CanvasAppSettings": {"DirectDeploySettings": {"Status": "DISABLED"}}}, C),
        ({"CanvasAppSettings": {"DirectDeploySettings": {"Status": "ENABLED"}}}, N),
    ],
}


def test_every_rule_has_fixtures():
    assert set(CASES) | {"SageMaker-PipelineJobsHardened", "SageMaker-MlflowArtifactsEncrypted"} == set(RULES)


@pytest.mark.parametrize("rule_id,properties,expected",
                         [(r, p, e) for r, cases in CASES.items() for p, e in cases])
def test_rule(rule_id, properties, expected):
    assert RULES[rule_id].check({"Type": RULES[rule_id].resource_type, "Properties": properties}) is expected


def test_pipeline_rule_reads_inline_definitions():
    rule = RULES["SageMaker-PipelineJobsHardened"]
    assert rule.check(_pipeline(True)) is C
    assert rule.check(_pipeline(False)) is N
    assert rule.check({"Properties": {"PipelineDefinition": {"PipelineDefinitionS3Location": {"Bucket": "b"}}}}) is NA


def _bucket(algorithm=None, key=None, name=None):
    properties = {} if name is None else {"BucketName": name}
    if algorithm is not None:
        default = {"SSEAlgorithm": algorithm, **({"KMSMasterKeyID": key} if key else {})}
        properties["BucketEncryption"] = {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": default}]}
    return {"Type": "AWS::S3::Bucket", "Properties": properties}


def _server(uri):
    return {"Type": "AWS::SageMaker::MlflowTrackingServer", "Properties": {
        "TrackingServerName": "t", "RoleArn": "arn:aws:iam::1:role/r", "ArtifactStoreUri": uri}}


REF_URI = {"Fn::Join": ["", ["s3://", {"Ref": "Artifacts"}, "/mlflow"]]}


@pytest.mark.parametrize("bucket,uri,expected", [
    (_bucket("aws:kms", {"Fn::GetAtt": ["Key", "Arn"]}), REF_URI, C),
    (_bucket("aws:kms:dsse", "arn:aws:kms:us-east-1:1:key/k"), REF_URI, C),
    (_bucket("aws:kms"), REF_URI, N),              # the AWS managed key (aws/s3), not a key of ours
    (_bucket("AES256"), REF_URI, N),               # SSE-S3
    (_bucket(), REF_URI, N),                       # no BucketEncryption
    (_bucket("AES256", name="team-artifacts"), "s3://team-artifacts/mlflow", N),
    (_bucket("aws:kms", "k", name="team-artifacts"), "s3://team-artifacts/mlflow", C),
    (_bucket("AES256", name="other"), "s3://team-artifacts/mlflow", NA),  # a bucket of another template
    (_bucket("AES256"), {"Fn::Join": ["", ["s3://", {"Fn::GetAtt": ["Artifacts", "Arn"]}]]}, N),
    (_bucket("AES256"), {"Fn::Sub": "s3://${Artifacts}/mlflow"}, N),  # a template's own Fn::Sub
    (_bucket("aws:kms", "k"), {"Fn::Sub": "s3://${Artifacts}/mlflow"}, C),
    (_bucket("AES256"), {"Fn::Sub": ["s3://${B}/mlflow", {"B": {"Ref": "Artifacts"}}]}, N),
    (_bucket("AES256"), {"Fn::Sub": ["s3://${Artifacts}/x", {"Artifacts": "team-artifacts"}]}, NA),  # a variable
    (_bucket("AES256"), {"Fn::Sub": "s3://${!Artifacts}/mlflow"}, NA),  # a literal ${Artifacts}
])
def test_mlflow_artifacts_rule_reads_the_bucket_of_the_template(bucket, uri, expected):
    rule = RULES["SageMaker-MlflowArtifactsEncrypted"]
    server = _server(uri)
    template = {"Resources": {"Artifacts": bucket, "Server": server}}
    assert rule.answer(server, template) is expected
    assert rule.check(server) is NA  # the resource alone cannot tell
    assert evaluate(template).get("SageMaker-MlflowArtifactsEncrypted", []) == (["Server"] if expected is N else [])


def test_mlflow_artifacts_rule_on_the_construct(tmp_path):
    from aws_cdk import aws_s3 as s3

    from sagemaker_constructs import MlflowTrackingServer, PlatformKey, SecureBucket

    stack = cdk.Stack(new_app(), "Mlflow")
    key = PlatformKey(stack, "Key")
    MlflowTrackingServer(stack, "Good", artifact_bucket=SecureBucket(stack, "Secure", encryption_key=key),
                         encryption_key=key)
    plain = s3.Bucket(stack, "Plain", encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True)
    bad = MlflowTrackingServer(stack, "Bad", artifact_bucket=plain, encryption_key=key)
    findings = evaluate(cdk.assertions.Template.from_stack(stack).to_json())
    assert findings["SageMaker-MlflowArtifactsEncrypted"] == [stack.resolve(bad.node.default_child.logical_id)]


def test_evaluate_reports_logical_ids():
    template = {"Resources": {
        "Good": {"Type": "AWS::SageMaker::Model", "Properties": {"EnableNetworkIsolation": True, "VpcConfig": VPC}},
        "Open": {"Type": "AWS::SageMaker::Model", "Properties": {}},
    }}
    assert evaluate(template) == {"SageMaker-ModelNetworkIsolation": ["Open"], "SageMaker-ModelInVpc": ["Open"]}


def test_plugin_fails_synth_and_honours_acknowledgements(tmp_path):
    app = new_app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Checks")
    container = sagemaker.CfnModel.ContainerDefinitionProperty(image="image")
    sagemaker.CfnModel(stack, "Open", execution_role_arn="arn:aws:iam::1:role/r", primary_container=container)
    excused = sagemaker.CfnModel(stack, "Excused", execution_role_arn="arn:aws:iam::1:role/r",
                                 primary_container=container)
    acknowledge(excused, reason="fixture: served by a serverless endpoint, which supports neither",
                nag=["SageMaker-ModelNetworkIsolation", "SageMaker-ModelInVpc"])
    add_compliance_checks(app, packs=["SageMaker"])
    with pytest.raises(RuntimeError, match="SageMaker::SageMaker-ModelInVpc"):
        app.synth()
    findings = ReferenceAssembly(outdir=tmp_path, stacks={}).unacknowledged_findings()
    assert sorted((rule, path) for rule, path, _ in findings) == [
        ("SageMaker-ModelInVpc", "Checks/Open"), ("SageMaker-ModelNetworkIsolation", "Checks/Open")]


def _insecure_l1_stack(app) -> cdk.Stack:
    """SageMaker resources written as L1s with none of the secure settings."""
    stack = cdk.Stack(app, "Insecure")
    sagemaker.CfnModel(stack, "Model", execution_role_arn="arn:aws:iam::1:role/r",
                       primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(image="image"))
    sagemaker.CfnEndpointConfig(stack, "Config", production_variants=[
        sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name="AllTraffic", model_name="m", instance_type="ml.m5.large", initial_instance_count=1)])
    sagemaker.CfnNotebookInstance(stack, "Notebook", instance_type="ml.t3.medium", role_arn="arn:aws:iam::1:role/r",
                                  direct_internet_access="Enabled", root_access="Enabled")
    return stack


INSECURE_FINDINGS = [
    ("SageMaker-EndpointConfigVolumeKey", "Insecure/Config"), ("SageMaker-EndpointMultiInstance", "Insecure/Config"),
    ("SageMaker-ModelInVpc", "Insecure/Model"), ("SageMaker-ModelNetworkIsolation", "Insecure/Model"),
    ("SageMaker-NotebookInstanceHardened", "Insecure/Notebook"),
]


def test_pack_takes_the_app_like_cdk_nag_packs(tmp_path):
    """``SageMakerChecks(app)``, as ``AwsSolutionsChecks(app)`` is written, runs and reports."""
    from aws_cdk import Validations

    from sagemaker_constructs import SageMakerChecks

    app = new_app(outdir=str(tmp_path))
    _insecure_l1_stack(app)
    checks = SageMakerChecks(app)
    assert checks.scope is app
    Validations.of(app).add_plugins(checks)
    with pytest.raises(RuntimeError, match="SageMaker::SageMaker-NotebookInstanceHardened"):
        app.synth()
    findings = ReferenceAssembly(outdir=tmp_path, stacks={}).unacknowledged_findings()
    assert sorted((rule, path) for rule, path, _ in findings) == INSECURE_FINDINGS


def test_pack_without_scope_and_with_chosen_rules(tmp_path):
    from aws_cdk import Validations

    from sagemaker_constructs import SageMakerChecks

    app = new_app(outdir=str(tmp_path))
    _insecure_l1_stack(app)
    only_models = tuple(r for r in SAGEMAKER_RULES if r.resource_type == "AWS::SageMaker::Model")
    checks = SageMakerChecks(rules=only_models)
    assert checks.rule_ids == ["SageMaker-ModelNetworkIsolation", "SageMaker-ModelInVpc"]
    assert SageMakerChecks().rule_ids == [r.id for r in SAGEMAKER_RULES]
    assert SageMakerChecks(only_models).rule_ids == checks.rule_ids  # rules given positionally, as before
    Validations.of(app).add_plugins(checks)
    with pytest.raises(RuntimeError, match="SageMaker-ModelInVpc"):
        app.synth()
    findings = ReferenceAssembly(outdir=tmp_path, stacks={}).unacknowledged_findings()
    assert sorted(rule for rule, _, _ in findings) == ["SageMaker-ModelInVpc", "SageMaker-ModelNetworkIsolation"]


def test_verbose_findings_carry_the_fix():
    from sagemaker_constructs import SageMakerChecks

    rule = RULES["SageMaker-ModelInVpc"]
    assert SageMakerChecks(verbose=True)._describe(rule) == f"{rule.description} Fix: {rule.fix}"
    assert SageMakerChecks()._describe(rule) == rule.description


@pytest.mark.parametrize("bad", [object(), "app", ("not a rule",)])
def test_pack_rejects_what_is_neither_a_scope_nor_rules(bad):
    from sagemaker_constructs import SageMakerChecks

    with pytest.raises(TypeError, match="SageMakerChecks"):
        SageMakerChecks(bad)


def test_one_rule_per_module_and_the_pack_lists_every_one():
    import importlib
    import pkgutil

    import sagemaker_constructs.rules as package

    modules = [importlib.import_module(f"{package.__name__}.{m.name}") for m in pkgutil.iter_modules(package.__path__)]
    with_rule = {m.__name__.rsplit(".", 1)[1]: m.RULE for m in modules if hasattr(m, "RULE")}
    assert sorted(r.id for r in with_rule.values()) == sorted(RULES)
    for name, rule in with_rule.items():  # the module is named after its rule
        assert rule.id == "SageMaker-" + "".join(part.capitalize() for part in name.split("_")), name


def _open_model(scope, name: str) -> sagemaker.CfnModel:
    return sagemaker.CfnModel(scope, name, execution_role_arn="arn:aws:iam::1:role/r",
                              primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(image="image"))


def test_resources_of_nested_stacks_are_checked_and_acknowledged_by_their_paths(tmp_path):
    """CDK hands plugins the top-level templates only: a NestedStack's resources (and a nested
    stack's nested stack's) are in their own template files, read as well."""
    app = new_app(outdir=str(tmp_path))
    parent = cdk.Stack(app, "Parent")
    inner = cdk.NestedStack(parent, "Inner")
    _open_model(inner, "Open")
    excused = _open_model(inner, "Excused")
    acknowledge(excused, reason="fixture: served by a serverless endpoint, which supports neither",
                nag=["SageMaker-ModelNetworkIsolation", "SageMaker-ModelInVpc"])
    _open_model(cdk.NestedStack(inner, "Deeper"), "Deep")
    add_compliance_checks(app, packs=["SageMaker"])
    with pytest.raises(RuntimeError, match="SageMaker::SageMaker-ModelInVpc"):
        app.synth()
    findings = ReferenceAssembly(outdir=tmp_path, stacks={}).unacknowledged_findings()
    assert sorted((rule, path) for rule, path, _ in findings) == [
        ("SageMaker-ModelInVpc", "Parent/Inner/Deeper/Deep"), ("SageMaker-ModelInVpc", "Parent/Inner/Open"),
        ("SageMaker-ModelNetworkIsolation", "Parent/Inner/Deeper/Deep"),
        ("SageMaker-ModelNetworkIsolation", "Parent/Inner/Open")]


def _if(then, otherwise, condition="UseKey"):
    return {"Fn::If": [condition, then, otherwise]}


NO_VALUE = {"Ref": "AWS::NoValue"}
EBS = [{"InstanceType": "ml.m5.large", "InitialInstanceCount": 2}]


@pytest.mark.parametrize("rule_id,properties,expected", [
    # a key only under one condition: the other deployment has none
    ("SageMaker-EndpointConfigVolumeKey", {"KmsKeyId": _if("k", NO_VALUE), "ProductionVariants": EBS}, N),
    ("SageMaker-EndpointConfigVolumeKey", {"KmsKeyId": _if("k", "k2"), "ProductionVariants": EBS}, C),
    ("SageMaker-EndpointConfigVolumeKey", {"ProductionVariants": _if(EBS, [{"ServerlessConfig": {}}])}, N),
    # one condition takes the same branch everywhere: key with EBS, serverless without
    ("SageMaker-EndpointConfigVolumeKey", {"KmsKeyId": _if("k", NO_VALUE),
                                           "ProductionVariants": _if(EBS, [{"ServerlessConfig": {}}])}, C),
    ("SageMaker-NotebookInstanceHardened", {"DirectInternetAccess": "Disabled", "RootAccess": "Disabled",
                                            "KmsKeyId": _if("k", NO_VALUE), "SubnetId": "s"}, N),
    ("SageMaker-EndpointMultiInstance", {"ProductionVariants": [{"InitialInstanceCount": _if(2, 1, "Prod")}]}, N),
    ("SageMaker-EndpointMultiInstance", {"ProductionVariants": [{"InitialInstanceCount": _if(2, 3, "Prod")}]}, C),
    ("SageMaker-FeatureGroupEncrypted", {"OnlineStoreConfig": _if({"EnableOnlineStore": True}, NO_VALUE)}, N),
    ("SageMaker-ShadowVariantEncrypted", {"KmsKeyId": _if("k", NO_VALUE),
                                          "ShadowProductionVariants": [{"InstanceType": "ml.c5.large"}]}, N),
    ("SageMaker-CanvasDirectDeployOff", {"CanvasAppSettings": {"DirectDeploySettings": {
        "Status": _if("ENABLED", "DISABLED", "Sandbox")}}}, N),
    ("SageMaker-ComponentEndpointIsolated", {"ProductionVariants": _if(EBS, [])}, N),
    ("SageMaker-ModelInVpc", {"VpcConfig": _if(VPC, NO_VALUE, "InVpc")}, N),
    ("SageMaker-ModelInVpc", {"VpcConfig": _if(VPC, VPC, "InVpc")}, C),
])
def test_a_non_compliant_branch_of_a_condition_is_a_finding(rule_id, properties, expected):
    rule = RULES[rule_id]
    resource = {"Type": rule.resource_type, "Properties": properties}
    assert rule.answer(resource, {"Resources": {"R": resource}}) is expected
    assert evaluate({"Resources": {"R": resource}}, [rule]) == ({rule_id: ["R"]} if expected is N else {})


def test_a_resource_exists_only_where_its_own_condition_holds():
    """Condition: UseKey on the resource: the UseKey-false branch of its properties never deploys."""
    rule = RULES["SageMaker-DomainEncrypted"]
    resource = {"Type": rule.resource_type, "Condition": "UseKey", "Properties": {"KmsKeyId": _if("k", NO_VALUE)}}
    assert rule.answer(resource, {"Resources": {"R": resource}}) is C
    other = {**resource, "Condition": "Prod"}  # another condition decides whether it exists
    assert rule.answer(other, {"Resources": {"R": other}}) is N


def test_l1_with_a_conditional_key_fails_synth(tmp_path):
    app = new_app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Conditional")
    use_key = cdk.CfnCondition(stack, "UseKey", expression=cdk.Fn.condition_equals(
        cdk.CfnParameter(stack, "Key", default="").value_as_string, ""))
    sagemaker.CfnEndpointConfig(stack, "Config", kms_key_id=cdk.Fn.condition_if(
        use_key.logical_id, "arn:aws:kms:us-east-1:111122223333:key/k", cdk.Aws.NO_VALUE).to_string(),
        production_variants=[sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name="AllTraffic", model_name="m", instance_type="ml.m5.large", initial_instance_count=2)])
    add_compliance_checks(app, packs=["SageMaker"])
    with pytest.raises(RuntimeError, match="SageMaker::SageMaker-EndpointConfigVolumeKey"):
        app.synth()


def _param(kind="String", **fields):
    return {"Type": kind, **fields}


@pytest.mark.parametrize("rule_id,properties,parameters,expected", [
    # a Ref to a parameter is judged as each value it may take: its AllowedValues, or its Default
    # and anything else (the Ref itself)
    ("SageMaker-EndpointMultiInstance", {"ProductionVariants": [{"InitialInstanceCount": {"Ref": "Count"}}]},
     {"Count": _param("Number", Default=1)}, N),
    ("SageMaker-EndpointMultiInstance", {"ProductionVariants": [{"InitialInstanceCount": {"Ref": "Count"}}]},
     {"Count": _param("Number", Default="2")}, C),
    ("SageMaker-EndpointMultiInstance", {"ProductionVariants": [{"InitialInstanceCount": {"Ref": "Count"}}]},
     {"Count": _param("Number", AllowedValues=["2", "1"], Default="2")}, N),
    ("SageMaker-EndpointMultiInstance", {"ProductionVariants": [{"InitialInstanceCount": {"Ref": "Count"}}]},
     {"Count": _param("Number")}, C),  # no default: the template cannot tell
    ("SageMaker-DomainVpcOnly", {"AppNetworkAccessType": {"Ref": "Access"}},
     {"Access": _param(AllowedValues=["VpcOnly"])}, C),
    ("SageMaker-DomainVpcOnly", {"AppNetworkAccessType": {"Ref": "Access"}},
     {"Access": _param(AllowedValues=["VpcOnly", "PublicInternetOnly"])}, N),
    ("SageMaker-DomainVpcOnly", {"AppNetworkAccessType": {"Ref": "Access"}}, {"Access": _param(Default="VpcOnly")}, N),
    ("SageMaker-ModelNetworkIsolation", {"EnableNetworkIsolation": {"Ref": "Isolated"}},
     {"Isolated": _param(AllowedValues=["true"])}, C),
    ("SageMaker-DomainEncrypted", {"KmsKeyId": {"Ref": "Key"}}, {"Key": _param(Default="")}, N),
    ("SageMaker-DomainEncrypted", {"KmsKeyId": {"Ref": "Key"}}, {"Key": _param()}, C),
    # an SSM parameter's Default is the name of the SSM parameter, not the value
    ("SageMaker-DomainEncrypted", {"KmsKeyId": {"Ref": "Key"}},
     {"Key": _param("AWS::SSM::Parameter::Value<String>", Default="")}, C),
])
def test_a_reference_to_a_parameter_is_judged_by_its_values(rule_id, properties, parameters, expected):
    rule = RULES[rule_id]
    resource = {"Type": rule.resource_type, "Properties": properties}
    template = {"Parameters": parameters, "Resources": {"R": resource}}
    assert rule.answer(resource, template) is expected
    assert evaluate(template, [rule]) == ({rule_id: ["R"]} if expected is N else {})


def test_an_endpoint_with_a_parameter_instance_count_of_one_is_a_finding(tmp_path):
    app = new_app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Counted")
    count = cdk.CfnParameter(stack, "Count", type="Number", default=1)
    sagemaker.CfnEndpointConfig(stack, "Config", kms_key_id="arn:aws:kms:us-east-1:111122223333:key/k",
                                production_variants=[sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                                    variant_name="AllTraffic", model_name="m", instance_type="ml.m5.large",
                                    initial_instance_count=count.value_as_number)])
    add_compliance_checks(app, packs=["SageMaker"])
    with pytest.raises(RuntimeError, match="SageMaker::SageMaker-EndpointMultiInstance"):
        app.synth()


HARDENED_NET = {"EnableNetworkIsolation": "true", "EnableInterContainerTrafficEncryption": "True"}
JOB = {"JobResources": {"ClusterConfig": {"VolumeKmsKeyId": "k"}}}


@pytest.mark.parametrize("rule_id,properties,expected", [
    # CloudFormation takes "true"/"false" for a boolean and "1" for an integer (add_property_override,
    # YAML templates): read as the value they are
    ("SageMaker-ModelNetworkIsolation", {"EnableNetworkIsolation": "true"}, C),
    ("SageMaker-ModelNetworkIsolation", {"EnableNetworkIsolation": "false"}, N),
    ("SageMaker-ComponentEndpointIsolated", {"EnableNetworkIsolation": "True", "ProductionVariants": EBS}, C),
    ("SageMaker-MonitoringJobHardened", {"NetworkConfig": HARDENED_NET, **JOB,
                                         "DataQualityJobOutputConfig": {"KmsKeyId": "k"}}, C),
    ("SageMaker-ModelQualityJobHardened", {"NetworkConfig": HARDENED_NET, **JOB,
                                           "ModelQualityJobOutputConfig": {"KmsKeyId": "k"}}, C),
    ("SageMaker-ModelBiasJobHardened", {"NetworkConfig": HARDENED_NET, **JOB,
                                        "ModelBiasJobOutputConfig": {"KmsKeyId": "k"}}, C),
    ("SageMaker-ModelExplainabilityJobHardened", {"NetworkConfig": {**HARDENED_NET, "VpcConfig": VPC}, **JOB,
                                                  "ModelExplainabilityJobOutputConfig": {"KmsKeyId": "k"}}, C),
    ("SageMaker-DataCaptureEncrypted", {"DataCaptureConfig": {"EnableCapture": "false"}}, NA),
    ("SageMaker-ShadowVariantEncrypted", {"KmsKeyId": "k", "ShadowProductionVariants": [{"InstanceType": "ml.c5.large"}],
                                          "DataCaptureConfig": {"EnableCapture": "false"}}, C),
    ("SageMaker-FeatureGroupEncrypted", {"OnlineStoreConfig": {"EnableOnlineStore": "false"}}, C),
    ("SageMaker-FeatureGroupEncrypted", {"OnlineStoreConfig": {"EnableOnlineStore": "true"}}, N),
    ("SageMaker-EndpointMultiInstance", {"ProductionVariants": [{"InitialInstanceCount": "1"}]}, N),
    ("SageMaker-EndpointMultiInstance", {"ProductionVariants": [{"InitialInstanceCount": "2"}]}, C),
    ("SageMaker-EndpointMultiInstance", {"ProductionVariants": [{"InitialInstanceCount": {"Ref": "Count"}}]}, C),
    ("SageMaker-EndpointMultiInstance", {"ProductionVariants": [{"InitialInstanceCount": 1, "ManagedInstanceScaling": {
        "Status": "ENABLED", "MinInstanceCount": "0", "MaxInstanceCount": "2"}}]}, NA),
])
def test_cloudformation_string_forms_of_booleans_and_integers(rule_id, properties, expected):
    assert RULES[rule_id].check({"Type": RULES[rule_id].resource_type, "Properties": properties}) is expected


def test_an_override_written_as_a_string_is_read(stack):
    model = _open_model(stack, "Model")
    model.add_property_override("EnableNetworkIsolation", "true")
    config = sagemaker.CfnEndpointConfig(stack, "Config", kms_key_id="k", production_variants=[
        sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name="AllTraffic", model_name="m", instance_type="ml.m5.large", initial_instance_count=2)])
    config.add_property_override("ProductionVariants.0.InitialInstanceCount", "1")
    findings = evaluate(cdk.assertions.Template.from_stack(stack).to_json())
    assert "SageMaker-ModelNetworkIsolation" not in findings
    assert findings["SageMaker-EndpointMultiInstance"] == [stack.resolve(config.logical_id)]


def _l1_pipeline(stack, isolated: bool) -> sagemaker.CfnPipeline:
    """A raw CfnPipeline whose definition holds a CloudFormation number (CDK renders it unquoted)."""
    count = cdk.CfnParameter(stack, f"Count{isolated}", type="Number", default=1).value_as_number
    step = {"Name": "Train", "Type": "Training", "Arguments": {
        "EnableNetworkIsolation": isolated, "VpcConfig": VPC, "OutputDataConfig": {"KmsKeyId": "k"},
        "ResourceConfig": {"InstanceCount": count, "InstanceType": "ml.m5.large", "VolumeKmsKeyId": "k"}}}
    body = stack.to_json_string({"Version": "2020-12-01", "Steps": [step]})
    return sagemaker.CfnPipeline(stack, f"Pipeline{isolated}", pipeline_name=f"p-{isolated}".lower(),
                                 role_arn="arn:aws:iam::1:role/r", pipeline_definition={"PipelineDefinitionBody": body})


def test_pipeline_definition_with_an_unquoted_reference_is_read(stack):
    _l1_pipeline(stack, True)
    open_pipeline = _l1_pipeline(stack, False)
    findings = evaluate(cdk.assertions.Template.from_stack(stack).to_json())
    assert findings["SageMaker-PipelineJobsHardened"] == [stack.resolve(open_pipeline.logical_id)]


@pytest.mark.parametrize("body,expected", [
    # Fn::Sub: a variable is a reference, ${!Literal} is literal text
    ({"Fn::Sub": '{"Steps": [{"Name": "${Name}", "Type": "Training", "Arguments": {"EnableNetworkIsolation": '
                 '${Isolated}, "Note": "${!Literal}"}}]}'}, N),
    # a join with a delimiter other than "": the steps are joined by ","
    ({"Fn::Join": [",", ['{"Steps": [{"Name": "F", "Type": "Fail"}',
                         '{"Name": "T", "Type": "Training", "Arguments": {}}]}']]}, N),
    ({"Ref": "DefinitionParameter"}, NA),  # the whole body unreadable at synth
])
def test_pipeline_definition_body_forms(body, expected):
    rule = RULES["SageMaker-PipelineJobsHardened"]
    assert rule.check({"Properties": {"PipelineDefinition": {"PipelineDefinitionBody": body}}}) is expected


def test_each_pack_is_registered_once_and_packs_is_a_list(tmp_path, capsys):
    """packs=["SageMaker", "SageMaker"], or a second call, reported every finding twice;
    packs="SageMaker" was refused as the pack 'S'."""
    from sagemaker_constructs import ValidationError

    with pytest.raises(ValidationError, match=r"a list of pack names, e.g. packs=\['SageMaker'\]"):
        add_compliance_checks(new_app(), packs="SageMaker")
    app = new_app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Twice")
    sagemaker.CfnModel(stack, "Model", execution_role_arn="arn:aws:iam::111122223333:role/r",
                       primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(image="img"))
    add_compliance_checks(app, packs=["SageMaker", "SageMaker"])
    add_compliance_checks(app, packs=["SageMaker"])
    with pytest.raises(RuntimeError):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert [p["pluginName"] for p in report["pluginReports"]].count("SageMaker") == 1


def test_add_compliance_checks_passes_verbose_to_the_sagemaker_pack(tmp_path):
    app = new_app(outdir=str(tmp_path))
    _insecure_l1_stack(app)
    add_compliance_checks(app, packs=["SageMaker"], verbose=True)
    with pytest.raises(RuntimeError):
        app.synth()
    findings = ReferenceAssembly(outdir=tmp_path, stacks={}).unacknowledged_findings()
    rule = RULES["SageMaker-ModelInVpc"]
    assert {d for r, _, d in findings if r == rule.id} == {f"{rule.description} Fix: {rule.fix}"}


def _training_step(resource_config: dict) -> dict:
    return {"Name": "T", "Type": "Training", "Arguments": {
        "EnableNetworkIsolation": True, "ResourceConfig": resource_config,
        "OutputDataConfig": {"KmsKeyId": "k"}, "VpcConfig": VPC}}


def _inline(steps: list, parameters: list | None = None) -> dict:
    body = json.dumps({"Version": "2020-12-01", "Parameters": parameters or [], "Steps": steps})
    return {"Type": "AWS::SageMaker::Pipeline", "Properties": {"PipelineDefinition": {"PipelineDefinitionBody": body}}}


GPU_TYPE = [{"Name": "GpuType", "Type": "String", "DefaultValue": "ml.g5.xlarge"}]


@pytest.mark.parametrize("steps,parameters,expected", [
    # SageMaker refuses VolumeKmsKeyId on a type with local NVMe storage (encrypted by the instance)
    ([_training_step({"InstanceType": "ml.g5.xlarge", "InstanceCount": 1})], None, C),
    ([_training_step({"InstanceType": {"Get": "Parameters.GpuType"}, "InstanceCount": 1})], GPU_TYPE, C),
    ([_training_step({"InstanceGroups": [{"InstanceType": "ml.p4d.24xlarge"}, {"InstanceType": "ml.g5.xlarge"}]})],
     None, C),
    ([_training_step({"InstanceType": "ml.m5.xlarge", "InstanceCount": 1})], None, N),
    ([_training_step({"InstanceGroups": [{"InstanceType": "ml.m5.xlarge"}, {"InstanceType": "ml.g5.xlarge"}]})],
     None, N),
    ([_training_step({"InstanceType": {"Get": "Parameters.Unknown"}})], None, N),
    ([{"Name": "B", "Type": "Transform", "Arguments": {"TransformResources": {"InstanceType": "ml.g4dn.xlarge"},
                                                       "TransformOutput": {"KmsKeyId": "k"}}}], None, C),
    ([{"Name": "P", "Type": "Processing", "Arguments": {
        "NetworkConfig": {"EnableNetworkIsolation": True, "VpcConfig": VPC},
        "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5d.large", "InstanceCount": 1}}}}], None, C),
    # a processing or quality-check job's S3 outputs without ProcessingOutputConfig.KmsKeyId
    *[([{"Name": "P", "Type": kind, "Arguments": {
        "NetworkConfig": {"EnableNetworkIsolation": True, "VpcConfig": VPC},
        "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "VolumeKmsKeyId": "k"}},
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "o"}], **key}}}], None, expected)
      for kind in ("Processing", "QualityCheck") for key, expected in (({}, N), ({"KmsKeyId": "k"}, C))],
])
def test_pipeline_jobs_on_instance_storage_need_no_volume_key(steps, parameters, expected):
    assert RULES["SageMaker-PipelineJobsHardened"].check(_inline(steps, parameters)) is expected


def test_our_pipeline_on_a_gpu_type_passes_the_pack(stack):
    from tests.unit.test_pipeline_steps import _base, _train

    from sagemaker_constructs import Pipeline

    key, vpc, bucket, _ = _base(stack)
    Pipeline(stack, "Pipeline", steps=[_train(instance_type="ml.g5.xlarge")], encryption_key=key, vpc=vpc,
             data_bucket=bucket)
    assert "SageMaker-PipelineJobsHardened" not in evaluate(cdk.assertions.Template.from_stack(stack).to_json())
