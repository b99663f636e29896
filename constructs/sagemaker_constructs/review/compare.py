"""``compare_assemblies(base, head)``: what a pull request changes in the synthesized stacks."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..errors import ValidationError
from . import findings as F
from . import iam, network, schemas
from .assembly import Assembly, StackInput, read_assembly
from .jsondiff import Change, diff, is_intrinsic, render
from .report import CostDelta, Removal, Replacement, ResourceChange, ReviewReport, StackDiff

#: Resource types whose replacement or removal loses data or an identity other resources and
#: people depend on (a key's ciphertexts, a bucket's objects, a domain's home directories, a
#: queue's messages, an endpoint's URL). Flagged first in the report.
STATEFUL_TYPES: frozenset[str] = frozenset({
    "AWS::KMS::Key", "AWS::S3::Bucket", "AWS::SageMaker::Domain", "AWS::EFS::FileSystem", "AWS::Logs::LogGroup",
    "AWS::SageMaker::ModelPackageGroup", "AWS::CloudTrail::Trail", "AWS::SQS::Queue", "AWS::SageMaker::UserProfile",
    "AWS::SageMaker::Endpoint", "AWS::SageMaker::Pipeline", "AWS::SNS::Topic", "AWS::EC2::VPC",
    "AWS::SageMaker::Space", "AWS::SageMaker::FeatureGroup", "AWS::SageMaker::ModelPackage",
    "AWS::DynamoDB::Table", "AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::ECR::Repository",
    "AWS::SecretsManager::Secret", "AWS::Kinesis::Stream", "AWS::Cognito::UserPool", "AWS::Backup::BackupVault",
})

DEFAULT_REGION = "us-east-1"
_IGNORED_METADATA = ("aws:cdk:", "aws:asset:")
_HASH = re.compile(r"[0-9A-F]{8}$")


def compare_assemblies(base: str | Path | Assembly, head: str | Path | Assembly, *, region: str | None = None,
                       stateful_types: Iterable[str] = STATEFUL_TYPES, cost: bool = True) -> ReviewReport:
    """Compare two cloud assembly directories (``cdk.out`` of the base and of the head).

    :param region: the region of environment-agnostic stacks, for the resource schemas and the
        cost estimate (a stack with a concrete ``env`` uses its own). Default: ``us-east-1``.
    :param stateful_types: the resource types flagged when replaced or removed. Default:
        :data:`STATEFUL_TYPES`.
    :param cost: estimate the fixed monthly cost of both. Default: true.
    :raises ValidationError: when a directory is not a cloud assembly.
    """
    base_asm = base if isinstance(base, Assembly) else read_assembly(base)
    head_asm = head if isinstance(head, Assembly) else read_assembly(head)
    region = region or DEFAULT_REGION
    report = ReviewReport(base=str(base_asm.directory), head=str(head_asm.directory), region=region)
    report.schemas_checked = schemas.available()
    if not report.schemas_checked:
        report.notes.append(f"Replacements by create-only property were not checked: {schemas.INSTALL_HINT}.")
    stateful = frozenset(stateful_types)
    unpaired_removed: list[tuple[StackInput, str]] = []
    unpaired_added: list[tuple[StackInput, str]] = []
    for old, new in _match_stacks(report, base_asm, head_asm):
        stack_diff = _compare_stack(report, old, new, region, stateful, unpaired_removed, unpaired_added)
        report.stacks.append(stack_diff)
    _pair_across_stacks(report, unpaired_removed, unpaired_added, stateful)
    report.findings, report.finding_sources = F.compare(base_asm, head_asm)
    if cost:
        report.cost = _cost(base_asm, head_asm, region)
    return report


def _identity(stack: StackInput) -> tuple[str, str]:
    return stack.environment, stack.name


def _match_stacks(report: ReviewReport, base: Assembly, head: Assembly) -> list[tuple[Any, Any]]:
    """``[(base stack or None, head stack or None)]``, paired by what CloudFormation deploys to:
    the environment and the stack name. A construct ID changed under a pinned ``stack_name`` is
    the same CloudFormation stack; a ``stack_name`` changed under the same construct ID is a new
    stack (``cdk deploy`` creates it and leaves the old one as it is)."""
    head_by_identity: dict[tuple[str, str], str] = {}
    for key, stack in head.stacks.items():
        head_by_identity.setdefault(_identity(stack), key)
    base_identities = {_identity(stack) for stack in base.stacks.values()}
    used: set[str] = set()
    out: list[tuple[Any, Any]] = []
    for key, old in base.stacks.items():
        same = head.stacks.get(key)
        if same is not None and _identity(same) == _identity(old):
            match = key
        else:
            match = head_by_identity.get(_identity(old))
            if match is not None and (match in base.stacks and _identity(base.stacks[match]) == _identity(old)):
                match = None  # paired with its own base stack
        if match is not None and match not in used:
            used.add(match)
            out.append((old, head.stacks[match]))
            continue
        out.append((old, None))
        if same is not None and same.key not in used and _identity(same) not in base_identities:
            report.notes.append(f"Stack {old.name} is now deployed as {same.name} ({key}): CloudFormation creates "
                                f"a new stack with new resources; `cdk deploy` leaves {old.name} as it is.")
    out += [(None, stack) for key, stack in head.stacks.items() if key not in used]
    return out


def _normalized(resource: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in resource.items() if k not in ("Properties", "Metadata")}
    metadata = {k: v for k, v in (resource.get("Metadata") or {}).items() if not k.startswith(_IGNORED_METADATA)}
    if metadata:
        out["Metadata"] = metadata
    if isinstance(out.get("DependsOn"), list):
        out["DependsOn"] = sorted(out["DependsOn"])
    elif isinstance(out.get("DependsOn"), str):
        out["DependsOn"] = [out["DependsOn"]]
    return out


def _resource_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes = diff(old.get("Properties") or {}, new.get("Properties") or {}, raw=("Properties",))
    return changes + diff(_normalized(old), _normalized(new))


def _policy(resource: dict[str, Any], replaced_by_update: bool) -> str:
    key = "UpdateReplacePolicy" if replaced_by_update else "DeletionPolicy"
    return str(resource.get(key) or "Delete")


def _replacement_reasons(resource_type: str, old: dict[str, Any], new: dict[str, Any], changes: list[Change], region: str,
                         report: ReviewReport) -> tuple[str | None, list[str]]:
    """``("will" | "may" | None, reasons)``."""
    if old.get("Type") != new.get("Type"):
        return "will", [f"type changed from {old.get('Type')}"]
    if not report.schemas_checked:
        return None, []
    rules = schemas.replacement_rules(resource_type, region)
    if rules is None:
        return None, []
    will, may = [], []
    before, after = old.get("Properties") or {}, new.get("Properties") or {}

    def touches(pointer: tuple[str, ...], raw: tuple[Any, ...]) -> bool:
        if not schemas.matches(pointer, raw):
            return False
        # a change above a nested create-only property (DomainSettings added, with only its
        # updatable SecurityGroupIds) replaces only when the value at the property changed
        return len(raw) >= len(pointer) or _values_at(before, pointer) != _values_at(after, pointer)

    for change in changes:
        if not change.raw or change.raw[0] != "Properties":
            continue
        raw = change.raw[1:]
        for pointer in rules.create_only:
            if touches(pointer, raw):
                will.append(".".join(pointer))
        for pointer in rules.conditional:
            if touches(pointer, raw):
                may.append(".".join(pointer))
    if will:
        return "will", [f"create-only property {p} changed" for p in dict.fromkeys(will)]
    if may:
        return "may", [f"conditionally create-only property {p} changed" for p in dict.fromkeys(may)]
    return None, []


def _refs(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "Ref" and isinstance(v, str):
                found.add(v)
            elif k == "Fn::GetAtt":
                found.add(v[0] if isinstance(v, list) else str(v).split(".")[0])
            else:
                found |= _refs(v)
    elif isinstance(value, list):
        for v in value:
            found |= _refs(v)
    elif isinstance(value, str) and "${" in value:
        found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", value)}
    return found


def _values_at(value: Any, pointer: tuple[str, ...]) -> list[Any]:
    """The values at a schema pointer (``DomainSettings/RStudioServerProDomainSettings/...``, ``*``
    any list item): only what the create-only property holds, not its updatable siblings."""
    if not pointer:
        return [value]
    head, rest = pointer[0], pointer[1:]
    if isinstance(value, list):
        items = value if head == "*" else []
        return [found for item in items for found in _values_at(item, rest)]
    if isinstance(value, dict) and not is_intrinsic(value) and head in value:
        return _values_at(value[head], rest)
    if is_intrinsic(value):
        return [value]  # Fn::If and the like: whatever it holds may land at the pointer
    return []


def _stem(logical_id: str) -> str:
    return _HASH.sub("", logical_id)


def _path_tail(path: str) -> str:
    return "/".join(path.split("/")[-2:]) if path else ""


def _compare_stack(report: ReviewReport, old: StackInput | None, new: StackInput | None, region: str,
                   stateful: frozenset[str], unpaired_removed: list[Any], unpaired_added: list[Any]) -> StackDiff:
    stack = new or old
    assert stack is not None
    status = "added" if old is None else "removed" if new is None else "modified"
    result = StackDiff(key=stack.key, name=stack.name, status=status)
    stack_region = stack.region or region
    b = old.resources if old else {}
    h = new.resources if new else {}
    removed = [lid for lid in b if lid not in h]
    added = [lid for lid in h if lid not in b]
    pairs = _pair(old, new, removed, added, stateful) if old and new else {}
    paired_new = set(pairs.values())
    replaced: dict[str, str] = {}  # head logical id -> reason, for the cascade
    by_id: dict[str, ResourceChange] = {}

    for lid in removed:
        assert old is not None  # removed ids are old's (b is empty without it)
        res = b[lid]
        rtype = res.get("Type", "")
        if lid in pairs:
            continue
        rc = ResourceChange(stack.name, lid, rtype, old.path(lid), "removed", stateful=rtype in stateful)
        result.resources.append(rc)
        if rtype in stateful:
            unpaired_removed.append((old, lid))
        _side_diffs(report, stack.name, lid, old.path(lid), res, None)
    for lid in added:
        assert new is not None  # added ids are new's (h is empty without it)
        res = h[lid]
        rtype = res.get("Type", "")
        if lid in paired_new:
            continue
        rc = ResourceChange(stack.name, lid, rtype, new.path(lid), "added", stateful=rtype in stateful)
        result.resources.append(rc)
        by_id[lid] = rc
        if rtype in stateful:
            unpaired_added.append((new, lid))
        _side_diffs(report, stack.name, lid, new.path(lid), None, res)
    for old_lid, new_lid in pairs.items():
        assert old is not None and new is not None  # pairs are made only with both
        before, after = b[old_lid], h[new_lid]
        rtype = after.get("Type", "")
        changes = _resource_changes(before, after)
        rc = ResourceChange(stack.name, new_lid, rtype, new.path(new_lid), "replaced", changes=changes,
                            stateful=True, old_logical_id=old_lid, replacement="will",
                            reasons=[f"logical ID changed from {old_lid}"])
        result.resources.append(rc)
        replaced[new_lid] = rc.reasons[0]
        report.replacements.append(Replacement(
            stack.name, new_lid, rtype, new.path(new_lid) or old.path(old_lid), "will", rc.reasons,
            old_logical_id=old_lid, old_resource_policy=_policy(before, False)))
        _side_diffs(report, stack.name, new_lid, new.path(new_lid), before, after)
    for lid in b:
        if lid not in h:
            continue
        assert new is not None  # lid is in h, which is empty without new
        before, after = b[lid], h[lid]
        if before == after:
            continue
        changes = _resource_changes(before, after)
        if not changes:
            continue
        rtype = after.get("Type", "")
        certainty, reasons = _replacement_reasons(rtype, before, after, changes, stack_region, report)
        rc = ResourceChange(stack.name, lid, rtype, new.path(lid), "modified", changes=changes,
                            stateful=rtype in stateful, replacement=certainty, reasons=reasons)
        result.resources.append(rc)
        by_id[lid] = rc
        if certainty:
            replaced[lid] = reasons[0]
        _side_diffs(report, stack.name, lid, new.path(lid), before, after)
    changed_sections: dict[str, set[str]] = {}
    if old and new:
        for section in _TEMPLATE_SECTIONS:
            before, after = old.template.get(section) or {}, new.template.get(section) or {}
            result.template_changes += diff(before, after, (section,))
            if isinstance(before, dict) and isinstance(after, dict):
                changed_sections[section] = {n for n in {*before, *after} if before.get(n) != after.get(n)}
        _template_cascade(report, result, old, new, changed_sections, replaced, by_id, stack_region, stateful)
        _cascade(report, result, old, new, replaced, by_id, stack_region, stateful)
        for rc in result.resources:
            if rc.kind == "modified" and rc.replacement and rc.stateful:
                report.replacements.append(Replacement(stack.name, rc.logical_id, rc.resource_type, rc.path,
                                                       rc.replacement, rc.reasons,
                                                       old_resource_policy=_policy(b[rc.logical_id], True)))
    order = {"replaced": 0, "removed": 1, "modified": 2, "added": 3}
    result.resources.sort(key=lambda r: (order[r.kind] if not (r.kind == "modified" and r.replacement) else 0,
                                         r.logical_id))
    return result


def _pair(old: StackInput, new: StackInput, removed: list[str], added: list[str],
          stateful: frozenset[str]) -> dict[str, str]:
    """Stateful resources whose logical ID changed: ``{base id: head id}``, paired by construct
    path, then by logical ID less its hash, then by the last two path parts, then when exactly
    one of the type went and one came."""
    b, h = old.resources, new.resources
    gone = [lid for lid in removed if b[lid].get("Type") in stateful]
    came = [lid for lid in added if h[lid].get("Type") in stateful]
    pairs: dict[str, str] = {}

    def match(key) -> None:
        for o in gone:
            if o in pairs:
                continue
            candidates = [n for n in came if n not in pairs.values() and h[n].get("Type") == b[o].get("Type")
                          and key(old, o) and key(old, o) == key(new, n)]
            if len(candidates) == 1:
                pairs[o] = candidates[0]

    match(lambda s, lid: s.path(lid))
    match(lambda s, lid: _stem(lid))
    match(lambda s, lid: _path_tail(s.path(lid)))
    for rtype in {b[o].get("Type") for o in gone}:
        left = [o for o in gone if o not in pairs and b[o].get("Type") == rtype]
        right = [n for n in came if n not in pairs.values() and h[n].get("Type") == rtype]
        if len(left) == 1 and len(right) == 1:
            pairs[left[0]] = right[0]
    return pairs


#: Template sections diffed besides the resources: a changed mapping, condition or parameter
#: default changes what the resources that read it deploy, with no change in the resources' text.
_TEMPLATE_SECTIONS = ("Parameters", "Mappings", "Conditions", "Rules", "Outputs")


def _reads(value: Any, changed: dict[str, set[str]]) -> str | None:
    """What of the changed parameters, mappings and conditions ``value`` reads (``mapping
    Sizes``), or None."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref" and arg in changed.get("Parameters", ()):
                return f"parameter {arg}"
            if key == "Fn::FindInMap" and isinstance(arg, list) and arg and arg[0] in changed.get("Mappings", ()):
                return f"mapping {arg[0]}"
            if key == "Fn::If" and isinstance(arg, list) and arg and arg[0] in changed.get("Conditions", ()):
                return f"condition {arg[0]}"
            if key == "Fn::Sub":
                text = arg[0] if isinstance(arg, list) and arg else arg
                if isinstance(text, str):
                    for name in re.findall(r"\$\{([^!}][^}]*)\}", text):
                        if name in changed.get("Parameters", ()):
                            return f"parameter {name}"
        for inner in value.values():
            found = _reads(inner, changed)
            if found:
                return found
    elif isinstance(value, list):
        for inner in value:
            found = _reads(inner, changed)
            if found:
                return found
    return None


