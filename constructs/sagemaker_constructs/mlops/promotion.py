"""Promote approved model versions through CloudFormation: the template stays the source of truth."""

from __future__ import annotations

import re
from typing import Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ..errors import ValidationError, check_pattern, is_unresolved
from ..validation.combinations import check_single_model_endpoint
from ..interfaces import IInstanceEndpoint, IModelPackageGroup
from .approvals import ApprovalFunction

HANDLER = "promote_on_approval.handler"
#: SSM parameter names: letters, digits and ``_.-``; a name in a hierarchy starts with ``/`` (botocore ssm
#: PutParameterRequest.Name: "For parameters in a hierarchy, you must include a leading forward slash").
_PARAMETER_NAME = re.compile(r"(?:[a-zA-Z0-9_.\-]+|(?:/[a-zA-Z0-9_.\-]+)+)")
#: "Parameter hierarchies are limited to a maximum depth of fifteen levels" (the same botocore documentation).
MAX_PARAMETER_DEPTH = 15


def check_parameter_name(scope: Construct, argument: str, name: str | None) -> None:
    """Raise unless ``name`` is an SSM parameter name PutParameter accepts: ``_PARAMETER_NAME`` (a path
    with its leading ``/``), not prefixed with ``aws`` or ``ssm``, at most 1011 characters and 15 levels.
    Tokens pass."""
    check_pattern(scope, argument, name if name is not None else "", r"(?!/?(?i:aws|ssm))" + _PARAMETER_NAME.pattern,
                  max_length=1011, min_length=1,
                  description="an SSM parameter name: a-zA-Z0-9_.-, in a hierarchy with a leading / before each "
                              "level (/team/model/approved), at most 1011 characters, not starting with aws or ssm",
                  limit="botocore ssm PutParameterRequest.Name")
    if name and not is_unresolved(name) and name.count("/") > MAX_PARAMETER_DEPTH:
        raise ValidationError(scope, argument, name, f"at most {MAX_PARAMETER_DEPTH} hierarchy levels (got "
                                                     f"{name.count('/')}; botocore ssm PutParameterRequest.Name)")


def approved_version_parameter_name_for(group_name: str) -> str:
    """The default name of the parameter holding a group's approved version ARN."""
    return f"/sagemaker-constructs/model-packages/{group_name}/approved"


class PromotionTarget:
    """How :class:`PromoteOnApproval` starts a deployment: a CodePipeline run or a stack update. Both
    let CloudFormation deploy with its own role; the function only asks."""

    def __init__(self, kind: str, *, pipeline: codepipeline.IPipeline | None = None, stack: Stack | None = None,
                 deployment_role: iam.IRole | None = None) -> None:
        self.kind = kind
        self.pipeline = pipeline
        self.stack = stack
        self.deployment_role = deployment_role

    @classmethod
    def pipeline_execution(cls, pipeline: codepipeline.IPipeline) -> "PromotionTarget":
        """``StartPipelineExecution`` of ``pipeline`` (e.g. ``ModelDeliveryPipeline.pipeline``), whose
        deploy actions run CloudFormation with the pipeline's deployment roles."""
        if pipeline is None or not hasattr(pipeline, "pipeline_arn"):
            raise ValidationError("PromotionTarget.pipeline_execution", "pipeline", pipeline,
                                  "a codepipeline.IPipeline (ModelDeliveryPipeline.pipeline)")
        return cls("pipeline", pipeline=pipeline)

    @classmethod
    def stack_update(cls, stack: Stack, *, deployment_role: iam.IRole) -> "PromotionTarget":
        """``UpdateStack`` of ``stack`` with its previous template and parameters, run by CloudFormation
        as ``deployment_role`` (a CloudFormation service role: it trusts ``cloudformation.amazonaws.com``
        and may change what the stack holds). The stack's model must read the approved version as an SSM
        parameter (``Model.from_model_package(model_package=<PromoteOnApproval>.approved_version)``):
        CloudFormation fetches the latest value of a Systems Manager parameter type at every update
        (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/systems-manager-parameter-types.html)."""
        if not isinstance(stack, Stack):
            raise ValidationError("PromotionTarget.stack_update", "stack", type(stack).__name__,
                                  "the cdk.Stack that holds the endpoint and its model")
        if deployment_role is None:
            raise ValidationError("PromotionTarget.stack_update", "deployment_role", None,
                                  "the CloudFormation service role the update runs as")
        return cls("stack", stack=stack, deployment_role=deployment_role)


