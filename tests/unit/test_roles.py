"""Execution roles: SageMaker-only trust, customer-managed policies, scoped grants, guardrails, cdk-nag."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from sagemaker_constructs import PlatformKey, SecureBucket, ValidationError
from sagemaker_constructs.security.roles import (
    INTER_CONTAINER_ENCRYPTION_ACTIONS,
    NETWORK_ISOLATION_ACTIONS,
    OUTPUT_KEY_ACTIONS,
    VOLUME_KEY_ACTIONS,
    VPC_GUARDED_ACTIONS,
    VPC_NETWORK_INTERFACE_ACTIONS,
    JobExecutionRole,
    ModelHostingRole,
    StudioUserRole,
)
from tests.conftest import new_app, new_stack
from tests.harness.reference import synth_checked
from tests.harness.templates import resources, template_of, walk

KEY = {"Fn::GetAtt": ["Key961B73FD", "Arn"]}
DATA = {"Fn::GetAtt": ["Data666C94C7", "Arn"]}
DATA_OBJECTS = {"Fn::Join": ["", [DATA, "/*"]]}
SUBNETS = ["subnet-0aaa", "subnet-0bbb"]
#: The guardrails that protect production (platform resources, serving and capture prefixes).
PRODUCTION_GUARDRAILS = {"DenyChangingPlatformResources", "DenyChangingStackResources",
                         "DenyWritesUnderServingPrefixes", "DenyCapturedRequests"}
SECURITY_GROUP = "sg-0ccc"

#: The condition keys of each guarded action, as the Service Authorization Reference lists them
#: (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html).
SAR_CONDITION_KEYS = {
    "sagemaker:CreateTrainingJob": {"InstanceTypes", "InterContainerTrafficEncryption", "NetworkIsolation",
                                    "OutputKmsKey", "VolumeKmsKey", "VpcSecurityGroupIds", "VpcSubnets"},
    "sagemaker:CreateProcessingJob": {"InstanceTypes", "InterContainerTrafficEncryption", "NetworkIsolation",
                                      "OutputKmsKey", "VolumeKmsKey", "VpcSecurityGroupIds", "VpcSubnets"},
    "sagemaker:CreateHyperParameterTuningJob": {"InstanceTypes", "InterContainerTrafficEncryption",
                                                "NetworkIsolation", "OutputKmsKey", "VolumeKmsKey",
                                                "VpcSecurityGroupIds", "VpcSubnets"},
    "sagemaker:CreateTransformJob": {"InstanceTypes", "OutputKmsKey", "VolumeKmsKey"},
    "sagemaker:CreateModel": {"NetworkIsolation", "VpcSecurityGroupIds", "VpcSubnets"},
    "sagemaker:CreateEndpointConfig": {"InstanceTypes", "VolumeKmsKey"},
    "sagemaker:CreateAutoMLJob": {"InterContainerTrafficEncryption", "OutputKmsKey", "VolumeKmsKey",
                                  "VpcSecurityGroupIds", "VpcSubnets"},
    "sagemaker:CreateAutoMLJobV2": {"InterContainerTrafficEncryption", "OutputKmsKey", "VolumeKmsKey",
                                    "VpcSecurityGroupIds", "VpcSubnets"},
    "sagemaker:CreateNotebookInstance": {"InstanceTypes", "VolumeKmsKey", "VpcSecurityGroupIds", "VpcSubnets"},
}


# --- helpers ------------------------------------------------------------------------------------
def as_list(value):
    return value if isinstance(value, list) else [value]


def flat(value) -> str:
    """A resolved value as text: ``arn:<AWS::Partition>:...``, ``<Data666C94C7.Arn>/*``."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        delimiter, items = value["Fn::Join"]
        return delimiter.join(flat(i) for i in items)
    if "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    if "Ref" in value:
        return f"<{value['Ref']}>"
    return json.dumps(value)


def policy_of(template: dict, role: iam.Role, child: str = "Policy") -> list[dict] | None:
    """The statements of the role's managed policy ``child`` (None when it has none)."""
    stack = cdk.Stack.of(role)
    policy = role.node.try_find_child(child)
    if policy is None:
        return None
    resource = template["Resources"][stack.get_logical_id(policy.node.default_child)]
    assert resource["Type"] == "AWS::IAM::ManagedPolicy"
    assert resource["Properties"]["Roles"] == [{"Ref": stack.get_logical_id(role.node.default_child)}]
    return resource["Properties"]["PolicyDocument"]["Statement"]


def by_sid(statements: list[dict], sid: str) -> dict:
    found = [s for s in statements if s.get("Sid") == sid]
    assert len(found) == 1, f"expected one statement {sid}, found {[s.get('Sid') for s in statements]}"
    return found[0]


def with_action(statements: list[dict], action: str) -> list[dict]:
    return [s for s in statements if action in as_list(s["Action"])]


def imported_network(stack: cdk.Stack):
    subnets = [
        ec2.Subnet.from_subnet_attributes(stack, f"Subnet{i}", subnet_id=sid, route_table_id=f"rtb-{i}")
        for i, sid in enumerate(SUBNETS)
    ]
    return subnets, [ec2.SecurityGroup.from_security_group_id(stack, "Sg", SECURITY_GROUP)]


def build_roles(stack: cdk.Stack, **studio_kwargs):
    key = PlatformKey(stack, "Key")
    data = SecureBucket(stack, "Data", encryption_key=key)
    repo = ecr.Repository.from_repository_name(stack, "Repo", "team/trainer")
    subnets, groups = imported_network(stack)
    job = JobExecutionRole(stack, "Job", encryption_key=key, data_buckets=[data], output_bucket=data,
                           ecr_repositories=[repo])
    studio = StudioUserRole(stack, "Studio", encryption_key=key, data_buckets=[data], subnets=subnets,
                            security_groups=groups, passable_roles=[job], domain_id="d-abc123", **studio_kwargs)
    host = ModelHostingRole(stack, "Host", encryption_key=key, model_data_buckets=[data], ecr_repositories=[repo])
    return {"key": key, "data": data, "repo": repo, "job": job, "studio": studio, "host": host}


@pytest.fixture(scope="module")
def built():
    stack = new_stack()
    roles = build_roles(stack)
    return roles, template_of(stack)


@pytest.fixture(scope="module")
def studio(built):
    roles, t = built
    return policy_of(t, roles["studio"]), policy_of(t, roles["studio"], "Guardrails")


# --- every role ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["studio", "job", "host"])
def test_is_an_irole_only_sagemaker_for_this_account_may_assume(built, name):
    roles, t = built
    role = roles[name]
    assert isinstance(role, iam.Role)
    trust = t["Resources"][cdk.Stack.of(role).get_logical_id(role.node.default_child)]["Properties"]
    # Studio's role and the job roles it passes also let SageMaker set the source identity (the
    # user profile name, for per-user isolation); the hosting role does not need it.
    actions = ["sts:AssumeRole", "sts:SetSourceIdentity"] if name in ("studio", "job") else "sts:AssumeRole"
    assert trust["AssumeRolePolicyDocument"]["Statement"] == [{
        "Action": actions,
        "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
        "Effect": "Allow",
        "Principal": {"Service": "sagemaker.amazonaws.com"},
    }]


def test_customer_managed_policies_only(built):
    roles, t = built
    assert resources(t, "AWS::IAM::Policy") == {}
    for role in resources(t, "AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]
        assert "Policies" not in role["Properties"]
    assert not any(isinstance(v, str) and ":iam::aws:policy/" in v for v in walk(t))
    for name in ("studio", "job", "host"):
        assert policy_of(t, roles[name]) is not None
    # Guardrails (Deny only) exist where a role has guardrails, and nowhere else.
    assert policy_of(t, roles["job"], "Guardrails") is None
    assert policy_of(t, roles["host"], "Guardrails") is None
    # Studio's own permissions (spaces, apps, profiles) are a third managed policy of its role.
    assert policy_of(t, roles["studio"], "StudioPolicy") is not None
    assert len(resources(t, "AWS::IAM::ManagedPolicy")) == 5


def test_no_wildcard_actions_no_s3_star_no_all_buckets(built):
    _, t = built
    for policy in resources(t, "AWS::IAM::ManagedPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            for action in as_list(statement["Action"]):
                assert "*" not in action, action
            for resource in as_list(statement["Resource"]):
                assert not flat(resource).startswith("arn:") or ":s3:::*" not in flat(resource)
                assert "arn:aws:s3:::*" not in flat(resource)


def test_permission_policies_allow_only_and_guardrails_deny_only(built):
    roles, t = built
    for name in ("studio", "job", "host"):
        assert {s["Effect"] for s in policy_of(t, roles[name])} == {"Allow"}
    assert {s["Effect"] for s in policy_of(t, roles["studio"], "Guardrails")} == {"Deny"}


def test_unscoped_statements_are_only_those_iam_requires(built):
    roles, t = built
    allowed = {"ecr:GetAuthorizationToken", "cloudwatch:PutMetricData", *VPC_NETWORK_INTERFACE_ACTIONS}
    for name in ("studio", "job", "host"):
        for statement in policy_of(t, roles[name]):
            if "*" in as_list(statement["Resource"]):
                actions = set(as_list(statement["Action"]))
                listing = {a for a in actions if a.startswith(("sagemaker:List", "sagemaker:Search"))}
                assert actions - listing <= allowed, actions


def test_add_to_policy_and_grants_land_in_the_managed_policy(stack):
    key = PlatformKey(stack, "Key")
    role = JobExecutionRole(stack, "Job", encryption_key=key)
    extra = s3.Bucket.from_bucket_name(stack, "Extra", "extra-bucket")
    extra.grant_read(role)
    role.add_to_policy(iam.PolicyStatement(actions=["sqs:SendMessage"], resources=["arn:aws:sqs:eu-west-1:1:q"]))
    t = template_of(stack)
    assert resources(t, "AWS::IAM::Policy") == {}
    statements = policy_of(t, role)
    assert with_action(statements, "sqs:SendMessage")
    assert any("extra-bucket" in flat(r) for s in statements for r in as_list(s["Resource"]))


# --- StudioUserRole -----------------------------------------------------------------------------
def test_studio_scoped_to_its_domain(built):
    roles, t = built
    policy = policy_of(t, roles["studio"], "StudioPolicy")
    prefix = "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:"
    for sid, actions in (("ManageOwnSpaces", {"CreateSpace", "UpdateSpace", "DeleteSpace"}),
                         ("AppsInOwnPrivateSpaces", {"CreateApp", "DeleteApp"}),
                         ("AppsInSharedSpaces", {"CreateApp", "DeleteApp"}),
                         ("DescribeStudioAppsAndSpaces", {"DescribeApp", "DescribeSpace", "ListTags"})):
        statement = by_sid(policy, sid)
        assert set(as_list(statement["Action"])) == {f"sagemaker:{a}" for a in actions}
        assert {flat(r) for r in as_list(statement["Resource"])} <= {
            f"{prefix}app/d-abc123/*", f"{prefix}space/d-abc123/*"}
    owner = by_sid(policy, "ManageOwnSpaces")["Condition"]["ArnLike"]["sagemaker:OwnerUserProfileArn"]
    assert flat(owner) == f"{prefix}user-profile/d-abc123/${{aws:SourceIdentity}}"
    assert flat(by_sid(policy, "OwnUserProfileApps")["Resource"]) == f"{prefix}app/d-abc123/${{aws:SourceIdentity}}/*"
    profiles = by_sid(policy, "StudioProfilesAndDomain")
    assert "sagemaker:AddTags" not in profiles["Action"]
    assert {flat(r) for r in profiles["Resource"]} == {
        "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:user-profile/d-abc123/*",
        "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:domain/d-abc123",
    }


def test_studio_without_domain_id_covers_this_accounts_domains(stack):
    role = StudioUserRole(stack, "Studio", encryption_key=PlatformKey(stack, "Key"))
    apps = by_sid(policy_of(template_of(stack), role, "StudioPolicy"), "AppsInSharedSpaces")
    assert flat(apps["Resource"]) == "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:app/*/*"


