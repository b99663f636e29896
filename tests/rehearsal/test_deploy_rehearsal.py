"""Deploy rehearsal of the platform stack in moto's in-process CloudFormation.

moto 5.2.5 skips some resource types silently. They are listed here per stack so a new
skipped type fails the test; each is covered by template assertions instead.
"""

from __future__ import annotations

import json

import pytest

from tests.harness.reference import rehearse_reference
from tests.harness.rehearsal import skipped_types
from tests.harness.templates import resources

# Resource types moto does not create, and the tests that cover them by template assertions.
EXPECTED_SKIPPED = {
    "platform": {
        "AWS::CloudTrail::Trail": "tests/unit/test_audit.py, test_platform_trail_and_bucket_policies below",
        "AWS::S3::BucketPolicy": "tests/unit/test_storage.py (TLS, log delivery), test_audit.py (CloudTrail)",
        "AWS::SageMaker::Domain": "tests/unit/test_studio.py, test_platform_studio_domain below",
        "AWS::SageMaker::UserProfile": "tests/unit/test_studio.py::test_user_profiles, test_platform_studio_domain",
        "AWS::EC2::SecurityGroupEgress": "tests/unit/test_studio.py::test_security_group_has_exactly_the_rules_studio_needs",
        "AWS::SageMaker::Space": "tests/unit/test_studio_apps.py (shared spaces), test_platform_studio_extras below",
        "AWS::SageMaker::FeatureGroup": "tests/unit/test_feature_store.py, test_platform_studio_extras below",
        "AWS::SageMaker::MlflowTrackingServer": "tests/unit/test_mlflow.py, test_platform_studio_extras below",
        # The tracking server's office hours (MlflowTrackingServer.add_running_schedule).
        "AWS::Scheduler::Schedule": "tests/unit/test_mlflow_schedule.py",
        # The Canvas idle shutdown (a SecureFunction on a schedule) and the platform's alarm topic.
        "AWS::CloudWatch::Alarm": "tests/unit/test_canvas_idle.py::test_default_two_hours_every_fifteen_minutes",
        "AWS::Lambda::EventInvokeConfig": "tests/unit/test_canvas_idle.py::test_default_two_hours_every_fifteen_minutes",
        "AWS::SQS::QueuePolicy": "tests/unit/test_invoke.py (a SecureFunction's dead-letter queue, TLS-only)",
        "AWS::SNS::TopicPolicy": "tests/unit/test_retention.py (the alarm topic, TLS-only by enforce_ssl)",
    },
}


@pytest.fixture(scope="module")
def platform_rehearsal(reference):
    with rehearse_reference(reference, "platform") as r:
        yield reference.template("platform"), r


def test_platform_stack_creates(platform_rehearsal):
    _, r = platform_rehearsal
    assert r.status == "CREATE_COMPLETE", r.status_reason


def test_platform_skipped_types_are_the_known_ones(platform_rehearsal):
    template, r = platform_rehearsal
    assert skipped_types(template, r) == set(EXPECTED_SKIPPED["platform"])


def test_platform_key_is_enabled_with_rotation(platform_rehearsal):
    template, r = platform_rehearsal
    kms = r.client("kms")
    (key_id,) = resources(template, "AWS::KMS::Key")
    meta = kms.describe_key(KeyId=r.physical_id(key_id))["KeyMetadata"]
    assert meta["KeyState"] == "Enabled"
    assert meta["KeyManager"] == "CUSTOMER"
    assert kms.get_key_rotation_status(KeyId=meta["KeyId"])["KeyRotationEnabled"] is True
    aliases = {a["AliasName"] for a in kms.list_aliases(KeyId=meta["KeyId"])["Aliases"]}
    assert "alias/sagemaker-platform" in aliases


def test_platform_buckets_are_encrypted_and_private(platform_rehearsal):
    template, r = platform_rehearsal
    s3 = r.client("s3")
    buckets = resources(template, "AWS::S3::Bucket")
    assert len(buckets) == 4
    for logical_id in buckets:
        name = r.physical_id(logical_id)
        rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
        algorithm = rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
        assert algorithm == ("AES256" if "AccessLogs" in logical_id else "aws:kms"), logical_id
        # moto 5.2.5 applies neither PublicAccessBlockConfiguration nor VersioningConfiguration
        # from CloudFormation: tests/unit/test_storage.py asserts both on the template.


def test_platform_vpc_has_no_internet_gateway(platform_rehearsal):
    template, r = platform_rehearsal
    ec2 = r.client("ec2")
    (vpc_logical,) = resources(template, "AWS::EC2::VPC")
    vpc_id = r.physical_id(vpc_logical)
    assert ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["CidrBlock"] == "10.0.0.0/16"
    igws = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])
    assert igws["InternetGateways"] == []
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    assert len(subnets) == 2 and not any(s["MapPublicIpOnLaunch"] for s in subnets)
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["VpcEndpoints"]
    assert len(endpoints) == len(resources(template, "AWS::EC2::VPCEndpoint"))


