"""What every rule shares: the answer type, the rule record, and small readers of a resource."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping


class Compliance(enum.Enum):
    """A rule's answer for one resource, as cdk-nag rules answer."""

    COMPLIANT = "compliant"
    NON_COMPLIANT = "non-compliant"
    NOT_APPLICABLE = "not-applicable"


C, N, NA = Compliance.COMPLIANT, Compliance.NON_COMPLIANT, Compliance.NOT_APPLICABLE
Check = Callable[[Mapping[str, Any]], Compliance]
#: A check that also reads the rest of the template (a resource that names another one).
TemplateCheck = Callable[[Mapping[str, Any], Mapping[str, Any]], Compliance]


@dataclass(frozen=True)
class Rule:
    """One rule: the resource type it reads, what it checks, and how to fix a finding.

    ``check`` answers from the resource alone; a rule that needs the resources it names (in the same
    template) gives ``template_check`` too, which :meth:`answer` prefers."""

    id: str
    resource_type: str
    description: str
    fix: str
    check: Check
    template_check: TemplateCheck | None = None

    def answer(self, resource: Mapping[str, Any], template: Mapping[str, Any]) -> Compliance:
        """The rule's answer for ``resource`` of ``template``: for a resource whose properties hold
        ``Fn::If`` (or ``Ref: AWS::NoValue``), the answer of the worst deployment its conditions
        allow (see :func:`condition_variants`): one non-compliant branch is a finding; a ``Ref``
        to a template parameter is judged as each value it may take (:func:`parameter_variants`)."""
        answers = [self._answer_one(each, template) for variant in condition_variants(resource)
                   for each in parameter_variants(variant, template)]
        if N in answers:
            return N
        return C if C in answers else NA

    def _answer_one(self, resource: Mapping[str, Any], template: Mapping[str, Any]) -> Compliance:
        if self.template_check is not None:
            return self.template_check(resource, template)
        return self.check(resource)


NO_VALUE = {"Ref": "AWS::NoValue"}
#: At most this many conditions are combined every way (2**n variants); beyond, the others take
#: one branch each way, all at once.
MAX_COMBINED_CONDITIONS = 8
_ABSENT = object()


def _conditions(value: Any, found: dict[str, None]) -> bool:
    """Collect the condition names of every ``Fn::If`` in ``value``; whether it holds any
    ``Fn::If`` or ``AWS::NoValue`` at all."""
    if isinstance(value, dict):
        branching = value == NO_VALUE
        branch = value.get("Fn::If")
        if len(value) == 1 and isinstance(branch, list) and len(branch) == 3 and isinstance(branch[0], str):
            found.setdefault(branch[0])
            branching = True
        for inner in value.values():
            branching = _conditions(inner, found) or branching
        return branching
    if isinstance(value, list):
        return any([_conditions(inner, found) for inner in value])
    return False


def _choose(value: Any, taken: Mapping[str, bool], default: bool) -> Any:
    """``value`` with each ``Fn::If`` replaced by its branch under ``taken`` and ``AWS::NoValue``
    dropped (``_ABSENT`` when ``value`` itself is absent)."""
    if isinstance(value, dict):
        if value == NO_VALUE:
            return _ABSENT
        branch = value.get("Fn::If")
        if len(value) == 1 and isinstance(branch, list) and len(branch) == 3 and isinstance(branch[0], str):
            return _choose(branch[1] if taken.get(branch[0], default) else branch[2], taken, default)
        chosen = {k: _choose(v, taken, default) for k, v in value.items()}
        return {k: v for k, v in chosen.items() if v is not _ABSENT}
    if isinstance(value, list):
        return [v for v in (_choose(inner, taken, default) for inner in value) if v is not _ABSENT]
    return value


