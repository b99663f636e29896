"""Encrypted, private, versioned, access-logged S3 buckets."""

from __future__ import annotations

from typing import Sequence, cast

from aws_cdk import Annotations, Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ..compliance import acknowledge, across_packs
from ..errors import ValidationError, check_int_range, is_unresolved
from ..validation.checks import check_length, duration_in
from ..validation.naming import check_bucket_name
from .key import check_key_not_alias

_REPLICATION_REASON = (
    "Cross-region replication is an opt-in disaster-recovery choice (pass replication_rules=); "
    "versioning, RETAIN and KMS protect this bucket's data in its own region."
)
_NO_OBJECT_LOCK_REASON = (
    "Object Lock (write once, read many) is opt-in here (object_lock_default_retention=): ML data, "
    "model artifacts and pipeline outputs are rewritten and expired by lifecycle rules; versioning "
    "and RETAIN keep overwritten and deleted objects recoverable for noncurrent_version_expiration."
)
_NO_NOTIFICATIONS_REASON = (
    "No consumer reacts to this bucket's object events; object-level reads and writes are "
    "audited by CloudTrail data events (AuditTrail data_event_buckets). Pass "
    "event_bridge_enabled=True when a consumer needs them."
)


def _check_log_destination(path: str, target: s3.Bucket) -> None:
    """Raise :class:`ValidationError` when ``target`` (a bucket of this app) has an S3 Object Lock
    default retention (an ``AuditTrail``'s bucket, a ``SecureBucket`` with
    ``object_lock_default_retention``): S3 delivers no server access logs to such a bucket
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html)."""
    cfn = target.node.default_child
    lock = getattr(cfn, "object_lock_configuration", None) if isinstance(cfn, s3.CfnBucket) else None
    rule = getattr(lock, "rule", None)
    if getattr(rule, "default_retention", None) is not None:
        raise ValidationError(
            path, "server_access_logs_bucket", target.node.path,
            "a bucket with an S3 Object Lock default retention cannot receive server access logs: pass a log "
            "bucket without one, or leave server_access_logs_bucket out (a log bucket is created)",
        )


def _check_log_environment(path: str, scope: Construct, target: s3.Bucket) -> None:
    """Raise :class:`ValidationError` when ``target`` (a bucket of this app) is in another Region or
    account than the bucket logging to it: S3 delivers server access logs only to a bucket in the
    source bucket's Region and account
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html), and CDK
    fails the synth with a raw cross-environment error."""
    source, destination = Stack.of(scope), Stack.of(target)
    if source is destination:
        return
    for what, mine, theirs in (("Region", source.region, destination.region),
                               ("account", source.account, destination.account)):
        if not is_unresolved(mine) and not is_unresolved(theirs) and mine != theirs:
            raise ValidationError(
                path, "server_access_logs_bucket", target.node.path,
                f"a bucket in this bucket's {what} ({mine}; it is in {theirs}): S3 delivers server access "
                "logs only within the source bucket's Region and account")