def test_studio_runs_jobs_models_pipelines_experiments_in_this_account_and_region(studio):
    policy, _ = studio
    jobs = by_sid(policy, "RunJobsModelsAndExperiments")
    for action in ("CreateTrainingJob", "CreateProcessingJob", "CreateHyperParameterTuningJob",
                   "CreateTransformJob", "CreateModel", "DescribeTrainingJob", "CreateExperiment"):
        assert f"sagemaker:{action}" in jobs["Action"]
    prefix = "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:"
    assert {flat(r) for r in jobs["Resource"]} == {
        f"{prefix}{t}/*" for t in ("training-job", "processing-job", "hyper-parameter-tuning-job",
                                   "transform-job", "model")
    } | {f"{prefix}experiment*"}
    pipelines = by_sid(policy, "RunPipelines")
    assert "sagemaker:StartPipelineExecution" in pipelines["Action"]
    assert "sagemaker:CreatePipeline" not in pipelines["Action"]
    assert flat(pipelines["Resource"]) == f"{prefix}pipeline/*"


def test_studio_data_buckets_and_key_are_scoped(studio):
    policy, _ = studio
    objects = by_sid(policy, "ReadWriteDataBucketsObjects")
    assert set(objects["Action"]) == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"}
    assert objects["Resource"] == DATA_OBJECTS
    assert by_sid(policy, "ReadWriteDataBuckets")["Resource"] == DATA
    assert "s3:ListBucket" in by_sid(policy, "ReadWriteDataBuckets")["Action"]
    key = by_sid(policy, "UseEncryptionKeys")
    assert set(key["Action"]) == {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey",
                                  "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"}
    assert key["Resource"] == KEY
    grant = by_sid(policy, "GrantKeysToAwsServices")
    assert grant["Action"] == "kms:CreateGrant"
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    assert grant["Resource"] == KEY


