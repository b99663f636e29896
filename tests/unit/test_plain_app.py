"""Every construct's defaults in the App another team has: a plain ``cdk.App()`` without our
``cdk.json`` feature flags, env-agnostic and pinned to an account and region.

Our other tests build apps with the reference app's flags (``new_app()``), under which CDK writes
some values as literals (the partition of a pinned stack) that are Tokens in a plain app: a check
that skips Tokens, or a Token lower-cased or split in Python, shows only here."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest

from tests.test_snapshots import CONSTRUCT_DEFAULTS

ENVIRONMENTS = {"agnostic": None, "pinned": cdk.Environment(account="111122223333", region="eu-west-1")}


@pytest.mark.parametrize("environment", sorted(ENVIRONMENTS))
@pytest.mark.parametrize("name", sorted(CONSTRUCT_DEFAULTS))
def test_defaults_synthesize_in_a_plain_app(name, environment, tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Team", env=ENVIRONMENTS[environment])
    CONSTRUCT_DEFAULTS[name](stack)
    template = app.synth().get_stack_artifact(stack.artifact_id).template
    text = json.dumps(template)
    # a Token's marker that reached the template as text (a Token lower-cased, sliced or split in Python)
    assert "${token[" not in text.lower(), f"{name}: a Token marker is literal text in the template"
    assert template["Resources"]
