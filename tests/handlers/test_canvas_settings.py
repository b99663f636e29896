"""canvas_settings handler: apply, keep the previous settings, restore them only when the domain stays."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from tests.handlers.conftest import load_handler

cs = load_handler("canvas_settings")

DOMAIN = "d-abc123"
STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/platform/1"
NEW = {"DirectDeploySettings": {"Status": "DISABLED"}, "TimeSeriesForecastingSettings": {"Status": "ENABLED"},
       "WorkspaceSettings": {"S3ArtifactPath": "s3://bucket/canvas", "S3KmsKeyId": "arn:aws:kms:us-east-1:1:key/k"}}
PREVIOUS = {"TimeSeriesForecastingSettings": {"Status": "DISABLED"}}


@pytest.fixture
def aws(monkeypatch):
    clients = {n: boto3.client(n, region_name="us-east-1") for n in ("sagemaker", "cloudformation")}
    stubs = {n: Stubber(c) for n, c in clients.items()}
    monkeypatch.setattr(cs, "_client", lambda name: clients[name])
    monkeypatch.setattr(cs, "_sleep", lambda seconds: None)
    for stub in stubs.values():
        stub.activate()
    yield stubs
    for stub in stubs.values():
        stub.assert_no_pending_responses()


def domain(canvas, status="InService"):
    return {"DomainId": DOMAIN, "Status": status, "DefaultUserSettings": {"CanvasAppSettings": canvas}}


def describe(aws, canvas, status="InService"):
    aws["sagemaker"].add_response("describe_domain", domain(canvas, status), {"DomainId": DOMAIN})


def update(aws, settings):
    aws["sagemaker"].add_response("update_domain", {"DomainArn": "arn:aws:sagemaker:us-east-1:1:domain/" + DOMAIN},
                                  {"DomainId": DOMAIN, "DefaultUserSettings": {"CanvasAppSettings": settings}})


def event(kind, **more):
    return {"RequestType": kind, "StackId": STACK_ID, "LogicalResourceId": "StudioCanvasSettings",
            "ResourceProperties": {"DomainId": DOMAIN, "CanvasAppSettings": NEW, "DomainDeletionPolicy": "Delete"},
            **more}


def stack(aws, status):
    aws["cloudformation"].add_response("describe_stacks", {"Stacks": [
        {"StackName": "platform", "StackId": STACK_ID, "StackStatus": status, "CreationTime": "2026-01-01"}]},
        {"StackName": STACK_ID})


def test_create_keeps_previous_settings_in_physical_id(aws):
    describe(aws, PREVIOUS)           # previous settings
    describe(aws, PREVIOUS)           # InService before the update
    update(aws, NEW)
    describe(aws, NEW)                # InService after
    result = cs.on_event(event("Create"), None)
    assert cs.parse_physical_id(result["PhysicalResourceId"]) == (DOMAIN, PREVIOUS)


def test_update_same_domain_keeps_physical_id_and_waits_while_updating(aws):
    pid = cs.physical_id(DOMAIN, PREVIOUS)
    describe(aws, PREVIOUS, status="Updating")
    describe(aws, PREVIOUS)
    update(aws, NEW)
    describe(aws, NEW)
    assert cs.on_event(event("Update", PhysicalResourceId=pid), None) == {"PhysicalResourceId": pid}


def test_delete_restores_previous_when_domain_stays(aws):
    pid = cs.physical_id(DOMAIN, PREVIOUS)
    describe(aws, NEW)
    stack(aws, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    describe(aws, NEW)
    update(aws, {**cs.OFF, **PREVIOUS})
    describe(aws, PREVIOUS)
    cs.on_event(event("Delete", PhysicalResourceId=pid), None)


def test_delete_with_the_stack_restores_nothing(aws):
    describe(aws, NEW)
    stack(aws, "DELETE_IN_PROGRESS")
    cs.on_event(event("Delete", PhysicalResourceId=cs.physical_id(DOMAIN, PREVIOUS)), None)


def test_delete_retained_domain_with_the_stack_restores(aws):
    ev = event("Delete", PhysicalResourceId=cs.physical_id(DOMAIN, PREVIOUS))
    ev["ResourceProperties"]["DomainDeletionPolicy"] = "Retain"
    describe(aws, NEW)
    stack(aws, "DELETE_IN_PROGRESS")
    describe(aws, NEW)
    update(aws, {**cs.OFF, **PREVIOUS})
    describe(aws, PREVIOUS)
    cs.on_event(ev, None)


def test_delete_after_a_newer_resource_changed_settings_restores_nothing(aws):
    describe(aws, {**NEW, "DirectDeploySettings": {"Status": "ENABLED"}})
    stack(aws, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    cs.on_event(event("Delete", PhysicalResourceId=cs.physical_id(DOMAIN, PREVIOUS)), None)


def test_delete_of_gone_domain_or_failed_create_is_a_no_op(aws):
    aws["sagemaker"].add_client_error("describe_domain", "ResourceNotFound", "Domain not found")
    cs.on_event(event("Delete", PhysicalResourceId=cs.physical_id(DOMAIN, PREVIOUS)), None)
    cs.on_event(event("Delete", PhysicalResourceId="some-failed-create-id"), None)


def test_physical_id_round_trip_and_size_limit():
    assert cs.parse_physical_id(cs.physical_id(DOMAIN, NEW)) == (DOMAIN, NEW)
    import hashlib
    huge = {"IdentityProviderOAuthSettings": [{"SecretArn": hashlib.sha256(str(i).encode()).hexdigest()}
                                              for i in range(40)]}
    with pytest.raises(cs.CanvasSettingsError, match="too large"):
        cs.physical_id(DOMAIN, huge)


def test_still_applied_ignores_order_and_empty_values():
    applied = {"IdentityProviderOAuthSettings": [{"DataSourceName": "A", "Status": "DISABLED"},
                                                  {"DataSourceName": "B", "Status": "DISABLED"}]}
    current = {"IdentityProviderOAuthSettings": [{"DataSourceName": "B", "Status": "DISABLED", "SecretArn": None},
                                                 {"DataSourceName": "A", "Status": "DISABLED"}]}
    assert cs.still_applied(current, applied)
    assert not cs.still_applied({}, applied)