def _template_cascade(report: ReviewReport, result: StackDiff, old: StackInput, new: StackInput,
                      changed: dict[str, set[str]], replaced: dict[str, str], by_id: dict[str, ResourceChange],
                      region: str, stateful: frozenset[str]) -> None:
    """A resource whose create-only property reads a changed mapping, condition or parameter
    default (``InstanceType: Fn::FindInMap [Sizes, prod, type]``) may be replaced, though its own
    text is the same."""
    if not report.schemas_checked or not any(changed.get(s) for s in ("Parameters", "Mappings", "Conditions")):
        return
    for lid, pointers in _kept_create_only(old, new, replaced, region):
        for pointer, values in pointers:
            what = _reads(values, changed)
            if what:
                reason = f"create-only property {'.'.join(pointer)} reads {what}, which changed"
                _may_replace(result, new, lid, reason, by_id, replaced, stateful)
                break


def _kept_create_only(old: StackInput, new: StackInput, replaced: dict[str, str], region: str) -> Iterator[
        tuple[str, Iterator[tuple[Any, list[Any]]]]]:
    """Each resource in both templates and not yet replaced, with its create-only properties'
    ``(pointer, values)`` in the new template (read lazily: a caller stops at the first that
    replaces it)."""
    for lid, res in list(new.resources.items()):
        if lid in replaced or lid not in old.resources:
            continue
        rules = schemas.replacement_rules(res.get("Type", ""), region)
        if not rules:
            continue
        props = res.get("Properties") or {}
        yield lid, ((pointer, _values_at(props, pointer)) for pointer in rules.create_only)


