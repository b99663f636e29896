"""The SageMaker Pipelines definition builder: typed helpers that render the JSON of a pipeline
definition (version ``2020-12-01``), apart from the constructs that place it in a template.

What is here is plain data in, plain dicts out (tokens resolve when the construct renders the
definition with ``Stack.to_json_string``):

* references (``get``, ``join``, ``json_get``, ``final_metric``), rendered as the definition's
  ``Get`` / ``Std:Join`` / ``Std:JsonGet`` forms;
* parameters (``parameter``);
* ``JobSettings``: the secure defaults every job step inherits (role, KMS key for volumes and
  outputs, VPC, network isolation, inter-container traffic encryption);
* step builders (``training_step``, ``processing_step``, ``register_model_step``,
  ``condition_step``, ``fail_step``) and ``pipeline_definition``;
* ``container_file_name``: where a code asset lands inside a job's container.

Each builder returns one step dict whose ``Arguments`` are the request of the step's API
(CreateTrainingJob, CreateProcessingJob, CreateModelPackage); tests validate them against
botocore's input shapes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence


from ..validation.catalog import volume_key
from ..errors import is_unresolved
from aws_cdk import aws_s3_assets as s3_assets
from .expressions import Parameter

if TYPE_CHECKING:
    from .expressions import Expression

DEFINITION_VERSION = "2020-12-01"


# ------------------------------------------------------------------ references
def get(path: str) -> dict[str, str]:
    """A pipeline property reference: ``get("Parameters.InputDataUrl")``."""
    return {"Get": path}


def join(*values: Any, on: str = "/") -> dict[str, Any]:
    """``Std:Join`` of values (strings, parameters or step properties) at execution time."""
    return {"Std:Join": {"On": on, "Values": list(values)}}


def json_get(step: str, property_file: str, path: str) -> dict[str, Any]:
    """``Std:JsonGet``: the value at ``path`` of a processing step's property file."""
    return {"Std:JsonGet": {"PropertyFile": get(f"Steps.{step}.PropertyFiles.{property_file}"), "Path": path}}


def final_metric(step: str, metric_name: str) -> dict[str, str]:
    """The final value of a training step's metric (one of its ``MetricDefinitions``), as the
    SageMaker Python SDK renders ``step.properties.FinalMetricDataList['<name>'].Value``."""
    if "'" in metric_name:
        raise ValueError(f"a metric name referenced in a pipeline cannot contain a quote: {metric_name!r}")
    return get(f"Steps.{step}.FinalMetricDataList['{metric_name}'].Value")


def model_artifacts(step: str) -> dict[str, str]:
    """The S3 URI of a training step's ``model.tar.gz``."""
    return get(f"Steps.{step}.ModelArtifacts.S3ModelArtifacts")


EXECUTION_ID = get("Execution.PipelineExecutionId")


def parameter(name: str, type: str, default: Any) -> dict[str, Any]:
    """A pipeline parameter (``String``, ``Integer``, ``Float`` or ``Boolean``) with its default."""
    return {"Name": name, "Type": type, "DefaultValue": default}


# ------------------------------------------------------------------ instance types
def instance_type_default(instance_type: Any) -> Any:
    """What a job runs on unless an execution says otherwise: a literal type as it is, a String
    parameter's literal default (``TrainingPipeline``'s ``TrainingInstanceType``), anything else
    (a step property, a parameter without a default) unchanged."""
    if isinstance(instance_type, Parameter) and isinstance(instance_type.default, str):
        return instance_type.default
    return instance_type


def job_volume_key(instance_type: Any, key_arn: Any, *, member: str = "VolumeKmsKeyId") -> dict[str, Any]:
    """``catalog.volume_key`` of the type a job runs on by default: none for a type with local NVMe
    storage, given literally or as a parameter's default (SageMaker refuses ``VolumeKmsKeyId`` for
    those types, so an execution with the default failed). An execution overriding the parameter
    with a type of the other storage kind is refused (by SageMaker, or by the role's volume-key
    guardrail)."""
    return volume_key(instance_type_default(instance_type), key_arn, member=member)


# ------------------------------------------------------------------ secure job defaults
@dataclass(frozen=True)
class JobSettings:
    """What every job step of a pipeline inherits: the role it runs as, the KMS key of its
    volumes and outputs, and its VPC. Network isolation and inter-container traffic encryption
    are always on."""

    role_arn: str
    key_arn: str
    vpc_config: Mapping[str, Any]

    def network_config(self) -> dict[str, Any]:
        """A processing job's ``NetworkConfig``."""
        return {"EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True,
                "VpcConfig": dict(self.vpc_config)}


