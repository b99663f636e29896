"""PlatformKey: secure defaults and validation."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms

from sagemaker_constructs import PlatformKey, ValidationError
from tests.harness.templates import only, resources, template_of


def _statements(template: dict) -> list[dict]:
    return only(template, "AWS::KMS::Key")["KeyPolicy"]["Statement"]


def test_is_a_kms_ikey_with_rotation_and_retain(stack):
    key = PlatformKey(stack, "Key")
    assert isinstance(key, kms.Key)  # so it satisfies kms.IKey wherever one is expected
    t = template_of(stack)
    props = only(t, "AWS::KMS::Key")
    assert props["EnableKeyRotation"] is True
    assert props["PendingWindowInDays"] == 30
    (res,) = resources(t, "AWS::KMS::Key").values()
    assert res["DeletionPolicy"] == "Retain"
    assert res["UpdateReplacePolicy"] == "Retain"


def test_no_wildcard_principals(stack):
    PlatformKey(stack, "Key")
    for st in _statements(template_of(stack)):
        if st["Effect"] == "Deny":
            continue  # a Deny for everyone narrows; see test_grants_only_for_aws_resources
        principal = st["Principal"]
        assert principal != "*"
        assert "*" not in json.dumps(principal.get("AWS", "")).replace("arn:", "")


def test_services_are_limited_to_this_account(stack):
    PlatformKey(stack, "Key")
    by_sid = {s.get("Sid"): s for s in _statements(template_of(stack))}
    sm = by_sid["AllowSageMakerForThisAccount"]
    assert sm["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert sm["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    logs = by_sid["AllowCloudWatchLogsForThisAccount"]
    assert "kms:EncryptionContext:aws:logs:arn" in logs["Condition"]["ArnLike"]
    trail = by_sid["AllowCloudTrailEncryptForThisAccount"]
    assert trail["Action"] == "kms:GenerateDataKey*"
    assert set(trail["Condition"]["StringLike"]) == {"kms:EncryptionContext:aws:cloudtrail:arn", "aws:SourceArn"}
    # Every service statement carries a condition.
    for st in by_sid.values():
        if "Service" in st["Principal"]:
            assert st.get("Condition"), st


def test_alarms_and_eventbridge_may_use_it_for_this_account_only(stack):
    PlatformKey(stack, "Key")
    by_sid = {s.get("Sid"): s for s in _statements(template_of(stack))}
    this_account = {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    for sid, service in (("AllowCloudWatchAlarmsForThisAccount", "cloudwatch.amazonaws.com"),
                         ("AllowEventBridgeForThisAccount", "events.amazonaws.com")):
        assert by_sid[sid]["Principal"] == {"Service": service}
        assert by_sid[sid]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
        assert by_sid[sid]["Condition"] == this_account


def test_service_statements_can_be_turned_off(stack):
    PlatformKey(stack, "Key", allow_sagemaker=False, allow_cloudwatch_logs=False, allow_cloudtrail=False,
                allow_cloudwatch_alarms=False, allow_eventbridge=False)
    sids = {s.get("Sid") for s in _statements(template_of(stack))}
    assert not {"AllowSageMakerForThisAccount", "AllowCloudWatchLogsForThisAccount", "AllowCloudWatchAlarmsForThisAccount",
                "AllowEventBridgeForThisAccount", "AllowCloudTrailEncryptForThisAccount"} & sids


def test_alias_gets_prefix(stack):
    PlatformKey(stack, "Key", alias="team/ml")
    assert only(template_of(stack), "AWS::KMS::Alias")["AliasName"] == "alias/team/ml"


def test_removal_policy_is_an_explicit_choice(stack):
    PlatformKey(stack, "Key", removal_policy=RemovalPolicy.DESTROY, pending_window=Duration.days(7))
    (res,) = resources(template_of(stack), "AWS::KMS::Key").values()
    assert res["DeletionPolicy"] == "Delete"


@pytest.mark.parametrize(
    "alias",
    ["alias/aws/sagemaker", "aws/sagemaker", "alias/", "alias/has space", "alias/bad*char", "alias/" + "a" * 251],
)
def test_rejects_aliases_kms_would_reject(stack, alias):
    with pytest.raises(ValidationError, match="alias"):
        PlatformKey(stack, "Key", alias=alias)


def test_error_names_path_argument_and_value(stack):
    with pytest.raises(ValidationError) as err:
        PlatformKey(stack, "Key", alias="alias/aws/x")
    assert err.value.construct_path == "Test"
    assert err.value.argument == "alias"
    assert "alias/aws/x" in str(err.value)
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize("days", [6, 31])
def test_rejects_pending_window_outside_7_to_30_days(stack, days):
    with pytest.raises(ValidationError, match="pending_window"):
        PlatformKey(stack, "Key", pending_window=Duration.days(days))


@pytest.mark.parametrize("days", [89, 2561])
def test_rejects_rotation_period_outside_kms_range(stack, days):
    with pytest.raises(ValidationError, match="rotation_period"):
        PlatformKey(stack, "Key", rotation_period=Duration.days(days))


@pytest.mark.parametrize("argument, prop", [("pending_window", "PendingWindowInDays"),
                                             ("rotation_period", "RotationPeriodInDays")])
def test_windows_from_a_parameter_are_refs(stack, argument, prop):
    """kms.Key checked both ranges on a CfnParameter's number encoding (-1.9e289) and synth failed with
    its raw error ('value must between 7 and 30 days'); the parameter is now the property's Ref."""
    days = cdk.CfnParameter(stack, "Days", type="Number").value_as_number
    PlatformKey(stack, "Key", **{argument: Duration.days(days)})
    props = only(template_of(stack), "AWS::KMS::Key")
    assert props[prop] == {"Ref": "Days"}
    assert props["EnableKeyRotation"] is True