def test_studio_reads_only_sagemaker_logs_and_pulls_from_given_repositories(studio):
    policy, _ = studio
    logs = by_sid(policy, "ReadSageMakerLogs")
    assert flat(logs["Resource"]) == "arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/*"
    assert not any(a.startswith("logs:Put") or a.startswith("logs:Delete") for a in logs["Action"])
    token = with_action(policy, "ecr:GetAuthorizationToken")
    assert len(token) == 1 and token[0]["Resource"] == "*" and "Sid" not in token[0]


def test_studio_pass_role_only_given_roles_only_to_sagemaker(built, studio):
    roles, _ = built
    policy, _ = studio
    (statement,) = with_action(policy, "iam:PassRole")
    assert statement["Resource"] == {"Fn::GetAtt": [cdk.Stack.of(roles["job"]).get_logical_id(
        roles["job"].node.default_child), "Arn"]}
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


def test_studio_without_passable_roles_has_no_pass_role(stack):
    role = StudioUserRole(stack, "Studio", encryption_key=PlatformKey(stack, "Key"))
    assert with_action(policy_of(template_of(stack), role), "iam:PassRole") == []


def test_studio_vpc_guardrails(studio):
    _, guardrails = studio
    other_subnets = by_sid(guardrails, "DenyOtherSubnets")
    assert other_subnets["Condition"] == {"ForAnyValue:StringNotEquals": {"sagemaker:VpcSubnets": SUBNETS}}
    other_groups = by_sid(guardrails, "DenyOtherSecurityGroups")
    assert other_groups["Condition"] == {
        "ForAnyValue:StringNotEquals": {"sagemaker:VpcSecurityGroupIds": [SECURITY_GROUP]}}
    assert by_sid(guardrails, "DenyMissingSubnets")["Condition"] == {"Null": {"sagemaker:VpcSubnets": "true"}}
    assert by_sid(guardrails, "DenyMissingSecurityGroups")["Condition"] == {
        "Null": {"sagemaker:VpcSecurityGroupIds": "true"}}
    for sid in ("DenyOtherSubnets", "DenyOtherSecurityGroups", "DenyMissingSubnets", "DenyMissingSecurityGroups"):
        statement = by_sid(guardrails, sid)
        assert statement["Effect"] == "Deny" and statement["Resource"] == "*"
        assert set(statement["Action"]) == set(VPC_GUARDED_ACTIONS)
        assert {"sagemaker:CreateTrainingJob", "sagemaker:CreateProcessingJob",
                "sagemaker:CreateHyperParameterTuningJob", "sagemaker:CreateModel"} <= set(statement["Action"])


