"""AuditTrail: validated, encrypted, multi-region CloudTrail with data events."""

from __future__ import annotations

import json

import pytest
from aws_cdk import aws_s3 as s3

from sagemaker_constructs import MAX_DATA_EVENT_RESOURCES, AuditTrail, PlatformKey, SecureBucket, ValidationError
from tests.harness.templates import only, resources, template_of


@pytest.fixture
def trail(stack):
    key = PlatformKey(stack, "Key")
    data = SecureBucket(stack, "Data", encryption_key=key)
    trail = AuditTrail(stack, "Trail", encryption_key=key, data_event_buckets=[data])
    return trail, template_of(stack)


def test_multi_region_validated_encrypted(trail):
    _, t = trail
    props = only(t, "AWS::CloudTrail::Trail")
    assert props["IsMultiRegionTrail"] is True
    assert props["IncludeGlobalServiceEvents"] is True
    assert props["EnableLogFileValidation"] is True
    assert props["KMSKeyId"] == {"Fn::GetAtt": ["Key961B73FD", "Arn"]}
    assert props["IsLogging"] is True


def test_delivers_to_encrypted_log_group_with_retention(trail):
    _, t = trail
    props = only(t, "AWS::CloudTrail::Trail")
    group_id = props["CloudWatchLogsLogGroupArn"]["Fn::GetAtt"][0]
    group = resources(t, "AWS::Logs::LogGroup")[group_id]
    assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["Key961B73FD", "Arn"]}
    assert group["Properties"]["RetentionInDays"] == 365
    assert group["DeletionPolicy"] == "Retain"


def test_logs_go_to_a_retained_secure_bucket(trail):
    construct, t = trail
    assert isinstance(construct.bucket, SecureBucket)
    props = only(t, "AWS::CloudTrail::Trail")
    bucket = resources(t, "AWS::S3::Bucket")[props["S3BucketName"]["Ref"]]
    assert bucket["DeletionPolicy"] == "Retain"
    enc = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert enc["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert "LoggingConfiguration" in bucket["Properties"]


def test_bucket_policy_lets_only_cloudtrail_write(trail):
    _, t = trail
    props = only(t, "AWS::CloudTrail::Trail")
    policy = next(p for p in resources(t, "AWS::S3::BucketPolicy").values()
                  if p["Properties"]["Bucket"] == props["S3BucketName"])
    allows = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert {s["Principal"]["Service"] for s in allows} == {"cloudtrail.amazonaws.com"}


def test_all_management_events_and_s3_data_events(trail):
    _, t = trail
    selectors = only(t, "AWS::CloudTrail::Trail")["EventSelectors"]
    management, data = selectors
    assert management == {"IncludeManagementEvents": True, "ReadWriteType": "All"}
    assert data["ReadWriteType"] == "All"
    assert data["IncludeManagementEvents"] is False
    (resource,) = data["DataResources"]
    assert resource["Type"] == "AWS::S3::Object"


def test_no_data_events_by_default(stack):
    AuditTrail(stack, "Trail", encryption_key=PlatformKey(stack, "Key"))
    props = only(template_of(stack), "AWS::CloudTrail::Trail")
    assert props.get("EventSelectors", []) in ([], None) or all(
        not s.get("DataResources") for s in props["EventSelectors"]
    )


def test_rejects_more_data_event_buckets_than_cloudtrail_allows(stack):
    key = PlatformKey(stack, "Key")
    buckets = [s3.Bucket.from_bucket_name(stack, f"B{i}", f"bucket-{i}") for i in range(MAX_DATA_EVENT_RESOURCES + 1)]
    with pytest.raises(ValidationError, match="at most 250"):
        AuditTrail(stack, "Trail", encryption_key=key, data_event_buckets=buckets)


def test_accepts_exactly_the_limit(stack):
    key = PlatformKey(stack, "Key")
    buckets = [s3.Bucket.from_bucket_name(stack, f"B{i}", f"bucket-{i}") for i in range(MAX_DATA_EVENT_RESOURCES)]
    AuditTrail(stack, "Trail", encryption_key=key, data_event_buckets=buckets)


def test_rejects_duplicate_buckets(stack):
    key = PlatformKey(stack, "Key")
    b = SecureBucket(stack, "Data", encryption_key=key)
    with pytest.raises(ValidationError, match="at most once"):
        AuditTrail(stack, "Trail", encryption_key=key, data_event_buckets=[b, b])


def test_rejects_one_bucket_imported_twice(stack):
    # Two imports of one bucket would list its ARN twice in the selector's Values (uniqueItems in
    # CloudFormation's schema): the deployment would fail.
    key = PlatformKey(stack, "Key")
    a = s3.Bucket.from_bucket_name(stack, "A", "team-data")
    b = s3.Bucket.from_bucket_arn(stack, "B", "arn:aws:s3:::team-data")
    with pytest.raises(ValidationError, match=r"Test/A and Test/B \(bucket team-data\).*at most once"):
        AuditTrail(stack, "Trail", encryption_key=key, data_event_buckets=[a, b])


def test_accepts_distinct_imported_buckets(stack):
    key = PlatformKey(stack, "Key")
    buckets = [s3.Bucket.from_bucket_name(stack, n, n.lower() + "-data") for n in ("A", "B")]
    AuditTrail(stack, "Trail", encryption_key=key, data_event_buckets=buckets)


@pytest.mark.parametrize("name", ["ab", "-bad", "has space", "x" * 129])
def test_rejects_bad_trail_names(stack, name):
    with pytest.raises(ValidationError, match="trail_name"):
        AuditTrail(stack, "Trail", encryption_key=PlatformKey(stack, "Key"), trail_name=name)


def test_requires_a_key(stack):
    with pytest.raises(ValidationError, match="encryption_key"):
        AuditTrail(stack, "Trail", encryption_key=None)


def test_trail_is_retained(trail):
    _, t = trail
    (res,) = resources(t, "AWS::CloudTrail::Trail").values()
    assert res["DeletionPolicy"] == "Retain" and res["UpdateReplacePolicy"] == "Retain"


def _trail_bucket(template: dict) -> dict:
    (bucket,) = [r["Properties"] for lid, r in resources(template, "AWS::S3::Bucket").items()
                 if lid.startswith("TrailBucket") and "LoggingConfiguration" in r["Properties"]]
    return bucket


def test_log_bucket_has_object_lock_in_governance_mode(trail):
    """CT.S3.PR.9: the trail's log files are WORM for a year (governance mode)."""
    bucket = _trail_bucket(trail[1])
    assert bucket["ObjectLockEnabled"] is True
    assert bucket["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 365}},
    }


def test_object_lock_can_be_turned_off_or_shortened(stack):
    from aws_cdk import Duration

    key = PlatformKey(stack, "Key")
    AuditTrail(stack, "Short", encryption_key=key, object_lock_retention=Duration.days(30))
    AuditTrail(stack, "None", encryption_key=key, object_lock_retention=None)
    t = template_of(stack)
    buckets = {lid: r["Properties"] for lid, r in resources(t, "AWS::S3::Bucket").items()
               if "LoggingConfiguration" in r["Properties"]}
    short = next(b for lid, b in buckets.items() if lid.startswith("Short"))
    none = next(b for lid, b in buckets.items() if lid.startswith("None"))
    assert short["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]["Days"] == 30
    assert "ObjectLockEnabled" not in none and "ObjectLockConfiguration" not in none


@pytest.mark.parametrize("days", [0, 36501])
def test_rejects_object_lock_retention_out_of_range(stack, days):
    from aws_cdk import Duration

    with pytest.raises(ValidationError, match="object_lock_retention"):
        AuditTrail(stack, "Trail", encryption_key=PlatformKey(stack, "Key"), object_lock_retention=Duration.days(days))


def test_object_lock_retention_from_a_parameter_is_a_ref(stack):
    """CDK's ObjectLockRetention checked 'at least 1 day' on a CfnParameter's number encoding and synth
    failed with its raw MustBeObjectLockRetention error; the parameter is now the retention's Ref, and
    the bucket stays unusable as a server-access-log destination (a default retention)."""
    import aws_cdk as cdk
    from aws_cdk import Duration

    days = cdk.CfnParameter(stack, "RetentionDays", type="Number").value_as_number
    key = PlatformKey(stack, "Key")
    trail = AuditTrail(stack, "Trail", encryption_key=key, object_lock_retention=Duration.days(days))
    bucket = _trail_bucket(template_of(stack))
    assert bucket["ObjectLockEnabled"] is True
    assert bucket["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": {"Ref": "RetentionDays"}}},
    }
    with pytest.raises(ValidationError, match="Object Lock default retention"):
        SecureBucket(stack, "Data", encryption_key=key, server_access_logs_bucket=trail.bucket)


