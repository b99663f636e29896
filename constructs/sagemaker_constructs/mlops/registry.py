"""The model registry: a model package group, its versions' ARNs and grants."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from aws_cdk import ArnFormat, RemovalPolicy, Resource, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ..errors import ValidationError
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


def _version_arn_pattern(scope: Construct, group_name: str) -> str:
    """ARN pattern of a group's versions (SageMaker lower-cases names in ARNs)."""
    return Stack.of(scope).format_arn(service="sagemaker", resource="model-package",
                                      resource_name=f"{group_name.lower()}/*")


class ImportedModelPackageGroup(_GroupGrants, Resource):
    """A group this stack does not own (:meth:`ModelPackageGroup.from_model_package_group_name`)."""

    def __init__(self, scope: Construct, id: str, *, model_package_group_name: str) -> None:
        super().__init__(scope, id)
        check_name(self, "model_package_group_name", model_package_group_name)
        if not model_package_group_name:
            raise ValidationError(self, "model_package_group_name", model_package_group_name, "the group's name")
        self.model_package_group_name: str = model_package_group_name
        self.model_package_group_arn: str = Stack.of(self).format_arn(
            service="sagemaker", resource="model-package-group", resource_name=model_package_group_name.lower(),
            arn_format=ArnFormat.SLASH_RESOURCE_NAME)
        self.model_package_arn_pattern: str = _version_arn_pattern(self, model_package_group_name)


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
        if description is not None and len(description) > 1024:
            raise ValidationError(self, "description", f"{len(description)} characters", "at most 1024 characters")
        self.model_package_group_name: str = model_package_group_name
        self.cfn_model_package_group: sagemaker.CfnModelPackageGroup = sagemaker.CfnModelPackageGroup(
            self, "Resource", model_package_group_name=model_package_group_name,
            model_package_group_description=description,
        )
        self.cfn_model_package_group.apply_removal_policy(removal_policy)
        self.model_package_group_arn: str = self.cfn_model_package_group.attr_model_package_group_arn
        #: ARN pattern of this group's versions (SageMaker lower-cases names in ARNs).
        self.model_package_arn_pattern: str = _version_arn_pattern(self, model_package_group_name)

    @classmethod
    def from_model_package_group_name(cls, scope: Construct, id: str,
                                      model_package_group_name: str) -> "IModelPackageGroup":
        """A group this stack does not own, by name (in this stack's account and region): its
        ARN, its versions' ARN pattern and the ``grant_*`` methods work on it."""
        return ImportedModelPackageGroup(scope, id, model_package_group_name=model_package_group_name)