def test_studio_key_guardrails(studio):
    _, guardrails = studio
    assert by_sid(guardrails, "DenyMissingVolumeKey")["Condition"] == {"Null": {"sagemaker:VolumeKmsKey": "true"}}
    assert by_sid(guardrails, "DenyOtherVolumeKey")["Condition"] == {
        "Null": {"sagemaker:VolumeKmsKey": "false"}, "ArnNotEquals": {"sagemaker:VolumeKmsKey": KEY}}
    assert by_sid(guardrails, "DenyMissingOutputKey")["Condition"] == {"Null": {"sagemaker:OutputKmsKey": "true"}}
    assert by_sid(guardrails, "DenyOtherOutputKey")["Condition"] == {
        "Null": {"sagemaker:OutputKmsKey": "false"}, "ArnNotEquals": {"sagemaker:OutputKmsKey": KEY}}
    for sid in ("DenyMissingVolumeKey", "DenyOtherVolumeKey"):
        assert set(by_sid(guardrails, sid)["Action"]) == set(VOLUME_KEY_ACTIONS)
    for sid in ("DenyMissingOutputKey", "DenyOtherOutputKey"):
        assert set(by_sid(guardrails, sid)["Action"]) == set(OUTPUT_KEY_ACTIONS)
    assert "sagemaker:CreateEndpointConfig" in by_sid(guardrails, "DenyMissingVolumeKey")["Action"]


def test_every_guardrail_names_only_actions_that_support_its_keys(built, stack):
    roles = build_roles(stack, require_network_isolation=True, require_inter_container_encryption=True,
                        volume_key_exempt_instance_types=["ml.g5.*"])
    for statement in policy_of(template_of(stack), roles["studio"], "Guardrails"):
        if statement["Sid"] in PRODUCTION_GUARDRAILS:
            continue  # tag conditions (aws:ResourceTag) and S3 object ARNs, tested in test_studio_isolation.py
        keys = {key.split(":", 1)[1] for block in statement["Condition"].values() for key in block}
        for action in as_list(statement["Action"]):
            assert keys <= SAR_CONDITION_KEYS[action], (statement["Sid"], action, keys)
    # ... and the tables cover every action that supports each key.
    for table, key in ((VPC_GUARDED_ACTIONS, "VpcSubnets"), (VOLUME_KEY_ACTIONS, "VolumeKmsKey"),
                       (OUTPUT_KEY_ACTIONS, "OutputKmsKey"), (NETWORK_ISOLATION_ACTIONS, "NetworkIsolation"),
                       (INTER_CONTAINER_ENCRYPTION_ACTIONS, "InterContainerTrafficEncryption")):
        assert set(table) == {a for a, keys in SAR_CONDITION_KEYS.items() if key in keys}, key


