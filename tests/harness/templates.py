"""Helpers to read synthesized templates: scrub asset hashes, find resources."""

from __future__ import annotations

import re
from typing import Any, Iterator

from aws_cdk import Stack
from aws_cdk.assertions import Template

_ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")


def scrub(value: Any) -> Any:
    """Replace CDK asset hashes (64 hex digits) so snapshots survive unrelated code changes."""
    if isinstance(value, str):
        return _ASSET_HASH.sub("<asset-hash>", value)
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    return value


def template_of(stack: Stack) -> dict:
    return Template.from_stack(stack).to_json()


def resources(template: dict, type_: str) -> dict[str, dict]:
    """``{logical_id: resource}`` for every resource of ``type_``."""
    return {k: v for k, v in template.get("Resources", {}).items() if v["Type"] == type_}


def only(template: dict, type_: str) -> dict:
    """The properties of the one resource of ``type_`` (fails when there are 0 or several)."""
    found = resources(template, type_)
    assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
    return next(iter(found.values())).get("Properties", {})


def walk(value: Any) -> Iterator[Any]:
    """Every nested value of a template fragment, depth first."""
    yield value
    if isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)
