"""The teardown of a Studio domain: the provider of ``Custom::StudioTeardown`` (its Lambda code is
``handlers/studio_teardown.py``).

:class:`StudioDomain` creates it as its child ``TeardownProvider`` and the custom resource as its child
``Teardown``; both IDs are a contract (a moved teardown resource is sent a Delete).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from aws_cdk import Aws, Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import Construct

from .._internal.functions import function_log_group, hardened_function
from .._internal.managed_role import add_known_statements, service_role
from ..compliance import (
    INLINE_SERVICE_POLICY_REASON,
    acknowledge,
    acknowledge_generated_findings,
    acknowledge_present_findings,
    across_packs,
)

if TYPE_CHECKING:
    from .canvas import CanvasSettingsProvider

#: How long the teardown may take before the Provider framework fails the deletion: CloudFormation
#: waits at most an hour for a custom resource (ServiceTimeout 1-3600 s,
#: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-customresource.html),
#: and so does the Provider framework (its total timeout's maximum): a longer wait failed the stack
#: deletion at one hour while the teardown went on polling.
TEARDOWN_TIMEOUT = Duration.hours(1)
#: How often the Provider framework polls ``is_complete``.
TEARDOWN_QUERY_INTERVAL = Duration.seconds(30)
#: The custom resource type.
TEARDOWN_RESOURCE_TYPE = "Custom::StudioTeardown"
#: What the handler reads of its own stack (and nothing else) to tell a stack update from the domain's deletion.
STACK_READ_ACTIONS = ("cloudformation:DescribeStacks", "cloudformation:DescribeStackResource",
                      "cloudformation:GetTemplate")
#: What the handler lists (ListApps, ListSpaces): SageMaker's List* actions support no resource-level
#: permissions ("Except for the ListTags API, resource-level restrictions are not available on List-
#: calls", https://docs.aws.amazon.com/sagemaker/latest/dg/api-permissions-reference.html), so they
#: need Resource "*".
LIST_ACTIONS = ("sagemaker:ListApps", "sagemaker:ListSpaces")


class TeardownProvider(Construct):
    """The Provider-framework provider (two hardened Python functions, one managed policy, one log
    group) that empties a Studio domain before CloudFormation deletes it.

    Exposes ``role``, ``policy``, ``log_group``, ``functions`` (``OnEvent``, ``IsComplete``) and
    ``provider`` (its ``service_token`` is the custom resource's).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        domain_id: str,
        domain_arn: str,
        domain_name: str,
        vpc: ec2.IVpc,
        encryption_key: kms.IKey,
        remove_home_efs: bool,
        log_retention: logs.RetentionDays,
        subnets: Sequence[ec2.ISubnet] = (),
    ) -> None:
        """:param subnets: the domain's subnets: the ENIs it may delete are those in them. Default:
        any subnet of ``vpc``."""
        super().__init__(scope, id)
        domain_resource_arn = f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{Aws.ACCOUNT_ID}"
        vpc_arn = f"arn:{Aws.PARTITION}:ec2:{Aws.REGION}:{Aws.ACCOUNT_ID}:vpc/{vpc.vpc_id}"
        statements = [
            iam.PolicyStatement(
                sid="StudioAppsAndSpaces",
                actions=["sagemaker:DescribeDomain", "sagemaker:DescribeSpace", "sagemaker:DeleteApp",
                         "sagemaker:DeleteSpace"],
                resources=[
                    f"{domain_resource_arn}:domain/{domain_id}",
                    f"{domain_resource_arn}:app/{domain_id}/*",
                    f"{domain_resource_arn}:space/{domain_id}/*",
                    f"{domain_resource_arn}:user-profile/{domain_id}/*",
                ],
            ),
            # List* of SageMaker have no resource type: IAM matches them only with Resource "*" (a
            # statement naming the domain's ARNs never allows them). The handler lists this domain's
            # apps and spaces only (DomainIdEquals); the deletes above stay on this domain's ARNs.
            iam.PolicyStatement(
                sid="DescribeOnly",
                actions=[*LIST_ACTIONS, "ec2:DescribeSecurityGroups", "ec2:DescribePrefixLists",
                         "ec2:DescribeNetworkInterfaces", "elasticfilesystem:DescribeMountTargets",
                         "elasticfilesystem:DescribeFileSystems"],
                resources=["*"],
            ),
        ]
        # What blocks deleting the network is removed whether or not the file system is kept: its
        # mount targets, SageMaker's two NFS security groups and ENIs left in the domain's groups.
        statements += [
            iam.PolicyStatement(
                sid="DeleteStudioHomeEfs" if remove_home_efs else "DeleteStudioHomeEfsMountTargets",
                actions=["elasticfilesystem:DeleteMountTarget",
                         *(["elasticfilesystem:DeleteFileSystem"] if remove_home_efs else [])],
                resources=[f"arn:{Aws.PARTITION}:elasticfilesystem:{Aws.REGION}:{Aws.ACCOUNT_ID}:file-system/*"],
                conditions={"StringEquals": {"aws:ResourceTag/ManagedByAmazonSageMakerResource": domain_arn}},
            ),
            # Only the two NFS groups SageMaker made for this domain, which it tags with the domain's
            # ARN as it tags the home EFS (the key its service-linked role may revoke and delete by,
            # https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonSageMakerNotebooksServiceRolePolicy.html):
            # never another team's group in a shared VPC.
            iam.PolicyStatement(
                sid="DeleteStudioNfsSecurityGroups",
                actions=["ec2:DeleteSecurityGroup", "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"],
                resources=[f"arn:{Aws.PARTITION}:ec2:{Aws.REGION}:{Aws.ACCOUNT_ID}:security-group/*"],
                conditions={"ArnEquals": {"ec2:Vpc": vpc_arn},
                            "StringEquals": {"aws:ResourceTag/ManagedByAmazonSageMakerResource": domain_arn}},
            ),
            # Detached ENIs only (DeleteNetworkInterface refuses attached ones), in the domain's subnets:
            # IAM has no key for the security groups of an ENI, so the handler picks those in the
            # domain's groups (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html).
            iam.PolicyStatement(
                sid="DeleteDetachedStudioNetworkInterfaces",
                actions=["ec2:DeleteNetworkInterface"],
                resources=[f"arn:{Aws.PARTITION}:ec2:{Aws.REGION}:{Aws.ACCOUNT_ID}:network-interface/*"],
                conditions={"ArnEquals": {"ec2:Vpc": vpc_arn, **({"ec2:Subnet": [
                    f"arn:{Aws.PARTITION}:ec2:{Aws.REGION}:{Aws.ACCOUNT_ID}:subnet/{s.subnet_id}" for s in subnets]}
                    if subnets else {})}},
            ),
            # A Delete of the teardown resource tears the domain down only when the domain itself goes:
            # the handler reads its own stack's status, the domain's physical id and the template.
            iam.PolicyStatement(
                sid="ReadOwnStack",
                actions=list(STACK_READ_ACTIONS),
                resources=[Aws.STACK_ID],
            ),
        ]
        # CDK's own grants to the functions (tracing, environment key) stay in the role's DefaultPolicy.
        self.role: iam.Role
        self.policy: iam.ManagedPolicy
        self.role, self.policy = service_role(
            self, "Role", "Policy", service="lambda.amazonaws.com", source_account=False, route_grants=False,
            description=("Studio teardown: when the domain is deleted, deletes its apps, spaces, EFS mount targets "
                         "and network leftovers (and, if asked, its home EFS)"), statements=statements)
        self.log_group: logs.LogGroup = function_log_group(self, "Logs", encryption_key=encryption_key,
                                                           retention=log_retention)
        add_known_statements(
            self.policy,
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn, f"{self.log_group.log_group_arn}:*"],
            )
        )
        # Invoked synchronously by the Provider framework (no dead-letter queue) and outside the VPC
        # (their ENIs would block deleting its subnets): see acknowledge_provider.
        self.functions: dict[str, lambda_.Function] = {}
        for name, handler in (("OnEvent", "studio_teardown.on_event"), ("IsComplete", "studio_teardown.is_complete")):
            self.functions[name] = hardened_function(
                self, name, handler=handler, role=self.role, timeout=Duration.minutes(5), memory_size=256,
                reserved_concurrency=2, encryption_key=encryption_key, log_group=self.log_group,
                description=f"Studio teardown ({name}) for domain {domain_name}",
            )
        self.provider: cr.Provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.functions["OnEvent"],
            is_complete_handler=self.functions["IsComplete"],
            query_interval=TEARDOWN_QUERY_INTERVAL,
            total_timeout=TEARDOWN_TIMEOUT,
            log_group=self.log_group,
            provider_function_env_encryption=encryption_key,
            disable_waiter_state_machine_logging=False,
            waiter_state_machine_log_options=cr.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
        )
        self._acknowledge()

    @property
    def service_token(self) -> str:
        return self.provider.service_token

    def _acknowledge(self) -> None:
        acknowledge_provider(
            self,
            policy_reason=(
                "Wildcards only where IAM cannot scope further: ec2/elasticfilesystem Describe* and "
                "sagemaker ListApps/ListSpaces have no resource-level permissions; apps, spaces and "
                "profiles of this domain are named by users at run time (<domain id>/*); Lambda names its own log streams; deletes are limited to "
                "this domain's tagged EFS and to this VPC."
            ),
            function_reason=(
                "Teardown functions run once, at stack deletion, invoked synchronously by the CDK "
                "Provider framework (a DLQ applies only to asynchronous invocations) and outside the "
                "VPC on purpose: Lambda ENIs in these subnets would themselves block subnet deletion."
            ),
        )


