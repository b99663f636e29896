"""Supplied roles get exactly the grants the default role gets; a role CDK cannot change is a
ValidationError naming the actions, unless ``role_is_prepared=True`` (one mechanism:
``_internal/grants.py``)."""

from __future__ import annotations

import json

import pytest
from aws_cdk import aws_iam as iam

from sagemaker_constructs import (
    ContainerImage,
    DataCapture,
    DeployOnApproval,
    DeploymentGuardrail,
    EndpointInvoker,
    InferenceComponentEndpoint,
    IsolatedNetwork,
    Model,
    ModelData,
    ModelMonitor,
    ModelPackageGroup,
    MultiModelEndpoint,
    PlatformKey,
    RealtimeEndpoint,
    SecureBucket,
    ValidationError,
)
from sagemaker_constructs._internal.grants import TEMPLATE_ID, add_statements
from tests.conftest import new_stack
from tests.harness.templates import resources, template_of

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
HOSTING_ARN = "arn:aws:iam::111122223333:role/hosting"


def _roles_of(policy: dict) -> list:
    return policy["Properties"].get("Roles", [])


def granted(template: dict, role: object) -> set[tuple]:
    """(effect, action, resource, condition) of every statement in a policy attached to ``role``
    (``{"Ref": id}`` of a role of the template, or an imported role's name)."""
    found = set()
    for type_ in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
        for policy in resources(template, type_).values():
            if role not in _roles_of(policy):
                continue
            for s in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
                res = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
                for a in actions:
                    for r in res:
                        found.add((s["Effect"], a, json.dumps(r, sort_keys=True),
                                   json.dumps(s.get("Condition"), sort_keys=True)))
    return found


def role_ref(template: dict, prefix: str) -> dict:
    (found,) = [k for k in resources(template, "AWS::IAM::Role") if k.startswith(prefix)]
    return {"Ref": found}


def _base(stack):
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    return key, bucket


def _sagemaker_role(stack):
    return iam.Role(stack, "Supplied", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))


def _lambda_role(stack):
    return iam.Role(stack, "Supplied", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))


# --- the scenarios: each builds the construct with role=<given> and says where its default role is
def _model(stack, role=None, **kw):
    key, bucket = _base(stack)
    endpoint_model = Model(stack, "Model", image=ContainerImage.from_uri(IMAGE), encryption_key=key, role=role,
                           model_data=ModelData.from_bucket(bucket, "m/model.tar.gz"), **kw)
    RealtimeEndpoint(stack, "Endpoint", model=endpoint_model, instance_type="ml.m5.large", encryption_key=key,
                     data_capture=DataCapture(bucket))
    return "ModelRole"


def _multi_model(stack, role=None, **kw):
    key, bucket = _base(stack)
    MultiModelEndpoint(stack, "Multi", image=ContainerImage.from_uri(IMAGE), instance_type="ml.m5.large",
                       model_data_prefix=ModelData.from_bucket(bucket, "models/"), encryption_key=key, role=role, **kw)
    return "MultiModelRole"


def _monitor(stack, role=None, **kw):
    key, bucket = _base(stack)
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="inference")
    model = Model(stack, "Model", image=ContainerImage.from_uri(IMAGE), encryption_key=key)
    endpoint = RealtimeEndpoint(stack, "Endpoint", model=model, instance_type="ml.m5.large",
                                data_capture=DataCapture(bucket))
    ModelMonitor(stack, "Monitor", endpoint=endpoint, baseline_uri="s3://baseline/iris", output_bucket=bucket,
                 encryption_key=key, features=["a"], vpc=net.vpc, role=role, **kw)
    return "MonitorRole"


def _endpoint(stack):
    key, bucket = _base(stack)
    model = Model(stack, "Model", image=ContainerImage.from_uri(IMAGE), encryption_key=key)
    return RealtimeEndpoint(stack, "Endpoint", model=model, instance_type="ml.m5.large", encryption_key=key,
                            deployment=DeploymentGuardrail.canary(instances=1))


def _invoker(stack, role=None, **kw):
    EndpointInvoker(stack, "Invoker", endpoint=_endpoint(stack), role=role, **kw)
    return "InvokerRole"


