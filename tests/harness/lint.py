"""Run cfn-lint and checkov on a synthesized CloudFormation template, offline.

Both runners take the path of a template file (JSON, e.g. ``Template.from_stack(stack).to_json()``
dumped with ``json.dump``) and return plain dicts, so tests can assert on them and print them.

cfn-lint
    cfn-lint 1.x (main ``.venv``) ships the CloudFormation resource schemas inside the wheel and
    never touches the network while linting; only ``cfn-lint --update-specs`` downloads. It runs
    in-process through the library API ``cfnlint.api.lint_file`` (exported by ``cfnlint``), and
    the matches are serialised by cfn-lint's own JSON formatter, so every dict has exactly the
    shape of one element of ``cfn-lint --format json``::

        {"Rule": {"Id": "E3002", "ShortDescription": ..., "Description": ..., "Source": ...},
         "Level": "Error" | "Warning" | "Informational",
         "Message": ..., "Filename": ..., "Id": ..., "ParentId": ...,
         "Location": {"Path": ["Resources", "<LogicalId>", "Properties", ...],
                      "Start": {"LineNumber": .., "ColumnNumber": ..}, "End": {...}}}

    If ``cfnlint`` cannot be imported (e.g. the tests run under another interpreter) the same
    JSON is produced by ``.venv/bin/cfn-lint --format json`` in a subprocess.
    cfn-lint also reads ``.cfnlintrc`` from the working directory and from ``$HOME``.

checkov
    checkov lives in its own virtualenv, ``.venv-checkov`` (it pins an older boto3 than ours):
    ``python3.11 -m venv .venv-checkov && .venv-checkov/bin/pip install -r requirements/checkov.txt``.
    By default checkov calls home on every run: it asks PyPI for a newer checkov (at import time,
    in ``checkov/common/util/banner.py``; caches in ``~/.cache/checkov``) and downloads the
    policy-id mapping/guidelines from Prisma Cloud (``api0.prismacloud.io``). The runner turns
    both off, verified with strace (no ``connect()`` other than AF_UNIX) and in a network
    namespace without any network (identical results):

    * ``--skip-download`` (CLI flag; same effect as env ``BC_SKIP_MAPPING=TRUE``, both set here):
      no platform run-config, guidelines, custom policies or suppressions are fetched.
      Side effect: ``bc_check_id``/``guideline``/``severity`` are ``null`` in the output and skips
      by ``BC_*`` ids do not work; use ``CKV_*`` ids.
    * env ``CKV_SKIP_PACKAGE_UPDATE_CHECK=true``: no PyPI version check, nothing under ~/.cache.
    * ``BC_API_KEY`` / ``PRISMA_API_URL`` are removed from the child's environment so a key in a
      developer's shell never turns on the platform integration (and result upload).

    It runs with the template's directory as working directory, so only a ``.checkov.yaml`` there
    or in ``$HOME`` is picked up, never one at the repository root by accident.

Skipping a checkov check on one resource (with the reason recorded)
    Put this in the resource's CloudFormation ``Metadata`` (verified with checkov 3.3.30)::

        "Metadata": {"checkov": {"skip": [
            {"id": "CKV_AWS_18", "comment": "This bucket is the access-log target itself"}
        ]}}

    From CDK: ``cfn_resource.add_metadata("checkov", {"skip": [{"id": ..., "comment": ...}]})``
    (``cfn_resource`` is e.g. ``bucket.node.default_child``; call ``add_metadata`` once per
    resource, a second call replaces the first). ``"comment"`` is optional (checkov then records
    ``"No comment provided"``); our tests should require it. ``"bridgecrew"`` works as the key too.
    A skipped check is not in ``failed_checks``: checkov reports it in ``skipped_checks`` with
    ``check_result == {"result": "SKIPPED", "suppress_comment": "<comment>"}``, so
    ``checkov_results(path).skipped`` is the inventory of every suppression and its reason.
    Unknown ids in ``skip`` are ignored silently (no error), so a typo suppresses nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]

CFN_LINT_BIN = REPO_ROOT / ".venv" / "bin" / "cfn-lint"
CHECKOV_VENV = REPO_ROOT / ".venv-checkov"
CHECKOV_BIN = CHECKOV_VENV / "bin" / "checkov"
CHECKOV_LOCK = REPO_ROOT / "requirements" / "checkov.txt"

DEFAULT_REGIONS = ("us-east-1",)

# Environment that keeps checkov from calling home (see module docstring).
CHECKOV_OFFLINE_ENV = {
    "BC_SKIP_MAPPING": "TRUE",
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
    "LOG_LEVEL": "WARNING",
}
_CHECKOV_ENV_DROP = ("BC_API_KEY", "PRISMA_API_URL")
CHECKOV_TIMEOUT_S = 300


class LintToolError(RuntimeError):
    """A linter is missing, crashed, or printed something that is not its JSON report."""


# --------------------------------------------------------------------------- cfn-lint


def cfn_lint_matches(
    template_path: Path,
    *,
    regions: tuple[str, ...] | list[str] = DEFAULT_REGIONS,
    ignore_checks: tuple[str, ...] | list[str] = (),
) -> list[dict[str, Any]]:
    """Every cfn-lint match (errors, warnings and informational) as ``--format json`` dicts."""
    template_path = Path(template_path).resolve()
    if not template_path.is_file():
        raise FileNotFoundError(f"template not found: {template_path}")
    try:
        from cfnlint.api import lint_file
        from cfnlint.config import ManualArgs
        from cfnlint.formatters import JsonFormatter
    except ImportError:
        return _cfn_lint_subprocess(template_path, list(regions), list(ignore_checks))
    config = ManualArgs(regions=list(regions))
    if ignore_checks:
        config["ignore_checks"] = list(ignore_checks)
    matches = lint_file(template_path, config=config)
    return json.loads(JsonFormatter().print_matches(matches, None, None))


def _cfn_lint_subprocess(template_path: Path, regions: list[str], ignore_checks: list[str]) -> list[dict[str, Any]]:
    if not CFN_LINT_BIN.exists():
        raise LintToolError(
            f"cfn-lint is not importable and {CFN_LINT_BIN} does not exist; "
            "install the dev dependencies into .venv (pip install -e '.[dev]')"
        )
    cmd = [str(CFN_LINT_BIN), "--format", "json", "--regions", *regions]
    if ignore_checks:
        cmd += ["--ignore-checks", *ignore_checks]
    cmd += ["--", str(template_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    # Exit code is a bit mask: 2 errors, 4 warnings, 8 informational; 1 means cfn-lint crashed.
    if proc.returncode & 1:
        raise LintToolError(f"cfn-lint crashed (exit {proc.returncode}):\n{proc.stderr}")
    try:
        return json.loads(proc.stdout or "[]")
    except json.JSONDecodeError as exc:
        raise LintToolError(f"cfn-lint printed no JSON:\n{proc.stdout}\n{proc.stderr}") from exc


def run_cfn_lint(
    template_path: Path,
    *,
    level: str | None = "Error",
    regions: tuple[str, ...] | list[str] = DEFAULT_REGIONS,
    ignore_checks: tuple[str, ...] | list[str] = (),
) -> list[dict[str, Any]]:
    """cfn-lint matches of one level: ``"Error"`` (default), ``"Warning"``, ``"Informational"``.

    ``level=None`` returns all matches (same as :func:`cfn_lint_matches`).
    """
    matches = cfn_lint_matches(template_path, regions=regions, ignore_checks=ignore_checks)
    if level is None:
        return matches
    return [m for m in matches if m["Level"] == level]


def format_cfn_lint(match: dict[str, Any]) -> str:
    """One line per match, for assertion messages."""
    path = "/".join(str(p) for p in (match.get("Location") or {}).get("Path") or [])
    return f"{match['Rule']['Id']} {match['Level']} {path}: {match['Message']}"


# --------------------------------------------------------------------------- checkov


@dataclass
class CheckovResults:
    """The parts of checkov's JSON report the tests use.

    ``failed``/``skipped``/``passed`` hold dicts with ``check_id``, ``check_name``,
    ``resource`` (``"<Type>.<LogicalId>"``, e.g. ``"AWS::S3::Bucket.Data666C94C7"``),
    ``logical_id`` and, for skipped checks, ``comment`` (the suppression's reason).
    ``raw`` is checkov's whole report for the file.
    """

    failed: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    passed: list[dict[str, Any]] = field(default_factory=list)
    parsing_errors: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


def _check_entry(check: dict[str, Any]) -> dict[str, Any]:
    resource = check.get("resource", "")
    entry = {
        "check_id": check.get("check_id"),
        "check_name": check.get("check_name"),
        "resource": resource,
        "logical_id": resource.rsplit(".", 1)[-1] if resource else None,
    }
    result = check.get("check_result") or {}
    if result.get("result") == "SKIPPED":
        entry["comment"] = result.get("suppress_comment")
    return entry


def checkov_results(
    template_path: Path,
    *,
    checks: list[str] | None = None,
    skip_checks: list[str] | None = None,
) -> CheckovResults:
    """Run checkov (cloudformation framework, offline) on one template file."""
    template_path = Path(template_path).resolve()
    if not template_path.is_file():
        raise FileNotFoundError(f"template not found: {template_path}")
    report = _checkov_report([template_path.name], template_path.parent, checks=checks, skip_checks=skip_checks)
    return _results(report)


def checkov_results_of(template_paths: list[Path], *, root: Path) -> dict[str, CheckovResults]:
    """One checkov run over several templates under ``root`` (checkov's start-up, about 5 s, is paid
    once instead of once per template): ``{path relative to root (POSIX): CheckovResults}``, each
    with only that template's checks (``summary`` and ``raw`` are the whole run's)."""
    root = Path(root).resolve()
    relative = []
    for path in template_paths:
        path = Path(path).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"template not found: {path}")
        relative.append(path.relative_to(root).as_posix())
    report = _checkov_report(relative, root)
    # checkov names each check's file by its path from the working directory, with a leading "/".
    return {name: _results(report, file_path="/" + name) for name in relative}


def _checkov_report(files: list[str], cwd: Path, *, checks: list[str] | None = None,
                    skip_checks: list[str] | None = None) -> dict[str, Any]:
    if not CHECKOV_BIN.exists():
        raise LintToolError(
            f"checkov is not installed: {CHECKOV_BIN} is missing. Create its own virtualenv with\n"
            f"  cd {REPO_ROOT} && python3.11 -m venv .venv-checkov && "
            f".venv-checkov/bin/pip install -r {CHECKOV_LOCK.relative_to(REPO_ROOT)}"
        )
    cmd = [str(CHECKOV_BIN), *(a for f in files for a in ("-f", f)),
           "--framework", "cloudformation", "-o", "json", "--skip-download", "--compact"]
    if checks:
        cmd += ["--check", ",".join(checks)]
    if skip_checks:
        cmd += ["--skip-check", ",".join(skip_checks)]
    env = {k: v for k, v in os.environ.items() if k not in _CHECKOV_ENV_DROP}
    env.update(CHECKOV_OFFLINE_ENV)
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True,
        timeout=CHECKOV_TIMEOUT_S, check=False,
    )
    # checkov exits 0 (all passed) or 1 (some check failed); anything else is a crash.
    if proc.returncode not in (0, 1):
        raise LintToolError(f"checkov crashed (exit {proc.returncode}):\n{proc.stderr}")
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise LintToolError(f"checkov printed no JSON (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}") from exc
    # One framework gives one report dict; several give a list; a file without resources gives
    # only the summary counters.
    if isinstance(report, list):
        report = next((r for r in report if r.get("check_type") == "cloudformation"), {})
    return report


def _results(report: dict[str, Any], *, file_path: str | None = None) -> CheckovResults:
    """The report's checks as :class:`CheckovResults`; with ``file_path``, only that file's."""
    if "results" not in report:
        return CheckovResults(summary=report, raw=report)
    results = report["results"]

    def entries(kind: str) -> list[dict[str, Any]]:
        return [_check_entry(c) for c in results.get(kind, [])
                if file_path is None or c.get("file_path") == file_path]

    errors = list(results.get("parsing_errors", []))
    if file_path is not None:
        errors = [e for e in errors if e.endswith(file_path)]
    return CheckovResults(
        failed=entries("failed_checks"),
        skipped=entries("skipped_checks"),
        passed=entries("passed_checks"),
        parsing_errors=errors,
        summary=report.get("summary", {}),
        raw=report,
    )


def run_checkov(template_path: Path) -> list[dict[str, Any]]:
    """checkov's failed checks: ``[{"check_id", "check_name", "resource", "logical_id"}]``.

    Raises :class:`LintToolError` if ``.venv-checkov`` is missing or checkov crashes, and also
    if checkov could not parse the template (it would otherwise report no failures).
    Use :func:`checkov_results` for the skipped (suppressed) checks and their reasons.
    """
    results = checkov_results(template_path)
    if results.parsing_errors:
        raise LintToolError(f"checkov could not parse {results.parsing_errors}")
    return results.failed


def format_checkov(check: dict[str, Any]) -> str:
    """One line per check, for assertion messages."""
    reason = f" (skipped: {check['comment']})" if "comment" in check else ""
    return f"{check['check_id']} {check['resource']}: {check['check_name']}{reason}"
