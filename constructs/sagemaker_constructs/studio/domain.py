"""A SageMaker Studio domain that starts inside an isolated VPC and deletes cleanly.

The domain lives here; user profiles in ``profiles.py``; the teardown provider in ``teardown.py``.
"""

from __future__ import annotations

import fnmatch
import functools
from typing import Any, Sequence, cast

import jsii
from aws_cdk import (
    Annotations, CfnDeletionPolicy, CfnResource, CustomResource, Duration, IStableStringProducer, Lazy, RemovalPolicy,
    Stack,
)
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ..errors import ValidationError, check_choice, check_int_range, check_pattern, is_unresolved
from ..validation.catalog import _extra_types, check_instance_type, instance_types
from ..validation.checks import check_glob, duration_in
from ..network import allow_https_to_endpoints, private_subnets, require_interface_endpoints
from .._internal.managed_role import recorded_policy
from ..compliance import acknowledge_present_findings
from ..security.roles import Persona, StudioUserRole
from ..validation.naming import check_name, default_name
from .._internal.grants import TEMPLATE_ID, add_statements, can_change
from .canvas import CanvasIdleShutdown, CanvasSettings, canvas_app_arns, canvas_idle_shutdown
from .canvas import canvas_settings_resource, canvas_statements
from .canvas import validate as validate_canvas
from .images import CustomImage
from .profiles import UserProfile
from .spaces import SharedSpace
from .teardown import TEARDOWN_RESOURCE_TYPE, TeardownProvider

__all__ = ["CanvasSettings", "CustomImage", "SharedSpace", "StudioDomain", "UserProfile"]


def bucket_statements(role: StudioUserRole, buckets: Sequence[s3.IBucket]) -> list[iam.PolicyStatement]:
    """The statements of ``role``'s own policies (permissions and guardrails, Allow and Deny) about
    ``buckets``: those with a resource that is one of the buckets' ARN (``bucket.bucket_arn``) or an
    object ARN of one (``bucket.arn_for_objects(...)``, the bucket ARN followed by ``/``), and the KMS
    ones on the role's ``encryption_key`` and the buckets' own keys only.

    Compared as the role code wrote them, before resolution: ``arn_for_objects`` appends to the very
    string (or token) ``bucket_arn`` is, for a bucket of this stack and an imported one alike
    (``from_bucket_name``, ``from_bucket_attributes``), whereas resolved, an imported bucket's ARN is
    an ``Fn::Join`` whose JSON its object ARNs' ``Fn::Join`` does not contain."""
    bucket_arns = {b.bucket_arn for b in buckets}
    keys = [role.encryption_key, *(b.encryption_key for b in buckets)]
    key_arns = {k.key_arn for k in keys if k is not None}

    def names_bucket(resource: object) -> bool:
        return isinstance(resource, str) and any(
            resource == arn or resource.startswith(f"{arn}/") for arn in bucket_arns)

    picked: list[iam.PolicyStatement] = []
    for policy in (role.policy, role.guardrails):
        if policy is None:
            continue
        for doc in (policy.document.to_json() or {}).get("Statement", []):
            actions = doc.get("Action", [])
            actions = [actions] if isinstance(actions, str) else list(actions)
            resources = doc.get("Resource", [])
            resources = [resources] if isinstance(resources, str) else list(resources)
            about_buckets = any(names_bucket(r) for r in resources)
            about_keys = bool(actions and resources) and all(a.startswith("kms:") for a in actions) and all(
                isinstance(r, str) and r in key_arns for r in resources)
            if about_buckets or about_keys:
                picked.append(iam.PolicyStatement.from_json(doc))
    return picked


def _policy_name(policy: CfnDeletionPolicy | None) -> str:
    """A DeletionPolicy/UpdateReplacePolicy as the template writes it (CloudFormation's default: Delete)."""
    if policy is None:
        return "Delete"
    return "".join(part.capitalize() for part in policy.value.split("_"))


@jsii.implements(IStableStringProducer)
class _PolicyName:
    """The domain's DeletionPolicy or UpdateReplacePolicy, read at synth (so a removal policy applied to
    ``cfn_domain`` after the construct is built is seen too)."""

    def __init__(self, resource: CfnResource, attribute: str) -> None:
        self._resource, self._attribute = resource, attribute

    def produce(self) -> str:
        return _policy_name(getattr(self._resource.cfn_options, self._attribute))

#: Idle shutdown limits of SageMaker's IdleSettings, in minutes.
MIN_IDLE_MINUTES = 60
MAX_IDLE_MINUTES = 525_600
#: CustomPosixUserConfig limits (SageMaker reserves lower ids for its images' users).
MIN_POSIX_UID, MAX_POSIX_UID = 10_000, 4_000_000
MIN_POSIX_GID, MAX_POSIX_GID = 1_001, 4_000_000
#: EBS size limits of a Studio space, in GB (DefaultEbsStorageSettings, EbsStorageSettings).
MIN_SPACE_EBS_GB, MAX_SPACE_EBS_GB = 5, 16_384
#: botocore sagemaker StudioLifecycleConfigArn (the ARNs of LifecycleConfigArns and ResourceSpec).
LIFECYCLE_CONFIG_ARN = r"(arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:studio-lifecycle-config/.*|None)"


