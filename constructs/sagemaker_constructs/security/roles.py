"""Least-privilege IAM execution roles for the personas of an ML platform.

Every role here is an ``iam.Role`` (so an ``iam.IRole``) that only SageMaker can assume, and only
on behalf of this account. Its permissions live in ONE customer-managed policy, child ``Policy``
(``role.policy``), never in an AWS-managed policy and never in CDK's inline ``DefaultPolicy``:
``role.add_to_policy(...)`` and every ``grant_*(role)`` land in that managed policy too. Guardrails
(explicit Deny statements) live in a second customer-managed policy, child ``Guardrails``
(``role.guardrails``), created only for roles that have guardrails: together with the Studio
permissions they would pass IAM's 6,144-character limit for one managed policy. Synth fails,
instead of the deployment, when a policy could pass that limit.

Where a statement needs a wildcard (``ecr:GetAuthorizationToken``, the EC2 network-interface
calls SageMaker makes for VPC jobs, ``cloudwatch:PutMetricData``, names that users choose at run
time), the cdk-nag ``AwsSolutions-IAM5`` finding is acknowledged on the policy, finding by finding,
with the reason next to the statement. Statements you add later are not acknowledged for you,
except that a finding is keyed by its text: another ``Resource::*`` on the same policy is covered
by the existing ``Resource::*`` acknowledgement.

Condition keys used by the guardrails come from the Service Authorization Reference,
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html
(each action's "Condition keys" column); a key is only used with the actions that list it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import jsii
import jsii.errors
from aws_cdk import ArnFormat, Aws, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct, IValidation

from ..compliance import acknowledge, nag_flatten
from ..errors import ValidationError, check_pattern, is_unresolved

SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"

# --- Condition-key support, per the Service Authorization Reference (SageMaker actions table) ----
# Only the actions whose "Condition keys" column lists the key. A Null/Deny on a key an action
# does not support would deny every call (the key is always missing), so these lists matter.

#: Actions that support both ``sagemaker:VpcSubnets`` and ``sagemaker:VpcSecurityGroupIds``.
#: (CreateTransformJob and CreateEndpointConfig support neither: their VPC comes from the model.)
VPC_GUARDED_ACTIONS: tuple[str, ...] = (
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateProcessingJob",
    "sagemaker:CreateHyperParameterTuningJob",
    "sagemaker:CreateModel",
    "sagemaker:CreateAutoMLJob",
    "sagemaker:CreateAutoMLJobV2",
    "sagemaker:CreateNotebookInstance",
)
#: Actions that support ``sagemaker:VolumeKmsKey`` (CreateModel does not).
VOLUME_KEY_ACTIONS: tuple[str, ...] = (
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateProcessingJob",
    "sagemaker:CreateHyperParameterTuningJob",
    "sagemaker:CreateTransformJob",
    "sagemaker:CreateEndpointConfig",
    "sagemaker:CreateAutoMLJob",
    "sagemaker:CreateAutoMLJobV2",
    "sagemaker:CreateNotebookInstance",
)
#: The subset of VOLUME_KEY_ACTIONS that also supports ``sagemaker:InstanceTypes``.
_VOLUME_KEY_ACTIONS_WITH_INSTANCE_TYPES: tuple[str, ...] = (
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateProcessingJob",
    "sagemaker:CreateHyperParameterTuningJob",
    "sagemaker:CreateTransformJob",
    "sagemaker:CreateEndpointConfig",
    "sagemaker:CreateNotebookInstance",
)
#: Actions that support ``sagemaker:OutputKmsKey`` (not CreateEndpointConfig, CreateNotebookInstance
#: or CreateModel).
OUTPUT_KEY_ACTIONS: tuple[str, ...] = (
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateProcessingJob",
    "sagemaker:CreateHyperParameterTuningJob",
    "sagemaker:CreateTransformJob",
    "sagemaker:CreateAutoMLJob",
    "sagemaker:CreateAutoMLJobV2",
)
#: Actions that support ``sagemaker:NetworkIsolation`` (not the AutoML actions).
NETWORK_ISOLATION_ACTIONS: tuple[str, ...] = (
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateProcessingJob",
    "sagemaker:CreateHyperParameterTuningJob",
    "sagemaker:CreateModel",
)
#: Actions that support ``sagemaker:InterContainerTrafficEncryption`` (not CreateModel).
INTER_CONTAINER_ENCRYPTION_ACTIONS: tuple[str, ...] = (
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateProcessingJob",
    "sagemaker:CreateHyperParameterTuningJob",
    "sagemaker:CreateAutoMLJob",
    "sagemaker:CreateAutoMLJobV2",
)

#: What SageMaker's execution role needs for VPC jobs, models and endpoints ("Give SageMaker access
#: to resources in your Amazon VPC" / "SageMaker AI execution roles").
VPC_NETWORK_INTERFACE_ACTIONS: tuple[str, ...] = (
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
)
_ECR_PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability")
_KEY_USE_ACTIONS = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
)
_LOG_WRITE_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams")

_DOMAIN_ID = r"d-(-*[a-z0-9]){1,61}"

#: IAM's size limit of a customer-managed policy (characters, whitespace not counted).
MANAGED_POLICY_SIZE_LIMIT = 6144
# Upper bounds for values only known at deploy time, used to check that limit at synth.
_PSEUDO_PARAMETER_LENGTHS = {"AWS::Partition": 10, "AWS::Region": 14, "AWS::AccountId": 12, "AWS::URLSuffix": 17}
_REF_LENGTH = 64  # subnet and security-group ids, bucket names
_ATTRIBUTE_LENGTH = 128  # ARNs of keys, buckets, roles

# --- Reasons for the wildcards that IAM requires (cdk-nag AwsSolutions-IAM5) ---------------------
_ECR_TOKEN_AND_ENI_REASON = (
    "ecr:GetAuthorizationToken has no resource type in the Service Authorization Reference (it "
    "must be '*'); the EC2 network-interface actions ({eni}) are the ones SageMaker calls with this "
    "role for VPC jobs and endpoints, and the SageMaker guide says not to scope them with resources "
    "or conditions, or job validation fails. Image pulls are scoped in their own statement."
)
_METRICS_REASON = (
    "cloudwatch:PutMetricData has no resource type in the Service Authorization Reference (it "
    "must be '*'); it is limited to SageMaker's own namespaces with the cloudwatch:namespace "
    "condition ({namespaces})."
)
_BUCKET_OBJECTS_REASON = (
    "Object-level S3 actions ({actions}) on the objects of the buckets this role is given "
    "(bucket ARN + '/*'): object keys are chosen by jobs at run time; no other bucket is reachable."
)
_LOG_GROUPS_REASON = (
    "CloudWatch Logs actions ({actions}) on log groups under {prefix} only: SageMaker names the "
    "group and its streams after the job or endpoint at run time."
)
_ECR_REPOSITORIES_REASON = (
    "ECR pull actions ({actions}) on this account's repositories in this region: no repositories "
    "were given (pass ecr_repositories= to name them)."
)
_SAGEMAKER_RESOURCES_REASON = (
    "SageMaker actions ({actions}) on {what} in this account and region: their names are chosen "
    "by the user at run time, so the ARN ends in a wildcard."
)
_SAGEMAKER_LIST_REASON = (
    "ecr:GetAuthorizationToken and the SageMaker List/Search actions that enumerate an account "
    "({actions}) have no resource type in the Service Authorization Reference, so IAM requires "
    "Resource '*'; they return metadata only, acting on it goes through the scoped statements."
)


@dataclass
class _Acknowledged:
    actions: Sequence[str]
    resources: Sequence[str]
    reason: str


def _ids(items: Sequence[Any], attribute: str) -> list[str]:
    return [getattr(i, attribute) for i in items]


def _unique(values: Sequence[str]) -> list[str]:
    seen: list[str] = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


def _check_network_guardrail(
    scope: Construct | str,
    subnets: Sequence[ec2.ISubnet] | None,
    security_groups: Sequence[ec2.ISecurityGroup] | None,
) -> None:
    """Raise unless subnets and security groups are both ``None`` or both non-empty."""
    if subnets is not None and len(subnets) == 0:
        raise ValidationError(
            scope, "subnets", [], "give at least one subnet, or None to add no VPC guardrail"
        )
    if security_groups is not None and len(security_groups) == 0:
        raise ValidationError(
            scope, "security_groups", [], "give at least one security group, or None to add no VPC guardrail"
        )
    if subnets is not None and security_groups is None:
        raise ValidationError(
            scope, "security_groups", None,
            "required when subnets is given: SageMaker VpcConfig always names both subnets and security groups",
        )
    if security_groups is not None and subnets is None:
        raise ValidationError(
            scope, "subnets", None,
            "required when security_groups is given: SageMaker VpcConfig always names both subnets and "
            "security groups",
        )


def _deployed_text_length(node: Any) -> int:
    """Upper bound of the length of a resolved value once CloudFormation has substituted it."""
    if isinstance(node, str):
        return len(json.dumps(node)) - 2
    if isinstance(node, dict) and len(node) == 1:
        ((function, value),) = node.items()
        if function == "Ref":
            return _PSEUDO_PARAMETER_LENGTHS.get(value, _REF_LENGTH)
        if function == "Fn::Join":
            delimiter, items = value
            return sum(_deployed_text_length(i) for i in items) + len(delimiter) * max(0, len(items) - 1)
        if function.startswith("Fn::"):
            return _ATTRIBUTE_LENGTH
    return len(json.dumps(node, separators=(",", ":")))


def estimated_policy_size(document: Any) -> int:
    """Upper bound of a resolved policy document's size as IAM counts it (no whitespace)."""
    if isinstance(document, dict):
        if len(document) == 1 and next(iter(document)).startswith(("Ref", "Fn::")):
            return _deployed_text_length(document) + 2
        return 2 + sum(len(json.dumps(k)) + 1 + estimated_policy_size(v) for k, v in document.items()) + max(
            0, len(document) - 1
        )
    if isinstance(document, list):
        return 2 + sum(estimated_policy_size(v) for v in document) + max(0, len(document) - 1)
    return len(json.dumps(document, separators=(",", ":")))


