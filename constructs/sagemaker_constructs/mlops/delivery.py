"""Deliver approved model versions to many accounts with CDK Pipelines, one environment at a time."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Callable, Sequence

from aws_cdk import Environment, RemovalPolicy, Stack, Stage
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import pipelines
from constructs import Construct

from ..compliance import acknowledge, acknowledge_iam_findings_at_synth, across_packs
from ..errors import ValidationError, check_pattern, is_unresolved
from ..interfaces import IModelPackageGroup
from ..security.bucket import SecureBucket
from ..security.key import PlatformKey
from .promotion import check_parameter_name
from .registry import check_account_ids

#: The context key the pipeline's synth step sets to the approved version ARN (read by app.py).
APPROVED_VERSION_CONTEXT = "sagemaker-constructs:approved-model-package"
#: The context key the synth step sets to the approved version's artifacts (its first container's
#: ``ModelDataUrl``, ``None`` without one), so serving roles may read exactly that object.
APPROVED_ARTIFACTS_CONTEXT = "sagemaker-constructs:approved-model-artifacts"
_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d")
_STAGE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,63}")
_CONNECTION_ARN = re.compile(r"arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}")
#: What a deployment account's model roles read from the artifact bucket and its key.
_ARTIFACT_ACTIONS = ("s3:GetObject",)
_IMAGE_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")


@dataclass(frozen=True)
class DeliveryStage:
    """One environment the pipeline deploys to, in the order given.

    :param name: the stage's name (``Dev``, ``Prod``): its construct id and pipeline stage name.
    :param account: the 12-digit account the serving stacks deploy to (bootstrapped with
        ``cdk bootstrap --trust <pipeline account>``).
    :param region: its region, e.g. ``eu-west-1``.
    :param manual_approval: a manual approval action before the stage. Default: false.
    """

    name: str
    account: str
    region: str
    manual_approval: bool = False


class ModelDeliveryPipeline(Construct):
    """A CDK Pipelines ``CodePipeline`` (child ``Pipeline``) that deploys the serving stacks, with
    the approved model version, to each environment in ``stages`` in turn.

    * Source: ``source`` (:meth:`connection_source` for a CodeConnections connection, or
      :meth:`code_commit_source`): no network at synth.
    * Synth (child step ``Synth``, CodeBuild): reads the approved version ARN from the SSM parameter
      ``approved_version_parameter_name`` (kept by :class:`PromoteOnApproval`) and runs
      ``npx cdk synth -c sagemaker-constructs:approved-model-package=<arn> -c
      sagemaker-constructs:approved-model-artifacts=<its ModelDataUrl>``: the version is a literal in
      each serving template, reviewed and deployed by CloudFormation; the synth role may read only
      that parameter and describe only the group's versions. Then the pipeline updates itself (self-mutation).
    * One pipeline stage per :class:`DeliveryStage` (a ``cdk.Stage`` in that account and region,
      filled by ``serving(stage, delivery_stage)``), after a manual approval when
      ``manual_approval``. CloudFormation deploys with the target account's CDK bootstrap roles,
      never with the pipeline's own permissions; the endpoint's ``DeploymentConfig`` (blue/green,
      auto-rollback) applies.
    * Artifacts: a ``SecureBucket`` (child ``Artifacts``: KMS with a rotating ``PlatformKey``,
      child ``ArtifactsKey``, versioned, access-logged, TLS only), which CDK opens to the target
      accounts' deployment roles.

    Cross-account access is granted narrowly, to exactly the stages' accounts: the model package
    group's resource policy (describe the group and its versions, create models from them;
    ``model_package_group`` must be a ``ModelPackageGroup`` of this app); ``s3:GetObject`` under
    ``artifact_prefix`` of ``artifact_bucket`` and ``kms:Decrypt`` of ``artifact_key`` through S3;
    image pulls from ``image_repositories``. Accounts equal to the pipeline's own get no resource
    policy statement when that account is known.

    Exposes ``code_pipeline`` (``pipelines.CodePipeline``), ``pipeline`` (``codepipeline.Pipeline``,
    for :meth:`PromotionTarget.pipeline_execution`), ``stages`` (the ``cdk.Stage`` by name),
    ``artifact_bucket`` and ``accounts``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        source: pipelines.CodePipelineSource,
        stages: Sequence[DeliveryStage],
        serving: Callable[[Stage, DeliveryStage], None],
        model_package_group: IModelPackageGroup,
        approved_version_parameter_name: str,
        artifact_bucket: s3.IBucket | None = None,
        artifact_prefix: str = "",
        artifact_key: kms.IKey | None = None,
        image_repositories: Sequence[ecr.IRepository] = (),
        approved_version_context: str = APPROVED_VERSION_CONTEXT,
        install_commands: Sequence[str] = ("npm ci", "pip install -r requirements.txt"),
        synth_commands: Sequence[str] | None = None,
        pipeline_name: str | None = None,
        self_mutation: bool = True,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
    ) -> None:
        """
        :param source: the app's repository: :meth:`connection_source` or :meth:`code_commit_source`
            (any ``pipelines.CodePipelineSource`` works).
        :param stages: the environments, deployed in this order; each (account, region) once.
        :param serving: fills each environment's ``cdk.Stage`` with the serving stacks (endpoints whose
            model is ``Model.from_model_package(model_package=<approved version ARN>)``).
        :param model_package_group: the group the versions come from.
        :param approved_version_parameter_name: the SSM parameter holding the approved version ARN
            (``PromoteOnApproval.approved_version_parameter_name``), read by the synth step.
        :param artifact_bucket: the bucket holding the versions' artifacts. Default: none opened.
        :param artifact_prefix: only objects under this prefix are opened. Default: the whole bucket.
        :param artifact_key: the artifacts' KMS key. Default: the bucket's ``encryption_key``.
        :param image_repositories: ECR repositories of the versions' images. Default: none.
        :param approved_version_context: the context key the synth step sets. Default:
            ``sagemaker-constructs:approved-model-package``.
        :param install_commands: Default: ``npm ci`` and ``pip install -r requirements.txt``.
        :param synth_commands: Default: read the parameter, then ``npx cdk synth -c <context>=<arn>``.
        :param pipeline_name: Default: a name CloudFormation generates.
        :param self_mutation: the pipeline updates itself first. Default: true.
        :param log_retention: of the CodeBuild projects' log group (child ``BuildLogs``). Default: 1 year.
        """
        super().__init__(scope, id)
        if not isinstance(source, pipelines.CodePipelineSource):
            raise ValidationError(self, "source", type(source).__name__,
                                  "ModelDeliveryPipeline.connection_source(...) or code_commit_source(...)")
        if serving is None or not callable(serving):
            raise ValidationError(self, "serving", serving, "a function (stage, delivery_stage) that adds the serving stacks")
        if model_package_group is None:
            raise ValidationError(self, "model_package_group", None, "a ModelPackageGroup is required")
        self._check_stages(stages)
        check_parameter_name(self, "approved_version_parameter_name", approved_version_parameter_name)
        self._check_artifact_prefix(artifact_prefix, artifact_bucket)
        if synth_commands is not None and approved_version_context != APPROVED_VERSION_CONTEXT:
            raise ValidationError(self, "approved_version_context", approved_version_context,
                                  "only without synth_commands: the default synth command is what sets this context "
                                  "key (your synth_commands pass the approved version to cdk synth themselves, "
                                  "from $APPROVED_VERSION_PARAMETER)")
        stack = Stack.of(self)
        if is_unresolved(stack.account) or is_unresolved(stack.region):
            raise ValidationError(self, "stack env", f"{stack.account}/{stack.region}",
                                  "the pipeline's stack in an explicit account and region (env=cdk.Environment("
                                  "account=..., region=...)): CodePipeline needs both for cross-account stages")
        own_account = stack.account
        #: The deployment accounts (each once, in stage order).
        self.accounts: list[str] = check_account_ids(self, "stages[].account", [s.account for s in stages])
        foreign = [a for a in self.accounts if a != own_account]
        if foreign:
            self._grant_cross_account(foreign, model_package_group, artifact_bucket, artifact_prefix,
                                      artifact_key, image_repositories)

        self.artifacts_key: PlatformKey = PlatformKey(
            self, "ArtifactsKey", description="Model delivery pipeline: artifacts between its stages and accounts",
            allow_sagemaker=False, allow_cloudtrail=False, allow_cloudwatch_alarms=False, allow_eventbridge=False,
        )
        self.artifact_bucket: SecureBucket = SecureBucket(self, "Artifacts", encryption_key=self.artifacts_key)
        self.build_logs: logs.LogGroup = logs.LogGroup(self, "BuildLogs", encryption_key=self.artifacts_key,
                                        retention=log_retention, removal_policy=RemovalPolicy.RETAIN)
        parameter_arn = stack.format_arn(service="ssm", resource="parameter",
                                         resource_name=approved_version_parameter_name.lstrip("/"))
        commands = list(synth_commands) if synth_commands is not None else [
            'APPROVED="$(aws ssm get-parameter --name "$APPROVED_VERSION_PARAMETER" --query Parameter.Value '
            '--output text)" || { echo "No approved model version yet in $APPROVED_VERSION_PARAMETER: approve one '
            'in the model registry first"; exit 1; }',
            'ARTIFACTS="$(aws sagemaker describe-model-package --model-package-name "$APPROVED" '
            "--query 'InferenceSpecification.Containers[0].ModelDataUrl' --output text)\"",
            f'npx cdk synth -c {shlex.quote(approved_version_context)}="$APPROVED" '
            f'-c {shlex.quote(APPROVED_ARTIFACTS_CONTEXT)}="$ARTIFACTS"',
        ]
        self.synth_step: pipelines.CodeBuildStep = pipelines.CodeBuildStep(
            "Synth", input=source, install_commands=list(install_commands), commands=commands,
            env={"APPROVED_VERSION_PARAMETER": approved_version_parameter_name},
            role_policy_statements=[
                iam.PolicyStatement(actions=["ssm:GetParameter"], resources=[parameter_arn]),
                iam.PolicyStatement(actions=["sagemaker:DescribeModelPackage"],
                                    resources=[model_package_group.model_package_arn_pattern]),
            ],
        )
        defaults = pipelines.CodeBuildOptions(
            build_environment=codebuild.BuildEnvironment(
                build_image=codebuild.LinuxBuildImage.STANDARD_7_0, privileged=False,
                compute_type=codebuild.ComputeType.SMALL),
            logging=codebuild.LoggingOptions(cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=self.build_logs)),
        )
        self.code_pipeline: pipelines.CodePipeline = pipelines.CodePipeline(
            self, "Pipeline", pipeline_name=pipeline_name, synth=self.synth_step, artifact_bucket=self.artifact_bucket,
            self_mutation=self_mutation, code_build_defaults=defaults, docker_enabled_for_synth=False,
            pipeline_type=codepipeline.PipelineType.V2,
            # A stage in another region reads the artifacts from a replication bucket in that region (a
            # support stack CDK creates): cross-account it needs a KMS key there, rotated like ours.
            cross_account_keys=True, enable_key_rotation=True,
        )
        #: The serving ``cdk.Stage`` of each environment, by name.
        self.stages: dict[str, Stage] = {}
        for delivery_stage in stages:
            stage = Stage(self, delivery_stage.name,
                          env=Environment(account=delivery_stage.account, region=delivery_stage.region))
            serving(stage, delivery_stage)
            pre: list[pipelines.Step] = []
            if delivery_stage.manual_approval:
                pre.append(pipelines.ManualApprovalStep(
                    f"Approve{delivery_stage.name}",
                    comment=f"Deploy the approved model version to {delivery_stage.name} "
                            f"({delivery_stage.account}, {delivery_stage.region})?"))
            self.code_pipeline.add_stage(stage, pre=pre)
            self.stages[delivery_stage.name] = stage
        self.code_pipeline.build_pipeline()
        self.pipeline: codepipeline.Pipeline = self.code_pipeline.pipeline
        self._acknowledge_pipeline()

    def _acknowledge_pipeline(self) -> None:
        """What CDK Pipelines generates and cannot be configured away, acknowledged in place."""
        self._role_arns_as_sub()
        # The findings there are now and those added later, with one reason: all computed at
        # validation, and only when a pack can read them.
        acknowledge_iam_findings_at_synth(self.code_pipeline, include_present=True, reason=(
            "Generated by CDK Pipelines for its own roles: artifact-bucket object actions (s3:GetObject*, "
            "s3:List*, s3:DeleteObject*, s3:Abort*) on this pipeline's artifact bucket only, kms:GenerateDataKey*/"
            "ReEncrypt* on its artifacts key only, CodeBuild log groups and report groups named after its own "
            "projects, the describe-only CloudFormation/assume-role actions self-mutation needs on the CDK "
            "bootstrap roles, and the group's versions (model-package/<group>/*) the synth step describes."))
        assets = self.code_pipeline.node.try_find_child("Assets")
        file_role = assets.node.try_find_child("FileRole") if assets is not None else None
        for policy in file_role.node.find_all() if file_role is not None else []:
            if not isinstance(policy, iam.CfnPolicy):
                continue
            acknowledge(policy, reason=(
                "CDK Pipelines' asset-publishing role: it uploads this app's file assets to the target accounts' "
                "CDK bootstrap asset buckets by assuming their file-publishing roles (cdk-*-file-publishing-role-*), "
                "whose names CDK fixes; the uploads themselves are authorised by those roles, not by this policy."),
                checkov=["CKV_AWS_111"])
        for resource in self.code_pipeline.node.find_all():
            if isinstance(resource, iam.CfnPolicy):
                acknowledge(resource, reason=(
                    "CDK Pipelines writes each of its action roles' grants into that role's DefaultPolicy as it "
                    "wires stages together; the policy belongs to exactly one generated role and holds only the "
                    "grants of that action (artifacts, its key, one CodeBuild project or bootstrap role)."),
                    nag=across_packs("IAMNoInlinePolicy"))
            elif isinstance(resource, codebuild.CfnProject):
                acknowledge(resource, reason=(
                    "The project's source is the pipeline's own artifacts (source type CODEPIPELINE), not a "
                    "repository URL: the repository is read by the pipeline's source action through a "
                    "CodeConnections connection (OAuth held by AWS), so no credential is in any URL."),
                    nag=["HIPAA.Security-CodeBuildProjectSourceRepoUrl", "PCI.DSS.321-CodeBuildProjectSourceRepoUrl"])

    def _role_arns_as_sub(self) -> None:
        """Deploy actions' ``Configuration.RoleArn`` as ``Fn::Sub`` (cfn-lint E3703 refuses the
        ``Fn::Join`` with an empty delimiter CDK Pipelines writes there); the same ARN."""
        cfn = self.pipeline.node.default_child
        stack = Stack.of(self)
        for i, stage in enumerate(stack.resolve(cfn.stages) or []):  # type: ignore[union-attr]
            for j, action in enumerate(stage.get("actions") or stage.get("Actions") or []):
                arn = (action.get("configuration") or action.get("Configuration") or {}).get("RoleArn")
                join = arn.get("Fn::Join") if isinstance(arn, dict) else None
                if not join or join[0] != "":
                    continue
                parts = []
                for part in join[1]:
                    if isinstance(part, str):
                        parts.append(part.replace("${", "${!"))
                    elif isinstance(part, dict) and set(part) == {"Ref"}:
                        parts.append("${" + part["Ref"] + "}")
                    elif isinstance(part, dict) and set(part) == {"Fn::GetAtt"}:
                        parts.append("${" + ".".join(part["Fn::GetAtt"]) + "}")
                    else:
                        break
                else:
                    cfn.add_property_override(  # type: ignore[union-attr]
                        f"Stages.{i}.Actions.{j}.Configuration.RoleArn", {"Fn::Sub": "".join(parts)})

    # ------------------------------------------------------------------ sources
    @staticmethod
    def connection_source(repository: str, branch: str, *, connection_arn: str) -> pipelines.CodePipelineSource:
        """A GitHub/GitLab/Bitbucket repository (``owner/name``) through a CodeConnections (or CodeStar
        Connections) connection: ``pipelines.CodePipelineSource.connection``; no network at synth."""
        where = "ModelDeliveryPipeline.connection_source"
        if not is_unresolved(repository) and not re.fullmatch(r"[\w.-]+/[\w.-]+", repository or ""):
            raise ValidationError(where, "repository", repository, "owner/name")
        if not is_unresolved(connection_arn) and not _CONNECTION_ARN.fullmatch(connection_arn or ""):
            raise ValidationError(where, "connection_arn", connection_arn,
                                  "arn:aws:codeconnections:<region>:<account>:connection/<uuid> "
                                  "(or codestar-connections)")
        if not branch:
            raise ValidationError(where, "branch", branch, "a branch name")
        return pipelines.CodePipelineSource.connection(repository, branch, connection_arn=connection_arn)

    @staticmethod
    def code_commit_source(repository: codecommit.IRepository, branch: str) -> pipelines.CodePipelineSource:
        """A CodeCommit repository (``pipelines.CodePipelineSource.code_commit``)."""
        if not branch:
            raise ValidationError("ModelDeliveryPipeline.code_commit_source", "branch", branch, "a branch name")
        return pipelines.CodePipelineSource.code_commit(repository, branch)

    # ------------------------------------------------------------------ checks and grants
    def _check_stages(self, stages: Sequence[DeliveryStage]) -> None:
        if not stages:
            raise ValidationError(self, "stages", [], "at least one DeliveryStage(name, account=, region=)")
        seen_envs: dict[tuple[str, str], str] = {}
        seen_names: set[str] = set()
        for index, stage in enumerate(stages):
            where = f"stages[{index}]"
            if not isinstance(stage, DeliveryStage):
                raise ValidationError(self, where, type(stage).__name__, "a DeliveryStage")
            if not stage.account:
                raise ValidationError(self, f"{where}.account", stage.account,
                                      f"the 12-digit account stage {stage.name!r} deploys to")
            if not stage.region:
                raise ValidationError(self, f"{where}.region", stage.region,
                                      f"the region stage {stage.name!r} deploys to, e.g. eu-west-1")
            check_account_ids(self, f"{where}.account", [stage.account])
            if not is_unresolved(stage.region) and not _REGION.fullmatch(stage.region):
                raise ValidationError(self, f"{where}.region", stage.region, "an AWS region name, e.g. eu-west-1")
            if stage.name is None:
                raise ValidationError(self, f"{where}.name", stage.name, "a stage name")
            check_pattern(self, f"{where}.name", stage.name, _STAGE_NAME.pattern, max_length=64, min_length=1,
                          description="a stage name: a letter, then letters, digits or - (at most 64)")
            if stage.name in seen_names:
                raise ValidationError(self, f"{where}.name", stage.name, "a name no other stage has")
            seen_names.add(stage.name)
            env = (stage.account, stage.region)
            if env in seen_envs:
                raise ValidationError(self, where, f"{stage.name} ({stage.account}, {stage.region})",
                                      f"an account and region no other stage deploys to (stage {seen_envs[env]} does)")
            seen_envs[env] = stage.name

    def _check_artifact_prefix(self, prefix: str, bucket: s3.IBucket | None) -> None:
        """An S3 key prefix (not starting with /, at most 1024 characters), and only with the bucket it
        narrows: without ``artifact_bucket`` nothing is opened, so the prefix would be ignored."""
        if prefix is None or is_unresolved(prefix):
            return
        check_pattern(self, "artifact_prefix", prefix, r"(?!/)[\s\S]*", max_length=1024,
                      description="an S3 key prefix, not starting with /")
        if prefix and bucket is None:
            raise ValidationError(self, "artifact_prefix", prefix,
                                  "only with artifact_bucket (the bucket whose objects under the prefix the stages' "
                                  "accounts may read); without it no artifacts are opened")

    def _grant_cross_account(self, accounts: list[str], group: IModelPackageGroup, bucket: s3.IBucket | None,
                             prefix: str, key: kms.IKey | None, repositories: Sequence[ecr.IRepository]) -> None:
        principals = [iam.AccountPrincipal(a) for a in accounts]
        grant = getattr(group, "grant_cross_account_deployment", None)
        if grant is None:
            raise ValidationError(self, "model_package_group", group.model_package_group_name,
                                  "a ModelPackageGroup of this app (its resource policy opens it to "
                                  f"{', '.join(accounts)}); for a group another app owns, call "
                                  "grant_cross_account_deployment there")
        grant(accounts)
        if bucket is not None:
            added = bucket.add_to_resource_policy(iam.PolicyStatement(
                sid="DeploymentAccountsReadModelArtifacts", principals=principals, actions=list(_ARTIFACT_ACTIONS),
                resources=[bucket.arn_for_objects(f"{prefix}*")]))
            if not added.statement_added:
                raise ValidationError(self, "artifact_bucket", bucket.node.path,
                                      "a bucket of this app (its policy opens the artifacts to the stages' accounts)")
            key = key or bucket.encryption_key
        if key is not None:
            added = key.add_to_resource_policy(iam.PolicyStatement(
                sid="DeploymentAccountsDecryptModelArtifacts", principals=principals,
                actions=["kms:Decrypt", "kms:DescribeKey"], resources=["*"],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{Stack.of(key).region}.amazonaws.com"}}))
            if not added.statement_added:
                raise ValidationError(self, "artifact_key", key.node.path,
                                      "a key of this app (its policy lets the stages' accounts decrypt the artifacts)")
        for repository in repositories:
            added = repository.add_to_resource_policy(iam.PolicyStatement(
                sid="DeploymentAccountsPullImages", principals=principals, actions=list(_IMAGE_ACTIONS)))
            if not added.statement_added:
                raise ValidationError(self, "image_repositories", repository.node.path,
                                      "repositories of this app (their policies let the stages' accounts pull)")

