"""Self-test of the deploy rehearsal harness (tests/harness/rehearsal.py).

It also pins what moto 5.2.5's CloudFormation really does with the resource types
our constructs use, so a moto upgrade that changes it fails here first.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("CDK_VALIDATION", "false")  # before aws_cdk is imported: faster synth

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from tests.harness.rehearsal import (
    MOTO_SKIPPED_TYPES,
    Rehearsal,
    rehearse,
    skipped_resources,
    skipped_types,
)

RESTRICT_DEFAULT_SG = {"@aws-cdk/aws-ec2:restrictDefaultSecurityGroup": True}


def _only(template: dict[str, Any], resource_type: str) -> str:
    """The logical id of the single resource of ``resource_type``."""
    found = [k for k, v in template["Resources"].items() if v["Type"] == resource_type]
    assert len(found) == 1, (resource_type, found)
    return found[0]


# ---------------------------------------------------------------------------------
# The network/encryption baseline: VPC + flow log + KMS key/alias + bucket + log group
# ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def baseline() -> tuple[dict[str, Any], Path]:
    app = cdk.App(context=RESTRICT_DEFAULT_SG)
    stack = cdk.Stack(app, "HarnessBaseline")
    key = kms.Key(stack, "Key", enable_key_rotation=True, alias="alias/harness-baseline")
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        restrict_default_security_group=True,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )
    flow_logs = logs.LogGroup(stack, "FlowLogs", retention=logs.RetentionDays.ONE_WEEK)
    vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))
    s3.Bucket(
        stack,
        "Data",
        encryption=s3.BucketEncryption.KMS,
        encryption_key=key,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
    )
    template = Template.from_stack(stack).to_json()
    return template, Path(app.outdir)


def test_baseline_stack_is_created(baseline: tuple[dict[str, Any], Path]) -> None:
    template, cdk_out = baseline
    key_id = _only(template, "AWS::KMS::Key")
    vpc_id = _only(template, "AWS::EC2::VPC")
    bucket_id = _only(template, "AWS::S3::Bucket")
    restrict_id = _only(template, "Custom::VpcRestrictDefaultSG")

    with rehearse(template, stack_name="HarnessBaseline", assets_dir=cdk_out) as r:
        assert r.status == "CREATE_COMPLETE", r.status_reason
        assert r.error is None
        assert r.duration_s < 10

        # KMS key and alias
        kms_client = r.client("kms")
        key = kms_client.describe_key(KeyId=r.physical_id(key_id))["KeyMetadata"]
        assert key["KeyState"] == "Enabled"
        aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms_client.list_aliases()["Aliases"]}
        assert aliases["alias/harness-baseline"] == key["KeyId"]

        # VPC, two isolated subnets in real AZs, flow log
        ec2_client = r.client("ec2")
        vpc = ec2_client.describe_vpcs(VpcIds=[r.physical_id(vpc_id)])["Vpcs"][0]
        assert vpc["CidrBlock"] == "10.0.0.0/16"
        subnets = ec2_client.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
        assert sorted(s["AvailabilityZone"] for s in subnets["Subnets"]) == ["us-east-1a", "us-east-1b"]
        flow_logs = ec2_client.describe_flow_logs()["FlowLogs"]
        assert [f["ResourceId"] for f in flow_logs] == [vpc["VpcId"]]

        # Bucket encrypted with the key
        s3_client = r.client("s3")
        rules = s3_client.get_bucket_encryption(Bucket=r.physical_id(bucket_id))[
            "ServerSideEncryptionConfiguration"
        ]["Rules"]
        default = rules[0]["ApplyServerSideEncryptionByDefault"]
        assert default["SSEAlgorithm"] == "aws:kms"
        assert default["KMSMasterKeyID"].endswith(key["KeyId"])

        # The Lambda-backed custom resource was answered, with the real properties
        request = r.custom_resource_request(restrict_id)
        assert request.request_type == "Create"
        assert request.resource_type == "Custom::VpcRestrictDefaultSG"
        assert request.properties["DefaultSecurityGroupId"] == vpc_default_sg(r, vpc["VpcId"])
        assert request.response["Status"] == "SUCCESS"
        assert [q.logical_id for q in r.custom_resource_requests] == [restrict_id]

        # The Lambda code was taken from cdk.out, not the placeholder
        assert any("(asset asset." in a for a in r.adjustments), r.adjustments
        assert any("/cdk-bootstrap/hnb659fds/version" in a for a in r.adjustments)

        # What moto skipped, exactly
        assert skipped_types(template, r) == {"AWS::S3::BucketPolicy"}
        assert "Tried to parse AWS::S3::BucketPolicy but it's not supported" in " ".join(r.moto_warnings)

        # moto 5.2.5 cannot delete a VPC whose route tables it created: its CloudFormation
        # has no delete for AWS::EC2::RouteTable/VPCEndpoint/FlowLog.
        assert r.delete() == "DELETE_FAILED"
        assert "DependencyViolation" in (r.status_reason or "")


def vpc_default_sg(r: Rehearsal, vpc_id: str) -> str:
    groups = r.client("ec2").describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    return str(groups[0]["GroupId"])


# ---------------------------------------------------------------------------------
# Custom resources: answers, Data propagation, untyped custom resources, deletion
# ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def custom_resources_template() -> dict[str, Any]:
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_ssm as ssm
    from aws_cdk import custom_resources as cr

    app = cdk.App()
    stack = cdk.Stack(app, "HarnessCustom")
    handler = lambda_.Function(
        stack,
        "Handler",
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
    )
    provider = cr.Provider(stack, "Provider", on_event_handler=handler)
    untyped = cdk.CustomResource(
        stack, "Untyped", service_token=provider.service_token, properties={"Size": 3}
    )
    typed = cdk.CustomResource(
        stack,
        "Typed",
        service_token=provider.service_token,
        resource_type="Custom::Thing",
        properties={"Name": "thing"},
    )
    typed.node.add_dependency(untyped)
    # moto 5.2.5 cannot create an AWS::SSM::Parameter without a Name (AttributeError)
    ssm.StringParameter(
        stack, "Answer", parameter_name="/harness/answer", string_value=typed.get_att_string("Answer")
    )
    cdk.CfnOutput(stack, "TypedAnswer", value=typed.get_att_string("Answer"))
    return Template.from_stack(stack).to_json()


def test_custom_resources_are_answered(custom_resources_template: dict[str, Any]) -> None:
    template = custom_resources_template
    untyped_id = _only(template, "AWS::CloudFormation::CustomResource")
    typed_id = _only(template, "Custom::Thing")
    param_id = _only(template, "AWS::SSM::Parameter")

    with rehearse(
        template,
        stack_name="HarnessCustom",
        custom_resource_answers={typed_id: {"Answer": "forty-two"}},
    ) as r:
        assert r.status == "CREATE_COMPLETE", r.status_reason
        assert [q.logical_id for q in r.custom_resource_requests] == [untyped_id, typed_id]

        untyped = r.custom_resource_request(untyped_id)
        assert untyped.resource_type == "AWS::CloudFormation::CustomResource"
        assert untyped.properties["Size"] == 3  # moto keeps JSON types; real CFN sends "3"
        assert untyped.data == {}
        assert r.resource(untyped_id).resource_type == "AWS::CloudFormation::CustomResource"

        typed = r.custom_resource_request(typed_id)
        assert typed.properties == {"ServiceToken": typed.service_token, "Name": "thing"}
        assert typed.service_token.startswith("arn:aws:lambda:us-east-1:123456789012:function:")
        assert typed.data == {"Answer": "forty-two"}

        # Data reaches outputs and dependent resources, as in real CloudFormation
        assert r.outputs["TypedAnswer"] == "forty-two"
        assert r.physical_id(param_id) == "/harness/answer"
        parameter = r.client("ssm").get_parameter(Name="/harness/answer")["Parameter"]
        assert parameter["Value"] == "forty-two"

        assert skipped_types(template, r) == set()
        assert skipped_resources(template, r) == {}
        # No cdk.out given: the Provider framework's code is a placeholder zip
        assert any("placeholder zip" in a for a in r.adjustments), r.adjustments

        # Without a VPC, deletion completes (moto sends custom resources no Delete)
        assert r.delete() == "DELETE_COMPLETE"
        assert [q.request_type for q in r.custom_resource_requests] == ["Create", "Create"]


def test_unknown_answer_key_is_rejected(custom_resources_template: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="NoSuchResource"):
        rehearse(
            custom_resources_template,
            stack_name="HarnessCustom",
            custom_resource_answers={"NoSuchResource": {}},
        )


# ---------------------------------------------------------------------------------
# Failure reporting and mock lifetime
# ---------------------------------------------------------------------------------


def test_failed_creation_is_reported_not_raised() -> None:
    template = {
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue"},
            "Subnet": {
                "Type": "AWS::EC2::Subnet",
                "Properties": {"VpcId": "vpc-doesnotexist", "CidrBlock": "10.0.0.0/24"},
            },
        }
    }
    with rehearse(template, stack_name="Broken") as r:
        assert r.status == "CREATE_FAILED"
        assert r.error is not None
        assert "vpc-doesnotexist" in (r.status_reason or "")


def test_mock_ends_with_the_context() -> None:
    with rehearse({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}, stack_name="Tiny") as r:
        assert r.status == "CREATE_COMPLETE"
        topic_arn = r.physical_id("Topic")
        assert r.client("sns").get_topic_attributes(TopicArn=topic_arn)
    # A fresh rehearsal starts from empty backends
    with rehearse({"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}, stack_name="Tiny") as r2:
        assert r2.status == "CREATE_COMPLETE"
        assert r2.client("sns").list_topics()["Topics"] == []


# ---------------------------------------------------------------------------------
# What moto 5.2.5 skips, measured on the resource types our constructs produce
# ---------------------------------------------------------------------------------

EXPECTED_SKIPPED_TYPES = {
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::EC2::SecurityGroupEgress",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::CloudTrail::Trail",
    "AWS::S3::BucketPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SageMaker::Domain",
    "AWS::SageMaker::UserProfile",
}


@pytest.fixture(scope="module")
def kitchen_sink() -> tuple[dict[str, Any], Path]:
    from aws_cdk import aws_applicationautoscaling as appscaling
    from aws_cdk import aws_cloudtrail as cloudtrail
    from aws_cdk import aws_events as events
    from aws_cdk import aws_events_targets as targets
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_sagemaker as sagemaker
    from aws_cdk import aws_sqs as sqs
    from aws_cdk import custom_resources as cr

    app = cdk.App(context=RESTRICT_DEFAULT_SG)
    stack = cdk.Stack(app, "HarnessKitchenSink")
    key = kms.Key(stack, "Key", enable_key_rotation=True, alias="alias/sink")
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )
    vpc.add_flow_log("FlowLog")
    sg = ec2.SecurityGroup(stack, "Sg", vpc=vpc, allow_all_outbound=False)
    sg.add_ingress_rule(sg, ec2.Port.tcp(2049))  # AWS::EC2::SecurityGroupIngress: created
    sg.add_egress_rule(sg, ec2.Port.tcp(2049))  # AWS::EC2::SecurityGroupEgress: skipped
    vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
    vpc.add_interface_endpoint("SageMakerApi", service=ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API)
    trail_bucket = s3.Bucket(stack, "TrailBucket", enforce_ssl=True)
    cloudtrail.Trail(stack, "Trail", bucket=trail_bucket, send_to_cloud_watch_logs=True)
    role = iam.Role(stack, "SageMakerRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    iam.ManagedPolicy(
        stack, "Policy", statements=[iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"])]
    )
    queue = sqs.Queue(stack, "Queue", encryption_master_key=key, enforce_ssl=True)
    fn = lambda_.Function(
        stack,
        "Fn",
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
    )
    queue.grant_send_messages(fn)
    events.Rule(
        stack, "Rule", schedule=events.Schedule.rate(cdk.Duration.hours(1)), targets=[targets.LambdaFunction(fn)]
    )
    subnets = vpc.select_subnets().subnet_ids
    model = sagemaker.CfnModel(
        stack,
        "Model",
        execution_role_arn=role.role_arn,
        primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
            image="123456789012.dkr.ecr.us-east-1.amazonaws.com/model:1"
        ),
        vpc_config=sagemaker.CfnModel.VpcConfigProperty(
            security_group_ids=[vpc.vpc_default_security_group], subnets=subnets
        ),
    )
    endpoint_config = sagemaker.CfnEndpointConfig(
        stack,
        "EndpointConfig",
        kms_key_id=key.key_arn,
        production_variants=[
            sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name="v1",
                model_name=model.attr_model_name,
                initial_instance_count=1,
                instance_type="ml.m5.large",
            )
        ],
    )
    endpoint = sagemaker.CfnEndpoint(
        stack, "Endpoint", endpoint_config_name=endpoint_config.attr_endpoint_config_name
    )
    domain = sagemaker.CfnDomain(
        stack,
        "Domain",
        auth_mode="IAM",
        domain_name="sink",
        default_user_settings=sagemaker.CfnDomain.UserSettingsProperty(execution_role=role.role_arn),
        subnet_ids=subnets,
        vpc_id=vpc.vpc_id,
        kms_key_id=key.key_id,
        app_network_access_type="VpcOnly",
    )
    sagemaker.CfnUserProfile(stack, "UserProfile", domain_id=domain.attr_domain_id, user_profile_name="u")
    target = appscaling.ScalableTarget(
        stack,
        "Scaling",
        service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
        min_capacity=1,
        max_capacity=2,
        resource_id=f"endpoint/{endpoint.attr_endpoint_name}/variant/v1",
        scalable_dimension="sagemaker:variant:DesiredInstanceCount",
    )
    target.scale_to_track_metric(
        "Invocations",
        target_value=70,
        predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
    )
    provider = cr.Provider(stack, "Provider", on_event_handler=fn)
    cdk.CustomResource(stack, "Custom", service_token=provider.service_token)
    return Template.from_stack(stack).to_json(), Path(app.outdir)


def test_measured_skipped_types(kitchen_sink: tuple[dict[str, Any], Path]) -> None:
    template, cdk_out = kitchen_sink
    with rehearse(template, stack_name="HarnessKitchenSink", assets_dir=cdk_out) as r:
        assert r.status == "CREATE_COMPLETE", r.status_reason
        assert skipped_types(template, r) == EXPECTED_SKIPPED_TYPES == MOTO_SKIPPED_TYPES
        template_types = {res["Type"] for res in template["Resources"].values()}
        created_types = {res.resource_type for res in r.resources}
        assert created_types == template_types - EXPECTED_SKIPPED_TYPES
        assert created_types >= {
            "AWS::CloudFormation::CustomResource",
            "AWS::EC2::FlowLog",
            "AWS::EC2::VPCEndpoint",
            "AWS::Events::Rule",
            "AWS::IAM::ManagedPolicy",
            "AWS::Lambda::Function",
            "AWS::Lambda::Permission",
            "AWS::Logs::LogGroup",
            "AWS::SageMaker::Endpoint",
            "AWS::SageMaker::EndpointConfig",
            "AWS::SageMaker::Model",
            "AWS::SQS::Queue",
        }

        endpoint_config = r.client("sagemaker").describe_endpoint_config(
            EndpointConfigName=r.physical_id(_only(template, "AWS::SageMaker::EndpointConfig")).split("/")[-1]
        )
        assert endpoint_config["KmsKeyId"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
        role_id = next(lid for lid in r.logical_ids("AWS::IAM::Role") if lid.startswith("SageMakerRole"))
        role = r.client("iam").get_role(RoleName=r.physical_id(role_id))["Role"]
        assert "sagemaker.amazonaws.com" in json.dumps(role["AssumeRolePolicyDocument"])