@jsii.implements(IValidation)
class _ManagedPolicySizeLimit:
    """Fail synth (not deploy) when a role's managed policy could exceed IAM's size limit."""

    def __init__(self, role: "_SageMakerExecutionRole") -> None:
        self._role = role

    def validate(self) -> list[str]:
        errors = []
        stack = Stack.of(self._role)
        for policy in (self._role.policy, self._role.guardrails):
            if policy is None:
                continue
            size = estimated_policy_size(stack.resolve(policy.document))
            if size > MANAGED_POLICY_SIZE_LIMIT:
                errors.append(
                    f"{policy.node.path}: the policy may reach {size} characters once deployed, over IAM's "
                    f"{MANAGED_POLICY_SIZE_LIMIT}-character limit for a managed policy; give fewer buckets, "
                    "repositories or roles, or move extra statements to another managed policy"
                )
        return errors


class _SageMakerExecutionRole(iam.Role):
    """Shared mechanics: SageMaker-only trust, the managed policies, acknowledged wildcards, size check."""

    _policy_description = "sagemaker-constructs execution role permissions"
    _key_required = True

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption_key: kms.IKey | None,
        role_name: str | None,
        description: str,
        permissions_boundary: iam.IManagedPolicy | None,
    ) -> None:
        path = f"{scope.node.path}/{id}"
        if encryption_key is None and self._key_required:
            raise ValidationError(path, "encryption_key", None, "a kms.IKey is required (the platform's customer-managed key)")
        super().__init__(
            scope,
            id,
            assumed_by=iam.ServicePrincipal(SAGEMAKER_SERVICE).with_conditions(
                {"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            role_name=role_name,
            description=description,
            permissions_boundary=permissions_boundary,
        )
        #: The one customer-managed policy that holds every permission (Allow) of this role.
        self.policy = iam.ManagedPolicy(self, "Policy", description=self._policy_description, roles=[self])
        #: The customer-managed policy holding this role's guardrails (Deny only), or ``None``.
        self.guardrails: iam.ManagedPolicy | None = None
        #: The platform key this role uses.
        self.encryption_key = encryption_key
        self._acknowledged: list[_Acknowledged] = []
        self.node.add_validation(_ManagedPolicySizeLimit(self))

    # Route add_to_policy() and every grant_*() into the managed policy instead of DefaultPolicy.
    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        policy = self.__dict__.get("policy")
        if policy is None:  # only while iam.Role itself is being constructed
            return super().add_to_principal_policy(statement)
        policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=policy)

    # --- statement helpers -----------------------------------------------------------------------
    def _arn(self, service: str, resource: str, name: str, *, colon: bool = False) -> str:
        return Stack.of(self).format_arn(
            service=service,
            resource=resource,
            resource_name=name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME if colon else ArnFormat.SLASH_RESOURCE_NAME,
        )

    def _sagemaker_arn(self, resource: str, name: str = "*") -> str:
        return self._arn("sagemaker", resource, name)

    def _allow(
        self,
        actions: Sequence[str],
        resources: Sequence[str],
        *,
        sid: str | None,
        conditions: Mapping[str, Any] | None = None,
        wildcard_reason: str | None = None,
    ) -> iam.PolicyStatement:
        statement = iam.PolicyStatement(
            sid=sid, actions=list(actions), resources=list(resources), conditions=dict(conditions) if conditions else None
        )
        self.policy.add_statements(statement)
        if wildcard_reason is not None:
            self._acknowledged.append(_Acknowledged(list(actions), list(resources), wildcard_reason))
        return statement

    def _deny(self, sid: str, actions: Sequence[str], conditions: Mapping[str, Any]) -> iam.PolicyStatement:
        # Guardrails live in their own managed policy: with them, the Studio permissions would pass
        # IAM's 6,144-character managed-policy limit in a typical configuration. It holds only
        # Deny statements, so nothing added to `policy` can weaken or reorder them.
        if self.guardrails is None:
            self.guardrails = iam.ManagedPolicy(
                self, "Guardrails", description="sagemaker-constructs guardrails (Deny only)", roles=[self]
            )
        statement = iam.PolicyStatement(
            sid=sid, effect=iam.Effect.DENY, actions=list(actions), resources=["*"], conditions=dict(conditions)
        )
        self.guardrails.add_statements(statement)
        return statement

    def _key_arns(self, buckets: Sequence[s3.IBucket]) -> list[str]:
        keys = [self.encryption_key.key_arn] if self.encryption_key is not None else []
        keys.extend(b.encryption_key.key_arn for b in buckets if b.encryption_key is not None)
        return _unique(keys)

    def _allow_key_use(self, key_arns: Sequence[str], actions: Sequence[str]) -> None:
        if not key_arns:
            return
        self._allow(actions, key_arns, sid="UseEncryptionKeys")
        self._allow(
            ["kms:CreateGrant"],
            key_arns,
            sid="GrantKeysToAwsServices",
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        )

    def _allow_buckets(
        self, sid: str, buckets: Sequence[s3.IBucket], object_actions: Sequence[str], bucket_actions: Sequence[str]
    ) -> None:
        if not buckets:
            return
        self._allow(
            object_actions,
            [b.arn_for_objects("*") for b in buckets],
            sid=f"{sid}Objects",
            wildcard_reason=_BUCKET_OBJECTS_REASON.format(actions=", ".join(object_actions)),
        )
        self._allow(bucket_actions, [b.bucket_arn for b in buckets], sid=sid)

    def _allow_ecr_pull(self, repositories: Sequence[ecr.IRepository]) -> None:
        if repositories:
            self._allow(_ECR_PULL_ACTIONS, [r.repository_arn for r in repositories], sid="PullImages")
        else:
            self._allow(
                _ECR_PULL_ACTIONS,
                [self._arn("ecr", "repository", "*")],
                sid="PullImages",
                wildcard_reason=_ECR_REPOSITORIES_REASON.format(actions=", ".join(_ECR_PULL_ACTIONS)),
            )

    def _allow_log_writes(self, prefix: str) -> None:
        self._allow(
            _LOG_WRITE_ACTIONS,
            [self._arn("logs", "log-group", f"{prefix}*", colon=True)],
            sid="WriteSageMakerLogs",
            wildcard_reason=_LOG_GROUPS_REASON.format(actions=", ".join(_LOG_WRITE_ACTIONS), prefix=prefix),
        )

    def _allow_unscoped(self, actions: Sequence[str], reason: str, conditions: Mapping[str, Any] | None = None) -> None:
        # No Sid on purpose: cdk-nag's *FullAccess check matches a '"*"' followed by a Sid and any
        # later Allow statement, so Resource '*' statements stay Sid-less (Resource is then last).
        self._allow(actions, ["*"], sid=None, conditions=conditions, wildcard_reason=reason)

    def _allow_vpc_network_interfaces(self) -> None:
        """ECR's token and the ENI calls SageMaker makes for VPC jobs and endpoints (unscoped)."""
        reason = _ECR_TOKEN_AND_ENI_REASON.format(eni=", ".join(VPC_NETWORK_INTERFACE_ACTIONS))
        self._allow_unscoped(["ecr:GetAuthorizationToken", *VPC_NETWORK_INTERFACE_ACTIONS], reason)
        # checkov reads the unscoped ENI create/permission calls as unconstrained write (111) and
        # permissions management (109).
        acknowledge(self.policy, reason=reason, checkov=["CKV_AWS_109", "CKV_AWS_111"])

    def _allow_metrics(self, namespaces: Sequence[str]) -> None:
        self._allow_unscoped(
            ["cloudwatch:PutMetricData"],
            _METRICS_REASON.format(namespaces=", ".join(namespaces)),
            conditions={"StringLike": {"cloudwatch:namespace": list(namespaces)}},
        )

    def _deny_other_keys(self, key_arn: str, *, exempt_instance_types: Sequence[str] = ()) -> None:
        """Jobs and endpoint configs must name the platform key for volumes and outputs.

        Two statements per key: the key is missing (``Null``), or present and different.
        """
        if exempt_instance_types:
            with_types = _VOLUME_KEY_ACTIONS_WITH_INSTANCE_TYPES
            self._deny(
                "DenyMissingVolumeKey",
                with_types,
                {
                    "Null": {"sagemaker:VolumeKmsKey": "true"},
                    "ForAnyValue:StringNotLike": {"sagemaker:InstanceTypes": list(exempt_instance_types)},
                },
            )
            self._deny(
                "DenyMissingVolumeKeyAutoML",
                [a for a in VOLUME_KEY_ACTIONS if a not in with_types],
                {"Null": {"sagemaker:VolumeKmsKey": "true"}},
            )
        else:
            self._deny("DenyMissingVolumeKey", VOLUME_KEY_ACTIONS, {"Null": {"sagemaker:VolumeKmsKey": "true"}})
        self._deny(
            "DenyOtherVolumeKey",
            VOLUME_KEY_ACTIONS,
            {"Null": {"sagemaker:VolumeKmsKey": "false"}, "ArnNotEquals": {"sagemaker:VolumeKmsKey": key_arn}},
        )
        self._deny("DenyMissingOutputKey", OUTPUT_KEY_ACTIONS, {"Null": {"sagemaker:OutputKmsKey": "true"}})
        self._deny(
            "DenyOtherOutputKey",
            OUTPUT_KEY_ACTIONS,
            {"Null": {"sagemaker:OutputKmsKey": "false"}, "ArnNotEquals": {"sagemaker:OutputKmsKey": key_arn}},
        )

    def _acknowledge_wildcards(self) -> None:
        """Acknowledge each AwsSolutions-IAM5 finding of our own statements, with its reason.

        cdk-nag 3 reports one finding per wildcard (``AwsSolutions-IAM5[Resource::<flattened>]``)
        and CDK matches acknowledgements exactly (no prefix matching, so a bare
        ``AwsSolutions-IAM5`` acknowledges nothing), so the ids are computed the way cdk-nag
        flattens the resolved policy. A resource of another stack is only replaced by its
        cross-stack reference at synth, so its finding does not match and is left for review.
        """
        stack = Stack.of(self)
        reasons_by_rule: dict[str, list[str]] = {}
        for entry in self._acknowledged:
            findings = [f"Action::{a}" for a in entry.actions if "*" in a]
            for resource in entry.resources:
                try:
                    flat = nag_flatten(stack.resolve(resource))
                except (RuntimeError, jsii.errors.JSIIError):
                    continue
                if "*" in flat:
                    findings.append(f"Resource::{flat}")
            for finding in findings:
                reasons = reasons_by_rule.setdefault(f"AwsSolutions-IAM5[{finding}]", [])
                if entry.reason not in reasons:
                    reasons.append(entry.reason)
        # One acknowledgement per finding; a finding shared by several statements (Resource::*)
        # carries all of their reasons.
        rules_by_reason: dict[str, list[str]] = {}
        for rule, reasons in reasons_by_rule.items():
            rules_by_reason.setdefault(" ".join(reasons), []).append(rule)
        for reason, rules in rules_by_reason.items():
            acknowledge(self.policy, reason=reason, nag=rules)


def depend_on_role_policies(resource: IConstruct, role: iam.IRole) -> None:
    """Make ``resource`` wait for the managed policies of one of our roles (its permissions and
    guardrails), so SageMaker sees them when it validates the resource. No-op for other roles."""
    for policy in (getattr(role, "policy", None), getattr(role, "guardrails", None)):
        if isinstance(policy, Construct):
            resource.node.add_dependency(policy)


class StudioUserRole(_SageMakerExecutionRole):
    """The execution role of a data scientist's SageMaker Studio user profile.

    Usable wherever an ``iam.IRole`` is expected. Permissions (one managed policy, ``role.policy``):

    * Studio basics: create, update, delete and describe apps and spaces (and tag them), describe
      user profiles and the domain, scoped to ``domain_id`` (``app/<domain>/*``, ``space/<domain>/*``,
      ``user-profile/<domain>/*``, ``domain/<domain>``) or, without ``domain_id``, to any domain of
      this account and region;
    * create, describe and stop training, processing, tuning and transform jobs; create, describe
      and delete models; create and describe experiments, trials and trial components; start,
      describe and stop executions of existing pipelines -- all in this account and region; the
      List/Search calls behind them;
    * read/write the objects of ``data_buckets`` (``s3:ListBucket`` on the buckets) and use of
      ``encryption_key`` (and of each bucket's own key): Decrypt, Encrypt, GenerateDataKey,
      GenerateDataKeyWithoutPlaintext, DescribeKey, and CreateGrant only for AWS services;
    * pull images from ``ecr_repositories`` (default: this account's repositories in this region);
    * read SageMaker's CloudWatch logs (``/aws/sagemaker/*``);
    * ``iam:PassRole`` only on ``passable_roles`` and only to ``sagemaker.amazonaws.com``; no
      PassRole at all when none are given (then jobs cannot be started: pass a ``JobExecutionRole``).
      The role cannot pass itself, and the SageMaker Python SDK's default bucket
      (``sagemaker-<region>-<account>``) is not granted: set the session's ``default_bucket`` to
      one of ``data_buckets``.

    Guardrails (explicit ``Deny`` in ``role.guardrails``, so no other policy can lift them):

    * training, processing, tuning, transform and AutoML jobs, endpoint configs and notebook
      instances must use ``encryption_key`` for volumes (``sagemaker:VolumeKmsKey``) and jobs for
      outputs (``sagemaker:OutputKmsKey``): a missing or different key is denied. Pass the key ARN,
      not its id or alias;
    * with ``subnets``/``security_groups``: training, processing, tuning and AutoML jobs, models and
      notebook instances only in those subnets with those security groups (``sagemaker:VpcSubnets``
      / ``sagemaker:VpcSecurityGroupIds`` not in the list, or missing). ``None`` (the default) adds
      no VPC guardrail: jobs may then run without a VPC (the keys guardrail still applies);
    * optional: network isolation, inter-container traffic encryption.

    Each guardrail names only actions whose "Condition keys" column in the Service Authorization
    Reference lists the key (see ``VPC_GUARDED_ACTIONS``, ``VOLUME_KEY_ACTIONS``, ...).
    No AWS-managed policy (in particular no ``AmazonSageMakerFullAccess``), no ``s3:*``.
    """

    _policy_description = "sagemaker-constructs Studio user permissions"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption_key: kms.IKey,
        data_buckets: Sequence[s3.IBucket] = (),
        subnets: Sequence[ec2.ISubnet] | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        passable_roles: Sequence[iam.IRole] = (),
        domain_id: str | None = None,
        ecr_repositories: Sequence[ecr.IRepository] = (),
        require_network_isolation: bool = False,
        require_inter_container_encryption: bool = False,
        volume_key_exempt_instance_types: Sequence[str] = (),
        role_name: str | None = None,
        permissions_boundary: iam.IManagedPolicy | None = None,
    ) -> None:
        """
        :param encryption_key: the platform key every job, endpoint config and notebook must use
            for volumes and outputs (required).
        :param data_buckets: buckets the user reads and writes. Default: none.
        :param subnets: the only subnets jobs, models and notebooks may use. Default: ``None``,
            no VPC guardrail. Given together with ``security_groups``; never empty.
        :param security_groups: the only security groups they may use. Default: ``None``.
        :param passable_roles: roles the user may pass to SageMaker (``iam:PassedToService``).
            Default: none, so no ``iam:PassRole`` statement at all.
        :param domain_id: the Studio domain (``d-...``) whose apps, spaces and profiles the user
            manages. Default: any domain of this account and region.
        :param ecr_repositories: repositories the user may pull from. Default: this account's
            repositories in this region.
        :param require_network_isolation: deny training, processing and tuning jobs and models
            without ``EnableNetworkIsolation``. Default: false.
        :param require_inter_container_encryption: deny training, processing, tuning and AutoML
            jobs without inter-container traffic encryption. Default: false.
        :param volume_key_exempt_instance_types: instance types (patterns such as ``ml.g5.*``)
            that may omit the volume key: SageMaker rejects a volume key for instance types with
            local NVMe storage, which it encrypts in hardware. A volume key that IS given must
            still be the platform key. Default: none, every job must name the platform key.
        :param role_name: Default: a CloudFormation-generated name.
        :param permissions_boundary: Default: none.
        """
        path = f"{scope.node.path}/{id}"
        _check_network_guardrail(path, subnets, security_groups)
        check_pattern(
            path, "domain_id", domain_id, _DOMAIN_ID, max_length=63,
            description="a Studio domain id: 'd-' followed by lowercase letters, digits and '-'",
        )
        for instance_type in volume_key_exempt_instance_types:
            if not is_unresolved(instance_type) and not str(instance_type).startswith("ml."):
                raise ValidationError(
                    path, "volume_key_exempt_instance_types", instance_type,
                    "SageMaker instance types (or patterns) start with 'ml.', e.g. 'ml.g5.*'",
                )
        super().__init__(
            scope,
            id,
            encryption_key=encryption_key,
            role_name=role_name,
            description="SageMaker Studio user execution role (sagemaker-constructs)",
            permissions_boundary=permissions_boundary,
        )
        self.data_buckets = tuple(data_buckets)
        domain = domain_id or "*"
        if not domain_id:
            domain_text = "its domains"
        elif Token.is_unresolved(domain_id):
            domain_text = "its domain"  # an acknowledgement reason must be plain text
        else:
            domain_text = f"domain {domain_id}"
        studio_actions = [
            "sagemaker:CreateApp", "sagemaker:DeleteApp", "sagemaker:DescribeApp",
            "sagemaker:CreateSpace", "sagemaker:UpdateSpace", "sagemaker:DeleteSpace", "sagemaker:DescribeSpace",
            "sagemaker:AddTags", "sagemaker:ListTags",
        ]
        self._allow(
            studio_actions,
            [self._sagemaker_arn("app", f"{domain}/*"), self._sagemaker_arn("space", f"{domain}/*")],
            sid="StudioAppsAndSpaces",
            wildcard_reason=_SAGEMAKER_RESOURCES_REASON.format(
                actions=", ".join(studio_actions), what=f"the apps and spaces of {domain_text}"
            ),
        )
        # Describe only: no AddTags on user profiles, whose tags may drive attribute-based access.
        profile_actions = ["sagemaker:DescribeUserProfile", "sagemaker:DescribeDomain"]
        self._allow(
            profile_actions,
            [self._sagemaker_arn("user-profile", f"{domain}/*"), self._sagemaker_arn("domain", domain)],
            sid="StudioProfilesAndDomain",
            wildcard_reason=_SAGEMAKER_RESOURCES_REASON.format(
                actions=", ".join(profile_actions), what=f"the user profiles (and domain) of {domain_text}"
            ),
        )
        job_actions = [
            "sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob",
            "sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob",
            "sagemaker:CreateHyperParameterTuningJob", "sagemaker:DescribeHyperParameterTuningJob",
            "sagemaker:StopHyperParameterTuningJob", "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
            "sagemaker:CreateTransformJob", "sagemaker:DescribeTransformJob", "sagemaker:StopTransformJob",
            "sagemaker:CreateModel", "sagemaker:DescribeModel", "sagemaker:DeleteModel",
            "sagemaker:CreateExperiment", "sagemaker:DescribeExperiment",
            "sagemaker:CreateTrial", "sagemaker:DescribeTrial",
            "sagemaker:CreateTrialComponent", "sagemaker:DescribeTrialComponent", "sagemaker:UpdateTrialComponent",
            "sagemaker:AssociateTrialComponent",
            "sagemaker:AddTags", "sagemaker:ListTags",
        ]
        job_types = ("training-job", "processing-job", "hyper-parameter-tuning-job", "transform-job", "model")
        self._allow(
            job_actions,
            # "experiment*" is experiment/, experiment-trial/ and experiment-trial-component/ in one ARN.
            [*(self._sagemaker_arn(t) for t in job_types), Stack.of(self).format_arn(service="sagemaker", resource="experiment*")],
            sid="RunJobsModelsAndExperiments",
            wildcard_reason=_SAGEMAKER_RESOURCES_REASON.format(
                actions=", ".join(job_actions),
                what="training, processing, tuning and transform jobs, models, experiments, trials and trial components",
            ),
        )
        pipeline_actions = [
            "sagemaker:DescribePipeline", "sagemaker:StartPipelineExecution", "sagemaker:StopPipelineExecution",
            "sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutionSteps",
            "sagemaker:DescribePipelineDefinitionForExecution",
        ]
        self._allow(
            pipeline_actions,
            [self._sagemaker_arn("pipeline")],
            sid="RunPipelines",
            wildcard_reason=_SAGEMAKER_RESOURCES_REASON.format(
                actions=", ".join(pipeline_actions), what="existing pipelines and their executions"
            ),
        )
        object_actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
        self._allow_buckets("ReadWriteDataBuckets", self.data_buckets, object_actions,
                            ["s3:ListBucket", "s3:GetBucketLocation"])
        self._allow_key_use(self._key_arns(self.data_buckets), _KEY_USE_ACTIONS)
        self._allow_ecr_pull(ecr_repositories)
        log_read = ["logs:DescribeLogStreams", "logs:GetLogEvents", "logs:FilterLogEvents"]
        self._allow(
            log_read,
            [self._arn("logs", "log-group", "/aws/sagemaker/*", colon=True)],
            sid="ReadSageMakerLogs",
            wildcard_reason=_LOG_GROUPS_REASON.format(actions=", ".join(log_read), prefix="/aws/sagemaker/"),
        )
        if passable_roles:
            self._allow(
                ["iam:PassRole"],
                [r.role_arn for r in passable_roles],
                sid="PassExecutionRolesToSageMaker",
                conditions={"StringEquals": {"iam:PassedToService": SAGEMAKER_SERVICE}},
            )
        list_actions = [
            "sagemaker:ListDomains", "sagemaker:ListUserProfiles", "sagemaker:ListApps", "sagemaker:ListSpaces",
            "sagemaker:ListTrainingJobs", "sagemaker:ListProcessingJobs", "sagemaker:ListHyperParameterTuningJobs",
            "sagemaker:ListTransformJobs",
            "sagemaker:ListModels", "sagemaker:ListPipelines", "sagemaker:ListPipelineExecutions",
            "sagemaker:ListExperiments", "sagemaker:ListTrials", "sagemaker:ListTrialComponents", "sagemaker:Search",
        ]
        self._allow_unscoped(
            [*list_actions, "ecr:GetAuthorizationToken"],
            _SAGEMAKER_LIST_REASON.format(actions=", ".join(list_actions)),
        )

        # Guardrails.
        self._deny_other_keys(encryption_key.key_arn, exempt_instance_types=volume_key_exempt_instance_types)
        if subnets is not None and security_groups is not None:
            self._deny(
                "DenyOtherSubnets", VPC_GUARDED_ACTIONS,
                {"ForAnyValue:StringNotEquals": {"sagemaker:VpcSubnets": _ids(subnets, "subnet_id")}},
            )
            self._deny(
                "DenyOtherSecurityGroups", VPC_GUARDED_ACTIONS,
                {"ForAnyValue:StringNotEquals": {
                    "sagemaker:VpcSecurityGroupIds": _ids(security_groups, "security_group_id")}},
            )
            # ForAnyValue is false when the key is missing: "no VpcConfig" needs its own Null checks.
            self._deny("DenyMissingSubnets", VPC_GUARDED_ACTIONS, {"Null": {"sagemaker:VpcSubnets": "true"}})
            self._deny(
                "DenyMissingSecurityGroups", VPC_GUARDED_ACTIONS, {"Null": {"sagemaker:VpcSecurityGroupIds": "true"}}
            )
        # BoolIfExists is true when the key is missing: one statement denies "false" and "not set".
        if require_network_isolation:
            self._deny("DenyWithoutNetworkIsolation", NETWORK_ISOLATION_ACTIONS,
                       {"BoolIfExists": {"sagemaker:NetworkIsolation": "false"}})
        if require_inter_container_encryption:
            self._deny("DenyWithoutInterContainerEncryption", INTER_CONTAINER_ENCRYPTION_ACTIONS,
                       {"BoolIfExists": {"sagemaker:InterContainerTrafficEncryption": "false"}})
        self._acknowledge_wildcards()


