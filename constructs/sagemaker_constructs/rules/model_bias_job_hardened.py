"""SageMaker-ModelBiasJobHardened: bias-drift monitoring jobs are isolated and encrypted."""

from __future__ import annotations

from typing import Any, Mapping

from ._base import Compliance, Rule, is_true, ok, props


def model_bias_job_hardened(resource: Mapping[str, Any]) -> Compliance:
    p = props(resource)
    net = p.get("NetworkConfig") or {}
    cluster = (p.get("JobResources") or {}).get("ClusterConfig") or {}
    output = p.get("ModelBiasJobOutputConfig") or {}
    return ok(is_true(net.get("EnableNetworkIsolation")) and is_true(net.get("EnableInterContainerTrafficEncryption"))
              and bool(cluster.get("VolumeKmsKeyId")) and bool(output.get("KmsKeyId")))


RULE = Rule("SageMaker-ModelBiasJobHardened", "AWS::SageMaker::ModelBiasJobDefinition",
            "The bias-drift monitoring job runs without network isolation, inter-container traffic encryption "
            "or customer-managed keys.",
            "ModelBiasMonitor (isolated, encrypted).", model_bias_job_hardened)
