"""One mechanism each (issue 8): every Lambda function from one recipe, every role whose grants sit
in a customer-managed policy from one class, the IAM4/IAM5 finding ids from one calculator, and the
deployment and data-capture configs rendered once for CloudFormation and the API."""

from __future__ import annotations

import ast
import pathlib

import pytest

from tests.harness.templates import resources, template_of

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "constructs" / "sagemaker_constructs"
CONSTRUCT_MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "handlers" not in p.parts)


def _calls(path: pathlib.Path, dotted: str) -> list[int]:
    """Line numbers of calls to ``dotted`` (``"lambda_.Function"``) in ``path``."""
    module, name = dotted.rsplit(".", 1)
    return [node.lineno for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name
            and isinstance(node.func.value, ast.Name) and node.func.value.id == module]


def _users(dotted: str) -> dict[str, list[int]]:
    found = {str(p.relative_to(PACKAGE)): _calls(p, dotted) for p in CONSTRUCT_MODULES}
    return {path: lines for path, lines in found.items() if lines}


# --- the hardened Lambda recipe ------------------------------------------------------------------

@pytest.mark.parametrize("dotted", ["lambda_.Function", "lambda_.SingletonFunction", "Code.from_asset"])
def test_functions_are_built_by_the_one_recipe_only(dotted):
    assert set(_users(dotted)) <= {"_internal/functions.py"}


def test_every_function_of_ours_is_hardened_alike(stack):
    """The teardown and Canvas providers' functions (synchronous, outside the VPC) and a SecureFunction
    (asynchronous: DLQ, retries) share runtime, architecture, code, tracing, key, log group, concurrency."""
    from sagemaker_constructs import IsolatedNetwork, PlatformKey, SecureBucket, StudioDomain
    from sagemaker_constructs._internal.functions import ARCHITECTURE, RUNTIME
    from sagemaker_constructs.studio.canvas import CanvasSettings
    from tests.conftest import new_stack
    from tests.test_snapshots import _deploy

    key = PlatformKey(stack, "Key")
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="studio")
    StudioDomain(stack, "Studio", vpc=net.vpc, encryption_key=key, endpoint_security_group=net.endpoint_security_group,
                 canvas=CanvasSettings(workspace_bucket=SecureBucket(stack, "Canvas", encryption_key=key)))
    other = new_stack("Deploy")
    _deploy(other)
    ours = {logical_id: r["Properties"] for s in (stack, other)
            for logical_id, r in resources(template_of(s), "AWS::Lambda::Function").items()
            if r["Properties"].get("Runtime", "").startswith("python")}
    # teardown OnEvent + IsComplete, Canvas OnEvent, Canvas idle shutdown, deploy-on-approval
    assert len(ours) == 5, sorted(ours)
    for logical_id, props in ours.items():
        assert props["Runtime"] == RUNTIME.name and props["Architectures"] == [ARCHITECTURE.name], logical_id
        assert props["TracingConfig"] == {"Mode": "Active"}, logical_id
        assert "KmsKeyArn" in props and "LogGroup" in props["LoggingConfig"], logical_id
        assert props["ReservedConcurrentExecutions"] >= 1, logical_id
        assert props["Handler"].split(".")[0] in {"studio_teardown", "canvas_settings", "canvas_idle_shutdown",
                                                  "deploy_on_approval"}
    asynchronous = [p for p in ours.values() if p["Handler"].startswith(("deploy_on_approval", "canvas_idle_shutdown"))]
    assert len(asynchronous) == 2
    assert all("DeadLetterConfig" in p for p in asynchronous)


# --- the managed-policy role ---------------------------------------------------------------------

def test_roles_are_built_by_the_one_mechanism_only():
    """Every role we create is a ManagedPolicyRole (or, for the providers, the same factory)."""
    assert _users("iam.Role") == {}
    assert set(_users("lambda_.Function")) <= {"_internal/functions.py"}


def test_execution_roles_and_secure_functions_share_the_routing():
    from sagemaker_constructs._internal.functions import ManagedPolicyRole as FromFunctions
    from sagemaker_constructs._internal.managed_role import ManagedPolicyRole
    from sagemaker_constructs.security.roles import _SageMakerExecutionRole

    assert FromFunctions is ManagedPolicyRole and issubclass(_SageMakerExecutionRole, ManagedPolicyRole)