class JobExecutionRole(_SageMakerExecutionRole):
    """What training, processing, tuning and transform jobs (and pipelines) run as.

    Usable wherever an ``iam.IRole`` is expected. Permissions (one managed policy, ``role.policy``):

    * read the objects of ``data_buckets``; read and write the objects of ``output_bucket``
      (``s3:ListBucket``/``s3:GetBucketLocation`` on those buckets);
    * use of ``encryption_key`` and of each bucket's own key (Decrypt, Encrypt, GenerateDataKey,
      GenerateDataKeyWithoutPlaintext, DescribeKey; CreateGrant only for AWS services, which
      SageMaker needs to encrypt job volumes);
    * pull images from ``ecr_repositories`` (default: this account's repositories in this region);
    * write CloudWatch Logs under ``/aws/sagemaker/*``; ``cloudwatch:PutMetricData`` only to the
      ``/aws/sagemaker/*`` namespaces (TrainingJobs, ProcessingJobs, TransformJobs, ...);
    * the EC2 network-interface calls SageMaker makes for VPC jobs (unscoped, as SageMaker requires);
    * with ``orchestrate_pipelines``: what SageMaker Pipelines does with the pipeline's role --
      create, describe and stop the jobs of its steps and create models in this account and region,
      and pass this role (and only to SageMaker). Guardrails (``role.guardrails``): those jobs must
      use ``encryption_key`` for volumes and outputs. Steps beyond these (e.g. RegisterModel's
      ``sagemaker:CreateModelPackage``) are added with ``role.add_to_policy``.
    """

    _policy_description = "sagemaker-constructs job execution permissions"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption_key: kms.IKey,
        data_buckets: Sequence[s3.IBucket] = (),
        output_bucket: s3.IBucket | None = None,
        ecr_repositories: Sequence[ecr.IRepository] = (),
        orchestrate_pipelines: bool = False,
        role_name: str | None = None,
        permissions_boundary: iam.IManagedPolicy | None = None,
    ) -> None:
        """
        :param encryption_key: the platform key (required).
        :param data_buckets: buckets jobs read. Default: none.
        :param output_bucket: the bucket jobs write models, outputs and checkpoints to (and read
            back, e.g. a later pipeline step). Default: none.
        :param ecr_repositories: repositories of the job images. Default: this account's
            repositories in this region. (SageMaker's own images need no permission here.)
        :param orchestrate_pipelines: also be a SageMaker Pipelines execution role. Default: false.
        :param role_name: Default: a CloudFormation-generated name.
        :param permissions_boundary: Default: none.
        """
        super().__init__(
            scope,
            id,
            encryption_key=encryption_key,
            role_name=role_name,
            description="SageMaker job execution role (sagemaker-constructs)",
            permissions_boundary=permissions_boundary,
        )
        self.data_buckets = tuple(data_buckets)
        self.output_bucket = output_bucket
        self._allow_buckets("ReadDataBuckets", self.data_buckets, ["s3:GetObject"],
                            ["s3:ListBucket", "s3:GetBucketLocation"])
        if output_bucket is not None:
            self._allow_buckets("WriteOutputBucket", [output_bucket],
                                ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                                ["s3:ListBucket", "s3:GetBucketLocation"])
        buckets = [*self.data_buckets, *([output_bucket] if output_bucket is not None else [])]
        self._allow_key_use(self._key_arns(buckets), _KEY_USE_ACTIONS)
        self._allow_ecr_pull(ecr_repositories)
        self._allow_log_writes("/aws/sagemaker/")
        if orchestrate_pipelines:
            actions = [
                "sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob",
                "sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob",
                "sagemaker:CreateHyperParameterTuningJob", "sagemaker:DescribeHyperParameterTuningJob",
                "sagemaker:StopHyperParameterTuningJob",
                "sagemaker:CreateTransformJob", "sagemaker:DescribeTransformJob", "sagemaker:StopTransformJob",
                "sagemaker:CreateModel", "sagemaker:DescribeModel", "sagemaker:AddTags",
            ]
            types = ("training-job", "processing-job", "hyper-parameter-tuning-job", "transform-job", "model")
            self._allow(
                actions,
                [self._sagemaker_arn(t) for t in types],
                sid="RunPipelineSteps",
                wildcard_reason=_SAGEMAKER_RESOURCES_REASON.format(
                    actions=", ".join(actions), what="the jobs and models a pipeline's steps create"
                ),
            )
            self._allow(
                ["iam:PassRole"],
                [self.role_arn],
                sid="PassSelfToSageMaker",
                conditions={"StringEquals": {"iam:PassedToService": SAGEMAKER_SERVICE}},
            )
        self._allow_vpc_network_interfaces()
        self._allow_metrics(["/aws/sagemaker/*"])
        if orchestrate_pipelines:
            self._deny_other_keys(encryption_key.key_arn)
        self._acknowledge_wildcards()


