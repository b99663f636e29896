"""The model registry: a model package group, its versions' ARNs and grants."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Sequence

from aws_cdk import ArnFormat, RemovalPolicy, Resource, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ..errors import ValidationError, is_unresolved
from ..validation.checks import arn_name, check_length
from ..validation.naming import check_name

if TYPE_CHECKING:
    from ..interfaces import IModelPackageGroup


class _GroupGrants:
    """``grant_register``/``grant_read``/``grant_approve`` on a group's ARN and its versions."""

    model_package_group_name: str
    model_package_group_arn: str
    model_package_arn_pattern: str

    def _grant(self, grantee: iam.IGrantable, actions: Sequence[str]) -> iam.Grant:
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=list(actions),
            resource_arns=[self.model_package_group_arn, self.model_package_arn_pattern],
        )

    def grant_register(self, grantee: iam.IGrantable) -> iam.Grant:
        """Register new versions (``CreateModelPackage``) and read the group."""
        return self._grant(grantee, ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackageGroup",
                                     "sagemaker:DescribeModelPackage", "sagemaker:AddTags"])

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Describe the group and its versions, and list them."""
        return self._grant(grantee, ["sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeModelPackage",
                                     "sagemaker:ListModelPackages"])

    def grant_approve(self, grantee: iam.IGrantable) -> iam.Grant:
        """Approve or reject versions (``UpdateModelPackage``) and read them."""
        return self._grant(grantee, ["sagemaker:UpdateModelPackage", "sagemaker:DescribeModelPackage",
                                     "sagemaker:ListModelPackages"])


def _version_arn_pattern(scope: Construct, group_name: str, account: str | None = None,
                         region: str | None = None) -> str:
    """ARN pattern of a group's versions (SageMaker lower-cases names in ARNs)."""
    return Stack.of(scope).format_arn(service="sagemaker", resource="model-package",
                                      resource_name=f"{arn_name(group_name)}/*", account=account, region=region)


_ACCOUNT_ID = re.compile(r"\d{12}")


def check_account_ids(scope: Construct | str, argument: str, accounts: Sequence[str]) -> list[str]:
    """Raise :class:`ValidationError` unless every account is a 12-digit AWS account ID (unresolved
    tokens pass); returns them without duplicates, in order."""
    seen: list[str] = []
    for account in accounts:
        if not isinstance(account, str) or not (is_unresolved(account) or _ACCOUNT_ID.fullmatch(account)):
            raise ValidationError(scope, argument, account, "12-digit AWS account IDs, e.g. 111122223333")
        if account not in seen:
            seen.append(account)
    return seen


def group_name_or_arn(scope: Construct, group: "IModelPackageGroup") -> str:
    """How a request made from ``scope``'s stack names ``group``: its name when the group is in
    that stack's account and region, else its ARN (``CreateModelPackage``'s
    ``ModelPackageGroupName`` is an ``ArnOrName``; a bare name means a group of the caller's own
    account and region)."""
    env = getattr(group, "env", None)
    here = Stack.of(scope)
    account, region = getattr(env, "account", None), getattr(env, "region", None)
    if (account is None or account == here.account) and (region is None or region == here.region):
        return group.model_package_group_name
    return group.model_package_group_arn


#: What a deployment account may do with a group's versions (describe them, create models from them).
CROSS_ACCOUNT_VERSION_ACTIONS = ("sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages",
                                 "sagemaker:CreateModel")


class ImportedModelPackageGroup(_GroupGrants, Resource):
    """A group this stack does not own (:meth:`ModelPackageGroup.from_model_package_group_name`)."""

    def __init__(self, scope: Construct, id: str, *, model_package_group_name: str, account: str | None = None,
                 region: str | None = None) -> None:
        super().__init__(scope, id, account=account, region=region)
        check_name(self, "model_package_group_name", model_package_group_name)
        if not model_package_group_name:
            raise ValidationError(self, "model_package_group_name", model_package_group_name, "the group's name")
        if account is not None:
            check_account_ids(self, "account", [account])
        self.model_package_group_name: str = model_package_group_name
        self.model_package_group_arn: str = Stack.of(self).format_arn(
            service="sagemaker", resource="model-package-group", resource_name=arn_name(model_package_group_name),
            arn_format=ArnFormat.SLASH_RESOURCE_NAME, account=account, region=region)
        self.model_package_arn_pattern: str = _version_arn_pattern(self, model_package_group_name, account, region)

    def add_to_resource_policy(self, statement: iam.PolicyStatement) -> iam.AddToResourcePolicyResult:
        """An imported group's policy is not this stack's: nothing is added."""
        return iam.AddToResourcePolicyResult(statement_added=False)