def test_object_lock_retention_from_a_parameter_in_another_unit_is_refused(stack):
    import aws_cdk as cdk
    from aws_cdk import Duration

    hours = cdk.CfnParameter(stack, "RetentionHours", type="Number").value_as_number
    with pytest.raises(ValidationError, match=r"object_lock_retention.*Duration.days\(<parameter>\)"):
        AuditTrail(stack, "Trail", encryption_key=PlatformKey(stack, "Key"), object_lock_retention=Duration.hours(hours))


def test_organization_trail_lets_cloudtrail_write_the_organizations_logs(stack):
    """CloudTrail writes an organization trail's member-account logs under AWSLogs/<org id>/; without
    org_id (which AuditTrail could not pass) CDK left that statement out of the bucket policy, with
    a warning only, and the member accounts' logs could not be delivered."""
    AuditTrail(stack, "Trail", encryption_key=PlatformKey(stack, "Key"), is_organization_trail=True,
               org_id="o-a1b2c3d4e5", trail_name="org-trail")
    t = template_of(stack)
    (trail,) = resources(t, "AWS::CloudTrail::Trail").values()
    assert trail["Properties"]["IsOrganizationTrail"] is True
    policy = next(p for k, p in resources(t, "AWS::S3::BucketPolicy").items() if "AccessLogs" not in k)
    (org,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"]
              if "AWSLogs/o-a1b2c3d4e5/*" in json.dumps(s.get("Resource"))]
    assert org["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert org["Action"] == "s3:PutObject"
    assert "trail/org-trail" in json.dumps(org["Condition"]["StringEquals"]["aws:SourceArn"])


@pytest.mark.parametrize("kwargs, argument", [
    ({"is_organization_trail": True, "trail_name": "org-trail"}, "org_id"),
    ({"is_organization_trail": True, "org_id": "o-a1b2c3d4e5"}, "trail_name"),
    ({"is_organization_trail": True, "org_id": "123456789012", "trail_name": "org-trail"}, "org_id"),
    ({"org_id": "o-a1b2c3d4e5"}, "org_id"),
])
def test_organization_trail_settings_are_checked(stack, kwargs, argument):
    with pytest.raises(ValidationError, match=f"invalid {argument}="):
        AuditTrail(stack, "Trail", encryption_key=PlatformKey(stack, "Key"), **kwargs)
