"""Asynchronous endpoints: queued requests, results in S3, and scale to zero instances.

Asynchronous Inference (https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference.html)
queues each ``InvokeEndpointAsync`` request (its payload is an S3 object), writes the result to
``S3OutputPath`` (or ``S3FailurePath``) encrypted with the output ``KmsKeyId``, and notifies SNS
topics. "Unlike other hosted models Amazon SageMaker AI supports, with Asynchronous Inference you
can also scale down your asynchronous endpoints instances to zero. Requests that are received
when there are zero instances are queued for processing once the endpoint scales up"
(https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-autoscale.html). That page's
policies are the ones built here: target tracking on ``ApproximateBacklogSizePerInstance``, and a
step-scaling policy on ``HasBacklogWithoutCapacity`` that starts an instance when requests wait
and none runs (without it, the endpoint leaves zero only once the backlog exceeds the target).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration, TimeZone
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..._internal.stacks import attribute
from ...compliance import acknowledge, across_packs
from ...errors import ValidationError, check_int_range, check_pattern, is_unresolved
from ...validation.catalog import check_autoscalable
from ...validation.instances import has_instance_storage
from ..models import check_model_instance_type
from ...validation.naming import check_name, default_name
from .autoscaling import register_target, wake_from_zero
from .base import EndpointBase, check_finite, check_instance_type

if TYPE_CHECKING:
    from ...interfaces import IModel

#: ``AsyncInferenceClientConfig.MaxConcurrentInvocationsPerInstance`` bounds (API reference).
MAX_ASYNC_CONCURRENCY = 1000
_INVOKE_ASYNC = ["sagemaker:InvokeEndpointAsync"]
_PREFIX = r"[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*"


class AsyncEndpoint(EndpointBase):
    """An asynchronous endpoint (``AWS::SageMaker::Endpoint``, child ``Resource``; config ``Config``).

    Default settings:

    * results under ``s3://<output_bucket>/<prefix>/output/`` and failures under
      ``.../failure/``, encrypted with ``encryption_key`` (``AsyncInferenceConfig.OutputConfig.KmsKeyId``);
      request payloads go under ``.../input/`` (:meth:`grant_invoke` lets a caller put them there);
    * ``success_topic``/``error_topic`` notified when given (the model's role may publish to them
      and use their key);
    * the ML storage volume encrypted with ``encryption_key`` (not on NVMe instance types);
    * autoscaling (child ``ScalableTarget``) between 0 instances (``scale_to_zero``; else
      ``instance_count``) and ``max_instance_count``, tracking ``ApproximateBacklogSizePerInstance``
      at ``target_backlog_per_instance`` (5); with ``scale_to_zero`` a step-scaling policy (child
      ``WakeUp``, alarm ``WakeUpAlarm`` on ``HasBacklogWithoutCapacity``) adds an instance when
      requests wait and none runs; stack updates keep the scaled count (``RetainAllVariantProperties``);
    * the model's role may read the input prefix and write the output and failure prefixes (a
      role CDK cannot change is a ``ValidationError`` unless the model says ``role_is_prepared``).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model: "IModel",
        instance_type: str,
        output_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        success_topic: sns.ITopic | None = None,
        error_topic: sns.ITopic | None = None,
        max_concurrent_invocations_per_instance: int | None = None,
        scale_to_zero: bool = True,
        max_instance_count: int = 2,
        instance_count: int = 1,
        target_backlog_per_instance: float = 5,
        prefix: str | None = None,
        endpoint_name: str | None = None,
        endpoint_config_name: str | None = None,
    ) -> None:
        """
        :param model: the ``Model`` to serve (any ``IModel``).
        :param instance_type: ``ml.<family>.<size>`` (not burstable ``ml.t*``: they cannot autoscale).
        :param output_bucket: where results, failures and request payloads live.
        :param encryption_key: encrypts the results (and the volume).
        :param success_topic: notified of each result. Default: no notification.
        :param error_topic: notified of each failure. Default: no notification.
        :param max_concurrent_invocations_per_instance: requests SageMaker sends one instance's
            container at a time, 1-1000. Default: SageMaker's choice.
        :param scale_to_zero: autoscale down to 0 instances while the queue is empty. Default: true.
        :param max_instance_count: the autoscaling maximum. Default: 2.
        :param instance_count: instances at creation (and the autoscaling minimum without
            ``scale_to_zero``). Default: 1.
        :param target_backlog_per_instance: queued requests per instance autoscaling aims for. Default: 5.
        :param prefix: key prefix of the input, output and failure folders. Default:
            ``async-inference/<endpoint name>``.
        :param endpoint_name: Default: a stable name derived from the construct path.
        :param endpoint_config_name: Default: generated by CloudFormation.
        """
        super().__init__(scope, id)
        if model is None:
            raise ValidationError(self, "model", None, "a Model is required")
        if output_bucket is None:
            raise ValidationError(self, "output_bucket", None, "an S3 bucket for results (an s3.IBucket)")
        if encryption_key is None:
            raise ValidationError(self, "encryption_key", None, "a KMS key for the results (a kms.IKey)")
        check_instance_type(self, instance_type)
        check_name(self, "endpoint_name", endpoint_name)
        check_name(self, "endpoint_config_name", endpoint_config_name)
        check_int_range(self, "max_concurrent_invocations_per_instance", max_concurrent_invocations_per_instance,
                        minimum=1, maximum=MAX_ASYNC_CONCURRENCY)
        check_int_range(self, "instance_count", instance_count, minimum=1)
        check_int_range(self, "max_instance_count", max_instance_count, minimum=instance_count)
        check_finite(self, "target_backlog_per_instance", target_backlog_per_instance)
        if not is_unresolved(target_backlog_per_instance) and not (
                isinstance(target_backlog_per_instance, (int, float)) and target_backlog_per_instance > 0):
            raise ValidationError(self, "target_backlog_per_instance", target_backlog_per_instance, "a positive number")
        check_autoscalable(self, "instance_type", instance_type)
        check_model_instance_type(self, instance_type, model)
        check_pattern(self, "prefix", prefix, _PREFIX, max_length=200,
                      description="an S3 key prefix without leading or trailing '/'")

        self.model: "IModel" = model
        self.instance_type: str = instance_type
        self.output_bucket: s3.IBucket = output_bucket
        self.encryption_key: kms.IKey = encryption_key
        self.scale_to_zero: bool = scale_to_zero
        self.min_instance_count: int = 0 if scale_to_zero else instance_count
        self.max_instance_count: int = max_instance_count
        self.endpoint_name: str = endpoint_name or default_name(self)
        base = prefix or f"async-inference/{self.endpoint_name}"
        #: Key prefixes (ending in ``/``) of request payloads, results and failures.
        self.input_prefix: str = f"{base}/input/"
        self.output_prefix: str = f"{base}/output/"
        self.failure_prefix: str = f"{base}/failure/"
        volume_key = None if has_instance_storage(instance_type) else encryption_key
        self.volume_key: kms.IKey | None = volume_key
        self.success_topic: sns.ITopic | None = success_topic
        self.error_topic: sns.ITopic | None = error_topic
        self._grant_model(model, [t for t in (success_topic, error_topic) if t is not None])

        notification = None
        if success_topic is not None or error_topic is not None:
            notification = sagemaker.CfnEndpointConfig.AsyncInferenceNotificationConfigProperty(
                success_topic=success_topic.topic_arn if success_topic is not None else None,
                error_topic=error_topic.topic_arn if error_topic is not None else None,
            )
        self.cfn_endpoint_config: sagemaker.CfnEndpointConfig = sagemaker.CfnEndpointConfig(
            self, "Config",
            endpoint_config_name=endpoint_config_name,
            kms_key_id=attribute(volume_key, "key_arn") if volume_key is not None else None,  # read once per key
            async_inference_config=sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty(
                output_config=sagemaker.CfnEndpointConfig.AsyncInferenceOutputConfigProperty(
                    s3_output_path=output_bucket.s3_url_for_object(self.output_prefix.rstrip("/")),
                    s3_failure_path=output_bucket.s3_url_for_object(self.failure_prefix.rstrip("/")),
                    kms_key_id=encryption_key.key_arn,
                    notification_config=notification,
                ),
                client_config=sagemaker.CfnEndpointConfig.AsyncInferenceClientConfigProperty(
                    max_concurrent_invocations_per_instance=max_concurrent_invocations_per_instance,
                ) if max_concurrent_invocations_per_instance is not None else None,
            ),
            production_variants=[sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name=self.variant_name, model_name=model.model_name, instance_type=instance_type,
                initial_instance_count=instance_count, initial_variant_weight=1.0,
            )],
        )
        if not is_unresolved(model.model_name):
            self.cfn_endpoint_config.node.add_dependency(model)
        if volume_key is None:
            acknowledge(
                self.cfn_endpoint_config,
                reason=(f"{instance_type} has local NVMe instance storage, which SageMaker encrypts with a "
                        "hardware module and for which it rejects a volume KmsKeyId."),
                nag=across_packs("SageMakerEndpointConfigurationKMSKeyConfigured"),
            )
        self._create_endpoint()
        # Keep the scaled instance count across stack updates (as RealtimeEndpoint does with autoscaling).
        self.cfn_endpoint.retain_all_variant_properties = True

        target = register_target(
            self, "ScalableTarget", resource_id=f"endpoint/{self.endpoint_name}/variant/{self.variant_name}",
            dimension="sagemaker:variant:DesiredInstanceCount", min_capacity=self.min_instance_count,
            max_capacity=max_instance_count, depends_on=self.cfn_endpoint,
        )
        self.scalable_target: appscaling.ScalableTarget | None = target
        target.scale_to_track_metric(
            "TargetTracking", custom_metric=self.metric_backlog_size_per_instance(),
            target_value=float(target_backlog_per_instance),
            scale_in_cooldown=Duration.minutes(10), scale_out_cooldown=Duration.minutes(5),
        )
        self.wake_up_alarm: cloudwatch.Alarm | None = None
        if scale_to_zero:
            # As the async autoscaling page sets it up: Average over 1 minute, 2 periods, threshold 1;
            # one more instance (ChangeInCapacity, Average aggregation, 5 minute cooldown).
            _, self.wake_up_alarm = wake_from_zero(
                self, "WakeUp", target=target,
                metric=cloudwatch.Metric(namespace="AWS/SageMaker", metric_name="HasBacklogWithoutCapacity",
                                         dimensions_map={"EndpointName": self.endpoint_name}, statistic="Average",
                                         period=Duration.minutes(1)),
                aggregation=appscaling.MetricAggregationType.AVERAGE, cooldown=Duration.minutes(5),
                evaluation_periods=2,
                description=f"{self.endpoint_name}: requests wait and no instance runs; adds one (wakes the endpoint from zero)",
            )

    def _grant_model(self, model: "IModel", topics: list[sns.ITopic]) -> None:
        from ..._internal.grants import add_statements

        bucket = self.output_bucket
        statements = [
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket.arn_for_objects(f"{self.input_prefix}*")]),
            iam.PolicyStatement(actions=["s3:PutObject", "s3:AbortMultipartUpload"], resources=[
                bucket.arn_for_objects(f"{self.output_prefix}*"), bucket.arn_for_objects(f"{self.failure_prefix}*")]),
            iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Encrypt"], resources=[self.encryption_key.key_arn]),
        ]
        if bucket.encryption_key is not None:  # payloads are written with the bucket's default key
            statements.append(iam.PolicyStatement(actions=["kms:Decrypt"], resources=[bucket.encryption_key.key_arn]))
        if topics:
            statements.append(iam.PolicyStatement(actions=["sns:Publish"], resources=[t.topic_arn for t in topics]))
            keys = {id(k): k for k in (getattr(t, "master_key", None) for t in topics) if k is not None}
            if keys:
                statements.append(iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"],
                                                      resources=[k.key_arn for k in keys.values()]))
        add_statements(self, model.role, statements, role_is_prepared=getattr(model, "role_is_prepared", False),
                       argument="model.role")

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` call ``InvokeEndpointAsync`` on this endpoint and put request payloads
        under :attr:`input_prefix` (with data keys of the bucket's key, and its ``kms:Decrypt``:
        the SDKs upload a large payload in parts, and "to use an AWS KMS key to encrypt a multipart
        upload, you must have kms:GenerateDataKey and kms:Decrypt permissions",
        https://repost.aws/knowledge-center/s3-large-file-encryption-kms-key)."""
        grant = iam.Grant.add_to_principal(grantee=grantee, actions=_INVOKE_ASYNC, resource_arns=[self.endpoint_arn])
        grant = grant.combine(iam.Grant.add_to_principal(
            grantee=grantee, actions=["s3:PutObject", "s3:AbortMultipartUpload"],
            resource_arns=[self.output_bucket.arn_for_objects(f"{self.input_prefix}*")]))
        if self.output_bucket.encryption_key is not None:
            grant = grant.combine(iam.Grant.add_to_principal(
                grantee=grantee, actions=["kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt"],
                resource_arns=[self.output_bucket.encryption_key.key_arn]))
        return grant

    def grant_read_results(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read results and failures (and decrypt them with ``encryption_key``)."""
        grant = iam.Grant.add_to_principal(grantee=grantee, actions=["s3:GetObject"], resource_arns=[
            self.output_bucket.arn_for_objects(f"{self.output_prefix}*"),
            self.output_bucket.arn_for_objects(f"{self.failure_prefix}*")])
        return grant.combine(iam.Grant.add_to_principal(grantee=grantee, actions=["kms:Decrypt"],
                                                        resource_arns=[self.encryption_key.key_arn]))

    def metric_backlog_size_per_instance(self, *, statistic: str | None = None,
                                         period: Duration | None = None) -> cloudwatch.Metric:
        """``ApproximateBacklogSizePerInstance`` (dimension ``EndpointName``). Default: ``Average`` over 1 minute."""
        return cloudwatch.Metric(namespace="AWS/SageMaker", metric_name="ApproximateBacklogSizePerInstance",
                                 dimensions_map={"EndpointName": self.endpoint_name},
                                 statistic=statistic or "Average", period=period or Duration.minutes(1))

    def scale_on_schedule(self, id: str, *, schedule: "str | appscaling.Schedule", min_capacity: int | None = None,
                          max_capacity: int | None = None, time_zone: "str | TimeZone | None" = None) -> None:
        """Change the autoscaling bounds (instance counts) at the times ``schedule`` names; between
        0 (with ``scale_to_zero``; else 1) and ``max_instance_count``. See
        :meth:`RealtimeEndpoint.scale_on_schedule` for the schedule forms."""
        from .schedules import add_scheduled_action

        add_scheduled_action(
            self, self.scalable_target, id, schedule=schedule, min_capacity=min_capacity, max_capacity=max_capacity,
            time_zone=time_zone, floor=0 if self.scale_to_zero else 1, ceiling=self.max_instance_count,
            unit="instances",
            floor_reason="this endpoint was created with scale_to_zero=False; at least 1",
            no_target_reason="the endpoint has no scalable target",
        )


__all__ = ["AsyncEndpoint", "MAX_ASYNC_CONCURRENCY"]