class ModelPackageGroup(_GroupGrants, Construct):
    """A model registry group (``AWS::SageMaker::ModelPackageGroup``, child ``Resource``), RETAINed
    on stack deletion by default (it holds every registered model version and its approval history).

    Exposes ``model_package_group_name``, ``model_package_group_arn``, ``model_package_arn_pattern``
    and ``grant_register``/``grant_read``/``grant_approve`` (an ``IModelPackageGroup``);
    ``from_model_package_group_name`` imports a group the stack does not own.
    """

    def __init__(self, scope: Construct, id: str, *, model_package_group_name: str, description: str | None = None,
                 removal_policy: RemovalPolicy = RemovalPolicy.RETAIN) -> None:
        super().__init__(scope, id)
        check_name(self, "model_package_group_name", model_package_group_name)
        check_length(self, "description", description, maximum=1024, limit="botocore sagemaker EntityDescription")
        self.model_package_group_name: str = model_package_group_name
        self.cfn_model_package_group: sagemaker.CfnModelPackageGroup = sagemaker.CfnModelPackageGroup(
            self, "Resource", model_package_group_name=model_package_group_name,
            model_package_group_description=description,
        )
        self.cfn_model_package_group.apply_removal_policy(removal_policy)
        self.model_package_group_arn: str = self.cfn_model_package_group.attr_model_package_group_arn
        #: ARN pattern of this group's versions (SageMaker lower-cases names in ARNs).
        self.model_package_arn_pattern: str = _version_arn_pattern(self, model_package_group_name)
        #: The group's resource policy (``ModelPackageGroupPolicy``), once a statement was added.
        self.resource_policy: iam.PolicyDocument | None = None
        self._cross_account_grants: list[list[str]] = []

    def add_to_resource_policy(self, statement: iam.PolicyStatement) -> iam.AddToResourcePolicyResult:
        """Add ``statement`` to the group's resource policy (``ModelPackageGroupPolicy``)."""
        if self.resource_policy is None:
            self.resource_policy = iam.PolicyDocument()
            self.cfn_model_package_group.model_package_group_policy = self.resource_policy
        self.resource_policy.add_statements(statement)
        return iam.AddToResourcePolicyResult(statement_added=True, policy_dependable=self.cfn_model_package_group)

    def grant_cross_account_deployment(self, accounts: Sequence[str]) -> list[str]:
        """Let exactly ``accounts`` (12-digit IDs) describe the group and its versions, list them
        and create models from them (``ModelPackageGroupPolicy``; SageMaker's cross-account model
        registry access: https://docs.aws.amazon.com/sagemaker/latest/dg/model-registry-ram.html).
        The accounts' own roles still need the same actions in their IAM policies. Returns the
        accounts; calling again adds accounts."""
        chosen = check_account_ids(self, "accounts", accounts)
        if not chosen:
            raise ValidationError(self, "accounts", [], "at least one 12-digit AWS account ID")
        principals = [iam.AccountPrincipal(a) for a in chosen]
        stack = Stack.of(self)
        # Literal ARNs: the policy is a property of the group, so it cannot refer to its own ARN attribute.
        group_arn = stack.format_arn(service="sagemaker", resource="model-package-group",
                                     resource_name=arn_name(self.model_package_group_name))
        index = len(self._cross_account_grants)
        self._cross_account_grants.append(chosen)
        self.add_to_resource_policy(iam.PolicyStatement(
            sid=f"DeploymentAccountsDescribeGroup{index or ''}", principals=principals,
            actions=["sagemaker:DescribeModelPackageGroup"], resources=[group_arn]))
        self.add_to_resource_policy(iam.PolicyStatement(
            sid=f"DeploymentAccountsUseVersions{index or ''}", principals=principals,
            actions=list(CROSS_ACCOUNT_VERSION_ACTIONS), resources=[self.model_package_arn_pattern]))
        return chosen

    @classmethod
    def from_model_package_group_name(cls, scope: Construct, id: str, model_package_group_name: str, *,
                                      account: str | None = None, region: str | None = None) -> "IModelPackageGroup":
        """A group this stack does not own, by name: its ARN, its versions' ARN pattern and the
        ``grant_*`` methods work on it.

        :param account: the group's account (a 12-digit ID), e.g. the tooling account a deployment
            account's model reads from. Default: this stack's account.
        :param region: Default: this stack's region."""
        return ImportedModelPackageGroup(scope, id, model_package_group_name=model_package_group_name,
                                         account=account, region=region)