def condition_variants(resource: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The resource as each combination of its ``Fn::If`` conditions would deploy it: every
    ``Fn::If`` replaced by the branch its condition takes (one condition takes the same branch
    everywhere) and ``Ref: AWS::NoValue`` left out, as CloudFormation does. A resource without
    either is its only variant. cdk-nag's rules resolve a value and judge what they find, so a
    literal non-compliant branch (``Fn::If [UseKey, key, AWS::NoValue]``) must not pass. The
    resource's own ``Condition`` holds wherever the resource exists."""
    found: dict[str, None] = {}
    if not _conditions(resource.get("Properties"), found):
        return [resource]
    # a resource with a Condition exists only where it holds: its own condition takes the true
    # branch everywhere (Condition: UseKey, KmsKeyId: Fn::If [UseKey, key, AWS::NoValue] has a key)
    own = resource.get("Condition")
    fixed = {own: True} if isinstance(own, str) else {}
    names = [name for name in found if name not in fixed]
    combined, rest = names[:MAX_COMBINED_CONDITIONS], names[MAX_COMBINED_CONDITIONS:]
    variants = []
    for bits in range(2 ** len(combined)):
        taken = {**fixed, **{name: not bits & (1 << i) for i, name in enumerate(combined)}}
        for default in ((True, False) if rest else (True,)):
            properties = _choose(resource.get("Properties"), taken, default)
            variants.append({**resource, "Properties": {} if properties is _ABSENT else properties})
    return variants


#: Parameter types whose ``Ref`` is the parameter's value as given (a list type is a list, an
#: ``AWS::SSM::Parameter::Value<...>``'s Default is the name of an SSM parameter, not its value).
SCALAR_PARAMETER_TYPES = ("String", "Number")
#: At most this many deployments of one resource are judged for its parameters.
MAX_PARAMETER_VARIANTS = 64
_KEEP = object()  # the Ref itself: a value the template cannot tell


def _parameter_refs(value: Any, names: Mapping[str, Any], found: dict[str, None]) -> None:
    if isinstance(value, dict):
        ref = value.get("Ref")
        if len(value) == 1 and isinstance(ref, str) and ref in names:
            found.setdefault(ref)
            return
        for inner in value.values():
            _parameter_refs(inner, names, found)
    elif isinstance(value, list):
        for inner in value:
            _parameter_refs(inner, names, found)


def _substitute(value: Any, chosen: Mapping[str, Any]) -> Any:
    if isinstance(value, dict):
        ref = value.get("Ref")
        if len(value) == 1 and isinstance(ref, str) and ref in chosen:
            return value if chosen[ref] is _KEEP else chosen[ref]
        return {k: _substitute(v, chosen) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, chosen) for v in value]
    return value


def _literal(value: Any) -> str:
    """A parameter value as CloudFormation passes it: a string (``Ref`` of a Number parameter
    inside ``Fn::Join`` is its text too); rules read ``"2"`` and ``"true"`` as CloudFormation does."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parameter_variants(resource: Mapping[str, Any], template: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The resource as each value of the template parameters it ``Ref``s: a parameter with
    ``AllowedValues`` as each of them (CloudFormation refuses any other), one without as its
    ``Default`` and as the ``Ref`` itself (a deployment may pass anything). So
    ``InitialInstanceCount: Ref Count`` with ``Default: 1`` is judged as the one instance the
    stack deploys by default, and ``AppNetworkAccessType: Ref Access`` with ``AllowedValues:
    [VpcOnly]`` as VpcOnly. Parameters of list and SSM types stay references. A resource that
    names no parameter is its only variant."""
    parameters = template.get("Parameters")
    if not isinstance(parameters, dict) or not parameters:
        return [resource]
    scalar = {name: p for name, p in parameters.items()
              if isinstance(p, dict) and p.get("Type", "String") in SCALAR_PARAMETER_TYPES}
    found: dict[str, None] = {}
    _parameter_refs(resource.get("Properties"), scalar, found)
    if not found:
        return [resource]
    options: dict[str, list[Any]] = {}
    for name in found:
        parameter = scalar[name]
        allowed = parameter.get("AllowedValues")
        if isinstance(allowed, list) and allowed and all(isinstance(v, (str, int, float)) for v in allowed):
            options[name] = [_literal(v) for v in allowed]
        elif isinstance(parameter.get("Default"), (str, int, float)):
            options[name] = [_KEEP, _literal(parameter["Default"])]
        else:
            options[name] = [_KEEP]
    combinations: list[dict[str, Any]] = [{}]
    for name, values in options.items():
        if len(combinations) * len(values) > MAX_PARAMETER_VARIANTS:
            values = [_KEEP]  # beyond the limit, a parameter stays a reference (as before)
        combinations = [{**c, name: v} for c in combinations for v in values]
    return [{**resource, "Properties": _substitute(resource.get("Properties"), chosen)} for chosen in combinations]


def is_true(value: Any) -> bool:
    """A CloudFormation boolean that is true: ``true``, or the string ``"true"`` CloudFormation
    takes for it (any case; ``add_property_override("...", "true")``, YAML templates)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def is_false(value: Any) -> bool:
    """A CloudFormation boolean that is false: ``false`` or the string ``"false"`` (any case)."""
    return value is False or (isinstance(value, str) and value.lower() == "false")


def integer(value: Any) -> int | None:
    """A CloudFormation integer given literally (``2``, or the string ``"2"`` CloudFormation takes
    for it); None for an intrinsic function or anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    return None


def props(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    """A template resource's ``Properties`` (empty when it has none)."""
    return resource.get("Properties") or {}


def flat(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def ok(condition: bool) -> Compliance:
    return C if condition else N
