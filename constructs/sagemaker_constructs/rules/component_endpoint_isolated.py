"""SageMaker-ComponentEndpointIsolated: inference-component endpoints isolate or place their containers.

An endpoint configuration whose instance variants name no model hosts inference components;
CreateEndpointConfig's ``EnableNetworkIsolation`` ("Sets whether all model containers deployed to
the endpoint are isolated") and ``VpcConfig`` are where such an endpoint's network is set
(https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html).
"""

from __future__ import annotations

from typing import Any, Mapping

from ._base import NA, Compliance, Rule, is_true, ok, props


def component_endpoint_isolated(resource: Mapping[str, Any]) -> Compliance:
    variants = [v for v in props(resource).get("ProductionVariants") or [] if isinstance(v, dict)]
    if not variants or any("ModelName" in v or "ServerlessConfig" in v for v in variants):
        return NA  # models named per variant: SageMaker-ModelNetworkIsolation / ModelInVpc read them
    isolated = is_true(props(resource).get("EnableNetworkIsolation"))
    return ok(isolated or bool(props(resource).get("VpcConfig")))


RULE = Rule("SageMaker-ComponentEndpointIsolated", "AWS::SageMaker::EndpointConfig",
            "An inference-component endpoint's containers have network access: neither EnableNetworkIsolation "
            "nor a VpcConfig is set on its endpoint configuration.",
            "InferenceComponentEndpoint(network_isolation=True) (the default) or vpc=...",
            component_endpoint_isolated)
