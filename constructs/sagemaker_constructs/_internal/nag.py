"""The cdk-nag ``AwsSolutions-IAM5`` finding ids of one IAM statement, computed the way cdk-nag 3
flattens the resolved policy: ``AwsSolutions-IAM5[Action::<action with *>]`` and
``AwsSolutions-IAM5[Resource::<flattened resource with *>]``.

``compliance.iam_findings`` reports them per IAM resource (whole resolved policies); the execution
roles (``security/roles.py``) need them per statement, to give each finding the reasons of the
statements that cause it. Both sides must agree (``tests/unit/test_one_mechanism.py``).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

IAM5 = "AwsSolutions-IAM5"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statement_findings(statement: Mapping[str, Any]) -> list[str]:
    """The IAM5 ids of one *resolved* statement (``stack.resolve(statement.to_statement_json())``);
    none for a Deny."""
    from ..compliance import nag_flatten

    if statement.get("Effect", "Allow") != "Allow":
        return []
    ids = [f"{IAM5}[Action::{a}]" for a in _as_list(statement.get("Action", [])) if "*" in a]
    for resource in _as_list(statement.get("Resource", [])):
        flat = nag_flatten(resource)
        if "*" in flat:
            ids.append(f"{IAM5}[Resource::{flat}]")
    return list(dict.fromkeys(ids))


def document_findings(statements: Iterable[Mapping[str, Any]]) -> list[str]:
    """The IAM5 ids of a resolved policy document's statements, each once, in order."""
    return list(dict.fromkeys(i for s in statements for i in statement_findings(s)))
