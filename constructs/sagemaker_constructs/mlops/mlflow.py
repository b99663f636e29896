"""Experiment tracking: a SageMaker managed MLflow tracking server with its artifact store in a
``SecureBucket`` prefix.

Facts used here (CreateMlflowTrackingServer,
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateMlflowTrackingServer.html): sizes
``Small`` (the default), ``Medium`` and ``Large``; names match ``[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}``;
the maintenance window is ``TUE:03:30``-style; the server reads and writes its artifact store with
``RoleArn``, and with ``AutomaticModelRegistration`` registers MLflow models in the SageMaker Model
Registry (a model package group named after the registered model). Clients (Studio users, pipeline
steps) call the ``sagemaker-mlflow:*`` actions on the server's ARN and upload artifacts to the artifact
store themselves (https://docs.aws.amazon.com/sagemaker/latest/dg/mlflow-create-tracking-server-iam.html).
From a VPC-only Studio domain the server is reached through the ``aws.sagemaker.<region>.experiments``
interface endpoint (the network's ``sagemaker.experiments`` service).

A server bills per hour while it runs; ``add_running_schedule`` stops it outside office hours through
EventBridge Scheduler universal targets that call StopMlflowTrackingServer / StartMlflowTrackingServer
(https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StopMlflowTrackingServer.html,
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StartMlflowTrackingServer.html).
"""

from __future__ import annotations

from typing import Any, Sequence, TYPE_CHECKING

from aws_cdk import Aws, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from .._internal.managed_role import recorded_policy, service_role
from .._internal.grants import add_statements
from ..compliance import acknowledge_present_findings, acknowledge_statement_findings
from ..errors import ValidationError, check_choice, check_pattern, is_unresolved
from ..validation.schedules import check_time_zone
from ..validation.naming import default_name
from .schedule import SCHEDULE_PATTERN

if TYPE_CHECKING:
    from ..interfaces import IModelPackageGroup

__all__ = ["MlflowTrackingServer", "TRACKING_SERVER_SIZES"]

#: TrackingServerSize values (CreateMlflowTrackingServer).
TRACKING_SERVER_SIZES = ("Small", "Medium", "Large")
_NAME_PATTERN = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}"
_WINDOW_PATTERN = r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun):([01]\d|2[0-3]):([0-5]\d)"
#: "2.16.2" or "3.0" (CloudFormation's MlflowVersion: ``^\d+(\.\d+)+$``; botocore's: three parts at most).
_MLFLOW_VERSION_PATTERN = r"[0-9]+(\.[0-9]+){1,2}"
#: The EventBridge Scheduler universal target of a SageMaker API action (``<partition>`` filled in).
UNIVERSAL_TARGET = "arn:{partition}:scheduler:::aws-sdk:sagemaker:{action}"

#: What MLflow clients do on a tracking server (the IAM actions of the sagemaker-mlflow service).
MLFLOW_READ_ACTIONS = (
    "sagemaker-mlflow:AccessUI", "sagemaker-mlflow:GetExperiment", "sagemaker-mlflow:GetExperimentByName",
    "sagemaker-mlflow:SearchExperiments", "sagemaker-mlflow:GetRun", "sagemaker-mlflow:SearchRuns",
    "sagemaker-mlflow:GetMetricHistory", "sagemaker-mlflow:ListArtifacts", "sagemaker-mlflow:GetRegisteredModel",
    "sagemaker-mlflow:SearchRegisteredModels", "sagemaker-mlflow:GetLatestModelVersions",
    "sagemaker-mlflow:GetModelVersion", "sagemaker-mlflow:SearchModelVersions",
    "sagemaker-mlflow:GetDownloadURIForModelVersionArtifacts", "sagemaker-mlflow:GetModelVersionByAlias",
    # MLflow 3's logged models (https://docs.aws.amazon.com/online-register/latest/data-formats/amazonsagemakerwithmlflow.html)
    "sagemaker-mlflow:GetLoggedModel", "sagemaker-mlflow:SearchLoggedModels", "sagemaker-mlflow:ListLoggedModelArtifacts",
)
#: The MLflow actions with no resource type: allowed only on "*"
#: (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemakerwithmlflow.html).
MLFLOW_UNSCOPED_ACTIONS = ("sagemaker-mlflow:AccessUI",)
MLFLOW_WRITE_ACTIONS = (
    "sagemaker-mlflow:CreateExperiment", "sagemaker-mlflow:UpdateExperiment", "sagemaker-mlflow:SetExperimentTag",
    "sagemaker-mlflow:CreateRun", "sagemaker-mlflow:UpdateRun", "sagemaker-mlflow:LogMetric",
    "sagemaker-mlflow:LogParam", "sagemaker-mlflow:LogBatch", "sagemaker-mlflow:LogModel",
    "sagemaker-mlflow:LogInputs", "sagemaker-mlflow:SetTag", "sagemaker-mlflow:DeleteTag",
    "sagemaker-mlflow:CreateRegisteredModel", "sagemaker-mlflow:UpdateRegisteredModel",
    "sagemaker-mlflow:SetRegisteredModelTag", "sagemaker-mlflow:SetRegisteredModelAlias",
    "sagemaker-mlflow:CreateModelVersion", "sagemaker-mlflow:UpdateModelVersion",
    "sagemaker-mlflow:TransitionModelVersionStage",
)


