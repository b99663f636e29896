#!/usr/bin/env python3
"""Synth-time benchmark of the reference app.

Prints the median wall time of `app.synth()` for: plain (CDK_VALIDATION=false), with the four
cdk-nag packs, and the ratio between them; and the scale of IsolatedNetwork's endpoint presets.
Run: .venv/bin/python benchmarks/synth_time.py [repeats]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
os.environ.setdefault("CDK_VALIDATION", "false")

import aws_cdk as cdk  # noqa: E402

import app as reference_app  # noqa: E402
from sagemaker_constructs import IsolatedNetwork, add_compliance_checks  # noqa: E402
from tests.conftest import new_app  # noqa: E402


def _time(fn, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _reference(compliance: bool) -> None:
    with tempfile.TemporaryDirectory() as out:
        app = new_app(outdir=out)
        reference_app.build(app)
        if compliance:
            add_compliance_checks(app)
        app.synth()


def _network(preset: str) -> None:
    with tempfile.TemporaryDirectory() as out:
        app = new_app(outdir=out)
        IsolatedNetwork(cdk.Stack(app, "S"), "Network", endpoints=preset)
        app.synth()


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    _reference(False)  # warm up jsii
    plain = _time(lambda: _reference(False), repeats)
    nag = _time(lambda: _reference(True), repeats)
    print(f"reference app synth: {plain:.2f}s plain, {nag:.2f}s with the compliance packs (4 cdk-nag + SageMaker) (x{nag / plain:.1f})")
    none = _time(lambda: _network("none"), repeats)
    full = _time(lambda: _network("all"), repeats)
    print(f"IsolatedNetwork synth: {none:.2f}s preset 'none', {full:.2f}s preset 'all' (x{full / none:.1f})")


if __name__ == "__main__":
    main()
