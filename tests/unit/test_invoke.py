"""EndpointInvoker: function defaults, key, logs, dead-letter queue, least-privilege role, VPC mode,
grants, metrics, validation and cdk-nag."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from sagemaker_constructs import IsolatedNetwork, PlatformKey, ValidationError
from sagemaker_constructs.compliance import nag_flatten
from sagemaker_constructs._internal.functions import HANDLERS_DIR
from sagemaker_constructs.inference.invoker import EndpointInvoker
from tests.conftest import new_app, new_stack
from tests.harness.reference import synth_checked
from tests.harness.templates import only, resources, template_of, walk

ENDPOINT_ARN = "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:endpoint/churn-endpoint"


class FakeEndpoint:
    """The endpoint contract EndpointInvoker relies on (our endpoint constructs provide it)."""

    def __init__(self, stack: cdk.Stack, name: str = "churn-endpoint") -> None:
        self.endpoint_name = name
        self.endpoint_arn = stack.format_arn(service="sagemaker", resource="endpoint", resource_name=name)

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        return iam.Grant.add_to_principal(grantee=grantee, actions=["sagemaker:InvokeEndpoint"],
                                          resource_arns=[self.endpoint_arn])


def as_list(value):
    return value if isinstance(value, list) else [value]


def statements(t: dict) -> dict[str, dict]:
    """The invoker policy's statements by Sid (every statement has one)."""
    doc = only(t, "AWS::IAM::ManagedPolicy")["PolicyDocument"]
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert len(by_sid) == len(doc["Statement"])
    return by_sid


def flat(value) -> list[str]:
    return [nag_flatten(v) for v in as_list(value)]


def logical_id(t: dict, type_: str, prefix: str) -> str:
    (found,) = [k for k in resources(t, type_) if k.startswith(prefix)]
    return found


@pytest.fixture(scope="module")
def default():
    stack = new_stack()
    invoker = EndpointInvoker(stack, "Invoker", endpoint=FakeEndpoint(stack))
    return invoker, template_of(stack)


def _network(stack):
    key = PlatformKey(stack, "Key")
    return key, IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="minimal")


@pytest.fixture(scope="module")
def in_vpc():
    stack = new_stack()
    key, net = _network(stack)
    invoker = EndpointInvoker(stack, "Invoker", endpoint=FakeEndpoint(stack), vpc=net.vpc,
                              endpoint_security_group=net.endpoint_security_group, encryption_key=key)
    return invoker, template_of(stack)


def _function(t):
    return t["Resources"][logical_id(t, "AWS::Lambda::Function", "InvokerFunction")]["Properties"]


# --- function -------------------------------------------------------------------------------------
def test_function_defaults(default):
    _, t = default
    fn = _function(t)
    assert fn["Runtime"] == "python3.14"
    assert fn["Architectures"] == ["arm64"]
    assert fn["Handler"] == "invoke_endpoint.handler"
    assert fn["TracingConfig"] == {"Mode": "Active"}
    assert fn["ReservedConcurrentExecutions"] == 10
    assert fn["Timeout"] == 80  # above the SDK's worst case: 5 s connect + 70 s read, one attempt, + 5 s
    assert fn["MemorySize"] == 256
    assert fn["Environment"]["Variables"] == {
        "ENDPOINT_NAME": "churn-endpoint", "CONTENT_TYPE": "application/json", "ACCEPT": "application/json",
        "MAX_ATTEMPTS": "1", "CONNECT_TIMEOUT": "5", "READ_TIMEOUT": "70"}
    assert "VpcConfig" not in fn
    assert (HANDLERS_DIR / "invoke_endpoint.py").is_file()
    assert fn["Code"]["S3Key"].endswith(".zip")