# ------------------------------------------------------------------ code assets inside containers
def container_file_name(asset: s3_assets.Asset, source_path: str) -> str:
    """The name a code asset's file has inside a job's container, whatever the synthesizer.

    A training channel or processing input with ``S3DataType: S3Prefix`` downloads the objects
    whose keys start with ``S3Uri`` ("identifies a key name prefix", API reference ``S3DataSource``
    and ``ProcessingS3Input``, https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_S3DataSource.html).
    Pointed at one object, the file lands in the channel's directory under the key's last path
    segment: the SageMaker Python SDK relies on this for script mode with network isolation (it
    uploads ``<job>/source/sourcedir.tar.gz`` and passes
    ``Framework.CONTAINER_CODE_CHANNEL_SOURCEDIR_PATH = "/opt/ml/input/data/code/sourcedir.tar.gz"``,
    src/sagemaker/estimator.py) and for script processors (``/opt/ml/processing/input/code/<file>``).
    So the name is the object key's last segment, never the whole key: a synthesizer's
    ``bucket_prefix`` (``team-a/``) is not part of it.

    * A key known at synth (``DefaultStackSynthesizer``, ``CliCredentialsStackSynthesizer``,
      custom synthesizers with literal keys): its last segment.
    * A key known only at deploy time (``LegacyStackSynthesizer``'s asset parameters): CDK's
      synthesizers name the object ``<asset hash><extension>`` (``.zip`` for directories, the
      file's extension otherwise) under any prefix, so that name.
    """
    key = asset.s3_object_key
    if not is_unresolved(key):
        return key.rsplit("/", 1)[-1]
    extension = ".zip" if os.path.isdir(source_path) else os.path.splitext(source_path)[1]
    return f"{asset.asset_hash}{extension}"


# ------------------------------------------------------------------ steps
def s3_channel(name: str, uri: Any) -> dict[str, Any]:
    """A training input channel reading every object under ``uri`` (File mode)."""
    return {"ChannelName": name, "DataSource": {"S3DataSource": {
        "S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": "FullyReplicated"}}}