class MlflowTrackingServer(Construct):
    """A SageMaker managed MLflow tracking server whose artifacts stay in your bucket and key.

    Default settings:

    * size ``Small`` (``size``), the service's default MLflow version;
    * artifact store ``s3://<artifact_bucket>/<artifact_prefix>`` (default ``mlflow``): a
      ``SecureBucket`` encrypted with ``encryption_key``;
    * the server's role (child ``Role``, or ``role``): trusted by SageMaker in this account only; reads
      and writes only the artifact prefix and uses only the key (and the bucket's key);
    * automatic model registration off; with ``model_package_groups`` it is on and the role may register
      versions only in those groups (MLflow registers a model in the group named like it);
    * ``grant_access(role)``: the MLflow actions on this server (read-only with ``read_only=True``),
      a presigned UI URL, and the artifact prefix with the key (clients upload artifacts themselves).

    Exposes ``tracking_server_name``, ``tracking_server_arn``, ``tracking_uri`` (the ARN, what
    ``mlflow.set_tracking_uri`` takes with the ``sagemaker-mlflow`` plugin), ``artifact_store_uri``,
    ``role`` and ``cfn_tracking_server``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        artifact_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        size: str = "Small",
        artifact_prefix: str = "mlflow",
        tracking_server_name: str | None = None,
        mlflow_version: str | None = None,
        model_package_groups: Sequence["IModelPackageGroup"] = (),
        weekly_maintenance_window_start: str | None = None,
        role: iam.IRole | None = None,
        role_is_prepared: bool = False,
    ) -> None:
        """
        :param artifact_bucket: the artifact store's bucket (a ``SecureBucket``).
        :param encryption_key: the key of the artifact objects (required).
        :param size: ``"Small"``, ``"Medium"`` or ``"Large"``. Default: ``"Small"``.
        :param artifact_prefix: key prefix of the artifact store. Default: ``"mlflow"``.
        :param tracking_server_name: Default: a unique name derived from the construct path.
        :param mlflow_version: e.g. ``"2.16.2"`` or ``"3.0"``. Default: the service's default version.
        :param model_package_groups: turn automatic model registration on, into these groups only.
            Default: none, registration off.
        :param weekly_maintenance_window_start: e.g. ``"Tue:03:30"`` (UTC). Default: chosen by SageMaker.
        :param role: the server's role. Default: a new role (child ``Role``). A role given here gets the
            same statements, in its own policy.
        :param role_is_prepared: ``role`` already has them (roles CDK cannot change). Default: false.
        """
        super().__init__(scope, id)
        if encryption_key is None:
            raise ValidationError(self, "encryption_key", None, "a kms.IKey is required")
        if artifact_bucket is None:
            raise ValidationError(self, "artifact_bucket", None, "an s3.IBucket (a SecureBucket) is required")
        check_choice(self, "size", size, TRACKING_SERVER_SIZES)
        check_pattern(self, "tracking_server_name", tracking_server_name, _NAME_PATTERN, max_length=256,
                      description="1-256 letters, digits and hyphens, starting and ending with a letter or digit")
        check_pattern(self, "mlflow_version", mlflow_version, _MLFLOW_VERSION_PATTERN, max_length=16,
                      description="a version such as 2.16.2 or 3.0")
        check_pattern(self, "weekly_maintenance_window_start", weekly_maintenance_window_start, _WINDOW_PATTERN,
                      description="Day:HH:MM in UTC, e.g. Tue:03:30")
        prefix = artifact_prefix.strip("/")
        if not prefix and not is_unresolved(artifact_prefix):
            raise ValidationError(self, "artifact_prefix", artifact_prefix, "a non-empty key prefix")

        self.encryption_key: kms.IKey = encryption_key
        self.artifact_bucket: s3.IBucket = artifact_bucket
        self.artifact_prefix = prefix
        self.size: str = size
        self.tracking_server_name: str = tracking_server_name or default_name(self)
        self.artifact_store_uri: str = artifact_bucket.s3_url_for_object(prefix)
        groups = list(model_package_groups)

        statements = [
            iam.PolicyStatement(sid="ArtifactObjects",
                                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                                resources=[artifact_bucket.arn_for_objects(f"{prefix}/*")]),
            iam.PolicyStatement(sid="ArtifactBucket", actions=["s3:ListBucket", "s3:GetBucketLocation"],
                                resources=[artifact_bucket.bucket_arn]),
            iam.PolicyStatement(sid="ArtifactKey",
                                actions=["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                                resources=self._keys()),
        ]
        if groups:
            statements.append(iam.PolicyStatement(
                sid="RegisterModels",
                actions=["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackageGroup",
                         "sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage", "sagemaker:AddTags"],
                resources=[r for g in groups for r in (g.model_package_group_arn, g.model_package_arn_pattern)],
            ))
        if role is None:
            created, policy = service_role(
                self, "Role", "Policy", service="sagemaker.amazonaws.com",
                description=f"SageMaker managed MLflow tracking server {self.tracking_server_name}",
                statements=statements)
            self.policy: iam.ManagedPolicy | None = policy
            acknowledge_present_findings(self.policy, reason=(
                "MLflow names artifact objects by experiment and run id at run time: object actions on this "
                "server's artifact prefix only (<prefix>/*); model versions of the given groups only (<group>/*)."))
            policies: list[Any] = [self.policy]
            self.role: iam.IRole = created
        else:
            self.policy = None
            policies = add_statements(self, role, statements, role_is_prepared=role_is_prepared)
            self.role = role
        self.cfn_tracking_server: sagemaker.CfnMlflowTrackingServer = sagemaker.CfnMlflowTrackingServer(
            self,
            "Resource",
            tracking_server_name=self.tracking_server_name,
            artifact_store_uri=self.artifact_store_uri,
            role_arn=self.role.role_arn,
            tracking_server_size=size,
            mlflow_version=mlflow_version,
            automatic_model_registration=bool(groups),
            weekly_maintenance_window_start=weekly_maintenance_window_start,
        )
        for policy in policies:
            self.cfn_tracking_server.node.add_dependency(policy)

    @property
    def tracking_server_arn(self) -> str:
        return self.cfn_tracking_server.attr_tracking_server_arn

    @property
    def tracking_uri(self) -> str:
        """What MLflow clients pass to ``mlflow.set_tracking_uri`` (the server's ARN)."""
        return self.tracking_server_arn

    def add_running_schedule(self, id: str = "OfficeHours", *, start: str, stop: str,
                             time_zone: str | None = None) -> list[scheduler.CfnSchedule]:
        """Run the server only between ``start`` and ``stop``. A server is billed per hour while it
        runs: one that runs on weekdays 08:00-18:00 runs 50 of the week's 168 hours (the cost estimate
        prices it by those running hours, ``cost.estimator``).

        Two EventBridge Scheduler schedules (children ``<id>Start`` and ``<id>Stop``, returned in that
        order) call the universal targets ``arn:<partition>:scheduler:::aws-sdk:sagemaker:startMlflowTrackingServer``
        and ``...:stopMlflowTrackingServer`` with the input ``{"TrackingServerName": <name>}``
        (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-universal.html;
        StartMlflowTrackingServer and StopMlflowTrackingServer take only ``TrackingServerName``:
        https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StartMlflowTrackingServer.html,
        https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StopMlflowTrackingServer.html).
        Their role (child ``<id>Role``, policy ``<id>Policy``) may call only those two actions on this
        server, and use ``encryption_key`` (the schedules' target input is encrypted with it). Flexible
        time window off; a failed call is retried for up to an hour (10 attempts), so a stop that keeps
        failing never lands in the next office hours.

        What to expect:

        * starting is not instant: the server goes through ``Starting`` before ``Started`` (the
          TrackingServerStatus values of the SageMaker API) and takes some minutes, for which the API
          pages give no figure (not verified): set ``start`` a little before people need it; until then
          MLflow clients and the presigned UI URL fail;
        * a deploy that changes the server (``cdk deploy`` updating size, registration or maintenance
          window) while it is stopped: what the service does then is not stated in the AWS pages found
          (not verified; deploy during office hours). Users report that StopMlflowTrackingServer is
          refused while a server is ``Updating`` (https://github.com/aws/amazon-sagemaker-feedback/issues/104),
          so a stop that fires during such a deploy can fail and the server keeps running (and billing)
          until the next stop;
        * a server started or stopped by hand stays so until the next schedule fires.

        :param id: the schedules' id prefix. Default: ``"OfficeHours"``.
        :param start: when to start, an EventBridge Scheduler ``cron(<minutes> <hours> <day-of-month>
            <month> <day-of-week> <year>)`` expression, e.g. ``"cron(0 8 ? * MON-FRI *)"``
            (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html).
        :param stop: when to stop, the same form, e.g. ``"cron(0 18 ? * MON-FRI *)"``.
        :param time_zone: the IANA time zone both expressions are in (e.g. ``"Europe/Berlin"``; Scheduler
            follows its daylight-saving changes). Default: UTC.
        :raises ValidationError: an expression that is not ``cron(...)`` (``rate(...)`` included: office
            hours are times of day), ``start`` equal to ``stop``, an unknown time zone, or an ``id``
            already used on this server. Unresolved Tokens pass.
        """
        check_pattern(self, "id", id, r"[A-Za-z][A-Za-z0-9]*", max_length=64,
                      description="a construct id prefix: a letter, then letters and digits")
        if self.node.try_find_child(f"{id}Start") is not None or self.node.try_find_child(f"{id}Role") is not None:
            raise ValidationError(self, "id", id, "an id not yet used by add_running_schedule on this server")
        for argument, expression in (("start", start), ("stop", stop)):
            if expression is None:
                raise ValidationError(self, argument, None, "an EventBridge Scheduler cron(<6 fields>) expression")
            check_pattern(self, argument, expression, SCHEDULE_PATTERN,
                          description="an EventBridge Scheduler cron(<6 fields>) expression")
            if not is_unresolved(expression) and not expression.startswith("cron("):
                raise ValidationError(self, argument, expression,
                                      "a cron(<6 fields>) expression: a rate() schedule cannot name the times of day "
                                      "a server starts and stops")
        if not is_unresolved(start) and not is_unresolved(stop) and start == stop:
            raise ValidationError(self, "stop", stop, f"a different time from start ({start})")
        check_time_zone(self, "time_zone", time_zone)
        role, policy = service_role(
            self, f"{id}Role", f"{id}Policy", service="scheduler.amazonaws.com",
            description=f"EventBridge Scheduler: start and stop MLflow tracking server {self.tracking_server_name}",
            statements=[
                iam.PolicyStatement(actions=["sagemaker:StartMlflowTrackingServer", "sagemaker:StopMlflowTrackingServer"],
                                    resources=[self.tracking_server_arn]),
                iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"],
                                    resources=[self.encryption_key.key_arn]),
            ])
        payload = Stack.of(self).to_json_string({"TrackingServerName": self.tracking_server_name})
        schedules = []
        for suffix, action, expression in (("Start", "startMlflowTrackingServer", start),
                                           ("Stop", "stopMlflowTrackingServer", stop)):
            schedule = scheduler.CfnSchedule(
                self,
                f"{id}{suffix}",
                description=f"{suffix}s the MLflow tracking server {self.tracking_server_name} ({id})",
                schedule_expression=expression,
                schedule_expression_timezone=time_zone,
                flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
                kms_key_arn=self.encryption_key.key_arn,
                target=scheduler.CfnSchedule.TargetProperty(
                    arn=UNIVERSAL_TARGET.format(partition=Aws.PARTITION, action=action),
                    role_arn=role.role_arn,
                    input=payload,
                    retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                        maximum_event_age_in_seconds=3600, maximum_retry_attempts=10),
                ),
            )
            schedule.node.add_dependency(policy)
            schedule.node.add_dependency(self.cfn_tracking_server)
            schedules.append(schedule)
        return schedules

    def _keys(self) -> list[str]:
        keys = [self.encryption_key.key_arn]
        if self.artifact_bucket.encryption_key is not None:
            keys.append(self.artifact_bucket.encryption_key.key_arn)
        return list(dict.fromkeys(keys))

    def grant_access(self, grantee: iam.IGrantable, *, read_only: bool = False, role_is_prepared: bool = False,
                     ) -> iam.ManagedPolicy | iam.Policy | iam.Grant | None:
        """Let ``grantee`` (a Studio user role, a pipeline or job role) use this server: the MLflow actions
        on its ARN (read-only with ``read_only``), a presigned UI URL, and the artifact prefix with the key.

        A role of this app gets them in a managed policy of this construct (child ``Access<n>``,
        returned), so roles whose own managed policy is near IAM's size limit (a ``StudioUserRole``)
        still fit; an imported role in its own policy, and one CDK cannot change (``mutable=False``,
        another account) raises ``ValidationError`` listing the actions, unless ``role_is_prepared``
        (you granted them; nothing is added, None); any other grantee through ``iam.Grant``."""
        grantee_arn = getattr(grantee, "role_arn", None)
        if (self.policy is None and not isinstance(self.role, iam.Role) and grantee_arn is not None
                and grantee_arn == self.role.role_arn):
            # The server waits for the statements it was given in that role's one CDK policy; the grant
            # would put the server's ARN in the same policy: a cycle CloudFormation refuses to deploy.
            raise ValidationError(
                self, "grantee", grantee_arn,
                "a role other than the server's own imported role: that role's policy holds the server's "
                "statements, which the server waits for, and this grant would name the server's ARN in the same "
                "policy (a circular dependency). Pass the server an iam.Role of this app, grant the MLflow "
                "actions to this role outside CDK, or use another role for the clients")
        actions = [*MLFLOW_READ_ACTIONS, *([] if read_only else MLFLOW_WRITE_ACTIONS)]
        object_actions = ["s3:GetObject"] if read_only else ["s3:GetObject", "s3:PutObject"]
        key_actions = ["kms:Decrypt", "kms:DescribeKey"] + ([] if read_only else ["kms:GenerateDataKey", "kms:Encrypt"])
        scoped = [a for a in actions if a not in MLFLOW_UNSCOPED_ACTIONS]
        statements = [
            iam.PolicyStatement(sid="UseTrackingServer", actions=[
                *scoped, "sagemaker:DescribeMlflowTrackingServer", "sagemaker:CreatePresignedMlflowTrackingServerUrl"],
                resources=[self.tracking_server_arn]),
            # The UI (opened through the presigned URL above) has no resource type: an ARN never matches.
            iam.PolicyStatement(sid="OpenTheMlflowUi", actions=list(MLFLOW_UNSCOPED_ACTIONS), resources=["*"]),
            iam.PolicyStatement(sid="Artifacts", actions=object_actions,
                                resources=[self.artifact_bucket.arn_for_objects(f"{self.artifact_prefix}/*")]),
            iam.PolicyStatement(sid="ArtifactKey", actions=key_actions, resources=self._keys()),
        ]
        return grant_with_policy(self, grantee, statements, role_is_prepared=role_is_prepared, reason=(
            "MLflow clients upload artifacts under run-specific keys chosen at run time: object actions on "
            "this server's artifact prefix only (<prefix>/*). sagemaker-mlflow:AccessUI has no resource type "
            "in the Service Authorization Reference, so it is allowed on * (a read of the UI; every MLflow "
            "API action stays on this server's ARN)."))