def test_studio_optional_guardrails(stack):
    roles = build_roles(stack, require_network_isolation=True, require_inter_container_encryption=True,
                        volume_key_exempt_instance_types=["ml.g5.*", "ml.p4d.*"])
    guardrails = policy_of(template_of(stack), roles["studio"], "Guardrails")
    isolation = by_sid(guardrails, "DenyWithoutNetworkIsolation")
    assert isolation["Condition"] == {"BoolIfExists": {"sagemaker:NetworkIsolation": "false"}}
    assert set(isolation["Action"]) == set(NETWORK_ISOLATION_ACTIONS)
    traffic = by_sid(guardrails, "DenyWithoutInterContainerEncryption")
    assert traffic["Condition"] == {"BoolIfExists": {"sagemaker:InterContainerTrafficEncryption": "false"}}
    assert set(traffic["Action"]) == set(INTER_CONTAINER_ENCRYPTION_ACTIONS)
    missing = by_sid(guardrails, "DenyMissingVolumeKey")
    assert missing["Condition"] == {
        "Null": {"sagemaker:VolumeKmsKey": "true"},
        "ForAnyValue:StringNotLike": {"sagemaker:InstanceTypes": ["ml.g5.*", "ml.p4d.*"]},
    }
    assert "sagemaker:CreateAutoMLJob" not in missing["Action"]  # no sagemaker:InstanceTypes key
    assert set(by_sid(guardrails, "DenyMissingVolumeKeyAutoML")["Action"]) == {
        "sagemaker:CreateAutoMLJob", "sagemaker:CreateAutoMLJobV2"}
    # A volume key that is given must still be the platform key, exempt instance type or not.
    assert set(by_sid(guardrails, "DenyOtherVolumeKey")["Action"]) == set(VOLUME_KEY_ACTIONS)


def test_studio_defaults_add_no_vpc_or_isolation_guardrails(stack):
    role = StudioUserRole(stack, "Studio", encryption_key=PlatformKey(stack, "Key"))
    guardrails = policy_of(template_of(stack), role, "Guardrails")
    assert {s["Sid"] for s in guardrails} == {"DenyMissingVolumeKey", "DenyOtherVolumeKey",
                                              "DenyMissingOutputKey", "DenyOtherOutputKey",
                                              "DenyChangingPlatformResources", "DenyChangingStackResources"}


# --- JobExecutionRole ---------------------------------------------------------------------------
def test_job_role_reads_data_writes_output_pulls_given_repositories(built):
    roles, t = built
    policy = policy_of(t, roles["job"])
    assert by_sid(policy, "ReadDataBucketsObjects")["Action"] == "s3:GetObject"
    assert set(by_sid(policy, "WriteOutputBucketObjects")["Action"]) == {
        "s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"}
    assert by_sid(policy, "WriteOutputBucketObjects")["Resource"] == DATA_OBJECTS
    pull = by_sid(policy, "PullImages")
    assert flat(pull["Resource"]) == (
        "arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/team/trainer")
    assert set(pull["Action"]) == {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                                   "ecr:BatchCheckLayerAvailability"}
    assert by_sid(policy, "UseEncryptionKeys")["Resource"] == KEY


def test_job_role_logs_metrics_and_vpc_network_interfaces(built):
    roles, t = built
    policy = policy_of(t, roles["job"])
    logs = by_sid(policy, "WriteSageMakerLogs")
    assert set(logs["Action"]) == {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                                   "logs:DescribeLogStreams"}
    assert flat(logs["Resource"]).endswith(":log-group:/aws/sagemaker/*")
    (metrics,) = with_action(policy, "cloudwatch:PutMetricData")
    assert metrics["Resource"] == "*"
    assert metrics["Condition"] == {"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*"]}}
    (eni,) = with_action(policy, "ec2:CreateNetworkInterface")
    assert set(as_list(eni["Action"])) == {"ecr:GetAuthorizationToken", *VPC_NETWORK_INTERFACE_ACTIONS}
    assert "Condition" not in eni  # SageMaker's job validation fails on scoped ENI permissions


def test_job_role_defaults_to_this_accounts_repositories_and_no_guardrails(stack):
    role = JobExecutionRole(stack, "Job", encryption_key=PlatformKey(stack, "Key"))
    t = template_of(stack)
    assert flat(by_sid(policy_of(t, role), "PullImages")["Resource"]) == (
        "arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/*")
    assert with_action(policy_of(t, role), "iam:PassRole") == []
    assert with_action(policy_of(t, role), "sagemaker:CreateTrainingJob") == []
    assert role.guardrails is None


def test_job_role_can_orchestrate_pipelines(stack):
    key = PlatformKey(stack, "Key")
    role = JobExecutionRole(stack, "Job", encryption_key=key, orchestrate_pipelines=True)
    t = template_of(stack)
    policy = policy_of(t, role)
    assert "sagemaker:CreateTrainingJob" in by_sid(policy, "RunPipelineSteps")["Action"]
    passing = by_sid(policy, "PassSelfToSageMaker")
    assert passing["Resource"] == {"Fn::GetAtt": [stack.get_logical_id(role.node.default_child), "Arn"]}
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    assert {s["Sid"] for s in policy_of(t, role, "Guardrails")} >= {"DenyMissingVolumeKey", "DenyOtherOutputKey"}


