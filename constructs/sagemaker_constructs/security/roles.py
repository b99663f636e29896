"""Least-privilege IAM execution roles for the personas of an ML platform.

Every role here is an ``iam.Role`` (so an ``iam.IRole``) that only SageMaker can assume, and only
on behalf of this account. Its permissions live in ONE customer-managed policy, child ``Policy``
(``role.policy``), never in an AWS-managed policy and never in CDK's inline ``DefaultPolicy``:
``role.add_to_policy(...)`` and every ``grant_*(role)`` land in that managed policy too. Guardrails
(explicit Deny statements) live in a second customer-managed policy, child ``Guardrails``
(``role.guardrails``), created only for roles that have guardrails: together with the Studio
permissions they would pass IAM's 6,144-character limit for one managed policy. For the same
reason ``StudioUserRole`` keeps its per-user Studio permissions in a third one, child
``StudioPolicy`` (``role.studio_policy``). Synth fails, instead of the deployment, when a policy
could pass that limit.

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

import contextlib
import enum
import json
import re
import threading
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence, cast

import jsii
import jsii.errors
from aws_cdk import Aws, CfnResource, Stack, Tags
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from ..compliance import acknowledge, check_at_synth, new_resource, when_checked
from ..errors import ValidationError, check_pattern, is_unresolved
from .._internal.managed_role import ManagedPolicyRole, known_statements, note_statements, recorded_policy, statement_json_key
from .._internal.stacks import attribute, format_arn, known_attribute, note_scope, python_state, remember, stack_of
from .._internal.nag import statement_findings
from ..handlers.common import PLATFORM_TAG_KEY, PLATFORM_TAG_VALUE
from ..validation.checks import check_choice
from ..validation.naming import check_iam_name
from .bucket import SecureBucket
from .key import check_key_not_alias

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
#: The tag the platform puts on the models, endpoint configs, endpoints and inference components it
#: deploys (``tag_platform_resource``). Studio users' roles deny changing or deleting anything that
#: carries it, whatever its value: overwriting the value with ``AddTags`` does not lift the Deny,
#: and ``DeleteTags`` on such a resource is denied too.
#: One definition with the deploy-on-approval handler, which tags what it creates at run time.
PLATFORM_RESOURCE_TAG_KEY, PLATFORM_RESOURCE_TAG_VALUE = PLATFORM_TAG_KEY, PLATFORM_TAG_VALUE
#: The SageMaker resource types ``tag_platform_resource`` tags.
PLATFORM_RESOURCE_TYPES: tuple[str, ...] = (
    "AWS::SageMaker::Model",
    "AWS::SageMaker::EndpointConfig",
    "AWS::SageMaker::Endpoint",
    "AWS::SageMaker::InferenceComponent",
)
#: What a Studio user may not do to a platform-deployed model, endpoint config, endpoint or
#: inference component (each action's resource types list ``aws:ResourceTag/${TagKey}`` in the
#: Service Authorization Reference).
PLATFORM_PROTECTED_ACTIONS: tuple[str, ...] = (
    "sagemaker:DeleteModel",
    "sagemaker:DeleteEndpointConfig",
    "sagemaker:DeleteEndpoint",
    "sagemaker:UpdateEndpoint",
    "sagemaker:UpdateEndpointWeightsAndCapacities",
    "sagemaker:DeleteInferenceComponent",
    "sagemaker:UpdateInferenceComponent",
    "sagemaker:DeleteTags",
)
#: CloudFormation tags the resources it creates with ``aws:cloudformation:stack-id`` (for the
#: resource types it propagates stack tags to); users can neither add nor remove ``aws:`` tags
#: (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-resource-tags.html).
CLOUDFORMATION_STACK_TAG = "aws:cloudformation:stack-id"
#: The Studio user profile name of the caller, when the domain propagates it as the execution role
#: session's source identity (``DomainSettings.ExecutionRoleIdentityConfig: USER_PROFILE_NAME``,
#: https://docs.aws.amazon.com/sagemaker/latest/dg/monitor-user-access.html). ``aws:SourceIdentity``
#: is a global condition key, so it can be used as a policy variable
#: (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html).
SOURCE_IDENTITY_VARIABLE = "${aws:SourceIdentity}"
#: Prefixes the platform serves models from (the multi-model endpoint's ``models/``).
DEFAULT_SERVING_PREFIXES: tuple[str, ...] = ("models/",)
#: Prefixes endpoint data capture writes captured requests and responses to.
DEFAULT_CAPTURE_PREFIXES: tuple[str, ...] = ("data-capture/",)
_USER_PROFILE_NAME = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"


def tag_platform_resource(scope: IConstruct) -> None:
    """Mark the SageMaker models, endpoint configs, endpoints and inference components under
    ``scope`` as deployed by the platform (``PLATFORM_RESOURCE_TAG_KEY``), so that no
    :class:`StudioUserRole` persona but ``Persona.PLATFORM_ADMIN`` may update or delete them."""
    Tags.of(scope).add(
        PLATFORM_RESOURCE_TAG_KEY, PLATFORM_RESOURCE_TAG_VALUE, include_resource_types=list(PLATFORM_RESOURCE_TYPES)
    )


def platform_tags() -> list[dict[str, str]]:
    """The tag of :func:`tag_platform_resource` as the ``tags=`` of one SageMaker L1 of
    ``PLATFORM_RESOURCE_TYPES`` this library creates: the same ``Tags`` in the template, without the
    two Python-to-Node calls of a ``Tags.of`` aspect (for constructs that add no such resource
    later; the others keep the aspect). A ``CfnTag`` as the plain mapping jsii reads it as (see
    :mod:`~sagemaker_constructs._internal.l1`)."""
    return [{"key": PLATFORM_RESOURCE_TAG_KEY, "value": PLATFORM_RESOURCE_TAG_VALUE}]


class Persona(str, enum.Enum):
    """Kinds of :class:`StudioUserRole` (see its docstring and the README's persona table)."""

    #: Studio, jobs, experiments, pipeline runs and their own models; nothing in production.
    DATA_SCIENTIST = "data-scientist"
    #: Also registers and approves model versions, runs endpoints of its own and publishes
    #: artifacts under the serving prefixes; cannot change what the platform deployed.
    ML_ENGINEER = "ml-engineer"
    #: Also manages every space and app of the domain, may update or delete platform-deployed
    #: models and endpoints (break-glass) and reads captured requests.
    PLATFORM_ADMIN = "platform-admin"


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
#: The reason of the unscoped network-interface statement, wherever it is written.
_ENI_REASON = _ECR_TOKEN_AND_ENI_REASON.format(eni=", ".join(VPC_NETWORK_INTERFACE_ACTIONS))
_ECR_TOKEN_REASON = (
    "ecr:GetAuthorizationToken has no resource type in the Service Authorization Reference (it "
    "must be '*'). Image pulls are scoped in their own statement."
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
    policy: iam.ManagedPolicy | None


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


_PLAIN_TEXT = re.compile(r'[ -!#-\[\]-~]*')  # printable ASCII but '"' and '\\': JSON writes it as it is


def _json_length(text: str) -> int:
    """``len(json.dumps(text))``, without encoding the common plain-ASCII case."""
    return len(text) + 2 if _PLAIN_TEXT.fullmatch(text) else len(json.dumps(text))


def _deployed_text_length(node: Any) -> int:
    """Upper bound of the length of a resolved value once CloudFormation has substituted it."""
    if isinstance(node, str):
        return _json_length(node) - 2
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
        return 2 + sum(_json_length(k) + 1 + estimated_policy_size(v) for k, v in document.items()) + max(
            0, len(document) - 1
        )
    if isinstance(document, list):
        return 2 + sum(estimated_policy_size(v) for v in document) + max(0, len(document) - 1)
    if isinstance(document, str):
        return _json_length(document)
    return len(json.dumps(document, separators=(",", ":")))


def _policy_resource(policy: iam.ManagedPolicy) -> iam.CfnManagedPolicy:
    """The policy's L1 (its default child), asked of Node once per policy."""
    return cast(iam.CfnManagedPolicy, attribute(attribute(policy, "node"), "default_child"))


_SAGEMAKER_TRUST: list[iam.IPrincipal] = []


def _sagemaker_trust() -> iam.IPrincipal:
    """SageMaker, on behalf of this account only (``aws:SourceAccount``): the principal every
    execution role trusts. One object for every role (three Python-to-Node calls per role
    otherwise): a role copies the principal's statement and conditions into its trust policy
    when it is created, and ``Aws.ACCOUNT_ID`` is the same deploy-time token in every stack."""
    if not _SAGEMAKER_TRUST:
        _SAGEMAKER_TRUST.append(iam.ServicePrincipal(SAGEMAKER_SERVICE).with_conditions(
            {"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}))
    return _SAGEMAKER_TRUST[0]


_SIZED_ROLES = "_sagemaker_constructs_sized_roles"
_HOLD = threading.local()  # .depth > 0 inside held_policy(), on this thread


@contextlib.contextmanager
def held_policy() -> Iterator[None]:
    """Execution roles created inside keep their permissions policy unwritten after their
    constructor, until :func:`flush_policy` (or anything that needs the policy) writes it: grants
    made in between (:func:`~sagemaker_constructs._internal.grants.grant_read`) then join the one
    document the policy is created with, in the order they were made, instead of costing two
    Python-to-Node calls per statement. The template is the same."""
    _HOLD.depth = getattr(_HOLD, "depth", 0) + 1
    try:
        yield
    finally:
        _HOLD.depth -= 1


def flush_policy(role: object) -> None:
    """Write the permissions policy of an execution role created in :func:`held_policy` (no-op
    for any other role, or once it is written)."""
    if isinstance(role, _SageMakerExecutionRole) and role.__dict__.get("_pending") is not None:
        role._create_policy()


def _check_policy_sizes_at_synth(role: "_SageMakerExecutionRole") -> None:
    """:func:`_policy_size_errors_of` for every execution role of a stack in one synth check, which
    resolves their policies in one Python-to-Node call (instead of one per role)."""
    stack = stack_of(role)
    roles = vars(stack).get(_SIZED_ROLES)
    if roles is None:
        roles = vars(stack)[_SIZED_ROLES] = []
        check_at_synth(role, lambda: _policy_size_errors_of(stack, roles))
    roles.append(role)


_TOKEN_SPLIT = re.compile(r"(\$\{Token\[[^\]]+\]\})")


def _tokens_of(node: Any, into: set[str]) -> bool:
    """Add the string tokens in a statement's JSON to ``into``; False if it holds anything the
    Python estimate cannot bound (a list or number token, a token in a key, a jsii object)."""
    if isinstance(node, str):
        if "#{Token[" in node:
            return False
        into.update(_TOKEN_SPLIT.findall(node))
        return True
    if isinstance(node, dict):
        return all(isinstance(k, str) and "{Token[" not in k and _tokens_of(v, into) for k, v in node.items())
    if isinstance(node, list):
        return all(_tokens_of(v, into) for v in node)
    return node is None or isinstance(node, (bool, int))


def _substituted(node: Any, resolved: Mapping[str, Any]) -> Any:
    """``node`` with each string token replaced by what it resolves to: a string holding tokens
    becomes the ``Fn::Join`` CDK would write, so :func:`estimated_policy_size` reads it as it
    reads the resolved document."""
    if isinstance(node, str):
        pieces = _TOKEN_SPLIT.split(node)  # literal, token, literal, ...
        if len(pieces) == 1:
            return node
        parts = [resolved[p] if i % 2 else p for i, p in enumerate(pieces) if p]
        return parts[0] if len(parts) == 1 else {"Fn::Join": ["", parts]}
    if isinstance(node, dict):
        return {k: _substituted(v, resolved) for k, v in node.items()}
    if isinstance(node, list):
        return [_substituted(v, resolved) for v in node]
    return node


def _policy_size_errors_of(stack: Stack, roles: "Sequence[_SageMakerExecutionRole]") -> list[str]:
    """Fail synth (not deploy) when a managed policy of ``roles`` could exceed IAM's size limit.

    The statements our code wrote are known in Python (:func:`note_statements`): where their number
    is the policy's own, the size is bounded from them, with each distinct token resolved once for
    all the stack's policies (instead of resolving every document); only a policy holding
    statements added otherwise, or whose bound passes the limit, is resolved and estimated
    exactly (``minimizePolicies`` may merge its statements). Resolving a document merges its
    statements in place, so a policy resolved before validation no longer matches its count and
    takes the exact path; a statement added to ``role.policy`` directly that such an early merge
    offsets exactly is the one case the bound does not see."""
    errors = []
    policies = [policy for role in roles for policy in role._own_policies()]
    bounded: list[tuple[iam.ManagedPolicy, dict[str, Any]]] = []
    exact_ids: set[int] = set()
    tokens: set[str] = set()
    for policy in policies:
        statements = known_statements(policy)
        if (statements is not None and attribute(policy, "document").statement_count == len(statements)
                and _tokens_of(statements, tokens)):
            bounded.append((policy, {"Version": "2012-10-17", "Statement": statements}))
        else:
            exact_ids.add(id(policy))
    if bounded:
        ordered = sorted(tokens)
        resolved = dict(zip(ordered, stack.resolve(ordered))) if ordered else {}
        exact_ids.update(id(policy) for policy, document in bounded
                         if estimated_policy_size(_substituted(document, resolved)) > MANAGED_POLICY_SIZE_LIMIT)
    exact = [p for p in policies if id(p) in exact_ids]  # in the roles' order
    documents = stack.resolve([attribute(p, "document") for p in exact]) if exact else []
    for policy, document in zip(exact, documents):
        size = estimated_policy_size(document)
        if size > MANAGED_POLICY_SIZE_LIMIT:
            errors.append(
                f"{policy.node.path}: the policy may reach {size} characters once deployed, over IAM's "
                f"{MANAGED_POLICY_SIZE_LIMIT}-character limit for a managed policy; give fewer buckets, "
                "repositories or roles, or move extra statements to another managed policy"
            )
    return errors


def _statement_json(effect: str, actions: Sequence[str], resources: Sequence[str], sid: str | None,
                    conditions: Mapping[str, Any] | None) -> dict[str, Any]:
    """The JSON of a statement our roles write (what the policy is created with, or recorded)."""
    statement: dict[str, Any] = {"Effect": effect, "Action": list(actions), "Resource": list(resources)}
    if sid:
        statement["Sid"] = sid
    if conditions:
        statement["Condition"] = dict(conditions)
    return statement


class _SageMakerExecutionRole(ManagedPolicyRole):
    """Shared mechanics: SageMaker-only trust, the managed policies (every grant routed into the
    permissions policy by :class:`ManagedPolicyRole`), acknowledged wildcards, size check."""

    _policy_description = "sagemaker-constructs execution role permissions"
    _key_required = True
    #: Also let SageMaker set the session's source identity (``sts:SetSourceIdentity``): needed by
    #: the roles of a domain that propagates the user profile name as source identity (the Studio
    #: execution role and the roles it passes to jobs), or AssumeRole and job creation fail
    #: (https://docs.aws.amazon.com/sagemaker/latest/dg/monitor-user-access-how-to.html).
    _trust_source_identity = False

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
        path = f"{scope.node.path}/{id}" if role_name is not None or (encryption_key is None and self._key_required) else id
        if encryption_key is None and self._key_required:
            raise ValidationError(path, "encryption_key", None, "a kms.IKey is required (the platform's customer-managed key)")
        check_key_not_alias(scope, "encryption_key", encryption_key, where=f"{scope.node.path}/{id}")
        check_iam_name(path, "role_name", role_name, kind="role")
        super().__init__(
            scope,
            id,
            assumed_by=_sagemaker_trust(),
            role_name=role_name,
            description=description,
            permissions_boundary=permissions_boundary,
        )
        note_scope(self, scope)
        if self._trust_source_identity:
            assert self.assume_role_policy is not None  # iam.Role writes it from assumed_by
            self.assume_role_policy.add_statements(iam.PolicyStatement(
                actions=["sts:SetSourceIdentity"],
                principals=[iam.ServicePrincipal(SAGEMAKER_SERVICE)],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            ))
        # The permissions policy (``self.policy``) is created with the constructor's statements in
        # one document (one Python-to-Node call instead of two per statement), when the
        # constructor finishes or something needs it first (a grant, an acknowledgement).
        self._pending: list[dict[str, Any]] | None = []
        #: Created in held_policy(): the constructor leaves the permissions policy unwritten.
        self._held = getattr(_HOLD, "depth", 0) > 0
        #: statement keys of the grants waiting in _pending (see add_pending_grant).
        self._pending_keys: set[str] = set()
        self._on_policy: list[Any] = []
        #: The customer-managed policy holding this role's guardrails (Deny only), or ``None``.
        self.guardrails: iam.ManagedPolicy | None = None
        #: The platform key this role uses.
        self.encryption_key: kms.IKey | None = encryption_key
        #: Every Allow statement this role wrote itself (reason "" where it has none).
        self._allowed: list[_Acknowledged] = []
        #: The statements of the finished constructor (see _acknowledge_wildcards).
        self._constructed: list[_Acknowledged] | None = None
        _check_policy_sizes_at_synth(self)

    @property
    def policy(self) -> iam.ManagedPolicy:
        """The one customer-managed policy that holds every permission (Allow) of this role."""
        policy = self.__dict__.get("_policy")
        return policy if policy is not None else self._create_policy()

    def _create_policy(self) -> iam.ManagedPolicy:
        statements, self._pending = self._pending or [], None
        document = iam.PolicyDocument.from_json({"Version": "2012-10-17", "Statement": statements}) if statements else None
        policy = iam.ManagedPolicy(self, "Policy", description=self._policy_description, roles=[self], document=document)
        if document is not None:
            remember(policy, "document", document)  # ManagedPolicy keeps the document it is given
        note_statements(policy, statements)
        self._policy = policy
        self.attach_permissions(policy)
        self._written.update(self._pending_keys)
        if self._on_policy:
            with new_resource(_policy_resource(policy)):  # created just now: no checkov skips yet
                for callback in self._on_policy:
                    callback(policy)
        return policy

    def add_pending_grant(self, statement: dict[str, Any], key: str) -> bool:
        """Add a granted Allow statement (its JSON, and its ``statement_key``) to the document the
        permissions policy will be created with; False (nothing added) once the policy exists."""
        if self.__dict__.get("_pending") is None:
            return False
        if key not in self._pending_keys:
            self._pending_keys.add(key)
            self._pending.append(statement)  # type: ignore[union-attr]
        return True

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        if self.__dict__.get("_pending") is not None:  # a grant during construction: statements keep their order
            self._create_policy()
        return super().add_to_principal_policy(statement)

    def _own_policies(self) -> list[iam.ManagedPolicy]:
        """The customer-managed policies this role's own code made (permissions, guardrails; a
        subclass adds its own), known in Python: what the size check reads, with no call to Node."""
        found = [self.__dict__.get("_policy"), self.guardrails]
        return [p for p in found if isinstance(p, iam.ManagedPolicy)]

    @property
    def managed_policies(self) -> list[iam.ManagedPolicy]:
        """Every customer-managed policy of this role (permissions first, guardrails last)."""
        found = [c for c in attribute(self, "node").children if isinstance(c, iam.ManagedPolicy)]
        return sorted(found, key=lambda p: p is self.guardrails)

    # --- statement helpers -----------------------------------------------------------------------
    def _arn(self, service: str, resource: str, name: str, *, colon: bool = False) -> str:
        return format_arn(self, service, resource, name, sep=":" if colon else "/")  # no call to Node

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
        policy: iam.ManagedPolicy | None = None,
    ) -> None:
        statement = _statement_json("Allow", actions, resources, sid, conditions)
        if policy is None and self._pending is not None:  # written with the permissions policy
            self._pending.append(statement)
            # A grant of the same permission (the artifact bucket's key, when it is the platform
            # key) is then not written a second time (add_pending_grant, ManagedPolicyRole).
            self._pending_keys.add(statement_json_key(statement))
        else:
            target = policy or self.policy
            target.add_statements(iam.PolicyStatement(
                sid=sid, actions=list(actions), resources=list(resources),
                conditions=dict(conditions) if conditions else None,
            ))
            note_statements(target, [statement])
            if policy is None:
                self._written.add(statement_json_key(statement))
        # policy None: the permissions policy (self.policy), perhaps not created yet.
        entry = _Acknowledged(list(actions), list(resources), wildcard_reason or "", policy)
        self._allowed.append(entry)

    def _deny(
        self, sid: str, actions: Sequence[str], conditions: Mapping[str, Any] | None,
        resources: Sequence[str] = ("*",),
    ) -> iam.PolicyStatement:
        # Guardrails live in their own managed policy: with them, the Studio permissions would pass
        # IAM's 6,144-character managed-policy limit in a typical configuration. It holds only
        # Deny statements, so nothing added to `policy` can weaken or reorder them.
        if self.guardrails is None:
            self.guardrails = recorded_policy(
                self, "Guardrails", description="sagemaker-constructs guardrails (Deny only)", roles=[self]
            )
        statement = iam.PolicyStatement(
            sid=sid, effect=iam.Effect.DENY, actions=list(actions), resources=list(resources),
            conditions=dict(conditions) if conditions else None,
        )
        self.guardrails.add_statements(statement)
        note_statements(self.guardrails, [_statement_json("Deny", actions, resources, sid, conditions)])
        return statement

    def _check_bucket_keys(self, argument: str, buckets: Sequence[s3.IBucket | None]) -> None:
        """Raise :class:`ValidationError` for a bucket whose ``encryption_key`` is a KMS alias (an
        import such as ``s3.Bucket.from_bucket_attributes(encryption_key=kms.Alias.from_alias_name(...))``):
        the key grant would name the alias ARN, which gives no use of the key, so every read and write
        of the bucket's SSE-KMS objects was denied."""
        for bucket in buckets:
            if bucket is None or isinstance(bucket, SecureBucket):  # a SecureBucket refuses an alias itself
                continue
            key = bucket.encryption_key
            if key is not None:
                check_key_not_alias(self, f"{argument} ({bucket.node.path} encryption_key)", key)

    def _key_arns(self, buckets: Sequence[s3.IBucket]) -> list[str]:
        keys = [attribute(self.encryption_key, "key_arn")] if self.encryption_key is not None else []
        keys.extend(attribute(b.encryption_key, "key_arn") for b in buckets if b.encryption_key is not None)
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

    def _allow_ecr_token(self) -> None:
        """ECR's authorization token alone (unscoped: it has no resource type), for a role that
        runs nothing in a VPC."""
        self._allow_unscoped(["ecr:GetAuthorizationToken"], _ECR_TOKEN_REASON)

    def _allow_vpc_network_interfaces(self, *, ecr_token: bool = True) -> None:
        """ECR's token and the ENI calls SageMaker makes for VPC jobs and endpoints (unscoped)."""
        self._allow_unscoped([*(["ecr:GetAuthorizationToken"] if ecr_token else []), *VPC_NETWORK_INTERFACE_ACTIONS],
                             _ENI_REASON)
        # checkov reads the unscoped ENI create/permission calls as unconstrained write (111) and
        # permissions management (109).
        self._when_policy(lambda policy: acknowledge(
            _policy_resource(policy), reason=_ENI_REASON, checkov=["CKV_AWS_109", "CKV_AWS_111"]))

    def _when_policy(self, callback: Any) -> None:
        """Call ``callback(self.policy)`` once the permissions policy exists."""
        if self.__dict__.get("_policy") is not None:
            callback(self._policy)
        else:
            self._on_policy.append(callback)

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
        flattens the resolved policy. They are computed when the app is validated, after CDK
        has replaced a resource of another stack by its export, so that finding is named by the
        export (``SageMakerPlatform:ExportsOutput...``), as cdk-nag names it.
        """
        # Computed when the app is validated, and only if a pack reads it (compliance.when_checked):
        # the statements of the constructor, as they are now.
        if not self._held:
            self.policy  # noqa: B018 (the constructor is done: the permissions policy is written now)
        self._constructed = list(self._allowed)

        def acknowledge_now() -> None:
            permissions = self.policy
            acknowledged = [e for e in self._constructed or [] if e.reason]  # the wildcards with their reasons
            for policy in self.managed_policies:
                self._acknowledge_policy_wildcards(
                    policy, [e for e in acknowledged if (e.policy or permissions) is policy])

        when_checked(self, acknowledge_now)

    def constructed_findings(self) -> set[tuple[str, str]]:
        """The IAM5 findings (policy resource path, finding id) of the statements this role's
        constructor wrote: what :func:`~sagemaker_constructs.compliance.acknowledge_iam_findings_at_synth`
        leaves out for grants made later. Called when the app is validated."""
        found: set[tuple[str, str]] = set()
        stack = stack_of(self)
        paths: dict[int, str] = {}
        for entry in self._constructed or []:
            policy = entry.policy or self.policy
            if id(policy) not in paths:
                paths[id(policy)] = cast(iam.CfnManagedPolicy, policy.node.default_child).node.path  # its L1
            for finding in self._entry_findings(stack, entry):
                found.add((paths[id(policy)], finding))
        return found

    @staticmethod
    def _entry_findings(stack: Stack, entry: _Acknowledged) -> list[str]:
        resolved = []
        for resource in entry.resources:
            try:
                resolved.append(stack.resolve(resource))
            except (RuntimeError, jsii.errors.JSIIError):
                continue
        return statement_findings({"Action": list(entry.actions), "Resource": resolved})

    def _acknowledge_policy_wildcards(self, policy: iam.ManagedPolicy, acknowledged: list[_Acknowledged]) -> None:
        stack = stack_of(self)
        reasons_by_rule: dict[str, list[str]] = {}
        for entry in acknowledged:
            for finding in self._entry_findings(stack, entry):
                reasons = reasons_by_rule.setdefault(finding, [])
                if entry.reason not in reasons:
                    reasons.append(entry.reason)
        # One acknowledgement per finding; a finding shared by several statements (Resource::*)
        # carries all of their reasons.
        rules_by_reason: dict[str, list[str]] = {}
        for rule, reasons in reasons_by_rule.items():
            rules_by_reason.setdefault(" ".join(reasons), []).append(rule)
        for reason, rules in rules_by_reason.items():
            acknowledge(policy, reason=reason, nag=rules)


def give_network_interfaces(scope: Construct, role: iam.IRole | None, *, role_is_prepared: bool = False,
                            argument: str = "model") -> None:
    """The EC2 network-interface calls SageMaker makes in a VPC, for a model role that now runs
    in one (a component of an endpoint in a VPC, a model imported with subnets):

    * our ``ModelHostingRole`` made by a ``Model`` outside any VPC gets them
      (:meth:`ModelHostingRole.allow_network_interfaces`); one the caller made with
      ``network_interfaces=False`` is a ``ValidationError`` (that choice is not overridden);
    * any other role (not one of our execution roles, which have them) gets them in its policy,
      or a ``ValidationError`` naming them when CDK cannot change it, unless ``role_is_prepared``.
    """
    from .._internal.grants import add_statements
    from ..compliance import acknowledge_statement_findings

    if role is None:
        return
    if isinstance(role, ModelHostingRole):
        if role.network_interfaces:
            return
        if role.network_interfaces_chosen:
            raise ValidationError(
                scope, argument, role.node.path,
                "its ModelHostingRole was made with network_interfaces=False but runs in a VPC here: SageMaker "
                "needs the EC2 network-interface calls; make the role with network_interfaces=True")
        role.allow_network_interfaces()
        return
    if isinstance(role, _SageMakerExecutionRole):
        return
    state = python_state(role)  # None for a jsii interface proxy (an imported role): no marker there
    if state is not None and state.get("_sagemaker_constructs_eni_given"):  # once per role
        return
    statement = iam.PolicyStatement(actions=list(VPC_NETWORK_INTERFACE_ACTIONS), resources=["*"])
    for policy in add_statements(scope, role, [statement], role_is_prepared=role_is_prepared, argument=argument):
        acknowledge_statement_findings(policy, [statement], reason=_ENI_REASON)
    if state is not None:
        state["_sagemaker_constructs_eni_given"] = True


def depend_on_role_policies(resource: IConstruct, role: iam.IRole) -> None:
    """Make ``resource`` wait for the managed policies of one of our roles (its permissions and
    guardrails), so SageMaker sees them when it validates the resource. No-op for other roles."""
    for policy in (getattr(role, "policy", None), getattr(role, "guardrails", None)):
        known = _known_policy_resource(policy)
        if known is not None and isinstance(resource, CfnResource) and stack_of(resource) is stack_of(role):
            resource.add_resource_dependency(known)  # the same DependsOn, one call: the policy's L1 is known
        elif isinstance(policy, Construct):
            attribute(resource, "node").add_dependency(policy)


def _known_policy_resource(policy: object) -> iam.CfnManagedPolicy | None:
    """A managed policy's L1 if it was already read (:func:`_policy_resource`), else None."""
    if not isinstance(policy, iam.ManagedPolicy):
        return None
    node = known_attribute(policy, "node")
    return cast("iam.CfnManagedPolicy | None", known_attribute(node, "default_child") if node is not None else None)


def _check_exempt_instance_types(path: str, instance_types: Sequence[str]) -> None:
    """``volume_key_exempt_instance_types``: SageMaker instance types or patterns (``ml.g5.*``)."""
    for instance_type in instance_types:
        if not is_unresolved(instance_type) and not str(instance_type).startswith("ml."):
            raise ValidationError(
                path, "volume_key_exempt_instance_types", instance_type,
                "SageMaker instance types (or patterns) start with 'ml.', e.g. 'ml.g5.*'",
            )


class StudioUserRole(_SageMakerExecutionRole):
    """The execution role of SageMaker Studio user profiles, per persona, with per-user isolation.

    Usable wherever an ``iam.IRole`` is expected. Permissions live in two managed policies,
    ``role.studio_policy`` (spaces, apps, profiles, domain) and ``role.policy`` (everything else).

    Per-user isolation (``role.studio_policy``), scoped to ``domain_id`` (or, without it, to any
    domain of this account and region). The role is shared by the users of a domain, who are told
    apart by the session's source identity, their user profile name (``${aws:SourceIdentity}``:
    the domain must set ``ExecutionRoleIdentityConfig: USER_PROFILE_NAME``, see
    https://docs.aws.amazon.com/sagemaker/latest/dg/monitor-user-access.html), or the role is one
    user's (``user_profile_name``). With ``sagemaker:OwnerUserProfileArn`` and
    ``sagemaker:SpaceSharingType``, the keys of the Studio guide's "Give your users access to
    spaces" policy (https://docs.aws.amazon.com/sagemaker/latest/dg/studio-updated-jl-admin-guide-permissions.html):

    * a user creates, updates and deletes only spaces they own, private or shared (and cannot
      create a space in someone else's name or without an owner), and creates and deletes apps
      only in their own private spaces and of their own user profile;
    * shared spaces: everyone in the domain may create and delete apps in a shared space (that is
      what sharing is for); only its owner (or ``PLATFORM_ADMIN``) may update or delete the space
      itself. Spaces without an owner (created by the platform) only ``PLATFORM_ADMIN`` changes;
    * everyone may describe the domain's apps, spaces and profiles; tags go on apps and spaces only
      as they are created (``sagemaker:TaggingAction``); no AddTags on user profiles.

    Without a source identity (a domain that does not propagate it) no user passes for an owner:
    nobody can change spaces (fail closed), rather than everybody.

    Workload permissions (``role.policy``), for every persona:

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
      The role cannot pass itself (one exception: a ``StudioDomain`` with Canvas for its persona,
      or ``StudioDomain.grant_canvas``, lets it pass itself to SageMaker, because Canvas runs its
      AutoML jobs as the user's execution role), and the SageMaker Python SDK's default bucket
      (``sagemaker-<region>-<account>``) is not granted: set the session's ``default_bucket`` to
      one of ``data_buckets``.

    Personas (``persona``), each adding to the one before:

    * ``Persona.DATA_SCIENTIST`` (default): the above; nothing that changes production;
    * ``Persona.ML_ENGINEER``: register model versions and approve them
      (``CreateModelPackage``, ``UpdateModelPackage``: an approval starts deploy-on-approval);
      create, update, delete and invoke endpoints and endpoint configs -- except the platform's
      (guardrail below); write and delete objects under ``serving_prefixes`` (publish models to
      the multi-model endpoint);
    * ``Persona.PLATFORM_ADMIN``: create, update and delete every space and app of the domain;
      update and delete the platform's models, endpoint configs and endpoints (break-glass: they
      are CloudFormation's, so change them there when you can); read under ``capture_prefixes``.

    Guardrails (explicit ``Deny`` in ``role.guardrails``, so no other policy can lift them):

    * training, processing, tuning, transform and AutoML jobs, endpoint configs and notebook
      instances must use ``encryption_key`` for volumes (``sagemaker:VolumeKmsKey``) and jobs for
      outputs (``sagemaker:OutputKmsKey``): a missing or different key is denied. Pass the key ARN,
      not its id or alias;
    * with ``subnets``/``security_groups``: training, processing, tuning and AutoML jobs, models and
      notebook instances only in those subnets with those security groups (``sagemaker:VpcSubnets``
      / ``sagemaker:VpcSecurityGroupIds`` not in the list, or missing). ``None`` (the default) adds
      no VPC guardrail: jobs may then run without a VPC (the keys guardrail still applies);
    * optional: network isolation, inter-container traffic encryption;
    * production (not ``PLATFORM_ADMIN``): no update or delete (``PLATFORM_PROTECTED_ACTIONS``) of a
      model, endpoint config, endpoint or inference component tagged ``PLATFORM_RESOURCE_TAG_KEY``
      (``tag_platform_resource``; any value) or ``aws:cloudformation:stack-id`` (what CloudFormation
      created, where it propagates its tags); users can neither remove the tag nor forge an
      ``aws:`` tag;
    * ``data_buckets``: no write or delete under ``serving_prefixes`` (``DATA_SCIENTIST``); no read
      under ``capture_prefixes`` (all but ``PLATFORM_ADMIN``) and no write or delete there (all).
      Object keys stay listable (``s3:ListBucket``).

    Each guardrail names only actions whose "Condition keys" column in the Service Authorization
    Reference lists the key (see ``VPC_GUARDED_ACTIONS``, ``VOLUME_KEY_ACTIONS``, ...).
    No AWS-managed policy (in particular no ``AmazonSageMakerFullAccess``), no ``s3:*``.
    """

    _policy_description = "sagemaker-constructs Studio user permissions"
    _trust_source_identity = True

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
        persona: Persona = Persona.DATA_SCIENTIST,
        user_profile_name: str | None = None,
        serving_prefixes: Sequence[str] = DEFAULT_SERVING_PREFIXES,
        capture_prefixes: Sequence[str] = DEFAULT_CAPTURE_PREFIXES,
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
        :param persona: what kind of user the role is for (see the class docstring). Default:
            ``Persona.DATA_SCIENTIST``.
        :param user_profile_name: the one user profile this role is for, when each user has a role
            of their own. Default: none, a role shared by the users of the domain, which tells them
            apart by the session's source identity (``${aws:SourceIdentity}``): the domain must set
            ``ExecutionRoleIdentityConfig: USER_PROFILE_NAME``, or no user can create, update or
            delete their own spaces.
        :param serving_prefixes: key prefixes of ``data_buckets`` the platform serves from (each
            ends with ``/``). Only ``ML_ENGINEER`` and ``PLATFORM_ADMIN`` may write or delete
            objects there. Default: ``("models/",)``.
        :param capture_prefixes: key prefixes of ``data_buckets`` holding captured requests (each
            ends with ``/``). Only ``PLATFORM_ADMIN`` may read them; no persona writes or deletes
            them. Default: ``("data-capture/",)``.
        """
        path = f"{scope.node.path}/{id}"
        if not isinstance(persona, Persona):
            try:
                persona = Persona(persona)
            except ValueError:
                check_choice(path, "persona", persona, list(Persona),
                             label=lambda v: f"Persona.{v.name}" if isinstance(v, Persona) else v)
                raise  # not reached: check_choice raised
        if user_profile_name is not None and not is_unresolved(user_profile_name):
            check_pattern(path, "user_profile_name", user_profile_name, _USER_PROFILE_NAME, max_length=63,
                          description="a user profile name: letters, digits and '-', 1-63 characters")
        for argument, prefixes in (("serving_prefixes", serving_prefixes), ("capture_prefixes", capture_prefixes)):
            for prefix in prefixes:
                if is_unresolved(prefix):
                    continue
                if (not isinstance(prefix, str) or not prefix.endswith("/") or prefix.startswith("/")
                        or "*" in prefix or "?" in prefix or "$" in prefix):
                    raise ValidationError(
                        path, argument, prefix,
                        "S3 key prefixes ending with '/', not starting with '/', without '*', '?' or '$' "
                        "(e.g. 'models/')",
                    )
        _check_network_guardrail(path, subnets, security_groups)
        check_pattern(
            path, "domain_id", domain_id, _DOMAIN_ID, max_length=63,
            description="a Studio domain id: 'd-' followed by lowercase letters, digits and '-'",
        )
        _check_exempt_instance_types(path, volume_key_exempt_instance_types)
        super().__init__(
            scope,
            id,
            encryption_key=encryption_key,
            role_name=role_name,
            description="SageMaker Studio user execution role (sagemaker-constructs)",
            permissions_boundary=permissions_boundary,
        )
        self.data_buckets: tuple[s3.IBucket, ...] = tuple(data_buckets)
        domain = domain_id or "*"
        if not domain_id:
            domain_text = "its domains"
        elif is_unresolved(domain_id):
            domain_text = "its domain"  # an acknowledgement reason must be plain text
        else:
            domain_text = f"domain {domain_id}"
        self.persona: Persona = persona
        self.user_profile_name: str | None = user_profile_name
        #: The customer-managed policy with the Studio permissions: spaces, apps, profiles, domain.
        #: Apart from ``policy`` because the per-user conditions would take both past IAM's size limit.
        self.studio_policy: iam.ManagedPolicy = recorded_policy(
            self, "StudioPolicy", description="sagemaker-constructs Studio spaces and apps, per user", roles=[self]
        )
        self._allow_studio(domain, domain_text, user_profile_name or SOURCE_IDENTITY_VARIABLE)
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
        self._check_bucket_keys("data_buckets", self.data_buckets)
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
        if persona is not Persona.DATA_SCIENTIST:
            list_actions += self._allow_production_work()
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
        self._deny_harm_to_production(serving_prefixes, capture_prefixes)
        self._acknowledge_wildcards()

    # --- per-user isolation and personas --------------------------------------------------------
    def _own_policies(self) -> list[iam.ManagedPolicy]:
        return [*super()._own_policies(), self.studio_policy]

    def _allow_studio(self, domain: str, domain_text: str, identity: str) -> None:
        """Spaces and apps: each user's own, shared spaces by the rule in the class docstring."""
        policy = self.studio_policy

        def allow(actions: list[str], resources: list[str], sid: str, what: str,
                  conditions: Mapping[str, Any] | None = None) -> None:
            self._allow(actions, resources, sid=sid, conditions=conditions, policy=policy,
                        wildcard_reason=_SAGEMAKER_RESOURCES_REASON.format(actions=", ".join(actions), what=what))

        apps = self._sagemaker_arn("app", f"{domain}/*")
        spaces = self._sagemaker_arn("space", f"{domain}/*")
        what = f"the apps and spaces of {domain_text}"
        # Describe only: no AddTags on user profiles, whose tags may drive attribute-based access.
        allow(["sagemaker:DescribeUserProfile", "sagemaker:DescribeDomain"],
              [self._sagemaker_arn("user-profile", f"{domain}/*"), self._sagemaker_arn("domain", domain)],
              "StudioProfilesAndDomain", f"the user profiles (and domain) of {domain_text}")
        allow(["sagemaker:DescribeApp", "sagemaker:DescribeSpace", "sagemaker:ListTags"], [apps, spaces],
              "DescribeStudioAppsAndSpaces", what)
        # Studio tags what it creates; tags only on creation (sagemaker:TaggingAction is set then).
        allow(["sagemaker:AddTags"], [apps, spaces], "TagStudioAppsAndSpacesOnCreate", what,
              {"Null": {"sagemaker:TaggingAction": "false"}})
        app_actions = ["sagemaker:CreateApp", "sagemaker:DeleteApp"]
        space_actions = ["sagemaker:CreateSpace", "sagemaker:UpdateSpace", "sagemaker:DeleteSpace"]
        if self.persona is Persona.PLATFORM_ADMIN:
            allow([*app_actions, *space_actions], [apps, spaces], "ManageAllStudioAppsAndSpaces", what)
            return
        # Condition keys as the Service Authorization Reference lists them for these actions and
        # the Studio guide's "Give your users access to spaces" policy uses them.
        owner = {"ArnLike": {"sagemaker:OwnerUserProfileArn": self._sagemaker_arn("user-profile", f"{domain}/{identity}")}}
        allow(space_actions, [spaces], "ManageOwnSpaces", f"the spaces the user owns in {domain_text}",
              {**owner, "StringEquals": {"sagemaker:SpaceSharingType": ["Private", "Shared"]}})
        allow(app_actions, [apps], "AppsInOwnPrivateSpaces", f"the apps of the user's private spaces in {domain_text}",
              {**owner, "StringEquals": {"sagemaker:SpaceSharingType": "Private"}})
        allow(app_actions, [apps], "AppsInSharedSpaces", f"the apps of the shared spaces of {domain_text}",
              {"StringEquals": {"sagemaker:SpaceSharingType": "Shared"}})
        # Apps of the user profile itself (no space): app/<domain>/<user profile>/<type>/<name>.
        allow(app_actions, [self._sagemaker_arn("app", f"{domain}/{identity}/*")], "OwnUserProfileApps",
              f"the user's own user-profile apps in {domain_text}",
              {"Null": {"sagemaker:OwnerUserProfileArn": "true", "sagemaker:SpaceSharingType": "true"}})

    def _allow_production_work(self) -> list[str]:
        """ML engineers and platform admins: the model registry and endpoints. Returns the List
        actions that go with them (unscoped)."""
        registry = ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage",
                    "sagemaker:DescribeModelPackageGroup"]
        self._allow(registry, [self._sagemaker_arn("model-package"), self._sagemaker_arn("model-package-group")],
                    sid="RegisterAndApproveModels",
                    wildcard_reason=_SAGEMAKER_RESOURCES_REASON.format(
                        actions=", ".join(registry), what="model package groups and their versions"))
        endpoints = ["sagemaker:CreateEndpointConfig", "sagemaker:DescribeEndpointConfig",
                     "sagemaker:DeleteEndpointConfig", "sagemaker:CreateEndpoint", "sagemaker:DescribeEndpoint",
                     "sagemaker:UpdateEndpoint", "sagemaker:UpdateEndpointWeightsAndCapacities",
                     "sagemaker:DeleteEndpoint", "sagemaker:InvokeEndpoint", "sagemaker:AddTags"]
        self._allow(endpoints, [self._sagemaker_arn("endpoint"), self._sagemaker_arn("endpoint-config")],
                    sid="RunEndpoints",
                    wildcard_reason=_SAGEMAKER_RESOURCES_REASON.format(
                        actions=", ".join(endpoints), what="endpoints and endpoint configs"))
        return ["sagemaker:ListModelPackageGroups", "sagemaker:ListModelPackages", "sagemaker:ListEndpoints",
                "sagemaker:ListEndpointConfigs"]

    def _deny_harm_to_production(self, serving_prefixes: Sequence[str], capture_prefixes: Sequence[str]) -> None:
        """Guardrails that keep Studio users away from what the platform runs in production."""
        persona = self.persona
        if persona is not Persona.PLATFORM_ADMIN:
            # Two statements: conditions of one statement are ANDed, either tag suffices.
            self._deny("DenyChangingPlatformResources", PLATFORM_PROTECTED_ACTIONS,
                       {"Null": {f"aws:ResourceTag/{PLATFORM_RESOURCE_TAG_KEY}": "false"}})
            self._deny("DenyChangingStackResources", PLATFORM_PROTECTED_ACTIONS,
                       {"Null": {f"aws:ResourceTag/{CLOUDFORMATION_STACK_TAG}": "false"}})
        if not self.data_buckets:
            return
        if serving_prefixes and persona is Persona.DATA_SCIENTIST:
            self._deny("DenyWritesUnderServingPrefixes", ["s3:PutObject", "s3:DeleteObject"], None,
                       [b.arn_for_objects(f"{p}*") for b in self.data_buckets for p in serving_prefixes])
        if capture_prefixes:
            actions = ["s3:PutObject", "s3:DeleteObject"]
            if persona is not Persona.PLATFORM_ADMIN:
                actions.insert(0, "s3:GetObject")
            self._deny("DenyCapturedRequests", actions, None,
                       [b.arn_for_objects(f"{p}*") for b in self.data_buckets for p in capture_prefixes])


#: What SageMaker Pipelines does with its role, per resource type a step creates.
PIPELINE_STEP_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "training-job": ("sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob"),
    "processing-job": ("sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob",
                       "sagemaker:StopProcessingJob"),
    "hyper-parameter-tuning-job": ("sagemaker:CreateHyperParameterTuningJob",
                                   "sagemaker:DescribeHyperParameterTuningJob",
                                   "sagemaker:StopHyperParameterTuningJob"),
    "transform-job": ("sagemaker:CreateTransformJob", "sagemaker:DescribeTransformJob", "sagemaker:StopTransformJob"),
    "model": ("sagemaker:CreateModel", "sagemaker:DescribeModel"),
}
_AUTOML_STEP_ACTIONS = ("sagemaker:CreateAutoMLJob", "sagemaker:DescribeAutoMLJob", "sagemaker:StopAutoMLJob",
                        "sagemaker:ListCandidatesForAutoMLJob")


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
    _trust_source_identity = True

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
        pipeline_resources: Sequence[str] | None = None,
        volume_key_exempt_instance_types: Sequence[str] = (),
    ) -> None:
        """
        :param encryption_key: the platform key (required).
        :param data_buckets: buckets jobs read. Default: none.
        :param output_bucket: the bucket jobs write models, outputs and checkpoints to (and read
            back, e.g. a later pipeline step). Default: none.
        :param ecr_repositories: repositories of the job images. Default: this account's
            repositories in this region. (SageMaker's own images need no permission here.)
        :param orchestrate_pipelines: also be a SageMaker Pipelines execution role. Default: false.
        :param pipeline_resources: with ``orchestrate_pipelines``, the SageMaker resource types the
            pipeline's steps create (``training-job``, ``processing-job``,
            ``hyper-parameter-tuning-job``, ``transform-job``, ``model``, ``automl-job``): only
            their create, describe and stop actions are allowed (``Pipeline`` passes the types of
            its steps; ``[]``: none). Default: training, processing, tuning and transform jobs and
            models. Refused without ``orchestrate_pipelines``.
        :param volume_key_exempt_instance_types: with ``orchestrate_pipelines``, instance types
            (or patterns such as ``ml.g5.*``) whose jobs may omit the volume key: SageMaker rejects
            a volume key for instance types with local NVMe storage, so the steps leave it out
            there (``Pipeline`` passes its steps' types). A volume key that IS given must still be
            the platform key. Default: none, every job must name the platform key. Refused without
            ``orchestrate_pipelines``.
        :param role_name: Default: a CloudFormation-generated name.
        :param permissions_boundary: Default: none.
        """
        _check_exempt_instance_types(f"{scope.node.path}/{id}", volume_key_exempt_instance_types)
        if not orchestrate_pipelines:
            # Both shape the pipeline statements and guardrails, which only orchestrate_pipelines writes.
            for argument, value in (("pipeline_resources", pipeline_resources),
                                    ("volume_key_exempt_instance_types", volume_key_exempt_instance_types)):
                if value:
                    raise ValidationError(f"{scope.node.path}/{id}", argument, list(value),
                                          "only with orchestrate_pipelines=True (without it the role has no pipeline "
                                          "statements or guardrails for it to shape)")
        super().__init__(
            scope,
            id,
            encryption_key=encryption_key,
            role_name=role_name,
            description="SageMaker job execution role (sagemaker-constructs)",
            permissions_boundary=permissions_boundary,
        )
        self.data_buckets: tuple[s3.IBucket, ...] = tuple(data_buckets)
        self.output_bucket: s3.IBucket | None = output_bucket
        #: Whether the role carries the pipeline guardrails (``orchestrate_pipelines``), and the
        #: instance types (or patterns) whose jobs they let omit the volume key.
        self.orchestrate_pipelines: bool = orchestrate_pipelines
        self.volume_key_exempt_instance_types: tuple[str, ...] = tuple(volume_key_exempt_instance_types)
        self._allow_buckets("ReadDataBuckets", self.data_buckets, ["s3:GetObject"],
                            ["s3:ListBucket", "s3:GetBucketLocation"])
        if output_bucket is not None:
            self._allow_buckets("WriteOutputBucket", [output_bucket],
                                ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                                ["s3:ListBucket", "s3:GetBucketLocation"])
        buckets = [*self.data_buckets, *([output_bucket] if output_bucket is not None else [])]
        self._check_bucket_keys("data_buckets", self.data_buckets)
        self._check_bucket_keys("output_bucket", [output_bucket])
        self._allow_key_use(self._key_arns(buckets), _KEY_USE_ACTIONS)
        self._allow_ecr_pull(ecr_repositories)
        self._allow_log_writes("/aws/sagemaker/")
        if orchestrate_pipelines:
            types = tuple(PIPELINE_STEP_ACTIONS) if pipeline_resources is None else tuple(pipeline_resources)
            for kind in types:
                check_choice(self, "pipeline_resources", kind, [*PIPELINE_STEP_ACTIONS, "automl-job"])
            actions = [a for t in types for a in PIPELINE_STEP_ACTIONS.get(t, _AUTOML_STEP_ACTIONS)]
            actions.append("sagemaker:AddTags")
            if types:  # none (pipeline_resources=[]): steps that create no job (a statement without resources fails synth)
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
            self._deny_other_keys(encryption_key.key_arn, exempt_instance_types=volume_key_exempt_instance_types)
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
    * the EC2 network-interface calls SageMaker makes for a model in a VPC (unscoped, as required;
      with ``network_interfaces=False`` only ECR's token, for a model outside any VPC:
      https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html, CreateModel API);
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
        network_interfaces: bool = True,
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
        :param network_interfaces: allow the EC2 network-interface calls SageMaker makes for a model
            in a VPC. ``Model`` and ``InferenceComponentEndpoint`` pass false for a model outside any
            VPC, which needs none of them. Default: true.
        """
        super().__init__(
            scope,
            id,
            encryption_key=encryption_key,
            role_name=role_name,
            description="SageMaker model hosting execution role (sagemaker-constructs)",
            permissions_boundary=permissions_boundary,
        )
        self.model_data_buckets: tuple[s3.IBucket, ...] = tuple(model_data_buckets)
        self._allow_buckets("ReadModelArtifacts", self.model_data_buckets, ["s3:GetObject"],
                            ["s3:ListBucket", "s3:GetBucketLocation"])
        key_actions = ["kms:Decrypt", "kms:DescribeKey"]
        buckets = list(self.model_data_buckets)
        if data_capture_bucket is not None:
            self._allow_buckets("WriteDataCapture", [data_capture_bucket],
                                ["s3:PutObject", "s3:AbortMultipartUpload"], ["s3:GetBucketLocation"])
            key_actions = [*key_actions, "kms:Encrypt", "kms:GenerateDataKey"]
            buckets.append(data_capture_bucket)
        self._check_bucket_keys("model_data_buckets", self.model_data_buckets)
        self._check_bucket_keys("data_capture_bucket", [data_capture_bucket])
        self._allow_key_use(self._key_arns(buckets), key_actions)
        self._allow_ecr_pull(ecr_repositories)
        self._allow_log_writes("/aws/sagemaker/Endpoints/")
        if rollback_alarms:
            self._allow(["cloudwatch:DescribeAlarms"], [a.alarm_arn for a in rollback_alarms], sid="ReadRollbackAlarms")
        #: Whether the role may make the EC2 network-interface calls (``network_interfaces`` or
        #: :meth:`allow_network_interfaces`).
        self.network_interfaces: bool = network_interfaces
        #: False when our Model chose ``network_interfaces`` for a model outside any VPC (see
        #: :meth:`allow_network_interfaces`); True when the caller did.
        self.network_interfaces_chosen: bool = True
        if network_interfaces:
            self._allow_vpc_network_interfaces()
        else:
            self._allow_ecr_token()
        self._allow_metrics(["/aws/sagemaker/Endpoints", "/aws/sagemaker/Endpoints/*",
                             "/aws/sagemaker/InferenceComponents"])
        self._acknowledge_wildcards()

    def allow_network_interfaces(self) -> None:
        """Add the EC2 network-interface calls SageMaker makes in a VPC to a role made with
        ``network_interfaces=False`` (no-op when it has them)."""
        if not self.network_interfaces:
            self.network_interfaces = True
            self._allow_vpc_network_interfaces(ecr_token=False)  # the token is there already
            if self._constructed is not None:  # ours, as if the constructor had written it
                self._constructed.append(self._allowed[-1])
