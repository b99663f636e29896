"""Studio user profiles (created through ``StudioDomain.add_user_profile``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

if TYPE_CHECKING:
    from .domain import StudioDomain


class UserProfile(Construct):
    """A Studio user profile in a :class:`StudioDomain` (create it with ``add_user_profile``).

    Exposes ``user_profile_name``, ``user_profile_arn``, ``execution_role`` and ``cfn_user_profile``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        domain: "StudioDomain",
        user_profile_name: str,
        execution_role: iam.IRole | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.user_profile_name: str = user_profile_name
        self.execution_role: iam.IRole = execution_role or domain.execution_role
        settings = None
        if execution_role is not None:
            settings = sagemaker.CfnUserProfile.UserSettingsProperty(
                execution_role=execution_role.role_arn,
                security_groups=[domain.security_group.security_group_id],
            )
        self.cfn_user_profile: sagemaker.CfnUserProfile = sagemaker.CfnUserProfile(
            self,
            "Resource",
            domain_id=domain.domain_id,
            user_profile_name=user_profile_name,
            user_settings=settings,
        )

    @property
    def user_profile_arn(self) -> str:
        return self.cfn_user_profile.attr_user_profile_arn
