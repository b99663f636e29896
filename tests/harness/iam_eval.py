"""A small evaluator of IAM identity-based policies, for the policies our roles synthesize.

The IAM policy simulator is not reachable from the tests (no AWS account), so the isolation tests
resolve the synthesized policy documents and evaluate requests against them here. It implements
the parts of IAM's evaluation logic our policies use, as the IAM User Guide describes them
("Policy evaluation logic", "IAM JSON policy elements: Condition operators", "IAM policy
elements: Variables and tags"):

* explicit ``Deny`` wins over any ``Allow``; no matching ``Allow`` is an implicit deny;
* ``Action``/``NotAction`` with ``*`` and ``?`` wildcards, case-insensitive;
* ``Resource``/``NotResource``: ``*`` alone matches everything; otherwise ARNs are matched per
  colon-separated component (partition, service, region, account, then the rest), each component
  a case-sensitive glob, so ``*`` in the region component never spans into the account;
* policy variables ``${key}`` (and ``${*}``, ``${?}``, ``${$}``) in resources and condition values,
  taken from the request context; a variable the context lacks makes the statement not apply;
* condition operators ``StringEquals``, ``StringNotEquals``, ``StringEqualsIgnoreCase``,
  ``StringNotEqualsIgnoreCase``, ``StringLike``, ``StringNotLike``, ``ArnEquals``, ``ArnLike``,
  ``ArnNotEquals``, ``ArnNotLike``, ``Bool``, ``Null``, each with ``...IfExists`` and with the
  ``ForAnyValue:``/``ForAllValues:`` set qualifiers. Operators in one block, keys of one operator
  are ANDed; the values of one key are ORed (NOR for negated operators). A key missing from the
  context makes a positive operator false and a negated one true (IfExists: true); ``ForAnyValue``
  over a missing key is false, ``ForAllValues`` true. Condition keys are matched case-insensitively.

Anything else (an unknown operator, ``Principal`` in an identity policy, a multi-valued context key
under a single-valued operator) raises ``ValueError`` rather than guessing, so the evaluator cannot
silently allow what IAM would not.

``resolve`` turns a CloudFormation template fragment (``Fn::Join``, ``Ref``, ``Fn::GetAtt``) into
plain strings, and ``role_policies`` collects a role's resolved policy documents from a template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

ALLOW = "Allow"
DENY = "Deny"
IMPLICIT_DENY = "ImplicitDeny"

PSEUDO_PARAMETERS = {
    "AWS::Partition": "aws",
    "AWS::Region": "eu-west-1",
    "AWS::AccountId": "111122223333",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "Test",
}

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_SPECIAL_VARIABLES = {"*": "*", "?": "?", "$": "$"}

_STRING_OPERATORS = {
    "StringEquals": (False, False, False),  # (negated, like, ignore_case)
    "StringNotEquals": (True, False, False),
    "StringEqualsIgnoreCase": (False, False, True),
    "StringNotEqualsIgnoreCase": (True, False, True),
    "StringLike": (False, True, False),
    "StringNotLike": (True, True, False),
}
_ARN_OPERATORS = {"ArnEquals": False, "ArnLike": False, "ArnNotEquals": True, "ArnNotLike": True}


class _Unresolved(Exception):
    """A policy variable that the request context does not define."""


# --- CloudFormation values -> strings -------------------------------------------------------------
def resolve(node: Any, refs: Mapping[str, str] | None = None) -> Any:
    """Resolve ``Fn::Join``, ``Ref`` and ``Fn::GetAtt`` in a template fragment.

    ``refs`` maps ``LogicalId`` (for ``Ref``) and ``LogicalId.Attribute`` (for ``Fn::GetAtt``) to
    values; pseudo parameters default to ``PSEUDO_PARAMETERS``. Anything not in ``refs`` becomes
    ``<LogicalId>`` / ``<LogicalId.Attribute>``, which never matches a real ARN pattern.
    """
    refs = {**PSEUDO_PARAMETERS, **(refs or {})}
    if isinstance(node, list):
        return [resolve(v, refs) for v in node]
    if isinstance(node, dict):
        if len(node) == 1:
            ((function, value),) = node.items()
            if function == "Ref":
                return refs.get(value, f"<{value}>")
            if function == "Fn::GetAtt":
                name = ".".join(value) if isinstance(value, list) else value
                return refs.get(name, f"<{name}>")
            if function == "Fn::Join":
                delimiter, items = value
                return delimiter.join(str(resolve(i, refs)) for i in items)
            if function == "Fn::ImportValue":
                return f"<import:{resolve(value, refs)}>"
        return {k: resolve(v, refs) for k, v in node.items()}
    return node


def default_refs(template: Mapping[str, Any], *, region: str = PSEUDO_PARAMETERS["AWS::Region"],
                 account: str = PSEUDO_PARAMETERS["AWS::AccountId"]) -> dict[str, str]:
    """Plausible ``Ref``/``GetAtt`` values for the resources of ``template`` (buckets, keys, roles,
    Studio domains), so resolved policies hold real-looking ARNs."""
    refs: dict[str, str] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        kind = resource.get("Type")
        lower = logical_id.lower()
        if kind == "AWS::S3::Bucket":
            refs[logical_id] = f"bucket-{lower}"
            refs[f"{logical_id}.Arn"] = f"arn:aws:s3:::bucket-{lower}"
        elif kind == "AWS::KMS::Key":
            refs[f"{logical_id}.Arn"] = f"arn:aws:kms:{region}:{account}:key/{lower}"
        elif kind == "AWS::IAM::Role":
            refs[logical_id] = f"role-{lower}"
            refs[f"{logical_id}.Arn"] = f"arn:aws:iam::{account}:role/role-{lower}"
        elif kind == "AWS::SageMaker::Domain":
            refs[f"{logical_id}.DomainId"] = f"d-{lower[:12]}"
            refs[f"{logical_id}.DomainArn"] = f"arn:aws:sagemaker:{region}:{account}:domain/d-{lower[:12]}"
    return refs


def role_policies(template: Mapping[str, Any], role_logical_id: str,
                  refs: Mapping[str, str] | None = None) -> list[dict]:
    """The resolved documents of every customer-managed and inline policy attached to a role.

    Fails on AWS-managed policies (``ManagedPolicyArns``): the evaluator cannot see their text.
    """
    resources = template["Resources"]
    role = resources[role_logical_id]
    if role["Properties"].get("ManagedPolicyArns"):
        raise ValueError(f"{role_logical_id} has ManagedPolicyArns, whose statements cannot be evaluated")
    documents = [p["PolicyDocument"] for p in role["Properties"].get("Policies", [])]
    for resource in resources.values():
        if resource["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy") and \
                {"Ref": role_logical_id} in resource["Properties"].get("Roles", []):
            documents.append(resource["Properties"]["PolicyDocument"])
    if not documents:
        raise ValueError(f"no policy is attached to {role_logical_id}")
    return [resolve(d, refs) for d in documents]


# --- matching -------------------------------------------------------------------------------------
def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    parts = []
    for char in pattern:
        parts.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """``*`` any run of characters, ``?`` one character, everything else literal."""
    return _glob(pattern, ignore_case=ignore_case).fullmatch(value) is not None


def arn_match(pattern: str, value: str) -> bool:
    """IAM's ARN matching: ``*`` alone matches anything; otherwise each of the six colon-separated
    components is matched on its own (the last one, the resource, may itself contain colons)."""
    if pattern == "*":
        return True
    pattern_parts = pattern.split(":", 5)
    value_parts = value.split(":", 5)
    if not pattern.startswith("arn:") and not value.startswith("arn:"):
        return glob_match(pattern, value)  # e.g. an unresolved ``<LogicalId.Arn>`` placeholder
    if len(pattern_parts) != 6 or len(value_parts) != 6:
        return False
    return all(glob_match(p, v) for p, v in zip(pattern_parts, value_parts))


def action_match(pattern: str, action: str) -> bool:
    return glob_match(pattern, action, ignore_case=True)


def substitute(text: str, context: Mapping[str, Any]) -> str:
    """Replace ``${key}`` policy variables from the (lower-cased) context; raise when missing."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _SPECIAL_VARIABLES:
            return _SPECIAL_VARIABLES[name]
        if "," in name:  # ${key, 'default'}
            key, default = (s.strip() for s in name.split(",", 1))
            value = context.get(key.lower())
            if value is None:
                return default.strip("'")
        else:
            value = context.get(name.lower())
        if value is None or isinstance(value, list):
            raise _Unresolved(name)
        return str(value)

    return _VARIABLE.sub(replace, text)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- conditions -----------------------------------------------------------------------------------
