"""Create-only properties from the CloudFormation resource schemas that cfn-lint ships.

CloudFormation replaces a resource (creates a new one, then deletes or orphans the old) when an
update changes one of its ``createOnlyProperties``; ``conditionalCreateOnlyProperties`` may
replace it ("Update requires: Replacement" in the resource reference, e.g.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-s3-bucket.html).
cfn-lint bundles the registry schemas per region under ``cfnlint/data/schemas``:
``providers/<region>.json`` maps each type to ``resources/<hash>.json``. They are read as files,
without importing cfn-lint. cfn-lint is not a runtime dependency of this library: install it
(``pip install cfn-lint``) to have the review check replacements by property.
"""

from __future__ import annotations

from typing import Any

import importlib.util
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

INSTALL_HINT = "install cfn-lint (`pip install cfn-lint`) to check replacements by create-only property"


class SchemasUnavailable(RuntimeError):
    """cfn-lint (and with it the resource schemas) is not installed."""


@dataclass(frozen=True)
class ReplacementRules:
    """A type's create-only property paths (tuples of keys; ``*`` is any list item)."""

    create_only: tuple[tuple[str, ...], ...] = ()
    conditional: tuple[tuple[str, ...], ...] = ()


def schema_dir() -> Path:
    """``.../site-packages/cfnlint/data/schemas``; raises :class:`SchemasUnavailable` without cfn-lint."""
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        raise SchemasUnavailable(f"cfn-lint is not installed: {INSTALL_HINT}")
    for location in spec.submodule_search_locations:
        path = Path(location) / "data" / "schemas"
        if (path / "providers").is_dir():
            return path
    raise SchemasUnavailable(f"cfn-lint has no resource schemas under data/schemas: {INSTALL_HINT}")


@lru_cache(maxsize=None)
def _providers(region: str) -> tuple[Path, dict[str, str]]:
    root = schema_dir()
    path = root / "providers" / f"{region}.json"
    if not path.is_file():
        path = root / "providers" / "us-east-1.json"
    return root, json.loads(path.read_text(encoding="utf-8"))


def _pointer(text: str) -> tuple[str, ...] | None:
    parts = text.strip("/").split("/")
    if len(parts) < 2 or parts[0] != "properties":
        return None
    return tuple(parts[1:])


@lru_cache(maxsize=None)
def replacement_rules(resource_type: str, region: str = "us-east-1") -> ReplacementRules | None:
    """The create-only properties of ``resource_type`` in ``region`` (us-east-1's schemas when
    cfn-lint has none for the region); None for a type with no schema (custom resources)."""
    root, providers = _providers(region)
    name = providers.get(resource_type)
    if name is None:
        return None
    schema = json.loads((root / "resources" / f"{name}.json").read_text(encoding="utf-8"))

    def read(key: str) -> tuple[tuple[str, ...], ...]:
        return tuple(p for p in (_pointer(t) for t in schema.get(key) or ()) if p)

    return ReplacementRules(read("createOnlyProperties"), read("conditionalCreateOnlyProperties"))


def matches(pointer: tuple[str, ...], raw: tuple[Any, ...]) -> bool:
    """Whether a change at ``raw`` (a path under ``Properties``) touches the property at ``pointer``:
    one is a prefix of the other (a whole block added or removed changes what is inside it)."""
    for a, b in zip(pointer, raw):
        if a == "*" and isinstance(b, int):
            continue
        if a != str(b):
            return False
    return True


def available() -> bool:
    try:
        schema_dir()
    except SchemasUnavailable:
        return False
    return True