def test_platform_flow_log_role_trusts_only_vpc_flow_logs(platform_rehearsal):
    template, r = platform_rehearsal
    iam = r.client("iam")
    roles = {k: v for k, v in resources(template, "AWS::IAM::Role").items() if "FlowLog" in k}
    (logical,) = roles
    role = iam.get_role(RoleName=r.physical_id(logical))["Role"]
    doc = role["AssumeRolePolicyDocument"]
    doc = json.loads(doc) if isinstance(doc, str) else doc
    assert {s["Principal"]["Service"] for s in doc["Statement"]} == {"vpc-flow-logs.amazonaws.com"}


def test_platform_default_sg_custom_resource_was_answered(platform_rehearsal):
    template, r = platform_rehearsal
    (logical,) = resources(template, "Custom::VpcRestrictDefaultSG")
    request = r.custom_resource_request(logical)
    assert request.request_type == "Create"
    assert "DefaultSecurityGroupId" in request.properties


def test_platform_trail_and_bucket_policies(platform_rehearsal):
    """Template assertions for what moto skips: the trail and every bucket policy."""
    template, _ = platform_rehearsal
    (trail,) = resources(template, "AWS::CloudTrail::Trail").values()
    assert trail["Properties"]["EnableLogFileValidation"] is True
    assert trail["Properties"]["IsMultiRegionTrail"] is True
    assert "KMSKeyId" in trail["Properties"]
    policies = resources(template, "AWS::S3::BucketPolicy")
    assert len(policies) == 4
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
                   for s in statements)


def test_platform_studio_teardown_was_answered_and_its_functions_exist(platform_rehearsal):
    template, r = platform_rehearsal
    (logical,) = resources(template, "Custom::StudioTeardown")
    request = r.custom_resource_request(logical)
    assert request.request_type == "Create"
    assert request.properties["RemoveHomeEfs"] == "false"
    assert request.properties["S3PrefixListName"] == "com.amazonaws.us-east-1.s3"
    lam = r.client("lambda")
    handlers = {}
    for lid, res in resources(template, "AWS::Lambda::Function").items():
        config = lam.get_function(FunctionName=r.physical_id(lid))["Configuration"]
        handlers[config["Handler"]] = config
    assert handlers["studio_teardown.on_event"]["Runtime"] == "python3.14"
    assert handlers["studio_teardown.is_complete"]["Runtime"] == "python3.14"
    sfn = r.client("stepfunctions")
    (machine,) = resources(template, "AWS::StepFunctions::StateMachine")
    assert sfn.describe_state_machine(stateMachineArn=r.physical_id(machine))["status"] == "ACTIVE"


def test_platform_studio_execution_role_has_no_aws_managed_policies(platform_rehearsal):
    template, r = platform_rehearsal
    iam = r.client("iam")
    role_ids = [lid for lid in resources(template, "AWS::IAM::Role") if lid.startswith("StudioExecutionRole")]
    (role_id,) = role_ids
    attached = iam.list_attached_role_policies(RoleName=r.physical_id(role_id))["AttachedPolicies"]
    assert attached and all(":aws:policy/" not in p["PolicyArn"] for p in attached)


def test_platform_studio_domain(platform_rehearsal):
    """Template assertions for the Domain and profiles moto skips."""
    template, _ = platform_rehearsal
    (domain,) = resources(template, "AWS::SageMaker::Domain").values()
    props = domain["Properties"]
    assert props["AppNetworkAccessType"] == "VpcOnly"
    assert props["AuthMode"] == "IAM"
    assert "KmsKeyId" in props
    profiles = resources(template, "AWS::SageMaker::UserProfile")
    assert sorted(p["Properties"]["UserProfileName"] for p in profiles.values()) == ["data-scientist", "ml-engineer"]



def test_platform_studio_extras(platform_rehearsal):
    """Template assertions for the shared space, feature group and tracking server moto skips."""
    template, _ = platform_rehearsal
    (space,) = resources(template, "AWS::SageMaker::Space").values()
    assert space["Properties"]["SpaceSharingSettings"] == {"SharingType": "Shared"}
    assert space["Properties"]["OwnershipSettings"]["OwnerUserProfileName"] == "data-scientist"
    (group,) = resources(template, "AWS::SageMaker::FeatureGroup").values()
    props = group["Properties"]
    assert [d["FeatureName"] for d in props["FeatureDefinitions"]] == [
        "record_id", "event_time", "sepal_length", "sepal_width", "petal_length", "petal_width", "species"]
    assert props["OnlineStoreConfig"]["SecurityConfig"]["KmsKeyId"] and props["OfflineStoreConfig"]["S3StorageConfig"]["KmsKeyId"]
    (server,) = resources(template, "AWS::SageMaker::MlflowTrackingServer").values()
    assert server["Properties"]["TrackingServerSize"] == "Small"
    (canvas,) = resources(template, "Custom::CanvasSettings").values()
    assert canvas["Properties"]["CanvasAppSettings"]["DirectDeploySettings"] == {"Status": "DISABLED"}
