"""Customer-managed KMS keys for the platform."""

from __future__ import annotations

from typing import Any, Sequence, cast

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ..errors import ValidationError, check_int_range, is_unresolved
from ..validation.checks import duration_in

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
#: What EventBridge needs to deliver to a queue encrypted with the key.
_EVENTBRIDGE_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey*"]


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


def check_key_not_alias(scope: Construct, argument: str, key: kms.IKey | None, *, where: str | None = None) -> None:
    """Raise :class:`ValidationError` when ``key`` is a KMS alias (``kms.Alias``,
    ``kms.Alias.from_alias_name``, ``kms.Key.from_key_arn`` of an alias ARN): its ``key_arn`` is
    the alias ARN, which in an IAM policy's ``Resource`` gives no use of the key (KMS authorizes a
    key's use on the key ARN: https://docs.aws.amazon.com/kms/latest/developerguide/cmks-in-iam-policies.html)
    and which CloudWatch Logs refuses as a log group's key. ``kms.Key`` objects (``PlatformKey``)
    pass, and any key, without a call to Node (an alias is known by its type, or by a literal ARN)."""
    from .._internal.stacks import attribute, python_state

    if key is None or isinstance(key, kms.Key):
        return
    # An imported alias is a jsii proxy of the interfaces it implements (its _delegates): kms.IAlias
    # is the one with alias_name.
    delegates = (python_state(key) or {}).get("_delegates") or ()
    alias = isinstance(key, kms.Alias) or any(hasattr(type(o), "alias_name") for o in (key, *delegates))
    arn = None if alias else attribute(key, "key_arn")
    text = arn if isinstance(arn, str) and not is_unresolved(arn) else ""
    if alias or ":alias/" in text:
        raise ValidationError(
            where or scope, argument, arn if text else key.node.path,
            "a KMS key, not an alias: IAM grants and the SageMaker key conditions name the key ARN "
            "(an alias ARN there gives no use of the key); pass kms.Key.from_key_arn(...) with the "
            "key's ARN (arn:...:key/<key id>), or the kms.Key / PlatformKey itself",
        )


