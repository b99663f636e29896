"""SecureBucket: secure defaults and validation."""

from __future__ import annotations

import pytest
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from sagemaker_constructs import PlatformKey, SecureBucket, ValidationError
from tests.harness.templates import resources, template_of


def _buckets(stack):
    t = template_of(stack)
    found = resources(t, "AWS::S3::Bucket")
    main = next(v for k, v in found.items() if "AccessLogs" not in k)
    logs = [v for k, v in found.items() if "AccessLogs" in k]
    return t, main, logs


def test_sse_kms_with_bucket_key_and_ssec_blocked(stack):
    key = PlatformKey(stack, "Key")
    SecureBucket(stack, "Bucket", encryption_key=key)
    _, main, _ = _buckets(stack)
    (rule,) = main["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["BucketKeyEnabled"] is True
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {"Fn::GetAtt": ["Key961B73FD", "Arn"]}
    assert rule["BlockedEncryptionTypes"] == {"EncryptionType": ["SSE-C"]}


def test_private_acls_disabled_versioned_retained(stack):
    SecureBucket(stack, "Bucket", encryption_key=PlatformKey(stack, "Key"))
    _, main, _ = _buckets(stack)
    props = main["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert main["DeletionPolicy"] == "Retain"


def test_tls_enforced_with_minimum_version(stack):
    SecureBucket(stack, "Bucket", encryption_key=PlatformKey(stack, "Key"))
    t = template_of(stack)
    policies = [p for k, p in resources(t, "AWS::S3::BucketPolicy").items() if "AccessLogs" not in k]
    statements = policies[0]["Properties"]["PolicyDocument"]["Statement"]
    denies = [s for s in statements if s["Effect"] == "Deny"]
    conditions = [s["Condition"] for s in denies]
    assert {"Bool": {"aws:SecureTransport": "false"}} in conditions
    assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in conditions


def test_noncurrent_versions_expire_and_uploads_abort(stack):
    SecureBucket(stack, "Bucket", encryption_key=PlatformKey(stack, "Key"))
    _, main, _ = _buckets(stack)
    (rule,) = main["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert rule["Status"] == "Enabled"


def test_creates_access_log_bucket_with_sse_s3_and_delivery_policy(stack):
    SecureBucket(stack, "Bucket", encryption_key=PlatformKey(stack, "Key"))
    t, main, logs = _buckets(stack)
    assert len(logs) == 1
    log_bucket = logs[0]
    (rule,) = log_bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert log_bucket["Properties"]["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True
    assert log_bucket["DeletionPolicy"] == "Retain"
    log_id = next(k for k in resources(t, "AWS::S3::Bucket") if "AccessLogs" in k)
    assert main["Properties"]["LoggingConfiguration"] == {"DestinationBucketName": {"Ref": log_id}}
    policy = next(p for k, p in resources(t, "AWS::S3::BucketPolicy").items() if "AccessLogs" in k)
    delivery = next(s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == "S3ServerAccessLogsPolicy")
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert "aws:SourceArn" in delivery["Condition"]["ArnLike"]
    assert "aws:SourceAccount" in delivery["Condition"]["StringEquals"]


def test_uses_given_log_bucket_with_prefix(stack):
    logs = s3.Bucket.from_bucket_name(stack, "Logs", "central-access-logs")
    key = kms.Key.from_key_arn(stack, "Imported", "arn:aws:kms:us-east-1:111122223333:key/abcd")
    SecureBucket(stack, "Bucket", encryption_key=key, server_access_logs_bucket=logs)
    t, main, created = _buckets(stack)
    assert created == []
    assert main["Properties"]["LoggingConfiguration"] == {
        "DestinationBucketName": "central-access-logs", "LogFilePrefix": "Bucket/",
    }


def test_is_an_ibucket_with_grants(stack):
    from aws_cdk import aws_iam as iam

    bucket = SecureBucket(stack, "Bucket", encryption_key=PlatformKey(stack, "Key"))
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    bucket.grant_read(role)
    t = template_of(stack)
    doc = next(iter(resources(t, "AWS::IAM::Policy").values()))["Properties"]["PolicyDocument"]
    actions = {a for s in doc["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert "kms:Decrypt" in actions and "s3:GetObject*" in actions


def test_destroy_is_explicit(stack):
    SecureBucket(stack, "Bucket", encryption_key=PlatformKey(stack, "Key"), removal_policy=RemovalPolicy.DESTROY)
    _, main, logs = _buckets(stack)
    assert main["DeletionPolicy"] == "Delete"
    assert logs[0]["DeletionPolicy"] == "Delete"


def test_requires_a_key(stack):
    with pytest.raises(ValidationError, match="encryption_key"):
        SecureBucket(stack, "Bucket", encryption_key=None)


@pytest.mark.parametrize("name", ["UPPER", "ab", "a" * 64, "-leading", "xn--punycode", "has_underscore"])
def test_rejects_bucket_names_s3_would_reject(stack, name):
    with pytest.raises(ValidationError, match="bucket_name"):
        SecureBucket(stack, "Bucket", encryption_key=PlatformKey(stack, "Key"), bucket_name=name)


def test_rejects_zero_day_noncurrent_expiration(stack):
    with pytest.raises(ValidationError, match="noncurrent_version_expiration"):
        SecureBucket(stack, "Bucket", encryption_key=PlatformKey(stack, "Key"), noncurrent_version_expiration=Duration.days(0))


def test_rejects_zero_day_access_log_retention(stack):
    with pytest.raises(ValidationError, match="access_logs_retention"):
        SecureBucket(stack, "Bucket", encryption_key=PlatformKey(stack, "Key"), access_logs_retention=Duration.days(0))


def test_logs_to_another_secure_bucket_in_a_plain_app():
    """A SecureBucket as another's server_access_logs_bucket, in a cdk.App() without our feature
    flags: s3.Bucket would give the log bucket the LogDeliveryWrite ACL, which its
    BUCKET_OWNER_ENFORCED ownership refuses (a jsii RuntimeError at construction). The delivery is
    granted by bucket policy instead, as with the flag, and the log bucket keeps ACLs disabled."""
    import aws_cdk as cdk

    stack = cdk.Stack(cdk.App(), "Plain")
    key = PlatformKey(stack, "Key")
    logs = SecureBucket(stack, "Logs", encryption_key=key)
    SecureBucket(stack, "Bucket", encryption_key=key, server_access_logs_bucket=logs)
    t = template_of(stack)
    buckets = resources(t, "AWS::S3::Bucket")
    log_id = next(k for k in buckets if k.startswith("Logs") and "AccessLogs" not in k)
    main = next(v for k, v in buckets.items() if k.startswith("Bucket"))
    assert main["Properties"]["LoggingConfiguration"] == {"DestinationBucketName": {"Ref": log_id}, "LogFilePrefix": "Bucket/"}
    assert "AccessControl" not in buckets[log_id]["Properties"]
    assert buckets[log_id]["Properties"]["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    policy = next(p for k, p in resources(t, "AWS::S3::BucketPolicy").items() if k.startswith("LogsPolicy"))
    delivery = next(s for s in policy["Properties"]["PolicyDocument"]["Statement"]
                    if s.get("Principal") == {"Service": "logging.s3.amazonaws.com"})
    assert delivery["Action"] == "s3:PutObject"
    assert delivery["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [log_id, "Arn"]}, "/Bucket/*"]]}
    assert delivery["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert "aws:SourceArn" in delivery["Condition"]["ArnLike"]


@pytest.mark.parametrize("locked", ["audit trail bucket", "object_lock_default_retention"])
def test_refuses_a_log_bucket_with_an_object_lock_default_retention(stack, locked):
    """S3 delivers no server access logs to a bucket with an Object Lock default retention (the
    AuditTrail's bucket has one): the logs would silently never arrive."""
    from sagemaker_constructs import AuditTrail

    key = PlatformKey(stack, "Key")
    if locked == "audit trail bucket":
        target = AuditTrail(stack, "Trail", encryption_key=key).bucket
    else:
        target = SecureBucket(stack, "Locked", encryption_key=key,
                              object_lock_default_retention=s3.ObjectLockRetention.governance(Duration.days(30)))
    with pytest.raises(ValidationError, match="server_access_logs_bucket.*Object Lock default retention"):
        SecureBucket(stack, "Bucket", encryption_key=key, server_access_logs_bucket=target)


def test_accepts_a_log_bucket_with_object_lock_but_no_default_retention(stack):
    key = PlatformKey(stack, "Key")
    target = SecureBucket(stack, "Locked", encryption_key=key, object_lock_enabled=True)
    SecureBucket(stack, "Bucket", encryption_key=key, server_access_logs_bucket=target)
    template_of(stack)


def test_refuses_object_lock_disabled_with_a_default_retention(stack):
    """s3.Bucket raised its raw 'Object Lock must be enabled to configure default retention settings'."""
    retention = s3.ObjectLockRetention.governance(Duration.days(30))
    with pytest.raises(ValidationError, match="object_lock_enabled=False.*a default retention needs Object Lock"):
        SecureBucket(stack, "Bucket", encryption_key=PlatformKey(stack, "Key"), object_lock_enabled=False,
                     object_lock_default_retention=retention)


@pytest.mark.parametrize("env", [{"region": "us-east-1"}, {"account": "444455556666"}])
def test_refuses_a_log_bucket_in_another_region_or_account(env):
    """S3 delivers server access logs only to a bucket of the source bucket's Region and account; CDK
    failed the synth with a raw CannotUseCrossEnvironment error."""
    import aws_cdk as cdk

    from tests.conftest import new_app

    app = new_app()
    home = {"account": "111122223333", "region": "eu-west-1"}
    logs_stack = cdk.Stack(app, "Logs", env=cdk.Environment(**{**home, **env}))
    target = SecureBucket(logs_stack, "AccessLogs", encryption_key=PlatformKey(logs_stack, "Key"))
    stack = cdk.Stack(app, "Data", env=cdk.Environment(**home))
    with pytest.raises(ValidationError, match=r"server_access_logs_bucket='Logs/AccessLogs'.*in this bucket's"):
        SecureBucket(stack, "Bucket", encryption_key=PlatformKey(stack, "Key"), server_access_logs_bucket=target)


def test_accepts_a_log_bucket_of_another_stack_in_the_same_environment():
    import aws_cdk as cdk

    from tests.conftest import new_app

    app = new_app()
    env = cdk.Environment(account="111122223333", region="eu-west-1")
    logs_stack, stack = cdk.Stack(app, "Logs", env=env), cdk.Stack(app, "Data", env=env)
    target = SecureBucket(logs_stack, "AccessLogs", encryption_key=PlatformKey(logs_stack, "Key"))
    SecureBucket(stack, "Bucket", encryption_key=PlatformKey(stack, "Key"), server_access_logs_bucket=target)
    app.synth()


@pytest.mark.parametrize("ids, match", [
    (["noncurrent-versions"], "lifecycle_rules id='noncurrent-versions'; a unique rule ID"),
    (["archive", "archive"], "lifecycle_rules id='archive'; a unique rule ID"),
    (["x" * 256], r"lifecycle_rules id=.*1 to 255 characters \(got 256\)"),
])
def test_refuses_lifecycle_rule_ids_s3_refuses(stack, ids, match):
    """S3 refuses a lifecycle configuration with two rules of one ID (SecureBucket's own rule is
    'noncurrent-versions') or an ID over 255 characters: the deployment failed."""
    rules = [s3.LifecycleRule(id=i, expiration=Duration.days(400)) for i in ids]
    with pytest.raises(ValidationError, match=match):
        SecureBucket(stack, "Bucket", encryption_key=PlatformKey(stack, "Key"), lifecycle_rules=rules)


def test_accepts_distinct_lifecycle_rule_ids_and_rules_without_one(stack):
    rules = [s3.LifecycleRule(id="archive", expiration=Duration.days(400)), s3.LifecycleRule(expiration=Duration.days(500))]
    SecureBucket(stack, "Bucket", encryption_key=PlatformKey(stack, "Key"), lifecycle_rules=rules)
    template_of(stack)


def test_warns_when_the_log_bucket_key_is_imported(stack):
    """The log delivery grant on an imported key was dropped by CDK without a word (its policy cannot
    be changed), so S3 delivered no access logs unless the key policy already allowed it."""
    from aws_cdk.assertions import Annotations, Match

    imported = kms.Key.from_key_arn(stack, "Imported",
                                    "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    target = SecureBucket(stack, "Logs", encryption_key=imported)
    SecureBucket(stack, "Bucket", encryption_key=PlatformKey(stack, "Key"), server_access_logs_bucket=target)
    Annotations.from_stack(stack).has_warning("/Test/Bucket", Match.string_like_regexp(
        "encrypted with an imported key.*logging.s3.amazonaws.com"))


def test_no_warning_when_the_log_bucket_key_is_ours(stack):
    from aws_cdk.assertions import Annotations, Match

    key = PlatformKey(stack, "Key")
    target = SecureBucket(stack, "Logs", encryption_key=key)
    SecureBucket(stack, "Bucket", encryption_key=key, server_access_logs_bucket=target)
    Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp("imported key"))