class ModelHostingRole(_SageMakerExecutionRole):
    """What a SageMaker Model and its endpoints run as.

    Usable wherever an ``iam.IRole`` is expected. Permissions (one managed policy, ``role.policy``):

    * read the objects of ``model_data_buckets`` (``s3:ListBucket`` for uncompressed, prefix-style
      model data);
    * ``encryption_key`` (and each bucket's own key): Decrypt, DescribeKey, CreateGrant only for AWS
      services (endpoint volumes); plus Encrypt/GenerateDataKey when ``data_capture_bucket`` is given;
    * pull images from ``ecr_repositories`` (default: this account's repositories in this region);
    * write CloudWatch Logs under ``/aws/sagemaker/Endpoints/*``; ``cloudwatch:PutMetricData`` only
      to the ``/aws/sagemaker/Endpoints`` and ``/aws/sagemaker/InferenceComponents`` namespaces;
    * the EC2 network-interface calls SageMaker makes for VPC endpoints (unscoped, as required);
    * optional: write captured requests to ``data_capture_bucket``; ``cloudwatch:DescribeAlarms`` on
      ``rollback_alarms`` (deployment guardrails' auto-rollback).
    """

    _policy_description = "sagemaker-constructs model hosting permissions"
    _key_required = False

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption_key: kms.IKey | None = None,
        model_data_buckets: Sequence[s3.IBucket] = (),
        ecr_repositories: Sequence[ecr.IRepository] = (),
        data_capture_bucket: s3.IBucket | None = None,
        rollback_alarms: Sequence[cloudwatch.IAlarm] = (),
        role_name: str | None = None,
        permissions_boundary: iam.IManagedPolicy | None = None,
    ) -> None:
        """
        :param encryption_key: the platform key. Default: none (only the model buckets' own keys).
        :param model_data_buckets: buckets holding model artifacts. Default: none.
        :param ecr_repositories: repositories of the inference images. Default: this account's
            repositories in this region.
        :param data_capture_bucket: where endpoint data capture writes. Default: none (no write access).
        :param rollback_alarms: alarms a deployment guardrail watches. Default: none.
        :param role_name: Default: a CloudFormation-generated name.
        :param permissions_boundary: Default: none.
        """
        super().__init__(
            scope,
            id,
            encryption_key=encryption_key,
            role_name=role_name,
            description="SageMaker model hosting execution role (sagemaker-constructs)",
            permissions_boundary=permissions_boundary,
        )
        self.model_data_buckets = tuple(model_data_buckets)
        self._allow_buckets("ReadModelArtifacts", self.model_data_buckets, ["s3:GetObject"],
                            ["s3:ListBucket", "s3:GetBucketLocation"])
        key_actions = ["kms:Decrypt", "kms:DescribeKey"]
        buckets = list(self.model_data_buckets)
        if data_capture_bucket is not None:
            self._allow_buckets("WriteDataCapture", [data_capture_bucket],
                                ["s3:PutObject", "s3:AbortMultipartUpload"], ["s3:GetBucketLocation"])
            key_actions = [*key_actions, "kms:Encrypt", "kms:GenerateDataKey"]
            buckets.append(data_capture_bucket)
        self._allow_key_use(self._key_arns(buckets), key_actions)
        self._allow_ecr_pull(ecr_repositories)
        self._allow_log_writes("/aws/sagemaker/Endpoints/")
        if rollback_alarms:
            self._allow(["cloudwatch:DescribeAlarms"], [a.alarm_arn for a in rollback_alarms], sid="ReadRollbackAlarms")
        self._allow_vpc_network_interfaces()
        self._allow_metrics(["/aws/sagemaker/Endpoints", "/aws/sagemaker/Endpoints/*",
                             "/aws/sagemaker/InferenceComponents"])
        self._acknowledge_wildcards()
