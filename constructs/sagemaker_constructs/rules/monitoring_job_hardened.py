"""SageMaker-MonitoringJobHardened: data-quality monitoring jobs are isolated and encrypted."""

from __future__ import annotations

from typing import Any, Mapping

from ._base import Compliance, Rule, is_true, ok, props


def monitoring_job_hardened(resource: Mapping[str, Any]) -> Compliance:
    p = props(resource)
    net = p.get("NetworkConfig") or {}
    cluster = (p.get("JobResources") or {}).get("ClusterConfig") or {}
    output = p.get("DataQualityJobOutputConfig") or {}
    return ok(is_true(net.get("EnableNetworkIsolation")) and bool(cluster.get("VolumeKmsKeyId"))
              and bool(output.get("KmsKeyId")))


RULE = Rule("SageMaker-MonitoringJobHardened", "AWS::SageMaker::DataQualityJobDefinition",
            "The monitoring job runs without network isolation or customer-managed keys.",
            "ModelMonitor (isolated, encrypted).", monitoring_job_hardened)
