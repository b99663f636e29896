"""Customer-managed KMS keys for the platform."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ..errors import ValidationError, check_int_range, is_unresolved

#: KMS alias names: ``alias/`` followed by 1-250 of ``[a-zA-Z0-9/_-]``; ``alias/aws/`` is reserved.
_ALIAS_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_-")
_ALIAS_MAX_LENGTH = 256

_ENCRYPT_ACTIONS = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
]


def validate_key_alias(scope: Construct, alias: str | None) -> str | None:
    """Return the alias with its ``alias/`` prefix, or raise :class:`ValidationError`."""
    if alias is None or is_unresolved(alias):
        return alias
    name = alias if alias.startswith("alias/") else f"alias/{alias}"
    rule = (
        "a KMS alias is 'alias/' followed by letters, digits, '/', '_' or '-' "
        f"(at most {_ALIAS_MAX_LENGTH} characters in all) and must not start with 'alias/aws/'"
    )
    body = name[len("alias/"):]
    if (
        not body
        or len(name) > _ALIAS_MAX_LENGTH
        or any(c not in _ALIAS_CHARS for c in body)
        or name.lower().startswith("alias/aws/")
        or body.lower() == "aws"
    ):
        raise ValidationError(scope, "alias", alias, rule)
    return name


class PlatformKey(kms.Key):
    """A customer-managed, rotating KMS key for SageMaker volumes, buckets, logs and trails.

    Usable wherever a ``kms.IKey`` is expected (it *is* a ``kms.Key``).

    Default settings:

    * key rotation on (yearly; ``rotation_period`` to shorten), 30-day deletion window;
    * ``RemovalPolicy.RETAIN``: deleting the stack never destroys data encrypted with it;
    * key policy: the account root administers the key (the CDK default, which delegates to
      IAM); SageMaker, CloudWatch Logs (this region), CloudWatch alarms (for encrypted SNS
      topics), EventBridge (for encrypted SQS targets) and CloudTrail may use it, each only on behalf of this account (``aws:SourceAccount`` / encryption-context conditions);
      no ``*`` principals.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        alias: str | None = None,
        description: str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        pending_window: Duration = Duration.days(30),
        rotation_period: Duration | None = None,
        admins: Sequence[iam.IPrincipal] = (),
        allow_sagemaker: bool = True,
        allow_cloudwatch_logs: bool = True,
        allow_cloudtrail: bool = True,
        allow_cloudwatch_alarms: bool = True,
        allow_eventbridge: bool = True,
    ) -> None:
        """
        :param alias: alias to create for the key (``alias/`` is prepended when missing).
            Default: no alias.
        :param description: Default: "sagemaker-constructs platform key".
        :param removal_policy: Default: ``RemovalPolicy.RETAIN``.
        :param pending_window: days KMS waits before deleting a scheduled key (7-30).
            Default: 30 days.
        :param rotation_period: automatic rotation period (90-2560 days). Default: 365 days.
        :param admins: extra key administrators (manage, not use). Default: none.
        :param allow_sagemaker: let the SageMaker service use the key for this account.
            Default: true.
        :param allow_cloudwatch_logs: let CloudWatch Logs in this region encrypt this
            account's log groups with it. Default: true.
        :param allow_cloudtrail: let CloudTrail encrypt this account's trails with it.
            Default: true.
        :param allow_cloudwatch_alarms: let CloudWatch alarms of this account publish to SNS topics
            encrypted with it. Default: true.
        :param allow_eventbridge: let EventBridge rules of this account deliver to SQS queues
            encrypted with it (targets and dead-letter queues). Default: true.
        """
        alias_name = validate_key_alias(scope, alias)
        if not pending_window.is_unresolved():
            check_int_range(f"{scope.node.path}/{id}", "pending_window (days)", pending_window.to_days(), minimum=7, maximum=30)
        if rotation_period is not None and not rotation_period.is_unresolved():
            check_int_range(
                f"{scope.node.path}/{id}", "rotation_period (days)", rotation_period.to_days(), minimum=90, maximum=2560
            )
        super().__init__(
            scope,
            id,
            alias=alias_name,
            description=description or "sagemaker-constructs platform key",
            enable_key_rotation=True,
            rotation_period=rotation_period,
            pending_window=pending_window,
            removal_policy=removal_policy,
            admins=list(admins) or None,
        )
        account = Aws.ACCOUNT_ID
        this_account = {"StringEquals": {"aws:SourceAccount": account}}
        trails = f"arn:{Aws.PARTITION}:cloudtrail:*:{account}:trail/*"
        if allow_sagemaker:
            self._allow_service("AllowSageMakerForThisAccount", "sagemaker.amazonaws.com",
                                [*_ENCRYPT_ACTIONS, "kms:CreateGrant"], this_account)
        if allow_cloudwatch_logs:
            self._allow_service(
                "AllowCloudWatchLogsForThisAccount", f"logs.{Aws.REGION}.amazonaws.com", _ENCRYPT_ACTIONS,
                {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                             f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{account}:log-group:*"}},
            )
        if allow_cloudwatch_alarms:
            self._allow_service("AllowCloudWatchAlarmsForThisAccount", "cloudwatch.amazonaws.com",
                                ["kms:Decrypt", "kms:GenerateDataKey*"], this_account)
        if allow_eventbridge:
            self._allow_service("AllowEventBridgeForThisAccount", "events.amazonaws.com",
                                ["kms:Decrypt", "kms:GenerateDataKey*"], this_account)
        if allow_cloudtrail:
            self._allow_service(
                "AllowCloudTrailEncryptForThisAccount", "cloudtrail.amazonaws.com", ["kms:GenerateDataKey*"],
                {"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trails, "aws:SourceArn": trails}},
            )
            self._allow_service("AllowCloudTrailDescribeForThisAccount", "cloudtrail.amazonaws.com",
                                ["kms:DescribeKey"], this_account)

    def _allow_service(self, sid: str, service: str, actions: Sequence[str], conditions: dict) -> None:
        """A key-policy statement for one AWS service principal; every one carries a condition."""
        self.add_to_resource_policy(iam.PolicyStatement(
            sid=sid, principals=[iam.ServicePrincipal(service)], actions=list(actions), resources=["*"],
            conditions=conditions,
        ))
