"""IAM changes: policy statements added or removed, new actions, widened resources, wildcards, trust.

Policy documents are read from identity policies (``AWS::IAM::Policy``, ``ManagedPolicy``, the
inline ``Policies`` of roles, users and groups), trust policies (``AssumeRolePolicyDocument``) and
resource policies (key, bucket, access point, queue, topic, secret, repository, file system, VPC
endpoint, model package group, log, event bus, table and domain policies), as structure or as a
JSON string. Statements are compared as sets (order and ``Sid`` do not matter);
actions, resources and principals of ``Allow`` statements are compared one by one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from .jsondiff import deployable, is_intrinsic, json_document, render

#: ``{type: [(property, kind)]}``: where each resource type keeps its policy documents; kind is
#: ``identity``, ``trust`` or ``resource``. ``Policies`` lists are read per ``PolicyName``; a
#: dotted property (``ResourcePolicy.PolicyDocument``) is a document nested in an object. The
#: types and properties are those the CloudFormation resource schemas (cfn-lint's) declare as a
#: policy document (object or JSON string).
POLICY_PROPERTIES: dict[str, tuple[tuple[str, str], ...]] = {
    "AWS::IAM::Policy": (("PolicyDocument", "identity"),),
    "AWS::IAM::ManagedPolicy": (("PolicyDocument", "identity"),),
    "AWS::IAM::Role": (("AssumeRolePolicyDocument", "trust"), ("Policies", "identity")),
    "AWS::IAM::User": (("Policies", "identity"),),
    "AWS::IAM::Group": (("Policies", "identity"),),
    "AWS::IAM::RolePolicy": (("PolicyDocument", "identity"),),
    "AWS::IAM::UserPolicy": (("PolicyDocument", "identity"),),
    "AWS::IAM::GroupPolicy": (("PolicyDocument", "identity"),),
    "AWS::SSO::PermissionSet": (("InlinePolicy", "identity"),),
    "AWS::KMS::Key": (("KeyPolicy", "resource"),),
    "AWS::KMS::ReplicaKey": (("KeyPolicy", "resource"),),
    "AWS::S3::BucketPolicy": (("PolicyDocument", "resource"),),
    "AWS::S3::AccessPoint": (("Policy", "resource"),),
    "AWS::S3Express::BucketPolicy": (("PolicyDocument", "resource"),),
    "AWS::SQS::QueuePolicy": (("PolicyDocument", "resource"),),
    "AWS::SQS::QueueInlinePolicy": (("PolicyDocument", "resource"),),
    "AWS::SNS::TopicPolicy": (("PolicyDocument", "resource"),),
    "AWS::SNS::TopicInlinePolicy": (("PolicyDocument", "resource"),),
    "AWS::SecretsManager::ResourcePolicy": (("ResourcePolicy", "resource"),),
    "AWS::ECR::Repository": (("RepositoryPolicyText", "resource"),),
    "AWS::ECR::RegistryPolicy": (("PolicyText", "resource"),),
    "AWS::EFS::FileSystem": (("FileSystemPolicy", "resource"),),
    "AWS::EC2::VPCEndpoint": (("PolicyDocument", "resource"),),
    "AWS::SageMaker::ModelPackageGroup": (("ModelPackageGroupPolicy", "resource"),),
    "AWS::Logs::ResourcePolicy": (("PolicyDocument", "resource"),),
    "AWS::Logs::LogGroup": (("ResourcePolicyDocument", "resource"),),
    "AWS::Events::EventBusPolicy": (("Statement", "resource"),),
    "AWS::Events::EventBus": (("Policy", "resource"),),
    "AWS::Lambda::ResourcePolicy": (("PolicyDocument", "resource"),),
    "AWS::CloudTrail::ResourcePolicy": (("ResourcePolicy", "resource"),),
    "AWS::Kinesis::ResourcePolicy": (("ResourcePolicy", "resource"),),
    "AWS::DynamoDB::Table": (("ResourcePolicy.PolicyDocument", "resource"),),
    "AWS::ApiGateway::RestApi": (("Policy", "resource"),),
    "AWS::Backup::BackupVault": (("AccessPolicy", "resource"),),
    "AWS::OpenSearchService::Domain": (("AccessPolicies", "resource"),),
    "AWS::Lambda::Permission": (("*", "resource"),),
}
_ATTACHMENTS = {"AWS::IAM::Role": "ManagedPolicyArns", "AWS::IAM::User": "ManagedPolicyArns",
                "AWS::IAM::Group": "ManagedPolicyArns"}
_TARGETS = ("Roles", "Users", "Groups")


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    principals: tuple[str, ...]
    not_principals: tuple[str, ...]
    condition: str

    def describe(self) -> str:
        def few(items: Iterable[str]) -> str:
            items = list(items)
            return ", ".join(items[:6]) + (f" (+{len(items) - 6} more)" if len(items) > 6 else "")

        text = self.effect
        text += f" {few(self.actions)}" if self.actions else f" NotAction {few(self.not_actions)}"
        if self.resources:
            text += f" on {few(self.resources)}"
        if self.not_resources:
            text += f" on NotResource {few(self.not_resources)}"
        if self.principals:
            text += f" to {few(self.principals)}"
        if self.not_principals:
            text += f" to NotPrincipal {few(self.not_principals)}"
        if self.condition:
            text += f" when {self.condition if len(self.condition) <= 160 else self.condition[:159] + '…'}"
        return text


@dataclass
class IamChange:
    """What changed in one policy document of one resource."""

    stack: str
    logical_id: str
    resource_type: str
    path: str
    document: str
    kind: str
    statements_added: list[str] = field(default_factory=list)
    statements_removed: list[str] = field(default_factory=list)
    new_actions: list[str] = field(default_factory=list)
    widened_resources: list[str] = field(default_factory=list)
    wildcards: list[str] = field(default_factory=list)
    new_principals: list[str] = field(default_factory=list)
    managed_policies_added: list[str] = field(default_factory=list)
    managed_policies_removed: list[str] = field(default_factory=list)
    attached_to: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any((self.statements_added, self.statements_removed, self.managed_policies_added,
                    self.managed_policies_removed, self.attached_to))

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in ([], "")}


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(sorted({render(v) for v in deployable(value)}))


def _principals(value: Any) -> tuple[str, ...]:
    out = set()
    for one in deployable(value):
        if one == "*" or not isinstance(one, dict) or is_intrinsic(one):
            out.add(render(one))
            continue
        for kind, ids in one.items():
            for each in _strings(ids):
                out.add(f"{kind}:{each}")
    return tuple(sorted(out))


def _statement(raw: Any) -> Statement | None:
    if not isinstance(raw, dict):
        return None
    condition = raw.get("Condition")
    return Statement(
        effect=str(raw.get("Effect", "Allow")),
        actions=_strings(raw.get("Action")), not_actions=_strings(raw.get("NotAction")),
        resources=_strings(raw.get("Resource")), not_resources=_strings(raw.get("NotResource")),
        principals=_principals(raw.get("Principal")), not_principals=_principals(raw.get("NotPrincipal")),
        condition=render(condition) if condition else "",
    )


def _lambda_permission(props: dict[str, Any]) -> dict[str, Any]:
    """An ``AWS::Lambda::Permission`` as the statement it adds to the function's policy."""
    statement: dict[str, Any] = {"Effect": "Allow", "Action": props.get("Action"), "Resource": props.get("FunctionName"),
                       "Principal": {"AWS" if "arn:" in render(props.get("Principal")) else "Service":
                                     props.get("Principal")}}
    condition = {k: props[k] for k in ("SourceArn", "SourceAccount", "PrincipalOrgID") if k in props}
    if condition:
        statement["Condition"] = condition
    return {"Statement": [statement]}


