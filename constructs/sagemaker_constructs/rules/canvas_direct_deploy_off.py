"""SageMaker-CanvasDirectDeployOff: Canvas users do not deploy models to endpoints themselves."""

from __future__ import annotations

from typing import Any, Mapping

from ._base import Compliance, Rule, ok, props


def canvas_direct_deploy_off(resource: Mapping[str, Any]) -> Compliance:
    settings = props(resource).get("CanvasAppSettings") or {}
    return ok((settings.get("DirectDeploySettings") or {}).get("Status") != "ENABLED")


RULE = Rule("SageMaker-CanvasDirectDeployOff", "Custom::CanvasSettings",
            "Canvas users may deploy models to endpoints directly, outside the model registry's approval.",
            "CanvasSettings(direct_deploy=False) (the default); register into a ModelPackageGroup and deploy on "
            "approval instead.", canvas_direct_deploy_off)
