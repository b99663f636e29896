"""Deploy rehearsal with the real CDK CLI against moto's server on loopback (fast subset).

``make rehearse`` runs the whole rehearsal (every reference stack; the CLI synthesizes every
assembly). This test runs the same driver on the platform stack only, reusing the session's
reference assembly and two assemblies synthesized in-process: the update (a third Studio user, the
canary off, a larger instance type) and the deliberately broken change (the data bucket's construct
renamed), so that it stays within the suite's time budget.
"""

from __future__ import annotations

import time

import pytest

from tests.harness.cli_rehearsal import DEFAULT_UPDATE, _bucket_and_key, retention_table, run

pytestmark = [pytest.mark.slow, pytest.mark.cli_rehearsal]

STACK = "SageMakerPlatform"


@pytest.fixture(scope="module")
def rehearsal(reference, tmp_path_factory):
    import app as reference_app
    from stacks.config import CONTEXT_KEY
    from tests.conftest import cdk_context, new_app
    from tests.harness import renamed_bucket_app

    started = time.monotonic()
    root = tmp_path_factory.mktemp("cli-rehearsal")
    head = new_app(outdir=str(root / "head.out"),
                   context={CONTEXT_KEY: {**cdk_context()[CONTEXT_KEY], **DEFAULT_UPDATE}})
    reference_app.build(head)
    head.synth()
    broken = new_app(outdir=str(root / "broken.out"))
    renamed_bucket_app.build(broken)
    broken.synth()
    (root / "work").mkdir()
    print(f"in-process synth of the update and the broken change: {time.monotonic() - started:.1f} s")
    report = run(workdir=root / "work", base=reference.outdir, head=root / "head.out",
                 broken=root / "broken.out", stacks=[STACK], lifetime_s=400, timeout_s=150)
    print(report.table(), *report.notes, sep="\n")
    return report


def test_bootstrap_and_deploy_create_the_stack(rehearsal):
    assert rehearsal.steps["bootstrap"]["status"] == "CREATE_COMPLETE"
    assert rehearsal.steps["deploy"]["returncode"] == 0, rehearsal.rows
    assert rehearsal.steps["deploy"]["statuses"] == {STACK: "CREATE_COMPLETE"}
    # The CLI handed CloudFormation a TemplateURL on the simulator's own host (bridge 1).
    assert any(STACK not in url and "/cdk-hnb659fds-assets-" in url for url in rehearsal.steps["template_urls"])


def test_the_studio_teardown_is_asked_to_create_update_and_delete(rehearsal):
    requests = [(e["request_type"], e["resource_type"]) for e in rehearsal.steps["custom_resources"]]
    assert ("Create", "Custom::StudioTeardown") in requests
    assert ("Create", "Custom::VpcRestrictDefaultSG") in requests
    assert ("Delete", "Custom::StudioTeardown") in requests


def test_diff_after_deploy_reports_no_differences(rehearsal):
    assert rehearsal.steps["diff"]["no_differences"], rehearsal.steps["diff"]["output"]


def test_renamed_retained_bucket_is_reported_as_a_replacement_and_not_deployed(rehearsal):
    gate = rehearsal.steps["gates"]["renamed"]
    assert gate["failures"], "the review gate let a renamed retained bucket through"
    # The data bucket and its access-log bucket (a child of the renamed construct) both move.
    replaced = {r["path"]: r for r in gate["replacements"] if r["resource_type"] == "AWS::S3::Bucket"
                and r["stack"] == STACK}
    assert set(replaced) == {f"{STACK}/MlDataBucket/Resource", f"{STACK}/MlDataBucket/AccessLogs/Resource"}, replaced
    replacement = replaced[f"{STACK}/MlDataBucket/Resource"]
    assert replacement["old_logical_id"].startswith("DataBucket")
    assert replacement["old_resource_policy"] == "Retain"
    assert gate["statuses_after"] == {STACK: "CREATE_COMPLETE"}  # nothing was deployed


def test_update_through_context_is_what_the_review_reported(rehearsal):
    outcome = rehearsal.steps["update"]["stacks"][STACK]
    assert outcome["status"] == "UPDATE_COMPLETE"
    assert outcome["refused"] is None
    assert [lid for lid in outcome["simulator"]["added"] if lid.startswith("StudioUserProfilesanalyst")]
    assert outcome["simulator"]["removed"] == []
    assert outcome["disagreements"] == {}, outcome
    assert outcome["review"]["replaced"] == []


def test_destroy_leaves_exactly_the_retained_resources(rehearsal):
    destroy = rehearsal.steps["destroy"]
    assert destroy["returncode"] == 0, destroy["output"]
    assert set(destroy["statuses"].values()) <= {"DELETE_COMPLETE", "DOES_NOT_EXIST"}
    assert destroy["retained_missing"] == []
    present = " ".join(destroy["retained_present"])
    for kind in ("AWS::KMS::Key", "AWS::S3::Bucket", "AWS::Logs::LogGroup"):
        assert f"({kind} " in present, kind
    assert "DataBucket" in present
    assert destroy["left_behind"] == []


def test_every_row_is_expected(rehearsal):
    assert rehearsal.ok, rehearsal.table()


def test_template_url_forms():
    bucket, key = "cdk-hnb659fds-assets-123456789012-us-east-1", "abc.json"
    for url in (f"http://127.0.0.1:5000/{bucket}/{key}", f"https://s3.us-east-1.amazonaws.com/{bucket}/{key}",
                f"https://{bucket}.s3.us-east-1.amazonaws.com/{key}", f"s3://{bucket}/{key}",
                f"https://s3.amazonaws.com/{bucket}/{key}"):
        assert _bucket_and_key(url) == (bucket, key), url


def test_retention_table_is_read():
    rows = retention_table()
    assert ("AWS::KMS::Key", ["PlatformKey/Resource"], "Retain") in rows
