"""CloudTrail auditing: multi-region, validated, KMS-encrypted, with S3 data events."""

from __future__ import annotations

from typing import Sequence, cast

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ..compliance import INLINE_SERVICE_POLICY_REASON, acknowledge, across_packs
from ..errors import ValidationError, check_int_range, check_pattern, is_unresolved
from ..validation.checks import duration_in
from ..validation.naming import check_trail_name
from .bucket import SecureBucket
from .key import check_key_not_alias

#: CloudTrail's limit on data resources across a trail's basic event selectors.
MAX_DATA_EVENT_RESOURCES = 250


class AuditTrail(Construct):
    """A CloudTrail trail a security reviewer expects.

    Default settings:

    * multi-region, global service events included, all management events (read and write),
      which include every KMS API call on the platform keys;
    * log file integrity validation on;
    * log files encrypted with ``encryption_key`` and delivered to a ``SecureBucket``
      (child ``Bucket``: SSE-KMS, private, TLS-only, versioned, access-logged, RETAIN) with S3
      Object Lock in GOVERNANCE mode: each log file version is kept ``object_lock_retention``
      (365 days) and only a principal allowed ``s3:BypassGovernanceRetention`` can delete it
      earlier (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html);
    * the trail itself RETAINed on stack deletion (``removal_policy``), so deleting the stack
      never stops auditing;
    * delivered as well to a CloudWatch log group (child ``LogGroup``) encrypted with the same
      key, retained ``log_retention`` (one year), RETAINed on stack deletion;
    * S3 data events (reads and writes) for every bucket in ``data_event_buckets``
      (at most 250, CloudTrail's limit for basic event selectors).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption_key: kms.IKey,
        data_event_buckets: Sequence[s3.IBucket] = (),
        bucket: s3.IBucket | None = None,
        trail_name: str | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        is_organization_trail: bool = False,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        object_lock_retention: Duration | None = Duration.days(365),
        org_id: str | None = None,
    ) -> None:
        """
        :param encryption_key: key for log files and the log group (required).
        :param data_event_buckets: buckets whose object-level reads and writes are logged.
            Default: none. At most 250, without duplicates.
        :param bucket: where log files go. Default: a new ``SecureBucket`` (child ``Bucket``).
        :param trail_name: Default: a CloudFormation-generated name.
        :param log_retention: retention of the CloudWatch copy. Default: one year.
        :param is_organization_trail: log every account of the organization (deploy from the
            management account); needs ``org_id`` and ``trail_name``, which the log bucket's policy
            names so that CloudTrail may write the member accounts' logs
            (``AWSLogs/<org id>/*``, only for this trail:
            https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html).
            Default: false.
        :param removal_policy: for the trail, the created bucket and the log group. Default: RETAIN.
        :param object_lock_retention: GOVERNANCE-mode default retention of the created bucket's
            log files (1-36500 days); ``None`` creates the bucket without Object Lock. Ignored
            with ``bucket=``. Default: 365 days. Object Lock cannot be turned off again; on a trail
            bucket deployed without it, CloudFormation cannot add it (turn it on in S3 first:
            https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html).
        :param org_id: the organization's id (``o-...``), with ``is_organization_trail``. Default: none.
        """
        super().__init__(scope, id)
        buckets = list(data_event_buckets)
        if len(buckets) > MAX_DATA_EVENT_RESOURCES:
            raise ValidationError(
                self, "data_event_buckets", f"{len(buckets)} buckets",
                f"CloudTrail allows at most {MAX_DATA_EVENT_RESOURCES} data resources in a trail's event selectors",
            )
        # One bucket imported twice (two from_bucket_name of one name) is two constructs but one data
        # resource: CloudFormation refuses a trail whose selector lists a value twice (the schema's
        # EventSelectors DataResources Values are uniqueItems), so a known name counts, else the path.
        seen: dict[str, str] = {}
        for b in buckets:
            name = b.bucket_name
            key = f"bucket {name}" if isinstance(name, str) and not is_unresolved(name) else b.node.path
            if key in seen:
                value = b.node.path if seen[key] == b.node.path else f"{seen[key]} and {b.node.path} ({key})"
                raise ValidationError(self, "data_event_buckets", value, "each bucket at most once")
            seen[key] = b.node.path
        check_trail_name(self, "trail_name", trail_name)
        check_pattern(self, "org_id", org_id, r"o-[a-z0-9]{10,32}",
                      description="an AWS Organizations id: 'o-' and 10-32 lowercase letters or digits",
                      limit="botocore organizations OrganizationId")
        if org_id is not None and not is_organization_trail:
            raise ValidationError(self, "org_id", org_id, "only with is_organization_trail=True")
        if is_organization_trail:
            # Without them CDK leaves the organization's statement out of the bucket policy (a
            # warning only): CloudTrail could not write the member accounts' logs.
            for argument, value in (("org_id", org_id), ("trail_name", trail_name)):
                if value is None:
                    raise ValidationError(
                        self, argument, None,
                        "required with is_organization_trail=True: the log bucket's policy lets CloudTrail write "
                        "AWSLogs/<org_id>/* only for the trail named trail_name",
                    )
        if encryption_key is None:
            raise ValidationError(self, "encryption_key", None, "a kms.IKey is required")
        check_key_not_alias(self, "encryption_key", encryption_key)
        # A parameter (Duration.days(<CfnParameter>)) goes into the bucket's L1 as a Ref: CDK's
        # ObjectLockRetention checks "at least 1 day" on the Token's number encoding and fails synth.
        retention_days: float | None = None
        if object_lock_retention is not None and not object_lock_retention.is_unresolved():
            check_int_range(self, "object_lock_retention (days)",
                            duration_in(self, "object_lock_retention", object_lock_retention, "days"),
                            minimum=1, maximum=36500)
        elif object_lock_retention is not None and bucket is None:
            retention_days = duration_in(self, "object_lock_retention", object_lock_retention, "days")

        self.encryption_key: kms.IKey = encryption_key
        self.bucket: s3.IBucket = bucket or SecureBucket(
            self, "Bucket", encryption_key=encryption_key, removal_policy=removal_policy,
            object_lock_enabled=True if retention_days is not None else None,
            object_lock_default_retention=(
                s3.ObjectLockRetention.governance(object_lock_retention)
                if object_lock_retention is not None and retention_days is None else None
            ),
        )
        if bucket is None and retention_days is not None:
            cast(s3.CfnBucket, self.bucket.node.default_child).object_lock_configuration = (
                s3.CfnBucket.ObjectLockConfigurationProperty(
                    object_lock_enabled="Enabled", rule=s3.CfnBucket.ObjectLockRuleProperty(
                        default_retention=s3.CfnBucket.DefaultRetentionProperty(mode="GOVERNANCE", days=retention_days))))
        self.log_group: logs.LogGroup = logs.LogGroup(
            self, "LogGroup", encryption_key=encryption_key, retention=log_retention, removal_policy=removal_policy
        )
        self.trail: cloudtrail.Trail = cloudtrail.Trail(
            self,
            "Resource",
            trail_name=trail_name,
            bucket=self.bucket,
            encryption_key=encryption_key,
            is_multi_region_trail=True,
            include_global_service_events=True,
            is_organization_trail=is_organization_trail or None,
            org_id=org_id,
            enable_file_validation=True,
            management_events=cloudtrail.ReadWriteType.ALL,
            send_to_cloud_watch_logs=True,
            cloud_watch_log_group=self.log_group,
        )
        self.trail.apply_removal_policy(removal_policy)
        acknowledge(self.trail, reason=INLINE_SERVICE_POLICY_REASON, nag=across_packs("IAMNoInlinePolicy"))
        if buckets:
            self.trail.add_s3_event_selector(
                [cloudtrail.S3EventSelector(bucket=b) for b in buckets],
                read_write_type=cloudtrail.ReadWriteType.ALL,
                # Management events already come from the trail's own selector.
                include_management_events=False,
            )

    @property
    def trail_arn(self) -> str:
        return self.trail.trail_arn
