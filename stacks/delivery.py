"""Delivery reference stack: approvals promote the iris model through a pipeline to dev, then prod.

Configured from cdk.json context ``sagemaker-constructs:delivery`` (placeholder account IDs: replace
them with yours, bootstrap each target with ``cdk bootstrap --trust <tooling account>``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any, Mapping

import aws_cdk as cdk
from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from sagemaker_constructs import (
    DeliveryStage,
    DeploymentGuardrail,
    IsolatedNetwork,
    Model,
    ModelData,
    ModelDeliveryPipeline,
    ModelPackageGroup,
    PlatformKey,
    PromoteOnApproval,
    PromotionTarget,
    RealtimeEndpoint,
    ShadowVariant,
    ValidationError,
)
from sagemaker_constructs.validation.catalog import instance_facts
from sagemaker_constructs.mlops.delivery import APPROVED_ARTIFACTS_CONTEXT, APPROVED_VERSION_CONTEXT
from sagemaker_constructs.mlops.promotion import approved_version_parameter_name_for
from stacks.inference import SHADOW_SAMPLING_PERCENTAGE, graviton_model

CONTEXT_KEY = "sagemaker-constructs:delivery"


@dataclass(frozen=True)
class DeliveryConfig:
    """Settings of the reference ``DeliveryStack`` (cdk.json context ``sagemaker-constructs:delivery``)."""

    stack_name: str = "SageMakerDelivery"
    #: The tooling account and region: the registry, the pipeline and the promotion function.
    account: str = "111111111111"
    region: str = "us-east-1"
    repository: str = "example-org/sagemaker-constructs"
    branch: str = "main"
    connection_arn: str = ("arn:aws:codeconnections:us-east-1:111111111111:connection/"
                           "00000000-0000-0000-0000-000000000000")
    dev_account: str = "222222222222"
    dev_region: str = "us-east-1"
    prod_account: str = "333333333333"
    prod_region: str = "us-east-1"
    instance_type: str = "ml.m5.large"
    #: The dev stage's shadow variant (the test stage): the approved version on one instance of this
    #: type, receiving a copy of 20 % of the requests, to compare a cheaper instance before prod
    #: switches to it. Graviton by default (served by the arm64 scikit-learn image). ``""``: none.
    dev_shadow_instance_type: str = "ml.c7g.large"
    #: The same for prod (``""``: none, the default: prod runs what dev has shown).
    prod_shadow_instance_type: str = ""
    #: The version ARN ``make synth`` uses offline (the pipeline passes the approved one instead).
    placeholder_model_package: str = "arn:aws:sagemaker:us-east-1:111111111111:model-package/iris/1"
    #: Its artifacts (the pipeline passes the approved version's ``ModelDataUrl``).
    placeholder_model_artifacts: str = "s3://sagemaker-platform-data-placeholder/pipelines/iris/model.tar.gz"

    @classmethod
    def from_context(cls, context: Mapping[str, Any] | None) -> "DeliveryConfig":
        where = f"cdk.json context {CONTEXT_KEY!r}"
        if context is None:
            return cls()
        if not isinstance(context, Mapping):
            raise ValidationError(where, "context", context, "a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(context) - known)
        if unknown:
            raise ValidationError(where, "key", unknown[0], f"allowed keys: {', '.join(sorted(known))}")
        for name, value in context.items():
            if not isinstance(value, str):
                raise ValidationError(where, name, value, "a string")
        return cls(**dict(context))


def _s3_url(where: str, url: str) -> tuple[str, str] | None:
    """``(bucket, key)`` of ``s3://bucket/key``; None for ``None`` (a version without artifacts)."""
    if url in ("", "None"):
        return None
    match = re.fullmatch(r"s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(.+)", url)
    if not match:
        raise ValidationError(where, APPROVED_ARTIFACTS_CONTEXT, url, "an s3://bucket/key URL")
    return match.group(1), match.group(2)


