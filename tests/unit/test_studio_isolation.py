"""Per-user isolation and personas of StudioUserRole, evaluated on the synthesized policies.

Each case is a request a Studio user (or their notebook) makes with the role's credentials; the
policies are the role's resolved managed policies (permissions, Studio, guardrails) and the
evaluator is tests/harness/iam_eval.py (the IAM policy simulator is not reachable offline).
"""

from __future__ import annotations

import pytest
from aws_cdk import aws_s3 as s3

from sagemaker_constructs import PlatformKey, SecureBucket, ValidationError
from sagemaker_constructs.security.roles import (
    CLOUDFORMATION_STACK_TAG,
    MANAGED_POLICY_SIZE_LIMIT,
    PLATFORM_RESOURCE_TAG_KEY,
    PLATFORM_RESOURCE_TAG_VALUE,
    JobExecutionRole,
    Persona,
    StudioUserRole,
    estimated_policy_size,
    tag_platform_resource,
)
from tests.conftest import new_app, new_stack
from tests.harness.iam_eval import ALLOW, DENY, IMPLICIT_DENY, default_refs, evaluate, role_policies
from tests.harness.templates import template_of

DOMAIN = "d-abc123"
REGION, ACCOUNT = "eu-west-1", "111122223333"


def sm(resource: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{resource}"


def profile(name: str, domain: str = DOMAIN) -> str:
    return sm(f"user-profile/{domain}/{name}")


def as_user(name: str | None) -> dict:
    """The session of a Studio user whose domain propagates the profile name as source identity."""
    return {} if name is None else {"aws:SourceIdentity": name}


def space(owner: str | None, sharing: str | None) -> dict:
    context = {}
    if owner is not None:
        context["sagemaker:OwnerUserProfileArn"] = profile(owner)
    if sharing is not None:
        context["sagemaker:SpaceSharingType"] = sharing
    return context


PLATFORM_TAGGED = {f"aws:ResourceTag/{PLATFORM_RESOURCE_TAG_KEY}": PLATFORM_RESOURCE_TAG_VALUE}
STACK_TAGGED = {f"aws:ResourceTag/{CLOUDFORMATION_STACK_TAG}": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/x/1"}


class Role:
    """A role's resolved policies, with a shorthand to evaluate a request."""

    def __init__(self, policies: list[dict], bucket_arn: str) -> None:
        self.policies = policies
        self.bucket = bucket_arn

    def decide(self, action: str, resource: str, **context) -> str:
        return evaluate(self.policies, action, resource, context).effect

    def s3(self, action: str, key: str) -> str:
        return self.decide(action, f"{self.bucket}/{key}")


@pytest.fixture(scope="module")
def personas() -> dict[str, Role]:
    stack = new_stack()
    key = PlatformKey(stack, "Key")
    data = SecureBucket(stack, "Data", encryption_key=key)
    job = JobExecutionRole(stack, "Job", encryption_key=key, data_buckets=[data], output_bucket=data)
    roles = {
        "default": StudioUserRole(stack, "Default", encryption_key=key, data_buckets=[data], passable_roles=[job],
                                  domain_id=DOMAIN),
        "alice_only": StudioUserRole(stack, "AliceOnly", encryption_key=key, data_buckets=[data], domain_id=DOMAIN,
                                     user_profile_name="alice"),
    }
    for persona in Persona:
        roles[persona.value] = StudioUserRole(stack, persona.name.title().replace("_", ""), persona=persona,
                                              encryption_key=key, data_buckets=[data], passable_roles=[job],
                                              domain_id=DOMAIN)
    template = template_of(stack)
    refs = default_refs(template)
    bucket_arn = refs[f"{stack.get_logical_id(data.node.default_child)}.Arn"]
    return {name: Role(role_policies(template, stack.get_logical_id(role.node.default_child), refs), bucket_arn)
            for name, role in roles.items()}


@pytest.fixture(scope="module")
def scientist(personas) -> Role:
    return personas["default"]


# --- spaces and apps ----------------------------------------------------------------------------
@pytest.mark.parametrize("action", ["sagemaker:DeleteSpace", "sagemaker:UpdateSpace"])
def test_alice_cannot_delete_or_update_bobs_private_space(scientist, action):
    bobs = space("bob", "Private")
    assert scientist.decide(action, sm(f"space/{DOMAIN}/bob-space"), **as_user("alice"), **bobs) == IMPLICIT_DENY
    assert scientist.decide(action, sm(f"space/{DOMAIN}/bob-space"), **as_user("bob"), **bobs) == ALLOW


@pytest.mark.parametrize("action", ["sagemaker:CreateSpace", "sagemaker:UpdateSpace", "sagemaker:DeleteSpace"])
@pytest.mark.parametrize("sharing", ["Private", "Shared"])
def test_alice_manages_her_own_spaces(scientist, action, sharing):
    assert scientist.decide(action, sm(f"space/{DOMAIN}/mine"), **as_user("alice"), **space("alice", sharing)) == ALLOW


def test_alice_cannot_create_a_space_in_bobs_name_or_without_an_owner(scientist):
    target = sm(f"space/{DOMAIN}/new")
    assert scientist.decide("sagemaker:CreateSpace", target, **as_user("alice"), **space("bob", "Private")) \
        == IMPLICIT_DENY
    assert scientist.decide("sagemaker:CreateSpace", target, **as_user("alice"), **space(None, "Shared")) \
        == IMPLICIT_DENY


@pytest.mark.parametrize("action", ["sagemaker:CreateApp", "sagemaker:DeleteApp"])
def test_apps_of_private_spaces_belong_to_their_owner(scientist, action):
    app = sm(f"app/{DOMAIN}/bob-space/JupyterLab/default")
    assert scientist.decide(action, app, **as_user("alice"), **space("bob", "Private")) == IMPLICIT_DENY
    assert scientist.decide(action, app, **as_user("bob"), **space("bob", "Private")) == ALLOW


def test_shared_spaces_everyone_runs_apps_only_the_owner_changes_the_space(scientist):
    shared = space("bob", "Shared")
    app = sm(f"app/{DOMAIN}/team/JupyterLab/default")
    for action in ("sagemaker:CreateApp", "sagemaker:DeleteApp"):
        assert scientist.decide(action, app, **as_user("alice"), **shared) == ALLOW
    for action in ("sagemaker:UpdateSpace", "sagemaker:DeleteSpace"):
        assert scientist.decide(action, sm(f"space/{DOMAIN}/team"), **as_user("alice"), **shared) == IMPLICIT_DENY
        assert scientist.decide(action, sm(f"space/{DOMAIN}/team"), **as_user("bob"), **shared) == ALLOW


def test_ownerless_spaces_only_the_platform_admin_changes(personas):
    ownerless = space(None, "Shared")
    for name in ("default", Persona.ML_ENGINEER.value):
        assert personas[name].decide("sagemaker:DeleteSpace", sm(f"space/{DOMAIN}/platform"), **as_user("alice"),
                                     **ownerless) == IMPLICIT_DENY
    assert personas[Persona.PLATFORM_ADMIN.value].decide(
        "sagemaker:DeleteSpace", sm(f"space/{DOMAIN}/platform"), **as_user("alice"), **ownerless) == ALLOW


def test_user_profile_apps_only_ones_own(scientist):
    for action in ("sagemaker:CreateApp", "sagemaker:DeleteApp"):
        assert scientist.decide(action, sm(f"app/{DOMAIN}/alice/JupyterServer/default"), **as_user("alice")) == ALLOW
        assert scientist.decide(action, sm(f"app/{DOMAIN}/bob/JupyterServer/default"), **as_user("alice")) \
            == IMPLICIT_DENY


def test_the_platform_admin_manages_every_space_and_app_of_the_domain(personas):
    admin = personas[Persona.PLATFORM_ADMIN.value]
    bobs = space("bob", "Private")
    for action in ("sagemaker:UpdateSpace", "sagemaker:DeleteSpace"):
        assert admin.decide(action, sm(f"space/{DOMAIN}/bob-space"), **as_user("alice"), **bobs) == ALLOW
    assert admin.decide("sagemaker:DeleteApp", sm(f"app/{DOMAIN}/bob-space/JupyterLab/default"), **as_user("alice"),
                        **bobs) == ALLOW
    # ... of its own domain only.
    assert admin.decide("sagemaker:DeleteSpace", sm("space/d-other/bob-space"), **bobs) == IMPLICIT_DENY


def test_without_a_source_identity_nobody_changes_spaces_fail_closed(scientist):
    """A domain that does not propagate the profile name: no one passes for the owner."""
    for owner in ("alice", "bob"):
        assert scientist.decide("sagemaker:DeleteSpace", sm(f"space/{DOMAIN}/s"), **space(owner, "Private")) \
            == IMPLICIT_DENY


def test_a_role_of_one_user_needs_no_source_identity(personas):
    alice_only = personas["alice_only"]
    assert alice_only.decide("sagemaker:DeleteSpace", sm(f"space/{DOMAIN}/s"), **space("alice", "Private")) == ALLOW
    assert alice_only.decide("sagemaker:DeleteSpace", sm(f"space/{DOMAIN}/s"), **space("bob", "Private")) \
        == IMPLICIT_DENY
    assert alice_only.decide("sagemaker:DeleteSpace", sm(f"space/{DOMAIN}/s"), **as_user("bob"),
                             **space("bob", "Private")) == IMPLICIT_DENY


def test_other_domains_are_out_of_reach(scientist):
    assert scientist.decide("sagemaker:DeleteSpace", sm("space/d-other/s"), **as_user("alice"),
                            **space("alice", "Private")) == IMPLICIT_DENY


def test_tags_only_on_creation(scientist):
    bobs_space = sm(f"space/{DOMAIN}/bob-space")
    assert scientist.decide("sagemaker:AddTags", bobs_space, **as_user("alice")) == IMPLICIT_DENY
    assert scientist.decide("sagemaker:AddTags", bobs_space, **{"sagemaker:TaggingAction": "CreateSpace"}) == ALLOW


# --- platform-deployed models, endpoint configs, endpoints ------------------------------------------
@pytest.mark.parametrize("tags", [PLATFORM_TAGGED, STACK_TAGGED], ids=["platform-tag", "cloudformation-tag"])
def test_nobody_but_the_platform_admin_deletes_platform_models(personas, tags):
    model = sm("model/iris-model-abc")
    for name in ("default", Persona.DATA_SCIENTIST.value, Persona.ML_ENGINEER.value):
        assert personas[name].decide("sagemaker:DeleteModel", model, **tags) == DENY, name
    assert personas[Persona.PLATFORM_ADMIN.value].decide("sagemaker:DeleteModel", model, **tags) == ALLOW


def test_a_users_own_model_stays_deletable(scientist):
    assert scientist.decide("sagemaker:DeleteModel", sm("model/my-experiment")) == ALLOW


def test_overwriting_the_platform_tag_does_not_lift_the_deny_and_it_cannot_be_removed(personas):
    engineer = personas[Persona.ML_ENGINEER.value]
    overwritten = {f"aws:ResourceTag/{PLATFORM_RESOURCE_TAG_KEY}": "mine-now"}
    assert engineer.decide("sagemaker:DeleteEndpoint", sm("endpoint/iris"), **overwritten) == DENY
    assert engineer.decide("sagemaker:DeleteTags", sm("endpoint/iris"), **PLATFORM_TAGGED) == DENY


@pytest.mark.parametrize(("action", "resource"), [
    ("sagemaker:DeleteEndpoint", "endpoint/iris"),
    ("sagemaker:UpdateEndpoint", "endpoint/iris"),
    ("sagemaker:UpdateEndpointWeightsAndCapacities", "endpoint/iris"),
    ("sagemaker:DeleteEndpointConfig", "endpoint-config/iris-config"),
])
def test_endpoints_ml_engineers_run_their_own_never_the_platforms(personas, action, resource):
    engineer = personas[Persona.ML_ENGINEER.value]
    assert engineer.decide(action, sm(resource), **PLATFORM_TAGGED) == DENY
    assert engineer.decide(action, sm(resource), **STACK_TAGGED) == DENY
    assert engineer.decide(action, sm(resource)) == ALLOW
    # Data scientists run no endpoints at all; the platform admin may change the platform's.
    assert personas["default"].decide(action, sm(resource)) == IMPLICIT_DENY
    assert personas[Persona.PLATFORM_ADMIN.value].decide(action, sm(resource), **PLATFORM_TAGGED) == ALLOW


def test_ml_engineers_register_and_approve_model_versions(personas):
    version = sm("model-package/iris/7")
    assert personas[Persona.ML_ENGINEER.value].decide("sagemaker:UpdateModelPackage", version) == ALLOW
    assert personas[Persona.ML_ENGINEER.value].decide("sagemaker:CreateModelPackage", version) == ALLOW
    assert personas["default"].decide("sagemaker:UpdateModelPackage", version) == IMPLICIT_DENY


# --- serving and capture prefixes -----------------------------------------------------------------
@pytest.mark.parametrize("action", ["s3:PutObject", "s3:DeleteObject"])
def test_only_ml_engineers_and_admins_write_under_the_serving_prefix(personas, action):
    assert personas["default"].s3(action, "models/iris.tar.gz") == DENY
    assert personas[Persona.DATA_SCIENTIST.value].s3(action, "models/iris.tar.gz") == DENY
    assert personas[Persona.ML_ENGINEER.value].s3(action, "models/iris.tar.gz") == ALLOW
    assert personas[Persona.PLATFORM_ADMIN.value].s3(action, "models/iris.tar.gz") == ALLOW
    # Elsewhere in the bucket every persona writes, and everyone may read what is served.
    assert personas["default"].s3(action, "experiments/alice/out.csv") == ALLOW
    assert personas["default"].s3("s3:GetObject", "models/iris.tar.gz") == ALLOW


def test_only_the_platform_admin_reads_captured_requests_and_nobody_writes_them(personas):
    captured = "data-capture/iris/AllTraffic/2026/12/01/00/x.jsonl"
    for name in ("default", Persona.DATA_SCIENTIST.value, Persona.ML_ENGINEER.value):
        assert personas[name].s3("s3:GetObject", captured) == DENY, name
    assert personas[Persona.PLATFORM_ADMIN.value].s3("s3:GetObject", captured) == ALLOW
    for role in personas.values():
        assert role.s3("s3:PutObject", captured) == DENY
        assert role.s3("s3:DeleteObject", captured) == DENY


def test_prefixes_are_configurable(stack):
    key = PlatformKey(stack, "Key")
    data = SecureBucket(stack, "Data", encryption_key=key)
    role = StudioUserRole(stack, "Studio", encryption_key=key, data_buckets=[data],
                          serving_prefixes=["serving/", "mme/"], capture_prefixes=[])
    template = template_of(stack)
    refs = default_refs(template)
    policies = role_policies(template, stack.get_logical_id(role.node.default_child), refs)
    bucket = refs[f"{stack.get_logical_id(data.node.default_child)}.Arn"]
    assert evaluate(policies, "s3:PutObject", f"{bucket}/mme/a").effect == DENY
    assert evaluate(policies, "s3:PutObject", f"{bucket}/serving/a").effect == DENY
    assert evaluate(policies, "s3:PutObject", f"{bucket}/models/a").effect == ALLOW
    assert evaluate(policies, "s3:GetObject", f"{bucket}/data-capture/a").effect == ALLOW


# --- validation -----------------------------------------------------------------------------------
@pytest.mark.parametrize("argument", ["serving_prefixes", "capture_prefixes"])
@pytest.mark.parametrize("prefix", ["models", "/models/", "models/*/", "a?/"])
def test_bad_prefixes_rejected(stack, argument, prefix):
    with pytest.raises(ValidationError, match=argument):
        StudioUserRole(stack, "Studio", encryption_key=PlatformKey(stack, "Key"), **{argument: [prefix]})


def test_bad_persona_rejected_and_values_accepted(stack):
    key = PlatformKey(stack, "Key")
    with pytest.raises(ValidationError, match="persona"):
        StudioUserRole(stack, "Bad", encryption_key=key, persona="superuser")
    with pytest.raises(ValidationError, match=r"persona=.superuser.; allowed: Persona.DATA_SCIENTIST"):
        StudioUserRole(stack, "Bad2", encryption_key=key, persona="superuser")
    assert StudioUserRole(stack, "ByValue", encryption_key=key, persona="ml-engineer").persona is Persona.ML_ENGINEER


def test_bad_user_profile_name_rejected(stack):
    with pytest.raises(ValidationError, match="user_profile_name"):
        StudioUserRole(stack, "Studio", encryption_key=PlatformKey(stack, "Key"), user_profile_name="alice smith")


# --- the platform tag -------------------------------------------------------------------------------
def test_tag_platform_resource_tags_only_sagemaker_inference_resources(stack):
    from aws_cdk import aws_sagemaker as sagemaker

    sagemaker.CfnModel(stack, "Model", execution_role_arn="arn:aws:iam::1:role/r")
    sagemaker.CfnEndpointConfig(stack, "Config", production_variants=[])
    s3.CfnBucket(stack, "Bucket")
    tag_platform_resource(stack)
    resources = template_of(stack)["Resources"]
    expected = [{"Key": PLATFORM_RESOURCE_TAG_KEY, "Value": PLATFORM_RESOURCE_TAG_VALUE}]
    assert resources["Model"]["Properties"]["Tags"] == expected
    assert resources["Config"]["Properties"]["Tags"] == expected
    assert "Tags" not in resources["Bucket"].get("Properties", {})


# --- the reference platform stack ---------------------------------------------------------------
@pytest.fixture(scope="module")
def platform():
    from stacks import PlatformStack

    stack = PlatformStack(new_app(), "Platform")
    template = template_of(stack)
    refs = default_refs(template)
    bucket = refs[f"{stack.get_logical_id(stack.data_bucket.node.default_child)}.Arn"]
    domain = refs[f"{stack.get_logical_id(stack.studio.cfn_domain)}.DomainId"]
    roles = {}
    for name, user in stack.studio.user_profiles.items():
        role = user.execution_role
        roles[name] = Role(role_policies(template, stack.get_logical_id(role.node.default_child), refs), bucket)
    return roles, domain


def test_reference_users_are_isolated_and_keep_away_from_production(platform):
    roles, domain = platform
    scientist, engineer = roles["data-scientist"], roles["ml-engineer"]
    owner = {"sagemaker:OwnerUserProfileArn": sm(f"user-profile/{domain}/ml-engineer"),
             "sagemaker:SpaceSharingType": "Private"}
    target = sm(f"space/{domain}/engineer-space")
    assert scientist.decide("sagemaker:DeleteSpace", target, **as_user("data-scientist"), **owner) == IMPLICIT_DENY
    assert engineer.decide("sagemaker:DeleteSpace", target, **as_user("ml-engineer"), **owner) == ALLOW
    for role in (scientist, engineer):
        assert role.decide("sagemaker:DeleteModel", sm("model/iris"), **PLATFORM_TAGGED) == DENY
        assert role.decide("sagemaker:DeleteEndpoint", sm("endpoint/iris"), **STACK_TAGGED) == DENY
        assert role.s3("s3:GetObject", "data-capture/iris/x.jsonl") == DENY
    assert scientist.s3("s3:PutObject", "models/iris.tar.gz") == DENY
    assert engineer.s3("s3:PutObject", "models/iris.tar.gz") == ALLOW
    assert engineer.decide("sagemaker:UpdateModelPackage", sm("model-package/iris/3")) == ALLOW
    assert scientist.decide("sagemaker:UpdateModelPackage", sm("model-package/iris/3")) == IMPLICIT_DENY


def test_reference_roles_fit_iam_size_limit_with_the_domain_id_known_only_at_deploy():
    from stacks import PlatformStack

    stack = PlatformStack(new_app(), "Platform")
    for user in stack.studio.user_profiles.values():
        for policy in user.execution_role.managed_policies:
            assert estimated_policy_size(stack.resolve(policy.document)) <= MANAGED_POLICY_SIZE_LIMIT

