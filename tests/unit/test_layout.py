"""The repository layout the user fixed, and the `constructs/` source-root trap."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_constructs_source_root_has_no_init():
    # constructs/__init__.py would make `import constructs` load our source root instead of
    # the library aws-cdk-lib depends on.
    assert not (REPO / "constructs" / "__init__.py").exists()


def test_import_constructs_resolves_to_the_installed_library():
    import constructs

    origin = Path(constructs.__file__).resolve()
    assert "site-packages" in origin.parts
    assert not origin.is_relative_to(REPO / "constructs")
    assert hasattr(constructs, "Construct")


def test_import_constructs_from_repo_root_in_a_fresh_interpreter():
    code = "import constructs, aws_cdk, sagemaker_constructs; print(constructs.__file__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert "site-packages" in out.stdout


def test_public_api_is_exported():
    pkg = importlib.import_module("sagemaker_constructs")
    for name in pkg.__all__:
        assert hasattr(pkg, name), name
    for name in ("ValidationError", "PlatformKey", "SecureBucket", "IsolatedNetwork", "AuditTrail"):
        assert name in pkg.__all__


def test_validation_error_is_a_value_error():
    from sagemaker_constructs import ValidationError

    assert issubclass(ValidationError, ValueError)


def test_top_level_layout():
    for name in ("cdk.json", "app.py", "pyproject.toml", "constructs", "stacks", "tests", "README.md", "Makefile",
                 "package.json", "package-lock.json", ".ci/run", "benchmarks"):
        assert (REPO / name).exists(), name


def test_cli_is_pinned_to_a_2x_release():
    pkg = json.loads((REPO / "package.json").read_text())
    version = pkg["devDependencies"]["aws-cdk"]
    assert version.startswith("2.") and all(c.isdigit() or c == "." for c in version), version
    lock = json.loads((REPO / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/aws-cdk"]["version"] == version


def test_cdk_json_runs_offline():
    cdk = json.loads((REPO / "cdk.json").read_text())
    assert cdk["notices"] is False
    assert cdk["cli-telemetry"] is False
    assert cdk["context"]["@aws-cdk/core:validateAgainstDefaultRules"] is True


def test_handlers_import_only_boto3_and_stdlib():
    handlers = REPO / "constructs" / "sagemaker_constructs" / "handlers"
    for path in handlers.rglob("*.py"):
        text = path.read_text()
        assert "aws_cdk" not in text and "sagemaker_constructs" not in text, path


def test_pip_installable_from_the_checkout(built_wheel):
    """A wheel built from the checkout holds the whole package (handlers, endpoints, py.typed)
    and never a top-level ``constructs`` package, nor the app's stacks or the tests."""
    import zipfile

    names = set(zipfile.ZipFile(built_wheel).namelist())
    for expected in ("sagemaker_constructs/__init__.py", "sagemaker_constructs/py.typed",
                     "sagemaker_constructs/inference/endpoints/realtime.py", "sagemaker_constructs/handlers/studio_teardown.py",
                     "sagemaker_constructs/handlers/deploy_on_approval.py"):
        assert expected in names, expected
    assert not any(n.startswith(("constructs/", "stacks/", "tests/", "benchmarks/")) for n in names)


def test_ruff_finds_no_errors():
    """Unused imports, undefined names and syntax errors fail the suite (ruff, pinned in the dev lock)."""
    ruff = Path(sys.executable).with_name("ruff")
    out = subprocess.run([str(ruff), "check", "constructs", "stacks", "tests", "app.py", "benchmarks"],
                         cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
