#!/usr/bin/env python3
"""Python-to-Node (jsii kernel) calls of building and synthesizing the reference app, without
and with the compliance packs, and of 50 autoscaled real-time endpoints; the share made from
compliance.py. Run: .venv/bin/python benchmarks/jsii_calls.py"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
os.environ.setdefault("CDK_VALIDATION", "false")


def main() -> None:
    import jsii

    counts = {"all": 0, "compliance": 0}
    # Generated bindings call the module-level aliases (jsii.invoke = kernel.invoke, ...).
    for name in ("create", "invoke", "sinvoke", "get", "sget", "set", "sset", "ainvoke"):
        original = getattr(jsii, name, None)
        if original is None:
            continue

        def counted(*args, __original=original, **kwargs):
            counts["all"] += 1
            # Made by compliance.py itself: the innermost frame of ours is there (a check it only
            # schedules, like a role's policy-size check, counts for its own module).
            ours = [f for f in traceback.extract_stack(limit=16) if "/sagemaker_constructs/" in f.filename]
            if ours and ours[-1].filename.endswith("sagemaker_constructs/compliance.py"):
                counts["compliance"] += 1
            return __original(*args, **kwargs)

        setattr(jsii, name, counted)

    import aws_cdk as cdk

    import app as reference_app
    from bench import ours
    from sagemaker_constructs import add_compliance_checks
    from tests.conftest import cdk_context, new_app

    def run(label, build):
        counts.update(all=0, compliance=0)
        with tempfile.TemporaryDirectory() as out:
            build(out)
        share = counts["compliance"] / counts["all"] if counts["all"] else 0
        print(f"- {label}: {counts['all']} calls, {counts['compliance']} from compliance.py ({share:.0%})")

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
