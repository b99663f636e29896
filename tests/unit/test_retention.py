"""The README's retention table ("What `cdk destroy` leaves behind") matches the templates.

Every resource of a stateful type in the reference stacks must match exactly one row (by type
and construct path) and have the DeletionPolicy that row states; every row must match at least
one resource. So the table cannot drift from what a ``cdk destroy`` really leaves.
"""

from __future__ import annotations

import fnmatch
import re

import pytest
from aws_cdk import CfnResource

from tests.conftest import REPO

#: Resource types that hold data, audit, work or configuration others depend on.
STATEFUL_TYPES = frozenset({
    "AWS::KMS::Key", "AWS::S3::Bucket", "AWS::CloudTrail::Trail", "AWS::Logs::LogGroup",
    "AWS::SNS::Topic", "AWS::SQS::Queue", "AWS::SageMaker::ModelPackageGroup", "AWS::SageMaker::Domain",
    "AWS::EFS::FileSystem", "AWS::DynamoDB::Table", "AWS::ECR::Repository", "AWS::SageMaker::FeatureGroup",
    "AWS::SecretsManager::Secret",
})
HEADING = "### What `cdk destroy` leaves behind"
POLICIES = {"Retain": "Retain", "Delete": "Delete", "Snapshot": "Snapshot", "RetainExceptOnCreate": "RetainExceptOnCreate"}


def _rows() -> list[dict]:
    text = (REPO / "README.md").read_text()
    assert HEADING in text, f"README.md has no section {HEADING!r}"
    section = text.split(HEADING, 1)[1].split("\n#", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[0] in ("resource", "") or set(cells[0]) <= {"-"}:
            continue
        rows.append({
            "type": cells[0].strip("`"),
            "paths": re.findall(r"`([^`]+)`", cells[1]),
            "policy": cells[2],
            "line": line,
        })
    return rows


def test_table_is_well_formed():
    rows = _rows()
    assert len(rows) >= 5
    for row in rows:
        assert row["type"] in STATEFUL_TYPES, row["line"]
        assert row["paths"], f"no construct path in: {row['line']}"
        assert row["policy"] in POLICIES, f"policy must be one of {sorted(POLICIES)}: {row['line']}"


def _stateful(reference) -> list[tuple[str, str, str, str]]:
    """``(stack, type, path in the stack, DeletionPolicy)`` of every stateful resource."""
    found = []
    for name, stack in reference.stacks.items():
        resources = reference.template(name)["Resources"]
        for child in stack.node.find_all():
            if isinstance(child, CfnResource) and child.cfn_resource_type in STATEFUL_TYPES:
                logical_id = stack.resolve(child.logical_id)
                if logical_id not in resources:
                    continue
                path = child.node.path.split("/", 1)[1]
                found.append((name, child.cfn_resource_type, path, resources[logical_id].get("DeletionPolicy", "Delete")))
    return found


def _matches(row: dict, type_: str, path: str) -> bool:
    return row["type"] == type_ and any(fnmatch.fnmatchcase(path, pattern) for pattern in row["paths"])


def test_every_stateful_resource_is_in_the_table_with_its_policy(reference):
    rows = _rows()
    found = _stateful(reference)
    assert found, "no stateful resources found: is the reference app synthesized?"
    problems = []
    for stack, type_, path, policy in found:
        matching = [r for r in rows if _matches(r, type_, path)]
        if len(matching) != 1:
            problems.append(f"{stack} {type_} {path}: matches {len(matching)} rows (want exactly 1)")
        elif matching[0]["policy"] != policy:
            problems.append(f"{stack} {type_} {path}: DeletionPolicy {policy}, table says {matching[0]['policy']}")
    assert problems == [], "\n".join(problems)


def test_every_row_matches_a_resource(reference):
    found = _stateful(reference)
    stale = [r["line"] for r in _rows() if not any(_matches(r, t, p) for _, t, p, _ in found)]
    assert stale == [], "rows matching no resource:\n" + "\n".join(stale)


@pytest.mark.parametrize("type_,path", [
    ("AWS::CloudTrail::Trail", "AuditTrail/Resource/Resource"),
    ("AWS::S3::Bucket", "AuditTrail/Bucket/Resource"),
    ("AWS::SageMaker::ModelPackageGroup", "ModelGroup/Resource"),
    ("AWS::SNS::Topic", "AlarmTopic/Resource"),
    ("AWS::SNS::Topic", "DataQualityMonitor/AlarmTopic/Resource"),
])
def test_audit_and_subscriptions_are_retained(reference, type_, path):
    policies = [p for _, t, q, p in _stateful(reference) if t == type_ and q == path]
    assert policies and set(policies) == {"Retain"}