def test_environment_encrypted_with_a_new_platform_key(default):
    invoker, t = default
    key_id = logical_id(t, "AWS::KMS::Key", "InvokerKey")
    assert invoker.encryption_key.node.path == "Test/Invoker/Key"
    assert _function(t)["KmsKeyArn"] == {"Fn::GetAtt": [key_id, "Arn"]}
    key = t["Resources"][key_id]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    key_policy = json.dumps(key["Properties"]["KeyPolicy"])
    assert "logs." in key_policy  # CloudWatch Logs may use it for the log group
    assert "sagemaker.amazonaws.com" not in key_policy and "cloudtrail.amazonaws.com" not in key_policy


def test_own_encrypted_log_group_kept_a_year_and_retained(default):
    _, t = default
    key_id = logical_id(t, "AWS::KMS::Key", "InvokerKey")
    logs_id = logical_id(t, "AWS::Logs::LogGroup", "InvokerLogs")
    group = t["Resources"][logs_id]
    assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert group["Properties"]["RetentionInDays"] == 365
    assert group["DeletionPolicy"] == "Retain"
    assert _function(t)["LoggingConfig"] == {"LogGroup": {"Ref": logs_id}}


def test_encrypted_dead_letter_queue_with_tls_and_retries(default):
    _, t = default
    key_id = logical_id(t, "AWS::KMS::Key", "InvokerKey")
    queue_id = logical_id(t, "AWS::SQS::Queue", "InvokerDeadLetterQueue")
    queue = t["Resources"][queue_id]
    assert queue["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert queue["DeletionPolicy"] == "Retain"
    assert _function(t)["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    (deny,) = only(t, "AWS::SQS::QueuePolicy")["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert only(t, "AWS::Lambda::EventInvokeConfig")["MaximumRetryAttempts"] == 2


def test_stateful_logical_ids_are_stable(default):
    _, t = default
    ids = set(t["Resources"])
    assert {"InvokerKey971BAA91", "InvokerLogs9857728A", "InvokerDeadLetterQueueDFC21ADE"} <= ids
    assert {"InvokerRoleB87900DB", "InvokerPolicyA1C544DB", "InvokerFunction4452B04B"} <= ids


# --- role and policy ------------------------------------------------------------------------------
def test_one_customer_managed_policy_no_inline_or_aws_managed(default):
    _, t = default
    role_id = logical_id(t, "AWS::IAM::Role", "InvokerRole")
    role = t["Resources"][role_id]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}]
    assert "ManagedPolicyArns" not in role and "Policies" not in role
    assert resources(t, "AWS::IAM::Policy") == {}
    policy_id = logical_id(t, "AWS::IAM::ManagedPolicy", "InvokerPolicy")
    assert t["Resources"][policy_id]["Properties"]["Roles"] == [{"Ref": role_id}]
    assert policy_id in t["Resources"][logical_id(t, "AWS::Lambda::Function", "InvokerFunction")]["DependsOn"]
    assert not any(isinstance(v, str) and ":iam::aws:policy/" in v for v in walk(t))


