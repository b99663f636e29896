"""The main job: `cdk synth` of the reference app through the pinned CLI, offline, with the
built-in CloudFormation Validate plugin on and its findings turned into errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_cli_synth_with_cloudformation_validation(tmp_path):
    cdk = REPO / "node_modules" / ".bin" / "cdk"
    if not cdk.exists():
        pytest.fail("the pinned CDK CLI is not installed: run `make test` (it runs `npm ci`)")
    bin_dir = os.path.dirname(sys.executable)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.pop("CDK_VALIDATION", None)  # on: the built-in plugin runs
    # The CLI's home and jsii's unpacked-package cache persist in the checkout's ignored
    # .cdk-home (as `make synth` uses it): unpacking aws-cdk-lib into an empty cache on every
    # run cost about 4 s of this test. HOME stays empty and temporary.
    cdk_home = REPO / ".cdk-home"
    env.update(
        PATH=os.pathsep.join([bin_dir, str(cdk.parent), env.get("PATH", "")]),
        CDK_DISABLE_CLI_TELEMETRY="true",
        CDK_DISABLE_VERSION_CHECK="1",
        CDK_HOME=str(cdk_home),
        JSII_RUNTIME_PACKAGE_CACHE_ROOT=str(cdk_home / "jsii-package-cache"),
        HOME=str(tmp_path / "home"),  # proves nothing needs a profile or credentials
    )
    out = tmp_path / "cdk.out"
    started = time.monotonic()
    proc = subprocess.run(
        # One cdk-nag pack and ours, through the context's list: every pack's findings on this
        # same app are covered in-process by tests/compliance (the reference fixture registers
        # all seven); here the other five only lengthened one of the suite's longest tests.
        [str(cdk), "synth", "--quiet", "--output", str(out),
         "-c", "sagemaker-constructs:compliance=AwsSolutions,SageMaker"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "end-of-life" not in proc.stderr, "jsii ran on the system's end-of-life Node"
    # Nothing of ours reads a deprecated aws-cdk-lib API (it warns, or fails under JSII_DEPRECATED=fail).
    assert "is deprecated" not in proc.stderr, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    stacks = [k for k, a in manifest["artifacts"].items() if a["type"] == "aws:cloudformation:stack"]
    assert sorted(stacks) == ["SageMakerDelivery", "SageMakerInference", "SageMakerMlops", "SageMakerPlatform"]
    # The report exists only when validation ran; the flag makes any finding fail synth.
    report = json.loads((out / "validation-report.json").read_text())
    assert [v for p in report["pluginReports"] for v in p["violations"]] == []
    # Each plugin that ran reports the findings it was told to let pass (acknowledged in place).
    assert {p["pluginName"] for p in report["pluginReports"] if p.get("suppressedViolations")} >= {
        "AwsSolutions", "SageMaker"}
    flags = json.loads((REPO / "cdk.json").read_text())["context"]
    assert flags["@aws-cdk/core:validateAgainstDefaultRules"] is True
    # Only aws-cdk-lib's asset-fingerprint cache may land in $HOME; the CLI's own files
    # (notices, version checks, telemetry) go to CDK_HOME or are never written offline.
    written = {p.relative_to(tmp_path / "home").as_posix() for p in (tmp_path / "home").rglob("*")
               if ".cache/aws/jsii" not in p.as_posix() and "fingerprints/" not in p.as_posix()}
    assert written <= {".cache", ".cache/aws", ".cdk", ".cdk/cache", ".cdk/cache/fingerprints"}, written
    print(f"cdk synth (CLI, validation on): {elapsed:.1f}s")
    shutil.rmtree(out)
