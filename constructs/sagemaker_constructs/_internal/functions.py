"""A hardened Lambda function: least-privilege managed policy, DLQ, KMS, tracing, optional VPC."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from ..compliance import acknowledge, acknowledge_iam_findings_at_synth, acknowledge_present_findings, across_packs
from .grants import add_statements
from .managed_role import ManagedPolicyRole, recorded_policy
from ..security.key import PlatformKey
from ..network import allow_https_to_endpoints, check_vpc_settings, private_subnets
from ..errors import check_int_range
from ..validation.checks import duration_in
from ..validation.limits import check_reserved_concurrency

HANDLERS_DIR = Path(__file__).resolve().parent.parent / "handlers"


#: The runtime and architecture of every function we build.
RUNTIME, ARCHITECTURE = lambda_.Runtime.PYTHON_3_14, lambda_.Architecture.ARM_64


def handler_code() -> lambda_.Code:
    """The code of every function we build: the whole ``handlers/`` directory (each handler with
    ``handlers/common.py``, the module they share), without bytecode caches."""
    return lambda_.Code.from_asset(str(HANDLERS_DIR), exclude=["__pycache__", "*.pyc"])


def function_log_group(scope: Construct, id: str, *, encryption_key: kms.IKey,
                       retention: logs.RetentionDays) -> logs.LogGroup:
    """A function's own log group: encrypted with ``encryption_key``, ``retention``, kept on delete."""
    return logs.LogGroup(scope, id, encryption_key=encryption_key, retention=retention,
                         removal_policy=RemovalPolicy.RETAIN)


def hardened_function(
    scope: Construct,
    id: str,
    *,
    handler: str,
    description: str,
    role: iam.IRole,
    encryption_key: kms.IKey,
    log_group: logs.ILogGroup,
    timeout: Duration,
    memory_size: int,
    reserved_concurrency: int,
    environment: Mapping[str, str] | None = None,
    dead_letter_queue: sqs.IQueue | None = None,
    retry_attempts: int | None = None,
    vpc: ec2.IVpc | None = None,
    subnets: Sequence[ec2.ISubnet] = (),
    security_group: ec2.ISecurityGroup | None = None,
) -> lambda_.Function:
    """The one recipe of every Lambda function we build: :data:`RUNTIME` on :data:`ARCHITECTURE`
    from :func:`handler_code`, the environment encrypted with ``encryption_key``, active X-Ray
    tracing, its own log group, reserved concurrency; a dead-letter queue for the functions invoked
    asynchronously (``SecureFunction``) and, with ``vpc``, the given subnets and security group.

    The Provider framework's own functions (``custom_resources.Provider``) are the one exception:
    aws-cdk-lib builds them (Node.js, no concurrency, DLQ or tracing settings); we pass them our log
    group and key and acknowledge the rest where the provider is built (``acknowledge_provider``).
    Functions invoked synchronously by that framework have no dead-letter queue (Lambda sends only
    asynchronous invocations to one).
    """
    optional: dict[str, object] = {}
    if environment is not None:
        optional["environment"] = dict(environment)
    if dead_letter_queue is not None:
        optional["dead_letter_queue"] = dead_letter_queue
    if retry_attempts is not None:
        optional["retry_attempts"] = retry_attempts
    if vpc is not None:
        optional.update(vpc=vpc, vpc_subnets=ec2.SubnetSelection(subnets=list(subnets)),
                        security_groups=[security_group] if security_group is not None else None)
    return lambda_.Function(
        scope, id, runtime=RUNTIME, architecture=ARCHITECTURE, handler=handler, code=handler_code(), role=role,
        description=description, environment_encryption=encryption_key, timeout=timeout, memory_size=memory_size,
        reserved_concurrent_executions=reserved_concurrency, tracing=lambda_.Tracing.ACTIVE, log_group=log_group,
        **optional,  # type: ignore[arg-type]
    )

#: Limits enforced at synth (Lambda's own limits, and a sane cap on reserved concurrency).
MIN_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS = 1, 900
MIN_MEMORY_MB, MAX_MEMORY_MB = 128, 10_240
#: At most the account's concurrency minus the 100 Lambda keeps unreserved (validation.limits: 900 by default).
MIN_RESERVED_CONCURRENCY = 1
MAX_RETRY_ATTEMPTS = 2

