"""Batch inference: :class:`BatchTransform`, a (scheduled) SageMaker pipeline around one batch
transform job, built on :class:`~sagemaker_constructs.Pipeline`, :class:`CreateModelStep` and
:class:`TransformStep`."""

from __future__ import annotations

from typing import Mapping, Sequence

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from ..errors import ValidationError, check_int_range
from ..inference.models import ContainerImage
from . import steps as st
from .expressions import Execution, Expression, Parameter, s3_uri
from .pipeline import Pipeline

#: API_CreateTransformJob ``MaxPayloadInMB``: 0-100 (0: no limit, for streaming).
MAX_PAYLOAD_MB = 100


class BatchTransform(Construct):
    """Scores an S3 prefix with a model in one batch transform job, as a SageMaker pipeline
    (child ``Pipeline``, its ``AWS::SageMaker::Pipeline`` is ``Pipeline/Resource``) of two steps:
    ``CreateModel`` (network isolation, in the VPC) and ``Transform``.

    Default settings: ``encryption_key`` on the transform volume and output, the model in
    ``vpc``'s private subnets with network isolation (a transform job takes both from its model,
    API_CreateTransformJob), the pipeline's default role, a max payload and batch strategy of
    SageMaker's defaults. Parameters of each execution: ``InputDataUrl``, ``OutputDataUrl`` and
    ``ModelDataUrl`` (defaults: the arguments). With ``schedule`` the pipeline runs on it through
    EventBridge Scheduler (role that may only start this pipeline).

    Properties: :attr:`pipeline` (the :class:`Pipeline`), :attr:`transform` and :attr:`model` (the
    steps), :attr:`schedule` (the ``CfnSchedule`` or None).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        image: ContainerImage,
        model_data: str,
        input_uri: str,
        output_uri: str,
        encryption_key: kms.IKey,
        vpc: ec2.IVpc,
        schedule: str | None = None,
        instance_type: str = "ml.m5.large",
        instance_count: int = 1,
        content_type: str | None = None,
        accept: str | None = None,
        split_type: str = "None",
        batch_strategy: str | None = None,
        max_payload_mb: int | None = None,
        max_concurrent_transforms: int | None = None,
        assemble_with: str | None = None,
        input_filter: str | None = None,
        output_filter: str | None = None,
        join_source: str | None = None,
        environment: Mapping[str, str] | None = None,
        data_bucket: s3.IBucket | None = None,
        read_buckets: Sequence[s3.IBucket] = (),
        role: iam.IRole | None = None,
        role_is_prepared: bool = False,
        subnets: Sequence[ec2.ISubnet] | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        pipeline_name: str | None = None,
    ) -> None:
        """
        :param image: the serving container.
        :param model_data: the ``model.tar.gz`` S3 URI (default of ``ModelDataUrl``).
        :param input_uri: the S3 prefix scored (default of ``InputDataUrl``).
        :param output_uri: where results go (default of ``OutputDataUrl``); each execution writes
            under ``<output>/<execution id>/``.
        :param encryption_key: key of the transform volume and output.
        :param vpc: the model's VPC.
        :param schedule: ``rate(...)`` or ``cron(...)`` (EventBridge Scheduler). Default: none (start
            it yourself, ``pipeline.grant_start``).
        :param instance_type: Default: ml.m5.large. :param instance_count: 1-100. Default: 1.
        :param content_type: the input MIME type. Default: the container's.
        :param accept: the output MIME type. Default: the container's.
        :param split_type: None, Line, RecordIO or TFRecord. Default: None.
        :param batch_strategy: MultiRecord or SingleRecord. Default: SageMaker's.
        :param max_payload_mb: 0-100 MB per request (API_CreateTransformJob ``MaxPayloadInMB``).
            Default: SageMaker's (6 MB).
        :param max_concurrent_transforms: Default: SageMaker's.
        :param assemble_with: None or Line. Default: none.
        :param input_filter: / :param output_filter: JSONPath data processing filters
            (https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform-data-processing.html).
            Default: none.
        :param join_source: None or Input (join each input record to its prediction). Default: none.
        :param environment: the container's environment. Default: none.
        :param data_bucket: a bucket the jobs read and write. Default: none.
        :param read_buckets: buckets the jobs only read (model data, input). Default: none.
        :param role: / :param role_is_prepared: / :param subnets: / :param security_groups: /
            :param pipeline_name: as :class:`Pipeline`.
        """
        super().__init__(scope, id)
        if not isinstance(image, ContainerImage):
            raise ValidationError(self, "image", image, "a ContainerImage")
        if max_payload_mb is not None:
            check_int_range(self, "max_payload_mb", max_payload_mb, minimum=0, maximum=MAX_PAYLOAD_MB)
        check_int_range(self, "instance_count", instance_count, minimum=1, maximum=100)
        for argument, value in (("model_data", model_data), ("input_uri", input_uri), ("output_uri", output_uri)):
            if isinstance(value, Expression) or not isinstance(value, str) or not value.startswith("s3://"):
                raise ValidationError(self, argument, value, "an s3:// URI (the default of the execution's parameter)")
        self.input_parameter: Parameter = Parameter.string("InputDataUrl", input_uri)
        self.output_parameter: Parameter = Parameter.string("OutputDataUrl", output_uri)
        self.model_data_parameter: Parameter = Parameter.string("ModelDataUrl", model_data)
        self.model: st.CreateModelStep = st.CreateModelStep(
            "CreateModel", image=image, model_data=self.model_data_parameter, environment=environment)
        self.transform: st.TransformStep = st.TransformStep(
            "Transform", model_name=self.model.model_name, input_uri=self.input_parameter,
            output_uri=s3_uri(self.output_parameter, Execution.ID), instance_type=instance_type,
            instance_count=instance_count, content_type=content_type, split_type=split_type,
            batch_strategy=batch_strategy, max_payload_mb=max_payload_mb,
            max_concurrent_transforms=max_concurrent_transforms, accept=accept, assemble_with=assemble_with,
            input_filter=input_filter, output_filter=output_filter, join_source=join_source,
            environment=environment,
        )
        self.pipeline: Pipeline = Pipeline(
            self, "Pipeline", steps=[self.model, self.transform], encryption_key=encryption_key, vpc=vpc,
            parameters=[self.input_parameter, self.output_parameter, self.model_data_parameter], role=role,
            role_is_prepared=role_is_prepared, data_bucket=data_bucket, read_buckets=read_buckets, subnets=subnets,
            security_groups=security_groups, pipeline_name=pipeline_name,
            description="Batch transform: create the model, score the input prefix",
        )
        self.schedule: scheduler.CfnSchedule | None = self.pipeline.schedule(schedule) if schedule else None

    @property
    def pipeline_name(self) -> str:
        return self.pipeline.pipeline_name

    @property
    def pipeline_arn(self) -> str:
        return self.pipeline.pipeline_arn

    def grant_start(self, grantee: iam.IGrantable) -> iam.Grant:
        """Start, describe and stop executions of the batch pipeline."""
        return self.pipeline.grant_start(grantee)


__all__ = ["BatchTransform"]