def grant_with_policy(owner: Construct, grantee: iam.IGrantable, statements: list[iam.PolicyStatement], *,
                      reason: str, role_is_prepared: bool = False,
                      ) -> iam.ManagedPolicy | iam.Policy | iam.Grant | None:
    """``statements`` for ``grantee``:

    * a role of this app (``iam.Role``) gets a managed policy (child ``Access<n>`` of ``owner``,
      returned), so a role whose own policy is near IAM's size limit (a ``StudioUserRole``) still fits;
    * an imported role gets them in its policy the way every construct of ours adds to a supplied
      role (``_internal.grants.add_statements``): a role CDK cannot change (``mutable=False``, another
      account, ``without_policy_updates()``) is refused with the actions it needs, unless
      ``role_is_prepared`` says they were granted outside CDK (then nothing is added: None);
    * any other grantee (a user, a group, a principal) ``iam.Grant`` s (the last one returned).
    """
    role = grantee if hasattr(grantee, "role_arn") and hasattr(grantee, "role_name") else None
    if role is None:
        grant = None
        for statement in statements:
            doc = statement.to_statement_json()
            actions = doc["Action"] if isinstance(doc["Action"], list) else [doc["Action"]]
            resources = doc["Resource"] if isinstance(doc["Resource"], list) else [doc["Resource"]]
            grant = iam.Grant.add_to_principal(grantee=grantee, actions=actions, resource_arns=resources)
        assert grant is not None  # both callers (MLflow, feature store) pass at least one statement
        return grant
    if not isinstance(role, iam.Role):
        policies = add_statements(owner, role, statements, role_is_prepared=role_is_prepared, argument="grantee")
        for policy in policies:
            # The imported role's policy may hold the caller's own statements: only ours are acknowledged.
            acknowledge_statement_findings(policy, statements, reason=reason)
        return policies[0] if policies else None  # type: ignore[return-value]
    index = sum(1 for c in owner.node.children if c.node.id.startswith("Access"))
    policy = recorded_policy(owner, f"Access{index}", statements=statements, roles=[role])
    acknowledge_present_findings(policy, reason=reason)
    return policy
