"""Compliance of the reference stacks: cdk-nag packs, cfn-lint, checkov.

Every acknowledgement sits next to its resource (sagemaker_constructs.acknowledge) with a
specific reason; the inventories below are snapshots so they cannot grow without review.
"""

from __future__ import annotations

import dataclasses

import pytest

from sagemaker_constructs import COMPLIANCE_PACKS, NAG_PACKS
from sagemaker_constructs.compliance import CONTROL_TOWER_NAMESPACE, PACK_NAMESPACES
from tests.harness.lint import CheckovResults, checkov_results_of, format_cfn_lint, format_checkov, run_cfn_lint
from tests.harness.reference import once_per_run

REFERENCE_STACKS = ["platform", "inference", "mlops", "delivery"]
#: The delivery pipeline's serving stacks (nested assemblies of its dev and prod stages).
SERVING_TEMPLATES = ["Dev", "Prod"]


def _serving_template(reference, stage: str):
    delivery = reference.stacks["delivery"]
    (stack,) = [s for s in delivery.delivery.stages[stage].node.children if hasattr(s, "template_file")]
    return reference.outdir / f"assembly-{delivery.node.id}-Delivery-{stage}" / stack.template_file


def test_reference_app_synthesizes_with_all_packs(reference):
    assert reference.synth_error is None, reference.synth_error
    assert set(NAG_PACKS) == {"AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321"}


def test_no_unacknowledged_nag_findings(reference):
    findings = reference.unacknowledged_findings()
    assert findings == [], "\n".join(f"{r} {p}: {d}" for r, p, d in findings)


def test_every_acknowledgement_has_a_specific_reason(reference):
    acks = reference.acknowledgements()
    assert acks, "expected the inventory to be read from the cloud assembly"
    ours = 0
    for path, rules in acks.items():
        for rule, reason in rules.items():
            if rule.startswith("CloudFormation-Validate::"):
                continue  # written by aws-cdk-lib itself for its own known false positives
            ours += 1
            assert any(rule.startswith(PACK_NAMESPACES[p] + "::") for p in COMPLIANCE_PACKS), rule
            assert len(reason) >= 40, f"{path} {rule}: reason too vague: {reason!r}"
    assert ours > 0


def test_control_tower_pack_runs_on_the_reference_app(reference):
    assert "ControlTower" in COMPLIANCE_PACKS
    acks = reference.acknowledgements()
    controls = {rule for rules in acks.values() for rule in rules if rule.startswith(CONTROL_TOWER_NAMESPACE + "::")}
    # What the Guard rules cannot read or what is so by design; never the four real findings.
    assert f"{CONTROL_TOWER_NAMESPACE}::lambda_inside_vpc_check" in controls
    for fixed in ("kms_create_grant_aws_service_check", "cloudwatch_alarm_action_check"):
        assert f"{CONTROL_TOWER_NAMESPACE}::{fixed}" not in controls
    locked = [path for path, rules in acks.items()
              if f"{CONTROL_TOWER_NAMESPACE}::s3_bucket_object_lock_enabled_check" in rules]
    assert not any(path.endswith("AuditTrail/Bucket") for path in locked), locked


def test_acknowledgement_inventory(reference, snapshot_json):
    """Review a diff here as carefully as an IAM change: it is a finding we chose to accept."""
    assert reference.acknowledgements() == snapshot_json


@pytest.fixture(scope="session")
def checkov_of(reference):
    """checkov's results for each reference template (the four stacks and the two serving stages),
    from one checkov run shared by the xdist workers: its start-up (about 5 s) is paid once, not
    six times. ``checkov_of(path)`` gives one template's."""
    paths = [reference.template_path(n) for n in REFERENCE_STACKS] + [_serving_template(reference, s) for s in SERVING_TEMPLATES]

    def run():
        return {name: dataclasses.asdict(r) for name, r in checkov_results_of(paths, root=reference.outdir).items()}

    results = once_per_run(reference.outdir.parent, "checkov", run)
    return lambda path: CheckovResults(**results[path.resolve().relative_to(reference.outdir.resolve()).as_posix()])


@pytest.mark.parametrize("stack_name", REFERENCE_STACKS)
def test_cfn_lint_has_no_errors(reference, stack_name):
    errors = run_cfn_lint(reference.template_path(stack_name), level="Error")
    assert errors == [], "\n".join(map(format_cfn_lint, errors))


@pytest.mark.parametrize("stack_name", REFERENCE_STACKS)
def test_checkov_has_no_failures(reference, checkov_of, stack_name):
    results = checkov_of(reference.template_path(stack_name))
    assert results.parsing_errors == []
    assert results.passed, "checkov ran no checks: is the template empty or unparsed?"
    assert results.failed == [], "\n".join(map(format_checkov, results.failed))
    for skipped in results.skipped:
        assert skipped.get("comment") and len(skipped["comment"]) >= 40, format_checkov(skipped)


@pytest.mark.parametrize("stack_name", REFERENCE_STACKS)
def test_checkov_skip_inventory(reference, stack_name, snapshot_json):
    assert reference.checkov_skips(stack_name) == snapshot_json


@pytest.mark.parametrize("stage", SERVING_TEMPLATES)
def test_serving_stages_lint_clean(reference, checkov_of, stage):
    """The stacks the delivery pipeline deploys to each account (the packs run on them too)."""
    path = _serving_template(reference, stage)
    errors = run_cfn_lint(path, level="Error")
    assert errors == [], "\n".join(map(format_cfn_lint, errors))
    results = checkov_of(path)
    assert results.passed and results.parsing_errors == []
    assert results.failed == [], "\n".join(map(format_checkov, results.failed))
