"""SageMaker-PipelineJobsHardened: a pipeline's job steps (training, tuning, processing, transform,
AutoML, quality and Clarify checks) and model steps are isolated where the job type allows it,
encrypted and in a VPC. A Clarify check runs without network isolation, as Clarify requires
(https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-vpc.html): VPC, keys and
inter-container traffic encryption are checked instead."""

from __future__ import annotations

from typing import Any, Mapping

from ..validation.instances import has_instance_storage
from ._base import C, N, NA, Compliance, Rule
from .pipeline_definitions import pipeline_definition, pipeline_steps

JOB_STEP_TYPES = ("Training", "Processing", "Tuning", "Transform", "AutoML", "Model", "QualityCheck", "ClarifyCheck")


def _instance_type(value: Any, defaults: Mapping[str, Any]) -> Any:
    """An instance type as the job runs it by default: a pipeline parameter (``{"Get":
    "Parameters.<name>"}``) stands for its ``DefaultValue``."""
    if isinstance(value, dict) and isinstance(value.get("Get"), str) and value["Get"].startswith("Parameters."):
        return defaults.get(value["Get"][len("Parameters."):])
    return value


def _volume_keyed(resources: Mapping[str, Any], defaults: Mapping[str, Any]) -> bool:
    """A job's volumes have ``VolumeKmsKeyId``, or none is possible: every instance it runs on has
    local NVMe instance storage, encrypted by the instance, where SageMaker refuses a volume key
    ("You can't request a VolumeKmsKeyId when using an instance type with local storage",
    https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ResourceConfig.html), so the
    pipeline steps leave it out there (``mlops.definition.job_volume_key``)."""
    if resources.get("VolumeKmsKeyId"):
        return True
    groups = [g for g in resources.get("InstanceGroups") or [] if isinstance(g, dict)]
    types = [_instance_type(g.get("InstanceType"), defaults) for g in groups] or [
        _instance_type(resources.get("InstanceType"), defaults)]
    return all(isinstance(t, str) and has_instance_storage(t) for t in types)


def _training_hardened(a: Mapping[str, Any], defaults: Mapping[str, Any]) -> bool:
    return bool(a.get("EnableNetworkIsolation") is True and _volume_keyed(a.get("ResourceConfig") or {}, defaults)
                and (a.get("OutputDataConfig") or {}).get("KmsKeyId") and a.get("VpcConfig"))


def _hardened(step: Mapping[str, Any], defaults: Mapping[str, Any]) -> bool:
    a = step.get("Arguments") or {}
    kind = step.get("Type")
    if kind == "Training":
        return _training_hardened(a, defaults)
    if kind == "Tuning":
        definitions = [a.get("TrainingJobDefinition")] if a.get("TrainingJobDefinition") else []
        definitions += list(a.get("TrainingJobDefinitions") or [])
        return bool(definitions) and all(_training_hardened(x or {}, defaults) for x in definitions)
    if kind in ("Processing", "QualityCheck", "ClarifyCheck"):
        net = a.get("NetworkConfig") or {}
        cluster = (a.get("ProcessingResources") or {}).get("ClusterConfig") or {}
        encrypted = bool(_volume_keyed(cluster, defaults) and net.get("VpcConfig"))
        if kind == "ClarifyCheck":
            return encrypted and net.get("EnableInterContainerTrafficEncryption") is True and bool(
                (a.get("ProcessingOutputConfig") or {}).get("KmsKeyId"))
        # outputs the job uploads to S3 are encrypted with ProcessingOutputConfig.KmsKeyId (a job
        # with no outputs uploads nothing)
        outputs = a.get("ProcessingOutputConfig")
        output_keyed = not outputs or bool(isinstance(outputs, dict) and outputs.get("KmsKeyId"))
        return encrypted and output_keyed and net.get("EnableNetworkIsolation") is True
    if kind == "Transform":  # isolation and VPC are the model's (a Model step, checked on its own)
        return bool(_volume_keyed(a.get("TransformResources") or {}, defaults)
                    and (a.get("TransformOutput") or {}).get("KmsKeyId"))
    if kind == "AutoML":  # Autopilot has no network-isolation setting
        security = (a.get("AutoMLJobConfig") or a.get("SecurityConfig") or {})
        security = security.get("SecurityConfig", security)
        return bool(security.get("VolumeKmsKeyId") and security.get("VpcConfig")
                    and (a.get("OutputDataConfig") or {}).get("KmsKeyId"))
    return bool(a.get("EnableNetworkIsolation") is True and a.get("VpcConfig"))  # Model


def pipeline_jobs_hardened(resource: Mapping[str, Any]) -> Compliance:
    definition = pipeline_definition(resource)
    if definition is None:
        return NA  # the definition lives in S3 or cannot be read at synth
    jobs = [s for s in pipeline_steps(definition.get("Steps", [])) if s.get("Type") in JOB_STEP_TYPES]
    if not jobs:
        return NA
    defaults: dict[str, Any] = {str(p.get("Name")): p.get("DefaultValue")
                                for p in definition.get("Parameters") or [] if isinstance(p, dict)}
    return C if all(_hardened(step, defaults) for step in jobs) else N


RULE = Rule("SageMaker-PipelineJobsHardened", "AWS::SageMaker::Pipeline",
            "A pipeline job step (training, tuning, processing, transform, AutoML, quality or Clarify check) or "
            "model step runs without network isolation (where the job type has it), a volume/output KMS key or a VPC.",
            "Pipeline steps inherit every job isolated, encrypted and in the VPC.", pipeline_jobs_hardened)
