"""A Lambda function that invokes one SageMaker endpoint, with least privilege and a dead-letter queue."""

from __future__ import annotations

from typing import Any, Sequence

from aws_cdk import Aws, Duration, Tokenization
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..errors import ValidationError, check_int_range, is_unresolved
from ..interfaces import InvocableEndpoint
from ..validation.checks import check_length, duration_to_seconds
from ..validation.combinations import check_network_endpoints
from ..validation.limits import check_string
from ..validation.naming import check_name
from .._internal.functions import SecureFunction

HANDLER = "invoke_endpoint.handler"


#: The only SageMaker action the function's role is given.
INVOKE_ACTION = "sagemaker:InvokeEndpoint"


#: Seconds the function keeps beyond the SDK's own worst case (connect + read timeouts x attempts).
TIMEOUT_MARGIN_SECONDS = 5
MAX_ATTEMPTS = 5
#: Longest connect/read timeout accepted (Lambda's own 15-minute maximum).
MAX_TIMEOUT = 900

__all__ = ["EndpointInvoker", "InvocableEndpoint", "INVOKE_ACTION"]


class EndpointInvoker(SecureFunction):
    """A Python Lambda function that invokes one SageMaker endpoint, for callers that should reach
    the model without SageMaker permissions of their own (API Gateway, Step Functions, other
    functions, EventBridge).

    The function accepts a direct payload ``{"body": ..., "content_type"?, "accept"?,
    "target_model"?, "target_variant"?, "inference_id"?, "custom_attributes"?}`` or an API Gateway
    proxy event, and answers ``{"statusCode": 200, "body": <response>, "contentType": ...}``. A
    ``ModelError`` or ``ValidationError`` from SageMaker is answered with status 424 / 400 and the
    message (no retry would help).

    At most once: one call sends the request to the endpoint at most ``max_attempts`` times
    (default 1, no SDK retry). A read timeout, a connection closed before the answer or a SageMaker
    5xx (the request may have been processed) is answered 504 / 502 instead of failing the invocation, so Lambda does not send it
    again; throttling and connection failures (the request never reached the model) fail the
    invocation, so asynchronous invocations are retried and then sent to the dead-letter queue.
    The function's ``timeout`` must exceed the SDK's worst case, ``(connect_timeout +
    read_timeout) x max_attempts`` plus 5 s (checked at synth). An answer above Lambda's 6 MB
    response limit is answered 502 ``ResponseTooLarge``.

    Default settings:

    * function (child ``Function``): Python 3.14 on ARM64, handler ``invoke_endpoint.handler``,
      80 s timeout (5 s connect + 70 s read, SageMaker's advice for a model using its 60 s limit,
      plus 5 s), 256 MB, 10 reserved concurrent executions, X-Ray active tracing, environment
      (``ENDPOINT_NAME``, ``CONTENT_TYPE``, ``ACCEPT``, ``MAX_ATTEMPTS``, ``CONNECT_TIMEOUT``,
      ``READ_TIMEOUT``) encrypted with ``encryption_key``; asynchronous invocations retried
      twice, then sent to the dead-letter queue (alarm: child ``DeadLetterQueueAlarm``, notifying
      ``alarm_topic`` when given);
    * ``encryption_key``: the endpoint's own key (``endpoint.encryption_key``) when it has one
      (a ``kms.Key`` of this app that is not a ``PlatformKey`` gets a key-policy statement letting
      CloudWatch Logs of this account and region use it); otherwise a new :class:`PlatformKey` (child ``Key``) that only CloudWatch Logs may use as a
      service, for the environment, the log group and the dead-letter queue;
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
        timeout: Duration = Duration.seconds(80),
        memory_size: int = 256,
        reserved_concurrency: int = 10,
        retry_attempts: int = 2,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        description: str | None = None,
        max_attempts: int = 1,
        connect_timeout: Duration = Duration.seconds(5),
        read_timeout: Duration = Duration.seconds(70),
        role: iam.IRole | None = None,
        role_is_prepared: bool = False,
        alarm_topic: sns.ITopic | None = None,
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
            must let CloudWatch Logs use it: a ``PlatformKey`` does, a ``kms.Key`` of this app gets
            the statement (so does the endpoint's key), an imported key must have it. Default: the endpoint's
            ``encryption_key`` when it has one, else a new ``PlatformKey`` (child ``Key``).
        :param content_type: ``ContentType`` sent when the caller gives none. Default:
            ``application/json``.
        :param accept: ``Accept`` sent when the caller gives none. Default: ``application/json``.
        :param timeout: 1-900 seconds, at least ``(connect_timeout + read_timeout) x max_attempts
            + 5 s``. Default: 80 seconds.
        :param memory_size: 128-10240 MB. Default: 256 MB.
        :param reserved_concurrency: reserved concurrent executions, 1-900; also the most
            concurrent requests this function sends to the endpoint. Lambda refuses a reservation
            that leaves the account fewer than 100 unreserved executions. Default: 10.
        :param retry_attempts: retries of a failed asynchronous invocation before it goes to the
            dead-letter queue, 0-2. Default: 2.
        :param log_retention: of the function's log group. Default: one year.
        :param description: the function's description. Default: names the endpoint.
        :param max_attempts: sends of one request to the endpoint (1-5; above 1 opts into SDK
            retries, which may run the model more than once). Default: 1.
        :param connect_timeout: Default: 5 seconds.
        :param read_timeout: how long one attempt waits for the answer. Default: 70 seconds.
        :param role: the function's role (it must trust ``lambda.amazonaws.com``). Default: a new
            role (child ``Role``) with one managed policy (child ``Policy``). A role you pass gets
            the same statements.
        :param role_is_prepared: ``role`` already has them (CDK adds none to a role it cannot
            change instead of raising). Default: false.
        :param alarm_topic: SNS topic the dead-letter queue's alarm notifies. Default: none (the
            alarm has no action).
        """
        super().__init__(scope, id)
        endpoint_name = self._check_endpoint(endpoint)
        self._check_function(timeout=timeout, memory_size=memory_size, reserved_concurrency=reserved_concurrency,
                             retry_attempts=retry_attempts)
        check_int_range(self, "max_attempts", max_attempts, minimum=1, maximum=MAX_ATTEMPTS)
        sdk_seconds = None
        for argument, value in (("connect_timeout", connect_timeout), ("read_timeout", read_timeout)):
            if not value.is_unresolved():
                check_int_range(self, f"{argument} (seconds)", duration_to_seconds(self, argument, value), minimum=1,
                                maximum=MAX_TIMEOUT)
        if not (connect_timeout.is_unresolved() or read_timeout.is_unresolved() or timeout.is_unresolved()):
            sdk_seconds = (connect_timeout.to_seconds() + read_timeout.to_seconds()) * max_attempts
            if timeout.to_seconds() < sdk_seconds + TIMEOUT_MARGIN_SECONDS:
                raise ValidationError(
                    self, "timeout", f"{timeout.to_seconds()} s",
                    f"at least (connect_timeout + read_timeout) x max_attempts + {TIMEOUT_MARGIN_SECONDS} s = "
                    f"{sdk_seconds + TIMEOUT_MARGIN_SECONDS} s, so the function outlives the SDK's last attempt "
                    "(raise timeout, or lower read_timeout/max_attempts)",
                )
        for argument, value in (("content_type", content_type), ("accept", accept)):
            check_length(self, argument, value, minimum=1)  # a default the handler sends: not empty
            check_string(self, argument, value, shape="Header")  # InvokeEndpoint's ContentType / Accept
        chosen_subnets = self._check_network(vpc, subnets, endpoint_security_group)
        check_network_endpoints(self, "vpc", vpc, ("sagemaker.runtime",), feature="EndpointInvoker")
        self.endpoint: InvocableEndpoint = endpoint
        self._build(
            purpose="EndpointInvoker: invokes one SageMaker endpoint",
            handler=HANDLER,
            description=description or f"Invokes the SageMaker endpoint {endpoint_name}",
            environment={"ENDPOINT_NAME": endpoint_name, "CONTENT_TYPE": content_type, "ACCEPT": accept,
                         "MAX_ATTEMPTS": _number_text(max_attempts),
                         "CONNECT_TIMEOUT": _number_text(duration_to_seconds(self, "connect_timeout", connect_timeout)),
                         "READ_TIMEOUT": _number_text(duration_to_seconds(self, "read_timeout", read_timeout))},
            statements=[iam.PolicyStatement(sid="InvokeOneEndpoint", actions=[INVOKE_ACTION],
                                            resources=[endpoint.endpoint_arn])],
            vpc=vpc,
            subnets=chosen_subnets,
            endpoint_security_group=endpoint_security_group,
            encryption_key=_let_logs_use(encryption_key or _key_of(endpoint)),
            timeout=timeout,
            memory_size=memory_size,
            reserved_concurrency=reserved_concurrency,
            retry_attempts=retry_attempts,
            log_retention=log_retention,
            role=role,
            role_is_prepared=role_is_prepared,
            alarm_topic=alarm_topic,
            outside_vpc_reason=(
                "Created without vpc=: the function reaches the SageMaker Runtime API over Lambda's "
                "own network, authorised by IAM (InvokeEndpoint on one endpoint) and TLS. Pass vpc= "
                "(e.g. an IsolatedNetwork with the sagemaker.runtime endpoint) to run it in a VPC, "
                "which removes this finding."
            ),
            iam_reason=(
                "Wildcards only where IAM cannot scope further: X-Ray PutTraceSegments/PutTelemetryRecords "
                "and EC2 DescribeNetworkInterfaces/DescribeSubnets support no resource-level permissions; "
                "Lambda names the network interfaces it creates at run time, so they are network-interface/* "
                "limited to this VPC (ec2:Vpc), created only in this function's subnets and security group."
            ),
        )

    # ------------------------------------------------------------------ internals
    def _check_endpoint(self, endpoint: Any) -> str:
        allowed = "an endpoint construct: an object with endpoint_name and endpoint_arn (strings)"
        if endpoint is None:
            raise ValidationError(self, "endpoint", None, allowed)
        from .endpoints import AsyncEndpoint, InferenceComponentEndpoint

        # The function calls InvokeEndpoint with the endpoint's name only: an asynchronous endpoint
        # takes InvokeEndpointAsync (https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-invoke-endpoint.html),
        # an endpoint hosting inference components is invoked with the component's name
        # (InferenceComponentName, https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html).
        if isinstance(endpoint, AsyncEndpoint):
            raise ValidationError(
                self, "endpoint", type(endpoint).__name__,
                "a synchronous endpoint: an AsyncEndpoint is invoked with InvokeEndpointAsync, which this function does "
                "not call; give your caller endpoint.grant_invoke(...) instead")
        if isinstance(endpoint, InferenceComponentEndpoint):
            raise ValidationError(
                self, "endpoint", type(endpoint).__name__,
                "an endpoint that serves requests by its name alone: an InferenceComponentEndpoint needs an "
                "InferenceComponentName in every request, which this function does not send; give your caller "
                "endpoint.grant_invoke(...) instead")
        name = getattr(endpoint, "endpoint_name", None)
        arn = getattr(endpoint, "endpoint_arn", None)
        if not isinstance(name, str) or not name:
            raise ValidationError(self, "endpoint.endpoint_name", name, allowed)
        if not isinstance(arn, str) or not arn:
            raise ValidationError(self, "endpoint.endpoint_arn", arn, allowed)
        check_name(self, "endpoint.endpoint_name", name)
        if not is_unresolved(arn) and not (arn.startswith("arn:") and ":sagemaker:" in arn and ":endpoint/" in arn):
            raise ValidationError(
                self, "endpoint.endpoint_arn", arn,
                "a SageMaker endpoint ARN (arn:<partition>:sagemaker:<region>:<account>:endpoint/<name>)",
            )
        return name


