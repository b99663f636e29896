"""SageMaker Canvas (and Data Wrangler, which lives inside Canvas) in a :class:`StudioDomain`.

CloudFormation's ``AWS::SageMaker::Domain`` has no ``CanvasAppSettings`` (aws-cdk-lib 2.275's
``CfnDomain.UserSettingsProperty`` has none), so the domain's default user settings get them from a
custom resource (``Custom::CanvasSettings``, handler ``handlers/canvas_settings.py``) that calls
``UpdateDomain`` (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateDomain.html) with
``DefaultUserSettings.CanvasAppSettings`` only
(https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CanvasAppSettings.html).

Idle shutdown: the ``UpdateDomain`` API has no idle setting for Canvas (botocore's
``CanvasAppSettings`` has none; ``AppLifecycleManagement.IdleSettings`` exists only for JupyterLab and
Code Editor), so ``CanvasSettings.idle_timeout`` builds :class:`CanvasIdleShutdown` (child
``CanvasIdleShutdown`` of the domain): a scheduled, hardened function that deletes the Canvas app of
users whose ``TimeSinceLastActive`` metric reached the timeout, as AWS's sample does
(https://github.com/aws-samples/sagemaker-canvas-auto-shutdown-on-idle).

Who may use Canvas is decided by the execution roles: the roles of the personas in
``CanvasSettings.personas`` get the Canvas policy (child ``Canvas/Policy``); the other
:class:`StudioUserRole` roles of the domain are denied creating Canvas apps.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import jsii
from aws_cdk import ArnFormat, Aws, CustomResource, Duration, IStableStringProducer, Lazy, Stack, Token
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import custom_resources as cr
from constructs import Construct

from .._internal.functions import SecureFunction, function_log_group, hardened_function
from .._internal.managed_role import add_known_statements, service_role
from ..errors import ValidationError, is_unresolved
from ..validation.checks import arn_account, check_int_range, duration_to_seconds
from ..security.bucket import SecureBucket
from ..security.key import check_key_not_alias
from ..security.roles import Persona
from .teardown import STACK_READ_ACTIONS, acknowledge_provider

if TYPE_CHECKING:
    from ..interfaces import IModelPackageGroup

__all__ = ["CANVAS_SETTINGS_RESOURCE_TYPE", "CanvasIdleShutdown", "CanvasSettings"]

#: The custom resource type that applies a domain's Canvas settings.
CANVAS_SETTINGS_RESOURCE_TYPE = "Custom::CanvasSettings"
#: Range of ``CanvasSettings.idle_timeout`` in minutes: the range SageMaker allows for the idle
#: shutdown of Studio's other apps (IdleSettings.IdleTimeoutInMinutes, 60-525600,
#: https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_IdleSettings.html).
MIN_CANVAS_IDLE_MINUTES, MAX_CANVAS_IDLE_MINUTES = 60, 525_600
#: How often the idle shutdown looks at the domain's Canvas apps.
CANVAS_IDLE_CHECK_INTERVAL = Duration.minutes(15)


@dataclass(frozen=True)
class CanvasSettings:
    """Canvas for chosen personas, with its workspace in a bucket prefix (``StudioDomain(canvas=...)``).

    Default settings: Canvas for ``Persona.DATA_SCIENTIST``; the workspace (datasets, models, Data
    Wrangler flows) under ``workspace_prefix`` of ``workspace_bucket``, encrypted with the bucket's key
    (or the domain's); time-series forecasting on; model registration off unless
    ``model_package_group`` is given (then only into that group); direct deployment to endpoints off;
    Amazon Kendra, Amazon Bedrock (generative AI), EMR Serverless and the Snowflake/Salesforce OAuth
    data sources off; Data Wrangler reads only ``data_buckets`` (and Athena or Redshift when asked);
    a user's Canvas app is shut down after ``idle_timeout`` (2 hours) without activity.
    """

    #: The workspace's bucket (a ``SecureBucket``). Required.
    workspace_bucket: s3.IBucket | None = None
    #: Key prefix of the workspace in the bucket. Default: ``"canvas"``.
    workspace_prefix: str = "canvas"
    #: Personas whose :class:`StudioUserRole` may use Canvas. Default: data scientists.
    personas: Sequence[Persona] = (Persona.DATA_SCIENTIST,)
    #: Time-series forecasting. Default: on.
    time_series_forecasting: bool = True
    #: Register Canvas models into this group (and no other). Default: registration off.
    model_package_group: "IModelPackageGroup | None" = None
    #: Role Canvas uses to register into a group of another account (``CrossAccountModelRegisterRoleArn``).
    #: Required when ``model_package_group`` is in another account. Default: none.
    cross_account_register_role: iam.IRole | None = None
    #: Let Canvas users deploy models to endpoints themselves. Default: off.
    direct_deploy: bool = False
    #: Amazon Bedrock role for Canvas's generative AI features. Default: none, generative AI off.
    bedrock_role: iam.IRole | None = None
    #: Amazon Kendra document querying. Default: off.
    kendra: bool = False
    #: Buckets Data Wrangler and Canvas may read datasets from. Default: none (only the workspace).
    data_buckets: Sequence[s3.IBucket] = field(default_factory=tuple)
    #: Athena (and the Glue catalog) as a data source. Default: off.
    athena: bool = False
    #: Amazon Redshift as a data source (``redshift-data`` and temporary credentials). Default: off.
    redshift: bool = False
    #: Shut a user's Canvas app down (``DeleteApp``) once Canvas's ``TimeSinceLastActive`` metric says the
    #: user has been idle this long, 1 hour to 365 days in whole minutes; ``None``: never. A workspace
    #: instance is billed for as long as the app runs; deleting the app keeps the user's models and
    #: datasets, and standard builds continue, but it cancels Quick builds and a relaunch takes 3-8
    #: minutes (https://docs.aws.amazon.com/sagemaker/latest/dg/canvas-log-out.html). Checked every 15
    #: minutes (:class:`CanvasIdleShutdown`). Default: 2 hours (the default of AWS's Canvas idle-shutdown
    #: sample; longer than Studio's 1 hour because a relaunch costs minutes and cancels Quick builds).
    idle_timeout: Duration | None = Duration.hours(2)
    #: Notified when the idle shutdown fails (the alarm on its dead-letter queue). Default: none (the
    #: alarm's state is visible in CloudWatch).
    alarm_topic: sns.ITopic | None = None

    def app_settings(self, key_arn: str) -> dict[str, Any]:
        """``CanvasAppSettings`` as UpdateDomain takes them."""
        status = {True: "ENABLED", False: "DISABLED"}
        assert self.workspace_bucket is not None  # validate() raised for a missing one (StudioDomain ran it)
        settings: dict[str, Any] = {
            "WorkspaceSettings": {
                "S3ArtifactPath": self.workspace_bucket.s3_url_for_object(self.workspace_prefix.strip("/")),
                "S3KmsKeyId": key_arn,
            },
            "TimeSeriesForecastingSettings": {"Status": status[self.time_series_forecasting]},
            "ModelRegisterSettings": {"Status": status[self.model_package_group is not None]},
            "DirectDeploySettings": {"Status": status[self.direct_deploy]},
            "KendraSettings": {"Status": status[self.kendra]},
            "EmrServerlessSettings": {"Status": "DISABLED"},
            "IdentityProviderOAuthSettings": [
                {"DataSourceName": name, "Status": "DISABLED"} for name in ("SalesforceGenie", "Snowflake")
            ],
        }
        if self.cross_account_register_role is not None:
            settings["ModelRegisterSettings"]["CrossAccountModelRegisterRoleArn"] = \
                self.cross_account_register_role.role_arn
        if self.bedrock_role is not None:
            settings["GenerativeAiSettings"] = {"AmazonBedrockRoleArn": self.bedrock_role.role_arn}
        return settings

    def passed_roles(self) -> list[iam.IRole]:
        return [r for r in (self.cross_account_register_role, self.bedrock_role) if r is not None]


def validate(scope: Construct, settings: CanvasSettings) -> None:
    """Raise :class:`ValidationError` for settings that cannot work."""
    if not isinstance(settings, CanvasSettings):
        raise ValidationError(scope, "canvas", settings, "a CanvasSettings(...)")
    if settings.workspace_bucket is None:
        raise ValidationError(scope, "canvas.workspace_bucket", None,
                              "Canvas needs a workspace location: a bucket (a SecureBucket) for its datasets and models")
    if not settings.workspace_prefix.strip("/") and not is_unresolved(settings.workspace_prefix):
        raise ValidationError(scope, "canvas.workspace_prefix", settings.workspace_prefix, "a non-empty key prefix")
    if settings.idle_timeout is not None:
        validate_idle_timeout(scope, "canvas.idle_timeout", settings.idle_timeout)
    # The Canvas policy grants use of the buckets' keys: an alias's ARN there gives no use of the key.
    for argument, bucket in (("canvas.workspace_bucket", settings.workspace_bucket),
                             *(("canvas.data_buckets", b) for b in settings.data_buckets)):
        if not isinstance(bucket, SecureBucket) and bucket.encryption_key is not None:
            check_key_not_alias(scope, f"{argument} ({bucket.node.path} encryption_key)", bucket.encryption_key)
    personas = list(settings.personas)
    if not personas or any(not isinstance(p, Persona) for p in personas):
        raise ValidationError(scope, "canvas.personas", personas,
                              "one or more of " + ", ".join(f"Persona.{p.name}" for p in Persona))
    group = settings.model_package_group
    if group is None and settings.cross_account_register_role is not None:
        # Registration is off without a group (ModelRegisterSettings DISABLED): the role was silently
        # written next to the DISABLED status, passed to SageMaker, and never used.
        raise ValidationError(scope, "canvas.cross_account_register_role", settings.cross_account_register_role.node.path,
                              "only with model_package_group= (the group of the role's account Canvas registers into)")
    if group is not None and settings.cross_account_register_role is None:
        arn, account = group.model_package_group_arn, Stack.of(scope).account
        if not is_unresolved(account):
            group_account = arn_account(arn)
            if group_account and group_account != account:
                raise ValidationError(
                    scope, "canvas.model_package_group", arn,
                    f"a group in this account ({account}), or a group of account {group_account} together with "
                    "cross_account_register_role= (a role of that account whose policy lets Canvas register "
                    "model versions there, trusted by this account)")



def canvas_statements(scope: Construct, settings: CanvasSettings, domain_id: str,
                      key_arn: str) -> list[iam.PolicyStatement]:
    """What a Canvas user's execution role needs beyond :class:`StudioUserRole` (a scoped-down
    ``AmazonSageMakerCanvasFullAccess``, https://docs.aws.amazon.com/sagemaker/latest/dg/security-iam-awsmanpol-canvas.html)."""
    stack = Stack.of(scope)
    bucket = settings.workspace_bucket
    assert bucket is not None  # validate() raised for a missing one (StudioDomain ran it)
    prefix = settings.workspace_prefix.strip("/")
    keys = [key_arn] + [b.encryption_key.key_arn for b in (bucket, *settings.data_buckets)
                        if b.encryption_key is not None]
    automl = [stack.format_arn(service="sagemaker", resource="automl-job", resource_name="*")]
    statements = [
        iam.PolicyStatement(sid="CanvasWorkspaceObjects",
                            actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                            resources=[bucket.arn_for_objects(f"{prefix}/*")]),
        iam.PolicyStatement(sid="CanvasWorkspaceBucket", actions=["s3:ListBucket"], resources=[bucket.bucket_arn],
                            conditions={"StringLike": {"s3:prefix": [f"{prefix}/*", prefix]}}),
        iam.PolicyStatement(sid="CanvasWorkspaceBucketSettings", actions=["s3:GetBucketLocation", "s3:GetBucketCors"],
                            resources=[bucket.bucket_arn]),
        iam.PolicyStatement(sid="CanvasKeys", actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey",
                                                       "kms:DescribeKey"],
                            resources=list(dict.fromkeys(keys))),
        iam.PolicyStatement(sid="CanvasAutoML",
                            actions=["sagemaker:CreateAutoMLJob", "sagemaker:CreateAutoMLJobV2",
                                     "sagemaker:DescribeAutoMLJob", "sagemaker:DescribeAutoMLJobV2",
                                     "sagemaker:ListCandidatesForAutoMLJob", "sagemaker:StopAutoMLJob"],
                            resources=automl),
        iam.PolicyStatement(sid="CanvasListAutoML", actions=["sagemaker:ListAutoMLJobs"], resources=["*"]),
    ]
    if settings.data_buckets:
        statements += [
            iam.PolicyStatement(sid="CanvasDataSourceObjects", actions=["s3:GetObject"],
                                resources=[b.arn_for_objects("*") for b in settings.data_buckets]),
            iam.PolicyStatement(sid="CanvasDataSourceBuckets", actions=["s3:ListBucket", "s3:GetBucketLocation"],
                                resources=[b.bucket_arn for b in settings.data_buckets]),
        ]
    group = settings.model_package_group
    if group is not None:
        statements.append(iam.PolicyStatement(
            sid="CanvasRegisterModels",
            actions=["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackageGroup",
                     "sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"],
            resources=[group.model_package_group_arn, group.model_package_arn_pattern]))
    if settings.athena:
        statements += [
            iam.PolicyStatement(sid="CanvasAthena",
                                actions=["athena:StartQueryExecution", "athena:GetQueryExecution",
                                         "athena:GetQueryResults", "athena:StopQueryExecution", "athena:GetWorkGroup",
                                         "athena:GetDataCatalog", "athena:ListDatabases", "athena:ListTableMetadata"],
                                resources=[stack.format_arn(service="athena", resource="workgroup", resource_name="*"),
                                           stack.format_arn(service="athena", resource="datacatalog",
                                                            resource_name="*")]),
            iam.PolicyStatement(sid="CanvasGlueCatalog",
                                actions=["glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables",
                                         "glue:GetPartitions"],
                                resources=[stack.format_arn(service="glue", resource="catalog"),
                                           stack.format_arn(service="glue", resource="database", resource_name="*"),
                                           stack.format_arn(service="glue", resource="table", resource_name="*/*")]),
        ]
    if settings.redshift:
        statements += [
            iam.PolicyStatement(sid="CanvasRedshiftData",
                                actions=["redshift-data:ExecuteStatement", "redshift-data:DescribeStatement",
                                         "redshift-data:GetStatementResult", "redshift-data:ListDatabases",
                                         "redshift-data:ListSchemas", "redshift-data:ListTables",
                                         "redshift-data:DescribeTable"],
                                resources=[stack.format_arn(service="redshift", resource="cluster",
                                                            resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME)]),
            iam.PolicyStatement(sid="CanvasRedshiftStatements",
                                actions=["redshift-data:DescribeStatement", "redshift-data:GetStatementResult"],
                                resources=["*"],
                                conditions={"StringEquals": {"redshift-data:statement-owner-iam-userid": "${aws:userid}"}}),
        ]
    for role in settings.passed_roles():
        statements.append(iam.PolicyStatement(
            sid=None, actions=["iam:PassRole"], resources=[role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": ["sagemaker.amazonaws.com", "bedrock.amazonaws.com"]}}))
    return statements


def canvas_app_arns(scope: Construct, domain_id: str) -> list[str]:
    """ARNs of the Canvas apps of a domain's user profiles (app/<domain>/<profile>/canvas/<name>)."""
    stack = Stack.of(scope)
    return [stack.format_arn(service="sagemaker", resource="app", resource_name=f"{domain_id}/*/{kind}/*")
            for kind in ("canvas", "Canvas")]


@jsii.implements(IStableStringProducer)
class _Digest:
    """A digest of the domain's resolved default user settings: when CloudFormation updates them, the
    Canvas settings resource is updated too and applies its settings again."""

    def __init__(self, domain: Any) -> None:
        self._domain = domain

    def produce(self) -> str:
        resolved = Stack.of(self._domain).resolve(self._domain.default_user_settings)
        return hashlib.sha256(json.dumps(resolved, sort_keys=True, default=str).encode()).hexdigest()[:16]


class CanvasSettingsProvider(Construct):
    """The provider of ``Custom::CanvasSettings``: one hardened Python function (``OnEvent``), its managed
    policy (DescribeDomain/UpdateDomain on this domain, its own stack read-only, pass only the roles the
    settings name) and one encrypted log group."""

    def __init__(self, scope: Construct, id: str, *, domain_id: str, domain_arn: str, encryption_key: kms.IKey,
                 passed_roles: Sequence[iam.IRole], log_retention: logs.RetentionDays) -> None:
        super().__init__(scope, id)
        statements = [
            iam.PolicyStatement(sid="CanvasSettingsOfDomain", actions=["sagemaker:DescribeDomain", "sagemaker:UpdateDomain"],
                                resources=[domain_arn]),
            iam.PolicyStatement(sid="ReadOwnStack", actions=list(STACK_READ_ACTIONS), resources=[Aws.STACK_ID]),
        ]
        if passed_roles:
            statements.append(iam.PolicyStatement(
                sid="PassCanvasRoles", actions=["iam:PassRole"], resources=[r.role_arn for r in passed_roles],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}))
        # CDK's own grants to the function (tracing, environment key) stay in the role's DefaultPolicy.
        self.role: iam.Role
        self.policy: iam.ManagedPolicy
        self.role, self.policy = service_role(
            self, "Role", "Policy", service="lambda.amazonaws.com", source_account=False, route_grants=False,
            description="Applies and restores the Canvas settings of a Studio domain", statements=statements)
        self.log_group: logs.LogGroup = function_log_group(self, "Logs", encryption_key=encryption_key,
                                                           retention=log_retention)
        add_known_statements(self.policy, iam.PolicyStatement(
            sid="WriteOwnLogs", actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[self.log_group.log_group_arn, f"{self.log_group.log_group_arn}:*"]))
        # Invoked synchronously by the Provider framework (no dead-letter queue), outside the VPC.
        self.function: lambda_.Function = hardened_function(
            self, "OnEvent", handler="canvas_settings.on_event", role=self.role, timeout=Duration.minutes(10),
            memory_size=256, reserved_concurrency=2, encryption_key=encryption_key, log_group=self.log_group,
            description="Applies (and on delete restores) a Studio domain's Canvas settings",
        )
        self.functions: dict[str, lambda_.Function] = {"OnEvent": self.function}
        self.provider: cr.Provider = cr.Provider(self, "Provider", on_event_handler=self.function, log_group=self.log_group,
                                    provider_function_env_encryption=encryption_key)
        acknowledge_provider(
            self,
            policy_reason=("Lambda names its own log streams (<log group>:*); everything else names this "
                           "domain, this stack or the roles the Canvas settings pass."),
            function_reason=(
                "The Canvas settings function runs on stack create, update and delete, invoked synchronously "
                "by the CDK Provider framework (a DLQ applies only to asynchronous invocations), and calls only "
                "the SageMaker and CloudFormation APIs; it runs outside the VPC so its ENIs never block deleting "
                "the subnets."),
            framework_reason=(
                "CDK Provider framework internals (the Node.js dispatch function and its role) generated by "
                "aws-cdk-lib: it only relays this resource's events, may invoke only this construct's function, "
                "and exposes no concurrency, DLQ or X-Ray settings."),
        )

    @property
    def service_token(self) -> str:
        return self.provider.service_token


def canvas_settings_resource(domain: Any, settings: CanvasSettings, key_arn: str,
                             log_retention: logs.RetentionDays) -> CustomResource:
    """The domain's ``Custom::CanvasSettings`` (child ``CanvasSettings``) and its provider (child
    ``CanvasSettingsProvider``)."""
    from .domain import _PolicyName

    provider = CanvasSettingsProvider(
        domain, "CanvasSettingsProvider", domain_id=domain.domain_id, domain_arn=domain.domain_arn,
        encryption_key=domain.encryption_key, passed_roles=settings.passed_roles(), log_retention=log_retention)
    resource = CustomResource(
        domain, "CanvasSettings",
        service_token=provider.service_token,
        resource_type=CANVAS_SETTINGS_RESOURCE_TYPE,
        properties={
            "DomainId": domain.domain_id,
            "DomainLogicalId": domain.cfn_domain.logical_id,
            "DomainDeletionPolicy": Lazy.string(_PolicyName(domain.cfn_domain, "deletion_policy")),
            "DomainUpdateReplacePolicy": Lazy.string(_PolicyName(domain.cfn_domain, "update_replace_policy")),
            "DomainUserSettingsDigest": Lazy.string(_Digest(domain.cfn_domain)),
            "CanvasAppSettings": settings.app_settings(key_arn),
        },
    )
    resource.node.add_dependency(domain.cfn_domain)
    resource.node.add_dependency(provider.policy)
    return resource


class CanvasIdleShutdown(SecureFunction):
    """Shuts idle Canvas apps of a Studio domain down (``handlers/canvas_idle_shutdown.py``): every
    15 minutes an EventBridge schedule (child ``Schedule``) invokes the function, which deletes the
    Canvas app of each user profile whose ``TimeSinceLastActive`` (CloudWatch namespace
    ``/aws/sagemaker/Canvas/AppActivity``) stayed at or above ``idle_timeout`` for the whole latest
    5-minute period. An app stops between ``idle_timeout`` and about ``idle_timeout`` + 20 minutes of
    inactivity; an app without a datapoint since it started is kept.

    Hardened as :class:`SecureFunction` (environment, logs and dead-letter queue with
    ``encryption_key``, X-Ray, reserved concurrency 1, two retries then the alarmed dead-letter
    queue); its policy allows ``DeleteApp`` only on the Canvas apps of this domain, ``ListApps`` and
    ``GetMetricData`` (neither has a resource type). It runs outside the VPC: it calls only the
    SageMaker and CloudWatch APIs.

    Why a schedule and not AWS's sample's alarm (``MAX(TimeSinceLastActive)`` of the domain, reset to
    ``OK`` by the function): while one user's period maximum stays above the threshold after they came
    back, a reset alarm returns to ``ALARM`` within seconds and invokes the function again and again,
    and a user who goes idle while the alarm is already in ``ALARM`` is missed unless it is reset; a
    schedule has neither problem, for about 2,900 invocations a month.
    """

    def __init__(self, scope: Construct, id: str, *, domain_id: str, idle_timeout: Duration,
                 encryption_key: kms.IKey, log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
                 alarm_topic: sns.ITopic | None = None) -> None:
        """
        :param domain_id: the Studio domain whose Canvas apps are watched.
        :param idle_timeout: inactivity after which an app is deleted, 1 hour to 365 days.
        :param encryption_key: the function's environment, logs and dead-letter queue key.
        :param log_retention: of the function's logs. Default: one year.
        :param alarm_topic: notified by the dead-letter queue's alarm. Default: none.
        """
        super().__init__(scope, id)
        validate_idle_timeout(self, "idle_timeout", idle_timeout)
        timeout = Duration.minutes(2)
        self._check_function(timeout=timeout, memory_size=256, reserved_concurrency=1, retry_attempts=2)
        self.domain_id: str = domain_id
        self.idle_timeout: Duration = idle_timeout
        statements = [
            iam.PolicyStatement(sid="DeleteIdleCanvasApps", actions=["sagemaker:DeleteApp"],
                                resources=canvas_app_arns(self, domain_id)),
            iam.PolicyStatement(sid="ListApps", actions=["sagemaker:ListApps"], resources=["*"]),
            iam.PolicyStatement(sid="ReadCanvasActivity", actions=["cloudwatch:GetMetricData"], resources=["*"]),
        ]
        self._build(
            purpose="CanvasIdleShutdown: deletes idle Canvas apps of a Studio domain",
            handler="canvas_idle_shutdown.handler",
            description="Deletes the Canvas apps of a Studio domain's users idle for longer than the timeout",
            environment={"DOMAIN_ID": domain_id,
                         "IDLE_TIMEOUT_SECONDS": (Token.as_string(duration_to_seconds(self, "idle_timeout", idle_timeout))
                                                  if idle_timeout.is_unresolved()
                                                  else str(int(idle_timeout.to_seconds())))},
            statements=statements, vpc=None, subnets=(), endpoint_security_group=None,
            encryption_key=encryption_key, timeout=timeout, memory_size=256, reserved_concurrency=1,
            retry_attempts=2, log_retention=log_retention, alarm_topic=alarm_topic,
            outside_vpc_reason=(
                "The Canvas idle shutdown calls only the SageMaker (ListApps, DeleteApp on this domain's Canvas "
                "apps) and CloudWatch (GetMetricData) APIs, over Lambda's network, authorised by IAM and TLS; "
                "outside the VPC its network interfaces never block deleting the domain's subnets."),
            iam_reason=(
                "Wildcards only where IAM cannot scope further: ListApps, GetMetricData and X-Ray have no "
                "resource type; Canvas apps are named per user profile at run time (app/<domain>/*/canvas/*)."),
        )
        #: The schedule that invokes the function every 15 minutes.
        self.schedule: events.Rule = events.Rule(
            self, "Schedule", schedule=events.Schedule.rate(CANVAS_IDLE_CHECK_INTERVAL),
            description="Shut down idle SageMaker Canvas apps of a Studio domain",
            targets=[targets.LambdaFunction(self.function, retry_attempts=2)],
        )


def validate_idle_timeout(scope: Construct, argument: str, timeout: Any) -> None:
    """Raise :class:`ValidationError` unless ``timeout`` is a Duration of whole minutes, 1 hour to 365 days."""
    if not isinstance(timeout, Duration):
        raise ValidationError(scope, argument, timeout, "a Duration (1 hour to 365 days) or None")
    if timeout.is_unresolved():
        return
    seconds = timeout.to_seconds(integral=False)
    if seconds % 60:
        raise ValidationError(scope, argument, timeout.to_human_string(), "whole minutes, 1 hour to 365 days")
    check_int_range(scope, f"{argument} (minutes)", int(seconds // 60), minimum=MIN_CANVAS_IDLE_MINUTES,
                    maximum=MAX_CANVAS_IDLE_MINUTES)


def canvas_idle_shutdown(domain: Any, settings: CanvasSettings,
                         log_retention: logs.RetentionDays) -> CanvasIdleShutdown | None:
    """The domain's :class:`CanvasIdleShutdown` (child ``CanvasIdleShutdown``), or none without ``idle_timeout``."""
    if settings.idle_timeout is None:
        return None
    return CanvasIdleShutdown(domain, "CanvasIdleShutdown", domain_id=domain.domain_id,
                              idle_timeout=settings.idle_timeout, encryption_key=domain.encryption_key,
                              log_retention=log_retention, alarm_topic=settings.alarm_topic)