@pytest.mark.parametrize("argument", ["pending_window", "rotation_period"])
def test_windows_from_a_parameter_in_another_unit_are_refused(stack, argument):
    hours = cdk.CfnParameter(stack, "Hours", type="Number").value_as_number
    with pytest.raises(ValidationError, match=rf"{argument}.*Duration.days\(<parameter>\)"):
        PlatformKey(stack, "Key", **{argument: Duration.hours(hours)})


def _deny_grants(template: dict) -> list[dict]:
    return [s for s in _statements(template) if s["Effect"] == "Deny" and s["Action"] == "kms:CreateGrant"]


def test_grants_only_for_aws_resources(stack):
    """CT.KMS.PR.3: CreateGrant is denied unless for an AWS resource or from an AWS service."""
    PlatformKey(stack, "Key")
    (deny,) = _deny_grants(template_of(stack))
    assert deny["Sid"] == "DenyGrantsNotForAwsResources"
    assert deny["Principal"] == {"AWS": "*"} and deny["Resource"] == "*"
    assert deny["Condition"] == {
        "BoolIfExists": {"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}
    }


def test_grant_restriction_can_be_turned_off(stack):
    PlatformKey(stack, "Key", grants_only_for_aws_resources=False)
    assert _deny_grants(template_of(stack)) == []


def _eventbridge_statements(template: dict) -> list[dict]:
    return [s for s in _statements(template) if s.get("Principal") == {"Service": "events.amazonaws.com"}]


def _queue_target(stack, key) -> None:
    from aws_cdk import aws_events as events
    from aws_cdk import aws_events_targets as targets
    from aws_cdk import aws_sqs as sqs

    queue = sqs.Queue(stack, "Queue", encryption=sqs.QueueEncryption.KMS, encryption_master_key=key)
    events.Rule(stack, "Rule", event_pattern=events.EventPattern(source=["aws.sagemaker"]),
                targets=[targets.SqsQueue(queue)])


def test_an_encrypted_queue_target_adds_no_second_eventbridge_statement(stack):
    """CDK's SqsQueue target grants EventBridge encrypt/decrypt on the queue's key; ours covers it."""
    key = PlatformKey(stack, "Key")
    _queue_target(stack, key)
    (statement,) = _eventbridge_statements(template_of(stack))
    assert statement["Sid"] == "AllowEventBridgeForThisAccount"
    assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]


def test_without_our_eventbridge_statement_cdk_grant_is_kept(stack):
    key = PlatformKey(stack, "Key", allow_eventbridge=False)
    _queue_target(stack, key)
    (statement,) = _eventbridge_statements(template_of(stack))
    assert "Sid" not in statement and "kms:Encrypt" in statement["Action"]


def test_other_eventbridge_grants_are_kept(stack):
    from aws_cdk import aws_iam as iam

    key = PlatformKey(stack, "Key")
    key.add_to_resource_policy(iam.PolicyStatement(
        principals=[iam.ServicePrincipal("events.amazonaws.com")], actions=["kms:Decrypt"], resources=["*"],
        conditions={"StringEquals": {"aws:SourceAccount": "111122223333"}},
    ))
    assert len(_eventbridge_statements(template_of(stack))) == 2


