"""Shared test set-up: offline, fast synth; the reference app's context; snapshot helpers."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

# Before aws_cdk is imported anywhere: jsii must run on the virtualenv's supported Node, and the
# built-in "CloudFormation Validate" plugin (3-5 s per synth) stays off except in the one test
# that runs the real CLI synth (tests/test_cli_synth.py switches it back on).
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
os.environ.setdefault("CDK_VALIDATION", "false")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import aws_cdk as cdk  # noqa: E402
import pytest  # noqa: E402
from syrupy.extensions.json import JSONSnapshotExtension  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def cdk_context() -> dict:
    """The context of cdk.json: feature flags and the reference configuration."""
    return json.loads((REPO / "cdk.json").read_text())["context"]


def new_app(**kwargs) -> cdk.App:
    """An App with the same feature flags as the reference app."""
    context = {**cdk_context(), **kwargs.pop("context", {})}
    return cdk.App(context=context, **kwargs)


def new_stack(name: str = "Test") -> cdk.Stack:
    return cdk.Stack(new_app(), name)


@pytest.fixture
def stack() -> cdk.Stack:
    return new_stack()


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory, worker_id) -> Path:
    """The wheel ``pip wheel --no-deps`` builds from the checkout, once per run (shared by the xdist
    workers): built from a copy of every file git tracks or would add, so the work tree gets no
    ``build/`` or ``*.egg-info`` and the result is what a clone of this tree builds."""
    import shutil
    import subprocess

    from tests.harness.reference import once_per_run

    base = tmp_path_factory.getbasetemp()
    root = (base if worker_id == "master" else base.parent) / "wheel"

    def build() -> str:
        files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                               cwd=REPO, capture_output=True, text=True, check=True).stdout.split("\0")
        src = root / "src"
        for name in filter(None, files):
            if (REPO / name).is_file():
                (src / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / name, src / name)
        out = root / "dist"
        result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(src)],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        (wheel,) = out.glob("sagemaker_constructs-*.whl")
        return str(wheel)

    return Path(once_per_run(root, "built", build))


@pytest.fixture(scope="session")
def reference(tmp_path_factory, worker_id):
    """The reference app, synthesized once per run with the cdk-nag packs registered (shared by
    the xdist workers: tests.harness.reference.shared_reference)."""
    from tests.harness.reference import shared_reference, synth_reference

    if worker_id == "master":  # no xdist
        return synth_reference(tmp_path_factory.mktemp("reference") / "cdk.out")
    return shared_reference(tmp_path_factory.getbasetemp().parent / "reference")


# --- the suite's wall time, for `make bench` ----------------------------------------------------
#: Where a whole-suite run (``make test``: every test path, no ``-k``) records its wall time.
SUITE_TIMING = REPO / "build" / "test-suite-wall.json"
_SESSION_STARTED: list[float] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    import time

    _SESSION_STARTED.append(time.time())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After a whole-suite run (not an xdist worker, the configured test paths, no ``-k``), write
    its wall time and counts to :data:`SUITE_TIMING`; ``benchmarks/bench.py`` prints them."""
    import datetime
    import time

    config = session.config
    if hasattr(config, "workerinput") or not _SESSION_STARTED or config.option.keyword:
        return
    if config.args_source is not pytest.Config.ArgsSource.TESTPATHS:
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    counts = {k: len(v) for k, v in (reporter.stats.items() if reporter is not None else ()) if k and k != "warnings"}
    SUITE_TIMING.parent.mkdir(exist_ok=True)
    SUITE_TIMING.write_text(json.dumps({
        "seconds": round(time.time() - _SESSION_STARTED[0], 1), "exit_status": int(exitstatus),
        "marks": config.option.markexpr, "counts": counts,
        "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }, indent=1))


@pytest.fixture
def no_tz_database(tmp_path, monkeypatch):
    """A machine without a tz database (Windows without tzdata, Alpine, distroless): an empty TZPATH."""
    import zoneinfo

    zoneinfo.reset_tzpath([str(tmp_path)])
    zoneinfo.ZoneInfo.clear_cache()  # zones loaded by earlier tests
    monkeypatch.setattr(zoneinfo, "available_timezones", set)  # and no tzdata package either
    yield
    zoneinfo.reset_tzpath()