def _number_text(value: float) -> str:
    """A whole number as an environment value; a Token (``Duration.seconds(<parameter>)``) stays one:
    ``str(int(...))`` of its encoded double wrote a 290-digit number the handler refused at every call."""
    if is_unresolved(value):
        return Tokenization.stringify_number(value)
    return str(int(value))


#: CloudWatch Logs "must have permissions for the KMS key" of a log group, in its key policy
#: (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
_LOGS_KEY_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
_LOGS_ALLOWED = "_sagemaker_constructs_logs_allowed"


def _let_logs_use(key: kms.IKey | None) -> kms.IKey | None:
    """``key``, whose policy now lets CloudWatch Logs of this account and region use it for log
    groups when it is a ``kms.Key`` of this app other than a :class:`PlatformKey` (which already
    allows it): without that statement CloudWatch Logs refused the function's log group, so an
    endpoint built with a plain ``kms.Key`` (the default key) failed the deployment. An imported
    key's policy is not CDK's to change (it must allow CloudWatch Logs already)."""
    from ..security.key import PlatformKey

    if not isinstance(key, kms.Key) or isinstance(key, PlatformKey) or vars(key).get(_LOGS_ALLOWED):
        return key
    vars(key)[_LOGS_ALLOWED] = True
    key.add_to_resource_policy(iam.PolicyStatement(
        sid="AllowCloudWatchLogsForThisAccount", principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
        actions=list(_LOGS_KEY_ACTIONS), resources=["*"],
        conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:*"}},
    ))
    return key


def _key_of(endpoint: Any) -> kms.IKey | None:
    """The endpoint's own key, when it has one (``RealtimeEndpoint(encryption_key=...)``)."""
    key = getattr(endpoint, "encryption_key", None)
    return key if key is not None and hasattr(key, "key_arn") else None