class PlatformKey(kms.Key):
    """A customer-managed, rotating KMS key for SageMaker volumes, buckets, logs and trails.

    Usable wherever a ``kms.IKey`` is expected (it *is* a ``kms.Key``).

    Default settings:

    * key rotation on (yearly; ``rotation_period`` to shorten), 30-day deletion window;
    * ``RemovalPolicy.RETAIN``: deleting the stack never destroys data encrypted with it;
    * key policy: the account root administers the key (the CDK default, which delegates to
      IAM); SageMaker, CloudWatch Logs (this region), CloudWatch alarms (for encrypted SNS
      topics), EventBridge (for encrypted SQS targets) and CloudTrail may use it, each only on behalf of this account (``aws:SourceAccount`` / encryption-context conditions);
      no ``*`` principals in an Allow;
    * grants only for AWS resources: a Deny (Sid ``DenyGrantsNotForAwsResources``) refuses
      ``kms:CreateGrant`` unless an AWS service integrated with KMS asks on a principal's behalf
      (``kms:GrantIsForAWSResource``) or the caller is a service principal
      (``aws:PrincipalIsAWSService``): AWS Control Tower's CT.KMS.PR.3
      (https://docs.aws.amazon.com/controltower/latest/controlreference/kms-rules.html,
      https://docs.aws.amazon.com/kms/latest/developerguide/grant-authorization.html);
    * one statement per service: a CDK grant to EventBridge (``events.amazonaws.com``, e.g. an
      encrypted SQS target's ``grantSendMessages``) that our EventBridge statement already covers
      is not added a second time with wider actions (``kms:Encrypt``, ``kms:ReEncrypt*``).
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
        grants_only_for_aws_resources: bool = True,
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
        :param grants_only_for_aws_resources: deny ``kms:CreateGrant`` unless the grant is for an
            AWS resource or the caller is an AWS service. Turn off only to issue grants to IAM
            principals directly. Default: true.
        """
        alias_name = validate_key_alias(scope, alias)
        path = f"{scope.node.path}/{id}"
        # A parameter (Duration.days(<CfnParameter>)) is written to the key's L1 as a Ref: kms.Key checks
        # both ranges on the Token's number encoding (-1.9e289) and failed synth with its raw error.
        token_days: dict[str, Any] = {}
        if not pending_window.is_unresolved():
            check_int_range(path, "pending_window (days)", duration_in(path, "pending_window", pending_window, "days"),
                            minimum=7, maximum=30)
        else:
            token_days["pending_window_in_days"] = duration_in(path, "pending_window", pending_window, "days")
        if rotation_period is not None and not rotation_period.is_unresolved():
            check_int_range(path, "rotation_period (days)",
                            duration_in(path, "rotation_period", rotation_period, "days"), minimum=90, maximum=2560)
        elif rotation_period is not None:
            token_days["rotation_period_in_days"] = duration_in(path, "rotation_period", rotation_period, "days")
        super().__init__(
            scope,
            id,
            alias=alias_name,
            description=description or "sagemaker-constructs platform key",
            enable_key_rotation=True,
            rotation_period=None if "rotation_period_in_days" in token_days else rotation_period,
            pending_window=None if "pending_window_in_days" in token_days else pending_window,
            removal_policy=removal_policy,
            admins=list(admins) or None,
        )
        if token_days:
            cfn_key = cast(kms.CfnKey, self.node.default_child)  # a kms.Key's L1
            for attribute, days in token_days.items():
                setattr(cfn_key, attribute, days)
        self._eventbridge_statement: iam.PolicyStatement | None = None
        account = Aws.ACCOUNT_ID
        this_account = {"StringEquals": {"aws:SourceAccount": account}}
        if grants_only_for_aws_resources:
            super().add_to_resource_policy(iam.PolicyStatement(
                sid="DenyGrantsNotForAwsResources", effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()],
                actions=["kms:CreateGrant"], resources=["*"],
                conditions={"BoolIfExists": {"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}},
            ))
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
            self._eventbridge_statement = self._allow_service(
                "AllowEventBridgeForThisAccount", "events.amazonaws.com", _EVENTBRIDGE_ACTIONS, this_account
            )
        if allow_cloudtrail:
            self._allow_service(
                "AllowCloudTrailEncryptForThisAccount", "cloudtrail.amazonaws.com", ["kms:GenerateDataKey*"],
                {"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trails, "aws:SourceArn": trails}},
            )
            self._allow_service("AllowCloudTrailDescribeForThisAccount", "cloudtrail.amazonaws.com",
                                ["kms:DescribeKey"], this_account)

    def add_to_resource_policy(
        self, statement: iam.PolicyStatement, allow_no_op: bool | None = None
    ) -> iam.AddToResourcePolicyResult:
        """Add ``statement`` to the key policy, unless it is a CDK grant to EventBridge in this
        account that our ``AllowEventBridgeForThisAccount`` statement already covers: EventBridge
        needs only ``kms:Decrypt`` and ``kms:GenerateDataKey*`` to deliver to an encrypted queue
        (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-troubleshooting.html)."""
        if self._covered_eventbridge_grant(statement):
            return iam.AddToResourcePolicyResult(statement_added=True, policy_dependable=self)
        return super().add_to_resource_policy(statement, allow_no_op)

    def _covered_eventbridge_grant(self, statement: iam.PolicyStatement) -> bool:
        if getattr(self, "_eventbridge_statement", None) is None or statement.effect != iam.Effect.ALLOW:
            return False
        stack = Stack.of(self)
        doc = stack.resolve(statement.to_statement_json())
        principal = doc.get("Principal", {})
        if set(doc) - {"Action", "Effect", "Principal", "Resource", "Condition", "Sid"} or principal != {
            "Service": "events.amazonaws.com"
        }:
            return False
        actions = doc.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if not set(actions) <= {*_ENCRYPT_ACTIONS, "kms:GenerateDataKey"} or doc.get("Resource") != "*":
            return False
        accounts = [stack.resolve(Aws.ACCOUNT_ID)]
        if not is_unresolved(stack.account):
            accounts.append(stack.account)
        return doc.get("Condition") in [{"StringEquals": {"aws:SourceAccount": a}} for a in accounts]

    def _allow_service(self, sid: str, service: str, actions: Sequence[str], conditions: dict[str, Any]) -> iam.PolicyStatement:
        """A key-policy statement for one AWS service principal; every one carries a condition."""
        statement = iam.PolicyStatement(
            sid=sid, principals=[iam.ServicePrincipal(service)], actions=list(actions), resources=["*"],
            conditions=conditions,
        )
        super().add_to_resource_policy(statement)
        return statement
