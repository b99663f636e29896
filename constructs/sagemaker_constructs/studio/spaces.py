"""Shared Studio spaces (``StudioDomain.add_shared_space``), under :class:`StudioUserRole`'s per-user isolation.

A shared space (``SpaceSharingSettings.SharingType: Shared``) has an owner (``OwnershipSettings``): with
the role's rule, everyone may run apps in shared spaces and only the owner (or ``PLATFORM_ADMIN``)
updates or deletes the space; :class:`StudioDomain` narrows "everyone" to the space's members with a
Deny on ``CreateApp`` and ``DeleteApp`` in the space for every other source identity
(https://docs.aws.amazon.com/sagemaker/latest/dg/domain-space.html,
https://docs.aws.amazon.com/sagemaker/latest/dg/studio-updated-jl-admin-guide-permissions.html).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from aws_cdk import Duration
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ..errors import ValidationError, check_choice, check_int_range, check_pattern, is_unresolved
from ..validation.checks import duration_in
from ..validation.naming import check_name

if TYPE_CHECKING:
    from .domain import StudioDomain
    from .profiles import UserProfile

__all__ = ["SharedSpace"]

#: App types of a shared space.
SPACE_APP_TYPES = ("JupyterLab", "CodeEditor")
#: SageMaker's default EBS volume of a space when the domain sets none, in GB.
DEFAULT_SPACE_EBS_GB = 5


class SharedSpace(Construct):
    """A shared space of a :class:`StudioDomain` (create it with ``add_shared_space``).

    Exposes ``space_name``, ``space_arn``, ``members``, ``owner`` and ``cfn_space``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        domain: "StudioDomain",
        space_name: str,
        members: Sequence["UserProfile"],
        owner: "UserProfile | None" = None,
        app_type: str = "JupyterLab",
        ebs_volume_size_gb: int | None = None,
        instance_type: str | None = None,
        idle_timeout: Duration | None = None,
        display_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        from .domain import MAX_IDLE_MINUTES, MAX_SPACE_EBS_GB, MIN_IDLE_MINUTES, MIN_SPACE_EBS_GB

        check_name(self, "name", space_name)
        check_choice(self, "app_type", app_type, SPACE_APP_TYPES)
        check_pattern(self, "display_name", display_name, r"(?!\s*$).+", max_length=64, min_length=1,
                      description="1-64 characters, not only whitespace", limit="botocore sagemaker SpaceDisplayName")
        members = list(members)
        if not members:
            raise ValidationError(self, "members", members, "at least one user profile of the domain")
        profiles = domain.user_profiles
        for member in members:
            if profiles.get(member.user_profile_name) is not member:
                raise ValidationError(self, "members", getattr(member, "user_profile_name", member),
                                      f"user profiles of this domain ({', '.join(profiles) or 'none yet'}): "
                                      "add them with add_user_profile first")
        owner = owner or members[0]
        check_choice(self, "owner", owner, members, of="the members", label=lambda profile: profile.user_profile_name)
        maximum = domain.space_ebs_gb[1] if domain.space_ebs_gb else MAX_SPACE_EBS_GB
        if is_unresolved(maximum):  # the domain's maximum is a parameter: SageMaker compares at deploy time
            maximum = MAX_SPACE_EBS_GB
        check_int_range(self, "ebs_volume_size_gb", ebs_volume_size_gb, minimum=MIN_SPACE_EBS_GB, maximum=maximum)
        idle_settings = None
        if idle_timeout is not None:
            minutes = duration_in(self, "idle_timeout", idle_timeout, "minutes")
            check_int_range(self, "idle_timeout (minutes)", minutes, minimum=MIN_IDLE_MINUTES,
                            maximum=min(MAX_IDLE_MINUTES, domain.idle_timeout_minutes))
            idle_settings = sagemaker.CfnSpace.SpaceAppLifecycleManagementProperty(
                idle_settings=sagemaker.CfnSpace.SpaceIdleSettingsProperty(
                    idle_timeout_in_minutes=minutes))
        self.space_name: str = space_name
        self.members: tuple["UserProfile", ...] = tuple(members)
        self.owner: "UserProfile | None" = owner
        spec = sagemaker.CfnSpace.ResourceSpecProperty(instance_type=instance_type) if instance_type else None
        settings = sagemaker.CfnSpace.SpaceSettingsProperty(
            app_type=app_type,
            jupyter_lab_app_settings=sagemaker.CfnSpace.SpaceJupyterLabAppSettingsProperty(
                app_lifecycle_management=idle_settings, default_resource_spec=spec) if app_type == "JupyterLab" else None,
            code_editor_app_settings=sagemaker.CfnSpace.SpaceCodeEditorAppSettingsProperty(
                app_lifecycle_management=idle_settings, default_resource_spec=spec) if app_type == "CodeEditor" else None,
            space_storage_settings=sagemaker.CfnSpace.SpaceStorageSettingsProperty(
                ebs_storage_settings=sagemaker.CfnSpace.EbsStorageSettingsProperty(
                    ebs_volume_size_in_gb=ebs_volume_size_gb)) if ebs_volume_size_gb is not None else None,
        )
        self.cfn_space: sagemaker.CfnSpace = sagemaker.CfnSpace(
            self,
            "Resource",
            domain_id=domain.domain_id,
            space_name=space_name,
            space_display_name=display_name or space_name,
            ownership_settings=sagemaker.CfnSpace.OwnershipSettingsProperty(
                owner_user_profile_name=owner.user_profile_name),
            space_sharing_settings=sagemaker.CfnSpace.SpaceSharingSettingsProperty(sharing_type="Shared"),
            space_settings=settings,
        )
        self.cfn_space.node.add_dependency(owner)

    @property
    def space_arn(self) -> str:
        return self.cfn_space.attr_space_arn
