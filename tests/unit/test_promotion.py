"""Model promotion as code: Model.from_model_package, PromoteOnApproval, the group's resource policy and
ModelDeliveryPipeline (CDK Pipelines across accounts), with every validation rule."""

from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ssm as ssm

from sagemaker_constructs import (
    ContainerImage,
    DeliveryStage,
    DeployOnApproval,
    Model,
    ModelData,
    ModelDeliveryPipeline,
    ModelPackageGroup,
    PlatformKey,
    PromoteOnApproval,
    PromotionTarget,
    RealtimeEndpoint,
    SecureBucket,
    ServerlessEndpoint,
    ValidationError,
    ssm_model_package,
)
from tests.conftest import new_app

VERSION_ARN = "arn:aws:sagemaker:us-east-1:111111111111:model-package/iris/3"
CONNECTION = "arn:aws:codeconnections:us-east-1:000000000000:connection/12345678-1234-1234-1234-123456789012"
PARAMETER = "/sagemaker-constructs/model-packages/iris/approved"
DEV, PROD = "222222222222", "333333333333"


def resources(stack: cdk.Stack, type_: str) -> dict:
    return assertions.Template.from_stack(stack).find_resources(type_)


def statements(stack: cdk.Stack, path_part: str) -> list[dict]:
    found = []
    for logical_id, res in resources(stack, "AWS::IAM::ManagedPolicy").items():
        if path_part in logical_id:
            found += res["Properties"]["PolicyDocument"]["Statement"]
    return found


def accounts_in(principal: dict) -> list[str]:
    """The account IDs a resource policy's principal names (``arn:...:iam::<account>:root``), in order."""
    return re.findall(r":iam::(\d{12}):root", json.dumps(principal))


def actions_of(statements_: list[dict]) -> set[str]:
    return {a for s in statements_ for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}


# ---------------------------------------------------------------- Model.from_model_package


def test_model_from_a_version_arn_runs_the_package_with_secure_defaults(stack):
    Model.from_model_package(stack, "Model", model_package=VERSION_ARN)
    (model,) = resources(stack, "AWS::SageMaker::Model").values()
    assert model["Properties"]["PrimaryContainer"] == {"ModelPackageName": VERSION_ARN}
    assert model["Properties"]["EnableNetworkIsolation"] is True
    describe = [s for s in statements(stack, "ModelRole") if s.get("Sid") == "DescribeTheModelPackage"]
    assert describe == [{"Action": "sagemaker:DescribeModelPackage", "Effect": "Allow", "Resource": VERSION_ARN,
                         "Sid": "DescribeTheModelPackage"}]


