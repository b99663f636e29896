"""Grants to roles the caller supplies: one mechanism for every construct that takes ``role=``.

A construct that creates its own role (``ModelHostingRole``, ``JobExecutionRole``, a Lambda
role...) gives it a set of statements. A role the caller passes instead gets exactly that set:

* a role CDK can change (an ``iam.Role`` of the app, or one imported with
  ``iam.Role.from_role_arn(..., mutable=True)`` / ``from_role_name``) receives every statement
  (in its ``DefaultPolicy`` or the imported role's ``Policy``);
* a role CDK cannot change (imported with ``mutable=False``, from another account, or
  ``role.without_policy_updates()``) silently drops statements in CDK. Here that is a
  :class:`~sagemaker_constructs.ValidationError` naming the actions the role needs, unless the
  caller passes ``role_is_prepared=True`` (the documented way to say "I granted them myself").

API (used by ``Model``, ``RealtimeEndpoint``/``MultiModelEndpoint`` data capture, ``ModelMonitor``,
``EndpointInvoker``, ``DeployOnApproval`` and any construct with ``role=``/``role_is_prepared=``):

* :func:`add_statements` ``(scope, role, statements, *, role_is_prepared=False, argument="role")``
  adds statements to a role and raises when CDK could not add them; returns the policies that
  now hold them (to depend on).
* :func:`bind_role` ``(scope, role, *, default, role_is_prepared=False)`` returns a
  :class:`RoleBinding`: grant everything to ``binding.grantee`` (the default role, or with a
  supplied role a template of the default role), then call ``binding.finish()``, which copies
  the template's statements (Allow and Deny) to the supplied role through :func:`add_statements`
  and removes the template from the tree. So a supplied role gets the same statements as the
  default role, by construction.
* :func:`can_change` ``(role)``: whether CDK can add statements to ``role`` (without adding any).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence, cast

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct, Dependable, IConstruct, IDependable

from ..errors import ValidationError, is_unresolved
from .managed_role import known_statements, statement_json_key

if TYPE_CHECKING:
    from aws_cdk import aws_s3 as s3

#: The argument name every construct uses for "the supplied role already has what it needs".
ROLE_IS_PREPARED = "role_is_prepared"
#: Child id of the template of the default role (removed again by :meth:`RoleBinding.finish`).
TEMPLATE_ID = "DefaultRoleTemplate"


def _roots(dependable: IDependable) -> list[IConstruct]:
    return list(Dependable.of(dependable).dependency_roots)


def can_change(role: iam.IRole) -> bool | None:
    """True for roles of this app (``iam.Role``); None when only adding a statement can tell
    (imported roles: :func:`add_statements` finds out)."""
    return True if isinstance(role, iam.Role) else None


def describe_statements(scope: Construct, statements: Sequence[iam.PolicyStatement]) -> str:
    """``"Effect actions on resources"`` per statement, resolved as CloudFormation would render it."""
    stack = Stack.of(scope)
    parts = []
    for statement in statements:
        doc = stack.resolve(statement.to_statement_json())
        actions = doc.get("Action", [])
        resources = doc.get("Resource", [])
        parts.append(f"{doc.get('Effect', 'Allow')} {json.dumps(actions)} on {json.dumps(resources, sort_keys=True)}"
                     + (f" if {json.dumps(doc['Condition'], sort_keys=True)}" if "Condition" in doc else ""))
    return "; ".join(parts)


def needed_actions(statements: Sequence[iam.PolicyStatement]) -> list[str]:
    return sorted({a for s in statements for a in s.actions})


def _role_label(role: iam.IRole) -> str:
    arn = role.role_arn
    return role.node.path if is_unresolved(arn) else arn


def _node_ref(obj: object) -> object:
    """The identity of the Node-side object behind a jsii proxy (the Python object's own identity
    for anything else), without a call to Node."""
    ref = getattr(obj, "__jsii_ref__", None)
    return getattr(ref, "ref", None) or id(obj)


#: Statement ids :func:`add_statements` gave each role (by its Node object), so a second
#: construct given the same role never repeats one in the role's policy.
_SIDS: dict[object, set[str]] = {}


def _sids_of(role: iam.IRole) -> set[str]:
    """The Sids the role's permissions policy holds as far as Python knows: those added here,
    and for our own roles (``ManagedPolicyRole``) the statements their code wrote."""
    ref = _node_ref(role)
    taken = _SIDS.get(ref)
    if taken is None:
        taken = _SIDS[ref] = set()
        state = getattr(role, "__dict__", {})
        known: list[Any] = list(state.get("_pending") or [])
        policy = state.get("_permissions")
        if policy is not None:
            known.extend(known_statements(policy) or [])
        for statement in known:
            sid = statement.get("Sid") if isinstance(statement, dict) else statement.sid
            if sid:
                taken.add(sid)
    return taken


def add_statements(scope: Construct, role: iam.IRole, statements: Sequence[iam.PolicyStatement], *,
                   role_is_prepared: bool = False, argument: str = "role") -> list[IConstruct]:
    """Add ``statements`` to ``role``'s policy; return the policies that hold them.

    Raises :class:`ValidationError` (naming ``argument``, the role and every action it needs) when
    CDK cannot change ``role`` and ``role_is_prepared`` is false. CDK's immutable roles report
    ``statement_added`` without adding anything; they are recognised by the policy they return,
    which holds nothing.

    A statement whose ``Sid`` the role's policy already holds (from another construct given the
    same role: two pipelines, a feature group and a grant to it) is added with a numbered one
    (``ReadDataBucketsObjects2``): IAM requires each Sid to be unique within a policy
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html).
    """
    dropped: list[iam.PolicyStatement] = []
    policies: list[IConstruct] = []
    seen: set[object] = set()
    owned = isinstance(role, iam.Role)
    taken = _sids_of(role)
    for statement in statements:
        sid = statement.sid
        if sid:
            unique, n = sid, 1
            while unique in taken:
                n += 1
                unique = f"{sid}{n}"
            taken.add(unique)
            if unique != sid:
                statement = statement.copy(sid=unique)
        result = role.add_to_principal_policy(statement)
        roots = _roots(result.policy_dependable) if result.statement_added else []
        if result.statement_added and owned and not roots:
            # aws-cdk-lib 2.275's iam.Role hands back a DependencyGroup it fills only at synth (when
            # its aspect may split the policy); the statement is in its DefaultPolicy until then.
            roots = [role.node.try_find_child("DefaultPolicy") or role]
        if result.statement_added and (owned or roots):
            for root in roots:  # jsii may hand back the same policy as a new Python object each time
                ref = _node_ref(root)
                if ref not in seen:
                    seen.add(ref)
                    policies.append(root)
        else:
            dropped.append(statement)
    if dropped and not role_is_prepared:
        raise ValidationError(
            scope, argument, _role_label(role),
            "CDK cannot add permissions to this role (imported with mutable=False, from another account, or "
            f"without_policy_updates()); it needs the actions {', '.join(needed_actions(dropped))} "
            f"({describe_statements(scope, dropped)}). Grant them yourself and pass {ROLE_IS_PREPARED}=True, "
            "or pass a role CDK may change (an iam.Role, or iam.Role.from_role_arn(..., mutable=True))",
        )
    return policies


def _statements_of(policy: iam.ManagedPolicy | iam.Policy) -> list[iam.PolicyStatement]:
    doc = policy.document.to_json() or {}
    return [iam.PolicyStatement.from_json(s) for s in doc.get("Statement", [])]


@dataclass
class RoleBinding:
    """A construct's role: the caller's, or a new default one; see :func:`bind_role`."""

    scope: Construct
    #: The role the construct's resources run as.
    role: iam.IRole
    #: Where the construct makes its grants while it is built (the default role or its template).
    grantee: iam.Role
    supplied: bool
    role_is_prepared: bool = False
    #: With a supplied role: the policies that hold its statements (after :meth:`finish`).
    policies: list[IConstruct] = field(default_factory=list)

    def finish(self) -> list[IConstruct]:
        """Copy the template's statements to the supplied role (no-op for the default role)."""
        if not self.supplied:
            return []
        template = self.grantee
        statements: list[iam.PolicyStatement] = []
        for policy in (getattr(template, "policy", None), getattr(template, "guardrails", None)):
            if isinstance(policy, (iam.ManagedPolicy, iam.Policy)):
                statements.extend(_statements_of(policy))
        if template.node.try_find_child("DefaultPolicy") is not None:
            statements.extend(_statements_of(template.node.find_child("DefaultPolicy")))  # type: ignore[arg-type]
        # A statement about the default role itself (e.g. pass this role) is about the supplied one.
        text = json.dumps([s.to_statement_json() for s in statements])
        for own, theirs in ((template.role_arn, self.role.role_arn), (template.role_name, self.role.role_name)):
            text = text.replace(own, theirs)
        statements = [iam.PolicyStatement.from_json(s) for s in json.loads(text)]
        self.scope.node.try_remove_child(template.node.id)
        self.policies = add_statements(self.scope, self.role, statements, role_is_prepared=self.role_is_prepared)
        return self.policies

    def depend_on_policies(self, resource: IConstruct) -> None:
        """Make ``resource`` wait for the policies holding the role's permissions."""
        from ..security.roles import depend_on_role_policies

        if self.supplied:
            for policy in self.policies:
                resource.node.add_dependency(policy)
        else:
            depend_on_role_policies(resource, self.role)


