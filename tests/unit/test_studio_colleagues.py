"""A Studio user's execution role never reaches a colleague's apps, spaces or identity.

Used the way another team would: a StudioDomain in their own stack with an imported VPC, key and
role; the synthesized policies are evaluated with tests/harness/iam_eval.py.
"""

from __future__ import annotations

import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms

from sagemaker_constructs import StudioDomain, StudioUserRole, ValidationError
from tests.conftest import new_stack
from tests.harness.iam_eval import ALLOW, DENY, default_refs, evaluate, role_policies
from tests.harness.templates import template_of

REGION, ACCOUNT = "eu-west-1", "111122223333"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def imported(stack):
    vpc = ec2.Vpc.from_vpc_attributes(
        stack, "Vpc", vpc_id="vpc-0abc", availability_zones=["eu-west-1a", "eu-west-1b"],
        private_subnet_ids=["subnet-0a", "subnet-0b"], vpc_cidr_block="10.0.0.0/16")
    key = kms.Key.from_key_arn(stack, "Key", KEY_ARN)
    return vpc, key


def domain_of(stack, **kwargs):
    vpc, key = imported(stack)
    return StudioDomain(stack, "Studio", vpc=vpc, encryption_key=key, s3_prefix_list_id="pl-63a5400a", **kwargs), key


def test_non_members_cannot_delete_the_apps_of_a_shared_space():
    """The domain keeps apps of a shared space for its members: a non-member was denied CreateApp
    there, but the role's AppsInSharedSpaces still let them DeleteApp (stop and delete) the
    members' running JupyterLab app."""
    stack = new_stack()
    domain, _ = domain_of(stack)
    alice, bob = domain.add_user_profile("alice"), domain.add_user_profile("bob")
    domain.add_user_profile("carol")
    domain.add_shared_space("Team", name="team", members=[alice, bob], owner=bob)
    template = template_of(stack)
    refs = default_refs(template)
    role = stack.get_logical_id(domain.execution_role.node.default_child)
    policies = role_policies(template, role, refs)
    domain_id = refs[f"{stack.get_logical_id(domain.cfn_domain)}.DomainId"]
    app = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:app/{domain_id}/team/JupyterLab/default"
    shared = {"sagemaker:OwnerUserProfileArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:user-profile/{domain_id}/bob",
              "sagemaker:SpaceSharingType": "Shared"}
    for action in ("sagemaker:CreateApp", "sagemaker:DeleteApp"):
        assert evaluate(policies, action, app, {"aws:SourceIdentity": "alice", **shared}).effect == ALLOW, action
        assert evaluate(policies, action, app, {"aws:SourceIdentity": "carol", **shared}).effect == DENY, action
        assert evaluate(policies, action, app, shared).effect == DENY, action  # no source identity: fail closed


def test_a_role_of_one_user_is_refused_for_another_users_profile():
    """StudioUserRole(user_profile_name='bob') grants bob's spaces and apps by name, whoever's session
    it is: given to alice's profile (or as the default role of profiles without one), alice would
    update and delete bob's private spaces and stop his apps."""
    stack = new_stack()
    domain, key = domain_of(stack)
    bobs = StudioUserRole(stack, "BobRole", encryption_key=key, user_profile_name="bob")
    with pytest.raises(ValidationError, match=r"execution_role='bob'.*'alice'"):
        domain.add_user_profile("alice", execution_role=bobs)
    assert "alice" not in domain.user_profiles
    domain.add_user_profile("bob", execution_role=bobs)  # the role's own user

    other = new_stack("Other")
    shared_default, key = domain_of(other, default_execution_role=StudioUserRole(
        other, "BobDefault", encryption_key=kms.Key.from_key_arn(other, "K", KEY_ARN), user_profile_name="bob"))
    with pytest.raises(ValidationError, match=r"default_execution_role='bob'.*'carol'"):
        shared_default.add_user_profile("carol")


def test_a_shared_space_is_refused_when_its_apps_would_run_as_one_users_role():
    """Shared spaces' apps run as DefaultSpaceSettings.ExecutionRole, the domain's default role: when
    that is bob's own StudioUserRole, alice, a member, would update and delete bob's spaces and stop
    his apps from the shared space."""
    stack = new_stack()
    vpc, key = imported(stack)
    bobs = StudioUserRole(stack, "BobRole", encryption_key=key, user_profile_name="bob")
    domain = StudioDomain(stack, "Studio", vpc=vpc, encryption_key=key, s3_prefix_list_id="pl-63a5400a",
                          default_execution_role=bobs)
    bob = domain.add_user_profile("bob")
    alice = domain.add_user_profile("alice", execution_role=StudioUserRole(
        stack, "AliceRole", encryption_key=key, user_profile_name="alice"))
    with pytest.raises(ValidationError, match=r"default_execution_role='bob'.*\['alice'\]"):
        domain.add_shared_space("Team", name="team", members=[bob, alice])
    assert not domain.shared_spaces
    domain.add_shared_space("Solo", name="solo", members=[bob])  # bob's own role, bob alone
