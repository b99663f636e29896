"""MLOps reference stack: registry group, training pipeline, deploy-on-approval and monitoring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from sagemaker_constructs import (
    ContainerImage,
    DeployOnApproval,
    ModelMonitor,
    ModelPackageGroup,
    RealtimeEndpoint,
    TrainingPipeline,
    acknowledge,
)

from .inference import CROSS_STACK_REASON, DLQ_REASON, SKLEARN_ENVIRONMENT, SKLEARN_IMAGE, SKLEARN_IMAGE_ACCOUNTS

TRAINING = Path(__file__).resolve().parent / "assets" / "iris_training"
IRIS_FEATURES = ("sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm")


class MlopsStack(Stack):
    """The path from data to a guarded rollout, in the platform's network with its key and bucket:

    * ``ModelPackageGroup`` ``iris`` (RETAIN);
    * ``TrainingPipeline``: trains the iris model from ``s3://<data bucket>/training/`` on spot
      capacity, evaluates it on ``test/``, registers it ``PendingManualApproval`` when accuracy
      reaches the threshold; started daily through EventBridge Scheduler;
    * ``DeployOnApproval``: an approval deploys the version to the inference stack's real-time
      endpoint through its canary guardrail;
    * ``ModelMonitor``: hourly data-quality checks of that endpoint's captured traffic against
      ``s3://<data bucket>/monitoring/baseline/``, with an alarm on drift notifying its topic
      (RETAIN: it holds the subscriptions); the deployer's dead-letter and approval-age alarms
      notify the same topic.

    With ``model_vpc_config_parameter`` (the inference stack's :attr:`model_vpc_config_parameter`)
    the deployer reads the model's VPC placement from that SSM parameter at deployment instead of
    importing the model's security group, so changing it never blocks the inference stack.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption_key: kms.IKey,
        vpc: ec2.IVpc,
        data_bucket: s3.IBucket,
        endpoint: RealtimeEndpoint,
        endpoint_security_group: ec2.ISecurityGroup | None = None,
        model_package_group_name: str = "iris",
        schedule: str | None = "rate(1 day)",
        model_vpc_config_parameter: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        image = ContainerImage.from_regional_registry(SKLEARN_IMAGE_ACCOUNTS, SKLEARN_IMAGE)
        self.group = ModelPackageGroup(
            self, "ModelGroup", model_package_group_name=model_package_group_name,
            description="Iris nearest-centroid models trained by the reference pipeline",
        )
        self.pipeline = TrainingPipeline(
            self,
            "TrainingPipeline",
            training_image=image,
            data_bucket=data_bucket,
            encryption_key=encryption_key,
            vpc=vpc,
            model_package_group=self.group,
            instance_type="ml.m5.large",
            use_spot=True,
            max_runtime=Duration.hours(1),
            training_code=str(TRAINING / "dist" / "sourcedir.tar.gz"),
            entry_point="train.py",
            evaluation_script=str(TRAINING / "evaluate.py"),
            inference_environment=SKLEARN_ENVIRONMENT,
            metric_name="accuracy",
            metric_threshold=0.9,
        )
        if schedule:
            self.pipeline.schedule(schedule)
        self.monitor = ModelMonitor(
            self,
            "DataQualityMonitor",
            endpoint=endpoint,
            baseline_uri=data_bucket.s3_url_for_object("monitoring/baseline"),
            output_bucket=data_bucket,
            encryption_key=encryption_key,
            features=IRIS_FEATURES,
            vpc=vpc,
            endpoint_security_group=endpoint_security_group,
        )
        # Subscriptions live on the topic: deleting the stack must not drop them.
        self.monitor.alarm_topic.apply_removal_policy(RemovalPolicy.RETAIN)
        self.deployer = DeployOnApproval(
            self, "DeployOnApproval", model_package_group=self.group, endpoint=endpoint, vpc=vpc,
            endpoint_security_group=endpoint_security_group, encryption_key=encryption_key,
            alarm_topic=self.monitor.alarm_topic,
        )
        if model_vpc_config_parameter is not None and endpoint.model.vpc is not None:
            # Resolved by CloudFormation at each deployment of this stack: no export to keep.
            self.deployer.function.add_environment(
                "VPC_CONFIG", ssm.StringParameter.value_for_string_parameter(self, model_vpc_config_parameter)
            )
        acknowledge(self.deployer.function, reason=CROSS_STACK_REASON, control_tower=["lambda_inside_vpc_check"])
        acknowledge(self.deployer.log_group, reason=CROSS_STACK_REASON, control_tower=["cloudwatch_log_group_encrypted_check"])
        for queue in (self.deployer.dead_letter_queue, self.deployer.approvals_queue):
            acknowledge(queue, reason=CROSS_STACK_REASON, control_tower=["sqs_queue_encrypted_check"])
        acknowledge(self.deployer.dead_letter_queue, reason=DLQ_REASON, control_tower=["sqs_dlq_check"])
        CfnOutput(self, "PipelineName", value=self.pipeline.pipeline_name)
        CfnOutput(self, "ModelPackageGroupName", value=self.group.model_package_group_name)