def test_model_from_an_ssm_parameter_reads_it_at_each_deployment(stack):
    group = ModelPackageGroup(stack, "Group", model_package_group_name="iris")
    approved = ssm.StringParameter.from_string_parameter_name(stack, "Approved", PARAMETER)
    Model.from_model_package(stack, "Model", model_package=approved, model_package_group=group)
    template = assertions.Template.from_stack(stack).to_json()
    (model,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::SageMaker::Model"]
    ref = model["Properties"]["PrimaryContainer"]["ModelPackageName"]["Ref"]
    assert template["Parameters"][ref] == {"Type": "AWS::SSM::Parameter::Value<String>", "Default": PARAMETER}
    describe = [s for s in statements(stack, "ModelRole") if s.get("Sid") == "DescribeTheModelPackage"]
    assert "model-package/iris/*" in json.dumps(describe)


def test_model_from_a_dynamic_reference_and_its_artifacts(stack):
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    group = ModelPackageGroup(stack, "Group", model_package_group_name="iris")
    Model.from_model_package(stack, "Model", model_package=ssm_model_package(PARAMETER), model_package_group=group,
                             artifacts=ModelData.from_bucket(bucket, "pipelines/iris/"))
    (model,) = resources(stack, "AWS::SageMaker::Model").values()
    assert model["Properties"]["PrimaryContainer"]["ModelPackageName"] == f"{{{{resolve:ssm:{PARAMETER}}}}}"
    assert "pipelines/iris/*" in json.dumps(assertions.Template.from_stack(stack).to_json())


@pytest.mark.parametrize("bad", [
    "arn:aws:sagemaker:us-east-1:111111111111:model-package-group/iris",  # the group, not a version
    "arn:aws:sagemaker:us-east-1:111111111111:model-package/iris",  # no version
    "arn:aws:sagemaker:us-east-1:1111:model-package/iris/3",  # not a 12-digit account
    "iris",
    "{{resolve:secretsmanager:iris}}",
])
def test_model_package_must_be_a_version_arn_or_a_reference(stack, bad):
    with pytest.raises(ValidationError, match="model_package"):
        Model.from_model_package(stack, "Model", model_package=bad)


def test_a_reference_needs_its_group(stack):
    with pytest.raises(ValidationError, match="model_package_group"):
        Model.from_model_package(stack, "Model", model_package=ssm_model_package(PARAMETER))


def test_the_group_must_be_the_arns_group(stack):
    other = ModelPackageGroup(stack, "Group", model_package_group_name="churn")
    with pytest.raises(ValidationError, match="model_package_group"):
        Model.from_model_package(stack, "Model", model_package=VERSION_ARN, model_package_group=other)


def test_ssm_model_package_checks_the_name():
    with pytest.raises(ValidationError, match="parameter_name"):
        ssm_model_package("bad name")
    assert ssm_model_package("/a/b", version=3) == "{{resolve:ssm:/a/b:3}}"


# ---------------------------------------------------------------- the group's resource policy


def test_group_policy_names_exactly_the_target_accounts(stack):
    group = ModelPackageGroup(stack, "Group", model_package_group_name="iris")
    assert group.grant_cross_account_deployment([DEV, PROD, DEV]) == [DEV, PROD]
    (res,) = resources(stack, "AWS::SageMaker::ModelPackageGroup").values()
    policy = res["Properties"]["ModelPackageGroupPolicy"]
    assert [accounts_in(s["Principal"]) for s in policy["Statement"]] == [[DEV, PROD], [DEV, PROD]]
    actions = actions_of(policy["Statement"])
    assert actions == {"sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeModelPackage",
                       "sagemaker:ListModelPackages", "sagemaker:CreateModel"}


@pytest.mark.parametrize("accounts", [["1234"], ["12345678901a"], []])
def test_cross_account_targets_must_be_account_ids(stack, accounts):
    group = ModelPackageGroup(stack, "Group", model_package_group_name="iris")
    with pytest.raises(ValidationError, match="accounts"):
        group.grant_cross_account_deployment(accounts)


def test_imported_group_in_another_account(stack):
    group = ModelPackageGroup.from_model_package_group_name(stack, "Group", "iris", account=DEV, region="eu-west-1")
    assert stack.resolve(group.model_package_arn_pattern)["Fn::Join"][1][-1] == f":sagemaker:eu-west-1:{DEV}:model-package/iris/*"
    with pytest.raises(ValidationError, match="account"):
        ModelPackageGroup.from_model_package_group_name(stack, "Bad", "iris", account="dev")


# ---------------------------------------------------------------- PromoteOnApproval


def _pipeline(stack):
    return codepipeline.Pipeline.from_pipeline_arn(stack, "Pipeline", "arn:aws:codepipeline:us-east-1:111111111111:iris")


def test_promotion_through_a_pipeline_has_no_sagemaker_write_permission(stack):
    group = ModelPackageGroup(stack, "Group", model_package_group_name="iris")
    promotion = PromoteOnApproval(stack, "Promote", model_package_group=group,
                                  target=PromotionTarget.pipeline_execution(_pipeline(stack)))
    found = statements(stack, "PromotePolicy")
    acts = actions_of(found)
    assert {a for a in acts if a.startswith("sagemaker:")} == {"sagemaker:DescribeModelPackage"}
    assert {"ssm:PutParameter", "codepipeline:StartPipelineExecution"} <= acts
    assert not {"cloudformation:UpdateStack", "iam:PassRole"} & acts
    (start,) = [s for s in found if s.get("Sid") == "StartTheDeliveryPipeline"]
    assert start["Resource"] == "arn:aws:codepipeline:us-east-1:111111111111:iris"
    (record,) = [s for s in found if s.get("Sid") == "RecordApprovedVersion"]
    assert json.dumps(record["Resource"]).endswith(f':parameter{PARAMETER}"]]}}')
    assert promotion.approved_version.parameter_name == PARAMETER
    # the approvals queue, its dead-letter queue, their alarms and the rule: DeployOnApproval's machinery
    template = assertions.Template.from_stack(stack)
    template.resource_count_is("AWS::SQS::Queue", 2)
    template.resource_count_is("AWS::CloudWatch::Alarm", 2)
    template.has_resource_properties("AWS::Events::Rule", {"EventPattern": {
        "detail": {"ModelPackageGroupName": ["iris"], "ModelApprovalStatus": ["Approved"]}}})
    template.has_resource_properties("AWS::Lambda::Function", {
        "Handler": "promote_on_approval.handler",
        "Environment": {"Variables": {"TARGET": "pipeline", "PIPELINE_NAME": "iris", "PARAMETER_NAME": PARAMETER}}})


def test_promotion_by_stack_update_passes_only_the_cloudformation_role(stack):
    group = ModelPackageGroup(stack, "Group", model_package_group_name="iris")
    role = iam.Role(stack, "CfnRole", assumed_by=iam.ServicePrincipal("cloudformation.amazonaws.com"))
    PromoteOnApproval(stack, "Promote", model_package_group=group,
                      target=PromotionTarget.stack_update(stack, deployment_role=role))
    found = statements(stack, "PromotePolicy")
    (passrole,) = [s for s in found if s.get("Sid") == "PassOnlyTheDeploymentRole"]
    assert passrole["Condition"] == {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}}
    assert passrole["Resource"] == {"Fn::GetAtt": ["CfnRole8F9CEE41", "Arn"]}
    assert {a for a in actions_of(found) if a.startswith("sagemaker:")} == {"sagemaker:DescribeModelPackage"}
    assert "cloudformation:UpdateStack" in actions_of(found)


