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
"""

from __future__ import annotations

from typing import Any, Sequence, TYPE_CHECKING

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from .._internal.managed_role import service_role
from .._internal.grants import add_statements
from ..compliance import acknowledge_iam_findings, acknowledge_statement_findings
from ..errors import ValidationError, check_choice, check_pattern, is_unresolved
from ..validation.naming import default_name

if TYPE_CHECKING:
    from ..interfaces import IModelPackageGroup

__all__ = ["MlflowTrackingServer", "TRACKING_SERVER_SIZES"]

#: TrackingServerSize values (CreateMlflowTrackingServer).
TRACKING_SERVER_SIZES = ("Small", "Medium", "Large")
_NAME_PATTERN = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}"
_WINDOW_PATTERN = r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun):([01]\d|2[0-3]):([0-5]\d)"
_MLFLOW_VERSION_PATTERN = r"[0-9]+\.[0-9]+\.[0-9]+"

#: What MLflow clients do on a tracking server (the IAM actions of the sagemaker-mlflow service).
MLFLOW_READ_ACTIONS = (
    "sagemaker-mlflow:AccessUI", "sagemaker-mlflow:GetExperiment", "sagemaker-mlflow:GetExperimentByName",
    "sagemaker-mlflow:SearchExperiments", "sagemaker-mlflow:GetRun", "sagemaker-mlflow:SearchRuns",
    "sagemaker-mlflow:GetMetricHistory", "sagemaker-mlflow:ListArtifacts", "sagemaker-mlflow:GetRegisteredModel",
    "sagemaker-mlflow:SearchRegisteredModels", "sagemaker-mlflow:GetLatestModelVersions",
    "sagemaker-mlflow:GetModelVersion", "sagemaker-mlflow:SearchModelVersions",
    "sagemaker-mlflow:GetDownloadURIForModelVersionArtifacts", "sagemaker-mlflow:GetModelVersionByAlias",
)
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
        :param mlflow_version: e.g. ``"2.16.2"``. Default: the service's default version.
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
                      description="a version such as 2.16.2")
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
            acknowledge_iam_findings(self.policy, reason=(
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
        actions = [*MLFLOW_READ_ACTIONS, *([] if read_only else MLFLOW_WRITE_ACTIONS)]
        object_actions = ["s3:GetObject"] if read_only else ["s3:GetObject", "s3:PutObject"]
        key_actions = ["kms:Decrypt", "kms:DescribeKey"] + ([] if read_only else ["kms:GenerateDataKey", "kms:Encrypt"])
        statements = [
            iam.PolicyStatement(sid="UseTrackingServer", actions=[
                *actions, "sagemaker:DescribeMlflowTrackingServer", "sagemaker:CreatePresignedMlflowTrackingServerUrl"],
                resources=[self.tracking_server_arn]),
            iam.PolicyStatement(sid="Artifacts", actions=object_actions,
                                resources=[self.artifact_bucket.arn_for_objects(f"{self.artifact_prefix}/*")]),
            iam.PolicyStatement(sid="ArtifactKey", actions=key_actions, resources=self._keys()),
        ]
        return grant_with_policy(self, grantee, statements, role_is_prepared=role_is_prepared, reason=(
            "MLflow clients upload artifacts under run-specific keys chosen at run time: object actions on "
            "this server's artifact prefix only (<prefix>/*)."))


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
    policy = iam.ManagedPolicy(owner, f"Access{index}", statements=statements, roles=[role])
    acknowledge_iam_findings(policy, reason=reason)
    return policy
