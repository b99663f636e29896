"""The one mechanism of a role whose permissions sit in a customer-managed policy.

:class:`ManagedPolicyRole` routes ``add_to_policy`` and every ``grant_*`` into one customer-managed
policy instead of an inline ``DefaultPolicy`` (the execution roles of ``security/roles.py`` and
``SecureFunction``'s role); :func:`service_role` builds the role of one AWS service with its policy
(the schedule, retraining, image, feature store and MLflow roles and the custom-resource providers).
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Sequence

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from constructs import Construct

from .stacks import note_scope


_STATEMENTS = "_sagemaker_constructs_statements"


def note_statements(policy: iam.ManagedPolicy, statements: Iterable[dict[str, Any] | iam.PolicyStatement]) -> None:
    """Record, in Python, the statements just added to ``policy`` (or that it was created with:
    ``[]`` for none), as their JSON where it is known, else the ``PolicyStatement``.
    :func:`known_statements` gives them back: to the policy-size check, which compares their
    number with the policy's own count before it trusts them, and to the acknowledgement of the
    findings a policy has when it is made (``compliance.acknowledge_present_findings``)."""
    state = vars(policy)
    known = state.get(_STATEMENTS)
    if known is None:
        known = state[_STATEMENTS] = []
    known.extend(statements)


def recorded_policy(scope: Construct, id: str, *, statements: Sequence[iam.PolicyStatement] = (),
                    **props: Any) -> iam.ManagedPolicy:
    """``iam.ManagedPolicy(scope, id, statements=statements, **props)``, its statements recorded
    (:func:`note_statements`) and its stack known without asking (``note_scope``)."""
    policy = iam.ManagedPolicy(scope, id, statements=list(statements), **props)
    note_scope(policy, scope)
    note_statements(policy, statements)
    return policy


def add_known_statements(policy: iam.ManagedPolicy, *statements: iam.PolicyStatement) -> None:
    """``policy.add_statements(*statements)``, recorded (:func:`note_statements`)."""
    policy.add_statements(*statements)
    note_statements(policy, statements)


def known_statements(policy: iam.ManagedPolicy) -> list[dict[str, Any] | iam.PolicyStatement] | None:
    """The statements :func:`note_statements` recorded for ``policy``, or ``None`` if none were."""
    return vars(policy).get(_STATEMENTS)


def statement_key(statement: iam.PolicyStatement) -> str:
    """A statement's meaning without its Sid, with actions and resources in a canonical order."""
    return statement_json_key(statement.to_statement_json())


def statement_json_key(statement_json: dict[str, Any]) -> str:
    """:func:`statement_key` of a statement's JSON (the one key every grant dedupe compares)."""
    doc = dict(statement_json)
    doc.pop("Sid", None)
    for field in ("Action", "NotAction", "Resource", "NotResource"):
        if field in doc:
            value = doc[field]
            doc[field] = sorted(value if isinstance(value, list) else [value])
    return json.dumps(doc, sort_keys=True, default=str)


class ManagedPolicyRole(iam.Role):
    """A role whose every statement lands in one customer-managed policy (:meth:`attach_permissions`),
    never in an inline ``DefaultPolicy``. A statement CDK adds that the policy already holds (Lambda's
    own DLQ and X-Ray grants) is not written twice."""

    def attach_permissions(self, policy: iam.ManagedPolicy) -> None:
        """From now on, ``policy`` receives this role's statements."""
        self._permissions = policy
        self._written: set[str] = set()

    def allow(self, statement: iam.PolicyStatement) -> iam.PolicyStatement:
        """Add ``statement`` to the permissions policy (and remember it, so CDK's copy is not added)."""
        statement_json = statement.to_statement_json()
        self._written.add(statement_json_key(statement_json))
        self._permissions.add_statements(statement)
        note_statements(self._permissions, [statement_json])
        return statement

    def add_granted(self, statement: iam.PolicyStatement, key: str, statement_json: dict[str, Any]) -> None:
        """``add_to_principal_policy(statement)`` once the permissions policy is attached, for a
        statement whose :func:`statement_key` and JSON the caller has worked out."""
        if key not in self._written:
            self._written.add(key)
            self._permissions.add_statements(statement)
            note_statements(self._permissions, [statement_json])

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        policy = self.__dict__.get("_permissions")
        if policy is None:  # only while iam.Role itself is being constructed
            return super().add_to_principal_policy(statement)
        statement_json = statement.to_statement_json()
        key = statement_json_key(statement_json)
        if key not in self._written:
            self._written.add(key)
            policy.add_statements(statement)
            note_statements(policy, [statement_json])
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=policy)


def service_role(
    scope: Construct,
    role_id: str,
    policy_id: str,
    *,
    service: str,
    description: str,
    statements: Sequence[iam.PolicyStatement],
    source_account: bool = True,
    route_grants: bool = True,
) -> tuple[iam.Role, iam.ManagedPolicy]:
    """A role ``scope/<role_id>`` that ``service`` (``"scheduler.amazonaws.com"``) may assume (only
    for this account with ``source_account``, the confused-deputy guard) and its customer-managed
    policy ``scope/<policy_id>`` holding ``statements``.

    With ``route_grants`` (default) the role is a :class:`ManagedPolicyRole`: later grants land in
    that policy too. ``route_grants=False`` keeps the grants aws-cdk-lib adds on its own (a Lambda
    function's tracing and environment-key grants) in the role's inline ``DefaultPolicy``: the
    custom-resource providers, whose templates and acknowledgements predate this module.
    """
    principal: iam.IPrincipal = iam.ServicePrincipal(service)
    if source_account:
        principal = iam.ServicePrincipal(service).with_conditions({"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}})
    role_class = ManagedPolicyRole if route_grants else iam.Role
    role = role_class(scope, role_id, assumed_by=principal, description=description)
    policy = recorded_policy(scope, policy_id, statements=statements, roles=[role])
    if isinstance(role, ManagedPolicyRole):
        role.attach_permissions(policy)
    return role, policy