#: ``s3.Bucket.grant_read``'s actions on the bucket and its objects, and on the bucket's key
#: (aws-cdk-lib's ``BUCKET_READ_ACTIONS`` and ``KEY_READ_ACTIONS``).
_BUCKET_READ_ACTIONS = ("s3:GetObject*", "s3:GetBucket*", "s3:List*")
KEY_READ_ACTIONS = ("kms:Decrypt", "kms:DescribeKey")


def _python_statement_key(actions: Sequence[str], resources: Sequence[str]) -> str:
    """``managed_role.statement_key`` of an Allow statement of ``actions`` on ``resources``
    (neither with duplicates), worked out without asking Node for the statement's JSON."""
    return statement_json_key({"Effect": "Allow", "Action": list(actions), "Resource": list(resources)})


def grant_read(bucket: "s3.IBucket", grantee: iam.IGrantable, objects_key_pattern: str) -> None:
    """``bucket.grant_read(grantee, objects_key_pattern)``.

    For the common case, an ``s3.Bucket`` (and its ``kms.Key``, if any) in the stack of one of
    our execution roles, the two statements CDK's grant adds (read on the bucket and the matching
    objects; Decrypt/DescribeKey on the key) are added here, in the same order: to the document a
    role held by ``security.roles.held_policy`` will create its policy with (no call), else to its
    permissions policy with the same ``add_statements`` calls, instead of through the grant, which calls back into Python for each statement and asks Node for each
    statement's JSON: the same template (and CDK analytics), with fewer Python-to-Node round
    trips. Anything else takes ``grant_read``."""
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3

    from ..security.roles import _SageMakerExecutionRole
    from .stacks import attribute, stack_of

    role = grantee
    fast = (isinstance(bucket, s3.Bucket) and type(bucket).grant_read is s3.Bucket.grant_read
            # grant_read calls grant_on_key (aws-cdk-lib 2.275): a subclass overriding it takes the grant
            and getattr(type(bucket), "grant_on_key", None) is getattr(s3.Bucket, "grant_on_key", None)
            and isinstance(role, _SageMakerExecutionRole)
            and type(role).add_to_principal_policy is _SageMakerExecutionRole.add_to_principal_policy
            and (vars(role).get("_permissions") is not None or vars(role).get("_pending") is not None)
            and stack_of(bucket) is stack_of(role))
    key = attribute(bucket, "encryption_key") if fast else None
    if key is not None:
        fast = (isinstance(key, kms.Key) and type(key).grant is kms.Key.grant and stack_of(key) is stack_of(role)
                and _trusts_account_identities(key))
    if not fast:
        bucket.grant_read(grantee, objects_key_pattern)
        return
    bucket_arn = attribute(bucket, "bucket_arn")
    grants: list[tuple[Sequence[str], Sequence[str]]] = [
        (_BUCKET_READ_ACTIONS, (bucket_arn, f"{bucket_arn}/{objects_key_pattern}"))]
    if key is not None:
        grants.append((KEY_READ_ACTIONS, (attribute(key, "key_arn"),)))
    execution_role = cast("_SageMakerExecutionRole", role)  # checked by ``fast`` above
    for actions, resources in grants:
        statement_key = _python_statement_key(actions, list(dict.fromkeys(resources)))
        statement = {"Effect": "Allow", "Action": list(actions), "Resource": list(resources)}
        if not execution_role.add_pending_grant(statement, statement_key):
            execution_role.add_granted(iam.PolicyStatement(actions=list(actions), resources=list(resources)),
                                       statement_key, statement)