_XRAY_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
_ENI_DESCRIBE_ACTIONS = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
_ENI_MANAGE_ACTIONS = ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]


class SecureFunction(Construct):
    """Base of our Lambda-backed constructs (children ``Key``, ``Logs``, ``DeadLetterQueue``,
    ``SecurityGroup``, ``Role``, ``Policy``, ``Function`` directly under the construct).

    Python 3.14 on ARM64 from ``handlers/``, reserved concurrency, X-Ray tracing, environment
    encrypted with ``encryption_key`` (default: a new ``PlatformKey``, child ``Key``), its own
    KMS-encrypted log group (RETAIN), a KMS-encrypted TLS-only dead-letter queue (RETAIN) for
    failed asynchronous invocations with an alarm (child ``DeadLetterQueueAlarm``: any visible
    message; notifies ``alarm_topic`` when given), a role whose permissions all sit in one
    customer-managed policy, and, with ``vpc``, a security group that only sends HTTPS to the VPC
    endpoints. A supplied ``role`` gets the same statements (see ``_internal/grants.py``).
    Subclasses validate their own input, then call :meth:`_build` with their statements.
    """

    #: Whether the default key lets EventBridge use it (for constructs whose queues it feeds).
    _key_allows_eventbridge = False

    def _check_function(self, *, timeout: Duration, memory_size: int, reserved_concurrency: int,
                        retry_attempts: int) -> None:
        if not timeout.is_unresolved():
            check_int_range(self, "timeout (seconds)", duration_in(self, "timeout", timeout, "seconds"),
                            minimum=MIN_TIMEOUT_SECONDS,
                            maximum=MAX_TIMEOUT_SECONDS)
        check_int_range(self, "memory_size", memory_size, minimum=MIN_MEMORY_MB, maximum=MAX_MEMORY_MB)
        check_reserved_concurrency(self, "reserved_concurrency", reserved_concurrency,
                                   minimum=MIN_RESERVED_CONCURRENCY)
        check_int_range(self, "retry_attempts", retry_attempts, minimum=0, maximum=MAX_RETRY_ATTEMPTS)

    def _check_network(
        self, vpc: ec2.IVpc | None, subnets: Sequence[ec2.ISubnet] | None,
        endpoint_sg: ec2.ISecurityGroup | None,
    ) -> list[ec2.ISubnet]:
        check_vpc_settings(self, vpc, subnets=subnets, endpoint_security_group=endpoint_sg)
        return [] if vpc is None else private_subnets(self, vpc, subnets)

    def _security_group(self, vpc: ec2.IVpc, endpoint_sg: ec2.ISecurityGroup | None) -> ec2.SecurityGroup:
        sg = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"{self._purpose}: HTTPS to the VPC interface endpoints only",
            allow_all_outbound=False,
        )
        allow_https_to_endpoints(self, sg, vpc, endpoint_sg)
        return sg

    def _build(
        self,
        *,
        purpose: str,
        handler: str,
        description: str,
        environment: Mapping[str, str],
        statements: Sequence[iam.PolicyStatement],
        vpc: ec2.IVpc | None,
        subnets: Sequence[ec2.ISubnet],
        endpoint_security_group: ec2.ISecurityGroup | None,
        encryption_key: kms.IKey | None,
        timeout: Duration,
        memory_size: int,
        reserved_concurrency: int,
        retry_attempts: int,
        log_retention: logs.RetentionDays,
        outside_vpc_reason: str,
        iam_reason: str,
        role: iam.IRole | None = None,
        role_is_prepared: bool = False,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        self._purpose = purpose
        self.encryption_key: kms.IKey = encryption_key or PlatformKey(
            self, "Key", description=f"{purpose}: function environment, logs and dead-letter queue",
            allow_sagemaker=False, allow_cloudtrail=False, allow_cloudwatch_alarms=False,
            allow_eventbridge=self._key_allows_eventbridge,
        )
        self.log_group: logs.LogGroup = function_log_group(self, "Logs", encryption_key=self.encryption_key, retention=log_retention)
        self.dead_letter_queue: sqs.Queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.encryption_key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.dead_letter_queue,
            reason=("This queue is itself the dead-letter queue at the end of the retry chain: a further "
                    "dead-letter queue would only move the same failed messages again; they wait here (14 days, "
                    "alarmed) for inspection and redrive."),
            control_tower=["sqs_dlq_check"],
        )
        #: Alarm on any message in the dead-letter queue (a failed request waits there).
        self.dead_letter_alarm: cloudwatch.Alarm = self._queue_alarm(
            "DeadLetterQueueAlarm", self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                statistic=cloudwatch.Stats.MAXIMUM, period=Duration.minutes(5)),
            threshold=0, description=f"{purpose}: messages in the dead-letter queue", alarm_topic=alarm_topic)
        self.security_group: ec2.SecurityGroup | None = None
        if vpc is not None:
            self.security_group = self._security_group(vpc, endpoint_security_group)
        all_statements = [*statements, *self._permission_statements(vpc, subnets), *self._own_resources()]
        self.policy: iam.ManagedPolicy | None = None
        policies: list[IConstruct] = []
        if role is None:
            own = ManagedPolicyRole(
                self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=purpose
            )
            self.policy = recorded_policy(self, "Policy", description=purpose, roles=[own])
            own.attach_permissions(self.policy)
            for statement in all_statements:
                own.allow(statement)
            self.role: iam.IRole = own
            policies = [self.policy]
        else:
            # A supplied role gets the same statements (it must trust lambda.amazonaws.com).
            self.role = role
            policies = add_statements(self, role, all_statements, role_is_prepared=role_is_prepared)
        self.function: lambda_.Function = hardened_function(
            self, "Function", handler=handler, description=description, role=self.role,
            encryption_key=self.encryption_key, log_group=self.log_group, timeout=timeout, memory_size=memory_size,
            reserved_concurrency=reserved_concurrency, environment=environment, dead_letter_queue=self.dead_letter_queue,
            retry_attempts=retry_attempts, vpc=vpc, subnets=subnets, security_group=self.security_group,
        )
        # Lambda checks the role's network-interface permissions when it creates a VPC function and
        # uses them to remove its network interfaces when the function is deleted: the policy is
        # attached before the function is created and detached only after it is deleted.
        for policy in policies:
            self.function.node.add_dependency(policy)
        self._acknowledge(in_vpc=vpc is not None, outside_vpc_reason=outside_vpc_reason, iam_reason=iam_reason,
                          policies=policies)

    # ------------------------------------------------------------------ grants and metrics
    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` invoke the function (``lambda:InvokeFunction`` on it and its versions)."""
        return self.function.grant_invoke(grantee)

    def metric_errors(self, *, statistic: str | None = None, period: Duration | None = None,
                      label: str | None = None, unit: cloudwatch.Unit | None = None, color: str | None = None,
                      dimensions_map: Mapping[str, str] | None = None, account: str | None = None,
                      region: str | None = None) -> cloudwatch.Metric:
        """Invocations that failed (``AWS/Lambda`` ``Errors``); ``cloudwatch.MetricOptions`` arguments.
        Default: Sum over 5 minutes."""
        return self.function.metric_errors(
            statistic=statistic or cloudwatch.Stats.SUM, period=period or Duration.minutes(5), label=label,
            unit=unit, color=color, dimensions_map=dimensions_map, account=account, region=region)

    def metric_throttles(self, *, statistic: str | None = None, period: Duration | None = None,
                         label: str | None = None, unit: cloudwatch.Unit | None = None, color: str | None = None,
                         dimensions_map: Mapping[str, str] | None = None, account: str | None = None,
                         region: str | None = None) -> cloudwatch.Metric:
        """Invocations Lambda refused because ``reserved_concurrency`` was reached (``AWS/Lambda``
        ``Throttles``); ``cloudwatch.MetricOptions`` arguments. Default: Sum over 5 minutes."""
        return self.function.metric_throttles(
            statistic=statistic or cloudwatch.Stats.SUM, period=period or Duration.minutes(5), label=label,
            unit=unit, color=color, dimensions_map=dimensions_map, account=account, region=region)

    def _own_resources(self) -> list[iam.PolicyStatement]:
        """Hook: create resources that need the key and dead-letter queue, before the role; return
        the statements the function needs on them (so a supplied role is checked for them too)."""
        return []

    def _queue_alarm(self, id: str, metric: cloudwatch.IMetric, *, threshold: float, description: str,
                     alarm_topic: sns.ITopic | None, evaluation_periods: int = 1) -> cloudwatch.Alarm:
        """An alarm above ``threshold``, notifying ``alarm_topic`` (acknowledged without one)."""
        alarm = cloudwatch.Alarm(
            self, id, alarm_description=description, metric=metric, threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=evaluation_periods, treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        if alarm_topic is not None:
            alarm.add_alarm_action(cw_actions.SnsAction(alarm_topic))
            alarm.add_ok_action(cw_actions.SnsAction(alarm_topic))
        else:
            acknowledge(
                alarm,
                reason=("Created without alarm_topic: the alarm's state is visible in CloudWatch and it can be "
                        "routed with add_alarm_action; pass alarm_topic= to notify an SNS topic."),
                nag=across_packs("CloudWatchAlarmAction", ("HIPAA.Security", "NIST.800.53.R5")),
                control_tower=["cloudwatch_alarm_action_check"],
            )
        return alarm

    def _permission_statements(self, vpc: ec2.IVpc | None, subnets: Sequence[ec2.ISubnet]) -> list[iam.PolicyStatement]:
        statements = [
            iam.PolicyStatement(sid="WriteOwnLogs", actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                                resources=[self.log_group.log_group_arn]),
            # The same statement Lambda adds for a dead-letter queue (so it is written once, with a Sid).
            iam.PolicyStatement(sid="SendToDeadLetterQueue", actions=["sqs:SendMessage"],
                                resources=[self.dead_letter_queue.queue_arn]),
            # Decrypt: the environment; GenerateDataKey + Decrypt: SendMessage to the KMS-encrypted queue.
            iam.PolicyStatement(sid="UseOwnKey", actions=["kms:Decrypt", "kms:GenerateDataKey"],
                                resources=[self.encryption_key.key_arn]),
            # The same statement Lambda adds for active tracing.
            iam.PolicyStatement(sid="XRayTraces", actions=list(_XRAY_ACTIONS), resources=["*"]),
        ]
        if vpc is None:
            return statements
        assert self.security_group is not None
        stack = Stack.of(self)

        def ec2_arn(resource: str, name: str) -> str:
            return stack.format_arn(service="ec2", resource=resource, resource_name=name)

        in_this_vpc = {"ArnEqualsIfExists": {"ec2:Vpc": ec2_arn("vpc", vpc.vpc_id)}}
        network_interfaces = ec2_arn("network-interface", "*")
        statements += [
            iam.PolicyStatement(sid="DescribeNetworkInterfaces", actions=list(_ENI_DESCRIBE_ACTIONS),
                                resources=["*"]),
            iam.PolicyStatement(
                sid="CreateNetworkInterfacesInOwnSubnets",
                actions=["ec2:CreateNetworkInterface"],
                resources=[
                    network_interfaces,
                    *(ec2_arn("subnet", s.subnet_id) for s in subnets),
                    ec2_arn("security-group", self.security_group.security_group_id),
                ],
                conditions=in_this_vpc,
            ),
            iam.PolicyStatement(sid="ManageNetworkInterfacesInThisVpc", actions=list(_ENI_MANAGE_ACTIONS),
                                resources=[network_interfaces], conditions=in_this_vpc),
        ]
        return statements

    def _acknowledge(self, *, in_vpc: bool, outside_vpc_reason: str, iam_reason: str,
                     policies: Sequence[IConstruct]) -> None:
        if self.policy is not None:
            acknowledge_present_findings(self.policy, reason=iam_reason)
        else:  # a supplied role: its policies get the statements (and Lambda's own) from now on
            targets = list(policies)
            if isinstance(self.role, Construct) and self.role not in targets:
                targets.append(self.role)
            for target in targets:
                acknowledge_iam_findings_at_synth(target, reason=iam_reason)
        if not in_vpc:
            acknowledge(
                self.function, reason=outside_vpc_reason, nag=across_packs("LambdaInsideVPC"), checkov=["CKV_AWS_117"],
                control_tower=["lambda_inside_vpc_check"],
            )
