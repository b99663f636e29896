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
        """The rule's answer for ``resource`` of ``template``."""
        if self.template_check is not None:
            return self.template_check(resource, template)
        return self.check(resource)


def props(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    """A template resource's ``Properties`` (empty when it has none)."""
    return resource.get("Properties") or {}


def flat(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def ok(condition: bool) -> Compliance:
    return C if condition else N