def _trusts_account_identities(key: object) -> bool:
    """Whether a ``kms.Key``'s policy lets the account's IAM policies grant its use (aws-cdk-lib's
    internal ``trustAccountIdentities``, true by default since the feature flag). An aws-cdk-lib that
    does not expose it takes the ordinary grant."""
    from .stacks import attribute

    try:
        return attribute(key, "_trust_account_identities") is True
    except (AttributeError, RuntimeError):
        return False


def s3_url_for_object(bucket: "s3.IBucket", key: str) -> str:
    """``bucket.s3_url_for_object(key)``: for an ``s3.Bucket``, the same ``s3://<bucket name>/<key>``
    put together from its (once read) name; ``key`` must not start with ``/``."""
    from aws_cdk import aws_s3 as s3

    from .stacks import attribute

    if (isinstance(bucket, s3.Bucket) and type(bucket).s3_url_for_object is s3.Bucket.s3_url_for_object
            and isinstance(key, str) and not key.startswith("/")):
        return f"s3://{attribute(bucket, 'bucket_name')}/{key}"
    return bucket.s3_url_for_object(key)


def bind_role(scope: Construct, role: iam.IRole | None, *, default: Callable[[Construct, str], iam.Role],
              role_is_prepared: bool = False, id: str = "Role") -> RoleBinding:
    """The construct's role: ``default(scope, id)`` when ``role`` is None; else ``role``, with
    ``default(scope, TEMPLATE_ID)`` as the template whose statements it receives in
    :meth:`RoleBinding.finish`."""
    if role is None:
        created = default(scope, id)
        return RoleBinding(scope, created, created, supplied=False)
    return RoleBinding(scope, role, default(scope, TEMPLATE_ID), supplied=True, role_is_prepared=role_is_prepared)
