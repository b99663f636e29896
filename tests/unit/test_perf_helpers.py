"""The Python-side caches that save Python-to-Node calls per endpoint (issue 11) give CDK's answers."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from sagemaker_constructs._internal.stacks import arn_parts, attribute, format_arn, note_scope, stack_of
from sagemaker_constructs.compliance import acknowledge, new_resource
from sagemaker_constructs.security.roles import PLATFORM_RESOURCE_TAG_KEY, PLATFORM_RESOURCE_TAG_VALUE, platform_tags
from tests.conftest import new_app


def test_stack_of_is_cdks_and_note_scope_passes_it_down():
    app = new_app()
    stack = cdk.Stack(app, "S")
    nested = cdk.NestedStack(stack, "N")
    outer = Construct(stack, "Outer")
    note_scope(outer, stack)
    inner = Construct(outer, "Inner")
    note_scope(inner, outer)
    in_nested = Construct(nested, "X")
    note_scope(in_nested, nested)
    unseen = Construct(Construct(nested, "Y"), "Z")
    assert stack_of(stack) is stack and stack_of(outer) is stack and stack_of(inner) is stack
    assert stack_of(in_nested) is nested and stack_of(unseen) is cdk.Stack.of(unseen)


def test_format_arn_is_stack_format_arn():
    for env in (None, cdk.Environment(account="123456789012", region="eu-west-1")):
        stack = cdk.Stack(new_app(), "S", env=env)
        ours = format_arn(stack, "sagemaker", "endpoint", "my-endpoint")
        theirs = stack.format_arn(service="sagemaker", resource="endpoint", resource_name="my-endpoint",
                                  arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME)
        assert stack.resolve(ours) == stack.resolve(theirs)
        colon = format_arn(stack, "logs", "log-group", "/aws/x*", sep=":")
        assert stack.resolve(colon) == stack.resolve(stack.format_arn(
            service="logs", resource="log-group", resource_name="/aws/x*", arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME))
        assert arn_parts(stack) is arn_parts(stack)  # read once per stack


def test_attribute_reads_once_and_returns_the_same_value():
    stack = cdk.Stack(new_app(), "S")
    role = iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    assert attribute(role, "role_arn") == role.role_arn
    assert attribute(role, "role_arn") is attribute(role, "role_arn")
    assert attribute(None, "__class__") is type(None)  # objects without __dict__: plain getattr


def test_new_resource_writes_the_same_checkov_metadata_without_reading_it_back():
    stack = cdk.Stack(new_app(), "S")
    fresh = sagemaker.CfnEndpointConfig(stack, "A", production_variants=[])
    plain = sagemaker.CfnEndpointConfig(stack, "B", production_variants=[])
    reason = "a reason that is long enough to be specific"
    with new_resource(fresh):
        acknowledge(fresh, reason=reason, checkov=["CKV_AWS_1"])
        acknowledge(fresh, reason=reason + " again", checkov=["CKV_AWS_1", "CKV_AWS_2"])
    acknowledge(fresh, reason=reason, checkov=["CKV_AWS_3"])  # outside: read back from the resource
    for c in (["CKV_AWS_1"], ["CKV_AWS_1", "CKV_AWS_2"], ["CKV_AWS_3"]):
        acknowledge(plain, reason=reason if c != ["CKV_AWS_1", "CKV_AWS_2"] else reason + " again", checkov=c)
    assert fresh.get_metadata("checkov") == plain.get_metadata("checkov")
    assert [s["id"] for s in fresh.get_metadata("checkov")["skip"]] == ["CKV_AWS_1", "CKV_AWS_2", "CKV_AWS_3"]


def test_platform_tags_render_like_the_tag_aspect():
    stack = cdk.Stack(new_app(), "S")
    sagemaker.CfnModel(stack, "A", execution_role_arn="arn", tags=platform_tags())
    aspect = sagemaker.CfnModel(stack, "B", execution_role_arn="arn")
    cdk.Tags.of(aspect).add(PLATFORM_RESOURCE_TAG_KEY, PLATFORM_RESOURCE_TAG_VALUE)
    cdk.Tags.of(stack).add("team", "ml")
    template = cdk.assertions.Template.from_stack(stack).to_json()["Resources"]
    assert template["A"]["Properties"]["Tags"] == template["B"]["Properties"]["Tags"]


def test_a_managed_policy_keeps_the_document_it_is_given():
    """What ``remember(policy, "document", document)`` relies on."""
    stack = cdk.Stack(new_app(), "S")
    document = iam.PolicyDocument.from_json({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
    policy = iam.ManagedPolicy(stack, "P", document=document)
    assert policy.document.__jsii_ref__.ref == document.__jsii_ref__.ref  # the same object in Node


def test_grant_read_writes_what_the_bucket_grant_writes():
    from sagemaker_constructs import ModelHostingRole, PlatformKey, SecureBucket
    from sagemaker_constructs._internal.grants import grant_read, s3_url_for_object

    stack = cdk.Stack(new_app(), "S")
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    ours = ModelHostingRole(stack, "Ours", encryption_key=key)
    cdks = ModelHostingRole(stack, "Cdks", encryption_key=key)
    grant_read(bucket, ours, "models/*")
    bucket.grant_read(cdks, "models/*")
    assert ours._written == cdks._written  # the same statement keys, so later grants dedupe alike
    document = lambda role: stack.resolve(role.policy.document)  # noqa: E731
    assert document(ours) == document(cdks)
    assert stack.resolve(s3_url_for_object(bucket, "m/model.tar.gz")) == stack.resolve(
        bucket.s3_url_for_object("m/model.tar.gz"))


def test_a_key_without_the_internal_trust_flag_takes_the_ordinary_grant():
    """The artifact grant's direct path reads aws-cdk-lib's internal trustAccountIdentities; where
    an aws-cdk-lib does not expose it, the ordinary grant_read is taken (no AttributeError)."""
    from sagemaker_constructs._internal.grants import _trusts_account_identities

    class NoFlag:
        pass

    assert _trusts_account_identities(NoFlag()) is False


def test_a_bucket_overriding_grant_on_key_takes_the_ordinary_grant(monkeypatch):
    """A SecureBucket subclass overriding grant_on_key: the template is the one the ordinary
    bucket.grant_read writes (the direct path is not taken)."""
    import aws_cdk as cdk
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_s3 as s3

    import sagemaker_constructs._internal.grants as grants
    from sagemaker_constructs import ContainerImage, Model, ModelData, PlatformKey, SecureBucket
    from tests.conftest import new_app
    from tests.harness.templates import template_of

    if not hasattr(s3.Bucket, "grant_on_key"):
        return  # an aws-cdk-lib without the hook: nothing to override

    class NoKeyGrant(SecureBucket):
        def grant_on_key(self, grantee, *actions):  # noqa: ANN001
            return iam.GrantOnKeyResult()

    def build():
        stack = cdk.Stack(new_app(), "S")
        key = PlatformKey(stack, "Key")
        bucket = NoKeyGrant(stack, "Data", encryption_key=key)
        Model(stack, "M", image=ContainerImage.from_uri("683313688378.dkr.ecr.us-east-1.amazonaws.com/x:1"),
              model_data=ModelData.from_bucket(bucket, "m/model.tar.gz"), encryption_key=key)
        return template_of(stack)

    candidate = build()
    monkeypatch.setattr(grants, "_trusts_account_identities", lambda key: False)  # forces the ordinary grant
    assert candidate == build()


def test_add_statements_returns_each_policy_once():
    """Two statements on an imported role land in one policy: it is returned once, although jsii
    hands it back as a new Python object per statement."""
    import aws_cdk as cdk
    from aws_cdk import aws_iam as iam

    from sagemaker_constructs._internal.grants import add_statements
    from tests.conftest import new_app

    stack = cdk.Stack(new_app(), "S")
    role = iam.Role.from_role_arn(stack, "R", "arn:aws:iam::111111111111:role/x", mutable=True)
    policies = add_statements(stack, role, [iam.PolicyStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::b/*"]),
                                            iam.PolicyStatement(actions=["kms:Decrypt"], resources=["*"])])
    assert len(policies) == 1 and policies[0].node.path.startswith("S/R/Policy")


def test_a_held_role_writes_its_grants_into_the_one_policy_document_like_the_bucket_grant():
    """held_policy(): the artifact grant joins the document the policy is created with (no
    PolicyStatement objects, no add_statements calls); the resolved policy is the one the
    ordinary bucket.grant_read writes after the constructor, and later grants dedupe alike."""
    import jsii

    from sagemaker_constructs import ModelHostingRole, PlatformKey, SecureBucket
    from sagemaker_constructs._internal.grants import grant_read
    from sagemaker_constructs.security.roles import flush_policy, held_policy

    stack = cdk.Stack(new_app(), "S")
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    cdks = ModelHostingRole(stack, "Cdks", encryption_key=key)
    bucket.grant_read(cdks, "models/*")
    with held_policy():
        held = ModelHostingRole(stack, "Held", encryption_key=key)
    assert "_policy" not in vars(held)  # not written by the constructor
    created = []
    original = jsii.create
    try:
        jsii.create = lambda *a, **k: (created.append(a[0]), original(*a, **k))[1]
        grant_read(bucket, held, "models/*")
    finally:
        jsii.create = original
    assert iam.PolicyStatement not in created
    assert "_policy" not in vars(held)
    flush_policy(held)
    assert held._written == cdks._written
    assert stack.resolve(held.policy.document) == stack.resolve(cdks.policy.document)
    bucket.grant_read(held, "models/*")  # the same grant again: not written twice
    assert stack.resolve(held.policy.document) == stack.resolve(cdks.policy.document)


def test_a_models_role_policy_is_written_before_the_model_is():
    """The Model holds its role's policy while it grants its artifacts, then writes it: the model
    depends on it, and it holds the artifact statements."""
    from sagemaker_constructs import ContainerImage, Model, ModelData, PlatformKey, SecureBucket
    from tests.harness.templates import template_of

    stack = cdk.Stack(new_app(), "S")
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    Model(stack, "M", image=ContainerImage.from_uri("683313688378.dkr.ecr.us-east-1.amazonaws.com/x:1"),
          model_data=ModelData.from_bucket(bucket, "m/model.tar.gz"), encryption_key=key)
    resources = template_of(stack)["Resources"]
    (policy_id,) = [k for k, v in resources.items() if v["Type"] == "AWS::IAM::ManagedPolicy"]
    (model,) = [v for v in resources.values() if v["Type"] == "AWS::SageMaker::Model"]
    assert policy_id in model["DependsOn"]
    actions = [a for s in resources[policy_id]["Properties"]["PolicyDocument"]["Statement"]
               for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
    assert "s3:GetObject*" in actions and "kms:Decrypt" in actions


def test_unique_resource_name_is_cdks():
    """The Python port of Names.unique_resource_name gives CDK's string for every path shape it
    handles (top-level and staged stacks, Default/Resource ids, repeated and long ids, special
    characters), and asks CDK for the rest (a nested stack, a construct it did not see made)."""
    from aws_cdk import Names

    from sagemaker_constructs._internal.stacks import unique_resource_name

    app = new_app()
    stage = cdk.Stage(app, "Dev-Stage")
    stacks = [cdk.Stack(app, "S"), cdk.Stack(app, "Other", stack_name="my-Stack-Name2"), cdk.Stack(stage, "Serving")]
    nested = cdk.NestedStack(stacks[0], "Nested")
    ids = [["Endpoint"], ["Default", "Endpoint"], ["Resource"], ["Team", "Resource", "Endpoint"],
           ["Endpoint", "Endpoint"], ["Foo", "BarFoo", "Foo"], ["a-b_c.d", "E/x".replace("/", "")],
           ["X" * 70, "Y" * 70], ["Long" * 20], ["Default"]]
    checked = 0
    for stack in [*stacks, nested]:
        for chain in ids:
            scope = stack
            for i, part in enumerate(chain):
                child = Construct(scope, part) if scope.node.try_find_child(part) is None else scope.node.find_child(part)
                note_scope(child, scope, part)
                scope = child
            for max_length in (63, 64, 80, 256, 20):
                for separator in ("-", ""):
                    ours = unique_resource_name(scope, max_length=max_length, separator=separator)
                    assert ours == Names.unique_resource_name(scope, max_length=max_length, separator=separator), (
                        scope.node.path, max_length, separator)
                    checked += 1
    from sagemaker_constructs._internal.stacks import _name_path

    assert _name_path(stacks[0].node.find_child("Endpoint")) == ("S", "Endpoint")  # worked out in Python
    assert _name_path(stacks[2].node.find_child("Endpoint")) == ("Dev-Stage-Serving", "Endpoint")
    assert _name_path(nested.node.find_child("Endpoint")) is None  # asked of CDK
    plain = Construct(stacks[0], "NotNoted")
    assert unique_resource_name(plain, max_length=63) == Names.unique_resource_name(plain, max_length=63)
    assert checked == 4 * len(ids) * 10


def test_json_length_is_the_length_json_writes():
    """The policy-size estimate's fast string length equals len(json.dumps(text)) for plain ASCII,
    quotes, backslashes, control characters and non-ASCII text."""
    import json
    import random
    import string

    from sagemaker_constructs.security.roles import _json_length

    rng = random.Random(11)
    alphabet = string.printable + 'é"\\\x00\x7f\u2028'
    samples = ["", "arn:aws:s3:::bucket/models/*", 'a"b', "a\\b", "\t", "\x7f", "é", "${Token[TOKEN.12]}"]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24))) for _ in range(3000)]
    assert [_json_length(t) for t in samples] == [len(json.dumps(t)) for t in samples]


def test_acknowledging_present_and_later_findings_at_synth_computes_nothing_now():
    """include_present=True: the findings there are now are not computed now (no resolve, no
    find_all), unlike the default, which snapshots them to leave them out."""
    import jsii

    from sagemaker_constructs.compliance import acknowledge_iam_findings_at_synth

    stack = cdk.Stack(new_app(), "S")
    role = iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))
    acknowledge_iam_findings_at_synth(stack, reason="a reason long enough to be specific", include_present=True)  # the ledger

    def calls(**kwargs):
        made = []
        originals = {n: getattr(jsii, n) for n in ("create", "invoke", "sinvoke", "get", "sget")}
        try:
            for name, original in originals.items():
                setattr(jsii, name, lambda *a, __o=original, **k: (made.append(a[1] if len(a) > 1 else a[0]), __o(*a, **k))[1])
            acknowledge_iam_findings_at_synth(role, reason="a reason long enough to be specific", **kwargs)
        finally:
            for name, original in originals.items():
                setattr(jsii, name, original)
        return made

    assert len(calls(include_present=True)) <= 1  # at most Stack.of, once per construct
    assert len(calls()) > 3  # the snapshot of the findings present now