def test_exact_policy_statements(default):
    _, t = default
    s = statements(t)
    key_id = logical_id(t, "AWS::KMS::Key", "InvokerKey")
    assert set(s) == {"InvokeOneEndpoint", "WriteOwnLogs", "SendToDeadLetterQueue", "UseOwnKey", "XRayTraces"}
    assert s["InvokeOneEndpoint"]["Action"] == "sagemaker:InvokeEndpoint"
    assert flat(s["InvokeOneEndpoint"]["Resource"]) == [ENDPOINT_ARN]
    assert sorted(as_list(s["WriteOwnLogs"]["Action"])) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert s["WriteOwnLogs"]["Resource"] == {"Fn::GetAtt": [logical_id(t, "AWS::Logs::LogGroup", "InvokerLogs"), "Arn"]}
    assert s["SendToDeadLetterQueue"]["Action"] == "sqs:SendMessage"
    assert s["SendToDeadLetterQueue"]["Resource"] == {
        "Fn::GetAtt": [logical_id(t, "AWS::SQS::Queue", "InvokerDeadLetterQueue"), "Arn"]}
    assert sorted(as_list(s["UseOwnKey"]["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert s["UseOwnKey"]["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert sorted(as_list(s["XRayTraces"]["Action"])) == ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    assert s["XRayTraces"]["Resource"] == "*"
    assert all(st["Effect"] == "Allow" and "Condition" not in st for st in s.values())


def test_invoke_endpoint_is_the_only_sagemaker_permission(default, in_vpc):
    for _, t in (default, in_vpc):
        actions = [a for st in statements(t).values() for a in as_list(st["Action"])]
        assert [a for a in actions if a.startswith("sagemaker:")] == ["sagemaker:InvokeEndpoint"]
        assert not any("*" in a for a in actions)
        invoke = statements(t)["InvokeOneEndpoint"]
        assert flat(invoke["Resource"]) == [ENDPOINT_ARN]


def test_later_grants_land_in_the_managed_policy(stack):
    invoker = EndpointInvoker(stack, "Invoker", endpoint=FakeEndpoint(stack))
    s3.Bucket.from_bucket_name(stack, "Features", "feature-bucket").grant_read(invoker.function)
    invoker.role.add_to_policy(
        iam.PolicyStatement(actions=["sqs:SendMessage"], resources=["arn:aws:sqs:us-east-1:1:q"]))
    t = template_of(stack)
    assert resources(t, "AWS::IAM::Policy") == {}
    doc = json.dumps(only(t, "AWS::IAM::ManagedPolicy")["PolicyDocument"])
    assert "feature-bucket" in doc and "arn:aws:sqs:us-east-1:1:q" in doc


def test_endpoint_grant_invoke_duplicate_is_written_once(stack):
    endpoint = FakeEndpoint(stack)
    invoker = EndpointInvoker(stack, "Invoker", endpoint=endpoint)
    endpoint.grant_invoke(invoker.function)
    doc = only(template_of(stack), "AWS::IAM::ManagedPolicy")["PolicyDocument"]
    assert sum("sagemaker:InvokeEndpoint" in as_list(st["Action"]) for st in doc["Statement"]) == 1


# --- VPC mode -------------------------------------------------------------------------------------
def test_vpc_mode_subnets_and_security_group(in_vpc):
    invoker, t = in_vpc
    vpc_config = _function(t)["VpcConfig"]
    subnets = sorted(k for k in resources(t, "AWS::EC2::Subnet"))
    assert sorted(r["Ref"] for r in vpc_config["SubnetIds"]) == subnets
    sg_id = logical_id(t, "AWS::EC2::SecurityGroup", "InvokerSecurityGroup")
    assert vpc_config["SecurityGroupIds"] == [{"Fn::GetAtt": [sg_id, "GroupId"]}]
    assert invoker.security_group is not None
    sg = t["Resources"][sg_id]["Properties"]
    assert "SecurityGroupIngress" not in sg and "SecurityGroupEgress" not in sg
    own = {"Fn::GetAtt": [sg_id, "GroupId"]}
    ingress = [r["Properties"] for r in resources(t, "AWS::EC2::SecurityGroupIngress").values()]
    assert not any(r["GroupId"] == own for r in ingress)
    egress_rules = [r["Properties"] for r in resources(t, "AWS::EC2::SecurityGroupEgress").values()]
    (egress,) = [r for r in egress_rules if r["GroupId"] == own]
    endpoint_sg = logical_id(t, "AWS::EC2::SecurityGroup", "NetworkEndpointSecurityGroup")
    assert (egress["IpProtocol"], egress["FromPort"], egress["ToPort"]) == ("tcp", 443, 443)
    assert egress["DestinationSecurityGroupId"] == {"Fn::GetAtt": [endpoint_sg, "GroupId"]}
    # The VPC has the SageMaker Runtime interface endpoint the function calls through.
    assert any("sagemaker.runtime" in json.dumps(e["Properties"]["ServiceName"])
               for e in resources(t, "AWS::EC2::VPCEndpoint").values())


def test_vpc_mode_without_endpoint_security_group_allows_https_to_the_vpc_cidr_only(stack):
    key, net = _network(stack)
    EndpointInvoker(stack, "Invoker", endpoint=FakeEndpoint(stack), vpc=net.vpc, encryption_key=key)
    t = template_of(stack)
    sg_id = logical_id(t, "AWS::EC2::SecurityGroup", "InvokerSecurityGroup")
    assert t["Resources"][sg_id]["Properties"]["SecurityGroupEgress"] == [{
        "CidrIp": {"Fn::GetAtt": [logical_id(t, "AWS::EC2::VPC", "Network"), "CidrBlock"]},
        "Description": "HTTPS to the VPC interface endpoints", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}]
    own = {"Fn::GetAtt": [sg_id, "GroupId"]}
    assert not [r for r in resources(t, "AWS::EC2::SecurityGroupEgress").values() if r["Properties"]["GroupId"] == own]


def test_vpc_mode_network_interface_permissions_are_scoped(in_vpc):
    _, t = in_vpc
    s = statements(t)
    assert set(s) == {"InvokeOneEndpoint", "WriteOwnLogs", "SendToDeadLetterQueue", "UseOwnKey", "XRayTraces",
                      "DescribeNetworkInterfaces", "CreateNetworkInterfacesInOwnSubnets",
                      "ManageNetworkInterfacesInThisVpc"}
    describe = s["DescribeNetworkInterfaces"]
    assert sorted(as_list(describe["Action"])) == ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
    assert describe["Resource"] == "*"
    prefix = "arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:"
    vpc_arn = f"{prefix}vpc/<{logical_id(t, 'AWS::EC2::VPC', 'Network')}>"
    create = s["CreateNetworkInterfacesInOwnSubnets"]
    assert create["Action"] == "ec2:CreateNetworkInterface"
    sg_id = logical_id(t, "AWS::EC2::SecurityGroup", "InvokerSecurityGroup")
    assert sorted(flat(create["Resource"])) == sorted([
        f"{prefix}network-interface/*", f"{prefix}security-group/<{sg_id}.GroupId>",
        *(f"{prefix}subnet/<{k}>" for k in resources(t, "AWS::EC2::Subnet")),
    ])
    manage = s["ManageNetworkInterfacesInThisVpc"]
    assert sorted(as_list(manage["Action"])) == [
        "ec2:AssignPrivateIpAddresses", "ec2:DeleteNetworkInterface", "ec2:UnassignPrivateIpAddresses"]
    assert flat(manage["Resource"]) == [f"{prefix}network-interface/*"]
    for st in (create, manage):
        assert {k: flat(v["ec2:Vpc"]) for k, v in st["Condition"].items()} == {"ArnEqualsIfExists": [vpc_arn]}


def test_no_network_permissions_without_vpc(default):
    invoker, t = default
    assert invoker.security_group is None
    assert not [a for st in statements(t).values() for a in as_list(st["Action"]) if a.startswith("ec2:")]
    assert resources(t, "AWS::EC2::SecurityGroup") == {}


# --- grants and metrics ---------------------------------------------------------------------------
def test_grant_invoke_gives_lambda_invoke_function_on_this_function(stack):
    invoker = EndpointInvoker(stack, "Invoker", endpoint=FakeEndpoint(stack))
    caller = iam.Role(stack, "Caller", assumed_by=iam.ServicePrincipal("states.amazonaws.com"))
    grant = invoker.grant_invoke(caller)
    assert grant.success
    t = template_of(stack)
    fn_id = logical_id(t, "AWS::Lambda::Function", "InvokerFunction")
    (policy,) = [p["Properties"] for p in resources(t, "AWS::IAM::Policy").values()]
    (st,) = policy["PolicyDocument"]["Statement"]
    assert st["Action"] == "lambda:InvokeFunction"
    assert st["Resource"] == [{"Fn::GetAtt": [fn_id, "Arn"]},
                              {"Fn::Join": ["", [{"Fn::GetAtt": [fn_id, "Arn"]}, ":*"]]}]


def test_metrics_state_statistic_and_period(default):
    invoker, _ = default
    errors, throttles = invoker.metric_errors(), invoker.metric_throttles(period=Duration.minutes(1))
    assert (errors.namespace, errors.metric_name, errors.statistic) == ("AWS/Lambda", "Errors", "Sum")
    assert errors.period.to_seconds() == 300
    assert (throttles.metric_name, throttles.statistic) == ("Throttles", "Sum")
    assert throttles.period.to_seconds() == 60
    assert set(errors.dimensions) == {"FunctionName"}


def test_options_are_applied(stack):
    EndpointInvoker(stack, "Invoker", endpoint=FakeEndpoint(stack), timeout=Duration.minutes(15), memory_size=10240,
                    reserved_concurrency=900, retry_attempts=0, content_type="text/csv", accept="text/csv")
    t = template_of(stack)
    fn = _function(t)
    assert (fn["Timeout"], fn["MemorySize"], fn["ReservedConcurrentExecutions"]) == (900, 10240, 900)
    assert fn["Environment"]["Variables"]["CONTENT_TYPE"] == "text/csv"
    assert only(t, "AWS::Lambda::EventInvokeConfig")["MaximumRetryAttempts"] == 0


def test_unresolved_endpoint_name_passes_validation(stack):
    class Imported:
        endpoint_name = cdk.Fn.import_value("EndpointName")
        endpoint_arn = cdk.Fn.import_value("EndpointArn")

    EndpointInvoker(stack, "Invoker", endpoint=Imported())
    assert _function(template_of(stack))["Environment"]["Variables"]["ENDPOINT_NAME"] == {
        "Fn::ImportValue": "EndpointName"}


# --- validation -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, argument", [
    ({"reserved_concurrency": 0}, "reserved_concurrency"),
    ({"reserved_concurrency": 901}, "reserved_concurrency"),  # 1,000 - the 100 kept unreserved
    ({"timeout": Duration.seconds(0)}, "timeout"),
    ({"timeout": Duration.seconds(901)}, "timeout"),
    ({"memory_size": 127}, "memory_size"),
    ({"memory_size": 10241}, "memory_size"),
    ({"retry_attempts": 3}, "retry_attempts"),
    ({"content_type": ""}, "content_type"),
])
def test_out_of_range_arguments_fail_at_synth(stack, kwargs, argument):
    with pytest.raises(ValidationError, match=argument) as raised:
        EndpointInvoker(stack, "Invoker", endpoint=FakeEndpoint(stack), **kwargs)
    assert raised.value.construct_path == "Test/Invoker"


class NoName:
    endpoint_arn = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/x"


class BadArn:
    endpoint_name = "churn-endpoint"
    endpoint_arn = "arn:aws:s3:::bucket"


@pytest.mark.parametrize("endpoint, argument", [
    (None, "endpoint"), (NoName(), "endpoint.endpoint_name"), (BadArn(), "endpoint.endpoint_arn"),
])
def test_endpoint_needs_a_name_and_an_endpoint_arn(stack, endpoint, argument):
    with pytest.raises(ValidationError, match=argument.replace(".", r"\.")):
        EndpointInvoker(stack, "Invoker", endpoint=endpoint)


def test_endpoint_name_must_be_a_sagemaker_name(stack):
    with pytest.raises(ValidationError, match="endpoint_name"):
        EndpointInvoker(stack, "Invoker", endpoint=FakeEndpoint(stack, "bad_name"))


def test_network_arguments_need_a_vpc(stack):
    key, net = _network(stack)
    with pytest.raises(ValidationError, match="subnets"):
        EndpointInvoker(stack, "A", endpoint=FakeEndpoint(stack), subnets=net.vpc.isolated_subnets)
    with pytest.raises(ValidationError, match="endpoint_security_group"):
        EndpointInvoker(stack, "B", endpoint=FakeEndpoint(stack), endpoint_security_group=net.endpoint_security_group)


def test_vpc_without_private_subnets_is_rejected(stack):
    vpc = ec2.Vpc(stack, "Public", max_azs=2, nat_gateways=0,
                  subnet_configuration=[ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC)])
    with pytest.raises(ValidationError, match="no private or isolated subnets"):
        EndpointInvoker(stack, "Invoker", endpoint=FakeEndpoint(stack), vpc=vpc)


