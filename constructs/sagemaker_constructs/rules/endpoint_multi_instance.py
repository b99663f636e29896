"""SageMaker-EndpointMultiInstance: real-time variants start with at least two instances."""

from __future__ import annotations

from typing import Any, Mapping

from ._base import NA, Compliance, Rule, integer, ok, props


def _scales_to_zero(variant: Mapping[str, Any]) -> bool:
    """Managed instance scaling down to zero instances (inference components): a chosen cost
    trade-off, not a single-instance endpoint."""
    scaling = variant.get("ManagedInstanceScaling")
    return (isinstance(scaling, dict) and scaling.get("Status", "ENABLED") == "ENABLED"
            and integer(scaling.get("MinInstanceCount")) == 0)


def endpoint_multi_instance(resource: Mapping[str, Any]) -> Compliance:
    if props(resource).get("AsyncInferenceConfig"):
        return NA  # asynchronous requests wait in SageMaker's queue while capacity returns
    variants = [v for v in props(resource).get("ProductionVariants") or []
                if isinstance(v, dict) and "ServerlessConfig" not in v and not _scales_to_zero(v)]
    if not variants:
        return NA
    counts = [integer(v.get("InitialInstanceCount")) for v in variants]  # "1" is CloudFormation's 1 too
    return ok(all(c is None or c >= 2 for c in counts))


RULE = Rule("SageMaker-EndpointMultiInstance", "AWS::SageMaker::EndpointConfig",
            "A real-time variant starts with one instance: one AZ failure takes the endpoint down.",
            "RealtimeEndpoint(instance_count=2) (the default).", endpoint_multi_instance)
