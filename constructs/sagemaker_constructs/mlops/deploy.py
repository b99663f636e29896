"""Deploy approved model versions to a real-time endpoint with its guardrails."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..errors import ValidationError, is_unresolved
from ..validation.combinations import check_network_endpoints, check_single_model_endpoint
from ..handlers.common import name_prefix
from ..interfaces import IInstanceEndpoint, IModelPackageGroup
from .approvals import ApprovalFunction

HANDLER = "deploy_on_approval.handler"


def _name_prefix(group_name: str) -> str:
    """The prefix the handler gives the models and endpoint configs it creates (lower-cased, as in ARNs)."""
    return name_prefix(group_name).lower()


class DeployOnApproval(ApprovalFunction):
    """On ``Approved`` in ``model_package_group``, deploy that version to ``endpoint``.

    An EventBridge rule (child ``Rule``) on ``SageMaker Model Package State Change`` events with
    ``ModelApprovalStatus: Approved`` for this group targets a Lambda function (handler
    ``handlers/deploy_on_approval.py``; hardened as :class:`SecureFunction`: KMS, DLQ, tracing,
    reserved concurrency 2) through an SQS queue (child ``ApprovalQueue``, KMS, TLS only) read one
    approval at a time. It creates a model and an endpoint config
    named after the version (so the same approval twice deploys once), keeps the endpoint's current
    instance count, volume key, data capture and VPC settings, and calls ``UpdateEndpoint`` with the
    endpoint's own deployment guardrails (canary/linear/all-at-once with rollback alarms), so a bad
    model never takes all traffic and is rolled back. An approval that cannot be deployed yet (the
    endpoint is still rolling out, throttling) goes back to the queue and is retried every
    ``retry_interval`` (10 minutes), up to ``max_receive_count`` (36) times, then waits in the
    dead-letter queue (child ``DeadLetterQueue``) for a redrive. Alarms (notifying ``alarm_topic``
    when given): any message in the dead-letter queue (child ``DeadLetterQueueAlarm``), and an
    approval older than ``approval_age_alarm`` (1 hour) in the queue (child ``ApprovalAgeAlarm``).
    The approval queue is RETAINed on deletion (it holds pending approvals).

    Approvals never go backwards: a version older than the one the endpoint serves or is being
    updated to (both read from the endpoint configs this function names ``<group>-v<version>-...``)
    is not deployed (decision ``superseded``), so "v7 approved during a rollout, then v8, then v7
    retried" ends serving v8. A config this function did not create (the template's) carries no
    version: any approved version replaces it.

    Endpoints with several variants (``RealtimeEndpoint.add_variant``, ``shadow=``): the approved
    version replaces the model of the endpoint's own variant (``endpoint.variant_name``,
    ``AllTraffic``) only, keeping its weight; the other production variants (A/B) and the shadow
    variant are carried into the new endpoint config unchanged. Blue/green guardrails need the new
    config to keep the variant names (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-exclusions.html),
    which it does; to promote a shadow or challenger, change the template (or approve its model
    into this group).

    Rolling back is explicit: invoke the function (or send to ``approvals_queue``) the approval
    event of the older version with ``"force": true`` at the top level, e.g.
    ``{"force": true, "detail": {"ModelPackageGroupName": "<group>", "ModelPackageArn":
    "<arn of v7>", "ModelApprovalStatus": "Approved"}}``; the version must still be Approved
    (reject the newer one first so a later retry does not return to it). EventBridge's events
    never carry ``force``.

    Keys: ``encryption_key`` defaults to the endpoint's own key (``endpoint.encryption_key``,
    e.g. a ``PlatformKey``, whose policy lets EventBridge use it), and to a new ``PlatformKey``
    (child ``Key``) only when the endpoint has none.

    Co-existing with CloudFormation: CloudFormation still owns the endpoint resource, which now
    serves a config CloudFormation did not create (drift on ``EndpointConfigName``). The next stack
    update that changes the endpoint's model or config rolls it back to the template's model;
    reconcile by promoting the approved version into the template (e.g. ``ModelData`` of the new
    artifact), or keep the template's endpoint settings unchanged between approvals.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model_package_group: IModelPackageGroup,
        endpoint: IInstanceEndpoint,
        vpc: ec2.IVpc | None = None,
        subnets: Sequence[ec2.ISubnet] | None = None,
        endpoint_security_group: ec2.ISecurityGroup | None = None,
        encryption_key: kms.IKey | None = None,
        timeout: Duration = Duration.minutes(2),
        retry_attempts: int = 2,
        retry_interval: Duration = Duration.minutes(10),
        max_receive_count: int = 36,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        alarm_topic: sns.ITopic | None = None,
        approval_age_alarm: Duration = Duration.hours(1),
        queue_removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        role: iam.IRole | None = None,
        role_is_prepared: bool = False,
    ) -> None:
        """
        :param model_package_group: the registry group whose approvals deploy (a
            ``ModelPackageGroup``, or ``ModelPackageGroup.from_model_package_group_name``), named
            at synth (not by a parameter: the models the function creates are named after it).
        :param endpoint: an instance-backed single-model endpoint: a ``RealtimeEndpoint``, or
            ``RealtimeEndpoint.from_endpoint_attributes(..., role=...)`` (a ``MultiModelEndpoint`` is
            refused: a version would replace the container that serves all its models).
        :param vpc: run the function in this VPC (it needs the ``sagemaker.api`` endpoint).
            Default: outside any VPC.
        :param encryption_key: key for the function's environment, logs and dead-letter queue.
            Its policy must let EventBridge use it for the queues (a ``PlatformKey`` does). Default:
            the endpoint's ``encryption_key``; a new ``PlatformKey`` (child ``Key``) when it has none.
        :param retry_attempts: retries of a failed direct asynchronous invocation (0-2). Default: 2.
        :param retry_interval: how long an approval that could not be deployed yet (endpoint busy,
            throttled, failed) waits in the queue before the next try; at least the function
            timeout. Default: 10 minutes.
        :param max_receive_count: tries before an approval moves to the dead-letter queue (1-1000).
            Default: 36 (6 hours at the default interval: longer than a blue/green rollout).
        :param alarm_topic: SNS topic the queue alarms notify. Default: none (alarms without action).
        :param approval_age_alarm: alarm when the oldest approval has waited longer. Default: 1 hour.
        :param queue_removal_policy: of the approval queue. Default: RETAIN (pending approvals).
        :param role: the function's role (it must trust ``lambda.amazonaws.com``); it gets the same
            statements as the default role. Default: a new role (child ``Role``).
        :param role_is_prepared: ``role`` already has them (CDK adds none to a role it cannot
            change instead of raising). Default: false.
        """
        super().__init__(scope, id)
        if model_package_group is None:
            raise ValidationError(self, "model_package_group", None, "a ModelPackageGroup is required")
        if is_unresolved(model_package_group.model_package_group_name):
            raise ValidationError(self, "model_package_group", model_package_group.model_package_group_name,
                                  "a group whose name is known at synth: the function names the models and "
                                  "endpoint configs it creates after the group, and its role may create only those")
        if not isinstance(endpoint, IInstanceEndpoint):
            raise ValidationError(self, "endpoint", type(endpoint).__name__,
                                  "an instance-backed endpoint (IInstanceEndpoint): a RealtimeEndpoint, or "
                                  "RealtimeEndpoint.from_endpoint_attributes(...) (deployment "
                                  "guardrails apply to instance-backed endpoints)")
        check_single_model_endpoint(self, "endpoint", endpoint, feature="DeployOnApproval")
        model = endpoint.model
        if model is None:
            raise ValidationError(self, "endpoint.model", None,
                                  "an endpoint whose model is known: new versions run as its role; import the "
                                  "endpoint with from_endpoint_attributes(..., role=<hosting role>) or model=")
        self._check_approvals(timeout=timeout, retry_attempts=retry_attempts, retry_interval=retry_interval,
                              max_receive_count=max_receive_count, approval_age_alarm=approval_age_alarm)
        chosen_subnets = self._check_network(vpc, subnets, endpoint_security_group)
        check_network_endpoints(self, "vpc", vpc, ("sagemaker.api",), feature="DeployOnApproval")
        self.endpoint: IInstanceEndpoint = endpoint
        self._approval_settings(
            model_package_group=model_package_group, retry_interval=retry_interval,
            max_receive_count=max_receive_count, queue_removal_policy=queue_removal_policy,
            approval_age_alarm=approval_age_alarm, alarm_topic=alarm_topic,
            age_alarm_description=(f"{model_package_group.model_package_group_name}: an approval has waited more than "
                                   f"{approval_age_alarm.to_human_string()} to deploy to {endpoint.endpoint_name}"),
        )
        stack = Stack.of(self)
        prefix = _name_prefix(model_package_group.model_package_group_name)

        def arn(resource: str, name: str) -> str:
            return stack.format_arn(service="sagemaker", resource=resource, resource_name=name)

        environment = {
            "ENDPOINT_NAME": endpoint.endpoint_name,
            "MODEL_PACKAGE_GROUP_NAME": model_package_group.model_package_group_name,
            "EXECUTION_ROLE_ARN": model.role.role_arn,
            "VARIANT_NAME": endpoint.variant_name,
            "ENABLE_NETWORK_ISOLATION": "true" if model.network_isolation else "false",
        }
        if endpoint.deployment_api_config:
            environment["DEPLOYMENT_CONFIG"] = stack.to_json_string(endpoint.deployment_api_config)
        if model.vpc_config is not None:
            environment["VPC_CONFIG"] = stack.to_json_string(dict(model.vpc_config))
        if endpoint.volume_key is not None:
            environment["KMS_KEY_ARN"] = endpoint.volume_key.key_arn
        if endpoint.data_capture is not None:
            environment["DATA_CAPTURE_CONFIG"] = stack.to_json_string(endpoint.data_capture.api(endpoint.encryption_key))

        statements = [
            iam.PolicyStatement(sid="ReadApprovedVersions", actions=["sagemaker:DescribeModelPackage"],
                                resources=[model_package_group.model_package_arn_pattern]),
            iam.PolicyStatement(sid="DeployToOneEndpoint",
                                actions=["sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpoint"],
                                resources=[endpoint.endpoint_arn]),
            iam.PolicyStatement(sid="ReadEndpointConfigs", actions=["sagemaker:DescribeEndpointConfig"],
                                resources=[arn("endpoint-config", "*")]),
            iam.PolicyStatement(
                sid="CreateVersionedModelAndConfig",
                actions=["sagemaker:CreateModel", "sagemaker:CreateEndpointConfig", "sagemaker:AddTags"],
                resources=[arn("model", f"{prefix}-v*"), arn("endpoint-config", f"{prefix}-v*")],
            ),
            iam.PolicyStatement(
                sid="PassOnlyTheModelRole", actions=["iam:PassRole"], resources=[model.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
        ]
        if endpoint.rollback_alarms:
            statements.append(iam.PolicyStatement(sid="ReadRollbackAlarms", actions=["cloudwatch:DescribeAlarms"],
                                                  resources=[a.alarm_arn for a in endpoint.rollback_alarms]))
        if endpoint.volume_key is not None:
            statements.append(iam.PolicyStatement(
                sid="EndpointVolumeKey", actions=["kms:CreateGrant", "kms:DescribeKey"],
                resources=[endpoint.volume_key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ))
        self._build(
            purpose=f"DeployOnApproval: deploys approved {model_package_group.model_package_group_name} versions",
            handler=HANDLER,
            description=f"Deploys approved model versions to the SageMaker endpoint {endpoint.endpoint_name}",
            environment=environment,
            statements=statements,
            vpc=vpc,
            subnets=chosen_subnets,
            endpoint_security_group=endpoint_security_group,
            encryption_key=encryption_key or endpoint.encryption_key,
            timeout=timeout,
            memory_size=256,
            reserved_concurrency=2,
            retry_attempts=retry_attempts,
            log_retention=log_retention,
            role=role,
            role_is_prepared=role_is_prepared,
            alarm_topic=alarm_topic,
            outside_vpc_reason=(
                "Created without vpc=: the function reaches the SageMaker API over Lambda's own network, "
                "authorised by IAM (one endpoint, this group's versions) and TLS. Pass vpc= (with the "
                "sagemaker.api endpoint) to run it in a VPC, which removes this finding."
            ),
            iam_reason=(
                "Wildcards only where IAM cannot scope further: X-Ray and EC2 Describe* support no "
                "resource-level permissions; model versions are numbered at run time "
                "(model-package/<group>/*); the endpoint's current config is named by CloudFormation "
                "(endpoint-config/*, describe only); new models and configs are created only under "
                "this group's name prefix; Lambda names its network interfaces at run time."
            ),
        )
        self._subscribe_to_approvals(retry_attempts=retry_attempts)