def test_imported_vpc_without_cidr_needs_the_endpoint_security_group(stack):
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Imported", vpc_id="vpc-0123456789abcdef0",
                                      availability_zones=["us-east-1a"],
                                      isolated_subnet_ids=["subnet-0123456789abcdef0"])
    with pytest.raises(ValidationError, match="vpc_cidr_block"):
        EndpointInvoker(stack, "Invoker", endpoint=FakeEndpoint(stack), vpc=vpc)


# --- compliance -----------------------------------------------------------------------------------
def test_all_nag_packs_report_no_unacknowledged_findings(tmp_path):
    app = new_app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Invoke")
    endpoint = FakeEndpoint(stack)
    EndpointInvoker(stack, "Public", endpoint=endpoint)
    key, net = _network(stack)
    EndpointInvoker(stack, "Private", endpoint=endpoint, vpc=net.vpc,
                    endpoint_security_group=net.endpoint_security_group, encryption_key=key)
    result = synth_checked(app, tmp_path)
    assert [f"{rule} {path}" for rule, path, _ in result.unacknowledged_findings()] == []
    acks = {path: rules for path, rules in result.acknowledgements().items()
            if path.startswith(("/Invoke/Public", "/Invoke/Private"))}
    # Outside a VPC: LambdaInsideVPC acknowledged on that function only, saying how to remove it.
    public_fn = {r: why for r, why in acks["/Invoke/Public/Function"].items()}
    assert set(public_fn) == {f"{p}::{p}-LambdaInsideVPC" for p in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
                              } | {"cdk-validator-cfnguard::lambda_inside_vpc_check"}
    assert all("vpc=" in why for why in public_fn.values())
    # Without alarm_topic the dead-letter alarm has no action: acknowledged, saying how to add one.
    for name in ("Public", "Private"):
        alarm = acks[f"/Invoke/{name}/DeadLetterQueueAlarm"]
        assert set(alarm) == {"HIPAA.Security::HIPAA.Security-CloudWatchAlarmAction",
                              "NIST.800.53.R5::NIST.800.53.R5-CloudWatchAlarmAction",
                              "cdk-validator-cfnguard::cloudwatch_alarm_action_check"}
        assert all("alarm_topic=" in why for why in alarm.values())
        assert set(acks[f"/Invoke/{name}/DeadLetterQueue"]) == {"cdk-validator-cfnguard::sqs_dlq_check"}
    assert "/Invoke/Private/Function" not in acks
    # IAM5 only: X-Ray and EC2 describe on "*", and network interfaces Lambda names at run time.
    assert set(acks["/Invoke/Public/Policy/Resource"]) == {"AwsSolutions::AwsSolutions-IAM5[Resource::*]"}
    assert set(acks["/Invoke/Private/Policy/Resource"]) == {
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:"
        "network-interface/*]",
    }
    assert set(acks) == {"/Invoke/Public/Function", "/Invoke/Public/Policy/Resource", "/Invoke/Private/Policy/Resource",
                         *(f"/Invoke/{n}/{c}" for n in ("Public", "Private")
                           for c in ("DeadLetterQueue", "DeadLetterQueueAlarm"))}
    # checkov: CKV_AWS_117 (not in a VPC) skipped on the public function only.
    template = json.loads((tmp_path / stack.template_file).read_text())["Resources"]
    skips = {k: [s["id"] for s in v.get("Metadata", {}).get("checkov", {}).get("skip", [])]
             for k, v in template.items() if k.startswith(("Public", "Private"))}
    assert {k: v for k, v in skips.items() if v} == {
        logical_id({"Resources": template}, "AWS::Lambda::Function", "PublicFunction"): ["CKV_AWS_117"]}


