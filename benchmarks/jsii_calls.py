#!/usr/bin/env python3
"""Python-to-Node (jsii kernel) calls of building and synthesizing the reference app, without
and with the compliance packs, and of 50 autoscaled real-time endpoints; the share made from
compliance.py. Run: .venv/bin/python benchmarks/jsii_calls.py"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
os.environ.setdefault("CDK_VALIDATION", "false")


def main() -> None:
    from bench import KernelCalls, ours

    calls = KernelCalls(attribute_to="compliance.py")

    import aws_cdk as cdk

    import app as reference_app
    from sagemaker_constructs import add_compliance_checks
    from tests.conftest import cdk_context, new_app

    def run(label, build):
        calls.count = calls.made_by = 0
        with tempfile.TemporaryDirectory() as out:
            build(out)
        share = calls.made_by / calls.count if calls.count else 0
        print(f"- {label}: {calls.count} calls, {calls.made_by} from compliance.py ({share:.0%})")

    def reference(out, packs):
        app = new_app(outdir=out)
        reference_app.build(app)
        if packs:
            add_compliance_checks(app, packs=("SageMaker",))
        app.synth()

    def endpoints(out):
        app = cdk.App(outdir=out, context=cdk_context())
        ours(cdk.Stack(app, "Bench"), "realtime", 50)
        app.synth()

    print("## Python-to-Node calls")
    # No-pack runs first: once a pack that reads acknowledgements exists in the process, every
    # later app writes them (compliance.packs_may_read_acknowledgements).
    run("reference app, no pack", lambda out: reference(out, False))
    run("50 autoscaled RealtimeEndpoints, no pack", endpoints)
    run("reference app, SageMaker pack registered", lambda out: reference(out, True))


if __name__ == "__main__":
    main()
