"""syrupy JSON snapshots: each construct's defaults and each reference stack (asset hashes scrubbed).

Review a snapshot diff like a CloudFormation diff; update with `pytest --snapshot-update`.
"""

from __future__ import annotations

import pytest

from sagemaker_constructs import (
    AuditTrail,
    IsolatedNetwork,
    JobExecutionRole,
    ModelHostingRole,
    PlatformKey,
    SecureBucket,
    StudioDomain,
    StudioUserRole,
)
from tests.harness.templates import scrub, template_of


def _platform_key(stack):
    PlatformKey(stack, "Key")


def _secure_bucket(stack):
    SecureBucket(stack, "Bucket", encryption_key=PlatformKey(stack, "Key"))


def _isolated_network(stack):
    IsolatedNetwork(stack, "Network")


def _audit_trail(stack):
    AuditTrail(stack, "Trail", encryption_key=PlatformKey(stack, "Key"))


def _studio_domain(stack):
    key = PlatformKey(stack, "Key")
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="studio")
    domain = StudioDomain(stack, "Studio", vpc=net.vpc, encryption_key=key,
                          endpoint_security_group=net.endpoint_security_group)
    domain.add_user_profile("alice")


def _studio_user_role(stack):
    StudioUserRole(stack, "Role", encryption_key=PlatformKey(stack, "Key"))


def _job_execution_role(stack):
    JobExecutionRole(stack, "Role", encryption_key=PlatformKey(stack, "Key"))


def _model_hosting_role(stack):
    ModelHostingRole(stack, "Role", encryption_key=PlatformKey(stack, "Key"))


CONSTRUCT_DEFAULTS = {
    "StudioDomain": _studio_domain,
    "StudioUserRole": _studio_user_role,
    "JobExecutionRole": _job_execution_role,
    "ModelHostingRole": _model_hosting_role,
    "PlatformKey": _platform_key,
    "SecureBucket": _secure_bucket,
    "IsolatedNetwork": _isolated_network,
    "AuditTrail": _audit_trail,
}


@pytest.mark.parametrize("name", sorted(CONSTRUCT_DEFAULTS))
def test_construct_defaults(name, stack, snapshot_json):
    CONSTRUCT_DEFAULTS[name](stack)
    assert scrub(template_of(stack)) == snapshot_json


@pytest.mark.parametrize("stack_name", ["platform", "inference", "mlops"])
def test_reference_stack(stack_name, reference, snapshot_json):
    assert scrub(reference.template(stack_name)) == snapshot_json
