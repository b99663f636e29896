"""Deploy rehearsal: each reference stack is created in moto's in-process CloudFormation.

moto 5.2.5 skips some resource types silently. They are listed here per stack so a new
skipped type fails the test; each is covered by template assertions instead.
"""

from __future__ import annotations

import json

import pytest

from tests.harness.rehearsal import rehearse, skipped_types
from tests.harness.templates import resources

# Resource types moto does not create, and the tests that cover them by template assertions.
EXPECTED_SKIPPED = {
    "platform": {
        "AWS::CloudTrail::Trail": "tests/unit/test_audit.py, test_platform_trail_and_bucket_policies below",
        "AWS::S3::BucketPolicy": "tests/unit/test_storage.py (TLS, log delivery), test_audit.py (CloudTrail)",
    },
}


@pytest.fixture(scope="module")
def platform_rehearsal(reference):
    template = reference.template("platform")
    with rehearse(template, stack_name="SageMakerPlatform", assets_dir=reference.outdir) as r:
        yield template, r


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
