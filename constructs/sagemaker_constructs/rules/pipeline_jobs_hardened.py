"""SageMaker-PipelineJobsHardened: a pipeline's training and processing steps are isolated,
encrypted and in a VPC."""

from __future__ import annotations

from typing import Any, Mapping

from ._base import C, N, NA, Compliance, Rule
from .pipeline_definitions import pipeline_definition, pipeline_steps


def pipeline_jobs_hardened(resource: Mapping[str, Any]) -> Compliance:
    definition = pipeline_definition(resource)
    if definition is None:
        return NA  # the definition lives in S3 or cannot be read at synth
    jobs = [s for s in pipeline_steps(definition.get("Steps", [])) if s.get("Type") in ("Training", "Processing")]
    if not jobs:
        return NA
    for step in jobs:
        a = step.get("Arguments") or {}
        if step["Type"] == "Training":
            hardened = (a.get("EnableNetworkIsolation") is True
                        and (a.get("ResourceConfig") or {}).get("VolumeKmsKeyId")
                        and (a.get("OutputDataConfig") or {}).get("KmsKeyId") and a.get("VpcConfig"))
        else:
            net = a.get("NetworkConfig") or {}
            cluster = (a.get("ProcessingResources") or {}).get("ClusterConfig") or {}
            hardened = (net.get("EnableNetworkIsolation") is True and cluster.get("VolumeKmsKeyId")
                        and net.get("VpcConfig"))
        if not hardened:
            return N
    return C


RULE = Rule("SageMaker-PipelineJobsHardened", "AWS::SageMaker::Pipeline",
            "A training or processing step runs without network isolation, a volume/output KMS key or a VPC.",
            "TrainingPipeline builds every job isolated, encrypted and in the VPC.", pipeline_jobs_hardened)