def _alias_keys(stack):
    from aws_cdk import CfnParameter

    name = CfnParameter(stack, "AliasName", default="team-a").value_as_string
    return {
        "Alias.from_alias_name": kms.Alias.from_alias_name(stack, "ImportedAlias", "alias/team-a"),
        "Alias.from_alias_name(parameter)": kms.Alias.from_alias_name(stack, "ParamAlias", f"alias/{name}"),
        "Key.from_key_arn(alias ARN)": kms.Key.from_key_arn(
            stack, "AliasArn", "arn:aws:kms:us-east-1:111122223333:alias/team-a"),
        "PlatformKey.add_alias": PlatformKey(stack, "Aliased").add_alias("alias/platform"),
    }


@pytest.mark.parametrize("kind", ["Alias.from_alias_name", "Alias.from_alias_name(parameter)",
                                  "Key.from_key_arn(alias ARN)", "PlatformKey.add_alias"])
@pytest.mark.parametrize("construct", ["JobExecutionRole", "StudioUserRole", "ModelHostingRole", "SecureBucket",
                                       "AuditTrail", "IsolatedNetwork"])
def test_an_alias_is_refused_where_a_key_is_granted(stack, kind, construct):
    """An alias's key_arn is the alias ARN: the roles' kms grants on it give no use of the key and
    their VolumeKmsKey/OutputKmsKey guardrails (ArnNotEquals the alias ARN) deny every job naming
    the key; bucket grants and the log groups (CloudWatch Logs wants the key ARN) fail the same way."""
    import sagemaker_constructs as sc

    key = _alias_keys(stack)[kind]
    with pytest.raises(ValidationError, match=r"encryption_key.*not an alias"):
        getattr(sc, construct)(stack, "Uses", encryption_key=key)


def _uses_bucket(construct, stack, key, bucket):
    import sagemaker_constructs as sc

    if construct == "StudioDomain(canvas=...)":
        return sc.StudioDomain(stack, "Uses", vpc=_imported_vpc(stack), encryption_key=key, s3_prefix_list_id="pl-63a5400a",
                               canvas=sc.CanvasSettings(workspace_bucket=bucket))
    argument = {"JobExecutionRole": "output_bucket", "StudioUserRole": "data_buckets",
                "ModelHostingRole": "data_capture_bucket", "StudioDomain": "data_buckets"}[construct]
    extra = {"vpc": _imported_vpc(stack), "s3_prefix_list_id": "pl-63a5400a"} if construct == "StudioDomain" else {}
    return getattr(sc, construct)(stack, "Uses", encryption_key=key,
                                  **{argument: [bucket] if argument.endswith("s") else bucket}, **extra)


def _imported_vpc(stack):
    from aws_cdk import aws_ec2 as ec2

    return ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789abcdef0", vpc_cidr_block="10.1.0.0/16",
                                       availability_zones=["us-east-1a"], isolated_subnet_ids=["subnet-0a"])


@pytest.mark.parametrize("kind", ["Alias.from_alias_name", "Key.from_key_arn(alias ARN)"])
@pytest.mark.parametrize("construct", ["JobExecutionRole", "StudioUserRole", "ModelHostingRole", "StudioDomain",
                                       "StudioDomain(canvas=...)"])
def test_a_bucket_imported_with_an_alias_key_is_refused(stack, kind, construct):
    """A data bucket imported with its key as an alias (from_bucket_attributes(encryption_key=alias)):
    the kms grant named the alias ARN, which gives no use of the key, so every read and write of the
    bucket's SSE-KMS objects was denied at run time."""
    from aws_cdk import aws_s3 as s3

    bucket = s3.Bucket.from_bucket_attributes(stack, "Data", bucket_name="team-data",
                                              encryption_key=_alias_keys(stack)[kind])
    with pytest.raises(ValidationError, match=r"\(Test/Data encryption_key\).*not an alias"):
        _uses_bucket(construct, stack, PlatformKey(stack, "Key"), bucket)


def test_a_bucket_imported_with_its_key_arn_is_accepted(stack):
    from aws_cdk import aws_s3 as s3

    key = kms.Key.from_key_arn(stack, "DataKey", "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    bucket = s3.Bucket.from_bucket_attributes(stack, "Data", bucket_name="team-data", encryption_key=key)
    _uses_bucket("JobExecutionRole", stack, PlatformKey(stack, "Key"), bucket)
    template_of(stack)


def test_an_imported_key_by_its_arn_is_accepted(stack):
    from sagemaker_constructs import JobExecutionRole, SecureBucket

    key = kms.Key.from_key_arn(stack, "Imported", "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    JobExecutionRole(stack, "Role", encryption_key=key)
    SecureBucket(stack, "Bucket", encryption_key=key)
    template_of(stack)
