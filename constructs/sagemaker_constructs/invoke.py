"""A Lambda function that invokes one SageMaker endpoint, with least privilege and a dead-letter queue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol, Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .compliance import acknowledge, acknowledge_iam_findings, across_packs
from .encryption import PlatformKey
from .errors import ValidationError, check_int_range, check_pattern, is_unresolved

HANDLERS_DIR = Path(__file__).resolve().parent / "handlers"
HANDLER = "invoke_endpoint.handler"

#: SageMaker's pattern for endpoint names.
ENDPOINT_NAME_PATTERN = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
#: Limits enforced at synth (Lambda's own limits, and a sane cap on reserved concurrency).
MIN_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS = 1, 900
MIN_MEMORY_MB, MAX_MEMORY_MB = 128, 10_240
MIN_RESERVED_CONCURRENCY, MAX_RESERVED_CONCURRENCY = 1, 1_000
MAX_RETRY_ATTEMPTS = 2
MAX_SUBNETS = 16

#: The only SageMaker action the function's role is given.
INVOKE_ACTION = "sagemaker:InvokeEndpoint"
_XRAY_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
_ENI_DESCRIBE_ACTIONS = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
_ENI_MANAGE_ACTIONS = ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]


class InvocableEndpoint(Protocol):
    """What :class:`EndpointInvoker` needs from an endpoint (our endpoint constructs provide it;
    their ``grant_invoke`` is not used, see ``EndpointInvoker``'s ``endpoint`` argument)."""

    @property
    def endpoint_name(self) -> str: ...

    @property
    def endpoint_arn(self) -> str: ...


def _statement_key(statement: iam.PolicyStatement) -> str:
    """A statement's meaning without its Sid, with actions and resources in a canonical order."""
    doc = dict(statement.to_statement_json())
    doc.pop("Sid", None)
    for field in ("Action", "NotAction", "Resource", "NotResource"):
        if field in doc:
            value = doc[field]
            doc[field] = sorted(value if isinstance(value, list) else [value])
    return json.dumps(doc, sort_keys=True, default=str)


class _InvokerRole(iam.Role):
    """The function's role: every statement lands in one customer-managed policy, never in an inline
    ``DefaultPolicy``. A statement CDK adds that the policy already holds (Lambda's own DLQ and X-Ray
    grants) is not written twice."""

    def attach_permissions(self, policy: iam.ManagedPolicy) -> None:
        self._permissions = policy
        self._written: set[str] = set()

    def allow(self, statement: iam.PolicyStatement) -> iam.PolicyStatement:
        self._written.add(_statement_key(statement))
        self._permissions.add_statements(statement)
        return statement

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        policy = self.__dict__.get("_permissions")
        if policy is None:  # only while iam.Role itself is being constructed
            return super().add_to_principal_policy(statement)
        key = _statement_key(statement)
        if key not in self._written:
            self._written.add(key)
            policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=policy)