def test_approval_target_endpoint_must_be_instance_backed(stack):
    group = ModelPackageGroup(stack, "Group", model_package_group_name="iris")
    model = Model(stack, "Model", image=ContainerImage.from_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1"),
                  network_isolation=False)
    serverless = ServerlessEndpoint(stack, "Serverless", model=model)
    with pytest.raises(ValidationError, match="instance-backed"):
        PromoteOnApproval(stack, "Promote", model_package_group=group, endpoint=serverless,
                          target=PromotionTarget.pipeline_execution(_pipeline(stack)))


def test_stack_update_endpoint_must_be_in_the_updated_stack():
    app = new_app()
    one, two = cdk.Stack(app, "One"), cdk.Stack(app, "Two")
    group = ModelPackageGroup(one, "Group", model_package_group_name="iris")
    model = Model.from_model_package(two, "Model", model_package=VERSION_ARN)
    endpoint = RealtimeEndpoint(two, "Endpoint", model=model, instance_type="ml.m5.large")
    role = iam.Role(one, "CfnRole", assumed_by=iam.ServicePrincipal("cloudformation.amazonaws.com"))
    with pytest.raises(ValidationError, match="endpoint"):
        PromoteOnApproval(one, "Promote", model_package_group=group, endpoint=endpoint,
                          target=PromotionTarget.stack_update(one, deployment_role=role))


@pytest.mark.parametrize("name", ["no spaces allowed", "/aws/reserved", "ssm-reserved",
                                  # a hierarchy needs its leading / (botocore ssm PutParameterRequest.Name): this
                                  # passed synth and PutParameter refused it at every approval
                                  "team/churn/approved",
                                  # at most fifteen levels
                                  "/l" * 16])
