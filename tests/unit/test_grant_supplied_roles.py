"""FeatureGroup.grant_* and MlflowTrackingServer.grant_access with the caller's roles: a role of the
app gets a managed policy; an imported role its own policy; a role CDK cannot change (mutable=False,
another account) is a ValidationError naming the actions unless role_is_prepared=True."""

from __future__ import annotations

import json

import pytest
from aws_cdk import aws_iam as iam

from sagemaker_constructs import (
    Feature,
    FeatureGroup,
    MlflowTrackingServer,
    PlatformKey,
    SecureBucket,
    ValidationError,
)
from tests.conftest import new_app
from tests.harness.templates import resources, template_of

SAME_ACCOUNT = "arn:aws:iam::{account}:role/pipeline"
OTHER_ACCOUNT = "arn:aws:iam::222222222222:role/pipeline"


def _targets(stack):
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    group = FeatureGroup(stack, "Iris", record_identifier="id", event_time="ts", encryption_key=key,
                         features=[Feature.string("id"), Feature.string("ts"), Feature.fractional("x")])
    server = MlflowTrackingServer(stack, "Mlflow", artifact_bucket=bucket, encryption_key=key)
    return {
        "grant_read": group.grant_read, "grant_write": group.grant_write, "grant_ingest": group.grant_ingest,
        "grant_access": server.grant_access,
    }


@pytest.mark.parametrize("method", ["grant_read", "grant_write", "grant_ingest", "grant_access"])
def test_an_imported_mutable_role_gets_the_statements_in_its_policy(stack, method):
    role = iam.Role.from_role_arn(stack, "Pipeline", SAME_ACCOUNT.format(account=stack.account), mutable=True)
    policy = _targets(stack)[method](role)
    t = template_of(stack)
    held = [p for p in resources(t, "AWS::IAM::Policy").values() if p["Properties"]["Roles"] == ["pipeline"]]
    assert len(held) == 1 and isinstance(policy, iam.Policy)
    assert "sagemaker:" in json.dumps(held[0]["Properties"]["PolicyDocument"])
    assert not [p for p in resources(t, "AWS::IAM::ManagedPolicy").values()
                if "pipeline" in json.dumps(p["Properties"].get("Roles", []))]


@pytest.mark.parametrize("method", ["grant_read", "grant_write", "grant_ingest", "grant_access"])
@pytest.mark.parametrize("how", ["immutable", "other account", "without policy updates"])
def test_a_role_cdk_cannot_change_is_refused_with_the_actions(stack, method, how):
    if how == "other account":
        # CDK knows a role is another account's only when the stack's account is concrete.
        import aws_cdk as cdk

        stack = cdk.Stack(new_app(), "Pinned", env=cdk.Environment(account="111111111111", region="us-east-1"))
    if how == "immutable":
        role = iam.Role.from_role_arn(stack, "Pipeline", SAME_ACCOUNT.format(account=stack.account), mutable=False)
    elif how == "other account":
        role = iam.Role.from_role_arn(stack, "Pipeline", OTHER_ACCOUNT)
    else:
        role = iam.Role(stack, "Pipeline", assumed_by=iam.AccountRootPrincipal()).without_policy_updates()
    grant = _targets(stack)[method]
    with pytest.raises(ValidationError, match=r"grantee.*CDK cannot add permissions to this role.*sagemaker:"):
        grant(role)
    assert grant(role, role_is_prepared=True) is None
    assert not [p for p in resources(template_of(stack), "AWS::IAM::Policy").values()
                if "pipeline" in json.dumps(p["Properties"].get("Roles", []))]


def test_only_the_grants_own_findings_are_acknowledged_on_an_imported_roles_policy(monkeypatch, stack):
    """An imported role's policy may hold the caller's own wildcards: a grant acknowledges only what
    its statements produce (the offline store's <prefix>/*), never the caller's s3:* on *."""
    import aws_cdk as cdk

    import sagemaker_constructs.compliance as compliance
    from sagemaker_constructs import add_compliance_checks

    monkeypatch.setattr(compliance, "packs_may_read_acknowledgements", lambda: True)
    role = iam.Role.from_role_arn(stack, "Pipeline", SAME_ACCOUNT.format(account=stack.account), mutable=True)
    role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:*"], resources=["*"]))
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    group = FeatureGroup(stack, "Iris", record_identifier="id", event_time="ts", encryption_key=key,
                         offline_store_bucket=bucket,
                         features=[Feature.string("id"), Feature.string("ts"), Feature.fractional("x")])
    group.grant_read(role)
    app = stack.node.root
    add_compliance_checks(app, packs=("SageMaker",))
    try:
        app.synth()
    except RuntimeError:
        pass  # findings of the caller's own s3:* may fail the pack; only the acknowledgements matter
    (policy,) = [c for c in app.node.find_all() if isinstance(c, cdk.aws_iam.CfnPolicy)
                 and c.node.path.startswith(f"{stack.node.id}/Pipeline/")]
    acknowledged = str([m.data for m in policy.node.metadata])
    assert "AwsSolutions-IAM5[Resource::" in acknowledged  # the grant's own <prefix>/* finding
    assert "Action::s3:*" not in acknowledged and "Resource::*]" not in acknowledged
