"""Reading an ``AWS::SageMaker::Pipeline`` resource's inline definition, for rules and tests."""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from .._internal.json_text import join_json
from ._base import props


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_TOKEN = object()


def _pieces(value: Any) -> list[Any]:
    """A CloudFormation string value as literal strings and ``_TOKEN`` (an unresolved part):
    ``Fn::Join`` (any delimiter, nested) and ``Fn::Sub`` (``${!Literal}`` is literal) are split."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict) and len(value) == 1 and "Fn::Join" in value:
        join = value["Fn::Join"]
        if isinstance(join, list) and len(join) == 2 and isinstance(join[0], str) and isinstance(join[1], list):
            pieces: list[Any] = []
            for i, part in enumerate(join[1]):
                pieces += ([join[0]] if i else []) + _pieces(part)
            return pieces
    if isinstance(value, dict) and len(value) == 1 and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        text = sub[0] if isinstance(sub, list) and sub else sub
        if isinstance(text, str):
            pieces, at = [], 0
            for match in _SUB_VARIABLE.finditer(text):
                pieces.append(text[at:match.start()])
                literal = match.group(1).startswith("!")
                pieces.append("${" + match.group(1)[1:] + "}" if literal else _TOKEN)
                at = match.end()
            return [*pieces, text[at:]]
    return [_TOKEN]


def _render(pieces: list[Any]) -> str:
    """The JSON text with each unresolved part as ``TOKEN``: inside a JSON string as it stands,
    elsewhere (a number or boolean CDK rendered unquoted, ``{"Count":`` + Ref + ``,...``) as the
    string ``"TOKEN"``, so the rest of the definition still parses."""
    return join_json(pieces, lambda piece, in_string: None if piece is not _TOKEN else (
        "TOKEN" if in_string else '"TOKEN"'))


def pipeline_definition(resource: Mapping[str, Any]) -> dict[str, Any] | None:
    """The inline definition of an ``AWS::SageMaker::Pipeline`` resource, references rendered as
    ``TOKEN`` (a reference in a number's or boolean's place as the string ``"TOKEN"``); None when
    it lives in S3 or cannot be read at synth."""
    body = (props(resource).get("PipelineDefinition") or {}).get("PipelineDefinitionBody")
    if body is None:
        return None
    pieces = _pieces(body)
    if pieces == [_TOKEN]:
        return None  # the whole body is a reference (a parameter, an import)
    try:
        definition = json.loads(_render(pieces))
    except ValueError:
        return None
    return definition if isinstance(definition, dict) else None


def pipeline_steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every step of a definition's ``Steps``, including those inside condition steps."""
    found: list[dict[str, Any]] = []
    for step in steps or []:
        found.append(step)
        if step.get("Type") == "Condition":
            args = step.get("Arguments") or {}
            found.extend(pipeline_steps(args.get("IfSteps", []) + args.get("ElseSteps", [])))
    return found
