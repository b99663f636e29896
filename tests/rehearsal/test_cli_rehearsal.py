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

import json
import types
from pathlib import Path

from tests.harness.cli_rehearsal import (
    ACCOUNT_ID,
    BRIDGES,
    REPO,
    DEFAULT_UPDATE,
    Rehearsal,
    Simulator,
    _bucket_and_key,
    retention_table,
    run,
    skipped_stacks,
    stacks_of,
)

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


def test_every_reference_stack_goes_to_its_own_account_in_the_simulator(reference):
    """The delivery stack (tooling account) and its stages' stacks (dev, prod) are rehearsed in
    their own accounts; ``--all`` selects the top-level stacks, a second command the stages'."""
    from tests.conftest import cdk_context

    delivery = cdk_context()["sagemaker-constructs:delivery"]
    out = Path(reference.outdir)
    infos = stacks_of(out)
    accounts = {i.name: i.account for i in infos}
    assert accounts[STACK] == accounts["SageMakerInference"] == accounts["SageMakerMlops"] == ACCOUNT_ID
    assert accounts[delivery["stack_name"]] == delivery["account"]
    staged = [i for i in infos if not i.top_level]
    assert sorted(i.account for i in staged) == sorted([delivery["dev_account"], delivery["prod_account"]])
    names = [i.name for i in infos]
    assert names.index(STACK) < names.index("SageMakerInference") < names.index("SageMakerMlops")
    assert skipped_stacks(out) == {}
    rehearsal = Rehearsal(types.SimpleNamespace(endpoint="http://127.0.0.1:9"), out)
    assert rehearsal._selections(out) == [["--app", str(out), "--all"],
                                          ["--app", str(out), "--exclusively", *[i.display for i in staged]]]
    only = Rehearsal(types.SimpleNamespace(endpoint="http://127.0.0.1:9"), out, stacks=[STACK])
    assert only._selections(out) == [["--app", str(out), "--exclusively", STACK]]


def _endpoint_config_template(*, variant: dict) -> str:
    return json.dumps({"Resources": {
        "Config": {"Type": "AWS::SageMaker::EndpointConfig", "Properties": {"ProductionVariants": [variant]}},
        "After": {"Type": "AWS::SQS::Queue", "DependsOn": "Config"},
    }})


def _execute(simulator: Simulator, name: str, template: str):
    import boto3

    cloudformation = boto3.client("cloudformation", endpoint_url=simulator.endpoint, region_name="us-east-1",
                                  aws_access_key_id="testing", aws_secret_access_key="testing")
    cloudformation.create_change_set(StackName=name, ChangeSetName="cdk-deploy-change-set", TemplateBody=template,
                                     ChangeSetType="CREATE")
    cloudformation.execute_change_set(StackName=name, ChangeSetName="cdk-deploy-change-set")
    from moto.cloudformation import cloudformation_backends

    status = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    stack = next(s for s in cloudformation_backends[ACCOUNT_ID]["us-east-1"].stacks.values() if s.name == name)
    return status, {k for k, v in stack.resource_map._parsed_resources.items()
                    if not k.startswith("AWS::") and v is not None}


def test_a_change_set_failing_inside_moto_fails_the_stack_instead_of_completing_it():
    # A variant naming a model that does not exist: moto raises while creating the stack.
    with Simulator(lifetime_s=60) as simulator:
        status, created = _execute(simulator, "Broken", _endpoint_config_template(
            variant={"ModelName": "missing", "VariantName": "AllTraffic", "InstanceType": "ml.m5.large",
                     "InitialInstanceCount": 1}))
    assert status == "ROLLBACK_COMPLETE"
    assert "After" not in created
    assert simulator.errors and "Could not find model" in simulator.errors[0]


def test_an_endpoint_configuration_for_inference_components_is_created():
    # Its variants name no model (bridge 9).
    with Simulator(lifetime_s=60) as simulator:
        status, created = _execute(simulator, "Components", _endpoint_config_template(
            variant={"VariantName": "AllTraffic", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1,
                     "RoutingConfig": {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"}}))
    assert status == "CREATE_COMPLETE"
    assert created == {"Config", "After"}
    assert simulator.errors == []


def test_every_bridge_is_listed_in_the_readme():
    section = (REPO / "README.md").read_text().split("## Deploy rehearsal with the real CLI", 1)[1].split("\n## ", 1)[0]
    rows = {int(line.split("|")[1]): line.split("|")[2].strip() for line in section.splitlines()
            if line.startswith("| ") and line.split("|")[1].strip().isdigit()}
    assert sorted(rows) == sorted(BRIDGES)
    for number, words in BRIDGES.items():
        assert rows[number].startswith(words), (number, rows[number])