def _may_replace(result: StackDiff, new: StackInput, lid: str, reason: str, by_id: dict[str, ResourceChange],
                 replaced: dict[str, str], stateful: frozenset[str]) -> None:
    """Record that ``lid`` may be replaced for ``reason`` (a "modified" change if it had none)."""
    res = new.resources[lid]
    rc = by_id.get(lid)
    if rc is None:
        rc = ResourceChange(new.name, lid, res.get("Type", ""), new.path(lid), "modified",
                            stateful=res.get("Type") in stateful)
        result.resources.append(rc)
        by_id[lid] = rc
    if rc.replacement is None:
        rc.replacement = "may"
    rc.reasons.append(reason)
    replaced[lid] = reason


def _cascade(report: ReviewReport, result: StackDiff, old: StackInput, new: StackInput, replaced: dict[str, str],
             by_id: dict[str, ResourceChange], region: str, stateful: frozenset[str]) -> None:
    """A resource whose create-only property refers to a replaced resource may be replaced too."""
    if not report.schemas_checked:
        return
    pending = dict(replaced)
    while pending:
        found: dict[str, str] = {}
        for lid, pointers in _kept_create_only(old, new, replaced, region):
            for pointer, values in pointers:
                hits = set().union(*(_refs(v) for v in values)) & set(pending)
                if hits:
                    target = sorted(hits)[0]
                    found[lid] = f"create-only property {'.'.join(pointer)} refers to {target}, which is replaced"
                    break
        for lid, reason in found.items():
            _may_replace(result, new, lid, reason, by_id, replaced, stateful)
        pending = found


