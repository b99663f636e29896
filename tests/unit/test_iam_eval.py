"""The policy evaluator of tests/harness/iam_eval.py: each rule it implements, allowing and denying."""

from __future__ import annotations

import pytest

from tests.harness.iam_eval import (
    ALLOW,
    DENY,
    IMPLICIT_DENY,
    arn_match,
    condition_holds,
    evaluate,
    resolve,
    role_policies,
)

BUCKET_OBJECTS = "arn:aws:s3:::data/*"


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource, condition=None, sid=None):
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    if sid:
        statement["Sid"] = sid
    return statement


def deny(action, resource, condition=None, sid=None):
    return {**allow(action, resource, condition, sid), "Effect": "Deny"}


def effect(policies, action, resource, context=None):
    return evaluate(policies, action, resource, context).effect


# --- decisions ------------------------------------------------------------------------------------
def test_no_statement_is_an_implicit_deny():
    assert effect([doc()], "s3:GetObject", "arn:aws:s3:::data/a") == IMPLICIT_DENY
    assert effect([doc(allow("s3:PutObject", BUCKET_OBJECTS))], "s3:GetObject", "arn:aws:s3:::data/a") == IMPLICIT_DENY


def test_allow_matches_and_explicit_deny_wins_across_policies():
    allowing = doc(allow("s3:GetObject", BUCKET_OBJECTS, sid="Read"))
    denying = doc(deny("s3:GetObject", "arn:aws:s3:::data/secret/*", sid="NoSecrets"))
    decision = evaluate([allowing, denying], "s3:GetObject", "arn:aws:s3:::data/secret/x")
    assert decision.effect == DENY and decision.denied_by == ["NoSecrets"] and decision.allowed_by == ["Read"]
    assert effect([allowing, denying], "s3:GetObject", "arn:aws:s3:::data/public/x") == ALLOW
    assert effect([denying], "s3:GetObject", "arn:aws:s3:::data/public/x") == IMPLICIT_DENY


def test_action_wildcards_are_case_insensitive_and_not_action_excludes():
    policies = [doc(allow("sagemaker:Describe*", "*"), allow("s3:Get?bject", "*"))]
    assert effect(policies, "sagemaker:describespace", "x") == ALLOW
    assert effect(policies, "sagemaker:DeleteSpace", "x") == IMPLICIT_DENY
    assert effect(policies, "s3:GetObject", "x") == ALLOW
    assert effect(policies, "s3:GetObjectAcl", "x") == IMPLICIT_DENY
    not_action = [doc({"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"})]
    assert effect(not_action, "s3:GetObject", "x") == ALLOW
    assert effect(not_action, "iam:PassRole", "x") == IMPLICIT_DENY


def test_resource_arns_match_component_by_component_and_case_sensitively():
    assert arn_match("*", "anything")
    assert arn_match("arn:aws:sagemaker:*:111122223333:space/d-1/*", "arn:aws:sagemaker:eu-west-1:111122223333:space/d-1/s")
    # '*' in the region component never spans into the account component.
    assert not arn_match("arn:aws:sagemaker:*:space/d-1/*", "arn:aws:sagemaker:eu-west-1:111122223333:space/d-1/s")
    assert not arn_match("arn:aws:sagemaker:*:111122223333:space/d-1/*", "arn:aws:sagemaker:eu-west-1:444455556666:space/d-1/s")
    # The resource component may hold colons and slashes, matched by '*'.
    assert arn_match("arn:aws:logs:r:1:log-group:/aws/sagemaker/*", "arn:aws:logs:r:1:log-group:/aws/sagemaker/x:log-stream:y")
    assert not arn_match("arn:aws:s3:::data/models/*", "arn:aws:s3:::data/Models/x")
    assert not arn_match("arn:aws:s3:::data/models/*", "arn:aws:s3:::data/models")
    assert arn_match("arn:aws:s3:::data/?odels/*", "arn:aws:s3:::data/models/x")