def test_timeouts_and_attempts_from_parameters_reach_the_environment_as_references():
    """Duration.seconds(<CfnParameter>) for connect/read timeouts: str(int(...)) of the Token's encoded double
    wrote a 290-digit number into READ_TIMEOUT, and the handler refused it (below 1) at every call."""
    stack = new_stack()
    read = cdk.CfnParameter(stack, "ReadTimeout", type="Number")
    connect = cdk.CfnParameter(stack, "ConnectTimeout", type="Number")
    attempts = cdk.CfnParameter(stack, "Attempts", type="Number")
    timeout = cdk.CfnParameter(stack, "Timeout", type="Number")
    EndpointInvoker(stack, "Invoker", endpoint=FakeEndpoint(stack), max_attempts=attempts.value_as_number,
                    connect_timeout=Duration.seconds(connect.value_as_number),
                    read_timeout=Duration.seconds(read.value_as_number),
                    timeout=Duration.seconds(timeout.value_as_number))
    variables = _function(template_of(stack))["Environment"]["Variables"]
    assert variables["READ_TIMEOUT"] == {"Ref": "ReadTimeout"}
    assert variables["CONNECT_TIMEOUT"] == {"Ref": "ConnectTimeout"}
    assert variables["MAX_ATTEMPTS"] == {"Ref": "Attempts"}


