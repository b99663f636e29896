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
    BatchTransform,
    ContainerImage,
    ContinuousRange,
    DeployOnApproval,
    Execution,
    InstanceRecommendation,
    InstanceRecommender,
    ModelMonitor,
    ModelPackageGroup,
    Parameter,
    Pipeline,
    RealtimeEndpoint,
    RecommendInstancesStep,
    RegisterModelStep,
    TrainingPipeline,
    TrainingStep,
    TuningStep,
    acknowledge,
    s3_uri,
)

from .inference import CROSS_STACK_REASON, DLQ_REASON, SKLEARN_ENVIRONMENT, SKLEARN_IMAGE, SKLEARN_IMAGE_ACCOUNTS

TRAINING = Path(__file__).resolve().parent / "assets" / "iris_training"
TUNING = Path(__file__).resolve().parent / "assets" / "iris_tuning"
IRIS_FEATURES = ("sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm")
#: What the tuning jobs' training script prints (stacks/assets/iris_tuning/train.py).
TUNING_METRICS = {"validation:accuracy": r"validation:accuracy=([0-9\.]+)"}
#: Candidate real-time instance types of the instance recommendations.
RECOMMENDATION_CANDIDATES = ("ml.c6i.large", "ml.m5.large", "ml.c6i.xlarge")


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
      notify the same topic; a drift alarm starts the training pipeline (retraining, through an
      EventBridge rule whose role may only start that pipeline);
    * ``TuningPipeline``: a Bayesian tuning job over the iris model's ``shrinkage`` (6 jobs, 2 at a
      time, spot) registers the best model ``PendingManualApproval`` with a sample payload, then
      ``Recommend`` asks ``InstanceRecommender`` for an advanced Inference Recommender job over
      ``RECOMMENDATION_CANDIDATES`` with a 100 ms p95 target: the cheapest instance that meets it is
      recorded on the version before anyone approves it;
    * ``BatchScoring``: a ``BatchTransform`` pipeline that scores ``s3://<data bucket>/batch/input/``
      with ``batch/model/model.tar.gz`` every night (03:00 UTC) into ``batch/output/<execution id>/``.

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
        self.retraining = self.monitor.on_violation_start(self.pipeline)
        self._tuning_and_batch(image, data_bucket, encryption_key, vpc, endpoint_security_group)
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

    def _tuning_and_batch(self, image: ContainerImage, data_bucket: s3.IBucket, encryption_key: kms.IKey,
                          vpc: ec2.IVpc, endpoint_security_group: ec2.ISecurityGroup | None) -> None:
        data = f"s3://{data_bucket.bucket_name}"
        self.recommender = InstanceRecommender(
            self, "InstanceRecommender", model_package_group=self.group, encryption_key=encryption_key,
            model_buckets=[data_bucket], vpc=vpc, endpoint_security_group=endpoint_security_group,
            alarm_topic=self.monitor.alarm_topic,
        )
        template = TrainingStep(
            "TuneTemplate", image=image, inputs={"train": Parameter.string("InputDataUrl", f"{data}/training/")},
            output_uri=s3_uri(f"{data}/pipelines/tuning", Execution.ID, "models"), instance_type="ml.m5.large",
            max_runtime=Duration.hours(1), use_spot=True, code=str(TUNING / "dist" / "sourcedir.tar.gz"),
            metric_definitions=TUNING_METRICS,
        )
        tune = TuningStep("Tune", training=template, objective_metric="validation:accuracy",
                          ranges=[ContinuousRange("shrinkage", 0.0, 0.9)], strategy="Bayesian", max_jobs=6,
                          max_parallel_jobs=2, early_stopping=True)
        register = RegisterModelStep(
            "Register", model_package_group=self.group, image=image, model_data=tune.best_model_artifacts,
            environment=SKLEARN_ENVIRONMENT, description="Best model of the tuning pipeline",
            recommend_instances=InstanceRecommendation(f"{data}/recommendations/payload.tar.gz",
                                                       task="CLASSIFICATION", framework="SKLEARN",
                                                       framework_version="1.2"),
        )
        recommend = RecommendInstancesStep("Recommend", register=register, recommender=self.recommender,
                                           job_type="Advanced", instance_types=RECOMMENDATION_CANDIDATES,
                                           max_latency_ms=100)
        self.tuning_pipeline = Pipeline(self, "TuningPipeline", steps=[tune, register, recommend],
                                        encryption_key=encryption_key, vpc=vpc, data_bucket=data_bucket,
                                        description=f"Tune, register into {self.group.model_package_group_name} "
                                                    "and recommend instances")
        self.batch = BatchTransform(
            self, "BatchScoring", image=image, model_data=f"{data}/batch/model/model.tar.gz",
            input_uri=f"{data}/batch/input/", output_uri=f"{data}/batch/output", encryption_key=encryption_key,
            vpc=vpc, data_bucket=data_bucket, schedule="cron(0 3 * * ? *)", content_type="text/csv",
            accept="application/json", split_type="Line", batch_strategy="MultiRecord", max_payload_mb=6,
            environment=SKLEARN_ENVIRONMENT,
        )
        acknowledge(self.recommender.function, reason=CROSS_STACK_REASON, control_tower=["lambda_inside_vpc_check"])
        acknowledge(self.recommender.log_group, reason=CROSS_STACK_REASON,
                    control_tower=["cloudwatch_log_group_encrypted_check"])
        acknowledge(self.recommender.dead_letter_queue, reason=CROSS_STACK_REASON,
                    control_tower=["sqs_queue_encrypted_check"])
        CfnOutput(self, "TuningPipelineName", value=self.tuning_pipeline.pipeline_name)
        CfnOutput(self, "BatchScoringPipelineName", value=self.batch.pipeline_name)
