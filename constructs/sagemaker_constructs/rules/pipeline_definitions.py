"""Reading an ``AWS::SageMaker::Pipeline`` resource's inline definition, for rules and tests."""

from __future__ import annotations

import json
from typing import Any, Mapping

from ._base import props


def pipeline_definition(resource: Mapping[str, Any]) -> dict[str, Any] | None:
    """The inline definition of an ``AWS::SageMaker::Pipeline`` resource, references rendered as
    ``TOKEN``; None when it lives in S3 or cannot be read at synth."""
    body = (props(resource).get("PipelineDefinition") or {}).get("PipelineDefinitionBody")
    if isinstance(body, dict) and "Fn::Join" in body:
        body = "".join(p if isinstance(p, str) else "TOKEN" for p in body["Fn::Join"][1])
    if not isinstance(body, str):
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def pipeline_steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every step of a definition's ``Steps``, including those inside condition steps."""
    found: list[dict[str, Any]] = []
    for step in steps or []:
        found.append(step)
        if step.get("Type") == "Condition":
            args = step.get("Arguments") or {}
            found.extend(pipeline_steps(args.get("IfSteps", []) + args.get("ElseSteps", [])))
    return found
