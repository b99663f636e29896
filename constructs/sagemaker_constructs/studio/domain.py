"""A SageMaker Studio domain that starts inside an isolated VPC and deletes cleanly.

The domain lives here; user profiles in ``profiles.py``; the teardown provider in ``teardown.py``.
"""

from __future__ import annotations

import json
from typing import Sequence

import jsii
from aws_cdk import (
    CfnDeletionPolicy, CfnResource, CustomResource, Duration, IStableStringProducer, Lazy, RemovalPolicy, Stack,
)
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ..errors import ValidationError, check_int_range, check_pattern, is_unresolved
from ..network import allow_https_to_endpoints, private_subnets
from ..security.roles import StudioUserRole
from ..validation.naming import check_name, default_name
from .._internal.grants import TEMPLATE_ID, add_statements
from .profiles import UserProfile
from .teardown import TEARDOWN_RESOURCE_TYPE, TeardownProvider

__all__ = ["StudioDomain", "UserProfile"]


def bucket_statements(scope: Construct, role: iam.Role, buckets: Sequence[s3.IBucket]) -> list[iam.PolicyStatement]:
    """The statements of ``role`` (its managed policies) about ``buckets``: those naming one of the
    buckets, and the KMS ones that let the buckets' objects be read and written."""
    stack = Stack.of(scope)
    arns = [arn if isinstance(arn := stack.resolve(b.bucket_arn), str) else json.dumps(arn, sort_keys=True)
            for b in buckets]
    picked: list[iam.PolicyStatement] = []
    for policy in (getattr(role, "policy", None), getattr(role, "guardrails", None)):
        if not isinstance(policy, (iam.ManagedPolicy, iam.Policy)):
            continue
        for doc in (policy.document.to_json() or {}).get("Statement", []):
            text = json.dumps(stack.resolve(doc), sort_keys=True)
            actions = doc.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            if any(arn in text for arn in arns) or all(a.startswith("kms:") for a in actions):
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
            default persona's prefix guardrails, use of the buckets' keys and ``encryption_key``),
            in its own policy; its other permissions are the caller's.
        :param idle_timeout: idle shutdown of JupyterLab/Code Editor apps, 60 minutes to
            365 days. Default: 1 hour.
        :param home_efs_removal_policy: RETAIN (default) keeps the home EFS on deletion;
            DESTROY deletes it with its mount targets and SageMaker's NFS security groups.
        :param endpoint_security_group: the VPC endpoints' security group (an
            ``IsolatedNetwork``'s ``endpoint_security_group``). Default: HTTPS to the VPC CIDR.
        :param s3_prefix_list_id: the region's S3 prefix list (``pl-...``). Default: looked up
            at deploy time by the teardown provider (needs ``teardown=True``).
        :param data_buckets: buckets the execution role (the default one, or
            ``default_execution_role``) may read and write. Default: none.
        :param job_roles: roles the default execution role may pass to SageMaker for the jobs,
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
        """
        super().__init__(scope, id)
        if encryption_key is None:
            raise ValidationError(self, "encryption_key", None, "a kms.IKey is required")
        check_name(self, "domain_name", domain_name)
        if not idle_timeout.is_unresolved():
            check_int_range(
                self, "idle_timeout (minutes)", idle_timeout.to_minutes(), minimum=MIN_IDLE_MINUTES,
                maximum=MAX_IDLE_MINUTES,
            )
        if posix_user is not None:
            check_int_range(self, "posix_user uid", posix_user[0], minimum=MIN_POSIX_UID, maximum=MAX_POSIX_UID)
            check_int_range(self, "posix_user gid", posix_user[1], minimum=MIN_POSIX_GID, maximum=MAX_POSIX_GID)
        if home_efs_removal_policy not in (RemovalPolicy.RETAIN, RemovalPolicy.DESTROY):
            raise ValidationError(self, "home_efs_removal_policy", home_efs_removal_policy, "RETAIN or DESTROY")
        if s3_prefix_list_id is not None and not is_unresolved(s3_prefix_list_id):
            check_pattern(self, "s3_prefix_list_id", s3_prefix_list_id, r"pl-[0-9a-f]{8,17}",
                          description="a prefix list id such as pl-63a5400a")
        chosen = private_subnets(self, vpc, subnets)

        self.vpc = vpc
        self.encryption_key = encryption_key
        self.subnets = chosen
        self.home_efs_removal_policy = home_efs_removal_policy
        self.domain_name: str = domain_name or default_name(self)
        self._profiles: dict[str, UserProfile] = {}

        self.security_group: ec2.SecurityGroup = self._security_group(vpc, endpoint_security_group)
        idle = sagemaker.CfnDomain.AppLifecycleManagementProperty(
            idle_settings=sagemaker.CfnDomain.IdleSettingsProperty(
                lifecycle_management="ENABLED",
                idle_timeout_in_minutes=idle_timeout.to_minutes(),
                min_idle_timeout_in_minutes=MIN_IDLE_MINUTES,
                max_idle_timeout_in_minutes=idle_timeout.to_minutes(),
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
                        app_lifecycle_management=idle
                    ),
                    code_editor_app_settings=sagemaker.CfnDomain.CodeEditorAppSettingsProperty(
                        app_lifecycle_management=idle
                    ),
                ),
                sagemaker.CfnDomain.DefaultSpaceSettingsProperty(
                    execution_role=role_arn,
                    security_groups=sg_ids,
                    custom_posix_user_config=posix,
                    jupyter_lab_app_settings=sagemaker.CfnDomain.JupyterLabAppSettingsProperty(
                        app_lifecycle_management=idle
                    ),
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
        if default_execution_role is not None and buckets:
            template = default_role(TEMPLATE_ID, buckets)
            statements = bucket_statements(self, template, buckets)
            self.node.try_remove_child(TEMPLATE_ID)
            add_statements(self, default_execution_role, statements, role_is_prepared=role_is_prepared,
                           argument="default_execution_role")
        if default_execution_role is None:
            user_settings, space_settings = settings(self.execution_role.role_arn)
            self.cfn_domain.default_user_settings = user_settings
            self.cfn_domain.default_space_settings = space_settings
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
    def add_user_profile(self, name: str, *, execution_role: iam.IRole | None = None) -> UserProfile:
        """Add a user profile named ``name`` (its construct ID too: keep it stable).

        :param execution_role: Default: the domain's default execution role.
        """
        check_name(self, "user profile name", name)
        if name in self._profiles:
            raise ValidationError(self, "user profile name", name, "each user profile name at most once")
        container = self.node.try_find_child("UserProfiles") or Construct(self, "UserProfiles")
        profile = UserProfile(
            container, name, domain=self, user_profile_name=name, execution_role=execution_role
        )
        self._profiles[name] = profile
        if self.teardown is not None:
            # Deleted before the profiles: CloudFormation deletes dependents first.
            self.teardown.node.add_dependency(profile)
        return profile

    # ------------------------------------------------------------------ internals
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