class ServingStack(Stack):
    """What each environment runs: the approved iris version behind a real-time endpoint.

    A ``PlatformKey``, an ``IsolatedNetwork`` (no internet; the model is network-isolated), the model
    (``Model.from_model_package`` of the approved version ARN, reading exactly its artifact object in
    the tooling account, decrypting through S3 only with that account's keys), and a real-time
    endpoint on two instances with a canary deployment that rolls back on model 5xx errors (alarm
    notifying ``AlarmTopic``).
    """

    def __init__(self, scope: Construct, id: str, *, model_package: str, model_artifacts: str,
                 tooling_account: str, tooling_region: str, instance_type: str,
                 shadow_instance_type: str | None = None, **kwargs: Any) -> None:
        """
        :param shadow_instance_type: run a shadow variant (child ``Endpoint/ShadowVariant``): the
            approved version on one instance of this type, receiving a copy of
            ``SHADOW_SAMPLING_PERCENTAGE`` % of the requests (its latency and errors are the
            endpoint's CloudWatch metrics with ``VariantName=Shadow``). A Graviton type serves the
            version's artifacts with the arm64 scikit-learn image (child ``GravitonModel``; needs
            the version's artifacts). Default: none.
        """
        super().__init__(scope, id, **kwargs)
        key = PlatformKey(self, "Key", description="Serving: model volumes, logs and alarms")
        network = IsolatedNetwork(self, "Network", encryption_key=key, endpoints="auto")
        group = ModelPackageGroup.from_model_package_group_name(
            self, "Registry", model_package.split("/")[-2], account=tooling_account, region=tooling_region)
        artifacts = None
        location = _s3_url(self.node.path, model_artifacts)
        if location is not None:
            bucket = s3.Bucket.from_bucket_attributes(
                self, "ToolingArtifacts", bucket_name=location[0], account=tooling_account, region=tooling_region)
            artifacts = ModelData.from_bucket(bucket, location[1])
        self.model = Model.from_model_package(
            self, "Model", model_package=model_package, model_package_group=group, artifacts=artifacts,
            vpc=network.vpc, encryption_key=key,
        )
        # The artifacts' key lives in the tooling account; its policy admits this account through S3 only.
        decrypt_artifacts = iam.PolicyStatement(
            sid="DecryptToolingArtifacts", actions=["kms:Decrypt"],
            resources=[f"arn:{self.partition}:kms:{tooling_region}:{tooling_account}:key/*"],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{tooling_region}.amazonaws.com"}})
        self.model.role.add_to_principal_policy(decrypt_artifacts)
        shadow = None
        if shadow_instance_type:
            shadow_model = self.model
            if instance_facts(shadow_instance_type).arm64:
                if artifacts is None:
                    raise ValidationError(self, "shadow_instance_type", shadow_instance_type,
                                          "an x86_64 type for a version without artifacts: a Graviton shadow serves "
                                          "the version's artifacts with the arm64 image")
                shadow_model = graviton_model(self, "GravitonModel", model_data=artifacts, vpc=network.vpc,
                                              encryption_key=key)
                shadow_model.role.add_to_principal_policy(decrypt_artifacts)
            shadow = ShadowVariant(shadow_model, shadow_instance_type, sampling_percentage=SHADOW_SAMPLING_PERCENTAGE)
        self.alarm_topic = sns.Topic(self, "AlarmTopic", display_name=f"{self.stack_name} alarms", master_key=key,
                                     enforce_ssl=True)
        self.alarm_topic.apply_removal_policy(RemovalPolicy.RETAIN)
        errors_alarm = cloudwatch.Alarm(
            self, "Rollback5xxAlarm", alarm_name=f"{self.stack_name}-rollback-5xx",
            alarm_description="Model 5xx errors: rolls back a canary deployment",
            metric=cloudwatch.Metric(
                namespace="AWS/SageMaker", metric_name="Invocation5XXErrors", statistic="Sum",
                period=Duration.minutes(1),
                dimensions_map={"EndpointName": f"{self.stack_name}-iris", "VariantName": "AllTraffic"}),
            threshold=1, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        errors_alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))
        self.endpoint = RealtimeEndpoint(
            self, "Endpoint", model=self.model, instance_type=instance_type, instance_count=2,
            max_instance_count=4, encryption_key=key, endpoint_name=f"{self.stack_name}-iris",
            deployment=DeploymentGuardrail.canary(instances=1, wait=Duration.minutes(10), alarms=[errors_alarm]),
            shadow=shadow,
        )
        CfnOutput(self, "EndpointName", value=self.endpoint.endpoint_name)
        CfnOutput(self, "ModelPackage", value=model_package)