def _deployer(stack, role=None, **kw):
    group = ModelPackageGroup(stack, "Group", model_package_group_name="churn")
    DeployOnApproval(stack, "Deploy", model_package_group=group, endpoint=_endpoint(stack), role=role, **kw)
    return "DeployRole"


def _components(stack, role=None, **kw):
    key, bucket = _base(stack)
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="inference")
    InferenceComponentEndpoint(stack, "Ic", instance_type="ml.m5.xlarge", max_instance_count=2, encryption_key=key,
                               vpc=net.vpc, role=role, **kw)
    return "IcRole"


SCENARIOS = {
    "Model": (_model, _sagemaker_role), "MultiModelEndpoint": (_multi_model, _sagemaker_role),
    "ModelMonitor": (_monitor, _sagemaker_role), "EndpointInvoker": (_invoker, _lambda_role),
    "DeployOnApproval": (_deployer, _lambda_role), "InferenceComponentEndpoint": (_components, _sagemaker_role),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_supplied_role_gets_exactly_the_default_roles_grants(name):
    build, make_role = SCENARIOS[name]
    default_stack = new_stack()
    default_prefix = build(default_stack)
    default_t = template_of(default_stack)
    expected = granted(default_t, role_ref(default_t, default_prefix))
    assert len(expected) > 5

    stack = new_stack()
    build(stack, role=make_role(stack))
    t = template_of(stack)
    assert granted(t, role_ref(t, "Supplied")) == expected
    assert not [k for k in t["Resources"] if k.startswith(default_prefix)]  # no default role
    assert TEMPLATE_ID not in json.dumps(t)  # the template of the default role is gone


def _waiting_for(template: dict, prefix: str) -> set[str]:
    """Logical ids of the non-IAM resources whose DependsOn names an IAM resource starting with ``prefix``."""
    iam_ids = {k for k, v in template["Resources"].items() if v["Type"].startswith("AWS::IAM::") and k.startswith(prefix)}
    return {k for k, v in template["Resources"].items()
            if not v["Type"].startswith("AWS::IAM::") and iam_ids & set(v.get("DependsOn", []))}


@pytest.mark.parametrize("name", SCENARIOS)
def test_what_waits_for_the_default_roles_policy_waits_for_the_supplied_roles(name):
    """SageMaker and Lambda check the role's permissions when they create the resource: with a
    supplied role, the same resources wait for the policy holding its new statements (aws-cdk-lib's
    iam.Role reports that policy only at synth)."""
    build, make_role = SCENARIOS[name]
    default_stack = new_stack()
    prefix = build(default_stack)
    waiting = _waiting_for(template_of(default_stack), prefix)
    assert waiting
    stack = new_stack()
    build(stack, role=make_role(stack))
    assert _waiting_for(template_of(stack), "Supplied") >= waiting


@pytest.mark.parametrize("name", SCENARIOS)
def test_an_imported_mutable_role_gets_the_same_grants(name):
    build, _ = SCENARIOS[name]
    stack = new_stack()
    build(stack, role=iam.Role.from_role_arn(stack, "Imported", HOSTING_ARN, mutable=True))
    assert granted(template_of(stack), "hosting") == _default_grants(name)


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("immutable", ["mutable=False", "without_policy_updates"])
def test_a_role_cdk_cannot_change_raises_naming_the_actions(name, immutable):
    build, make_role = SCENARIOS[name]
    stack = new_stack()
    role = (iam.Role.from_role_arn(stack, "Fixed", HOSTING_ARN, mutable=False) if immutable == "mutable=False"
            else make_role(stack).without_policy_updates())
    with pytest.raises(ValidationError, match="role_is_prepared=True") as raised:
        build(stack, role=role)
    message = str(raised.value)
    assert "CDK cannot add permissions" in message
    # Every action the default role is granted is named (Lambda's own X-Ray/SQS grants included);
    # the Model raises before the endpoint adds data capture (whose grants role_is_prepared covers too).
    later = {"s3:PutObject", "s3:AbortMultipartUpload", "kms:GenerateDataKey", "kms:Encrypt"} if name == "Model" else set()
    assert {a for _, a, _, _ in _default_grants(name)} - later == set(_actions_in(message))


@pytest.mark.parametrize("name", SCENARIOS)
def test_role_is_prepared_accepts_a_role_cdk_cannot_change(name):
    build, _ = SCENARIOS[name]
    stack = new_stack()
    build(stack, role=iam.Role.from_role_arn(stack, "Fixed", HOSTING_ARN, mutable=False), role_is_prepared=True)
    t = template_of(stack)
    assert not any("hosting" in _roles_of(p) for p in resources(t, "AWS::IAM::Policy").values())
    assert not any("hosting" in _roles_of(p) for p in resources(t, "AWS::IAM::ManagedPolicy").values())
    assert HOSTING_ARN in json.dumps(t)  # used as the role


def _default_grants(name: str) -> set[tuple]:
    build, _ = SCENARIOS[name]
    stack = new_stack()
    prefix = build(stack)
    t = template_of(stack)
    return granted(t, role_ref(t, prefix))


def _actions_in(message: str) -> list[str]:
    listed = message.split("it needs the actions ", 1)[1].split(" (", 1)[0]
    return [a.strip() for a in listed.split(",")]


def test_add_statements_returns_the_policies_and_raises_only_when_nothing_was_added():
    stack = new_stack()
    statement = iam.PolicyStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::b/*"])
    imported = iam.Role.from_role_name(stack, "ByName", "team-role")
    (policy,) = add_statements(stack, imported, [statement])
    assert policy.node.path.startswith("Test/ByName/Policy")
    fixed = iam.Role.from_role_arn(stack, "Fixed", HOSTING_ARN, mutable=False)
    with pytest.raises(ValidationError, match=r"s3:GetObject.*role_is_prepared=True") as raised:
        add_statements(stack, fixed, [statement], argument="execution_role")
    assert raised.value.argument == "execution_role" and raised.value.value == HOSTING_ARN
    assert add_statements(stack, fixed, [statement], role_is_prepared=True) == []


def _sids_of_policies(template: dict) -> list[list[str]]:
    return [[s["Sid"] for s in p["Properties"]["PolicyDocument"]["Statement"] if "Sid" in s]
            for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") for p in resources(template, kind).values()]


@pytest.mark.parametrize("make_role", ["imported", "iam.Role", "JobExecutionRole"])
def test_constructs_sharing_a_role_never_repeat_a_statement_id(make_role):
    """IAM requires each Sid to be unique within a policy: two pipelines on one role (different
    buckets, so different statements under the same Sids) and a feature group with a grant to its
    own role each number the repeated ones."""
    from sagemaker_constructs import Feature, FeatureGroup, JobExecutionRole, Pipeline, TrainingStep

    stack = new_stack()
    key, bucket = _base(stack)
    other = SecureBucket(stack, "Other", encryption_key=key)
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="training")
    role = {"imported": lambda: iam.Role.from_role_arn(stack, "Team", HOSTING_ARN),
            "iam.Role": lambda: _sagemaker_role(stack),
            "JobExecutionRole": lambda: JobExecutionRole(stack, "Team", encryption_key=key, data_buckets=[bucket])}[make_role]()
    for name, data in (("Daily", bucket), ("Weekly", other)):
        train = TrainingStep("Train", image=ContainerImage.from_uri(IMAGE), inputs={"train": "s3://x/train/"},
                             output_uri=f"s3://x/{name}")
        Pipeline(stack, name, steps=[train], encryption_key=key, vpc=net.vpc, role=role, data_bucket=data)
    if make_role != "JobExecutionRole":  # one managed policy (6,144 characters) holds only so much
        group = FeatureGroup(stack, "Features", record_identifier="id", event_time="ts", encryption_key=key,
                             features=[Feature.string("id"), Feature.fractional("ts")], offline_store_bucket=other,
                             role=role)
        group.grant_read(role)
    sids = _sids_of_policies(template_of(stack))
    assert any(len(s) > 5 for s in sids)
    for policy_sids in sids:
        assert len(policy_sids) == len(set(policy_sids)), sorted(policy_sids)
    assert any(sid.endswith("2") for policy_sids in sids for sid in policy_sids)  # repeats were numbered
