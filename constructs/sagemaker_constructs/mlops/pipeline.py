"""MLOps: a training pipeline (train, evaluate, condition, register) into a model registry group."""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from ..compliance import acknowledge_iam_findings_at_synth
from ..validation.instances import INSTANCE_TYPE_PATTERN
from ..errors import ValidationError, check_int_range, check_pattern
from ..inference.models import ContainerImage
from ..validation.naming import default_name
from ..network import private_subnets
from ..security.roles import JobExecutionRole, depend_on_role_policies
from .registry import ModelPackageGroup

#: Pipeline names: 1-256 letters, digits and hyphens (no leading/trailing hyphen); we also refuse "--".
PIPELINE_NAME_PATTERN = r"[a-zA-Z0-9](-?[a-zA-Z0-9]){0,255}"
#: CreateTrainingJob's MaxRuntimeInSeconds / MaxWaitTimeInSeconds ceiling: 28 days.
MAX_TRAINING_SECONDS = 28 * 24 * 3600
SCHEDULE_PATTERN = r"(rate\(\s*[1-9][0-9]*\s+(minute|minutes|hour|hours|day|days)\s*\)|cron\(\S+( \S+){5}\))"
DEFINITION_VERSION = "2020-12-01"

TRAIN, EVALUATE, CHECK, REGISTER, FAIL = "Train", "Evaluate", "CheckMetric", "Register", "MetricBelowThreshold"
EVALUATION_REPORT = "EvaluationReport"


def get(path: str) -> dict[str, str]:
    """A pipeline property reference: ``get("Parameters.InputDataUrl")``."""
    return {"Get": path}


def join(*values: Any, on: str = "/") -> dict[str, Any]:
    """``Std:Join`` of values (strings, parameters or step properties) at execution time."""
    return {"Std:Join": {"On": on, "Values": list(values)}}