def training_step(
    name: str,
    job: JobSettings,
    *,
    image_uri: str,
    instance_type: Any,
    instance_count: int,
    volume_size_gb: int,
    max_runtime_seconds: int,
    output_uri: Any,
    channels: Sequence[Mapping[str, Any]],
    use_spot: bool = False,
    max_wait_seconds: int | None = None,
    checkpoint_uri: str | None = None,
    hyperparameters: Mapping[str, str] | None = None,
    metric_definitions: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A ``Training`` step (CreateTrainingJob), isolated, encrypted and in the VPC; on managed
    spot capacity with checkpoints when ``use_spot``."""
    algorithm: dict[str, Any] = {"TrainingImage": image_uri, "TrainingInputMode": "File"}
    if metric_definitions:
        algorithm["MetricDefinitions"] = [{"Name": k, "Regex": v} for k, v in metric_definitions.items()]
    stopping: dict[str, Any] = {"MaxRuntimeInSeconds": max_runtime_seconds}
    arguments: dict[str, Any] = {
        "AlgorithmSpecification": algorithm,
        "OutputDataConfig": {"S3OutputPath": output_uri, "KmsKeyId": job.key_arn},
        "ResourceConfig": {"InstanceCount": instance_count, "InstanceType": instance_type,
                           "VolumeSizeInGB": volume_size_gb, **job_volume_key(instance_type, job.key_arn)},
        "StoppingCondition": stopping,
        "RoleArn": job.role_arn,
        "InputDataConfig": [dict(c) for c in channels],
        "VpcConfig": dict(job.vpc_config),
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": True,
        "EnableManagedSpotTraining": bool(use_spot),
    }
    if hyperparameters:
        arguments["HyperParameters"] = dict(hyperparameters)
    if use_spot:
        if max_wait_seconds is not None:
            stopping["MaxWaitTimeInSeconds"] = max_wait_seconds
        if checkpoint_uri is not None:
            arguments["CheckpointConfig"] = {"S3Uri": checkpoint_uri}
    return {"Name": name, "Type": "Training", "Arguments": arguments}


def processing_input(name: str, uri: Any, local_path: str) -> dict[str, Any]:
    """A processing job input: every object under ``uri`` downloaded to ``local_path``."""
    return {"InputName": name, "S3Input": {
        "S3Uri": uri, "LocalPath": local_path, "S3DataType": "S3Prefix", "S3InputMode": "File",
        "S3DataDistributionType": "FullyReplicated"}}


def processing_output(name: str, uri: Any, local_path: str) -> dict[str, Any]:
    """A processing job output uploaded from ``local_path`` to ``uri`` when the job ends."""
    return {"OutputName": name, "S3Output": {"S3Uri": uri, "LocalPath": local_path, "S3UploadMode": "EndOfJob"}}


def property_file(name: str, output_name: str, file_path: str) -> dict[str, str]:
    """A JSON file of a processing output that later steps read with :func:`json_get`."""
    return {"PropertyFileName": name, "OutputName": output_name, "FilePath": file_path}


def processing_step(
    name: str,
    job: JobSettings,
    *,
    image_uri: str,
    entrypoint: Sequence[str],
    instance_type: str,
    volume_size_gb: int,
    inputs: Sequence[Mapping[str, Any]],
    outputs: Sequence[Mapping[str, Any]],
    max_runtime_seconds: int = 3600,
    instance_count: int = 1,
    property_files: Sequence[Mapping[str, str]] = (),
) -> dict[str, Any]:
    """A ``Processing`` step (CreateProcessingJob), isolated, encrypted and in the VPC."""
    step: dict[str, Any] = {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {"ClusterConfig": {"InstanceCount": instance_count, "InstanceType": instance_type,
                                                      "VolumeSizeInGB": volume_size_gb,
                                                      **job_volume_key(instance_type, job.key_arn)}},
            "AppSpecification": {"ImageUri": image_uri, "ContainerEntrypoint": list(entrypoint)},
            "RoleArn": job.role_arn,
            "ProcessingInputs": [dict(i) for i in inputs],
            "ProcessingOutputConfig": {"Outputs": [dict(o) for o in outputs], "KmsKeyId": job.key_arn},
            "NetworkConfig": job.network_config(),
            "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime_seconds},
        },
    }
    if property_files:
        step["PropertyFiles"] = [dict(p) for p in property_files]
    return step


@dataclass(frozen=True)
class ServingMetadata:
    """What a registered model version says it can be served on (CreateModelPackage's
    ``InferenceSpecification``); an empty transform list leaves batch transform out."""

    content_types: Sequence[str]
    response_types: Sequence[str]
    inference_instance_types: Sequence[str]
    transform_instance_types: Sequence[str]


def register_model_step(
    name: str,
    *,
    model_package_group_name: str,
    description: str,
    image_uri: str | Expression,
    model_data_url: Any,
    serving: ServingMetadata,
    environment: Mapping[str, str] | None = None,
    approval_status: str = "PendingManualApproval",
    model_quality_report_uri: Any = None,
) -> dict[str, Any]:
    """A ``RegisterModel`` step (CreateModelPackage): a new version in the group."""
    inference: dict[str, Any] = {
        "Containers": [{
            "Image": image_uri,
            "ModelDataUrl": model_data_url,
            **({"Environment": dict(environment)} if environment else {}),
        }],
        "SupportedContentTypes": list(serving.content_types),
        "SupportedResponseMIMETypes": list(serving.response_types),
        "SupportedRealtimeInferenceInstanceTypes": list(serving.inference_instance_types),
    }
    if serving.transform_instance_types:
        inference["SupportedTransformInstanceTypes"] = list(serving.transform_instance_types)
    arguments: dict[str, Any] = {
        "ModelPackageGroupName": model_package_group_name,
        "ModelPackageDescription": description,
        "ModelApprovalStatus": approval_status,
        "InferenceSpecification": inference,
    }
    if model_quality_report_uri is not None:
        arguments["ModelMetrics"] = {"ModelQuality": {"Statistics": {
            "ContentType": "application/json", "S3Uri": model_quality_report_uri}}}
    return {"Name": name, "Type": "RegisterModel", "Arguments": arguments}


def fail_step(name: str, message: Any) -> dict[str, Any]:
    """A ``Fail`` step: the execution stops with ``message``."""
    return {"Name": name, "Type": "Fail", "Arguments": {"ErrorMessage": message}}


def greater_than_or_equal(left: Any, right: Any) -> dict[str, Any]:
    return {"Type": "GreaterThanOrEqualTo", "LeftValue": left, "RightValue": right}


def less_than_or_equal(left: Any, right: Any) -> dict[str, Any]:
    return {"Type": "LessThanOrEqualTo", "LeftValue": left, "RightValue": right}


def condition_step(name: str, conditions: Sequence[Mapping[str, Any]], if_steps: Sequence[Mapping[str, Any]],
                   else_steps: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A ``Condition`` step: ``if_steps`` when every condition holds, else ``else_steps``."""
    return {"Name": name, "Type": "Condition", "Arguments": {
        "Conditions": [dict(c) for c in conditions],
        "IfSteps": [dict(s) for s in if_steps],
        "ElseSteps": [dict(s) for s in else_steps],
    }}


def pipeline_definition(parameters: Sequence[Mapping[str, Any]], steps: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The whole definition; each execution is recorded as a trial of the pipeline's experiment."""
    return {
        "Version": DEFINITION_VERSION,
        "Metadata": {},
        "Parameters": [dict(p) for p in parameters],
        "PipelineExperimentConfig": {
            "ExperimentName": get("Execution.PipelineName"),
            "TrialName": EXECUTION_ID,
        },
        "Steps": [dict(s) for s in steps],
    }