class SecureBucket(s3.Bucket):
    """An S3 bucket a security reviewer signs off on. Usable wherever an ``s3.IBucket`` is expected.

    Default settings:

    * SSE-KMS with the given customer-managed key and S3 Bucket Keys (fewer KMS calls);
      SSE-C uploads blocked;
    * all public access blocked, ACLs disabled (``BUCKET_OWNER_ENFORCED``);
    * TLS enforced (``aws:SecureTransport``) with TLS 1.2 as the minimum;
    * versioning on; noncurrent versions expire after 90 days, incomplete multipart
      uploads are aborted after 7 days;
    * server access logging to ``server_access_logs_bucket``, or to a log bucket created as
      child ``AccessLogs`` (SSE-S3, the only default encryption S3 log delivery supports;
      private, TLS-only, versioned, logs expire after ``access_logs_retention``);
    * ``RemovalPolicy.RETAIN`` for the bucket and its log bucket.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption_key: kms.IKey,
        server_access_logs_bucket: s3.IBucket | None = None,
        server_access_logs_prefix: str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        bucket_name: str | None = None,
        noncurrent_version_expiration: Duration = Duration.days(90),
        access_logs_retention: Duration = Duration.days(365),
        lifecycle_rules: Sequence[s3.LifecycleRule] = (),
        replication_rules: Sequence[s3.ReplicationRule] | None = None,
        event_bridge_enabled: bool = False,
        object_lock_enabled: bool | None = None,
        object_lock_default_retention: s3.ObjectLockRetention | None = None,
    ) -> None:
        """
        :param encryption_key: the customer-managed key for SSE-KMS (required).
        :param server_access_logs_bucket: where S3 writes access logs. Default: a new
            log bucket, child ``AccessLogs``.
        :param server_access_logs_prefix: Default: ``"<construct id>/"`` when a bucket is given,
            none for the bucket this construct creates.
        :param removal_policy: Default: ``RemovalPolicy.RETAIN``.
        :param bucket_name: Default: a CloudFormation-generated name.
        :param noncurrent_version_expiration: Default: 90 days (1 day at least).
        :param access_logs_retention: expiry of the created log bucket's objects. Default: 365 days.
        :param lifecycle_rules: extra lifecycle rules. Default: none.
        :param replication_rules: cross-region/account replication. Default: none.
        :param event_bridge_enabled: send object events to EventBridge. Default: false.
        :param object_lock_enabled: turn on S3 Object Lock (write once, read many; it cannot be
            turned off again). Default: off, unless ``object_lock_default_retention`` is given.
        :param object_lock_default_retention: the default retention of new object versions, e.g.
            ``s3.ObjectLockRetention.governance(Duration.days(365))``; implies Object Lock.
            Default: none. A locked bucket cannot receive server access logs
            (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html).
        """
        path = f"{scope.node.path}/{id}"
        # A log bucket of this app gets its log-delivery permissions from us, not from s3.Bucket:
        # without the feature flag @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy (a plain
        # cdk.App()), s3.Bucket would set the LogDeliveryWrite ACL on it, which a bucket with ACLs
        # disabled (BUCKET_OWNER_ENFORCED: every SecureBucket) refuses, failing synth.
        own_log_bucket = server_access_logs_bucket if isinstance(server_access_logs_bucket, s3.Bucket) else None
        if encryption_key is None:
            raise ValidationError(path, "encryption_key", None, "a kms.IKey is required (a customer-managed key)")
        check_key_not_alias(scope, "encryption_key", encryption_key, where=path)
        check_bucket_name(path, "bucket_name", bucket_name)
        if own_log_bucket is not None:
            _check_log_destination(path, own_log_bucket)
            _check_log_environment(path, scope, own_log_bucket)
        # S3 refuses a lifecycle configuration with two rules of one ID, and IDs over 255 characters
        # (botocore s3 LifecycleRule.ID, "Unique identifier for the rule"): ours is "noncurrent-versions".
        rule_ids = ["noncurrent-versions"]
        for rule in lifecycle_rules:
            rule_id = rule.id
            if rule_id is None or is_unresolved(rule_id):
                continue
            check_length(path, "lifecycle_rules id", rule_id, minimum=1, maximum=255, limit="botocore s3 LifecycleRule ID")
            if rule_id in rule_ids:
                raise ValidationError(path, "lifecycle_rules id", rule_id,
                                      "a unique rule ID (S3 refuses two rules of one ID; 'noncurrent-versions' is "
                                      "SecureBucket's own rule)")
            rule_ids.append(rule_id)
        if object_lock_enabled is False and object_lock_default_retention is not None:
            # s3.Bucket raised its raw "Object Lock must be enabled to configure default retention settings"
            raise ValidationError(path, "object_lock_enabled", False,
                                  "True or None (the default) with object_lock_default_retention: a default "
                                  "retention needs Object Lock")
        if not noncurrent_version_expiration.is_unresolved():
            check_int_range(path, "noncurrent_version_expiration (days)",
                            duration_in(path, "noncurrent_version_expiration", noncurrent_version_expiration, "days"), minimum=1)
        if not access_logs_retention.is_unresolved():
            check_int_range(path, "access_logs_retention (days)",
                            duration_in(path, "access_logs_retention", access_logs_retention, "days"), minimum=1)

        super().__init__(
            scope,
            id,
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=encryption_key,
            bucket_key_enabled=True,
            blocked_encryption_types=[s3.BlockedEncryptionType.SSE_C],
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            public_read_access=False,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            server_access_logs_bucket=server_access_logs_bucket if own_log_bucket is None else None,
            server_access_logs_prefix=(
                server_access_logs_prefix or f"{id}/"
                if server_access_logs_bucket is not None and own_log_bucket is None else None
            ),
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="noncurrent-versions",
                    noncurrent_version_expiration=noncurrent_version_expiration,
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                ),
                *lifecycle_rules,
            ],
            replication_rules=list(replication_rules) if replication_rules else None,
            event_bridge_enabled=event_bridge_enabled or None,
            object_lock_enabled=object_lock_enabled,
            object_lock_default_retention=object_lock_default_retention,
            removal_policy=removal_policy,
        )
        self.encryption_key_ref: kms.IKey = encryption_key
        #: The bucket receiving this bucket's server access logs.
        self.access_logs_bucket: s3.IBucket
        if server_access_logs_bucket is None:
            self.access_logs_bucket = self._create_access_logs_bucket(access_logs_retention, removal_policy)
            cfn = cast(s3.CfnBucket, self.node.default_child)  # an s3.Bucket's L1
            cfn.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
                destination_bucket_name=self.access_logs_bucket.bucket_name,
                log_file_prefix=server_access_logs_prefix,
            )
        else:
            self.access_logs_bucket = server_access_logs_bucket
            if own_log_bucket is not None:
                self._log_to(own_log_bucket, server_access_logs_prefix or f"{id}/")
        if not replication_rules:
            acknowledge(self, reason=_REPLICATION_REASON, nag=across_packs("S3BucketReplicationEnabled"))
        if not (object_lock_enabled or object_lock_default_retention):
            acknowledge(self, reason=_NO_OBJECT_LOCK_REASON, control_tower=["s3_bucket_object_lock_enabled_check"])
        if not event_bridge_enabled:
            acknowledge(self, reason=_NO_NOTIFICATIONS_REASON, control_tower=["s3_event_notifications_enabled_check"])

    def _log_to(self, target: s3.Bucket, prefix: str) -> None:
        """Deliver this bucket's server access logs to ``target`` (a bucket of this app) under
        ``prefix``, with the permissions s3.Bucket gives with the feature flag
        ``@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy``, in any app: a bucket policy statement
        for S3's logging service (only for this bucket, as CDK writes it), and use of the target's
        key. Never the ``LogDeliveryWrite`` ACL, which an ACL-less bucket refuses
        (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html)."""
        key = target.encryption_key
        if key is not None:
            key.grant_encrypt_decrypt(iam.ServicePrincipal("logging.s3.amazonaws.com"))
            if not isinstance(key, kms.Key):
                # An imported key's policy cannot be changed: CDK drops the grant without a word, and S3
                # cannot encrypt the log objects with the key unless its policy already allows it.
                Annotations.of(self).add_warning_v2(
                    "@sagemaker-constructs/bucket:logKeyImported",
                    f"server_access_logs_bucket {target.node.path} is encrypted with an imported key: its key policy "
                    "is not changed here, so make sure it lets logging.s3.amazonaws.com use the key (kms:Encrypt, "
                    "kms:GenerateDataKey*), or S3 delivers no access logs there")
        cfn = cast(s3.CfnBucket, self.node.default_child)  # an s3.Bucket's L1
        cfn.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
            destination_bucket_name=target.bucket_name, log_file_prefix=prefix,
        )
        same_stack = Stack.of(target) is Stack.of(self)
        target.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
            actions=["s3:PutObject"],
            resources=[target.arn_for_objects(f"{prefix}*")],
            conditions={
                "ArnLike": {"aws:SourceArn": self.bucket_arn},
                "StringEquals": {"aws:SourceAccount": self.env.account},
            } if same_stack else None,
        ))

    def _create_access_logs_bucket(self, retention: Duration, removal_policy: RemovalPolicy) -> s3.Bucket:
        logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            blocked_encryption_types=[s3.BlockedEncryptionType.SSE_C],
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=retention,
                    noncurrent_version_expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=removal_policy,
        )
        logs.add_to_resource_policy(
            iam.PolicyStatement(
                sid="S3ServerAccessLogsPolicy",
                principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[logs.arn_for_objects("*")],
                conditions={
                    "ArnLike": {"aws:SourceArn": self.bucket_arn},
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                },
            )
        )
        acknowledge(
            logs,
            reason=(
                "This bucket is the server-access-log destination itself: logging it to itself "
                "would loop, so S3 does not allow it."
            ),
            nag=["AwsSolutions-S1", *across_packs("S3BucketLoggingEnabled")],
            checkov=["CKV_AWS_18"],
            control_tower=["s3_bucket_logging_enabled_check"],
        )
        acknowledge(
            logs,
            reason=(
                "S3 server access log delivery supports only SSE-S3 default encryption on the "
                "target bucket; SSE-KMS here would make log delivery fail."
            ),
            nag=across_packs("S3DefaultEncryptionKMS"),
            control_tower=["s3_bucket_default_encryption_kms_check"],
        )
        acknowledge(
            logs,
            reason=(
                "A bucket with S3 Object Lock cannot be a server-access-log destination "
                "(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html); "
                "its logs expire after access_logs_retention instead."
            ),
            control_tower=["s3_bucket_object_lock_enabled_check"],
        )
        acknowledge(
            logs,
            reason=(
                "Server access log objects are written by S3 itself and read in bulk (Athena, "
                "S3 Inventory); no consumer reacts to each delivery, so no event notification."
            ),
            control_tower=["s3_event_notifications_enabled_check"],
        )
        acknowledge(logs, reason=_REPLICATION_REASON, nag=across_packs("S3BucketReplicationEnabled"))
        return logs