def test_bucket_keys_are_usable_too(stack):
    key = PlatformKey(stack, "Key")
    other = PlatformKey(stack, "Other")
    bucket = SecureBucket(stack, "Data", encryption_key=other)
    role = JobExecutionRole(stack, "Job", encryption_key=key, data_buckets=[bucket])
    use = by_sid(policy_of(template_of(stack), role), "UseEncryptionKeys")
    other_arn = {"Fn::GetAtt": [stack.get_logical_id(other.node.default_child), "Arn"]}
    assert sorted(map(json.dumps, use["Resource"])) == sorted(map(json.dumps, [KEY, other_arn]))


# --- ModelHostingRole ---------------------------------------------------------------------------
def test_hosting_role_reads_artifacts_only(built):
    roles, t = built
    policy = policy_of(t, roles["host"])
    assert by_sid(policy, "ReadModelArtifactsObjects")["Action"] == "s3:GetObject"
    assert with_action(policy, "s3:PutObject") == []
    assert set(by_sid(policy, "UseEncryptionKeys")["Action"]) == {"kms:Decrypt", "kms:DescribeKey"}
    logs = by_sid(policy, "WriteSageMakerLogs")
    assert flat(logs["Resource"]).endswith(":log-group:/aws/sagemaker/Endpoints/*")
    (metrics,) = with_action(policy, "cloudwatch:PutMetricData")
    assert metrics["Condition"]["StringLike"]["cloudwatch:namespace"] == [
        "/aws/sagemaker/Endpoints", "/aws/sagemaker/Endpoints/*", "/aws/sagemaker/InferenceComponents"]
    assert with_action(policy, "ec2:CreateNetworkInterfacePermission")


def test_hosting_role_data_capture_and_rollback_alarms(stack):
    key = PlatformKey(stack, "Key")
    capture = SecureBucket(stack, "Capture", encryption_key=key)
    alarm = cloudwatch.Alarm.from_alarm_arn(stack, "Alarm", "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:p99")
    role = ModelHostingRole(stack, "Host", encryption_key=key, data_capture_bucket=capture, rollback_alarms=[alarm])
    policy = policy_of(template_of(stack), role)
    assert set(by_sid(policy, "WriteDataCaptureObjects")["Action"]) == {"s3:PutObject", "s3:AbortMultipartUpload"}
    assert {"kms:Encrypt", "kms:GenerateDataKey"} <= set(by_sid(policy, "UseEncryptionKeys")["Action"])
    assert by_sid(policy, "ReadRollbackAlarms") == {
        "Action": "cloudwatch:DescribeAlarms", "Effect": "Allow",
        "Resource": "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:p99", "Sid": "ReadRollbackAlarms"}


# --- validation ---------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [StudioUserRole, JobExecutionRole])
def test_encryption_key_is_required(stack, cls):
    with pytest.raises(ValidationError, match="encryption_key"):
        cls(stack, "Role", encryption_key=None)


def test_hosting_role_without_platform_key_uses_only_the_buckets_keys(stack):
    from aws_cdk import aws_s3 as s3

    bucket = s3.Bucket(stack, "Models", encryption_key=PlatformKey(stack, "BucketKey"))
    ModelHostingRole(stack, "Role", model_data_buckets=[bucket])
    doc = next(iter(resources(template_of(stack), "AWS::IAM::ManagedPolicy").values()))["Properties"]["PolicyDocument"]
    key_statement = next(s for s in doc["Statement"] if s.get("Sid") == "UseEncryptionKeys")
    assert key_statement["Resource"] == {"Fn::GetAtt": ["BucketKey7092080A", "Arn"]}


def test_hosting_role_without_any_key_has_no_kms_statement(stack):
    ModelHostingRole(stack, "Role")
    doc = next(iter(resources(template_of(stack), "AWS::IAM::ManagedPolicy").values()))["Properties"]["PolicyDocument"]
    assert not any(str(s.get("Action", "")).startswith("kms:") for s in doc["Statement"])


def test_empty_subnets_rejected(stack):
    _, groups = imported_network(stack)
    with pytest.raises(ValidationError, match="subnets"):
        StudioUserRole(stack, "Studio", encryption_key=PlatformKey(stack, "Key"), subnets=[], security_groups=groups)


def test_empty_security_groups_rejected(stack):
    subnets, _ = imported_network(stack)
    with pytest.raises(ValidationError, match="security_groups"):
        StudioUserRole(stack, "Studio", encryption_key=PlatformKey(stack, "Key"), subnets=subnets, security_groups=[])


def test_subnets_without_security_groups_rejected(stack):
    subnets, _ = imported_network(stack)
    with pytest.raises(ValidationError, match="security_groups") as err:
        StudioUserRole(stack, "Studio", encryption_key=PlatformKey(stack, "Key"), subnets=subnets)
    assert err.value.construct_path == "Test/Studio"