class EndpointInvoker(Construct):
    """A Python Lambda function that invokes one SageMaker endpoint, for callers that should reach
    the model without SageMaker permissions of their own (API Gateway, Step Functions, other
    functions, EventBridge).

    The function accepts a direct payload ``{"body": ..., "content_type"?, "accept"?,
    "target_model"?, "target_variant"?, "inference_id"?, "custom_attributes"?}`` or an API Gateway
    proxy event, and answers ``{"statusCode": 200, "body": <response>, "contentType": ...}``. A
    ``ModelError`` or ``ValidationError`` from SageMaker is answered with status 424 / 400 and the
    message (no retry would help); throttling and other errors fail the invocation, so asynchronous
    invocations are retried and then sent to the dead-letter queue.

    Default settings:

    * function (child ``Function``): Python 3.14 on ARM64, handler ``invoke_endpoint.handler``,
      30 s timeout, 256 MB, 10 reserved concurrent executions, X-Ray active tracing, environment
      (``ENDPOINT_NAME``, ``CONTENT_TYPE``, ``ACCEPT``) encrypted with ``encryption_key``;
      asynchronous invocations retried twice, then sent to the dead-letter queue;
    * ``encryption_key``: a new :class:`PlatformKey` (child ``Key``) that only CloudWatch Logs may
      use as a service, for the environment, the log group and the dead-letter queue;
    * log group (child ``Logs``) encrypted with the key, kept one year, RETAINed on deletion;
    * dead-letter queue (child ``DeadLetterQueue``): SQS, encrypted with the key, TLS enforced,
      messages kept 14 days, RETAINed on deletion (it may hold failed requests);
    * role (child ``Role``, assumed by Lambda) with one customer-managed policy (child ``Policy``)
      and nothing else: ``sagemaker:InvokeEndpoint`` on this endpoint's ARN (no other SageMaker
      action), ``logs:CreateLogStream``/``PutLogEvents`` on its log group, ``sqs:SendMessage`` on
      its dead-letter queue, ``kms:Decrypt``/``GenerateDataKey`` on the key, X-Ray trace upload and,
      with ``vpc``, the network-interface actions Lambda needs, limited to this VPC, its subnets and
      security group. No AWS-managed policy, no inline policy: grants made later to
      ``function`` or ``role`` land in the same managed policy;
    * outside any VPC unless ``vpc`` is given. With ``vpc``: the VPC's private and isolated
      subnets, and a security group (child ``SecurityGroup``) with no ingress and one egress rule,
      HTTPS (443) to ``endpoint_security_group`` or, without it, to the VPC CIDR. The VPC needs
      the ``com.amazonaws.<region>.sagemaker.runtime`` interface endpoint with private DNS (an
      :class:`IsolatedNetwork` with the ``all``, ``inference``, ``studio`` or ``minimal`` preset has
      it; ``training`` and ``none`` do not); logs and traces leave through Lambda itself.

    Exposes ``function``, ``role``, ``policy``, ``dead_letter_queue``, ``log_group``,
    ``encryption_key``, ``security_group`` (``None`` without ``vpc``) and ``endpoint``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint: InvocableEndpoint,
        vpc: ec2.IVpc | None = None,
        subnets: Sequence[ec2.ISubnet] | None = None,
        endpoint_security_group: ec2.ISecurityGroup | None = None,
        encryption_key: kms.IKey | None = None,
        content_type: str = "application/json",
        accept: str = "application/json",
        timeout: Duration = Duration.seconds(30),
        memory_size: int = 256,
        reserved_concurrency: int = 10,
        retry_attempts: int = 2,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        description: str | None = None,
    ) -> None:
        """
        :param endpoint: the endpoint to invoke: any object with ``endpoint_name`` and
            ``endpoint_arn`` (our endpoint constructs, or one imported with
            ``from_endpoint_name``). The role is granted ``sagemaker:InvokeEndpoint`` on
            ``endpoint_arn`` only; ``endpoint.grant_invoke`` is not used, as it may grant the
            asynchronous and streaming invoke actions too.
        :param vpc: run the function in this VPC. Default: outside any VPC (Lambda's own network).
            The VPC needs the ``sagemaker.runtime`` interface endpoint (an ``IsolatedNetwork``
            has it unless its preset is ``training`` or ``none``).
        :param subnets: 1-16 subnets for the function's network interfaces (only with ``vpc``).
            Default: the VPC's private and isolated subnets.
        :param endpoint_security_group: the VPC endpoints' security group (an
            ``IsolatedNetwork``'s ``endpoint_security_group``); the function may send HTTPS to it
            only (only with ``vpc``). Default: HTTPS to the VPC CIDR.
        :param encryption_key: key for the environment, logs and dead-letter queue. Its policy
            must let CloudWatch Logs use it (a ``PlatformKey`` does). Default: a new
            ``PlatformKey`` (child ``Key``).
        :param content_type: ``ContentType`` sent when the caller gives none. Default:
            ``application/json``.
        :param accept: ``Accept`` sent when the caller gives none. Default: ``application/json``.
        :param timeout: 1-900 seconds. Default: 30 seconds.
        :param memory_size: 128-10240 MB. Default: 256 MB.
        :param reserved_concurrency: reserved concurrent executions, 1-1000; also the most
            concurrent requests this function sends to the endpoint. Lambda refuses a reservation
            that leaves the account fewer than 100 unreserved executions. Default: 10.
        :param retry_attempts: retries of a failed asynchronous invocation before it goes to the
            dead-letter queue, 0-2. Default: 2.
        :param log_retention: of the function's log group. Default: one year.
        :param description: the function's description. Default: names the endpoint.
        """
        super().__init__(scope, id)
        endpoint_name = self._check_endpoint(endpoint)
        if not timeout.is_unresolved():
            check_int_range(self, "timeout (seconds)", timeout.to_seconds(), minimum=MIN_TIMEOUT_SECONDS,
                            maximum=MAX_TIMEOUT_SECONDS)
        check_int_range(self, "memory_size", memory_size, minimum=MIN_MEMORY_MB, maximum=MAX_MEMORY_MB)
        check_int_range(self, "reserved_concurrency", reserved_concurrency, minimum=MIN_RESERVED_CONCURRENCY,
                        maximum=MAX_RESERVED_CONCURRENCY)
        check_int_range(self, "retry_attempts", retry_attempts, minimum=0, maximum=MAX_RETRY_ATTEMPTS)
        for argument, value in (("content_type", content_type), ("accept", accept)):
            if not is_unresolved(value) and (not value or len(value) > 1024):
                raise ValidationError(self, argument, value, "a MIME type of 1-1024 characters")
        chosen_subnets = self._check_network(vpc, subnets, endpoint_security_group)

        self.endpoint = endpoint
        self.encryption_key: kms.IKey = encryption_key or PlatformKey(
            self, "Key", description="EndpointInvoker: function environment, logs and dead-letter queue",
            allow_sagemaker=False, allow_cloudtrail=False,
        )
        self.log_group = logs.LogGroup(
            self, "Logs", encryption_key=self.encryption_key, retention=log_retention,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.encryption_key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.security_group: ec2.SecurityGroup | None = None
        if vpc is not None:
            self.security_group = self._security_group(vpc, endpoint_security_group)

        self.role = _InvokerRole(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="EndpointInvoker: invokes one SageMaker endpoint",
        )
        self.policy = iam.ManagedPolicy(
            self, "Policy", description="EndpointInvoker: invoke one SageMaker endpoint", roles=[self.role]
        )
        self.role.attach_permissions(self.policy)
        self._grant_permissions(vpc, chosen_subnets)

        self.function = lambda_.Function(
            self,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler=HANDLER,
            code=lambda_.Code.from_asset(str(HANDLERS_DIR), exclude=["__pycache__", "*.pyc"]),
            role=self.role,
            description=description or f"Invokes the SageMaker endpoint {endpoint_name}",
            environment={"ENDPOINT_NAME": endpoint_name, "CONTENT_TYPE": content_type, "ACCEPT": accept},
            environment_encryption=self.encryption_key,
            timeout=timeout,
            memory_size=memory_size,
            reserved_concurrent_executions=reserved_concurrency,
            retry_attempts=retry_attempts,
            dead_letter_queue=self.dead_letter_queue,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnets=chosen_subnets) if vpc is not None else None,
            security_groups=[self.security_group] if self.security_group is not None else None,
        )
        # Lambda checks the role's network-interface permissions when it creates a VPC function and
        # uses them to remove its network interfaces when the function is deleted: the policy is
        # attached before the function is created and detached only after it is deleted.
        self.function.node.add_dependency(self.policy)
        self._acknowledge(in_vpc=vpc is not None)

    # ------------------------------------------------------------------ grants and metrics
    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` invoke the function (``lambda:InvokeFunction`` on it and its versions)."""
        return self.function.grant_invoke(grantee)

    def metric_errors(self, *, period: Duration = Duration.minutes(5)) -> cloudwatch.Metric:
        """Invocations that failed (``AWS/Lambda`` ``Errors``): throttling by SageMaker, endpoint
        outages, timeouts. Statistic: Sum; period: ``period`` (default 5 minutes). Answers with
        status 400/424 (bad input, model errors) are successful invocations and not counted."""
        return self.function.metric_errors(statistic=cloudwatch.Stats.SUM, period=period)

    def metric_throttles(self, *, period: Duration = Duration.minutes(5)) -> cloudwatch.Metric:
        """Invocations Lambda refused because ``reserved_concurrency`` was reached
        (``AWS/Lambda`` ``Throttles``). Statistic: Sum; period: ``period`` (default 5 minutes)."""
        return self.function.metric_throttles(statistic=cloudwatch.Stats.SUM, period=period)

    # ------------------------------------------------------------------ internals
    def _check_endpoint(self, endpoint: Any) -> str:
        allowed = "an endpoint construct: an object with endpoint_name and endpoint_arn (strings)"
        if endpoint is None:
            raise ValidationError(self, "endpoint", None, allowed)
        name = getattr(endpoint, "endpoint_name", None)
        arn = getattr(endpoint, "endpoint_arn", None)
        if not isinstance(name, str) or not name:
            raise ValidationError(self, "endpoint.endpoint_name", name, allowed)
        if not isinstance(arn, str) or not arn:
            raise ValidationError(self, "endpoint.endpoint_arn", arn, allowed)
        check_pattern(self, "endpoint.endpoint_name", name, ENDPOINT_NAME_PATTERN, max_length=63,
                      description="1-63 letters, digits and hyphens, starting and ending with a letter or digit")
        if not is_unresolved(arn) and not (arn.startswith("arn:") and ":sagemaker:" in arn and ":endpoint/" in arn):
            raise ValidationError(
                self, "endpoint.endpoint_arn", arn,
                "a SageMaker endpoint ARN (arn:<partition>:sagemaker:<region>:<account>:endpoint/<name>)",
            )
        return name

    def _check_network(
        self, vpc: ec2.IVpc | None, subnets: Sequence[ec2.ISubnet] | None,
        endpoint_sg: ec2.ISecurityGroup | None,
    ) -> list[ec2.ISubnet]:
        if vpc is None:
            if subnets is not None:
                raise ValidationError(self, "subnets", f"{len(subnets)} subnets", "only together with vpc=")
            if endpoint_sg is not None:
                raise ValidationError(self, "endpoint_security_group", endpoint_sg.node.path, "only together with vpc=")
            return []
        chosen = list(subnets) if subnets is not None else [*vpc.private_subnets, *vpc.isolated_subnets]
        if not 1 <= len(chosen) <= MAX_SUBNETS:
            raise ValidationError(
                self, "subnets", f"{len(chosen)} subnets",
                "1-16 subnets; the VPC has no private or isolated subnets" if subnets is None
                else "between 1 and 16 subnets",
            )
        return chosen

    def _security_group(self, vpc: ec2.IVpc, endpoint_sg: ec2.ISecurityGroup | None) -> ec2.SecurityGroup:
        sg = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="EndpointInvoker function: HTTPS to the SageMaker Runtime VPC endpoint only",
            allow_all_outbound=False,
        )
        if endpoint_sg is not None:
            sg.connections.allow_to(endpoint_sg, ec2.Port.tcp(443), "HTTPS to the VPC interface endpoints")
        else:
            try:
                cidr = vpc.vpc_cidr_block
            except Exception as exc:  # jsii error: an imported VPC without vpc_cidr_block
                raise ValidationError(
                    self, "vpc", vpc.node.path,
                    "an imported VPC needs vpc_cidr_block in from_vpc_attributes, or pass endpoint_security_group",
                ) from exc
            sg.add_egress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), "HTTPS to the VPC interface endpoints")
        return sg

    def _grant_permissions(self, vpc: ec2.IVpc | None, subnets: Sequence[ec2.ISubnet]) -> None:
        allow = self.role.allow
        allow(iam.PolicyStatement(sid="InvokeOneEndpoint", actions=[INVOKE_ACTION],
                                  resources=[self.endpoint.endpoint_arn]))
        allow(iam.PolicyStatement(sid="WriteOwnLogs", actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                                  resources=[self.log_group.log_group_arn]))
        # The same statement Lambda adds for a dead-letter queue (so it is written once, with a Sid).
        allow(iam.PolicyStatement(sid="SendToDeadLetterQueue", actions=["sqs:SendMessage"],
                                  resources=[self.dead_letter_queue.queue_arn]))
        # Decrypt: the environment; GenerateDataKey + Decrypt: SendMessage to the KMS-encrypted queue.
        allow(iam.PolicyStatement(sid="UseOwnKey", actions=["kms:Decrypt", "kms:GenerateDataKey"],
                                  resources=[self.encryption_key.key_arn]))
        # The same statement Lambda adds for active tracing.
        allow(iam.PolicyStatement(sid="XRayTraces", actions=list(_XRAY_ACTIONS), resources=["*"]))
        if vpc is None:
            return
        stack = Stack.of(self)

        def ec2_arn(resource: str, name: str) -> str:
            return stack.format_arn(service="ec2", resource=resource, resource_name=name)

        in_this_vpc = {"ArnEqualsIfExists": {"ec2:Vpc": ec2_arn("vpc", vpc.vpc_id)}}
        network_interfaces = ec2_arn("network-interface", "*")
        allow(iam.PolicyStatement(sid="DescribeNetworkInterfaces", actions=list(_ENI_DESCRIBE_ACTIONS),
                                  resources=["*"]))
        allow(iam.PolicyStatement(
            sid="CreateNetworkInterfacesInOwnSubnets",
            actions=["ec2:CreateNetworkInterface"],
            resources=[
                network_interfaces,
                *(ec2_arn("subnet", s.subnet_id) for s in subnets),
                ec2_arn("security-group", self.security_group.security_group_id),
            ],
            conditions=in_this_vpc,
        ))
        allow(iam.PolicyStatement(sid="ManageNetworkInterfacesInThisVpc", actions=list(_ENI_MANAGE_ACTIONS),
                                  resources=[network_interfaces], conditions=in_this_vpc))

    def _acknowledge(self, *, in_vpc: bool) -> None:
        acknowledge_iam_findings(
            self.policy,
            reason=(
                "Wildcards only where IAM cannot scope further: X-Ray PutTraceSegments/PutTelemetryRecords "
                "and EC2 DescribeNetworkInterfaces/DescribeSubnets support no resource-level permissions; "
                "Lambda names the network interfaces it creates at run time, so they are network-interface/* "
                "limited to this VPC (ec2:Vpc), created only in this function's subnets and security group."
            ),
        )
        if not in_vpc:
            acknowledge(
                self.function,
                reason=(
                    "Created without vpc=: the function reaches the SageMaker Runtime API over Lambda's "
                    "own network, authorised by IAM (InvokeEndpoint on one endpoint) and TLS. Pass vpc= "
                    "(e.g. an IsolatedNetwork with the sagemaker.runtime endpoint) to run it in a VPC, "
                    "which removes this finding."
                ),
                nag=across_packs("LambdaInsideVPC"),
                checkov=["CKV_AWS_117"],
            )