class StudioDomain(Construct):
    """A VPC-only SageMaker Studio domain with least-privilege defaults and a clean teardown.

    Default settings:

    * ``AppNetworkAccessType: VpcOnly`` in ``subnets`` (default: the VPC's private and isolated
      subnets), IAM authentication, tags propagated to Studio resources;
    * one security group (child ``SecurityGroup``) for the domain, users and spaces, with only:
      NFS (TCP 2049) and Studio's app-to-app ports (TCP 8192-65535) within the group, HTTPS
      (443) out to the VPC endpoints (``endpoint_security_group``, or the VPC CIDR), HTTPS out
      to S3 through the gateway endpoint (the region's S3 prefix list); nothing to or from
      0.0.0.0/0;
    * ``encryption_key`` on the domain (home EFS and app volumes);
    * Docker access off unless ``allow_docker_access``. Studio has no root-access switch like
      notebook instances' ``RootAccess``: root inside a Studio app container is remapped to an
      unprivileged user on the host; ``posix_user`` runs custom images as a fixed non-root
      POSIX user instead;
    * idle shutdown of JupyterLab and Code Editor apps after ``idle_timeout`` (1 hour) through
      the domain's native idle settings; users may shorten it, not lengthen it;
    * sharing notebook output off, unless ``notebook_sharing_bucket`` is given (then written
      there encrypted with ``encryption_key``);
    * default execution role: a :class:`StudioUserRole` (child ``ExecutionRole``) scoped to
      this domain, ``data_buckets`` and the key; jobs it starts must run in these subnets with
      this security group and the key; it may pass only ``job_roles``, only to SageMaker;
    * teardown when the domain itself is deleted (child ``Teardown``, a ``Custom::StudioTeardown``):
      every app (Failed ones too) and space of the domain is deleted first, so CloudFormation can
      delete the user profiles and the domain; then the home EFS's mount targets, ENIs left
      ``available`` in the domain's security groups and the two NFS security groups SageMaker
      created, so subnets and the VPC delete cleanly. With ``home_efs_removal_policy=RETAIN``
      (default) the file system with every user's home directory is kept; with ``DESTROY`` it is
      deleted too. A Delete of the teardown resource during a stack *update* (it was renamed,
      replaced or removed, or ``teardown=False``) deletes nothing unless the domain itself is
      replaced or removed in that update: the handler reads its own stack (status, the domain's
      physical id, the template) and logs its decision. The domain's ``DeletionPolicy`` /
      ``UpdateReplacePolicy`` ``Retain`` is honoured. Deploy this version once before switching
      ``teardown`` off: the Delete is handled by the code already deployed.

    Apps and spaces (all optional, nothing changes without them):

    * ``default_instance_type`` for JupyterLab and Code Editor; ``allowed_instance_types``: the
      domain's Studio user roles are denied ``CreateApp`` with any other instance type
      (``sagemaker:InstanceTypes``, in a ``Deny``-only managed policy per role, child
      ``AppGuardrails``); ``jupyter_lab_lifecycle_configs`` / ``code_editor_lifecycle_configs``
      (ARNs of the caller's ``AWS::SageMaker::StudioLifecycleConfig``); ``custom_images``
      (:class:`CustomImage`), ``default_image`` among them; ``space_ebs_gb`` (default and maximum
      EBS size of spaces);
    * ``add_shared_space``: a shared space (``SpaceSharingType: Shared``) owned by a member, under the
      per-user isolation of :class:`StudioUserRole`; apps in it only for its ``members`` (the other
      users' roles are denied ``CreateApp`` and ``DeleteApp`` in it unless their source identity is a member);
    * ``canvas``: :class:`CanvasSettings` (SageMaker Canvas and Data Wrangler) applied by a
      ``Custom::CanvasSettings`` (child ``CanvasSettings``) that restores the previous settings when
      it goes; the Canvas policy (child ``Canvas``) on the roles of ``canvas.personas``, ``CreateApp``
      of Canvas apps denied to the other personas' roles; idle Canvas apps are deleted after
      ``canvas.idle_timeout`` (child ``CanvasIdleShutdown``).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        encryption_key: kms.IKey,
        subnets: Sequence[ec2.ISubnet] | None = None,
        domain_name: str | None = None,
        default_execution_role: iam.IRole | None = None,
        idle_timeout: Duration = Duration.hours(1),
        home_efs_removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        endpoint_security_group: ec2.ISecurityGroup | None = None,
        s3_prefix_list_id: str | None = None,
        data_buckets: Sequence[s3.IBucket] = (),
        job_roles: Sequence[iam.IRole] = (),
        notebook_sharing_bucket: s3.IBucket | None = None,
        allow_docker_access: bool = False,
        posix_user: tuple[int, int] | None = None,
        teardown: bool = True,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        role_is_prepared: bool = False,
        canvas: CanvasSettings | None = None,
        default_instance_type: str | None = None,
        allowed_instance_types: Sequence[str] | None = None,
        jupyter_lab_lifecycle_configs: Sequence[str] = (),
        code_editor_lifecycle_configs: Sequence[str] = (),
        custom_images: Sequence[CustomImage] = (),
        default_image: CustomImage | None = None,
        space_ebs_gb: tuple[int, int] | None = None,
    ) -> None:
        """
        :param vpc: the VPC (an ``IsolatedNetwork``'s ``vpc``, or an imported one).
        :param encryption_key: the key for the home EFS, volumes and shared notebooks.
        :param subnets: 1-16 subnets for Studio's ENIs. Default: the VPC's private and
            isolated subnets.
        :param domain_name: Default: a unique name derived from the construct path.
        :param default_execution_role: Default: a new ``StudioUserRole`` (child ``ExecutionRole``).
            A role given here gets exactly the statements the default role would get for
            ``data_buckets`` and ``notebook_sharing_bucket`` (object and bucket actions, the
            default persona's prefix guardrails, use of the buckets' keys and ``encryption_key``)
            and for ``job_roles`` (``iam:PassRole`` of them to SageMaker only), in its own policy; its
            other permissions are the caller's.
        :param idle_timeout: idle shutdown of JupyterLab/Code Editor apps, 60 minutes to
            365 days. Default: 1 hour.
        :param home_efs_removal_policy: RETAIN (default) keeps the home EFS on deletion;
            DESTROY deletes it with its mount targets and SageMaker's NFS security groups.
        :param endpoint_security_group: the VPC endpoints' security group (an
            ``IsolatedNetwork``'s ``endpoint_security_group``). Default: HTTPS to the VPC CIDR.
        :param s3_prefix_list_id: the region's S3 prefix list (``pl-...``). Default: looked up
            at deploy time by the teardown provider (needs ``teardown=True``; with ``teardown=False``
            and no prefix list the group has no HTTPS to S3, and synth warns).
        :param data_buckets: buckets the execution role (the default one, or
            ``default_execution_role``) may read and write. Default: none.
        :param job_roles: roles the execution role (the default one, or ``default_execution_role``)
            may pass to SageMaker for the jobs,
            models and pipelines users start (e.g. a ``JobExecutionRole``). Default: none, so
            users cannot start jobs until one is given.
        :param notebook_sharing_bucket: where shared notebook output goes. Default: sharing off.
        :param allow_docker_access: let apps run Docker. Default: false.
        :param posix_user: ``(uid, gid)`` that custom-image apps run as (uid 10000-4000000,
            gid 1001-4000000). Default: the image's own user.
        :param teardown: create the teardown custom resource. Default: true.
        :param log_retention: of the teardown functions' logs. Default: one year.
        :param role_is_prepared: ``default_execution_role`` already has the bucket permissions
            above. Needed only for a role CDK cannot change (imported with ``mutable=False``, from
            another account, ``without_policy_updates()``): without it such a role raises a
            ``ValidationError`` naming the actions it needs, instead of losing them silently.
            Default: false.
        :param canvas: enable SageMaker Canvas (and Data Wrangler) for some personas. Default: none,
            the domain's Canvas settings are left as SageMaker sets them and no role gets Canvas
            permissions.
        :param default_instance_type: JupyterLab and Code Editor default instance type (``ml.*``).
            Default: SageMaker's (``ml.t3.medium``).
        :param allowed_instance_types: the only instance types (patterns such as ``ml.t3.*``) Studio
            apps may use. Default: any.
        :param jupyter_lab_lifecycle_configs: lifecycle configuration ARNs users may attach to
            JupyterLab (the first is the default). Default: none.
        :param code_editor_lifecycle_configs: the same for Code Editor. Default: none.
        :param custom_images: :class:`CustomImage` s offered in JupyterLab / Code Editor. Default: none.
        :param default_image: one of ``custom_images``, the default of its app type. Default:
            SageMaker Distribution.
        :param space_ebs_gb: ``(default, maximum)`` EBS size of spaces in GB, 5-16384. Default:
            SageMaker's.
        """
        super().__init__(scope, id)
        if encryption_key is None:
            raise ValidationError(self, "encryption_key", None, "a kms.IKey is required")
        check_name(self, "domain_name", domain_name)
        if not idle_timeout.is_unresolved():
            check_int_range(
                self, "idle_timeout (minutes)", duration_in(self, "idle_timeout", idle_timeout, "minutes"),
                minimum=MIN_IDLE_MINUTES,
                maximum=MAX_IDLE_MINUTES,
            )
        if posix_user is not None:
            check_int_range(self, "posix_user uid", posix_user[0], minimum=MIN_POSIX_UID, maximum=MAX_POSIX_UID)
            check_int_range(self, "posix_user gid", posix_user[1], minimum=MIN_POSIX_GID, maximum=MAX_POSIX_GID)
        if canvas is not None:
            validate_canvas(self, canvas)
        self._check_app_settings(default_instance_type, allowed_instance_types, custom_images, default_image,
                                 space_ebs_gb)
        for argument, arns in (("jupyter_lab_lifecycle_configs", jupyter_lab_lifecycle_configs),
                               ("code_editor_lifecycle_configs", code_editor_lifecycle_configs)):
            for arn in arns:
                check_pattern(self, argument, arn, LIFECYCLE_CONFIG_ARN, max_length=256,
                              description="a Studio lifecycle configuration ARN "
                                          "(arn:aws:sagemaker:<region>:<account>:studio-lifecycle-config/<name>)",
                              limit="botocore sagemaker StudioLifecycleConfigArn")
        if home_efs_removal_policy not in (RemovalPolicy.RETAIN, RemovalPolicy.DESTROY):
            raise ValidationError(self, "home_efs_removal_policy", home_efs_removal_policy, "RETAIN or DESTROY")
        if s3_prefix_list_id is not None and not is_unresolved(s3_prefix_list_id):
            check_pattern(self, "s3_prefix_list_id", s3_prefix_list_id, r"pl-[0-9a-f]{8,17}",
                          description="a prefix list id such as pl-63a5400a")
        chosen = private_subnets(self, vpc, subnets)

        self.vpc: ec2.IVpc = vpc
        self.encryption_key: kms.IKey = encryption_key
        self.subnets = chosen
        self.home_efs_removal_policy: RemovalPolicy = home_efs_removal_policy
        self.domain_name: str = domain_name or default_name(self)
        self._profiles: dict[str, UserProfile] = {}
        self._spaces: dict[str, SharedSpace] = {}
        self.canvas: CanvasSettings | None = canvas
        self.allowed_instance_types = tuple(allowed_instance_types) if allowed_instance_types is not None else None
        self.space_ebs_gb: tuple[int, int] | None = space_ebs_gb
        #: Idle shutdown of JupyterLab/Code Editor apps, in minutes (a Token when ``idle_timeout`` is one).
        self.idle_timeout_minutes: float = idle_timeout.to_minutes() if not idle_timeout.is_unresolved() else MAX_IDLE_MINUTES
        self.custom_images: tuple[CustomImage, ...] = tuple(custom_images)
        self._guarded: list[tuple[iam.IRole, str]] = []
        self._guardrails: dict[str, iam.ManagedPolicy] = {}
        self._canvas_policy: iam.ManagedPolicy | None = None
        self._canvas_roles: list[iam.IRole] = []
        if canvas is not None:
            # What Canvas's data sources reach from the VPC (canvas-vpc.html): created by the
            # IsolatedNetwork owning ``vpc`` in any mode (an imported VPC: IsolatedNetwork.require).
            if canvas.athena:
                require_interface_endpoints(vpc, "athena", "glue", reason=f"Canvas Athena data source {self.node.path}")
            if canvas.redshift:
                require_interface_endpoints(vpc, "redshift-data", reason=f"Canvas Redshift data source {self.node.path}")

        self.security_group: ec2.SecurityGroup = self._security_group(vpc, endpoint_security_group)
        idle = sagemaker.CfnDomain.AppLifecycleManagementProperty(
            idle_settings=sagemaker.CfnDomain.IdleSettingsProperty(
                lifecycle_management="ENABLED",
                idle_timeout_in_minutes=duration_in(self, "idle_timeout", idle_timeout, "minutes"),
                min_idle_timeout_in_minutes=MIN_IDLE_MINUTES,
                max_idle_timeout_in_minutes=duration_in(self, "idle_timeout", idle_timeout, "minutes"),
            )
        )
        posix = None if posix_user is None else sagemaker.CfnDomain.CustomPosixUserConfigProperty(
            uid=posix_user[0], gid=posix_user[1]
        )
        sharing = sagemaker.CfnDomain.SharingSettingsProperty(notebook_output_option="Disabled")
        if notebook_sharing_bucket is not None:
            sharing = sagemaker.CfnDomain.SharingSettingsProperty(
                notebook_output_option="Allowed",
                s3_output_path=notebook_sharing_bucket.s3_url_for_object("shared-notebooks"),
                s3_kms_key_id=encryption_key.key_arn,
            )
        sg_ids = [self.security_group.security_group_id]

        def app_spec(app_type: str) -> dict[str, Any]:
            images = [i for i in custom_images if i.app_type == app_type]
            lifecycle = list(jupyter_lab_lifecycle_configs if app_type == "JupyterLab" else code_editor_lifecycle_configs)
            spec = None
            image_arn = default_image.image_arn if default_image is not None and default_image.app_type == app_type else None
            if default_instance_type or image_arn or lifecycle:
                spec = sagemaker.CfnDomain.ResourceSpecProperty(
                    instance_type=default_instance_type, sage_maker_image_arn=image_arn,
                    lifecycle_config_arn=lifecycle[0] if lifecycle else None)
            return {
                "default_resource_spec": spec,
                "lifecycle_config_arns": lifecycle or None,
                "custom_images": [sagemaker.CfnDomain.CustomImageProperty(
                    app_image_config_name=i.app_image_config_name, image_name=i.image_name) for i in images] or None,
            }

        storage = None if space_ebs_gb is None else sagemaker.CfnDomain.DefaultSpaceStorageSettingsProperty(
            default_ebs_storage_settings=sagemaker.CfnDomain.DefaultEbsStorageSettingsProperty(
                default_ebs_volume_size_in_gb=space_ebs_gb[0], maximum_ebs_volume_size_in_gb=space_ebs_gb[1]))

        def settings(role_arn: str) -> tuple[sagemaker.CfnDomain.UserSettingsProperty,
                                             sagemaker.CfnDomain.DefaultSpaceSettingsProperty]:
            return (
                sagemaker.CfnDomain.UserSettingsProperty(
                    execution_role=role_arn,
                    security_groups=sg_ids,
                    sharing_settings=sharing,
                    studio_web_portal="ENABLED",
                    default_landing_uri="studio::",
                    custom_posix_user_config=posix,
                    jupyter_lab_app_settings=sagemaker.CfnDomain.JupyterLabAppSettingsProperty(
                        app_lifecycle_management=idle, **app_spec("JupyterLab")
                    ),
                    code_editor_app_settings=sagemaker.CfnDomain.CodeEditorAppSettingsProperty(
                        app_lifecycle_management=idle, **app_spec("CodeEditor")
                    ),
                    space_storage_settings=storage,
                ),
                sagemaker.CfnDomain.DefaultSpaceSettingsProperty(
                    execution_role=role_arn,
                    security_groups=sg_ids,
                    custom_posix_user_config=posix,
                    jupyter_lab_app_settings=sagemaker.CfnDomain.JupyterLabAppSettingsProperty(
                        app_lifecycle_management=idle, **app_spec("JupyterLab")
                    ),
                    space_storage_settings=storage,
                ),
            )

        # The default role is scoped to this domain's id, so the domain comes first and gets its
        # role settings once the role exists (the role's policy references the domain, the
        # domain references the role: no cycle, the policy is a separate resource).
        user_settings, space_settings = settings(
            default_execution_role.role_arn if default_execution_role else "placeholder"
        )
        self.cfn_domain: sagemaker.CfnDomain = sagemaker.CfnDomain(
            self,
            "Resource",
            domain_name=self.domain_name,
            auth_mode="IAM",
            app_network_access_type="VpcOnly",
            vpc_id=vpc.vpc_id,
            subnet_ids=[s.subnet_id for s in chosen],
            kms_key_id=encryption_key.key_arn,
            tag_propagation="ENABLED",
            domain_settings=sagemaker.CfnDomain.DomainSettingsProperty(
                security_group_ids=sg_ids,
                # Studio sets the user profile name as the execution role session's source
                # identity, which StudioUserRole's per-user isolation reads (aws:SourceIdentity).
                # https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DomainSettings.html
                execution_role_identity_config="USER_PROFILE_NAME",
                docker_settings=sagemaker.CfnDomain.DockerSettingsProperty(
                    enable_docker_access="ENABLED" if allow_docker_access else "DISABLED"
                ),
            ),
            default_user_settings=user_settings,
            default_space_settings=space_settings,
        )
        for image in custom_images:  # the domain validates its images and their versions
            self.cfn_domain.node.add_dependency(image)
        buckets = list(data_buckets) + ([notebook_sharing_bucket] if notebook_sharing_bucket else [])

        def default_role(id: str, role_buckets: Sequence[s3.IBucket]) -> StudioUserRole:
            return StudioUserRole(
                self,
                id,
                domain_id=self.cfn_domain.attr_domain_id,
                encryption_key=encryption_key,
                data_buckets=role_buckets,
                subnets=chosen,
                security_groups=[self.security_group],
                passable_roles=list(job_roles),
            )

        self.execution_role: iam.IRole = default_execution_role or default_role("ExecutionRole", buckets)
        if default_execution_role is not None and (buckets or job_roles):
            statements: list[iam.PolicyStatement] = []
            if buckets:
                template = default_role(TEMPLATE_ID, buckets)
                statements += bucket_statements(template, buckets)
                self.node.try_remove_child(TEMPLATE_ID)
            if job_roles:  # what StudioUserRole(passable_roles=job_roles) allows
                statements.append(iam.PolicyStatement(
                    sid="PassExecutionRolesToSageMaker", actions=["iam:PassRole"],
                    resources=[r.role_arn for r in job_roles],
                    conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}))
            add_statements(self, default_execution_role, statements, role_is_prepared=role_is_prepared,
                           argument="default_execution_role")
        if default_execution_role is None:
            user_settings, space_settings = settings(self.execution_role.role_arn)
            self.cfn_domain.default_user_settings = user_settings
            self.cfn_domain.default_space_settings = space_settings
        self._guard_role(self.execution_role, "ExecutionRole")
        self.canvas_settings: CustomResource | None = None
        if canvas is not None:
            self.canvas_settings = canvas_settings_resource(self, canvas, self._canvas_key_arn(canvas), log_retention)
        #: The idle shutdown of Canvas apps (``canvas.idle_timeout``; child ``CanvasIdleShutdown``), if any.
        self.canvas_idle_shutdown: CanvasIdleShutdown | None = (
            canvas_idle_shutdown(self, canvas, log_retention) if canvas is not None else None)
        self.teardown: CustomResource | None = None
        if teardown:
            lookup = s3_prefix_list_id is None
            self.teardown = self._teardown(log_retention, lookup_s3=lookup)
            if lookup:
                s3_prefix_list_id = self.teardown.get_att_string("S3PrefixListId")
        if s3_prefix_list_id is not None:
            egress = ec2.CfnSecurityGroupEgress(
                self,
                "S3GatewayEgress",
                group_id=self.security_group.security_group_id,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                destination_prefix_list_id=s3_prefix_list_id,
                description="HTTPS to S3 through the gateway endpoint",
            )
            self.s3_egress = egress
        else:
            # Only the teardown provider looks the prefix list up: without either, Studio's apps (and
            # the jobs bound to this group) silently had no HTTPS to S3 through the gateway endpoint.
            Annotations.of(self).add_warning_v2(
                "@sagemaker-constructs/studio:noS3Egress",
                "teardown=False without s3_prefix_list_id: the domain's security group gets no HTTPS egress to "
                "S3 (the teardown provider is what looks the Region's S3 prefix list up), so Studio apps and the "
                "jobs in this group cannot reach S3 through the gateway endpoint. Pass s3_prefix_list_id='pl-...' "
                "(aws ec2 describe-managed-prefix-lists --filters Name=prefix-list-name,"
                "Values=com.amazonaws.<region>.s3).")

    # ------------------------------------------------------------------ attributes
    @property
    def domain_id(self) -> str:
        return self.cfn_domain.attr_domain_id

    @property
    def domain_arn(self) -> str:
        return self.cfn_domain.attr_domain_arn

    @property
    def home_efs_file_system_id(self) -> str:
        return self.cfn_domain.attr_home_efs_file_system_id

    @property
    def url(self) -> str:
        return self.cfn_domain.attr_url

    @property
    def user_profiles(self) -> dict[str, UserProfile]:
        return dict(self._profiles)

    # ------------------------------------------------------------------ users
    def add_user_profile(self, name: str, *, execution_role: iam.IRole | None = None,
                         id: str | None = None) -> UserProfile:
        """Add a user profile named ``name`` (its construct ID too: keep it stable).

        :param execution_role: Default: the domain's default execution role.
        :param id: the construct ID (child ``UserProfiles/<id>``). Required when ``name`` is a Token
            (a ``CfnParameter``): construct IDs cannot hold Tokens. Default: ``name``.
        """
        check_name(self, "user profile name", name)
        if name in self._profiles:
            raise ValidationError(self, "user profile name", name, "each user profile name at most once")
        if id is None and is_unresolved(name):
            raise ValidationError(self, "add_user_profile id", None,
                                  "a construct id (id=...) for a user profile whose name is a Token: "
                                  "construct ids cannot hold Tokens")
        container = self._container("UserProfiles")
        construct_id = name if id is None else id
        if container.node.try_find_child(construct_id) is not None:
            raise ValidationError(self, "add_user_profile id", construct_id, "each construct id at most once")
        # A StudioUserRole of one user grants that user's spaces and apps by name, whoever's session it
        # is: on another user's profile it would let them change and delete the first user's spaces.
        role = execution_role or self.execution_role
        owner = getattr(role, "user_profile_name", None)
        if owner is not None and not is_unresolved(owner) and not is_unresolved(name) and owner != name:
            argument = "add_user_profile execution_role" if execution_role is not None else "default_execution_role"
            raise ValidationError(
                self, argument, owner,
                f"a role for user profile {name!r}: this StudioUserRole is user profile {owner!r}'s "
                "(user_profile_name), so it would give its spaces and apps to this profile; give the profile a "
                "role of its own or a shared one (no user_profile_name)")
        profile = UserProfile(
            container, construct_id, domain=self, user_profile_name=name, execution_role=execution_role
        )
        self._profiles[name] = profile
        if self.teardown is not None:
            # Deleted before the profiles: CloudFormation deletes dependents first.
            self.teardown.node.add_dependency(profile)
        self._guard_role(profile.execution_role, construct_id)
        return profile

    # ------------------------------------------------------------------ spaces
    @property
    def shared_spaces(self) -> dict[str, SharedSpace]:
        return dict(self._spaces)

    def add_shared_space(
        self,
        id: str,
        *,
        name: str,
        members: Sequence[UserProfile],
        owner: UserProfile | None = None,
        app_type: str = "JupyterLab",
        ebs_volume_size_gb: int | None = None,
        instance_type: str | None = None,
        idle_timeout: Duration | None = None,
        display_name: str | None = None,
    ) -> SharedSpace:
        """Add a shared space (child ``Spaces/<id>``; keep ``id`` stable) for ``members``.

        :param name: the space name (1-63 letters, digits and hyphens).
        :param members: the user profiles (of this domain) who may run apps in the space (at least one).
        :param owner: who owns the space and may update or delete it. Default: the first member.
        :param app_type: ``"JupyterLab"`` or ``"CodeEditor"``. Default: ``"JupyterLab"``.
        :param ebs_volume_size_gb: the space's EBS volume, 5 GB up to the domain's maximum
            (``space_ebs_gb``). Default: the domain's default.
        :param instance_type: the space's default instance type (one of ``allowed_instance_types``).
            Default: the domain's.
        :param idle_timeout: idle shutdown of its apps, 60 minutes up to the domain's ``idle_timeout``.
            Default: the domain's.
        :param display_name: Default: ``name``.
        """
        if name in {s.space_name for s in self._spaces.values()}:
            raise ValidationError(self, "add_shared_space name", name, "each space name at most once")
        if self.node.try_find_child("Spaces") and self.node.find_child("Spaces").node.try_find_child(id):
            raise ValidationError(self, "add_shared_space id", id, "each construct id at most once")
        # Apps of a shared space run as DefaultSpaceSettings.ExecutionRole, the domain's default role
        # (botocore sagemaker DefaultSpaceSettings): a StudioUserRole of one user there would let every
        # member act as that user (change and delete their spaces, stop their apps).
        single = getattr(self.execution_role, "user_profile_name", None)
        others = [getattr(m, "user_profile_name", m) for m in members if getattr(m, "user_profile_name", m) != single]
        if single is not None and others:
            raise ValidationError(
                self, "default_execution_role", single,
                f"a shared role (StudioUserRole without user_profile_name, or a role of yours) for a shared space "
                f"with members {others}: the space's apps run as the domain's default execution role, which is "
                f"user profile {single!r}'s own StudioUserRole, so its members would act as that user")
        if instance_type is not None:
            self._check_instance_type("add_shared_space instance_type", instance_type)
        container = self._container("Spaces")
        space = SharedSpace(container, id, domain=self, space_name=name, members=members, owner=owner,
                            app_type=app_type, ebs_volume_size_gb=ebs_volume_size_gb, instance_type=instance_type,
                            idle_timeout=idle_timeout, display_name=display_name)
        self._spaces[id] = space
        if self.teardown is not None:
            self.teardown.node.add_dependency(space)
        for role, label in self._guarded:
            self._apply_guardrails(role, label)
        return space

    # ------------------------------------------------------------------ internals
    def _check_instance_type(self, argument: str, value: str) -> None:
        if is_unresolved(value):
            return
        if not str(value).startswith("ml."):
            raise ValidationError(self, argument, value, "a SageMaker instance type such as ml.t3.medium")
        # a type Studio apps do not run on (ml.t2.medium, ml.m5.xlage, ml.inf1.xlarge) is refused by CreateApp
        check_instance_type(self, argument, value, use="studio")
        allowed = self.__dict__.get("allowed_instance_types")
        if allowed:
            check_glob(self, argument, value, allowed, of="allowed_instance_types")

    def _check_app_settings(self, default_instance_type: str | None, allowed: Sequence[str] | None,
                            images: Sequence[CustomImage], default_image: CustomImage | None,
                            space_ebs_gb: tuple[int, int] | None) -> None:
        if allowed is not None:
            if not allowed:
                raise ValidationError(self, "allowed_instance_types", list(allowed),
                                      "at least one instance type (or None for any)")
            studio_types = sorted(instance_types("studio") | _extra_types(self))
            for pattern in allowed:
                if is_unresolved(pattern):
                    continue
                if not str(pattern).startswith("ml."):
                    raise ValidationError(self, "allowed_instance_types", pattern,
                                          "SageMaker instance types or patterns, e.g. ml.t3.*")
                if not any(fnmatch.fnmatchcase(t, pattern) for t in studio_types):
                    # a pattern that matches no Studio type allows nothing (the Deny refuses every app);
                    # an exact name goes through the catalog's check for its message and extra types
                    if not any(ch in pattern for ch in "*?["):
                        check_instance_type(self, "allowed_instance_types", pattern, use="studio")
                    else:
                        raise ValidationError(self, "allowed_instance_types", pattern,
                                              "a pattern matching at least one instance type of Studio apps "
                                              "(botocore sagemaker AppInstanceType), e.g. ml.t3.*")
        self.allowed_instance_types = tuple(allowed) if allowed is not None else None
        if default_instance_type is not None:
            self._check_instance_type("default_instance_type", default_instance_type)
        if default_image is not None:
            check_choice(self, "default_image", default_image, list(images), of="custom_images",
                         label=lambda image: image.node.path)
        names = [i.image_name for i in images]
        if len(set(names)) != len(names):
            raise ValidationError(self, "custom_images", names, "each image at most once")
        # Each image's AppImageConfig is named from its image name (its first 56 characters, '.' as '-',
        # then '-config'): two images whose names differ only there (a.b and a-b, or past the 56th
        # character) would create two configs of one name, and the second would fail to deploy.
        configs: dict[str, CustomImage] = {}
        for image in images:
            other = configs.setdefault(image.app_image_config_name, image)
            if other is not image:
                raise ValidationError(
                    self, "custom_images", f"{other.image_name} and {image.image_name}",
                    f"images whose app image config names differ (both are {image.app_image_config_name!r}: "
                    "the image name cut after 56 places, '.' as '-', then '-config'); rename one image")
        if space_ebs_gb is not None:
            default, maximum = space_ebs_gb
            check_int_range(self, "space_ebs_gb (default)", default, minimum=MIN_SPACE_EBS_GB, maximum=MAX_SPACE_EBS_GB)
            check_int_range(self, "space_ebs_gb (maximum)", maximum,
                            minimum=MIN_SPACE_EBS_GB if is_unresolved(default) else default, maximum=MAX_SPACE_EBS_GB)

    def _container(self, id: str) -> Construct:
        """The plain grouping child ``id``, made on first use (try_find_child is typed IConstruct)."""
        return cast("Construct | None", self.node.try_find_child(id)) or Construct(self, id)

    def _guard_role(self, role: iam.IRole, label: str) -> None:
        """Keep ``role`` (the default role or a profile's) under this domain's app guardrails and Canvas
        choice. Roles of the caller that are not a :class:`StudioUserRole` get only the instance-type and
        shared-space guardrails."""
        if any(r is role for r, _ in self._guarded):
            return
        self._guarded.append((role, label))
        self._apply_guardrails(role, label)
        canvas = self.__dict__.get("canvas")
        persona = getattr(role, "persona", None)
        if canvas is None or persona is None:
            return
        if persona in tuple(canvas.personas):
            self.grant_canvas(role)

    def _canvas_key_arn(self, canvas: CanvasSettings) -> str:
        """The workspace's key: the workspace bucket's own key, else the domain's."""
        assert canvas.workspace_bucket is not None  # validate_canvas raised for a missing one
        key = canvas.workspace_bucket.encryption_key
        return key.key_arn if key is not None else self.encryption_key.key_arn

    @property
    def canvas_policy(self) -> iam.ManagedPolicy | None:
        """The Canvas policy (child ``Canvas``) once a role has it (:meth:`grant_canvas`), else None."""
        return self._canvas_policy

    def grant_canvas(self, role: iam.IRole, *, role_is_prepared: bool = False) -> iam.ManagedPolicy:
        """Let ``role`` use this domain's Canvas: the Canvas policy (child ``Canvas``, shared by every
        Canvas role: the workspace prefix, the data sources granted, AutoML jobs of this account) and,
        on the role itself, ``iam:PassRole`` of that role to SageMaker only (Canvas's AutoML jobs run
        as the user's execution role: AWS's ``AmazonSageMakerCanvasFullAccess`` grants that PassRole,
        https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonSageMakerCanvasFullAccess.html).
        Called for the :class:`StudioUserRole` s of ``canvas.personas``; call it for a role of yours
        without a persona. A role CDK cannot change is a ``ValidationError`` unless ``role_is_prepared``
        (you gave it what the policy holds: nothing is added or attached). Raises when the domain has
        no ``canvas``."""
        canvas = self.canvas
        if canvas is None:
            raise ValidationError(self, "canvas", None, "CanvasSettings(...) on the domain before grant_canvas()")
        if self._canvas_policy is None:
            self._canvas_policy = recorded_policy(
                self, "Canvas", description="sagemaker-constructs SageMaker Canvas and Data Wrangler",
                statements=canvas_statements(self, canvas, self.domain_id, self._canvas_key_arn(canvas)))
            acknowledge_present_findings(self._canvas_policy, reason=(
                "Canvas names its AutoML jobs, workspace objects and (with Athena/Redshift) queries at run "
                "time: object actions only under the workspace prefix and the granted data buckets, AutoML "
                "jobs of this account and region; sagemaker:ListAutoMLJobs and the Redshift statement reads "
                "(limited to the caller's own statements) have no narrower resource."))
        if not any(r is role for r in self._canvas_roles):
            self._canvas_roles.append(role)
            # Each role may pass only itself: one Canvas user cannot run jobs as another's role.
            changed = add_statements(self, role, [iam.PolicyStatement(
                sid="CanvasPassSelfToSageMaker", actions=["iam:PassRole"], resources=[role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}})],
                role_is_prepared=role_is_prepared, argument="role")
            if changed or can_change(role):  # a role CDK cannot change (prepared) gets nothing attached either
                self._canvas_policy.attach_to_role(role)
        return self._canvas_policy

    def _apply_guardrails(self, role: iam.IRole, label: str) -> None:
        """Add the Deny statements ``role`` is missing (instance types, shared spaces, Canvas)."""
        stack = Stack.of(self)
        app = functools.partial(stack.format_arn, service="sagemaker", resource="app")
        statements: list[iam.PolicyStatement] = []
        if self.allowed_instance_types:
            statements.append(iam.PolicyStatement(
                sid="DenyOtherAppInstanceTypes", effect=iam.Effect.DENY, actions=["sagemaker:CreateApp"],
                resources=[app(resource_name=f"{self.domain_id}/*")],
                conditions={"ForAnyValue:StringNotLike": {"sagemaker:InstanceTypes": list(self.allowed_instance_types)}}))
        persona = getattr(role, "persona", None)
        if persona is not Persona.PLATFORM_ADMIN:
            for space in self._spaces.values():
                members = [m.user_profile_name for m in space.members]
                own = getattr(role, "user_profile_name", None)
                if own is not None and not is_unresolved(own):
                    if own in members:
                        continue
                    conditions = None
                else:
                    conditions = {"StringNotEquals": {"aws:SourceIdentity": members}}
                statements.append(iam.PolicyStatement(
                    sid=f"DenyAppsInSpace{''.join(ch for ch in space.node.id if ch.isalnum())}",
                    # DeleteApp too: it stops the members' running app (StudioUserRole's AppsInSharedSpaces
                    # allows both in every shared space).
                    effect=iam.Effect.DENY, actions=["sagemaker:CreateApp", "sagemaker:DeleteApp"],
                    resources=[app(resource_name=f"{self.domain_id}/{space.space_name}/*")], conditions=conditions))
        canvas = self.__dict__.get("canvas")
        if canvas is not None and persona is not None and persona not in tuple(canvas.personas):
            statements.append(iam.PolicyStatement(
                sid="DenyCanvasApps", effect=iam.Effect.DENY, actions=["sagemaker:CreateApp"],
                resources=canvas_app_arns(self, self.domain_id)))
        if not statements:
            return
        policy = self._guardrails.get(label)
        if policy is None:
            container = self._container("AppGuardrails")
            policy = iam.ManagedPolicy(container, label, description="sagemaker-constructs Studio app guardrails (Deny only)")
            policy.attach_to_role(role)
            self._guardrails[label] = policy
        present = {d.get("Sid") for d in (policy.document.to_json() or {}).get("Statement", [])}
        for statement in statements:
            if statement.sid not in present:
                policy.add_statements(statement)

    def _security_group(self, vpc: ec2.IVpc, endpoint_sg: ec2.ISecurityGroup | None) -> ec2.SecurityGroup:
        sg = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="SageMaker Studio domain: intra-group NFS and app traffic, HTTPS to VPC endpoints",
            allow_all_outbound=False,
        )
        for port, what in ((ec2.Port.tcp(2049), "NFS to the home EFS"),
                           (ec2.Port.tcp_range(8192, 65535), "Studio app-to-app traffic")):
            sg.add_ingress_rule(sg, port, f"{what} within the group")
            sg.add_egress_rule(sg, port, f"{what} within the group")
        allow_https_to_endpoints(self, sg, vpc, endpoint_sg)
        return sg

    def _teardown(self, log_retention: logs.RetentionDays, *, lookup_s3: bool) -> CustomResource:
        provider = TeardownProvider(
            self,
            "TeardownProvider",
            domain_id=self.domain_id,
            domain_arn=self.domain_arn,
            domain_name=self.domain_name,
            vpc=self.vpc,
            encryption_key=self.encryption_key,
            remove_home_efs=self.home_efs_removal_policy == RemovalPolicy.DESTROY,
            log_retention=log_retention,
            subnets=self.subnets,
        )
        properties = {
            "DomainId": self.domain_id,
            "DomainLogicalId": self.cfn_domain.logical_id,
            "DomainDeletionPolicy": Lazy.string(_PolicyName(self.cfn_domain, "deletion_policy")),
            "DomainUpdateReplacePolicy": Lazy.string(_PolicyName(self.cfn_domain, "update_replace_policy")),
            "RemoveHomeEfs": "true" if self.home_efs_removal_policy == RemovalPolicy.DESTROY else "false",
        }
        if lookup_s3:
            properties["S3PrefixListName"] = f"com.amazonaws.{Stack.of(self).region}.s3"
        resource = CustomResource(
            self,
            "Teardown",
            service_token=provider.service_token,
            resource_type=TEARDOWN_RESOURCE_TYPE,
            properties=properties,
        )
        resource.node.add_dependency(self.cfn_domain)
        resource.node.add_dependency(provider.policy)  # the functions' permissions are attached before first use
        return resource