def test_security_groups_without_subnets_rejected(stack):
    _, groups = imported_network(stack)
    with pytest.raises(ValidationError, match="subnets"):
        StudioUserRole(stack, "Studio", encryption_key=PlatformKey(stack, "Key"), security_groups=groups)


def test_bad_domain_id_rejected_and_tokens_skipped(stack):
    key = PlatformKey(stack, "Key")
    with pytest.raises(ValidationError, match="domain_id"):
        StudioUserRole(stack, "Studio", encryption_key=key, domain_id="my-domain")
    token = cdk.Fn.import_value("DomainId")
    StudioUserRole(stack, "Imported", encryption_key=key, domain_id=token)


def test_exempt_instance_types_must_be_sagemaker_types(stack):
    with pytest.raises(ValidationError, match="volume_key_exempt_instance_types"):
        StudioUserRole(stack, "Studio", encryption_key=PlatformKey(stack, "Key"),
                       volume_key_exempt_instance_types=["g5.xlarge"])


def test_policy_that_could_pass_iam_size_limit_fails_synth(stack):
    key = PlatformKey(stack, "Key")
    buckets = [s3.Bucket.from_bucket_name(stack, f"B{i}", f"bucket-{i:02d}") for i in range(40)]
    StudioUserRole(stack, "Studio", encryption_key=key, data_buckets=buckets)
    with pytest.raises(RuntimeError, match="6144"):
        template_of(stack)


# --- compliance ---------------------------------------------------------------------------------
def test_all_nag_packs_report_no_unacknowledged_findings(tmp_path):
    app = new_app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Roles")
    roles = build_roles(stack, require_network_isolation=True, volume_key_exempt_instance_types=["ml.g5.*"])
    key = roles["key"]
    StudioUserRole(stack, "StudioDefaults", encryption_key=key)
    JobExecutionRole(stack, "JobDefaults", encryption_key=key, orchestrate_pipelines=True)
    ModelHostingRole(stack, "HostDefaults", encryption_key=key, data_capture_bucket=roles["data"])
    result = synth_checked(app, tmp_path)
    assert [f"{rule} {path}" for rule, path, _ in result.unacknowledged_findings()] == []
    # Each acknowledgement is an IAM5 finding on a role's permissions policy, with its reason.
    acks = {path: rules for path, rules in result.acknowledgements().items() if "/Policy" in path}
    studio_acks = acks["/Roles/Studio/Policy"]
    assert all(rule.startswith("AwsSolutions::AwsSolutions-IAM5[") for rule in studio_acks)
    unscoped = studio_acks["AwsSolutions::AwsSolutions-IAM5[Resource::*]"]
    assert "ecr:GetAuthorizationToken" in unscoped and "sagemaker:ListTrainingJobs" in unscoped
    job_unscoped = acks["/Roles/Job/Policy"]["AwsSolutions::AwsSolutions-IAM5[Resource::*]"]
    assert "ec2:CreateNetworkInterface" in job_unscoped and "cloudwatch:PutMetricData" in job_unscoped


def test_unknown_pipeline_resource_kind_is_refused():
    from sagemaker_constructs import JobExecutionRole, PlatformKey
    from tests.conftest import new_stack

    stack = new_stack()
    key = PlatformKey(stack, "Key")
    with pytest.raises(ValidationError, match=r"pipeline_resources='batch-job'.*allowed: .*training-job.*automl-job"):
        JobExecutionRole(stack, "Jobs", encryption_key=key, orchestrate_pipelines=True,
                         pipeline_resources=["training-job", "batch-job"])


def test_a_studio_policy_that_could_pass_iam_size_limit_fails_synth(stack):
    """The size check covers every policy the role makes, the Studio policy included."""
    role = StudioUserRole(stack, "Studio", encryption_key=PlatformKey(stack, "Key"))
    role.studio_policy.add_statements(iam.PolicyStatement(
        actions=["s3:GetObject"], resources=[f"arn:aws:s3:::bucket-{i:03d}-with-a-long-name/*" for i in range(160)]))
    with pytest.raises(RuntimeError, match=r"StudioPolicy.*6144"):
        template_of(stack)


# --- the policy-size check's Python bound ---------------------------------------------------------
def _execution_roles(app: cdk.App):
    from sagemaker_constructs.security.roles import _SageMakerExecutionRole

    return [c for c in app.node.find_all() if isinstance(c, _SageMakerExecutionRole)]


