"""SageMakerChecks: each rule with a compliant and a non-compliant fixture, and the plugin end to end."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sagemaker as sagemaker

from sagemaker_constructs import SAGEMAKER_RULES, acknowledge, add_compliance_checks
from sagemaker_constructs.rules.pack import Compliance, evaluate
from tests.conftest import new_app
from tests.harness.reference import ReferenceAssembly

C, N, NA = Compliance.COMPLIANT, Compliance.NON_COMPLIANT, Compliance.NOT_APPLICABLE
RULES = {r.id: r for r in SAGEMAKER_RULES}
VPC = {"Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}


def _pipeline(training_isolated: bool) -> dict:
    steps = [{"Name": "T", "Type": "Training", "Arguments": {
        "EnableNetworkIsolation": training_isolated, "ResourceConfig": {"VolumeKmsKeyId": "k"},
        "OutputDataConfig": {"KmsKeyId": "k"}, "VpcConfig": VPC}},
        {"Name": "C", "Type": "Condition", "Arguments": {"IfSteps": [{"Name": "P", "Type": "Processing", "Arguments": {
            "NetworkConfig": {"EnableNetworkIsolation": True, "VpcConfig": VPC},
            "ProcessingResources": {"ClusterConfig": {"VolumeKmsKeyId": "k"}}}}], "ElseSteps": []}}]
    text = json.dumps({"Version": "2020-12-01", "Steps": steps})
    head, tail = text.split('"k"', 1)  # one value is a reference, as CDK renders tokens
    body = {"Fn::Join": ["", [head + '"', {"Fn::GetAtt": ["Key", "Arn"]}, '"' + tail]]}
    return {"Properties": {"PipelineDefinition": {"PipelineDefinitionBody": body}}}


CASES = {
    "SageMaker-ModelNetworkIsolation": [({"EnableNetworkIsolation": True}, C), ({}, N)],
    "SageMaker-ModelInVpc": [({"VpcConfig": VPC}, C), ({}, N)],
    "SageMaker-EndpointConfigVolumeKey": [
        ({"KmsKeyId": "k", "ProductionVariants": [{"InstanceType": "ml.m5.large"}]}, C),
        ({"ProductionVariants": [{"InstanceType": "ml.m5.large"}]}, N),
        ({"ProductionVariants": [{"ServerlessConfig": {"MemorySizeInMB": 2048}}]}, NA),
        ({"ProductionVariants": [{"InstanceType": "ml.g5.xlarge"}]}, NA),
    ],
    "SageMaker-DataCaptureEncrypted": [({"DataCaptureConfig": {"EnableCapture": True, "KmsKeyId": "k"}}, C),
                                       ({"DataCaptureConfig": {"EnableCapture": True}}, N), ({}, NA)],
    "SageMaker-EndpointMultiInstance": [
        ({"ProductionVariants": [{"InitialInstanceCount": 2}]}, C),
        ({"ProductionVariants": [{"InitialInstanceCount": 1}]}, N),
        ({"ProductionVariants": [{"ServerlessConfig": {}}]}, NA),
    ],
    "SageMaker-DomainVpcOnly": [({"AppNetworkAccessType": "VpcOnly"}, C), ({"AppNetworkAccessType": "PublicInternetOnly"}, N)],
    "SageMaker-DomainEncrypted": [({"KmsKeyId": "k"}, C), ({}, N)],
    "SageMaker-DomainNotebookSharing": [
        ({"DefaultUserSettings": {"SharingSettings": {"NotebookOutputOption": "Disabled"}}}, C),
        ({"DefaultUserSettings": {"SharingSettings": {"NotebookOutputOption": "Allowed", "S3KmsKeyId": "k"}}}, C),
        ({"DefaultUserSettings": {"SharingSettings": {"NotebookOutputOption": "Allowed"}}}, N),
    ],
    "SageMaker-NotebookInstanceHardened": [
        ({"DirectInternetAccess": "Disabled", "RootAccess": "Disabled", "KmsKeyId": "k", "SubnetId": "s"}, C),
        ({"DirectInternetAccess": "Enabled", "RootAccess": "Disabled", "KmsKeyId": "k", "SubnetId": "s"}, N),
    ],
    "SageMaker-NoFullAccessPolicy": [
        ({"ManagedPolicyArns": [{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                                                    ":iam::aws:policy/AmazonSageMakerFullAccess"]]}]}, N),
        ({"ManagedPolicyArns": ["arn:aws:iam::111122223333:policy/mine"]}, C),
        ({}, NA),
    ],
    "SageMaker-MonitoringJobHardened": [
        ({"NetworkConfig": {"EnableNetworkIsolation": True}, "JobResources": {"ClusterConfig": {"VolumeKmsKeyId": "k"}},
          "DataQualityJobOutputConfig": {"KmsKeyId": "k"}}, C),
        ({"NetworkConfig": {"EnableNetworkIsolation": False}}, N),
    ],
}


def test_every_rule_has_fixtures():
    assert set(CASES) | {"SageMaker-PipelineJobsHardened"} == set(RULES)


@pytest.mark.parametrize("rule_id,properties,expected",
                         [(r, p, e) for r, cases in CASES.items() for p, e in cases])
def test_rule(rule_id, properties, expected):
    assert RULES[rule_id].check({"Type": RULES[rule_id].resource_type, "Properties": properties}) is expected


def test_pipeline_rule_reads_inline_definitions():
    rule = RULES["SageMaker-PipelineJobsHardened"]
    assert rule.check(_pipeline(True)) is C
    assert rule.check(_pipeline(False)) is N
    assert rule.check({"Properties": {"PipelineDefinition": {"PipelineDefinitionS3Location": {"Bucket": "b"}}}}) is NA


def test_evaluate_reports_logical_ids():
    template = {"Resources": {
        "Good": {"Type": "AWS::SageMaker::Model", "Properties": {"EnableNetworkIsolation": True, "VpcConfig": VPC}},
        "Open": {"Type": "AWS::SageMaker::Model", "Properties": {}},
    }}
    assert evaluate(template) == {"SageMaker-ModelNetworkIsolation": ["Open"], "SageMaker-ModelInVpc": ["Open"]}


def test_plugin_fails_synth_and_honours_acknowledgements(tmp_path):
    app = new_app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Checks")
    container = sagemaker.CfnModel.ContainerDefinitionProperty(image="image")
    sagemaker.CfnModel(stack, "Open", execution_role_arn="arn:aws:iam::1:role/r", primary_container=container)
    excused = sagemaker.CfnModel(stack, "Excused", execution_role_arn="arn:aws:iam::1:role/r",
                                 primary_container=container)
    acknowledge(excused, reason="fixture: served by a serverless endpoint, which supports neither",
                nag=["SageMaker-ModelNetworkIsolation", "SageMaker-ModelInVpc"])
    add_compliance_checks(app, packs=["SageMaker"])
    with pytest.raises(RuntimeError, match="SageMaker::SageMaker-ModelInVpc"):
        app.synth()
    findings = ReferenceAssembly(outdir=tmp_path, stacks={}).unacknowledged_findings()
    assert sorted((rule, path) for rule, path, _ in findings) == [
        ("SageMaker-ModelInVpc", "Checks/Open"), ("SageMaker-ModelNetworkIsolation", "Checks/Open")]