class TrainingPipeline(Construct):
    """A SageMaker Pipeline (``AWS::SageMaker::Pipeline``, child ``Resource``) whose definition is
    built here, in typed Python, and placed inline (``PipelineDefinitionBody``) so every job
    setting shows up in a CloudFormation diff.

    Steps: ``Train`` (training job) -> ``Evaluate`` (processing job writing ``evaluation.json``) ->
    ``CheckMetric`` (``metrics.<metric_name>.value >= MetricThreshold``) -> ``Register`` (a model
    package in ``model_package_group``, ``PendingManualApproval``) or ``MetricBelowThreshold`` (Fail).

    Every job: in the VPC subnets with ``security_groups`` (default: a new group, child
    ``JobSecurityGroup``, that allows traffic only within itself and HTTPS out), network isolation,
    inter-container traffic encryption, ``encryption_key`` on volumes and outputs, a max runtime.
    Training: managed spot capacity with checkpoints in the bucket and a max wait when
    ``use_spot``. Outputs go to ``s3://<data_bucket>/<output_prefix>/<execution id>/...``.

    Parameters of each execution: ``InputDataUrl``, ``TestDataUrl``, ``TrainingInstanceType``,
    ``MetricThreshold``.

    Default role: a :class:`JobExecutionRole` (child ``Role``) that orchestrates pipelines, reads
    and writes ``data_bucket``, uses the key, and may register versions in the group only.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        training_image: ContainerImage,
        data_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        vpc: ec2.IVpc,
        model_package_group: ModelPackageGroup,
        instance_type: str = "ml.m5.xlarge",
        instance_count: int = 1,
        use_spot: bool = True,
        max_runtime: Duration = Duration.hours(2),
        max_wait: Duration | None = None,
        hyperparameters: Mapping[str, str] | None = None,
        role: iam.IRole | None = None,
        subnets: Sequence[ec2.ISubnet] | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        pipeline_name: str | None = None,
        training_code: str | None = None,
        entry_point: str = "train.py",
        evaluation_script: str,
        evaluation_image: ContainerImage | None = None,
        evaluation_instance_type: str = "ml.m5.large",
        inference_image: ContainerImage | None = None,
        inference_environment: Mapping[str, str] | None = None,
        metric_name: str = "accuracy",
        metric_threshold: float = 0.8,
        input_prefix: str = "training/",
        test_prefix: str = "test/",
        output_prefix: str = "pipelines",
        volume_size_gb: int = 30,
        s3_prefix_list_id: str | None = None,
    ) -> None:
        """
        :param training_image: the training container (e.g. SageMaker's scikit-learn image).
        :param data_bucket: input data, outputs, checkpoints and evaluation reports.
        :param encryption_key: key for volumes, outputs and the registry's artifacts.
        :param vpc: the jobs' VPC (``IsolatedNetwork``'s ``vpc``).
        :param model_package_group: where passing models are registered.
        :param instance_type: default of the ``TrainingInstanceType`` parameter. Default: ml.m5.xlarge.
        :param instance_count: training instances (at least 1). Default: 1.
        :param use_spot: managed spot training with checkpoints. Default: true.
        :param max_runtime: training max runtime (1 s - 28 days). Default: 2 hours.
        :param max_wait: spot max wait, at least ``max_runtime``. Default: twice ``max_runtime``
            (capped at 28 days).
        :param hyperparameters: string hyperparameters. Default: none.
        :param role: Default: a new ``JobExecutionRole`` (child ``Role``).
        :param subnets: Default: the VPC's private and isolated subnets.
        :param security_groups: Default: a new security group (child ``JobSecurityGroup``).
        :param pipeline_name: Default: a unique name derived from the construct path.
        :param training_code: a ``sourcedir.tar.gz`` with ``entry_point`` for script-mode images,
            passed as the ``code`` channel (works with network isolation). Default: none (the
            image runs its own entry point).
        :param evaluation_script: a Python file run with ``python3`` in the evaluation job; it reads
            the model in ``/opt/ml/processing/model`` and test data in ``/opt/ml/processing/test``
            and writes ``/opt/ml/processing/evaluation/evaluation.json`` with
            ``{"metrics": {"<metric_name>": {"value": ...}}}``.
        :param evaluation_image: Default: ``training_image``.
        :param inference_image: image registered for serving. Default: ``training_image``.
        :param inference_environment: environment registered with the model. Default: none.
        :param metric_name: the metric compared with the threshold. Default: accuracy.
        :param metric_threshold: default of the ``MetricThreshold`` parameter. Default: 0.8.
        :param s3_prefix_list_id: the region's S3 prefix list, to limit the jobs' HTTPS egress to the
            VPC endpoints and S3. Default: HTTPS to anywhere (in an isolated VPC that reaches only
            the VPC endpoints and S3's gateway).
        """
        super().__init__(scope, id)
        self._validate(instance_type, instance_count, max_runtime, max_wait, use_spot, pipeline_name, metric_name,
                       metric_threshold, evaluation_instance_type, volume_size_gb, hyperparameters, entry_point)
        for argument, value in (("training_image", training_image), ("data_bucket", data_bucket),
                                ("encryption_key", encryption_key), ("vpc", vpc),
                                ("model_package_group", model_package_group)):
            if value is None:
                raise ValidationError(self, argument, None, "required")
        chosen = private_subnets(self, vpc, subnets)

        self.data_bucket = data_bucket
        self.encryption_key = encryption_key
        self.model_package_group = model_package_group
        self.pipeline_name = pipeline_name or default_name(self, max_length=80)
        self.role: iam.IRole = role or JobExecutionRole(
            self, "Role", encryption_key=encryption_key, data_buckets=[data_bucket], output_bucket=data_bucket,
            orchestrate_pipelines=True,
        )
        if isinstance(self.role, Construct):
            acknowledge_iam_findings_at_synth(
                self.role,
                reason=(
                    "Grants of this pipeline's own code assets (read) and model registry group "
                    "(versions are numbered at run time, so model-package/<group>/*)."
                ),
            )
        model_package_group.grant_register(self.role)
        self.security_groups = list(security_groups) if security_groups else [
            self._job_security_group(vpc, s3_prefix_list_id)
        ]
        vpc_config = {"Subnets": [s.subnet_id for s in chosen],
                      "SecurityGroupIds": [g.security_group_id for g in self.security_groups]}

        image_uri = training_image.bind(self, self.role)
        eval_uri = evaluation_image.bind(self, self.role) if evaluation_image else image_uri
        serve_uri = inference_image.bind(self, self.role) if inference_image else image_uri
        evaluation = s3_assets.Asset(self, "EvaluationScript", path=evaluation_script)
        evaluation.grant_read(self.role)
        code = None
        if training_code is not None:
            code = s3_assets.Asset(self, "TrainingCode", path=training_code)
            code.grant_read(self.role)

        runtime = int(max_runtime.to_seconds())
        wait = int(max_wait.to_seconds()) if max_wait else min(2 * runtime, MAX_TRAINING_SECONDS)
        base = f"s3://{data_bucket.bucket_name}/{output_prefix.strip('/')}/{self.pipeline_name}"
        key_arn = encryption_key.key_arn

        self.parameters = [
            {"Name": "InputDataUrl", "Type": "String", "DefaultValue": f"s3://{data_bucket.bucket_name}/{input_prefix}"},
            {"Name": "TestDataUrl", "Type": "String", "DefaultValue": f"s3://{data_bucket.bucket_name}/{test_prefix}"},
            {"Name": "TrainingInstanceType", "Type": "String", "DefaultValue": instance_type},
            {"Name": "MetricThreshold", "Type": "Float", "DefaultValue": float(metric_threshold)},
        ]
        train = self._training_step(
            image_uri=image_uri, role_arn=self.role.role_arn, key_arn=key_arn, vpc_config=vpc_config,
            instance_count=instance_count, volume_size_gb=volume_size_gb, runtime=runtime, wait=wait,
            use_spot=use_spot, base=base, hyperparameters=hyperparameters, code=code, entry_point=entry_point,
        )
        evaluate = self._evaluation_step(
            image_uri=eval_uri, role_arn=self.role.role_arn, key_arn=key_arn, vpc_config=vpc_config,
            instance_type=evaluation_instance_type, volume_size_gb=volume_size_gb, base=base, script=evaluation,
        )
        register = {
            "Name": REGISTER,
            "Type": "RegisterModel",
            "Arguments": {
                "ModelPackageGroupName": model_package_group.model_package_group_name,
                "ModelPackageDescription": f"Trained by pipeline {self.pipeline_name}",
                "ModelApprovalStatus": "PendingManualApproval",
                "InferenceSpecification": {
                    "Containers": [{
                        "Image": serve_uri,
                        "ModelDataUrl": get(f"Steps.{TRAIN}.ModelArtifacts.S3ModelArtifacts"),
                        **({"Environment": dict(inference_environment)} if inference_environment else {}),
                    }],
                    "SupportedContentTypes": ["application/json", "text/csv"],
                    "SupportedResponseMIMETypes": ["application/json"],
                    "SupportedRealtimeInferenceInstanceTypes": ["ml.m5.large", "ml.m5.xlarge", "ml.c5.large"],
                    "SupportedTransformInstanceTypes": ["ml.m5.large", "ml.m5.xlarge"],
                },
                "ModelMetrics": {"ModelQuality": {"Statistics": {
                    "ContentType": "application/json",
                    "S3Uri": join(base, get("Execution.PipelineExecutionId"), "evaluation", "evaluation.json"),
                }}},
            },
        }
        fail = {"Name": FAIL, "Type": "Fail", "Arguments": {
            "ErrorMessage": join(f"{metric_name} below", get("Parameters.MetricThreshold"), on=" ")}}
        check = {
            "Name": CHECK,
            "Type": "Condition",
            "Arguments": {
                "Conditions": [{
                    "Type": "GreaterThanOrEqualTo",
                    "LeftValue": {"Std:JsonGet": {
                        "PropertyFile": get(f"Steps.{EVALUATE}.PropertyFiles.{EVALUATION_REPORT}"),
                        "Path": f"metrics.{metric_name}.value",
                    }},
                    "RightValue": get("Parameters.MetricThreshold"),
                }],
                "IfSteps": [register],
                "ElseSteps": [fail],
            },
        }
        #: The pipeline definition (a dict; tokens resolve at synth).
        self.definition: dict[str, Any] = {
            "Version": DEFINITION_VERSION,
            "Metadata": {},
            "Parameters": self.parameters,
            "PipelineExperimentConfig": {
                "ExperimentName": get("Execution.PipelineName"),
                "TrialName": get("Execution.PipelineExecutionId"),
            },
            "Steps": [train, evaluate, check],
        }
        self.cfn_pipeline = sagemaker.CfnPipeline(
            self,
            "Resource",
            pipeline_name=self.pipeline_name,
            role_arn=self.role.role_arn,
            pipeline_description=f"Train, evaluate and register into {model_package_group.model_package_group_name}",
            pipeline_definition={"PipelineDefinitionBody": Stack.of(self).to_json_string(self.definition)},
        )
        depend_on_role_policies(self.cfn_pipeline, self.role)
        self.pipeline_arn = Stack.of(self).format_arn(
            service="sagemaker", resource="pipeline", resource_name=self.pipeline_name.lower()
        )

    # ------------------------------------------------------------------ public
    def grant_start(self, grantee: iam.IGrantable) -> iam.Grant:
        """Start, describe and stop executions of this pipeline."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:StartPipelineExecution", "sagemaker:DescribePipelineExecution",
                     "sagemaker:StopPipelineExecution"],
            resource_arns=[self.pipeline_arn, f"{self.pipeline_arn}/execution/*"],
        )

    def schedule(self, expression: str, *, parameters: Mapping[str, str] | None = None,
                 id: str = "Schedule") -> scheduler.CfnSchedule:
        """Start the pipeline on ``expression`` (``rate(...)`` or ``cron(...)``) through EventBridge
        Scheduler, with a role (child ``<id>Role``) that may only start this pipeline, the target
        input encrypted with the pipeline's key, and retries for 24 hours."""
        check_pattern(self, "schedule expression", expression, SCHEDULE_PATTERN,
                      description="rate(<n> minutes|hours|days) or cron(<6 fields>)")
        for name in (parameters or {}):
            check_pattern(self, "schedule parameter name", name, r"[A-Za-z0-9\-_]{1,256}",
                          description="a pipeline parameter name")
        role = iam.Role(
            self,
            f"{id}Role",
            assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com").with_conditions(
                {"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            description=f"EventBridge Scheduler: start pipeline {self.pipeline_name}",
        )
        policy = iam.ManagedPolicy(self, f"{id}Policy", roles=[role], statements=[
            iam.PolicyStatement(actions=["sagemaker:StartPipelineExecution"], resources=[self.pipeline_arn]),
            iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[self.encryption_key.key_arn]),
        ])
        schedule = scheduler.CfnSchedule(
            self,
            id,
            description=f"Runs the SageMaker pipeline {self.pipeline_name}",
            schedule_expression=expression,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            kms_key_arn=self.encryption_key.key_arn,
            target=scheduler.CfnSchedule.TargetProperty(
                arn=self.pipeline_arn,
                role_arn=role.role_arn,
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_event_age_in_seconds=86400, maximum_retry_attempts=10
                ),
                sage_maker_pipeline_parameters=scheduler.CfnSchedule.SageMakerPipelineParametersProperty(
                    pipeline_parameter_list=[
                        scheduler.CfnSchedule.SageMakerPipelineParameterProperty(name=k, value=v)
                        for k, v in (parameters or {}).items()
                    ] or None
                ),
            ),
        )
        schedule.node.add_dependency(policy)
        schedule.node.add_dependency(self.cfn_pipeline)
        return schedule

    # ------------------------------------------------------------------ internals
    def _validate(self, instance_type, instance_count, max_runtime, max_wait, use_spot, pipeline_name, metric_name,
                  metric_threshold, evaluation_instance_type, volume_size_gb, hyperparameters, entry_point) -> None:
        for argument, value in (("instance_type", instance_type), ("evaluation_instance_type", evaluation_instance_type)):
            check_pattern(self, argument, value, INSTANCE_TYPE_PATTERN, description="ml.<family>.<size>")
        check_int_range(self, "instance_count", instance_count, minimum=1, maximum=100)
        check_int_range(self, "volume_size_gb", volume_size_gb, minimum=1, maximum=16384)
        check_pattern(self, "pipeline_name", pipeline_name, PIPELINE_NAME_PATTERN, max_length=256,
                      description="1-256 letters, digits and single hyphens, starting and ending with a letter or digit")
        check_pattern(self, "metric_name", metric_name, r"[A-Za-z_][A-Za-z0-9_]{0,127}",
                      description="a JSON key (letters, digits, underscore)")
        check_pattern(self, "entry_point", entry_point, r"[A-Za-z0-9_./-]{1,256}", description="a file name")
        if not isinstance(metric_threshold, (int, float)) or metric_threshold != metric_threshold:
            raise ValidationError(self, "metric_threshold", metric_threshold, "a number")
        if not max_runtime.is_unresolved():
            check_int_range(self, "max_runtime (seconds)", max_runtime.to_seconds(), minimum=1,
                            maximum=MAX_TRAINING_SECONDS)
        if max_wait is not None:
            if not use_spot:
                raise ValidationError(self, "max_wait", max_wait.to_human_string(), "only with use_spot=True")
            if not max_wait.is_unresolved() and not max_runtime.is_unresolved():
                check_int_range(self, "max_wait (seconds)", max_wait.to_seconds(), minimum=max_runtime.to_seconds(),
                                maximum=MAX_TRAINING_SECONDS)
        for key, value in (hyperparameters or {}).items():
            if not isinstance(value, str) or len(key) > 256 or len(value) > 2500:
                raise ValidationError(self, f"hyperparameters[{key!r}]", value,
                                      "string values (at most 2500 characters), keys of at most 256")

    def _job_security_group(self, vpc: ec2.IVpc, s3_prefix_list_id: str | None) -> ec2.SecurityGroup:
        sg = ec2.SecurityGroup(
            self, "JobSecurityGroup", vpc=vpc, allow_all_outbound=False,
            description="SageMaker pipeline jobs: traffic within the group, HTTPS to VPC endpoints and S3",
        )
        sg.add_ingress_rule(sg, ec2.Port.all_tcp(), "Distributed training within the group")
        sg.add_egress_rule(sg, ec2.Port.all_tcp(), "Distributed training within the group")
        if s3_prefix_list_id is not None:
            sg.add_egress_rule(ec2.Peer.ipv4(vpc.vpc_cidr_block), ec2.Port.tcp(443), "HTTPS to the VPC endpoints")
            sg.add_egress_rule(ec2.Peer.prefix_list(s3_prefix_list_id), ec2.Port.tcp(443), "HTTPS to S3 (gateway)")
        else:
            sg.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443),
                               "HTTPS: in an isolated VPC only the VPC endpoints and the S3 gateway answer")
        return sg

    def _training_step(self, *, image_uri, role_arn, key_arn, vpc_config, instance_count, volume_size_gb, runtime,
                       wait, use_spot, base, hyperparameters, code, entry_point) -> dict[str, Any]:
        channels: list[dict[str, Any]] = [{
            "ChannelName": "train",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": get("Parameters.InputDataUrl"),
                                            "S3DataDistributionType": "FullyReplicated"}},
        }]
        hp = dict(hyperparameters or {})
        if code is not None:
            channels.append({"ChannelName": "code", "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": code.s3_object_url, "S3DataDistributionType": "FullyReplicated"}}})
            # Script mode with network isolation reads its code from the "code" channel (as the SDK does).
            hp.update({"sagemaker_program": json.dumps(entry_point),
                       "sagemaker_submit_directory": json.dumps(f"/opt/ml/input/data/code/{code.s3_object_key}"),
                       "sagemaker_region": json.dumps(Aws.REGION)})
        stopping: dict[str, Any] = {"MaxRuntimeInSeconds": runtime}
        arguments: dict[str, Any] = {
            "AlgorithmSpecification": {"TrainingImage": image_uri, "TrainingInputMode": "File"},
            "OutputDataConfig": {"S3OutputPath": join(base, get("Execution.PipelineExecutionId"), "model"),
                                 "KmsKeyId": key_arn},
            "ResourceConfig": {"InstanceCount": instance_count, "InstanceType": get("Parameters.TrainingInstanceType"),
                               "VolumeSizeInGB": volume_size_gb, "VolumeKmsKeyId": key_arn},
            "StoppingCondition": stopping,
            "RoleArn": role_arn,
            "InputDataConfig": channels,
            "VpcConfig": vpc_config,
            "EnableNetworkIsolation": True,
            "EnableInterContainerTrafficEncryption": True,
            "EnableManagedSpotTraining": bool(use_spot),
        }
        if hp:
            arguments["HyperParameters"] = hp
        if use_spot:
            stopping["MaxWaitTimeInSeconds"] = wait
            arguments["CheckpointConfig"] = {"S3Uri": f"{base}/checkpoints"}
        return {"Name": TRAIN, "Type": "Training", "Arguments": arguments}

    def _evaluation_step(self, *, image_uri, role_arn, key_arn, vpc_config, instance_type, volume_size_gb, base,
                         script: s3_assets.Asset) -> dict[str, Any]:
        def s3_input(name: str, uri: Any, local: str) -> dict[str, Any]:
            return {"InputName": name, "S3Input": {
                "S3Uri": uri, "LocalPath": local, "S3DataType": "S3Prefix", "S3InputMode": "File",
                "S3DataDistributionType": "FullyReplicated"}}

        return {
            "Name": EVALUATE,
            "Type": "Processing",
            "Arguments": {
                "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": instance_type,
                                                          "VolumeSizeInGB": volume_size_gb, "VolumeKmsKeyId": key_arn}},
                "AppSpecification": {"ImageUri": image_uri, "ContainerEntrypoint": [
                    "python3", f"/opt/ml/processing/input/code/{script.s3_object_key}"]},
                "RoleArn": role_arn,
                "ProcessingInputs": [
                    s3_input("model", get(f"Steps.{TRAIN}.ModelArtifacts.S3ModelArtifacts"), "/opt/ml/processing/model"),
                    s3_input("test", get("Parameters.TestDataUrl"), "/opt/ml/processing/test"),
                    s3_input("code", script.s3_object_url, "/opt/ml/processing/input/code"),
                ],
                "ProcessingOutputConfig": {"Outputs": [{"OutputName": "evaluation", "S3Output": {
                    "S3Uri": join(base, get("Execution.PipelineExecutionId"), "evaluation"),
                    "LocalPath": "/opt/ml/processing/evaluation", "S3UploadMode": "EndOfJob"}}],
                    "KmsKeyId": key_arn},
                "NetworkConfig": {"EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True,
                                  "VpcConfig": vpc_config},
                "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
            },
            "PropertyFiles": [{"PropertyFileName": EVALUATION_REPORT, "OutputName": "evaluation",
                               "FilePath": "evaluation.json"}],
        }