def test_approved_version_parameter_name_is_checked(stack, name):
    group = ModelPackageGroup(stack, "Group", model_package_group_name="iris")
    with pytest.raises(ValidationError, match="approved_version_parameter_name"):
        PromoteOnApproval(stack, "Promote", model_package_group=group, approved_version_parameter_name=name,
                          target=PromotionTarget.pipeline_execution(_pipeline(stack)))


def test_promotion_target_is_checked(stack):
    group = ModelPackageGroup(stack, "Group", model_package_group_name="iris")
    with pytest.raises(ValidationError, match="target"):
        PromoteOnApproval(stack, "Promote", model_package_group=group, target="pipeline")
    with pytest.raises(ValidationError, match="deployment_role"):
        PromotionTarget.stack_update(stack, deployment_role=None)
    with pytest.raises(ValidationError, match="pipeline"):
        PromotionTarget.pipeline_execution("iris-pipeline")


def test_deploy_on_approval_keeps_its_mode(stack):
    """DeployOnApproval still calls UpdateEndpoint itself (documented), on the same queue machinery."""
    group = ModelPackageGroup(stack, "Group", model_package_group_name="iris")
    model = Model.from_model_package(stack, "Model", model_package=VERSION_ARN)
    endpoint = RealtimeEndpoint(stack, "Endpoint", model=model, instance_type="ml.m5.large")
    deployer = DeployOnApproval(stack, "Deploy", model_package_group=group, endpoint=endpoint)
    assert {"sagemaker:UpdateEndpoint", "sagemaker:CreateModel"} <= actions_of(statements(stack, "DeployPolicy"))
    assert deployer.approvals_queue.node.id == "ApprovalQueue" and deployer.rule.node.id == "Rule"


# ---------------------------------------------------------------- ModelDeliveryPipeline


def _delivery_stack(app=None, env=True):
    app = app or new_app()
    return app, cdk.Stack(app, "Delivery", env=cdk.Environment(account="000000000000", region="us-east-1")
                          if env else None)


def _serving(stage, environment):
    serving = cdk.Stack(stage, "Serving")
    Model.from_model_package(serving, "Model", model_package=VERSION_ARN)


def _delivery(stack, **overrides):
    key = overrides.pop("key", None) or PlatformKey(stack, "Key")
    kwargs = dict(
        source=ModelDeliveryPipeline.connection_source("org/repo", "main", connection_arn=CONNECTION),
        stages=[DeliveryStage("Dev", DEV, "us-east-1"), DeliveryStage("Prod", PROD, "us-east-1", manual_approval=True)],
        serving=_serving,
        model_package_group=overrides.pop("group", None) or ModelPackageGroup(stack, "Group",
                                                                              model_package_group_name="iris"),
        approved_version_parameter_name=PARAMETER,
        artifact_bucket=SecureBucket(stack, "Data", encryption_key=key),
        artifact_prefix="pipelines/",
    )
    kwargs.update(overrides)
    return ModelDeliveryPipeline(stack, "Delivery", **kwargs)


@pytest.mark.parametrize("name", ["team/churn/approved", "/l" * 16, "", None])
def test_delivery_reads_only_a_parameter_name_ssm_accepts(name):
    """The synth step reads the parameter PromoteOnApproval writes: a hierarchy without its leading / (or 16
    levels) passed synth and every pipeline run failed reading it."""
    _, stack = _delivery_stack()
    with pytest.raises(ValidationError, match="approved_version_parameter_name"):
        _delivery(stack, approved_version_parameter_name=name)


def test_parameter_names_ssm_accepts_pass(stack):
    from sagemaker_constructs.mlops.promotion import check_parameter_name

    for name in ("approved", "/approved", "/team/churn/approved", "/l" * 15):
        check_parameter_name(stack, "approved_version_parameter_name", name)


@pytest.fixture(scope="module")
def delivered():
    app, stack = _delivery_stack()
    repository = ecr.Repository(stack, "Images")
    delivery = _delivery(stack, image_repositories=[repository])
    PromoteOnApproval(stack, "Promote", model_package_group=ModelPackageGroup.from_model_package_group_name(
        stack, "Imported", "iris"), target=PromotionTarget.pipeline_execution(delivery.pipeline))
    assembly = app.synth()
    return delivery, assembly.get_stack_by_name("Delivery").template


