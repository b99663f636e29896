"""SageMaker-ModelExplainabilityJobHardened: feature-attribution monitoring jobs run in a VPC and
are encrypted. Network isolation is not checked: Clarify queries a shadow endpoint of the model
and needs it off (https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-vpc.html)."""

from __future__ import annotations

from typing import Any, Mapping

from ._base import Compliance, Rule, is_true, ok, props


def model_explainability_job_hardened(resource: Mapping[str, Any]) -> Compliance:
    p = props(resource)
    net = p.get("NetworkConfig") or {}
    cluster = (p.get("JobResources") or {}).get("ClusterConfig") or {}
    output = p.get("ModelExplainabilityJobOutputConfig") or {}
    return ok(bool(net.get("VpcConfig")) and is_true(net.get("EnableInterContainerTrafficEncryption"))
              and bool(cluster.get("VolumeKmsKeyId")) and bool(output.get("KmsKeyId")))


RULE = Rule("SageMaker-ModelExplainabilityJobHardened", "AWS::SageMaker::ModelExplainabilityJobDefinition",
            "The feature-attribution monitoring job runs outside a VPC, without inter-container traffic encryption "
            "or without customer-managed keys.",
            "ModelExplainabilityMonitor (in the VPC, encrypted).", model_explainability_job_hardened)
