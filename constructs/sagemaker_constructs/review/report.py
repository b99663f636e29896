"""The review report: what changed, as Markdown for a pull request or as JSON for machines."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .findings import FindingChange
from .iam import IamChange
from .jsondiff import Change
from .network import NetworkChange

#: The conditions ``--fail-on`` (and :meth:`ReviewReport.failures`) accept.
FAIL_ON_CONDITIONS = ("replacement", "removal", "wildcard", "finding", "cost-increase")
_MAX_LINES = 40  # change lines shown per resource in Markdown
_CENT = Decimal("0.01")


def _usd(value: Decimal) -> float:
    return float(value.quantize(_CENT, rounding=ROUND_HALF_UP))


def _money(value: Decimal, sign: bool = False) -> str:
    cents = value.quantize(_CENT, rounding=ROUND_HALF_UP)
    text = f"${abs(cents):,.2f}"
    if sign:
        return ("+" if cents > 0 else "−" if cents < 0 else "±") + text
    return ("-" if cents < 0 else "") + text


@dataclass
class ResourceChange:
    """One resource added, removed, modified or replaced (a stateful resource whose logical ID
    changed: ``old_logical_id``). ``replacement`` is ``will`` or ``may`` when CloudFormation
    would replace it, with ``reasons``."""

    stack: str
    logical_id: str
    resource_type: str
    path: str
    kind: str
    changes: list[Change] = field(default_factory=list)
    stateful: bool = False
    old_logical_id: str | None = None
    replacement: str | None = None
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"logical_id": self.logical_id, "type": self.resource_type, "path": self.path,
                               "kind": self.kind, "stateful": self.stateful}
        if self.old_logical_id:
            out["old_logical_id"] = self.old_logical_id
        if self.replacement:
            out["replacement"] = self.replacement
            out["reasons"] = list(self.reasons)
        if self.changes:
            out["changes"] = [c.to_dict() for c in self.changes]
        return out


@dataclass
class Replacement:
    """A stateful resource CloudFormation would replace (``certainty`` ``will`` or ``may``);
    ``old_resource_policy`` is what happens to the old one (``Retain``: left in the account,
    ``Delete``: deleted with its data, ``Snapshot``)."""

    stack: str
    logical_id: str
    resource_type: str
    path: str
    certainty: str
    reasons: list[str]
    old_logical_id: str | None = None
    old_resource_policy: str = "Delete"
    old_stack: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class Removal:
    """A stateful resource removed with nothing to replace it."""

    stack: str
    logical_id: str
    resource_type: str
    path: str
    deletion_policy: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class StackDiff:
    key: str
    name: str
    status: str
    resources: list[ResourceChange] = field(default_factory=list)
    template_changes: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.status != "modified" or bool(self.resources or self.template_changes)

    def count(self, kind: str) -> int:
        return sum(1 for r in self.resources if r.kind == kind)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "status": self.status,
                "added": self.count("added"), "removed": self.count("removed"),
                "modified": self.count("modified") + self.count("replaced"),
                "resources": [r.to_dict() for r in self.resources],
                "template_changes": [c.to_dict() for c in self.template_changes]}


@dataclass
class CostDelta:
    """Fixed monthly cost of base and head (USD, ``Decimal``); ``items`` are
    ``(stack, path, item, base, head)`` for every priced item whose cost changed."""

    base_total: Decimal = Decimal(0)
    head_total: Decimal = Decimal(0)
    stacks: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    items: list[tuple[Any, ...]] = field(default_factory=list)
    region: str = ""
    price_date: str = ""
    estimated: bool = False
    note: str = ""

    @property
    def delta(self) -> Decimal:
        return self.head_total - self.base_total

    def to_dict(self) -> dict[str, Any]:
        if not self.estimated:
            return {"estimated": False, "note": self.note}
        return {"estimated": True, "region": self.region, "price_date": self.price_date, "currency": "USD",
                "base_monthly_usd": _usd(self.base_total), "head_monthly_usd": _usd(self.head_total),
                "delta_monthly_usd": _usd(self.delta),
                "stacks": {n: {"base": _usd(b), "head": _usd(h), "delta": _usd(h - b)} for n, (b, h) in self.stacks.items()},
                "items": [{"stack": s, "path": p, "item": i, "base": _usd(b), "head": _usd(h)} for s, p, i, b, h in self.items]}


def _code(text: str) -> str:
    text = str(text).replace("\n", " ")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


@dataclass
class ReviewReport:
    """Everything :func:`compare_assemblies` found. ``to_markdown()`` for a pull-request comment,
    ``to_dict()``/``to_json()`` for machines, ``failures(fail_on)`` for a CI gate."""

    base: str
    head: str
    region: str
    stacks: list[StackDiff] = field(default_factory=list)
    replacements: list[Replacement] = field(default_factory=list)
    removals: list[Removal] = field(default_factory=list)
    iam: list[IamChange] = field(default_factory=list)
    network: list[NetworkChange] = field(default_factory=list)
    findings: list[FindingChange] = field(default_factory=list)
    finding_sources: dict[str, str] = field(default_factory=dict)
    cost: CostDelta | None = None
    notes: list[str] = field(default_factory=list)
    schemas_checked: bool = True

    # -- conditions ------------------------------------------------------------------------------
    @property
    def wildcards(self) -> list[tuple[IamChange, str]]:
        return [(c, w) for c in self.iam for w in c.wildcards]

    @property
    def findings_added(self) -> list[FindingChange]:
        return [f for f in self.findings if f.kind == "added"]

    def failures(self, fail_on: dict[str, Decimal | None]) -> tuple[list[str], list[str]]:
        """``(conditions that hold, conditions that could not be evaluated)`` for ``fail_on``
        (``{"replacement": None, "cost-increase": Decimal("50")}``, see :func:`parse_fail_on`)."""
        held, unknown = [], []
        if "replacement" in fail_on:
            if self.replacements:
                held.append(f"replacement: {len(self.replacements)} stateful resource(s) would be replaced")
            elif not self.schemas_checked:
                unknown.append("replacement: create-only properties not checked (install cfn-lint)")
        if "removal" in fail_on and self.removals:
            held.append(f"removal: {len(self.removals)} stateful resource(s) removed")
        if "wildcard" in fail_on and self.wildcards:
            held.append(f"wildcard: {len(self.wildcards)} IAM wildcard(s) introduced")
        if "finding" in fail_on and self.findings_added:
            held.append(f"finding: {len(self.findings_added)} compliance finding(s) added")
        if "cost-increase" in fail_on:
            limit = fail_on["cost-increase"] or Decimal(0)
            if self.cost is None or not self.cost.estimated:
                unknown.append(f"cost-increase: cost not estimated ({self.cost.note if self.cost else 'disabled'})")
            elif self.cost.delta > limit:
                held.append(f"cost-increase: {_money(self.cost.delta, sign=True)}/month > ${limit}")
        return held, unknown

    # -- JSON ------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "base": self.base, "head": self.head, "region": self.region,
            "summary": self.summary(),
            "replacements": [r.to_dict() for r in self.replacements],
            "removals": [r.to_dict() for r in self.removals],
            "stacks": [s.to_dict() for s in self.stacks if s.changed],
            "iam": [c.to_dict() for c in self.iam],
            "network": [c.to_dict() for c in self.network],
            "compliance": {"changes": [f.to_dict() for f in self.findings], "sources": dict(self.finding_sources)},
            "cost": self.cost.to_dict() if self.cost else None,
            "create_only_checked": self.schemas_checked,
            "notes": list(self.notes),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def summary(self) -> dict[str, Any]:
        return {
            "stacks_changed": sum(1 for s in self.stacks if s.changed),
            "resources_added": sum(s.count("added") for s in self.stacks),
            "resources_removed": sum(s.count("removed") for s in self.stacks),
            "resources_modified": sum(s.count("modified") + s.count("replaced") for s in self.stacks),
            "stateful_replacements": len(self.replacements),
            "stateful_removals": len(self.removals),
            "iam_changes": len(self.iam),
            "wildcards_introduced": len(self.wildcards),
            "network_changes": len(self.network),
            "findings_added": len(self.findings_added),
            "findings_resolved": sum(1 for f in self.findings if f.kind == "resolved"),
            "cost_delta_monthly_usd": _usd(self.cost.delta) if self.cost and self.cost.estimated else None,
        }

    # -- Markdown --------------------------------------------------------------------------------
    def to_markdown(self, *, max_chars: int | None = None) -> str:
        """The report as GitHub-flavoured Markdown; cut at ``max_chars`` (a pull-request comment
        holds 65,536) with a note saying so. Default: not cut."""
        s = self.summary()
        out = ["## Infrastructure review", ""]
        out.append(f"{_code(self.base)} → {_code(self.head)}: {s['stacks_changed']} stack(s) changed, "
                   f"resources +{s['resources_added']} −{s['resources_removed']} ~{s['resources_modified']}")
        flags = []
        if self.replacements:
            flags.append(f"**{len(self.replacements)} stateful resource(s) would be replaced**")
        if self.removals:
            flags.append(f"**{len(self.removals)} stateful resource(s) removed**")
        if self.wildcards:
            flags.append(f"{len(self.wildcards)} IAM wildcard(s) introduced")
        if self.findings_added:
            flags.append(f"{len(self.findings_added)} compliance finding(s) added")
        if self.cost and self.cost.estimated and self.cost.delta:
            flags.append(f"fixed cost {_money(self.cost.delta, sign=True)}/month")
        if flags:
            out += ["", "> ⚠️ " + ", ".join(flags)]
        for note in self.notes:
            out += ["", f"> Note: {note}"]
        out += self._md_replacements() + self._md_iam() + self._md_network() + self._md_compliance()
        out += self._md_cost() + self._md_stacks()
        text = "\n".join(out).rstrip() + "\n"
        if max_chars and len(text) > max_chars:
            cut = text[: max_chars - 200].rsplit("\n", 1)[0]
            text = cut + "\n\n… (report cut here; run `python -m sagemaker_constructs.review` for all of it)\n"
        return text

    def _md_replacements(self) -> list[str]:
        out = []
        if self.replacements:
            out += ["", "### ⚠️ Stateful resources that would be replaced", "",
                    "| Stack | Resource | Type | Why | The old resource |", "|---|---|---|---|---|"]
            for r in self.replacements:
                name = f"{_code(r.old_logical_id)} → {_code(r.logical_id)}" if r.old_logical_id else _code(r.logical_id)
                certainty = "" if r.certainty == "will" else "may be replaced: "
                fate = {"Retain": "Retain: left in the account, no longer managed",
                        "RetainExceptOnCreate": "RetainExceptOnCreate: left in the account",
                        "Snapshot": "Snapshot: deleted after a snapshot"}.get(
                    r.old_resource_policy, f"{r.old_resource_policy}: **deleted with its data**")
                out.append(f"| {_cell(r.stack)} | {name}<br>{_cell(_code(r.path)) if r.path else ''} | "
                           f"{r.resource_type} | {_cell(certainty + '; '.join(r.reasons))} | {fate} |")
            if any(r.old_logical_id and not r.old_stack for r in self.replacements):
                out += ["", "A logical ID change is a new resource. To keep the old one, keep its construct ID, "
                        "or pin the ID: `cfn_resource.override_logical_id(\"<old id>\")`."]
        if self.removals:
            out += ["", "### ⚠️ Stateful resources removed", "", "| Stack | Resource | Type | DeletionPolicy |",
                    "|---|---|---|---|"]
            for r in self.removals:
                out.append(f"| {_cell(r.stack)} | {_code(r.logical_id)}<br>{_cell(_code(r.path)) if r.path else ''} | "
                           f"{r.resource_type} | {r.deletion_policy} |")
        return out

    def _md_iam(self) -> list[str]:
        if not self.iam:
            return []
        out = ["", "### IAM", ""]
        for c in self.iam:
            out.append(f"- **{_cell(c.stack)}** {_code(c.logical_id)} ({c.resource_type}"
                       f"{', ' + _code(c.path) if c.path else ''}), {c.document}:")
            rows = [("⚠️ wildcard introduced", w) for w in c.wildcards]
            rows += [("new trust" if c.kind == "trust" else "new principal", p) for p in c.new_principals]
            rows += [("new action", a) for a in c.new_actions]
            rows += [("widened", w) for w in c.widened_resources]
            rows += [("managed policy attached", p) for p in c.managed_policies_added]
            rows += [("managed policy detached", p) for p in c.managed_policies_removed]
            rows += [("attached to", t) for t in c.attached_to]
            rows += [("statement added", s) for s in c.statements_added]
            rows += [("statement removed", s) for s in c.statements_removed]
            for label, value in rows[:_MAX_LINES]:
                out.append(f"  - {label}: {_code(value)}")
            if len(rows) > _MAX_LINES:
                out.append(f"  - … {len(rows) - _MAX_LINES} more (see `--json`)")
        return out

    def _md_network(self) -> list[str]:
        if not self.network:
            return []
        out = ["", "### Security groups and network", ""]
        for c in self.network:
            kind = "VPC endpoint" if c.resource_type == "AWS::EC2::VPCEndpoint" else c.resource_type
            what = f"{kind} {c.kind}" if c.kind in ("added", "removed", "changed") else c.kind
            world = " ⚠️ **open to the internet**" if c.open_to_world else ""
            out.append(f"- **{_cell(c.stack)}** {_code(c.logical_id)}{' (' + _code(c.path) + ')' if c.path else ''}: "
                       f"{what}: {_code(c.detail) if c.detail else ''}{world}")
        return out

    def _md_compliance(self) -> list[str]:
        out = ["", "### Compliance", ""]
        if not self.finding_sources:
            return out + ["No compliance report in either assembly."]
        out += ["| Pack | Findings added | Resolved | Newly acknowledged | Compared from |", "|---|---|---|---|---|"]
        for pack, source in self.finding_sources.items():
            mine = [f for f in self.findings if f.pack == pack]
            count = {k: sum(1 for f in mine if f.kind == k) for k in ("added", "resolved", "acknowledged")}
            out.append(f"| {_cell(pack)} | {count['added']} | {count['resolved']} | {count['acknowledged']} | "
                       f"{_cell(source)} |")
        listed = [f for f in self.findings if f.kind != "acknowledgement removed"]
        if listed:
            out.append("")
        for f in listed[:_MAX_LINES * 2]:
            detail = f.detail if len(f.detail) <= 200 else f.detail[:199] + "…"
            where = f" ({_code(f.where)})" if f.where else ""
            out.append(f"- {f.pack} {f.kind}: {_code(f.rule)} on {_code(f.path)}{where}"
                       f"{' — ' + _cell(detail) if detail else ''}")
        if len(listed) > _MAX_LINES * 2:
            out.append(f"- … {len(listed) - _MAX_LINES * 2} more (see `--json`)")
        return out

    def _md_cost(self) -> list[str]:
        if self.cost is None:
            return []
        if not self.cost.estimated:
            return ["", "### Fixed monthly cost", "", f"Not estimated: {self.cost.note}"]
        c = self.cost
        out = ["", "### Fixed monthly cost", "",
               f"Committed cost at on-demand prices of {c.price_date} ({c.region}); usage-based charges excluded "
               "(`python -m sagemaker_constructs.cost`).", "",
               "| Stack | Base | Head | Change |", "|---|---:|---:|---:|"]
        for name, (b, h) in c.stacks.items():
            out.append(f"| {_cell(name)} | {_money(b)} | {_money(h)} | {_money(h - b, sign=True)} |")
        out.append(f"| **Total** | **{_money(c.base_total)}** | **{_money(c.head_total)}** | "
                   f"**{_money(c.delta, sign=True)}** |")
        if c.items:
            out.append("")
            for stack, path, item, b, h in c.items[:_MAX_LINES]:
                out.append(f"- {_cell(stack)} {_code(path)} {item}: {_money(b)} → {_money(h)} ({_money(h - b, sign=True)})")
        return out

    def _md_stacks(self) -> list[str]:
        changed = [s for s in self.stacks if s.changed]
        out = ["", "### Stacks", ""]
        if not changed:
            return out + ["No changes."]
        for s in changed:
            status = {"added": " (new stack)", "removed": " (stack removed)"}.get(s.status, "")
            out += [f"#### {s.name}{status}: +{s.count('added')} −{s.count('removed')} "
                    f"~{s.count('modified') + s.count('replaced')}", ""]
            if s.status != "modified":
                by_type: dict[str, int] = {}
                for r in s.resources:
                    by_type[r.resource_type] = by_type.get(r.resource_type, 0) + 1
                out += [f"- {n} × {t}" for t, n in sorted(by_type.items())]
                out.append("")
                continue
            for r in s.resources:
                out += self._md_resource(r)
            for change in s.template_changes:
                out.append(f"- {_code(change.line())}")
            out.append("")
        return out

    def _md_resource(self, r: ResourceChange) -> list[str]:
        sign = {"added": "➕", "removed": "➖", "modified": "✏️", "replaced": "♻️"}[r.kind]
        name = f"{_code(r.old_logical_id)} → {_code(r.logical_id)}" if r.old_logical_id else _code(r.logical_id)
        head = f"- {sign} {name} {r.resource_type}{' ' + _code(r.path) if r.path else ''}"
        if r.replacement:
            word = "replaced" if r.replacement == "will" else "may be replaced"
            head += f" — **{word}** ({'; '.join(r.reasons)})"
        out = [head]
        plain = [c for c in r.changes if not c.within]
        inner: dict[str, list[Change]] = {}
        for c in r.changes:
            if c.within:
                inner.setdefault(c.within, []).append(c)
        shown = 0
        for c in plain:
            if shown >= _MAX_LINES:
                break
            out.append(f"  - {_code(c.line())}")
            shown += 1
        for prop, changes in inner.items():
            out.append(f"  - {_code(prop)} (JSON, compared as structure):")
            for c in changes:
                if shown >= _MAX_LINES:
                    break
                out.append(f"    - {_code(c.line())}")
                shown += 1
        if len(r.changes) > shown:
            out.append(f"  - … {len(r.changes) - shown} more change(s) (see `--json`)")
        return out


def parse_fail_on(text: str | None) -> dict[str, Decimal | None]:
    """``"replacement,cost-increase=50"`` → ``{"replacement": None, "cost-increase": Decimal("50")}``.

    :raises ValueError: naming an unknown condition or a bad amount.
    """
    out: dict[str, Decimal | None] = {}
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        name, equals, value = part.partition("=")
        name = name.strip()
        if not equals and name.replace(".", "", 1).isdigit() and "cost-increase" in out:
            # "cost-increase=1,000": the comma separates conditions
            raise ValueError(f"--fail-on: {part!r} is not a condition; write a cost-increase amount without "
                             "thousands separators (cost-increase=1000)")
        if name not in FAIL_ON_CONDITIONS:
            raise ValueError(f"--fail-on: unknown condition {name!r}; allowed: {', '.join(FAIL_ON_CONDITIONS)}"
                             " (cost-increase=<USD>)")
        if value and name != "cost-increase":
            raise ValueError(f"--fail-on: {name} takes no value (got {part!r})")
        amount = None
        if equals and not value.strip() and name != "cost-increase":
            raise ValueError(f"--fail-on: {name} takes no value (got {part!r})")
        if equals and not value.strip():  # "cost-increase=" with no amount: a typo, not "any increase"
            raise ValueError(f"--fail-on: cost-increase= needs a USD amount (or cost-increase alone for any increase), "
                             f"got {part!r}")
        if value:
            try:
                amount = Decimal(value.strip().lstrip("$"))
            except ArithmeticError:
                amount = None
            if amount is None or not amount.is_finite() or amount < 0:
                raise ValueError(f"--fail-on: cost-increase needs a non-negative USD amount, got {value!r}")
        out[name] = amount
    return out