def test_not_resource():
    policies = [doc({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::data/private/*"})]
    assert effect(policies, "s3:GetObject", "arn:aws:s3:::data/x") == ALLOW
    assert effect(policies, "s3:GetObject", "arn:aws:s3:::data/private/x") == IMPLICIT_DENY


# --- conditions -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("operator", "policy", "value", "expected"), [
    ("StringEquals", ["a", "b"], "b", True),
    ("StringEquals", "a", "A", False),
    ("StringNotEquals", ["a", "b"], "c", True),
    ("StringNotEquals", ["a", "b"], "a", False),
    ("StringEqualsIgnoreCase", "Private", "private", True),
    ("StringNotEqualsIgnoreCase", "Private", "private", False),
    ("StringLike", "data-capture/*", "data-capture/iris/1", True),
    ("StringLike", "data-capture/*", "models/x", False),
    ("StringNotLike", ["ml.g5.*", "ml.p4d.*"], "ml.m5.large", True),
    ("StringNotLike", ["ml.g5.*", "ml.p4d.*"], "ml.g5.xlarge", False),
    ("ArnLike", "arn:aws:sagemaker:*:1:user-profile/d-1/*", "arn:aws:sagemaker:r:1:user-profile/d-1/alice", True),
    ("ArnLike", "arn:aws:sagemaker:*:1:user-profile/d-1/alice", "arn:aws:sagemaker:r:1:user-profile/d-1/bob", False),
    ("ArnEquals", "arn:aws:kms:r:1:key/k", "arn:aws:kms:r:1:key/k", True),
    ("ArnNotEquals", "arn:aws:kms:r:1:key/k", "arn:aws:kms:r:1:key/other", True),
    ("ArnNotLike", "arn:aws:kms:r:1:key/*", "arn:aws:kms:r:1:key/other", False),
    ("Bool", "true", True, True),
    ("Bool", "true", "false", False),
    ("BoolIfExists", "false", "false", True),
    ("BoolIfExists", "false", "true", False),
])
def test_operators_on_a_present_single_valued_key(operator, policy, value, expected):
    assert condition_holds(operator, "k", policy, {"k": value}) is expected


def test_missing_key_positive_false_negated_true_if_exists_true():
    assert condition_holds("StringEquals", "k", "a", {}) is False
    assert condition_holds("ArnLike", "k", "arn:*", {}) is False
    assert condition_holds("StringNotEquals", "k", "a", {}) is True
    assert condition_holds("ArnNotEquals", "k", "arn:aws:kms:r:1:key/k", {}) is True
    assert condition_holds("BoolIfExists", "k", "false", {}) is True
    assert condition_holds("StringEqualsIfExists", "k", "a", {}) is True
    assert condition_holds("Bool", "k", "false", {}) is False


def test_null():
    assert condition_holds("Null", "k", "true", {}) is True
    assert condition_holds("Null", "k", "true", {"k": "v"}) is False
    assert condition_holds("Null", "k", "false", {"k": "v"}) is True
    assert condition_holds("Null", "k", "false", {"k": []}) is False
    with pytest.raises(ValueError):
        condition_holds("Null", "k", "maybe", {})


def test_set_qualifiers():
    subnets = ["subnet-a", "subnet-b"]
    assert condition_holds("ForAnyValue:StringNotEquals", "k", subnets, {"k": ["subnet-a", "subnet-x"]}) is True
    assert condition_holds("ForAnyValue:StringNotEquals", "k", subnets, {"k": ["subnet-a"]}) is False
    assert condition_holds("ForAnyValue:StringNotEquals", "k", subnets, {}) is False
    assert condition_holds("ForAnyValue:StringEquals", "k", ["x"], {"k": ["a", "x"]}) is True
    assert condition_holds("ForAllValues:StringEquals", "k", subnets, {"k": ["subnet-a", "subnet-b"]}) is True
    assert condition_holds("ForAllValues:StringEquals", "k", subnets, {"k": ["subnet-a", "subnet-x"]}) is False
    assert condition_holds("ForAllValues:StringEquals", "k", subnets, {}) is True
    assert condition_holds("ForAnyValue:StringNotLike", "k", ["ml.g5.*"], {"k": ["ml.m5.large"]}) is True


def test_condition_blocks_and_keys_are_anded_and_keys_case_insensitive():
    statement = allow("sagemaker:CreateSpace", "*", {
        "ArnLike": {"sagemaker:OwnerUserProfileArn": "arn:aws:sagemaker:*:1:user-profile/d-1/alice"},
        "StringEquals": {"sagemaker:SpaceSharingType": ["Private", "Shared"]},
    })
    owner = "arn:aws:sagemaker:r:1:user-profile/d-1/alice"
    ok = {"sagemaker:ownerUserProfileArn": owner, "Sagemaker:SpaceSharingType": "Private"}
    assert effect([doc(statement)], "sagemaker:CreateSpace", "x", ok) == ALLOW
    assert effect([doc(statement)], "sagemaker:CreateSpace", "x", {**ok, "Sagemaker:SpaceSharingType": "Other"}) \
        == IMPLICIT_DENY
    assert effect([doc(statement)], "sagemaker:CreateSpace", "x", {"sagemaker:OwnerUserProfileArn": owner}) \
        == IMPLICIT_DENY


def test_policy_variables_resolve_from_the_context_and_unresolved_ones_never_apply():
    owner = "arn:aws:sagemaker:r:1:user-profile/d-1/${aws:SourceIdentity}"
    allowing = doc(allow("sagemaker:DeleteSpace", "*", {"ArnLike": {"sagemaker:OwnerUserProfileArn": owner}}),
                   allow("sagemaker:CreateApp", "arn:aws:sagemaker:r:1:app/d-1/${aws:SourceIdentity}/*"))
    alice_space = {"sagemaker:OwnerUserProfileArn": "arn:aws:sagemaker:r:1:user-profile/d-1/alice"}
    assert effect([allowing], "sagemaker:DeleteSpace", "s", {**alice_space, "aws:SourceIdentity": "alice"}) == ALLOW
    assert effect([allowing], "sagemaker:DeleteSpace", "s", {**alice_space, "aws:SourceIdentity": "bob"}) \
        == IMPLICIT_DENY
    assert effect([allowing], "sagemaker:DeleteSpace", "s", alice_space) == IMPLICIT_DENY
    app = "arn:aws:sagemaker:r:1:app/d-1/alice/JupyterServer/default"
    assert effect([allowing], "sagemaker:CreateApp", app, {"aws:SourceIdentity": "alice"}) == ALLOW
    assert effect([allowing], "sagemaker:CreateApp", app, {"aws:SourceIdentity": "bob"}) == IMPLICIT_DENY
    assert effect([allowing], "sagemaker:CreateApp", app) == IMPLICIT_DENY
    # An unresolvable variable in a Deny does not deny (the statement does not apply).
    denying = doc(deny("sagemaker:CreateApp", "arn:aws:sagemaker:r:1:app/d-1/${aws:SourceIdentity}/*"))
    assert effect([denying], "sagemaker:CreateApp", app) == IMPLICIT_DENY
    assert effect([denying], "sagemaker:CreateApp", app, {"aws:SourceIdentity": "alice"}) == DENY


def test_what_it_cannot_evaluate_raises_instead_of_allowing():
    with pytest.raises(ValueError, match="NumericLessThan"):
        evaluate([doc(allow("s3:GetObject", "*", {"NumericLessThan": {"k": "1"}}))], "s3:GetObject", "x", {"k": "0"})
    with pytest.raises(ValueError, match="not supported"):
        evaluate([doc(allow("s3:GetObject", "*", {"DateGreaterThan": {"k": "1"}}))], "s3:GetObject", "x")
    with pytest.raises(ValueError, match="multi-valued"):
        condition_holds("StringEquals", "k", "a", {"k": ["a", "b"]})
    with pytest.raises(ValueError, match="Principal"):
        evaluate([doc({**allow("s3:GetObject", "*"), "Principal": "*"})], "s3:GetObject", "x")
    with pytest.raises(ValueError, match="Effect"):
        evaluate([doc({**allow("s3:GetObject", "*"), "Effect": "allow"})], "s3:GetObject", "x")


def test_resolve_and_role_policies():
    template = {"Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
        "Policy": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
            "Roles": [{"Ref": "Role"}],
            "PolicyDocument": doc(allow("s3:GetObject", {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/*"]]}),
                                  allow("sagemaker:DescribeDomain", {"Fn::Join": [":", [
                                      "arn", {"Ref": "AWS::Partition"}, "sagemaker", {"Ref": "AWS::Region"},
                                      {"Ref": "AWS::AccountId"}, "domain/d-1"]]})),
        }},
        "Other": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
            "Roles": [{"Ref": "SomeoneElse"}], "PolicyDocument": doc(allow("*", "*"))}},
    }}
    policies = role_policies(template, "Role", {"Bucket.Arn": "arn:aws:s3:::data"})
    assert len(policies) == 1
    assert effect(policies, "s3:GetObject", "arn:aws:s3:::data/x") == ALLOW
    assert effect(policies, "sagemaker:DescribeDomain", "arn:aws:sagemaker:eu-west-1:111122223333:domain/d-1") == ALLOW
    assert effect(policies, "iam:CreateUser", "*") == IMPLICIT_DENY
    assert resolve({"Fn::GetAtt": ["Unknown", "Arn"]}) == "<Unknown.Arn>"
    template["Resources"]["Role"]["Properties"]["ManagedPolicyArns"] = ["arn:aws:iam::aws:policy/AdministratorAccess"]
    with pytest.raises(ValueError, match="ManagedPolicyArns"):
        role_policies(template, "Role")
