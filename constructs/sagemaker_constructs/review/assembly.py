"""Reading a cloud assembly directory (``cdk.out``): its stacks, templates, paths and reports."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ValidationError

VALIDATION_REPORT = "validation-report.json"
#: How CDK names a nested stack's template (``NestedStack.templateFile``; as in ``rules.pack``,
#: which imports aws-cdk-lib: this module does not).
NESTED_TEMPLATE_SUFFIX = ".nested.template.json"


@dataclass
class StackInput:
    """One stack artifact. ``key`` matches stacks across assemblies (the artifact id, prefixed by
    the nested assembly's id for stacks in a stage; a ``NestedStack`` is a stack of its own, keyed
    ``<parent key>/<its path below the parent>``); ``paths`` maps logical ids to construct paths;
    ``acknowledged`` maps construct paths to the validation rule ids acknowledged there;
    ``environment`` is the artifact's (``aws://account/region``)."""

    key: str
    name: str
    template: dict[str, Any]
    region: str | None
    paths: dict[str, str] = field(default_factory=dict)
    acknowledged: dict[str, set[str]] = field(default_factory=dict)
    environment: str = ""

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
                           template, region, environment=environment)
        nested = _nested_stacks(directory, stack, props["templateFile"], metadata)
        _read_metadata(stack, metadata, nested)
        stacks[stack.key] = stack
        for _, child in nested:
            stacks[child.key] = child


def _nested_stacks(directory: Path, stack: StackInput, template_file: str,
                   metadata: dict[str, Any]) -> list[tuple[str, StackInput]]:
    """The stack's ``NestedStack``s, each as a stack of its own: ``[(construct path, stack)]``.

    A nested stack's resources are in its own template (``<id>.nested.template.json``, a file
    asset beside its parent's), which the parent's template names only through an
    ``AWS::CloudFormation::Stack`` whose ``TemplateURL`` is an asset URL: a bucket replaced in a
    nested stack changes nothing in the parent but that hash. CDK records each stack's template in
    the artifact's metadata (``aws:cdk:templateFile`` at the stack's construct path; nested stacks
    at every depth are in their top-level stack's artifact). A nested stack's key is its parent's
    key and its construct path below the top-level stack (``Parent/Data``)."""
    files = {path.lstrip("/"): entry.get("data") for path, entries in metadata.items() for entry in entries or []
             if entry.get("type") == "aws:cdk:templateFile" and isinstance(entry.get("data"), str)}
    root = next((path for path, name in files.items() if name == template_file), None)
    out: list[tuple[str, StackInput]] = []
    for path, name in files.items():
        if root is None or not path.startswith(root + "/") or not name.endswith(NESTED_TEMPLATE_SUFFIX):
            continue
        template = json.loads((directory / name).read_text(encoding="utf-8"))
        if not isinstance(template, dict):
            raise ValueError(f"{name} is not a CloudFormation template (a JSON object)")
        relative = path[len(root) + 1:]
        child = StackInput(f"{stack.key}/{relative}", f"{stack.name}/{relative}", template, stack.region,
                           acknowledged=stack.acknowledged, environment=stack.environment)
        out.append((path, child))
    # the deepest first: a resource's metadata belongs to the innermost stack whose path holds it
    out.sort(key=lambda item: -item[0].count("/"))
    return out


def _read_metadata(stack: StackInput, metadata: dict[str, Any],
                   nested: list[tuple[str, StackInput]] | None = None) -> None:
    """Construct paths and acknowledgements from the artifact's metadata; a logical id recorded at
    a path inside a nested stack is that nested stack's (``nested``: ``(construct path, stack)``,
    the deepest first)."""
    nested = nested or []
    for each in (stack, *(child for _, child in nested)):
        for logical_id, resource in each.resources.items():
            path = (resource.get("Metadata") or {}).get("aws:cdk:path")
            if isinstance(path, str):
                each.paths[logical_id] = path
    for path, entries in metadata.items():
        path = path.lstrip("/")
        owner = next((child for at, child in nested if path.startswith(at + "/")), stack)
        for entry in entries or []:
            kind, data = entry.get("type"), entry.get("data")
            if kind == "aws:cdk:logicalId" and isinstance(data, str):
                owner.paths.setdefault(data, path)
            elif kind == "aws:cdk:acknowledged-rules" and isinstance(data, dict):
                stack.acknowledged.setdefault(path, set()).update(data)
