"""SageMaker-ModelNetworkIsolation: a model's containers have no network access."""

from __future__ import annotations

from typing import Any, Mapping

from ._base import Compliance, Rule, is_true, ok, props


def model_network_isolation(resource: Mapping[str, Any]) -> Compliance:
    return ok(is_true(props(resource).get("EnableNetworkIsolation")))


RULE = Rule("SageMaker-ModelNetworkIsolation", "AWS::SageMaker::Model",
            "The model's containers have network access (EnableNetworkIsolation is not true).",
            "Model(network_isolation=True) (the default), unless served serverless.", model_network_isolation)