@pytest.mark.parametrize("route_grants", [True, False])
def test_service_role_grants_land_in_the_managed_policy(stack, route_grants):
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_sqs as sqs

    from sagemaker_constructs._internal.managed_role import service_role

    role, policy = service_role(stack, "Role", "Policy", service="scheduler.amazonaws.com", description="d",
                                statements=[iam.PolicyStatement(actions=["sqs:GetQueueUrl"], resources=["*"])],
                                route_grants=route_grants)
    queue = sqs.Queue(stack, "Queue")
    queue.grant_send_messages(role)
    queue.grant_send_messages(role)  # twice: written once
    t = template_of(stack)
    (managed,) = resources(t, "AWS::IAM::ManagedPolicy").values()
    inline = resources(t, "AWS::IAM::Policy")
    actions = [s["Action"] for s in managed["Properties"]["PolicyDocument"]["Statement"]]
    if route_grants:
        assert not inline and actions.count("sqs:GetQueueUrl") == 1 and len(actions) == 2
    else:
        assert len(inline) == 1 and actions == ["sqs:GetQueueUrl"]
    (trust,) = resources(t, "AWS::IAM::Role").values()
    statement = trust["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


# --- the cdk-nag IAM5 finding calculator ---------------------------------------------------------

def test_per_statement_findings_agree_with_the_policy_calculator(stack):
    """The per-statement ids roles.py acknowledges (``_internal/nag.py``) are exactly the IAM5 ids
    ``compliance.iam_findings`` computes on each whole policy (the reference stacks' compliance
    tests prove that every one is acknowledged)."""
    from aws_cdk import Stack

    from sagemaker_constructs import JobExecutionRole, ModelHostingRole, PlatformKey, SecureBucket, StudioUserRole
    from sagemaker_constructs._internal.nag import document_findings
    from sagemaker_constructs.compliance import iam_findings

    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    roles = [JobExecutionRole(stack, "Job", encryption_key=key, data_buckets=[bucket]),
             StudioUserRole(stack, "User", encryption_key=key, data_buckets=[bucket]),
             ModelHostingRole(stack, "Hosting", encryption_key=key)]
    checked = 0
    for role in roles:
        for policy in role.managed_policies:
            computed = {i for ids in iam_findings(policy).values() for i in ids if "IAM5" in i}
            statements = Stack.of(policy).resolve(policy.document)["Statement"]
            assert set(document_findings(statements)) == computed, policy.node.path
            checked += bool(computed)
    assert checked >= 3


@pytest.mark.parametrize("statement, ids", [
    ({"Effect": "Allow", "Action": ["s3:Get*", "s3:PutObject"], "Resource": "arn:aws:s3:::b/*"},
     ["AwsSolutions-IAM5[Action::s3:Get*]", "AwsSolutions-IAM5[Resource::arn:aws:s3:::b/*]"]),
    ({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["B", "Arn"]}, "/*"]]}},
     ["AwsSolutions-IAM5[Resource::<B.Arn>/*]"]),
    ({"Effect": "Deny", "Action": "*", "Resource": "*"}, []),
    ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k"}, []),
])
def test_statement_findings(statement, ids):
    from sagemaker_constructs._internal.nag import statement_findings

    assert statement_findings(statement) == ids


# --- deployment and data-capture configs: one rendering for CloudFormation and the API -----------

def _botocore_shape(operation: str, member: str):
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    return model.operation_model(operation).input_shape, member


def _validate(operation: str, params: dict) -> None:
    from botocore.validate import ParamValidator

    input_shape, _ = _botocore_shape(operation, "")
    report = ParamValidator().validate(params, input_shape)
    assert not report.has_errors(), report.generate_report()


def _without_tokens(value):
    """Resolved CloudFormation intrinsics stand in for strings at deploy time."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref")):
            return "resolved-at-deploy-time"
        return {k: _without_tokens(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_tokens(v) for v in value]
    return value


@pytest.mark.parametrize("guardrail", [
    "all_at_once", "canary", "canary_instances", "linear", "linear_instances", "with_timeout"])
def test_deployment_config_is_rendered_once(stack, guardrail):
    from aws_cdk import Duration, Stack
    from aws_cdk import aws_cloudwatch as cloudwatch

    from sagemaker_constructs import DeploymentGuardrail

    alarm = cloudwatch.Alarm(stack, "Alarm", metric=cloudwatch.Metric(namespace="n", metric_name="m"), threshold=1,
                             evaluation_periods=1)
    config = {
        "all_at_once": DeploymentGuardrail.all_at_once(),
        "canary": DeploymentGuardrail.canary(percent=10, alarms=[alarm]),
        "canary_instances": DeploymentGuardrail.canary(percent=None, instances=1),
        "linear": DeploymentGuardrail.linear(step_percent=25, alarms=[alarm]),
        "linear_instances": DeploymentGuardrail.linear(step_percent=None, step_instances=2),
        "with_timeout": DeploymentGuardrail.canary(max_execution_timeout=Duration.hours(2)),
    }[guardrail]
    alarms = [alarm] if guardrail in ("canary", "linear") else []
    api = Stack.of(stack).resolve(config.api(alarms))
    cfn = Stack.of(stack).resolve(config.render(alarms))
    assert _pascal(cfn) == api
    _validate("UpdateEndpoint", {"EndpointName": "e", "EndpointConfigName": "c",
                                 "DeploymentConfig": _without_tokens(api)})


def test_data_capture_config_is_rendered_once(stack):
    from aws_cdk import Stack

    from sagemaker_constructs import DataCapture, JobExecutionRole, PlatformKey, SecureBucket

    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Capture", encryption_key=key)
    role = JobExecutionRole(stack, "Role", encryption_key=key)
    for capture in (DataCapture(bucket, sampling_percentage=20),
                    DataCapture(bucket, capture_output=False, csv_content_types=(), prefix="a/b")):
        api = Stack.of(stack).resolve(capture.api(key))
        cfn = Stack.of(stack).resolve(capture.bind(stack, role, key))
        assert _pascal(cfn) == {k: v for k, v in api.items()}
        _validate("CreateEndpointConfig", {"EndpointConfigName": "c", "ProductionVariants": [
            {"VariantName": "v", "ModelName": "m", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}],
            "DataCaptureConfig": _without_tokens(api)})


def _pascal(value):
    """A resolved L1 property (camelCase keys) with CloudFormation's (and the API's) key names."""
    if isinstance(value, dict):
        return {(k[0].upper() + k[1:] if not k.startswith(("Fn::", "Ref")) else k): _pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_pascal(v) for v in value]
    return value
