"""Installing next to someone else's CDK: ranges, the lowest supported versions, the extras.

pyproject.toml declares ranges; requirements/min.txt pins the lowest supported versions
(`make test-min` runs the unit and snapshot tests on them); requirements/dev.txt is the lock the
suite runs on. These tests keep the three consistent, and resolve the built wheel against the
lowest supported aws-cdk-lib with pip's resolver (nothing is installed).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
import zipfile

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests.conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
INSTALL_COMMAND = 'pip install "sagemaker-constructs[compliance]"'


def _pins(path) -> dict[str, Version]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"{path.name}: {line} is not a pin"
            pins[_norm(req.name)] = Version(spec.version)
    return pins


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(items) -> dict[str, Requirement]:
    return {_norm(r.name): r for r in map(Requirement, items)}


DEPENDENCIES = _requirements(PYPROJECT["project"]["dependencies"])
EXTRAS = PYPROJECT["project"]["optional-dependencies"]
LOCK = _pins(REPO / "requirements" / "dev.txt")
MINIMUM = _pins(REPO / "requirements" / "min.txt")


# --- ranges ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["aws-cdk-lib", "constructs"])
def test_dependency_is_a_range_from_the_tested_minimum_to_the_next_major(name):
    spec = DEPENDENCIES[name].specifier
    floor = MINIMUM[name]
    assert {s.operator for s in spec} == {">=", "<"}, f"{name}: {spec} must be a range, not a pin"
    assert str(spec) == f"<{floor.major + 1},>={floor}", f"{name}: the floor must be min.txt's {floor}"
    assert LOCK[name] in spec, f"{name}: the locked {LOCK[name]} is outside {spec}"
    assert Version(f"{floor.major + 1}.0.0") not in spec


def test_aws_cdk_lib_range_admits_the_last_ten_minor_releases():
    spec = DEPENDENCIES["aws-cdk-lib"].specifier
    locked = LOCK["aws-cdk-lib"]
    last_ten = [Version(f"2.{locked.minor - n}.0") for n in range(10)]
    assert all(v in spec for v in last_ten), f"{spec} must admit {last_ten[-1]}..{locked}"
    assert Version("2.274.0") in spec  # the version the user had
    assert Version("3.0.0") not in spec and Version("3.0.0a1") not in spec


def test_min_pins_satisfy_aws_cdk_libs_own_requirements_at_the_floor():
    # The pins next to aws-cdk-lib in min.txt are the lowest that release accepts (constructs is
    # raised to cdk-nag 3's floor, 10.5.1): checked against the lock's constraints by name.
    assert set(MINIMUM) == {"aws-cdk-lib", "aws-cdk-asset-node-proxy-agent-v6", "aws-cdk-cloud-assembly-schema",
                            "constructs", "jsii"}
    assert MINIMUM["constructs"] == Version("10.5.1") and MINIMUM["jsii"] <= LOCK["jsii"]


# --- the compliance extra -----------------------------------------------------------------------
def test_compliance_extra_brings_every_checker_and_admits_the_lock():
    compliance = _requirements(EXTRAS["compliance"])
    assert set(compliance) == {"cdk-nag", "cdklabs-cdk-validator-cfnguard"}
    for name, req in compliance.items():
        assert LOCK[name] in req.specifier, f"{name}: the locked {LOCK[name]} is outside {req.specifier}"
        assert {s.operator for s in req.specifier} == {">=", "<"}
    # The dev extra pins the same checkers, so the suite runs them.
    dev = _requirements(EXTRAS["dev"])
    assert {"cdk-nag", "cdklabs-cdk-validator-cfnguard"} <= set(dev)
    assert all(r.name not in ("pytest", "moto", "ruff") for r in compliance.values())


@pytest.mark.parametrize("missing,packs", [
    ("cdk_nag", None),
    ("cdk_nag", ["AwsSolutions"]),
    ("cdklabs.cdk_validator_cfnguard", ["ControlTower"]),
])
def test_missing_checker_raises_an_error_naming_the_install_command(monkeypatch, missing, packs):
    import aws_cdk as cdk

    from sagemaker_constructs.compliance import ComplianceDependencyError, add_compliance_checks

    monkeypatch.setitem(sys.modules, missing, None)  # `import` now raises ImportError
    app = cdk.App()
    with pytest.raises(ComplianceDependencyError) as raised:
        add_compliance_checks(app, **({} if packs is None else {"packs": packs}))
    assert isinstance(raised.value, ImportError)
    message = str(raised.value)
    assert INSTALL_COMMAND in message and missing in message
    assert raised.value.name == missing


def test_own_pack_needs_no_extra(monkeypatch):
    import aws_cdk as cdk

    from sagemaker_constructs.compliance import add_compliance_checks

    monkeypatch.setitem(sys.modules, "cdk_nag", None)
    monkeypatch.setitem(sys.modules, "cdklabs.cdk_validator_cfnguard", None)
    add_compliance_checks(cdk.App(), packs=["SageMaker"])  # no error


# --- the built wheel ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def wheel(built_wheel):
    """The distribution built from the checkout (tests/conftest.py ``built_wheel``)."""
    return built_wheel


def _pip(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.mark.slow
def test_wheel_metadata_declares_ranges_and_the_compliance_extra(wheel):
    with zipfile.ZipFile(wheel) as whl:
        (name,) = [n for n in whl.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = whl.read(name).decode()
        assert any(n.endswith("sagemaker_constructs/py.typed") for n in whl.namelist())
    requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert "Provides-Extra: compliance" in metadata
    by_name = {_norm(Requirement(r).name): Requirement(r) for r in requires if "extra ==" not in r}
    assert str(by_name["aws-cdk-lib"].specifier) == str(DEPENDENCIES["aws-cdk-lib"].specifier)
    extra = [Requirement(r) for r in requires if 'extra == "compliance"' in r]
    assert {_norm(r.name) for r in extra} == {"cdk-nag", "cdklabs-cdk-validator-cfnguard"}


@pytest.mark.slow
def test_wheel_with_compliance_extra_resolves_on_the_lowest_supported_versions(wheel, tmp_path):
    # pip's resolver, nothing installed: the wheel and its extra next to aws-cdk-lib, constructs and
    # jsii pinned at their lowest supported releases (what a user on an older CDK has).
    report = tmp_path / "report.json"
    _pip("install", "--dry-run", "--ignore-installed", "--quiet", "--report", str(report),
         f"{wheel}[compliance]", "-r", str(REPO / "requirements" / "min.txt"))
    resolved = {_norm(i["metadata"]["name"]): Version(i["metadata"]["version"])
                for i in json.loads(report.read_text())["install"]}
    for name, version in MINIMUM.items():
        assert resolved[name] == version, name
    assert {"sagemaker-constructs", "cdk-nag", "cdklabs-cdk-validator-cfnguard"} <= set(resolved)