class DeliveryStack(Stack):
    """The tooling account's delivery: a ``ModelDeliveryPipeline`` from the app's repository to a dev
    and a prod environment (manual approval before prod), each a ``ServingStack`` of the approved
    iris version, and a ``PromoteOnApproval`` that records each approved version in its SSM
    parameter and starts the pipeline. The registry group, the artifacts' bucket and key belong to
    the MLOps and platform stacks; the pipeline opens them to exactly the dev and prod accounts.
    """

    def __init__(self, scope: Construct, id: str, *, config: DeliveryConfig, model_package_group: ModelPackageGroup,
                 artifact_bucket: s3.IBucket, artifact_key: kms.IKey, model_package: str, model_artifacts: str,
                 **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        parameter = approved_version_parameter_name_for(model_package_group.model_package_group_name)

        def serving(stage: cdk.Stage, environment: DeliveryStage) -> None:
            ServingStack(stage, "Serving", model_package=model_package, model_artifacts=model_artifacts,
                         tooling_account=config.account, tooling_region=config.region,
                         instance_type=config.instance_type,
                         shadow_instance_type=(config.dev_shadow_instance_type if environment.name == "Dev"
                                               else config.prod_shadow_instance_type) or None,
                         description=f"sagemaker-constructs reference serving ({environment.name}): the approved "
                                     "iris version behind a canary-guarded real-time endpoint")

        self.delivery = ModelDeliveryPipeline(
            self, "Delivery",
            source=ModelDeliveryPipeline.connection_source(config.repository, config.branch,
                                                           connection_arn=config.connection_arn),
            stages=[DeliveryStage("Dev", config.dev_account, config.dev_region),
                    DeliveryStage("Prod", config.prod_account, config.prod_region, manual_approval=True)],
            serving=serving,
            model_package_group=model_package_group,
            approved_version_parameter_name=parameter,
            artifact_bucket=artifact_bucket,
            artifact_prefix="pipelines/",
            artifact_key=artifact_key,
        )
        # The promotion's environment, logs, queues and alarm topic (EventBridge and alarms may use it).
        self.key = PlatformKey(self, "Key", description="Delivery: promotion function, approvals queue and alarms")
        self.alarm_topic = sns.Topic(self, "AlarmTopic", display_name=f"{self.stack_name} alarms",
                                     master_key=self.key, enforce_ssl=True)
        # Subscriptions live on the topic: deleting the stack must not drop them.
        self.alarm_topic.apply_removal_policy(RemovalPolicy.RETAIN)
        self.promotion = PromoteOnApproval(
            self, "PromoteOnApproval", model_package_group=model_package_group,
            target=PromotionTarget.pipeline_execution(self.delivery.pipeline),
            approved_version_parameter_name=parameter, encryption_key=self.key, alarm_topic=self.alarm_topic,
        )
        CfnOutput(self, "PipelineName", value=self.delivery.pipeline.pipeline_name)
        CfnOutput(self, "ApprovedVersionParameter", value=parameter)


def approved_model(app: cdk.App, config: DeliveryConfig) -> tuple[str, str]:
    """The approved version ARN and its artifacts: what the pipeline's synth passes as context, else
    the placeholders of ``config`` (``make synth`` offline)."""
    package = app.node.try_get_context(APPROVED_VERSION_CONTEXT) or config.placeholder_model_package
    artifacts = app.node.try_get_context(APPROVED_ARTIFACTS_CONTEXT) or config.placeholder_model_artifacts
    return str(package), str(artifacts)


__all__ = ["DeliveryConfig", "DeliveryStack", "ServingStack", "approved_model"]
