"""Shared set-up of the Lambda handler tests: load a handler as Lambda does, fake AWS credentials."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

HANDLERS = Path(__file__).resolve().parents[2] / "constructs" / "sagemaker_constructs" / "handlers"
FAKE_REGION = "us-east-1"


def load_handler(name: str) -> ModuleType:
    """Load ``handlers/<name>.py`` as Lambda does: a top-level module, outside our package, with the
    code directory on ``sys.path`` (so ``import common`` finds ``handlers/common.py``, as in Lambda)."""
    if str(HANDLERS) not in sys.path:
        sys.path.append(str(HANDLERS))
    spec = importlib.util.spec_from_file_location(name, HANDLERS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as an import does (dataclasses look the module up)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def fake_aws_env(monkeypatch, tmp_path):
    """Fake credentials and region; no profile, config file or instance metadata is ever read."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": FAKE_REGION, "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"), "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
