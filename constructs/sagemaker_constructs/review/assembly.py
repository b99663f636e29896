"""Reading a cloud assembly directory (``cdk.out``): its stacks, templates, paths and reports."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ValidationError

VALIDATION_REPORT = "validation-report.json"


@dataclass
class StackInput:
    """One stack artifact. ``key`` matches stacks across assemblies (the artifact id, prefixed by
    the nested assembly's id for stacks in a stage); ``paths`` maps logical ids to construct paths;
    ``acknowledged`` maps construct paths to the validation rule ids acknowledged there."""

    key: str
    name: str
    template: dict[str, Any]
    region: str | None
    paths: dict[str, str] = field(default_factory=dict)
    acknowledged: dict[str, set[str]] = field(default_factory=dict)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.get("Resources") or {}

    def path(self, logical_id: str) -> str:
        return self.paths.get(logical_id, "")


@dataclass
class Assembly:
    """A cloud assembly: its stacks by key and the validation reports CDK wrote into it."""

    directory: Path
    stacks: dict[str, StackInput]
    validation_reports: list[dict[str, Any]] = field(default_factory=list)

    @property
    def has_validation_report(self) -> bool:
        return bool(self.validation_reports)


def read_assembly(directory: str | Path) -> Assembly:
    """Read ``directory`` (with ``manifest.json``); nested assemblies (stages) are read too.

    :raises ValidationError: when the directory is not a cloud assembly.
    """
    directory = Path(directory)
    if not (directory / "manifest.json").is_file():
        raise ValidationError(str(directory), "directory", str(directory),
                              "a cloud assembly directory (with manifest.json), e.g. cdk.out after `cdk synth`")
    stacks: dict[str, StackInput] = {}
    reports: list[dict[str, Any]] = []
    try:
        _read(directory, "", stacks, reports, set())
    except (OSError, ValueError, AttributeError, TypeError) as error:  # unreadable, not JSON, or not its shape
        raise ValidationError(str(directory), "directory", str(directory),
                              f"a readable cloud assembly ({type(error).__name__}: {error})") from None
    return Assembly(directory, stacks, reports)


def _read(directory: Path, prefix: str, stacks: dict[str, Any], reports: list[Any], seen: set) -> None:
    if directory.resolve() in seen:
        return
    seen.add(directory.resolve())
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    report = directory / VALIDATION_REPORT
    if report.is_file():
        try:
            reports.append(json.loads(report.read_text(encoding="utf-8")))
        except ValueError:
            pass
    for artifact_id, artifact in (manifest.get("artifacts") or {}).items():
        kind = artifact.get("type")
        props = artifact.get("properties") or {}
        if kind == "cdk:cloud-assembly" and props.get("directoryName"):
            nested = directory / props["directoryName"]
            if (nested / "manifest.json").is_file():
                _read(nested, f"{prefix}{artifact_id}/", stacks, reports, seen)
            continue
        if kind != "aws:cloudformation:stack" or not props.get("templateFile"):
            continue
        template = json.loads((directory / props["templateFile"]).read_text(encoding="utf-8"))
        if not isinstance(template, dict):
            raise ValueError(f"{props['templateFile']} is not a CloudFormation template (a JSON object)")
        environment = artifact.get("environment") or ""
        region = environment.rsplit("/", 1)[-1] if environment.startswith("aws://") else None
        if region in ("unknown-region", ""):
            region = None
        metadata = dict(artifact.get("metadata") or {})
        if artifact.get("additionalMetadataFile"):
            extra = directory / artifact["additionalMetadataFile"]
            if extra.is_file():
                metadata.update(json.loads(extra.read_text(encoding="utf-8")))
        stack = StackInput(f"{prefix}{artifact_id}", props.get("stackName") or artifact.get("displayName") or artifact_id,
                           template, region)
        _read_metadata(stack, metadata)
        stacks[stack.key] = stack


def _read_metadata(stack: StackInput, metadata: dict[str, Any]) -> None:
    for logical_id, resource in stack.resources.items():
        path = (resource.get("Metadata") or {}).get("aws:cdk:path")
        if isinstance(path, str):
            stack.paths[logical_id] = path
    for path, entries in metadata.items():
        for entry in entries or []:
            kind, data = entry.get("type"), entry.get("data")
            if kind == "aws:cdk:logicalId" and isinstance(data, str):
                stack.paths.setdefault(data, path.lstrip("/"))
            elif kind == "aws:cdk:acknowledged-rules" and isinstance(data, dict):
                stack.acknowledged.setdefault(path.lstrip("/"), set()).update(data)