def _compare(base: str, context_value: str, policy_value: str) -> bool:
    """The positive comparison of ``base`` (its negation is applied by the caller)."""
    if base in _STRING_OPERATORS:
        _, like, ignore_case = _STRING_OPERATORS[base]
        if like:
            return glob_match(policy_value, context_value, ignore_case=ignore_case)
        if ignore_case:
            return context_value.lower() == policy_value.lower()
        return context_value == policy_value
    if base in _ARN_OPERATORS:
        return arn_match(policy_value, context_value)
    if base == "Bool":
        return context_value.lower() == policy_value.lower()
    raise ValueError(f"condition operator {base!r} is not supported by this evaluator")


def _negated(base: str) -> bool:
    if base in _STRING_OPERATORS:
        return _STRING_OPERATORS[base][0]
    if base in _ARN_OPERATORS:
        return _ARN_OPERATORS[base]
    if base == "Bool":
        return False
    raise ValueError(f"condition operator {base!r} is not supported by this evaluator")


def _single(base: str, context_value: str, values: Sequence[str]) -> bool:
    matched = any(_compare(base, context_value, v) for v in values)
    return not matched if _negated(base) else matched


def condition_holds(operator: str, key: str, policy_values: Any, context: Mapping[str, Any]) -> bool:
    """One ``operator: {key: values}`` entry against a lower-cased context."""
    qualifier = None
    if ":" in operator and operator.split(":", 1)[0] in ("ForAnyValue", "ForAllValues"):
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    base = operator[: -len("IfExists")] if if_exists else operator
    values = [substitute(_text(v), context) for v in _as_list(policy_values)]
    present = context.get(key.lower())
    if isinstance(present, list) and not present:
        present = None
    if base == "Null":
        if qualifier or if_exists:
            raise ValueError(f"{operator} cannot be qualified")
        wanted = {v.lower() for v in values}
        if wanted - {"true", "false"} or len(wanted) != 1:
            raise ValueError(f"Null takes 'true' or 'false', not {values}")
        return (present is None) == ("true" in wanted)
    _negated(base)  # validate the operator even when the key is missing
    if qualifier == "ForAnyValue":
        if present is None:
            return False
        return any(_single(base, _text(c), values) for c in _as_list(present))
    if qualifier == "ForAllValues":
        if present is None:
            return True
        return all(_single(base, _text(c), values) for c in _as_list(present))
    if present is None:
        return True if if_exists else _negated(base)
    if isinstance(present, list):
        raise ValueError(f"{key} is multi-valued in the context; use ForAnyValue:/ForAllValues: with {operator}")
    return _single(base, _text(present), values)


