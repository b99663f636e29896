"""Structural diff of template values: dicts by key, lists by a name key, JSON-in-string as structure.

A change is one line a reviewer reads: ``ProductionVariants.AllTraffic.InstanceType: ml.m5.large
-> ml.m5.xlarge``. CloudFormation intrinsics are rendered the way ``Fn::Sub`` writes them
(``${Bucket.Arn}``, ``${AWS::Region}``), so ``Fn::Join`` pieces read as one string, and a string
that parses as a JSON object or array (an inline pipeline definition, a Step Functions definition,
a custom resource payload) is diffed as structure, never as one escaped line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from .._internal.json_text import join_json

#: Keys that name the items of a list of objects (the first one every item has, uniquely, wins).
ID_KEYS: tuple[str, ...] = ("Name", "Sid", "PolicyName", "VariantName", "ChannelName", "ParameterKey", "OutputName",
                            "InputName", "MetricName", "Key", "Id", "ContainerHostname", "AttributeName")

_MAX_VALUE = 160  # characters of a rendered value before it is cut
_CONTEXT = 40     # characters shown either side of the first difference in a long string


@dataclass(frozen=True)
class Change:
    """One difference. ``path`` is dotted (``ResourceConfig.InstanceType``; a named list item is
    ``.Name``, an unnamed one ``[i]``); ``within`` names the JSON-in-string property the path is
    inside (``PipelineDefinition.PipelineDefinitionBody``), None for ordinary values. ``kind`` is
    ``changed``, ``added``, ``removed``, ``reordered``, or for pipeline steps ``step-added``,
    ``step-removed``, ``step-moved``. ``raw`` is the path in template coordinates (list indices),
    up to the string a JSON document was read from: what create-only properties are matched on.
    """

    path: str
    kind: str
    old: Any = None
    new: Any = None
    within: str | None = None
    raw: tuple[Any, ...] = field(default=(), compare=False)

    def to_dict(self) -> dict[str, Any]:
        out = {"path": self.path, "kind": self.kind}
        if self.within:
            out["within"] = self.within
        if self.kind in ("changed", "removed", "step-removed", "step-moved", "reordered"):
            out["old"] = _jsonable(self.old)
        if self.kind in ("changed", "added", "step-added", "step-moved", "reordered"):
            out["new"] = _jsonable(self.new)
        return out

    def line(self) -> str:
        """The Markdown-free line: ``path: old -> new``, ``path: added value``, ..."""
        if self.kind == "changed":
            if isinstance(self.old, str) and isinstance(self.new, str) and max(len(self.old), len(self.new)) > _MAX_VALUE:
                old, new = _window(self.old, self.new)
                return f"{self.path}: {old} -> {new}"
            return f"{self.path}: {fmt(self.old)} -> {fmt(self.new)}"
        if self.kind == "added":
            return f"{self.path}: added {fmt(self.new)}"
        if self.kind == "removed":
            return f"{self.path}: removed {fmt(self.old)}"
        if self.kind == "reordered":
            return f"{self.path}: reordered {fmt(self.old)} -> {fmt(self.new)}"
        if self.kind == "step-added":
            return f"{self.path}: step added ({self.new})"
        if self.kind == "step-removed":
            return f"{self.path}: step removed ({self.old})"
        if self.kind == "step-moved":
            return f"{self.path}: step moved from {self.old} to {self.new}"
        return f"{self.path}: {self.kind}"


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if is_intrinsic(value):
        return render(value)
    return json.loads(json.dumps(value, default=str))


def is_intrinsic(value: Any) -> bool:
    """A CloudFormation intrinsic: a one-key dict ``{"Ref": ...}`` or ``{"Fn::...": ...}``."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    (key,) = value
    return key == "Ref" or key.startswith("Fn::") or key == "Condition"


_NO_VALUE = {"Ref": "AWS::NoValue"}


