"""Every Lambda handler is packaged alone: boto3 and the standard library only, lazy cached clients."""

from __future__ import annotations

import ast
import sys

import boto3
import pytest

from tests.handlers.conftest import HANDLERS, load_handler

#: The handlers (``common.py`` is the module they share, not a handler).
NAMES = sorted(p.stem for p in HANDLERS.glob("*.py") if p.stem not in ("__init__", "common"))


def test_all_handlers_are_listed():
    assert {"deploy_on_approval", "invoke_endpoint", "studio_teardown"} <= set(NAMES)


@pytest.mark.parametrize("name", [*NAMES, "common"])
def test_handler_imports_only_boto3_and_the_standard_library(name):
    tree = ast.parse((HANDLERS / f"{name}.py").read_text())
    roots = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    roots |= {node.module.split(".")[0] for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    assert roots - set(sys.stdlib_module_names) <= {"boto3", "botocore", "common"}


@pytest.mark.parametrize("name", NAMES)
def test_clients_are_created_lazily_once_per_service(name, monkeypatch):
    module = load_handler(name)
    created = []
    monkeypatch.setattr(boto3, "client", lambda service, **kwargs: created.append(service) or object())
    module._client.cache_clear()
    try:
        assert module._client("sagemaker") is module._client("sagemaker")
        assert created == ["sagemaker"]
    finally:
        module._client.cache_clear()