#: What aws-cdk-lib writes into a Lambda function role's DefaultPolicy: tracing (X-Ray has no
#: resource-level permissions) and the environment key's use.
_LAMBDA_ROLE_ACTIONS = ("xray:PutTelemetryRecords", "xray:PutTraceSegments", "kms:Decrypt", "kms:Encrypt",
                        "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:DescribeKey")
#: What the CDK Provider framework grants its own roles: invoking and reading the provider's
#: functions, starting its waiter, and the waiter's log delivery (CloudWatch Logs' vended-log
#: actions take no resource ARN).
_FRAMEWORK_ACTIONS = ("lambda:InvokeFunction", "lambda:GetFunction", "states:StartExecution", "logs:*LogDelivery*",
                      "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups",
                      "logs:DescribeResourcePolicies", "logs:PutResourcePolicy", "logs:ListLogDeliveries")


def acknowledge_provider(owner: TeardownProvider | CanvasSettingsProvider, *, policy_reason: str, function_reason: str,
                         framework_reason: str | None = None) -> None:
    """The acknowledgements of a Provider-framework provider built like :class:`TeardownProvider`
    (``owner.policy``, ``owner.role``, ``owner.provider``): its own policy's IAM findings
    (``policy_reason``), its functions' DLQ/VPC findings (``function_reason``) and the framework's."""
    self = owner
    acknowledge_present_findings(self.policy, reason=policy_reason)
    # aws-cdk-lib writes the role's DefaultPolicy (Lambda's tracing and environment-key grants) and
    # the framework's policies (its invoke grants, the waiter's log delivery) while the provider is
    # built. The findings of exactly those statements are acknowledged when the app is validated,
    # and only if a pack reads them; a statement with any other action keeps its findings.
    acknowledge_generated_findings(
        self.role,
        actions=_LAMBDA_ROLE_ACTIONS,
        reason=(
            "CDK-generated grants of this role's functions: X-Ray PutTraceSegments/PutTelemetryRecords "
            "support no resource-level permissions; the rest is scoped to the platform key."
        ),
    )
    acknowledge(self.role, reason=INLINE_SERVICE_POLICY_REASON, nag=across_packs("IAMNoInlinePolicy"))
    framework = self.provider
    functions = [c for c in self.node.find_all() if isinstance(c, lambda_.CfnFunction)]
    framework_functions = [f for f in functions if f.node.path.startswith(framework.node.path + "/")]
    for function in functions:
        if function in framework_functions:
            continue
        acknowledge(
            function,
            reason=function_reason,
            nag=[*across_packs("LambdaDLQ", ("HIPAA.Security", "NIST.800.53.R5")),
                 *across_packs("LambdaInsideVPC")],
            checkov=["CKV_AWS_116", "CKV_AWS_117"],
        )
    framework_reason = framework_reason or (
        "CDK Provider framework internals (Node.js dispatch functions, their roles and the waiter "
        "state machine) generated by aws-cdk-lib: they only relay this teardown's events, may invoke "
        "only this construct's two functions, and expose no concurrency, DLQ or X-Ray settings."
    )
    acknowledge_generated_findings(framework, actions=_FRAMEWORK_ACTIONS, reason=framework_reason,
                                   managed_policies=("service-role/AWSLambdaBasicExecutionRole",))
    acknowledge(
        framework,
        reason=framework_reason,
        nag=[
            "AwsSolutions-SF2",
            *across_packs("LambdaConcurrency", ("HIPAA.Security", "NIST.800.53.R5")),
            *across_packs("IAMNoInlinePolicy"),
        ],
    )
    for function in framework_functions:
        acknowledge(
            function,
            reason=framework_reason + " They run outside the VPC so their ENIs never block its deletion.",
            nag=[*across_packs("LambdaDLQ", ("HIPAA.Security", "NIST.800.53.R5")),
                 *across_packs("LambdaInsideVPC")],
            checkov=["CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_173"],
        )
    waiter_policy = framework.node.try_find_child("waiter-state-machine")
    if waiter_policy is not None:
        acknowledge(
            waiter_policy.node.find_child("Role").node.find_child("DefaultPolicy"),
            reason=(
                "The waiter state machine may only invoke this Provider's own isComplete and "
                "onTimeout functions (lambda:InvokeFunction on their ARNs and versions)."
            ),
            checkov=["CKV_AWS_111"],
        )