def test_a_timeout_parameter_in_minutes_is_refused_by_name():
    stack = new_stack()
    minutes = cdk.CfnParameter(stack, "ReadMinutes", type="Number")
    with pytest.raises(ValidationError, match="read_timeout"):
        EndpointInvoker(stack, "Invoker", endpoint=FakeEndpoint(stack),
                        read_timeout=Duration.minutes(minutes.value_as_number), timeout=Duration.minutes(15))


def test_a_plain_key_of_the_endpoint_lets_cloudwatch_logs_use_it(stack):
    """An endpoint built with a kms.Key (not a PlatformKey): the invoker's log group was encrypted
    with it, but its policy did not let CloudWatch Logs use it, so the deployment failed."""
    from aws_cdk import aws_kms as kms

    from sagemaker_constructs import RealtimeEndpoint
    from tests.unit.test_endpoints import Env

    env = Env(stack)
    plain = kms.Key(stack, "Plain")
    endpoint = RealtimeEndpoint(stack, "Endpoint", model=env.model(), instance_type="ml.m5.large",
                                encryption_key=plain)
    EndpointInvoker(stack, "Invoker", endpoint=endpoint)
    EndpointInvoker(stack, "Second", endpoint=endpoint)
    t = template_of(stack)
    key_id = logical_id(t, "AWS::KMS::Key", "Plain")
    groups = resources(t, "AWS::Logs::LogGroup").values()
    assert [g["Properties"]["KmsKeyId"] for g in groups] == [{"Fn::GetAtt": [key_id, "Arn"]}] * 2
    statements = t["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]
    logs = [s for s in statements if s.get("Sid") == "AllowCloudWatchLogsForThisAccount"]
    assert len(logs) == 1  # once per key
    (statement,) = logs
    assert statement["Principal"] == {"Service": {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}}
    assert "kms:GenerateDataKey*" in statement["Action"] and "kms:Decrypt" in statement["Action"]
    assert "kms:EncryptionContext:aws:logs:arn" in json.dumps(statement["Condition"]["ArnLike"])


def test_a_platform_key_of_the_endpoint_gets_no_second_logs_statement(stack):
    from sagemaker_constructs import RealtimeEndpoint
    from tests.unit.test_endpoints import Env

    env = Env(stack)
    endpoint = RealtimeEndpoint(stack, "Endpoint", model=env.model(), instance_type="ml.m5.large",
                                encryption_key=env.key)
    EndpointInvoker(stack, "Invoker", endpoint=endpoint)
    t = template_of(stack)
    policy = t["Resources"][logical_id(t, "AWS::KMS::Key", "Key")]["Properties"]["KeyPolicy"]["Statement"]
    assert [s.get("Sid") for s in policy].count("AllowCloudWatchLogsForThisAccount") == 1