def policy_documents(resource: dict[str, Any]) -> dict[str, tuple[str, list[Statement]]]:
    """``{document label: (kind, statements)}`` of one template resource."""
    props = resource.get("Properties") or {}
    out: dict[str, tuple[str, list[Statement]]] = {}
    for prop, kind in POLICY_PROPERTIES.get(resource.get("Type", ""), ()):
        if prop == "*":
            docs = {"Permission": _lambda_permission(props)}
        elif prop == "Policies":
            docs = {f"Policies.{render(p.get('PolicyName'))}": p.get("PolicyDocument")
                    for p in props.get("Policies") or [] if isinstance(p, dict)}
        elif prop == "Statement":  # EventBusPolicy: a single statement
            docs = {prop: {"Statement": [props[prop]]}} if prop in props else {}
        elif "." in prop:  # a document inside an object property
            outer, inner = prop.split(".", 1)
            holder = props.get(outer)
            docs = {prop: holder[inner]} if isinstance(holder, dict) and inner in holder else {}
        else:
            docs = {prop: props.get(prop)} if prop in props else {}
        for label, value in docs.items():
            statements: list[Statement] = []
            read = False
            for doc in deployable(value):  # a document under Fn::If: each branch's statements
                if not isinstance(doc, dict) or is_intrinsic(doc):  # JSON text, or an Fn::Join/Fn::Sub of it
                    doc = json_document(doc)
                if not isinstance(doc, dict):
                    continue
                read = True
                statements += [s for s in (_statement(r) for r in deployable(doc.get("Statement"))) if s]
            if read:
                out[label] = (kind, list(dict.fromkeys(statements)))
    return out