def test_size_bound_from_python_statements_covers_the_resolved_policy(tmp_path):
    """For every policy of every execution role in the reference app, the statements recorded in
    Python are all the policy holds, and the size bounded from them (tokens resolved one by one)
    is at least the size estimated from the resolved document: the check may skip the resolve."""
    import app as reference_app
    from sagemaker_constructs._internal.managed_role import known_statements
    from sagemaker_constructs.security.roles import _substituted, _tokens_of, estimated_policy_size

    app = new_app(outdir=str(tmp_path))
    reference_app.build(app)  # not synthesized: resolving a document merges its statements (minimizePolicies)
    checked = 0
    for role in _execution_roles(app):
        stack = cdk.Stack.of(role)
        for policy in role._own_policies():
            statements = known_statements(policy)
            assert statements is not None, policy.node.path
            assert policy.document.statement_count == len(statements), policy.node.path
            tokens: set[str] = set()
            assert _tokens_of(statements, tokens), policy.node.path
            ordered = sorted(tokens)
            resolved = dict(zip(ordered, stack.resolve(ordered)))
            bound = estimated_policy_size(_substituted({"Version": "2012-10-17", "Statement": statements}, resolved))
            exact = estimated_policy_size(stack.resolve(policy.document))
            assert bound >= exact, policy.node.path
            assert bound <= exact * 1.5, policy.node.path  # a bound, not a guess far above it
            checked += 1
    assert checked >= 20


def test_substituted_writes_the_join_cdk_writes(stack):
    from sagemaker_constructs.security.roles import _substituted, _tokens_of

    key = PlatformKey(stack, "Key")
    text = f"arn:{cdk.Aws.PARTITION}:s3:::x/{key.key_arn}/*"
    tokens: set[str] = set()
    assert _tokens_of({"Resource": [text, key.key_arn, "plain"]}, tokens)
    ordered = sorted(tokens)
    resolved = dict(zip(ordered, stack.resolve(ordered)))
    assert _substituted([text, key.key_arn, "plain"], resolved) == [
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::x/", stack.resolve(key.key_arn), "/*"]]},
        stack.resolve(key.key_arn), "plain"]
    # Anything the bound cannot read sends the policy to the exact check.
    assert not _tokens_of({"Resource": cdk.Fn.split(",", cdk.Fn.import_value("Subnets"))}, set())
    assert not _tokens_of({"Resource": 1.5}, set())
    assert not _tokens_of({f"{key.key_arn}": "x"}, set())


def test_statements_added_to_the_policy_directly_are_still_sized(stack):
    """A statement added to ``role.policy`` itself bypasses Python: the counts differ, and the
    policy is resolved and sized as it is."""
    role = ModelHostingRole(stack, "Host", encryption_key=PlatformKey(stack, "Key"))
    role.policy.add_statements(iam.PolicyStatement(
        actions=["s3:GetObject"], resources=[f"arn:aws:s3:::bucket-{i:03d}-with-a-long-name/*" for i in range(160)]))
    with pytest.raises(RuntimeError, match=r"Host/Policy.*6144"):
        template_of(stack)


def test_statements_that_merge_under_the_limit_pass(stack):
    """Unmerged, the Python bound passes the limit; CDK's minimizePolicies merges the statements
    into one well under it: the exact estimate decides, so synth succeeds."""
    role = ModelHostingRole(stack, "Host", encryption_key=PlatformKey(stack, "Key"))
    for i in range(70):
        role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"],
                                               resources=[f"arn:aws:s3:::bucket-{i:03d}/*"]))
    from sagemaker_constructs._internal.managed_role import known_statements
    from sagemaker_constructs.security.roles import MANAGED_POLICY_SIZE_LIMIT, estimated_policy_size

    assert estimated_policy_size({"Statement": known_statements(role.policy)}) > MANAGED_POLICY_SIZE_LIMIT
    statements = [s for s in template_of(stack)["Resources"].values() if s["Type"] == "AWS::IAM::ManagedPolicy"][0][
        "Properties"]["PolicyDocument"]["Statement"]
    assert any(isinstance(s["Resource"], list) and len(s["Resource"]) == 70 for s in statements)


def test_pipeline_role_with_no_job_types_synthesizes(stack):
    """orchestrate_pipelines with pipeline_resources=[] (steps that create no job) wrote
    RunPipelineSteps with no Resource, and synth failed in jsii; now there is no such statement."""
    role = JobExecutionRole(stack, "Role", encryption_key=PlatformKey(stack, "Key"), orchestrate_pipelines=True,
                            pipeline_resources=[])
    doc = template_of(stack)["Resources"][stack.get_logical_id(role.policy.node.default_child)]["Properties"]
    sids = {s.get("Sid") for s in doc["PolicyDocument"]["Statement"]}
    assert "RunPipelineSteps" not in sids and "PassSelfToSageMaker" in sids


@pytest.mark.parametrize("argument, value", [("pipeline_resources", ["model"]),
                                             ("volume_key_exempt_instance_types", ["ml.g5.*"])])
def test_pipeline_settings_without_orchestrate_pipelines_are_refused(stack, argument, value):
    """Both shape only what orchestrate_pipelines writes: without it they were silently ignored."""
    with pytest.raises(ValidationError, match=f"invalid {argument}=.*only with orchestrate_pipelines=True"):
        JobExecutionRole(stack, "Role", encryption_key=PlatformKey(stack, "Key"), **{argument: value})
