"""SageMaker-EndpointMultiInstance: real-time variants start with at least two instances."""

from __future__ import annotations

from typing import Any, Mapping

from ._base import NA, Compliance, Rule, ok, props


def endpoint_multi_instance(resource: Mapping[str, Any]) -> Compliance:
    variants = [v for v in props(resource).get("ProductionVariants") or []
                if isinstance(v, dict) and "ServerlessConfig" not in v]
    if not variants:
        return NA
    counts = [v.get("InitialInstanceCount") for v in variants]
    return ok(all(not isinstance(c, int) or c >= 2 for c in counts))


RULE = Rule("SageMaker-EndpointMultiInstance", "AWS::SageMaker::EndpointConfig",
            "A real-time variant starts with one instance: one AZ failure takes the endpoint down.",
            "RealtimeEndpoint(instance_count=2) (the default).", endpoint_multi_instance)