def test_pipeline_stages_and_actions(delivered):
    _, template = delivered
    (pipeline,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"]
    stages = {s["Name"]: [a["Name"] for a in s["Actions"]] for s in pipeline["Properties"]["Stages"]}
    assert list(stages) == ["Source", "Build", "UpdatePipeline", "Dev", "Prod"]
    assert stages["Build"] == ["Synth"] and stages["UpdatePipeline"] == ["SelfMutate"]
    assert stages["Prod"][0] == "ApproveProd" and "ApproveDev" not in stages["Dev"]
    by_name = {s["Name"]: s for s in pipeline["Properties"]["Stages"]}
    (approval,) = [a for a in by_name["Prod"]["Actions"] if a["Name"] == "ApproveProd"]
    assert approval["ActionTypeId"]["Category"] == "Approval"
    source = by_name["Source"]["Actions"][0]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["ConnectionArn"] == CONNECTION
    for stage, account in (("Dev", DEV), ("Prod", PROD)):
        deploys = [a for a in by_name[stage]["Actions"] if a["ActionTypeId"]["Provider"] == "CloudFormation"]
        # CloudFormation runs as the target account's bootstrap roles, never as the pipeline's own.
        assert deploys and all(f"cdk-hnb659fds-deploy-role-{account}-us-east-1" in json.dumps(a["RoleArn"])
                               for a in deploys)
        prepare = [a for a in deploys if a["Configuration"]["ActionMode"] == "CHANGE_SET_REPLACE"]
        assert len(prepare) == 1 and prepare[0]["Configuration"]["RoleArn"] == {
            "Fn::Sub": f"arn:${{AWS::Partition}}:iam::{account}:role/cdk-hnb659fds-cfn-exec-role-{account}-us-east-1"}


def test_synth_reads_only_the_approved_version_parameter(delivered):
    delivery, template = delivered
    projects = [r for r in template["Resources"].values() if r["Type"] == "AWS::CodeBuild::Project"]
    synth = [p for p in projects if "approved-model-package" in json.dumps(p)]
    assert synth, "the synth step passes the approved version as context"
    assert "sagemaker-constructs:approved-model-artifacts" in json.dumps(synth)
    policies = json.dumps([r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"])
    assert f"parameter{PARAMETER}" in policies
    assert all(not p["Properties"]["Environment"].get("PrivilegedMode") for p in projects)


def test_artifact_bucket_and_key_admit_exactly_the_target_accounts(delivered):
    _, template = delivered
    policies = [r for r in template["Resources"].values() if r["Type"] == "AWS::S3::BucketPolicy"]
    (read,) = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]
               if s.get("Sid") == "DeploymentAccountsReadModelArtifacts"]
    assert read["Action"] == "s3:GetObject" and "pipelines/*" in json.dumps(read["Resource"])
    assert accounts_in(read["Principal"]) == [DEV, PROD]
    keys = [r for r in template["Resources"].values() if r["Type"] == "AWS::KMS::Key"]
    (decrypt,) = [s for k in keys for s in k["Properties"]["KeyPolicy"]["Statement"]
                  if s.get("Sid") == "DeploymentAccountsDecryptModelArtifacts"]
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == "s3.us-east-1.amazonaws.com"
    assert accounts_in(decrypt["Principal"]) == [DEV, PROD]


def test_group_and_image_policies_admit_exactly_the_target_accounts(delivered):
    _, template = delivered
    (group,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::SageMaker::ModelPackageGroup"]
    assert [accounts_in(s["Principal"]) for s in group["Properties"]["ModelPackageGroupPolicy"]["Statement"]] == [
        [DEV, PROD], [DEV, PROD]]
    (repository,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::ECR::Repository"]
    (pull,) = repository["Properties"]["RepositoryPolicyText"]["Statement"]
    assert set(pull["Action"]) == {"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}
    assert accounts_in(pull["Principal"]) == [DEV, PROD]


def test_stages_are_exposed_in_their_environments(delivered):
    delivery, _ = delivered
    assert [(s.account, s.region) for s in delivery.stages.values()] == [(DEV, "us-east-1"), (PROD, "us-east-1")]
    assert delivery.accounts == [DEV, PROD]


def test_a_stage_in_another_account_and_region_synthesizes():
    """A stage in another region reads the pipeline's artifacts from a replication bucket CDK puts in that
    region; cross-account it needs a KMS key there. Without one, synth died in jsii
    (ArtifactBucketMustHaveKmsKey) although DeliveryStage takes any region."""
    app, stack = _delivery_stack()
    _delivery(stack, stages=[DeliveryStage("Dev", DEV, "us-east-1"), DeliveryStage("Prod", PROD, "eu-central-1")])
    assembly = app.synth()
    (support,) = [s for s in assembly.stacks if s.environment.region == "eu-central-1"
                  and s.environment.account == "000000000000"]
    (key,) = [r for r in support.template["Resources"].values() if r["Type"] == "AWS::KMS::Key"]
    assert key["Properties"]["EnableKeyRotation"] is True
    readers = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s["Action"] == ["kms:Decrypt", "kms:DescribeKey"]]
    assert [json.dumps(s["Principal"]).count(f"cdk-hnb659fds-deploy-role-{PROD}-eu-central-1") for s in readers] == [1]


@pytest.mark.parametrize("stages, match", [
    ([DeliveryStage("Dev", "", "us-east-1")], "account"),
    ([DeliveryStage("Dev", DEV, "")], "region"),
    ([DeliveryStage("Dev", DEV, "us-east-1"), DeliveryStage("Prod", DEV, "us-east-1")], "no other stage deploys to"),
    ([DeliveryStage("Dev", "dev-account", "us-east-1")], "12-digit"),
    ([DeliveryStage("Dev", DEV, "mars-1")], "region"),
    ([DeliveryStage("Dev", DEV, "us-east-1"), DeliveryStage("Dev", PROD, "us-east-1")], "name"),
    ([], "stages"),
])
def test_stages_are_validated(stages, match):
    _, stack = _delivery_stack()
    with pytest.raises(ValidationError, match=match):
        _delivery(stack, stages=stages)


@pytest.mark.parametrize("overrides, match", [
    ({"artifact_bucket": None, "artifact_prefix": "models/"}, "only with artifact_bucket"),
    ({"artifact_prefix": "/models/"}, "not starting with /"),
    ({"artifact_prefix": "m" * 1025}, "at most 1024"),
])
def test_the_artifact_prefix_is_honoured_or_refused(overrides, match):
    """artifact_prefix without artifact_bucket was silently ignored; a bad prefix was refused only when a stage
    was in another account (the same stages in the pipeline's own account passed it)."""
    _, stack = _delivery_stack()
    with pytest.raises(ValidationError, match=match):
        _delivery(stack, **overrides)
    _, same = _delivery_stack()
    with pytest.raises(ValidationError, match=match):
        _delivery(same, stages=[DeliveryStage("Dev", "000000000000", "us-east-1")], **overrides)


def test_a_context_key_is_refused_with_own_synth_commands():
    """approved_version_context only names the key of the default synth command: with synth_commands it was
    silently ignored."""
    _, stack = _delivery_stack()
    with pytest.raises(ValidationError, match="approved_version_context"):
        _delivery(stack, synth_commands=["npx cdk synth"], approved_version_context="team:approved")
    _, other = _delivery_stack()
    _delivery(other, synth_commands=["npx cdk synth"])  # the default key with own commands is fine


def test_the_pipeline_stack_needs_an_environment():
    _, stack = _delivery_stack(env=False)
    with pytest.raises(ValidationError, match="explicit account and region"):
        _delivery(stack)


def test_an_imported_group_cannot_be_opened_here():
    _, stack = _delivery_stack()
    imported = ModelPackageGroup.from_model_package_group_name(stack, "Imported", "iris")
    with pytest.raises(ValidationError, match="grant_cross_account_deployment"):
        _delivery(stack, group=imported)


@pytest.mark.parametrize("kwargs, match", [
    (dict(repository="org/repo", branch="main", connection_arn="arn:aws:iam::000000000000:role/x"), "connection_arn"),
    (dict(repository="not a repo", branch="main", connection_arn=CONNECTION), "repository"),
    (dict(repository="org/repo", branch="", connection_arn=CONNECTION), "branch"),
])
def test_connection_source_is_validated(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        ModelDeliveryPipeline.connection_source(kwargs.pop("repository"), kwargs.pop("branch"), **kwargs)


def test_source_must_be_a_pipeline_source():
    _, stack = _delivery_stack()
    with pytest.raises(ValidationError, match="source"):
        _delivery(stack, source="github.com/org/repo")


@pytest.mark.parametrize("target_env, part", [
    (cdk.Environment(account="444455556666", region="eu-west-1"), "account"),
    (cdk.Environment(account="111122223333", region="us-east-1"), "region"),
])
def test_stack_update_refuses_a_stack_in_another_account_or_region(target_env, part):
    """The function calls UpdateStack and writes the approved version with its own credentials, in
    its own region: a stack elsewhere would synthesize and never be updated."""
    app = new_app()
    tooling = cdk.Stack(app, "Tooling", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    serving = cdk.Stack(app, "Serving", env=target_env)
    group = ModelPackageGroup(tooling, "Group", model_package_group_name="iris")
    role = iam.Role.from_role_arn(tooling, "CfnRole", "arn:aws:iam::111122223333:role/cfn", mutable=False)
    with pytest.raises(ValidationError, match=f"this stack's {part}"):
        PromoteOnApproval(tooling, "Promote", model_package_group=group,
                          target=PromotionTarget.stack_update(serving, deployment_role=role))
    # the same account and region, or a stack without a fixed environment, is accepted
    same = cdk.Stack(app, "Same", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    PromoteOnApproval(tooling, "SamePromote", model_package_group=group,
                      target=PromotionTarget.stack_update(same, deployment_role=role))
    agnostic = cdk.Stack(app, "Agnostic")
    PromoteOnApproval(tooling, "AgnosticPromote", model_package_group=group,
                      target=PromotionTarget.stack_update(agnostic, deployment_role=role))


def test_pipeline_execution_refuses_a_pipeline_in_another_account():
    app = new_app()
    tooling = cdk.Stack(app, "Tooling", env=cdk.Environment(account="111122223333", region="us-east-1"))
    group = ModelPackageGroup(tooling, "Group", model_package_group_name="iris")
    with pytest.raises(ValidationError, match="this stack's account"):
        PromoteOnApproval(tooling, "Promote", model_package_group=group,
                          target=PromotionTarget.pipeline_execution(_pipeline(tooling)))


def test_an_imported_key_is_flagged_because_eventbridge_needs_its_policy():
    """With an imported encryption_key CDK cannot grant EventBridge the approvals queue's key (the grant is
    dropped silently), so no approval reaches the queue unless the key policy already allows it."""
    from aws_cdk import aws_kms as kms
    from aws_cdk.assertions import Annotations, Match

    def build(imported: bool):
        app, stack = _delivery_stack()
        group = ModelPackageGroup(stack, "Group", model_package_group_name="iris")
        pipeline = codepipeline.Pipeline.from_pipeline_arn(
            stack, "Delivery", "arn:aws:codepipeline:us-east-1:000000000000:deliver")
        key = (kms.Key.from_key_arn(stack, "Key", "arn:aws:kms:us-east-1:000000000000:key/"
                                                  "1234abcd-12ab-34cd-56ef-1234567890ab") if imported
               else PlatformKey(stack, "Key"))
        PromoteOnApproval(stack, "Promote", model_package_group=group, encryption_key=key,
                          target=PromotionTarget.pipeline_execution(pipeline))
        return Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("events.amazonaws.com"))

    (warning,) = build(True)
    assert warning.id == "/Delivery/Promote"
    assert build(False) == []
