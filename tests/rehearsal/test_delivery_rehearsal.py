"""Deploy rehearsal of the delivery stack in moto (it imports nothing: it has its own environment).
moto skips the types listed below; each is covered by template assertions."""

from __future__ import annotations

import pytest

from tests.harness.reference import rehearse_reference
from tests.harness.rehearsal import skipped_types
from tests.harness.templates import resources

#: What moto's CloudFormation cannot create, and where the template is asserted instead.
EXPECTED_SKIPPED = {
    "AWS::CodePipeline::Pipeline": "tests/unit/test_promotion.py::test_pipeline_stages_and_actions",
    "AWS::CodeBuild::Project": "tests/unit/test_promotion.py::test_synth_reads_only_the_approved_version_parameter",
    "AWS::Lambda::EventInvokeConfig": "tests/unit/test_promotion.py (PromoteOnApproval shares DeployOnApproval's)",
    "AWS::SQS::QueuePolicy": "tests/unit/test_deploy.py",
    "AWS::S3::BucketPolicy": "tests/unit/test_promotion.py::test_artifact_bucket_and_key_admit_exactly_the_target_accounts",
    "AWS::SNS::TopicPolicy": "tests/unit/test_monitoring.py (the same encrypted, TLS-only topic as the MLOps stack's)",
    "AWS::CloudWatch::Alarm": "tests/unit/test_promotion.py::test_promotion_through_a_pipeline_has_no_sagemaker_write_permission",
}


@pytest.fixture(scope="module")
def delivery_rehearsal(reference):
    with rehearse_reference(reference, "delivery") as r:
        yield reference.template("delivery"), r


def test_delivery_stack_creates(delivery_rehearsal):
    _, r = delivery_rehearsal
    assert r.status == "CREATE_COMPLETE", r.status_reason


def test_delivery_skipped_types_are_the_known_ones(delivery_rehearsal):
    template, r = delivery_rehearsal
    assert skipped_types(template, r) == set(EXPECTED_SKIPPED)


def test_promotion_function_reads_its_approvals_queue(delivery_rehearsal):
    template, r = delivery_rehearsal
    (function_id,) = [lid for lid, res in resources(template, "AWS::Lambda::Function").items()
                      if res["Properties"].get("Handler") == "promote_on_approval.handler"]
    config = r.client("lambda").get_function_configuration(FunctionName=r.physical_id(function_id))
    assert config["Environment"]["Variables"]["TARGET"] == "pipeline"
    mappings = r.client("lambda").list_event_source_mappings(FunctionName=r.physical_id(function_id))
    assert [m["EventSourceArn"].split(":")[2] for m in mappings["EventSourceMappings"]] == ["sqs"]