class PromoteOnApproval(ApprovalFunction):
    """On ``Approved`` in ``model_package_group``, record the version and let CloudFormation deploy it.

    The approval path of :class:`DeployOnApproval` (EventBridge rule, KMS-encrypted approvals queue
    read one approval at a time, retries every ``retry_interval`` up to ``max_receive_count`` times,
    dead-letter queue, dead-letter and approval-age alarms notifying ``alarm_topic``; see
    ``mlops/approvals.py``) feeds a function (handler ``handlers/promote_on_approval.py``) that:

    1. writes the approved version's ARN to the SSM parameter ``approved_version_parameter_name``
       (default ``/sagemaker-constructs/model-packages/<group>/approved``), the *approved version*:
       the endpoint's model reads it at deployment (``Model.from_model_package(model_package=
       promotion.approved_version)``); the parameter's history is the promotion history;
    2. starts a deployment through CloudFormation (``target``): a CodePipeline run
       (:meth:`PromotionTarget.pipeline_execution`, e.g. a :class:`ModelDeliveryPipeline`) or an
       update of the endpoint's stack (:meth:`PromotionTarget.stack_update`) as a CloudFormation
       service role.

    CloudFormation replaces the model and endpoint config and updates the endpoint with the
    template's ``DeploymentConfig`` (blue/green guardrails, alarm-based auto-rollback): nothing
    drifts, and the next stack update keeps the approved version. The function's permissions are
    read the group's versions, read and write that one parameter, and either
    ``codepipeline:StartPipelineExecution`` on that pipeline or ``cloudformation:DescribeStacks``/
    ``UpdateStack`` on that stack with ``iam:PassRole`` of the deployment role only: no SageMaker
    write permission.

    The parameter is not a CloudFormation resource (the function creates it at the first approval),
    so no stack resets or drifts it; deploy a stack that reads it after the first approval.

    Approvals never go backwards: a version older than the one the parameter holds is not promoted
    (decision ``superseded``). Rolling back is explicit: send the approval event of the older version
    with ``"force": true`` at the top level to ``approvals_queue`` (or invoke the function with it),
    e.g. ``{"force": true, "detail": {"ModelPackageGroupName": "<group>", "ModelPackageArn": "<arn of
    v7>", "ModelApprovalStatus": "Approved"}}``; reject the newer version first. Every decision is one
    JSON log line.
    """

    #: handlers/promote_on_approval.py's clients keep botocore's connect and read timeouts (60 + 60 s).
    _sdk_attempt_seconds = 120

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model_package_group: IModelPackageGroup,
        target: PromotionTarget,
        endpoint: IInstanceEndpoint | None = None,
        approved_version_parameter_name: str | None = None,
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
        :param model_package_group: the registry group whose approvals are promoted.
        :param target: how a deployment starts: ``PromotionTarget.pipeline_execution(pipeline)`` or
            ``PromotionTarget.stack_update(stack, deployment_role=...)``.
        :param endpoint: the instance-backed endpoint the promoted model serves (its deployment
            guardrails apply); with a stack update it must be in that stack. Default: none named
            (e.g. the pipeline's endpoints live in other accounts).
        :param approved_version_parameter_name: the SSM parameter holding the approved version ARN.
            Default: ``/sagemaker-constructs/model-packages/<group>/approved``.
        :param encryption_key: key of the function's environment, logs and queues (its policy must
            let EventBridge use it, as a ``PlatformKey``'s does). Default: the endpoint's key, else a
            new ``PlatformKey`` (child ``Key``).
        Other arguments: as :class:`DeployOnApproval` (retries, queue, alarms, VPC, role).
        """
        super().__init__(scope, id)
        if model_package_group is None:
            raise ValidationError(self, "model_package_group", None, "a ModelPackageGroup is required")
        if not isinstance(target, PromotionTarget):
            raise ValidationError(self, "target", type(target).__name__,
                                  "PromotionTarget.pipeline_execution(...) or PromotionTarget.stack_update(...)")
        if endpoint is not None and not isinstance(endpoint, IInstanceEndpoint):
            raise ValidationError(self, "endpoint", type(endpoint).__name__,
                                  "an instance-backed endpoint (IInstanceEndpoint): a RealtimeEndpoint "
                                  "(deployment guardrails apply to instance-backed endpoints)")
        if endpoint is not None:
            check_single_model_endpoint(self, "endpoint", endpoint, feature="PromoteOnApproval")
        if target.kind == "stack" and endpoint is not None and isinstance(endpoint, Construct) \
                and Stack.of(endpoint) is not target.stack:
            assert target.stack is not None  # PromotionTarget.stack_update(stack) always sets it
            raise ValidationError(self, "endpoint", endpoint.node.path,
                                  f"an endpoint of the stack the promotion updates ({target.stack.node.path})")
        if target.kind == "stack":
            assert target.stack is not None
            self._check_same_environment(target.stack.account, target.stack.region, f"stack {target.stack.stack_name}")
        else:
            assert target.pipeline is not None
            self._check_same_environment(target.pipeline.env.account, target.pipeline.env.region,
                                         f"pipeline {target.pipeline.node.path}")
        group_name = model_package_group.model_package_group_name
        name = approved_version_parameter_name or approved_version_parameter_name_for(group_name)
        check_parameter_name(self, "approved_version_parameter_name", name)
        self._check_approvals(timeout=timeout, retry_attempts=retry_attempts, retry_interval=retry_interval,
                              max_receive_count=max_receive_count, approval_age_alarm=approval_age_alarm)
        chosen_subnets = self._check_network(vpc, subnets, endpoint_security_group)
        self.endpoint: IInstanceEndpoint | None = endpoint
        self.target: PromotionTarget = target
        where = (f"pipeline {target.pipeline.pipeline_name}" if target.pipeline is not None
                 else f"stack {target.stack.stack_name}" if target.stack is not None else "")
        self._approval_settings(
            model_package_group=model_package_group, retry_interval=retry_interval,
            max_receive_count=max_receive_count, queue_removal_policy=queue_removal_policy,
            approval_age_alarm=approval_age_alarm, alarm_topic=alarm_topic,
            age_alarm_description=(f"{group_name}: an approval has waited more than "
                                   f"{approval_age_alarm.to_human_string()} to be promoted through {where}"),
        )
        stack = Stack.of(self)
        #: The SSM parameter name holding the approved version ARN.
        self.approved_version_parameter_name: str = name
        #: The approved version, resolved by CloudFormation at deployment (pass it to
        #: ``Model.from_model_package(model_package=...)``).
        self.approved_version: ssm.IStringParameter = ssm.StringParameter.from_string_parameter_attributes(
            self, "ApprovedVersion", parameter_name=name, force_dynamic_reference=True)
        parameter_arn = stack.format_arn(service="ssm", resource="parameter", resource_name=name.lstrip("/"))

        environment = {"MODEL_PACKAGE_GROUP_NAME": group_name, "PARAMETER_NAME": name, "TARGET": target.kind}
        statements = [
            iam.PolicyStatement(sid="ReadApprovedVersions", actions=["sagemaker:DescribeModelPackage"],
                                resources=[model_package_group.model_package_arn_pattern]),
            iam.PolicyStatement(sid="RecordApprovedVersion",
                                actions=["ssm:GetParameter", "ssm:GetParameterHistory", "ssm:PutParameter"],
                                resources=[parameter_arn]),
        ]
        if target.kind == "pipeline":
            assert target.pipeline is not None
            environment["PIPELINE_NAME"] = target.pipeline.pipeline_name
            statements.append(iam.PolicyStatement(sid="StartTheDeliveryPipeline",
                                                  actions=["codepipeline:StartPipelineExecution"],
                                                  resources=[target.pipeline.pipeline_arn]))
        else:
            assert target.stack is not None and target.deployment_role is not None
            environment["STACK_NAME"] = target.stack.stack_name
            environment["DEPLOYMENT_ROLE_ARN"] = target.deployment_role.role_arn
            stack_arn = stack.format_arn(service="cloudformation", resource="stack",
                                         resource_name=f"{target.stack.stack_name}/*",
                                         account=target.stack.account, region=target.stack.region)
            statements += [
                # CloudFormation resolves the stack's Systems Manager parameter types (the approved
                # version, CDK's bootstrap version) with the caller's permissions.
                iam.PolicyStatement(sid="ResolveStackParameters", actions=["ssm:GetParameters"],
                                    resources=[parameter_arn, stack.format_arn(
                                        service="ssm", resource="parameter", resource_name="cdk-bootstrap/*")]),
                iam.PolicyStatement(sid="UpdateTheEndpointStack",
                                    actions=["cloudformation:DescribeStacks", "cloudformation:UpdateStack"],
                                    resources=[stack_arn]),
                iam.PolicyStatement(
                    sid="PassOnlyTheDeploymentRole", actions=["iam:PassRole"],
                    resources=[target.deployment_role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}}),
            ]
        self._build(
            purpose=f"PromoteOnApproval: promotes approved {group_name} versions through CloudFormation",
            handler=HANDLER,
            description=f"Records approved {group_name} versions and starts their deployment through {where}"[:256],
            environment=environment,
            statements=statements,
            vpc=vpc,
            subnets=chosen_subnets,
            endpoint_security_group=endpoint_security_group,
            encryption_key=encryption_key or (endpoint.encryption_key if endpoint is not None else None),
            timeout=timeout,
            memory_size=256,
            reserved_concurrency=2,
            retry_attempts=retry_attempts,
            log_retention=log_retention,
            role=role,
            role_is_prepared=role_is_prepared,
            alarm_topic=alarm_topic,
            outside_vpc_reason=(
                "Created without vpc=: the function reaches the SageMaker, SSM and CodePipeline/CloudFormation "
                "APIs over Lambda's own network, authorised by IAM (this group's versions, one parameter, one "
                "pipeline or stack) and TLS. Pass vpc= (with those services' endpoints) to remove this finding."
            ),
            iam_reason=(
                "Wildcards only where IAM cannot scope further: X-Ray and EC2 Describe* support no "
                "resource-level permissions; model versions are numbered at run time "
                "(model-package/<group>/*); a stack ARN ends in an ID CloudFormation assigns (stack/<name>/*); "
                "Lambda names its network interfaces at run time. No SageMaker write permission."
            ),
        )
        self._subscribe_to_approvals(retry_attempts=retry_attempts)

    def _check_same_environment(self, account: str, region: str, what: str) -> None:
        """Refuse a target in another account or region: the function calls CloudFormation (or
        CodePipeline) and writes the approved version with its own credentials, in its own region."""
        stack = Stack.of(self)
        for part, theirs, ours in (("account", account, stack.account), ("region", region, stack.region)):
            if not is_unresolved(theirs) and not is_unresolved(ours) and theirs != ours:
                raise ValidationError(
                    self, "target", f"{what} in {part} {theirs}",
                    f"a target in this stack's {part} ({ours}): the function starts the deployment and records the "
                    "approved version with its own credentials in its own account and region; for another account "
                    "or region, put PromoteOnApproval in the target's account and region (or deliver through a "
                    "ModelDeliveryPipeline there, whose stages deploy across accounts)")
