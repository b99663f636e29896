"""Inference reference stack: one endpoint of each kind and a Lambda that invokes one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from sagemaker_constructs import (
    ContainerImage,
    DataCapture,
    DeploymentGuardrail,
    EndpointInvoker,
    Model,
    ModelData,
    MultiModelEndpoint,
    AsyncEndpoint,
    InferenceComponentEndpoint,
    RealtimeEndpoint,
    ServerlessEndpoint,
    ShadowVariant,
    acknowledge,
)
from sagemaker_constructs.network import allow_https_to_endpoints
from sagemaker_constructs.validation.catalog import instance_facts

#: The iris nearest-centroid model shipped in the repo (stacks/assets/iris_model, built by build.py).
MODEL_ARTIFACT = Path(__file__).resolve().parent / "assets" / "iris_model" / "dist" / "model.tar.gz"

#: SageMaker's prebuilt scikit-learn inference image: registry account by region
#: (aws/sagemaker-python-sdk image_uri_config/sklearn.json), repository and tag.
SKLEARN_IMAGE_ACCOUNTS = {
    "af-south-1": "510948584623", "ap-east-1": "651117190479", "ap-northeast-1": "354813040037",
    "ap-northeast-2": "366743142698", "ap-northeast-3": "867004704886", "ap-south-1": "720646828776",
    "ap-south-2": "628508329040", "ap-southeast-1": "121021644041", "ap-southeast-2": "783357654285",
    "ap-southeast-3": "951798379941", "ap-southeast-4": "106583098589", "ca-central-1": "341280168497",
    "ca-west-1": "190319476487", "eu-central-1": "492215442770", "eu-central-2": "680994064768",
    "eu-north-1": "662702820516", "eu-south-2": "104374241257", "eu-west-1": "141502667606",
    "eu-west-2": "764974769150", "eu-west-3": "659782779980", "il-central-1": "898809789911",
    "me-central-1": "272398656194", "me-south-1": "801668240914", "sa-east-1": "737474898029",
    "us-east-1": "683313688378", "us-east-2": "257758044811", "us-west-1": "746614075791",
    "us-west-2": "246618743249",
}
SKLEARN_IMAGE = "sagemaker-scikit-learn:1.2-1-cpu-py3"
#: SageMaker's scikit-learn image for arm64 (AWS Graviton): the only Graviton tag of that image
#: (aws/sagemaker-python-sdk image_uris: sklearn 1.0-1 -> ``1.0-1-arm64-cpu-py3``), in the same
#: regional registries as the x86 one. The iris model's handlers use only the standard library, so
#: the version of scikit-learn in the image does not matter to it.
SKLEARN_GRAVITON_IMAGE = "sagemaker-scikit-learn:1.0-1-arm64-cpu-py3"
#: Office hours of the instance-backed endpoints (Application Auto Scaling scheduled actions, UTC):
#: two instances (one per AZ) from 08:00 to 18:00 Monday to Friday, one outside them. The rest of
#: the week (118 of 168 hours) an endpoint keeps one instance and scales out on traffic as usual.
OFFICE_HOURS_START = "cron(0 8 ? * MON-FRI *)"
OFFICE_HOURS_END = "cron(0 18 ? * MON-FRI *)"
#: Share of the real-time endpoint's requests replicated to its shadow variant (when it has one).
SHADOW_SAMPLING_PERCENTAGE = 20
#: What the scikit-learn container needs to run code/inference.py from the model archive.
SKLEARN_ENVIRONMENT = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}


def graviton_model(scope: Construct, id: str, *, model_data: ModelData, vpc: ec2.IVpc, encryption_key: kms.IKey,
                   security_groups: list[ec2.ISecurityGroup] | None = None) -> Model:
    """The iris model on AWS Graviton: ``model_data`` served by :data:`SKLEARN_GRAVITON_IMAGE` (a
    shadow variant on an arm64 instance type), in ``vpc``, network-isolated, with ``encryption_key``."""
    return Model(
        scope, id, image=ContainerImage.from_regional_registry(SKLEARN_IMAGE_ACCOUNTS, SKLEARN_GRAVITON_IMAGE),
        model_data=model_data, vpc=vpc, encryption_key=encryption_key, environment=SKLEARN_ENVIRONMENT,
        security_groups=security_groups,
    )


#: Why the Control Tower rules cannot see this stack's KMS keys, subnets and security groups.
CROSS_STACK_REASON = (
    "Set from the platform stack through Fn::ImportValue (its key, isolated subnets and endpoint "
    "security group); Control Tower's Guard rules accept only literal values or references to "
    "resources in the same template, so they cannot read an imported one."
)

#: Why a dead-letter queue has no dead-letter queue of its own.
DLQ_REASON = (
    "This queue is itself the dead-letter queue at the end of the retry chain: a further "
    "dead-letter queue would only move the same failed messages again; they wait here (14 days) "
    "for inspection and redrive."
)


class InferenceStack(Stack):
    """A real-time endpoint (in the VPC, network-isolated, autoscaled, data capture, canary
    deployments), a serverless endpoint (no idle cost), a multi-model endpoint (models under
    ``s3://<data bucket>/models/``), and an ``EndpointInvoker`` for the real-time endpoint.

    The model is the iris nearest-centroid artifact in ``stacks/assets/iris_model`` served by
    SageMaker's prebuilt scikit-learn image, so synth needs no Docker.

    What other stacks (the MLOps stack) use of it does not depend on its optional features, so
    turning one on or off never removes or changes an export another stack imports:

    * the real-time endpoint's rollback alarms (children ``RealtimeRollback5xxAlarm``,
      ``RealtimeRollbackLatencyAlarm``) exist with or without the canary, under names derived from
      the stack name (:attr:`rollback_alarm_names`); the guardrail and the MLOps stack refer to
      them by name, so no export carries them;
    * the model's VPC placement (its subnets and security groups, which change when the model gets
      ``dedicated_model_security_group``) is published in the SSM parameter
      :attr:`model_vpc_config_parameter` (child ``ModelVpcConfig``), read by the MLOps stack at
      its own deployment, instead of an export.

    Alarms notify ``alarm_topic`` (child ``AlarmTopic``: KMS-encrypted, TLS-only, RETAIN).

    The real-time and multi-model endpoints keep office hours (:data:`OFFICE_HOURS_START`,
    :data:`OFFICE_HOURS_END`): two instances on weekdays 08:00-18:00 UTC, one outside them (both
    still scale out on traffic: real-time up to 4, multi-model up to 2).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption_key: kms.IKey,
        vpc: ec2.IVpc,
        data_bucket: s3.IBucket,
        endpoint_security_group: ec2.ISecurityGroup | None = None,
        instance_type: str = "ml.m5.large",
        canary: bool = True,
        dedicated_model_security_group: bool = False,
        shadow_instance_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        """
        :param canary: deploy the real-time endpoint's new versions as a canary (one instance
            for 10 minutes) that rolls back on the rollback alarms. Off: SageMaker's default
            (all at once, no automatic rollback); the alarms still notify. Default: true.
        :param dedicated_model_security_group: give the real-time model a security group of its
            own (child ``ModelSecurityGroup``) instead of the one ``Model`` creates. Default: false.
        :param shadow_instance_type: run a shadow variant of the real-time endpoint (child
            ``Realtime/ShadowVariant``: the same model on one instance of this type, receiving
            :data:`SHADOW_SAMPLING_PERCENTAGE` of the requests, its responses recorded by the data
            capture) to test a cheaper instance type against the production one. A Graviton type
            gets the same artifact on the arm64 image (child ``IrisGravitonModel``,
            :data:`SKLEARN_GRAVITON_IMAGE`). Default: none (the delivery pipeline's dev stage is
            the reference app's test stage and runs one; here its instance would run around the
            clock, as shadow variants do not scale, which the fixed monthly budget has no room for).
        """
        super().__init__(scope, id, **kwargs)
        image = ContainerImage.from_regional_registry(SKLEARN_IMAGE_ACCOUNTS, SKLEARN_IMAGE)
        artifact = ModelData.from_asset(str(MODEL_ARTIFACT))

        self.alarm_topic = sns.Topic(
            self, "AlarmTopic", display_name=f"{self.stack_name} alarms", master_key=encryption_key, enforce_ssl=True,
        )
        # Subscriptions live on the topic: deleting the stack must not drop them.
        self.alarm_topic.apply_removal_policy(RemovalPolicy.RETAIN)

        model_security_groups = None
        if dedicated_model_security_group:
            group = ec2.SecurityGroup(
                self, "ModelSecurityGroup", vpc=vpc, allow_all_outbound=False,
                description="Iris model containers: no inbound, HTTPS to the VPC endpoints only",
            )
            allow_https_to_endpoints(self, group, vpc, None)
            model_security_groups = [group]
        self.model = Model(
            self, "IrisModel", image=image, model_data=artifact, vpc=vpc, encryption_key=encryption_key,
            environment=SKLEARN_ENVIRONMENT, security_groups=model_security_groups,
        )
        #: Names of the real-time endpoint's rollback alarms: stable, whatever the options.
        self.rollback_alarm_names = (f"{self.stack_name}-realtime-rollback-5xx",
                                     f"{self.stack_name}-realtime-rollback-latency")
        rollback_refs = [cloudwatch.Alarm.from_alarm_name(self, f"RollbackAlarmRef{i}", name)
                         for i, name in enumerate(self.rollback_alarm_names)]
        self.realtime = RealtimeEndpoint(
            self,
            "Realtime",
            model=self.model,
            instance_type=instance_type,
            instance_count=2,
            max_instance_count=4,
            target_invocations_per_instance=200,
            encryption_key=encryption_key,
            data_capture=DataCapture(data_bucket, sampling_percentage=20, prefix="data-capture/iris"),
            deployment=(
                DeploymentGuardrail.canary(instances=1, wait=Duration.minutes(10), alarms=rollback_refs)
                if canary else None
            ),
        )
        if shadow_instance_type:
            shadow_model = self.model
            if instance_facts(shadow_instance_type).arm64:
                shadow_model = graviton_model(self, "IrisGravitonModel", model_data=artifact, vpc=vpc,
                                              encryption_key=encryption_key, security_groups=model_security_groups)
            self.realtime.add_shadow_variant(ShadowVariant(
                shadow_model, shadow_instance_type, sampling_percentage=SHADOW_SAMPLING_PERCENTAGE))
        self.rollback_alarms = self._rollback_alarms(self.rollback_alarm_names)
        for alarm in self.rollback_alarms:
            # The endpoint's DeploymentConfig names them: they exist before it is created or updated.
            self.realtime.node.default_child.node.add_dependency(alarm)
        #: SSM parameter holding the real-time model's VPC config (CreateModel's VpcConfig, JSON).
        self.model_vpc_config_parameter = f"/{self.stack_name}/realtime/model-vpc-config"
        ssm.StringParameter(
            self, "ModelVpcConfig", parameter_name=self.model_vpc_config_parameter,
            description="VpcConfig (Subnets, SecurityGroupIds) of the real-time endpoint's model, for DeployOnApproval",
            string_value=self.to_json_string({
                "Subnets": self.model.cfn_model.vpc_config.subnets,
                "SecurityGroupIds": self.model.cfn_model.vpc_config.security_group_ids,
            }),
        )
        # Serverless Inference supports neither a VPC nor network isolation (SageMaker docs).
        self.serverless_model = Model(
            self, "IrisServerlessModel", image=image, model_data=artifact, network_isolation=False,
            encryption_key=encryption_key, environment=SKLEARN_ENVIRONMENT,
        )
        self.serverless = ServerlessEndpoint(
            self, "Serverless", model=self.serverless_model, memory_size_in_mb=2048, max_concurrency=20
        )
        self.multi_model = MultiModelEndpoint(
            self,
            "MultiModel",
            image=image,
            model_data_prefix=ModelData.from_bucket(data_bucket, "models/"),
            instance_type=instance_type,
            encryption_key=encryption_key,
            vpc=vpc,
            environment=SKLEARN_ENVIRONMENT,
            instance_count=2,
            max_instance_count=2,
        )
        # Office hours: 2 instances (both AZs) on weekdays 08:00-18:00 UTC, 1 outside them.
        for endpoint in (self.realtime, self.multi_model):
            endpoint.scale_on_schedule("OfficeHoursStart", schedule=OFFICE_HOURS_START, min_capacity=2)
            endpoint.scale_on_schedule("OfficeHoursEnd", schedule=OFFICE_HOURS_END, min_capacity=1)
        self.invoker = EndpointInvoker(
            self, "Invoker", endpoint=self.realtime, vpc=vpc, endpoint_security_group=endpoint_security_group,
            encryption_key=encryption_key, alarm_topic=self.alarm_topic,
        )
        for function in (self.invoker,):
            acknowledge(function.function, reason=CROSS_STACK_REASON, control_tower=["lambda_inside_vpc_check"])
            acknowledge(function.log_group, reason=CROSS_STACK_REASON, control_tower=["cloudwatch_log_group_encrypted_check"])
            acknowledge(function.dead_letter_queue, reason=CROSS_STACK_REASON, control_tower=["sqs_queue_encrypted_check"])
            acknowledge(function.dead_letter_queue, reason=DLQ_REASON, control_tower=["sqs_dlq_check"])
        CfnOutput(self, "RealtimeEndpointName", value=self.realtime.endpoint_name)
        CfnOutput(self, "ServerlessEndpointName", value=self.serverless.endpoint_name)
        CfnOutput(self, "MultiModelEndpointName", value=self.multi_model.endpoint_name)
        CfnOutput(self, "InvokerFunctionName", value=self.invoker.function.function_name)
        self._scale_to_zero_endpoints(encryption_key=encryption_key, vpc=vpc, data_bucket=data_bucket,
                                      instance_type=instance_type)

    def _scale_to_zero_endpoints(self, *, encryption_key: kms.IKey, vpc: ec2.IVpc, data_bucket: s3.IBucket,
                                 instance_type: str) -> None:
        """Endpoints that cost nothing while idle: an inference-component endpoint (child
        ``Components``, in the VPC, network-isolated) whose iris component scales to zero copies
        and so the endpoint to zero instances, woken by the first request; and an asynchronous
        endpoint (child ``Async``) whose results land KMS-encrypted under
        ``s3://<data bucket>/async-inference/`` and are announced on ``async_topic`` (child
        ``AsyncResultsTopic``: KMS-encrypted, TLS-only, RETAIN), scaling to zero instances while
        its queue is empty."""
        self.components = InferenceComponentEndpoint(
            self, "Components", instance_type=instance_type, min_instance_count=0, max_instance_count=1,
            encryption_key=encryption_key, vpc=vpc,
        )
        self.iris_component = self.components.add_component(
            "Iris", model=self.model, copies=1, max_copies=2, number_of_cpu_cores_required=1,
            min_memory_required_in_mb=1024, scale_to_zero=True,
        )
        self.async_topic = sns.Topic(
            self, "AsyncResultsTopic", display_name=f"{self.stack_name} async inference results",
            master_key=encryption_key, enforce_ssl=True,
        )
        self.async_topic.apply_removal_policy(RemovalPolicy.RETAIN)
        self.asynchronous = AsyncEndpoint(
            self, "Async", model=self.model, instance_type=instance_type, output_bucket=data_bucket,
            encryption_key=encryption_key, success_topic=self.async_topic, error_topic=self.async_topic,
            max_concurrent_invocations_per_instance=4, scale_to_zero=True, max_instance_count=2,
        )
        CfnOutput(self, "ComponentEndpointName", value=self.components.endpoint_name)
        CfnOutput(self, "AsyncEndpointName", value=self.asynchronous.endpoint_name)

    def _rollback_alarms(self, names: tuple[str, str]) -> list[cloudwatch.Alarm]:
        """The real-time endpoint's rollback alarms, named ``names``: model 5xx errors (any in a
        minute), and p99 model latency above 1 s in 2 of 3 minutes; both notify the alarm topic."""
        errors = cloudwatch.Alarm(
            self, "RealtimeRollback5xxAlarm", alarm_name=names[0],
            alarm_description=f"{self.realtime.endpoint_name}: model 5xx errors (rolls back a canary deployment)",
            metric=self.realtime.metric_invocation_5xx_errors(period=Duration.minutes(1)),
            threshold=1, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        slow = cloudwatch.Alarm(
            self, "RealtimeRollbackLatencyAlarm", alarm_name=names[1],
            alarm_description=f"{self.realtime.endpoint_name}: p99 model latency above 1000 ms",
            metric=self.realtime.metric_model_latency(statistic="p99", period=Duration.minutes(1)),
            threshold=1_000_000, evaluation_periods=3, datapoints_to_alarm=2,  # ModelLatency is in microseconds
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        for alarm in (errors, slow):
            alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))
        return [errors, slow]
