"""The platform every other reference stack builds on: key, network, data bucket, audit trail."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from sagemaker_constructs import (
    AuditTrail,
    CanvasSettings,
    Feature,
    FeatureGroup,
    MlflowTrackingServer,
    IsolatedNetwork,
    JobExecutionRole,
    Persona,
    PlatformKey,
    SecureBucket,
    StudioDomain,
    StudioUserRole,
    acknowledge,
)

from .config import PlatformConfig
# The inference stack's office hours, in the same cron(6 fields) form EventBridge Scheduler takes.
from .inference import OFFICE_HOURS_END, OFFICE_HOURS_START

#: Personas of the reference users; the others get the domain's default (data scientist) role.
USER_PERSONAS = {"ml-engineer": Persona.ML_ENGINEER}
#: The iris features (the reference model's inputs and label), with a record id and an event time.
IRIS_FEATURES = (
    Feature.string("record_id"), Feature.string("event_time"), Feature.fractional("sepal_length"),
    Feature.fractional("sepal_width"), Feature.fractional("petal_length"), Feature.fractional("petal_width"),
    Feature.string("species"),
)


class PlatformStack(Stack):
    """A customer-managed key, an isolated network, an ML data bucket, a CloudTrail trail and a
    VPC-only Studio domain with example user profiles.

    Exposes ``key``, ``network``, ``vpc``, ``data_bucket``, ``trail``, ``job_role`` and ``studio`` for the stacks that
    build on it (pass them as constructor arguments; CDK wires the cross-stack references).
    """

    def __init__(self, scope: Construct, id: str, *, config: PlatformConfig | None = None, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        config = config or PlatformConfig()
        self.config = config
        self.key = PlatformKey(self, "PlatformKey", alias=config.key_alias, description="SageMaker platform data key")
        self.network = IsolatedNetwork(
            self,
            "Network",
            max_azs=config.max_azs,
            cidr=config.vpc_cidr,
            endpoints=config.endpoints,
            encryption_key=self.key,
            flow_log_retention=config.log_retention,
        )
        self.vpc = self.network.vpc
        self.data_bucket = SecureBucket(self, "DataBucket", encryption_key=self.key)
        self.trail = AuditTrail(
            self,
            "AuditTrail",
            encryption_key=self.key,
            data_event_buckets=[self.data_bucket],
            log_retention=config.log_retention,
        )
        self.job_role = JobExecutionRole(
            self, "JobRole", encryption_key=self.key, data_buckets=[self.data_bucket], output_bucket=self.data_bucket
        )
        #: Notified when a platform function fails (the Canvas idle shutdown's dead-letter queue alarm).
        self.alarm_topic = sns.Topic(self, "AlarmTopic", display_name=f"{self.stack_name} alarms",
                                     master_key=self.key, enforce_ssl=True)
        # Subscriptions live on the topic: deleting the stack must not drop them.
        self.alarm_topic.apply_removal_policy(RemovalPolicy.RETAIN)
        self.studio = StudioDomain(
            self,
            "Studio",
            vpc=self.vpc,
            encryption_key=self.key,
            subnets=self.network.isolated_subnets.subnets,
            endpoint_security_group=self.network.endpoint_security_group,
            data_buckets=[self.data_bucket],
            job_roles=[self.job_role],
            idle_timeout=Duration.minutes(config.studio_idle_timeout_minutes),
            home_efs_removal_policy=RemovalPolicy.RETAIN if config.studio_keep_home_efs else RemovalPolicy.DESTROY,
            # Canvas (and Data Wrangler) for data scientists, its workspace under canvas/ of the data bucket;
            # registration and direct deployment stay off (models reach production through the registry);
            # a Canvas app idle for 2 hours is shut down (its workspace instance is billed while it runs).
            canvas=CanvasSettings(workspace_bucket=self.data_bucket, personas=(Persona.DATA_SCIENTIST,),
                                  data_buckets=(self.data_bucket,), idle_timeout=Duration.hours(2),
                                  alarm_topic=self.alarm_topic),
        )
        #: Execution roles of the reference users whose persona is not the domain's default.
        self.persona_roles: dict[Persona, StudioUserRole] = {}
        for user in config.studio_users:
            persona = USER_PERSONAS.get(user)
            if persona is not None and persona not in self.persona_roles:
                self.persona_roles[persona] = StudioUserRole(
                    self, f"{persona.name.title().replace('_', '')}Role", persona=persona, encryption_key=self.key,
                    domain_id=self.studio.domain_id, data_buckets=[self.data_bucket], subnets=self.studio.subnets,
                    security_groups=[self.studio.security_group], passable_roles=[self.job_role],
                )
            self.studio.add_user_profile(user, execution_role=self.persona_roles.get(persona))
        profiles = list(self.studio.user_profiles.values())
        #: A shared space for the reference users (owned by the first).
        self.team_space = self.studio.add_shared_space("TeamSpace", name="team", members=profiles,
                                                       ebs_volume_size_gb=10)
        #: The iris features: KMS-encrypted online store, offline store under feature-store/ of the data bucket.
        self.iris_features = FeatureGroup(
            self, "IrisFeatures", record_identifier="record_id", event_time="event_time",
            features=IRIS_FEATURES, encryption_key=self.key, offline_store_bucket=self.data_bucket,
        )
        #: Experiment tracking for Studio users and pipeline jobs, artifacts under mlflow/ of the data bucket.
        self.tracking_server = MlflowTrackingServer(
            self, "Mlflow", artifact_bucket=self.data_bucket, encryption_key=self.key, size="Small")
        # It bills per hour while running: it runs on weekdays 08:00-18:00 UTC, the inference endpoints'
        # office hours (50 of 168 hours a week), and is stopped the rest of the week.
        self.tracking_server.add_running_schedule("OfficeHours", start=OFFICE_HOURS_START, stop=OFFICE_HOURS_END)
        for role in (self.studio.execution_role, *self.persona_roles.values(), self.job_role):
            self.tracking_server.grant_access(role)
        self.iris_features.grant_read(self.studio.execution_role)
        self.iris_features.grant_ingest(self.job_role)
        self._acknowledge_teardown_provider()
        CfnOutput(self, "StudioDomainId", value=self.studio.domain_id)
        CfnOutput(self, "VpcId", value=self.vpc.vpc_id)
        CfnOutput(self, "DataBucketName", value=self.data_bucket.bucket_name)
        CfnOutput(self, "PlatformKeyArn", value=self.key.key_arn)

    def _acknowledge_teardown_provider(self) -> None:
        """Control Tower findings on the Studio teardown's provider (its functions and the CDK
        Provider framework's waiter state machine)."""
        for name in ("TeardownProvider", "CanvasSettingsProvider"):
            provider = self.studio.node.try_find_child(name)
            if provider is not None:
                self._acknowledge_provider(provider)

    def _acknowledge_provider(self, provider: Construct) -> None:
        for child in provider.node.find_all():
            if isinstance(child, lambda_.CfnFunction):
                acknowledge(
                    child,
                    reason=(
                        "The Studio teardown's functions (its own and the CDK Provider framework's) run "
                        "outside the VPC on purpose: Lambda network interfaces in these subnets would "
                        "themselves block deleting the subnets when the stack is deleted."
                    ) if provider.node.id == "TeardownProvider" else (
                        "The Canvas settings functions (its own and the CDK Provider framework's) call only "
                        "the SageMaker and CloudFormation APIs and run outside the VPC on purpose: Lambda "
                        "network interfaces in these subnets would block deleting the subnets."
                    ),
                    control_tower=["lambda_inside_vpc_check"],
                )
            elif isinstance(child, sfn.CfnStateMachine):
                acknowledge(
                    child,
                    reason=(
                        "The CDK Provider framework's waiter state machine, generated by aws-cdk-lib, exposes "
                        "no X-Ray setting; it only polls the teardown's isComplete function."
                    ),
                    control_tower=["step_functions_state_machine_tracing_enabled_check"],
                )
