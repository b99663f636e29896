"""Compliance findings added or resolved, per pack.

Two sources: the ``validation-report.json`` CDK writes into the assembly when validation plugins
ran (``add_compliance_checks``: every pack, acknowledged findings listed apart), and our SageMaker
pack evaluated directly on the templates (:func:`sagemaker_constructs.rules.pack.evaluate`, less
the findings acknowledged in the assembly's metadata) so the SageMaker pack is compared even when
no report was saved. A pack in only one assembly's report is named as not compared.
"""

from __future__ import annotations

from typing import Any

from dataclasses import dataclass

from .assembly import Assembly

SAGEMAKER_PACK = "SageMaker"


@dataclass(frozen=True)
class FindingChange:
    """``kind``: ``added`` or ``resolved`` (an unacknowledged finding), ``acknowledged`` or
    ``acknowledgement removed`` (a finding that is acknowledged in head but not in base, or the
    other way round)."""

    pack: str
    kind: str
    rule: str
    path: str
    detail: str = ""
    #: the violation's property paths in the template (``Properties.ExecutionRoleArn``), when the
    #: report names them: one rule may find several properties of one resource
    where: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "where" or v}


#: ``{pack: {(rule, construct path, property paths): description/reason}}``
Findings = dict[str, dict[tuple[str, str, str], str]]


def _where(construct: dict[str, Any]) -> str:
    paths = (construct.get("cloudFormationResource") or {}).get("propertyPaths") or []
    # the whole resource (``/Resources/M``) names no property
    return ", ".join(sorted(str(p) for p in paths if not str(p).startswith("/Resources/")))


def _from_reports(assembly: Assembly) -> tuple[Findings, Findings]:
    open_: Findings = {}
    acked: Findings = {}
    for report in assembly.validation_reports:
        for plugin in report.get("pluginReports") or []:
            pack = plugin.get("pluginName") or "?"
            open_.setdefault(pack, {})
            acked.setdefault(pack, {})
            for bucket, key in ((open_, "violations"), (acked, "suppressedViolations")):
                for violation in plugin.get(key) or []:
                    detail = violation.get("reason") or violation.get("description") or ""
                    for construct in violation.get("violatingConstructs") or [{}]:
                        key = (violation.get("ruleName", "?"), construct.get("constructPath", ""), _where(construct))
                        bucket[pack][key] = detail
    return open_, acked


def _acknowledged(acks: dict[str, set[str]], path: str, ack_id: str) -> bool:
    return any(ack_id in ids and (path == at or path.startswith(at + "/")) for at, ids in acks.items())


def evaluate_sagemaker(assembly: Assembly) -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], str]]:
    """Our SageMaker pack on every template: ``(unacknowledged, acknowledged)`` findings."""
    from ..rules.pack import RULES, evaluate

    descriptions = {r.id: r.description for r in RULES}
    open_, acked = {}, {}
    for stack in assembly.stacks.values():
        for rule_id, logical_ids in evaluate(stack.template).items():
            for logical_id in logical_ids:
                path = stack.path(logical_id) or f"{stack.name}/{logical_id}"
                target = acked if _acknowledged(stack.acknowledged, path, f"{SAGEMAKER_PACK}::{rule_id}") else open_
                target[(rule_id, path)] = descriptions.get(rule_id, "")
    return open_, acked


def compare(base: Assembly, head: Assembly) -> tuple[list[FindingChange], dict[str, str]]:
    """The finding changes, and ``{pack: how it was compared}``."""
    b_open, b_acked = _from_reports(base)
    h_open, h_acked = _from_reports(head)
    sources: dict[str, str] = {}
    packs = list(dict.fromkeys([*b_open, *h_open]))
    if SAGEMAKER_PACK not in b_open or SAGEMAKER_PACK not in h_open:
        for assembly, open_, acked in ((base, b_open, b_acked), (head, h_open, h_acked)):
            found, acknowledged = evaluate_sagemaker(assembly)
            open_[SAGEMAKER_PACK] = {(r, p, ""): d for (r, p), d in found.items()}
            acked[SAGEMAKER_PACK] = {(r, p, ""): d for (r, p), d in acknowledged.items()}
        sources[SAGEMAKER_PACK] = "evaluated on the templates"
        if SAGEMAKER_PACK not in packs:
            packs.append(SAGEMAKER_PACK)
    changes: list[FindingChange] = []
    for pack in packs:
        if pack in sources:
            pass
        elif pack not in b_open:
            sources[pack] = "not compared: no validation report for it in base"
            continue
        elif pack not in h_open:
            sources[pack] = "not compared: no validation report for it in head"
            continue
        else:
            sources[pack] = "validation-report.json"
        before, after = b_open[pack], h_open[pack]
        changes += [FindingChange(pack, "added", r, p, d, w) for (r, p, w), d in sorted(after.items())
                    if (r, p, w) not in before]
        changes += [FindingChange(pack, "resolved", r, p, d, w) for (r, p, w), d in sorted(before.items())
                    if (r, p, w) not in after]
        ab, ah = b_acked.get(pack, {}), h_acked.get(pack, {})
        changes += [FindingChange(pack, "acknowledged", r, p, d, w) for (r, p, w), d in sorted(ah.items())
                    if (r, p, w) not in ab]
        changes += [FindingChange(pack, "acknowledgement removed", r, p, d, w) for (r, p, w), d in sorted(ab.items())
                    if (r, p, w) not in ah and (r, p, w) not in after]
    return changes, sources