def conditions_hold(conditions: Mapping[str, Mapping[str, Any]] | None, context: Mapping[str, Any]) -> bool:
    for operator, entries in (conditions or {}).items():
        for key, values in entries.items():
            if not condition_holds(operator, key, values, context):
                return False
    return True


# --- statements and decisions ---------------------------------------------------------------------
@dataclass
class Decision:
    """The outcome of one request: ``effect`` and the statements (by Sid or index) that matched."""

    effect: str
    allowed_by: list[str] = field(default_factory=list)
    denied_by: list[str] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return self.effect == ALLOW

    def __repr__(self) -> str:
        return f"Decision({self.effect}, allowed_by={self.allowed_by}, denied_by={self.denied_by})"


def statement_applies(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, Any]) -> bool:
    if "Principal" in statement or "NotPrincipal" in statement:
        raise ValueError("Principal/NotPrincipal belong in resource policies, not identity policies")
    if ("Action" in statement) == ("NotAction" in statement):
        raise ValueError(f"a statement needs exactly one of Action and NotAction: {statement}")
    if ("Resource" in statement) == ("NotResource" in statement):
        raise ValueError(f"a statement needs exactly one of Resource and NotResource: {statement}")
    if "Action" in statement:
        if not any(action_match(a, action) for a in _as_list(statement["Action"])):
            return False
    elif any(action_match(a, action) for a in _as_list(statement["NotAction"])):
        return False
    try:
        patterns = _as_list(statement.get("Resource", statement.get("NotResource")))
        matched = False
        for pattern in patterns:
            try:
                if arn_match(substitute(str(pattern), context), resource):
                    matched = True
                    break
            except _Unresolved:
                continue
        if matched == ("NotResource" in statement):
            return False
        return conditions_hold(statement.get("Condition"), context)
    except _Unresolved:
        return False


def evaluate(policies: Iterable[Mapping[str, Any]], action: str, resource: str,
             context: Mapping[str, Any] | None = None) -> Decision:
    """Evaluate one request against resolved identity-policy documents."""
    lowered = {k.lower(): v for k, v in (context or {}).items()}
    allowed_by, denied_by = [], []
    for document in policies:
        for index, statement in enumerate(_as_list(document["Statement"])):
            effect = statement["Effect"]
            if effect not in (ALLOW, DENY):
                raise ValueError(f"Effect must be Allow or Deny, not {effect!r}")
            if statement_applies(statement, action, resource, lowered):
                (allowed_by if effect == ALLOW else denied_by).append(statement.get("Sid", f"#{index}"))
    effect = DENY if denied_by else ALLOW if allowed_by else IMPLICIT_DENY
    return Decision(effect, allowed_by, denied_by)