def deployable(value: Any) -> list[Any]:
    """The items a value may deploy: a list's items, each branch of an ``Fn::If`` (either may be
    deployed, so a wildcard or an open rule in one branch is introduced), ``AWS::NoValue`` left out."""
    if value is None or value == _NO_VALUE:
        return []
    if isinstance(value, list):
        return [item for inner in value for item in deployable(inner)]
    branch = value.get("Fn::If") if isinstance(value, dict) and len(value) == 1 else None
    if isinstance(branch, list) and len(branch) == 3:
        return deployable(branch[1]) + deployable(branch[2])
    return [value]


def render(value: Any) -> str:
    """A value as a string, intrinsics written the way ``Fn::Sub`` would (``${X.Arn}``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) or value is None:
        return json.dumps(value)
    if is_intrinsic(value):
        ((key, arg),) = value.items()
        if key == "Ref":
            return "${" + render(arg) + "}"
        if key == "Fn::GetAtt":
            parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return "${" + ".".join(render(p) for p in parts) + "}"
        if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
            return render(arg[0]).join(render(p) for p in arg[1])
        if key == "Fn::Sub":
            if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], dict):
                # the variables are part of the value: ${Env} with Env=prod renders as prod
                text = render(arg[0])
                for name, variable in arg[1].items():
                    text = text.replace("${" + str(name) + "}", render(variable))
                return text
            return render(arg[0] if isinstance(arg, list) and arg else arg)
        if key == "Fn::ImportValue":
            return "${Import:" + render(arg) + "}"
        if key == "Fn::FindInMap" and isinstance(arg, list):
            return "${Map:" + ".".join(render(p) for p in arg) + "}"
        if key == "Fn::Select" and isinstance(arg, list) and len(arg) == 2:
            return "${Select:" + render(arg[0]) + ":" + render(arg[1]) + "}"
        if key == "Fn::If" and isinstance(arg, list) and len(arg) == 3:
            return "${If:" + render(arg[0]) + "?" + render(arg[1]) + ":" + render(arg[2]) + "}"
        return "${" + key + ":" + json.dumps(arg, sort_keys=True, separators=(",", ":")) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(render(v) for v in value) + "]"
    return json.dumps({k: _jsonable(v) for k, v in value.items()}, sort_keys=True, separators=(",", ":"))


def fmt(value: Any) -> str:
    """A value for a change line, cut at 160 characters."""
    text = render(value)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def _window(old: str, new: str) -> tuple[str, str]:
    """The part of two long strings around their first difference."""
    p = 0
    while p < min(len(old), len(new)) and old[p] == new[p]:
        p += 1
    s = 0
    while s < min(len(old), len(new)) - p and old[-1 - s] == new[-1 - s]:
        s += 1
    start = max(0, p - _CONTEXT)

    def cut(text: str) -> str:
        end = min(len(text), len(text) - s + _CONTEXT)
        body = text[start:end]
        if len(body) > 2 * _MAX_VALUE:
            body = body[: 2 * _MAX_VALUE] + "…"
        return ("…" if start else "") + body + ("…" if end < len(text) else "")

    return cut(old), cut(new)


def json_document(value: Any) -> dict[str, Any] | list[Any] | None:
    """The JSON object or array a string (or an ``Fn::Join``/``Fn::Sub`` of one) holds, references
    rendered as ``${...}`` inside its strings; None when it holds none."""
    if isinstance(value, str):
        text = value
    elif is_intrinsic(value) and next(iter(value)) in ("Fn::Join", "Fn::Sub"):
        text = _render_for_json(value)
    else:
        return None
    text = text.strip()
    if not text or text[0] not in "[{":
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, (dict, list)) else None


class _Token(str):
    """A reference inside JSON text (its :func:`render` text), as opposed to literal text."""


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _pieces(value: Any) -> list[str]:
    """A string value as literal text and :class:`_Token` parts: ``Fn::Join`` (nested, any
    delimiter) and ``Fn::Sub`` (its variables; ``${!Literal}`` is literal) are split."""
    if isinstance(value, str):
        return [value]
    if is_intrinsic(value):
        ((key, arg),) = value.items()
        if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
            delimiter = _pieces(arg[0])
            pieces: list[str] = []
            for i, part in enumerate(arg[1]):
                pieces += (delimiter if i else []) + _pieces(part)
            return pieces
        if key == "Fn::Sub":
            text = arg[0] if isinstance(arg, list) and arg else arg
            variables = arg[1] if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], dict) else {}
            if isinstance(text, str):
                pieces, at = [], 0
                for match in _SUB_VARIABLE.finditer(text):
                    pieces.append(text[at:match.start()])
                    name = match.group(1)
                    if name.startswith("!"):
                        pieces.append("${" + name[1:] + "}")
                    elif name in variables:
                        pieces += _pieces(variables[name])
                    else:
                        pieces.append(_Token(match.group(0)))
                    at = match.end()
                return [*pieces, text[at:]]
    return [_Token(render(value))]


def _render_for_json(value: Any) -> str:
    """Like :func:`render`, but a reference inside a JSON string literal is escaped for it, and
    one outside any string (a number or boolean CDK wrote unquoted: ``{"InstanceCount":`` + Ref
    + ``}``) is written as the string ``"${Count}"``, so the rest of the document still parses."""
    return join_json(_pieces(value), lambda piece, in_string: None if not isinstance(piece, _Token) else (
        json.dumps(str(piece))[1:-1] if in_string else json.dumps(str(piece))))


def diff(old: Any, new: Any, path: tuple[Any, ...] = (), *, raw: tuple[Any, ...] = (), within: str | None = None) -> list[Change]:
    """Every change from ``old`` to ``new`` (template values), JSON-in-string read as structure."""
    out: list[Change] = []
    _diff(old, new, list(path), raw, within, out)
    return out


def _join(path: list[Any]) -> str:
    text = ""
    for seg in path:
        if isinstance(seg, int):
            text += f"[{seg}]"
        else:
            text += ("." if text else "") + str(seg)
    return text


def _diff(old: Any, new: Any, path: list[Any], raw: tuple[Any, ...], within: str | None, out: list[Change]) -> None:
    if old == new:
        return
    if within is None:
        old_doc, new_doc = json_document(old), json_document(new)
        if old_doc is not None and new_doc is not None:
            where = _join(path) or "(value)"
            if _is_pipeline_definition(old_doc) and _is_pipeline_definition(new_doc):
                _diff_pipeline(old_doc, new_doc, raw, where, out)
            else:
                _diff(old_doc, new_doc, [], raw, where, out)
            return
    if is_intrinsic(old) or is_intrinsic(new):
        if render(old) != render(new):
            out.append(Change(_join(path), "changed", old, new, within, raw))
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            sub_raw = raw + (key,) if within is None else raw
            if key not in new:
                out.append(Change(_join(path + [key]), "removed", old[key], None, within, sub_raw))
            elif key not in old:
                out.append(Change(_join(path + [key]), "added", None, new[key], within, sub_raw))
            else:
                _diff(old[key], new[key], path + [key], sub_raw, within, out)
        return
    if isinstance(old, list) and isinstance(new, list):
        _diff_list(old, new, path, raw, within, out)
        return
    out.append(Change(_join(path), "changed", old, new, within, raw))


def _id_key(*lists: list[Any]) -> str | None:
    """The first of :data:`ID_KEYS` that every item of each list has, uniquely within its list."""
    if not all(lists) or not all(isinstance(i, dict) and not is_intrinsic(i) for items in lists for i in items):
        return None
    for key in ID_KEYS:
        for items in lists:
            values = [i.get(key) for i in items]
            if not (all(isinstance(v, str) for v in values) and len(set(values)) == len(values)):
                break
        else:
            return key
    return None


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _diff_list(old: list[Any], new: list[Any], path: list[Any], raw: tuple[Any, ...], within: str | None, out: list[Change]) -> None:
    key = _id_key(old, new)
    if key is not None:
        old_by = {i[key]: (n, i) for n, i in enumerate(old)}
        new_by = {i[key]: (n, i) for n, i in enumerate(new)}
        for name, (n, item) in old_by.items():
            sub_raw = raw + (n,) if within is None else raw
            if name not in new_by:
                out.append(Change(_join(path + [name]), "removed", item, None, within, sub_raw))
            else:
                _diff(item, new_by[name][1], path + [name], sub_raw, within, out)
        for name, (n, item) in new_by.items():
            if name not in old_by:
                out.append(Change(_join(path + [name]), "added", None, item, within, raw + (n,) if within is None else raw))
        return
    scalars = all(not isinstance(i, (dict, list)) or is_intrinsic(i) for i in old + new)
    if len(old) == len(new) and not scalars:
        for n, (a, b) in enumerate(zip(old, new)):
            _diff(a, b, path + [n], raw + (n,) if within is None else raw, within, out)
        return
    old_c, new_c = [_canon(i) for i in old], [_canon(i) for i in new]
    if sorted(old_c) == sorted(new_c):
        out.append(Change(_join(path), "reordered", old, new, within, raw))
        return
    remaining = list(new_c)
    for item, c in zip(old, old_c):
        if c in remaining:
            remaining.remove(c)
        else:
            out.append(Change(_join(path), "removed", item, None, within, raw))
    left = list(old_c)
    for item, c in zip(new, new_c):
        if c in left:
            left.remove(c)
        else:
            out.append(Change(_join(path), "added", None, item, within, raw))


# --- SageMaker pipeline definitions -------------------------------------------------------------

def _is_pipeline_definition(doc: Any) -> TypeGuard[dict[str, Any]]:
    return (isinstance(doc, dict) and isinstance(doc.get("Steps"), list)
            and all(isinstance(s, dict) and "Name" in s and "Type" in s for s in doc["Steps"]))


def _flatten_steps(steps: list[Any], location: str, found: dict[str, Any]) -> None:
    for step in steps:
        found[str(step.get("Name"))] = (step, location)
        if step.get("Type") == "Condition":
            args = step.get("Arguments") or {}
            for branch in ("IfSteps", "ElseSteps"):
                _flatten_steps(args.get(branch) or [], f"{step.get('Name')}.{branch}", found)


def _step_body(step: dict[str, Any]) -> dict[str, Any]:
    """A step as one flat mapping: its arguments (less a condition's branches, which are compared
    as steps of their own) next to its other keys, so ``Steps.Train.ResourceConfig.InstanceType``
    names an argument; an argument that shares a name with a step key keeps its ``Arguments.``."""
    body = {k: v for k, v in step.items() if k not in ("Name", "Arguments")}
    args = step.get("Arguments")
    if isinstance(args, dict):
        for k, v in args.items():
            if step.get("Type") == "Condition" and k in ("IfSteps", "ElseSteps"):
                v = [s.get("Name") for s in v or []]
            body[k if k not in body else f"Arguments.{k}"] = v
    elif args is not None:
        body["Arguments"] = args
    return body


def steps(doc: Any) -> dict[str, tuple[dict[str, Any], str]]:
    """``{step name: (step, location)}`` of a pipeline definition, condition branches included
    (location ``top level`` or ``<condition step>.IfSteps``/``.ElseSteps``)."""
    found: dict[str, Any] = {}
    if _is_pipeline_definition(doc):
        _flatten_steps(doc["Steps"], "top level", found)
    return found


def _diff_pipeline(old: dict[str, Any], new: dict[str, Any], raw: tuple[Any, ...], within: str, out: list[Change]) -> None:
    rest_old = {k: v for k, v in old.items() if k != "Steps"}
    rest_new = {k: v for k, v in new.items() if k != "Steps"}
    _diff(rest_old, rest_new, [], raw, within, out)
    old_steps, new_steps = steps(old), steps(new)
    for name, (step, location) in old_steps.items():
        if name not in new_steps:
            out.append(Change(f"Steps.{name}", "step-removed", f"{step.get('Type')}, {location}", None, within, raw))
    for name, (step, location) in new_steps.items():
        if name not in old_steps:
            out.append(Change(f"Steps.{name}", "step-added", None, f"{step.get('Type')}, {location}", within, raw))
            continue
        before, before_location = old_steps[name]
        if before_location != location:
            out.append(Change(f"Steps.{name}", "step-moved", before_location, location, within, raw))
        _diff(_step_body(before), _step_body(step), ["Steps", name], raw, within, out)