def _grants(statements: list[Statement]) -> tuple[set[str], set[tuple[str, str]], set[str]]:
    actions, pairs, principals = set(), set(), set()
    for s in statements:
        if s.effect != "Allow":
            continue
        actions.update(s.actions)
        principals.update(s.principals)
        for a in s.actions:
            for r in s.resources or ("(this resource)",):
                pairs.add((a, r))
    return actions, pairs, principals


def _wildcards(statements: list[Statement]) -> set[str]:
    found = set()
    for s in statements:
        if s.effect != "Allow":
            continue
        found.update(f"Action {a}" for a in s.actions if "*" in a)
        found.update(f"NotAction {a}" for a in s.not_actions)
        found.update(f"Resource {r}" for r in s.resources if "*" in r)
        found.update(f"NotResource {r}" for r in s.not_resources)
        found.update(f"Principal {p}" for p in s.principals if p == "*" or p.endswith(":*"))
    return found


def diff_resource(stack: str, logical_id: str, path: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[IamChange]:
    """The IAM changes of one resource between base (``old``) and head (``new``); None means absent."""
    resource_type = (new or old or {}).get("Type", "")
    old_docs = policy_documents(old) if old else {}
    new_docs = policy_documents(new) if new else {}
    changes = []
    for label in list(old_docs) + [k for k in new_docs if k not in old_docs]:
        kind, before = old_docs.get(label, (None, []))
        kind, after = new_docs.get(label, (kind, []))
        change = IamChange(stack, logical_id, resource_type, path, label, kind or "identity")
        before_set, after_set = set(before), set(after)
        change.statements_added = sorted({s.describe() for s in after if s not in before_set})
        change.statements_removed = sorted({s.describe() for s in before if s not in after_set})
        if change.statements_added or change.statements_removed:
            b_actions, b_pairs, b_principals = _grants(before)
            a_actions, a_pairs, a_principals = _grants(after)
            change.new_actions = sorted(a_actions - b_actions)
            change.widened_resources = sorted(f"{a}: {r}" for a, r in a_pairs - b_pairs if a in b_actions)
            change.wildcards = sorted(_wildcards(after) - _wildcards(before))
            change.new_principals = sorted(a_principals - b_principals)
            changes.append(change)
    attach = _ATTACHMENTS.get(resource_type)
    targets = [t for t in _TARGETS if resource_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")]
    if attach or targets:
        change = IamChange(stack, logical_id, resource_type, path, attach or "attachments", "identity")
        if attach:
            before = set(_strings(((old or {}).get("Properties") or {}).get(attach)))
            after = set(_strings(((new or {}).get("Properties") or {}).get(attach)))
            change.managed_policies_added = sorted(after - before)
            change.managed_policies_removed = sorted(before - after)
        for target in targets:
            before = set(_strings(((old or {}).get("Properties") or {}).get(target)))
            after = set(_strings(((new or {}).get("Properties") or {}).get(target)))
            change.attached_to += [f"{target[:-1]} {t}" for t in sorted(after - before)]
        if new is None or old is None:  # a new policy's attachments are part of the new policy
            change.attached_to = change.attached_to if old is None else []
        if change:
            changes.append(change)
    return changes