def _pair_across_stacks(report: ReviewReport, removed: list[Any], added: list[Any], stateful: frozenset[str]) -> None:
    """A stateful resource that moved to another stack is a new resource there."""
    used = set()
    for old, lid in removed:
        res = old.resources[lid]
        tail = old.path(lid).split("/", 1)[-1]
        for i, (new, nlid) in enumerate(added):
            if i in used or new is old or new.resources[nlid].get("Type") != res.get("Type"):
                continue
            if nlid == lid or (tail and new.path(nlid).split("/", 1)[-1] == tail):
                used.add(i)
                why = (f"stack renamed from {old.name} ({lid}): a new CloudFormation stack" if new.key == old.key
                       else f"moved from stack {old.name} ({lid})")
                report.replacements.append(Replacement(
                    new.name, nlid, res.get("Type", ""), new.path(nlid), "will",
                    [why], old_logical_id=lid,
                    old_resource_policy=_policy(res, False), old_stack=old.name))
                break
        else:
            report.removals.append(Removal(old.name, lid, res.get("Type", ""), old.path(lid), _policy(res, False)))


def _side_diffs(report: ReviewReport, stack: str, lid: str, path: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
    report.iam += iam.diff_resource(stack, lid, path, old, new)
    report.network += network.diff_resource(stack, lid, path, old, new)


def _cost(base: Assembly, head: Assembly, region: str) -> CostDelta:
    from ..cost import estimate_monthly_cost

    try:
        before = estimate_monthly_cost(base.directory, region=region)
        after = estimate_monthly_cost(head.directory, region=region)
    except ValidationError as exc:
        return CostDelta(note=f"not estimated: {exc}")
    priced: list[dict[tuple[Any, ...], tuple[list[str], Decimal]]] = [{}, {}]
    for lines, target in ((before.lines, priced[0]), (after.lines, priced[1])):
        for line in lines:
            key = (line.stack, line.path or line.logical_id)
            items, total = target.get(key, ([], Decimal(0)))
            target[key] = (items + [line.item], total + line.monthly)
    items = []
    for key in list(priced[0]) + [k for k in priced[1] if k not in priced[0]]:
        (b_items, x), (a_items, y) = priced[0].get(key, ([], Decimal(0))), priced[1].get(key, ([], Decimal(0)))
        if x != y:
            what = ", ".join(b_items) or "nothing"
            if a_items != b_items:
                what += " -> " + (", ".join(a_items) or "nothing")
            items.append((*key, what, x, y))
    b_totals, a_totals = before.stack_totals(), after.stack_totals()
    stacks = {name: (b_totals.get(name, Decimal(0)), a_totals.get(name, Decimal(0)))
              for name in list(b_totals) + [n for n in a_totals if n not in b_totals]}
    return CostDelta(base_total=before.total, head_total=after.total, stacks=stacks, items=items,
                     region=after.region or region, price_date=after.price_date, estimated=True)


__all__ = ["DEFAULT_REGION", "STATEFUL_TYPES", "compare_assemblies", "render"]
