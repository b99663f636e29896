"""Synthesize the reference app once, with the compliance packs registered, and read the result."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import aws_cdk as cdk

import app as reference_app
from sagemaker_constructs import add_compliance_checks


@dataclass
class ReferenceAssembly:
    outdir: Path
    stacks: dict[str, cdk.Stack]
    synth_error: str | None = None
    templates: dict[str, dict] = field(default_factory=dict)

    def template_path(self, name: str) -> Path:
        return self.outdir / self.stacks[name].template_file

    def template(self, name: str) -> dict:
        if name not in self.templates:
            self.templates[name] = json.loads(self.template_path(name).read_text())
        return self.templates[name]

    def unacknowledged_findings(self) -> list[tuple[str, str, str]]:
        """``(rule, construct path, description)`` for each finding left in validation-report.json."""
        report = self.outdir / "validation-report.json"
        if not report.exists():
            return []
        found = []
        for plugin in json.loads(report.read_text())["pluginReports"]:
            for violation in plugin["violations"]:
                for construct in violation["violatingConstructs"]:
                    found.append((violation["ruleName"], construct["constructPath"], violation["description"]))
        return found

    def acknowledgements(self) -> dict[str, dict[str, str]]:
        """Every cdk-nag acknowledgement: ``{construct path: {rule id: reason}}``."""
        manifest = json.loads((self.outdir / "manifest.json").read_text())
        acks: dict[str, dict[str, str]] = {}
        for artifact in manifest.get("artifacts", {}).values():
            metadata = dict(artifact.get("metadata", {}))
            if "additionalMetadataFile" in artifact:
                metadata.update(json.loads((self.outdir / artifact["additionalMetadataFile"]).read_text()))
            for path, entries in metadata.items():
                for entry in entries:
                    if entry.get("type") == "aws:cdk:acknowledged-rules":
                        acks.setdefault(path, {}).update(entry["data"])
        return dict(sorted(acks.items()))

    def checkov_skips(self, name: str) -> dict[str, dict[str, str]]:
        """Every checkov skip in a stack: ``{logical id: {check id: comment}}``."""
        skips = {}
        for logical_id, res in self.template(name)["Resources"].items():
            entries = res.get("Metadata", {}).get("checkov", {}).get("skip", [])
            if entries:
                skips[logical_id] = {e["id"]: e["comment"] for e in entries}
        return skips


def synth_reference(outdir: Path, *, compliance: bool = True) -> ReferenceAssembly:
    from tests.conftest import new_app

    app = new_app(outdir=str(outdir))
    stacks = reference_app.build(app)
    if not compliance:
        app.synth()
        return ReferenceAssembly(outdir=outdir, stacks=stacks)
    result = synth_checked(app, outdir)
    result.stacks = stacks
    return result


def shared_reference(root: Path) -> ReferenceAssembly:
    """:func:`synth_reference` once for all the xdist workers of a run (``root`` is shared by them):
    the first synthesizes into ``root/cdk.out`` with every pack (about half a minute, most of it
    Control Tower's guard run); the others wait for it, then build the app only for its stack
    objects (names, template files) and read that cloud assembly."""
    import fcntl

    from tests.conftest import new_app

    root.mkdir(parents=True, exist_ok=True)
    done = root / "done.json"
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            result = synth_reference(root / "cdk.out")
            done.write_text(json.dumps({"synth_error": result.synth_error}))
            return result
    app = new_app(outdir=str(root / f"unsynthesized-{id(root)}"))
    return ReferenceAssembly(outdir=root / "cdk.out", stacks=reference_app.build(app),
                             synth_error=json.loads(done.read_text())["synth_error"])


def once_per_run(root: Path, name: str, compute):
    """``compute()`` (JSON-serialisable) once for every xdist worker sharing ``root``: the first
    worker computes it under a file lock and writes ``root/<name>.json``; the others read that."""
    import fcntl

    root.mkdir(parents=True, exist_ok=True)
    done = root / f"{name}.json"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            value = compute()
            done.write_text(json.dumps(value))
            return value
    return json.loads(done.read_text())


def synth_checked(app: cdk.App, outdir: Path) -> ReferenceAssembly:
    """Synthesize ``app`` (created with ``outdir``) with the compliance packs registered; the result
    reads its unacknowledged findings and acknowledgements."""
    add_compliance_checks(app)
    error = None
    try:
        app.synth()
    except RuntimeError as exc:  # a finding fails synth; the report says which
        error = str(exc)
    return ReferenceAssembly(outdir=Path(outdir), stacks={}, synth_error=error)


#: What the Studio teardown provider answers at create time in a rehearsal (moto runs no Lambda).
STUDIO_TEARDOWN_ANSWER = {"S3PrefixListId": "pl-63a5400a"}


def rehearse_reference(reference: ReferenceAssembly, name: str, prerequisites: tuple[str, ...] = ()):
    """Rehearse reference stack ``name`` in moto after ``prerequisites`` (the stacks whose exports
    it imports), answering every Studio teardown custom resource; a context manager."""
    from tests.harness.rehearsal import rehearse
    from tests.harness.templates import resources

    templates = {n: reference.template(n) for n in (*prerequisites, name)}
    answers = {lid: dict(STUDIO_TEARDOWN_ANSWER)
               for template in templates.values() for lid in resources(template, "Custom::StudioTeardown")}
    return rehearse(
        templates[name], stack_name=reference.stacks[name].stack_name, assets_dir=reference.outdir,
        custom_resource_answers=answers,
        prerequisites=[(reference.stacks[n].stack_name, templates[n]) for n in prerequisites],
    )
