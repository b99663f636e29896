"""ContainerImage, ModelData and Model: least-privilege role, isolation, VPC, validation."""

from __future__ import annotations

import json

import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam

from sagemaker_constructs import (
    ContainerImage,
    IsolatedNetwork,
    Model,
    ModelData,
    ModelHostingRole,
    PlatformKey,
    SecureBucket,
    ValidationError,
)
from tests.harness.templates import only, resources, template_of

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def _model(stack, **kwargs):
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Models", encryption_key=key)
    kwargs.setdefault("model_data", ModelData.from_bucket(bucket, "iris/model.tar.gz"))
    return Model(stack, "Model", image=ContainerImage.from_uri(IMAGE), encryption_key=key, **kwargs)


def _policy_statements(t):
    return [s for p in resources(t, "AWS::IAM::ManagedPolicy").values() for s in p["Properties"]["PolicyDocument"]["Statement"]]


def test_network_isolation_on_by_default(stack):
    _model(stack)
    props = only(template_of(stack), "AWS::SageMaker::Model")
    assert props["EnableNetworkIsolation"] is True
    assert props["PrimaryContainer"]["Image"] == IMAGE
    assert props["PrimaryContainer"]["Mode"] == "SingleModel"
    assert "VpcConfig" not in props
    assert "ModelName" not in props  # CloudFormation names it, so a changed model can be replaced


def test_default_role_reads_only_its_model_data(stack):
    model = _model(stack)
    assert isinstance(model.role, ModelHostingRole)
    t = template_of(stack)
    reads = [s for s in _policy_statements(t) if "s3:GetObject" in json.dumps(s.get("Action"))]
    resources_read = json.dumps([s["Resource"] for s in reads])
    assert "iris/model.tar.gz" in resources_read
    assert '"/*"' not in resources_read.replace(" ", "")  # never the whole bucket
    assert "AmazonSageMakerFullAccess" not in json.dumps(t)


def test_an_artifact_key_grant_the_role_already_holds_is_written_once(stack):
    """The artifact bucket's key is the platform key: its read grant repeats the role's own
    UseEncryptionKeys statement, so the policy holds that permission once."""
    _model(stack)
    statements = _policy_statements(template_of(stack))
    key_reads = [s for s in statements if sorted(s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
                 == ["kms:Decrypt", "kms:DescribeKey"]]
    assert [s.get("Sid") for s in key_reads] == ["UseEncryptionKeys"], key_reads
    keys = [json.dumps(s, sort_keys=True) for s in statements]
    assert len(keys) == len(set(keys))


def test_model_waits_for_its_role_policy(stack):
    _model(stack)
    t = template_of(stack)
    (model,) = resources(t, "AWS::SageMaker::Model").values()
    assert any(d.startswith("ModelRolePolicy") for d in model["DependsOn"])


def test_vpc_config_with_own_security_group(stack):
    net = IsolatedNetwork(stack, "Network", endpoints="none")
    model = _model(stack, vpc=net.vpc)
    t = template_of(stack)
    props = only(t, "AWS::SageMaker::Model")
    assert len(props["VpcConfig"]["Subnets"]) == 2
    (sg_ref,) = props["VpcConfig"]["SecurityGroupIds"]
    sg = resources(t, "AWS::EC2::SecurityGroup")[sg_ref["Fn::GetAtt"][0]]["Properties"]
    assert "SecurityGroupIngress" not in sg
    assert sg["SecurityGroupEgress"][0]["FromPort"] == 443
    assert model.security_groups


def test_environment_and_explicit_name(stack):
    _model(stack, environment={"SAGEMAKER_PROGRAM": "inference.py"}, model_name="iris-v1")
    props = only(template_of(stack), "AWS::SageMaker::Model")
    assert props["PrimaryContainer"]["Environment"] == {"SAGEMAKER_PROGRAM": "inference.py"}
    assert props["ModelName"] == "iris-v1"


def test_given_role_is_used(stack):
    role = iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::111122223333:role/hosting", mutable=False)
    _model(stack, role=role, role_is_prepared=True)
    props = only(template_of(stack), "AWS::SageMaker::Model")
    assert props["ExecutionRoleArn"] == "arn:aws:iam::111122223333:role/hosting"


def test_ecr_repository_image_pull_is_scoped_to_that_repository(stack):
    repo = ecr.Repository.from_repository_name(stack, "Repo", "iris-inference")
    Model(stack, "Model", image=ContainerImage.from_ecr_repository(repo, "v1"))
    t = template_of(stack)
    props = only(t, "AWS::SageMaker::Model")
    assert "iris-inference:v1" in json.dumps(props["PrimaryContainer"]["Image"])
    pulls = [s for s in _policy_statements(t) if "ecr:BatchGetImage" in json.dumps(s.get("Action"))]
    assert any("repository/iris-inference" in json.dumps(s["Resource"]) for s in pulls)


def test_ecr_repository_image_gets_no_pull_of_the_accounts_other_repositories(stack):
    """The default role of a from_ecr_repository model also pulled every repository of the account
    (repository/*), wider than 'pull granted on that repository only'."""
    repo = ecr.Repository.from_repository_arn(stack, "Repo", "arn:aws:ecr:us-east-1:999999999999:repository/team/img")
    Model(stack, "Model", image=ContainerImage.from_ecr_repository(repo, "v1"))
    pulls = [s for s in _policy_statements(template_of(stack)) if "ecr:BatchGetImage" in json.dumps(s.get("Action"))]
    assert [s["Resource"] for s in pulls] == ["arn:aws:ecr:us-east-1:999999999999:repository/team/img"]


def test_a_supplied_role_gets_the_same_scoped_pull(stack):
    repo = ecr.Repository.from_repository_name(stack, "Repo", "iris-inference")
    role = iam.Role(stack, "Hosting", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    Model(stack, "Model", image=ContainerImage.from_ecr_repository(repo, "v1"), role=role)
    t = template_of(stack)
    statements = [s for p in resources(t, "AWS::IAM::Policy").values() for s in p["Properties"]["PolicyDocument"]["Statement"]]
    statements += _policy_statements(t)
    pulls = [s for s in statements if "ecr:BatchGetImage" in json.dumps(s.get("Action"))]
    assert pulls and all("repository/iris-inference" in json.dumps(s["Resource"]) for s in pulls)
    assert "repository/*" not in json.dumps(pulls)


def test_image_from_asset_needs_no_docker_at_synth(stack, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM public.ecr.aws/docker/library/python:3.12-slim\n")
    Model(stack, "Model", image=ContainerImage.from_asset(str(tmp_path)))
    props = only(template_of(stack), "AWS::SageMaker::Model")
    assert "cdk-hnb659fds-container-assets" in json.dumps(props["PrimaryContainer"]["Image"])


def test_model_data_from_asset(stack, tmp_path):
    artifact = tmp_path / "model.tar.gz"
    artifact.write_bytes(b"not really a tarball")
    Model(stack, "Model", image=ContainerImage.from_uri(IMAGE), model_data=ModelData.from_asset(str(artifact)))
    props = only(template_of(stack), "AWS::SageMaker::Model")
    assert "s3://" in json.dumps(props["PrimaryContainer"]["ModelDataUrl"])


def test_multi_model_mode_reads_the_prefix(stack):
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Models", encryption_key=key)
    Model(stack, "Model", image=ContainerImage.from_uri(IMAGE), model_data=ModelData.from_bucket(bucket, "models/"),
          multi_model=True)
    t = template_of(stack)
    assert only(t, "AWS::SageMaker::Model")["PrimaryContainer"]["Mode"] == "MultiModel"
    reads = json.dumps([s["Resource"] for s in _policy_statements(t) if "s3:GetObject" in json.dumps(s.get("Action"))])
    assert "models/*" in reads


def test_multi_model_prefix_from_a_parameter_reads_under_it(stack):
    """A multi-model prefix from a CfnParameter was refused ('loads models from an S3 prefix'), and
    a parameter key was granted as one object only, which a multi-model endpoint cannot load from."""
    from aws_cdk import CfnParameter

    prefix = CfnParameter(stack, "ModelsPrefix", type="String").value_as_string
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Models", encryption_key=key)
    Model(stack, "Model", image=ContainerImage.from_uri(IMAGE), model_data=ModelData.from_bucket(bucket, prefix),
          multi_model=True)
    t = template_of(stack)
    container = only(t, "AWS::SageMaker::Model")["PrimaryContainer"]
    assert container["Mode"] == "MultiModel" and "ModelsPrefix" in json.dumps(container["ModelDataUrl"])
    (reads,) = [s["Resource"] for s in _policy_statements(t) if "s3:GetObject*" in json.dumps(s.get("Action"))]
    objects = [r["Fn::Join"][1] for r in reads if "Fn::Join" in r]
    assert objects == [[{"Fn::GetAtt": [objects[0][0]["Fn::GetAtt"][0], "Arn"]}, "/", {"Ref": "ModelsPrefix"}, "*"]]


def test_rejects_multi_model_without_a_prefix(stack):
    with pytest.raises(ValidationError, match="S3 prefix"):
        _model(stack, multi_model=True)


@pytest.mark.parametrize("name", ["-bad", "bad-", "has_underscore", "m" * 64])
def test_rejects_bad_model_names(stack, name):
    with pytest.raises(ValidationError, match="model_name"):
        _model(stack, model_name=name)


def test_rejects_bad_environment_keys(stack):
    with pytest.raises(ValidationError, match="environment key"):
        _model(stack, environment={"1BAD": "x"})


def test_rejects_subnets_without_vpc(stack):
    net = IsolatedNetwork(stack, "Network", endpoints="none")
    with pytest.raises(ValidationError, match="vpc"):
        _model(stack, subnets=net.isolated_subnets.subnets)


def test_rejects_bad_image_uri():
    with pytest.raises(ValidationError, match="uri"):
        ContainerImage.from_uri("has space:latest")


def test_rejects_bad_image_tag(stack):
    repo = ecr.Repository.from_repository_name(stack, "Repo", "r")
    with pytest.raises(ValidationError, match="tag"):
        ContainerImage.from_ecr_repository(repo, "bad tag")


def test_rejects_bad_model_data_key(stack):
    bucket = SecureBucket(stack, "B", encryption_key=PlatformKey(stack, "Key"))
    with pytest.raises(ValidationError, match="key"):
        ModelData.from_bucket(bucket, "/absolute")


def test_regional_registry_image_resolves_per_region(stack):
    image = ContainerImage.from_regional_registry({"us-east-1": "683313688378", "eu-west-1": "141502667606"},
                                                  "sagemaker-scikit-learn:1.2-1-cpu-py3")
    Model(stack, "A", image=image)
    Model(stack, "B", image=image)
    t = template_of(stack)
    (mapping,) = t["Mappings"].values()  # one mapping, shared by both models
    assert mapping == {"eu-west-1": {"account": "141502667606"}, "us-east-1": {"account": "683313688378"}}
    image_uri = json.dumps(next(iter(resources(t, "AWS::SageMaker::Model").values()))["Properties"]["PrimaryContainer"]["Image"])
    assert "Fn::FindInMap" in image_uri and "sagemaker-scikit-learn:1.2-1-cpu-py3" in image_uri


def test_rejects_empty_regional_registry():
    with pytest.raises(ValidationError, match="accounts"):
        ContainerImage.from_regional_registry({}, "sagemaker-scikit-learn:1.2-1-cpu-py3")


def _policy_actions(stack):
    from tests.harness.templates import template_of

    resources = template_of(stack)["Resources"]
    out = []
    for res in resources.values():
        if res["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            for s in res["Properties"]["PolicyDocument"]["Statement"]:
                out.extend(s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    return out, resources


def _model_stack(**kwargs):
    import aws_cdk as cdk

    from sagemaker_constructs import ContainerImage, Model, ModelData, PlatformKey, SecureBucket
    from tests.conftest import new_app

    stack = cdk.Stack(new_app(), "S")
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    extra = {k: (v(stack) if callable(v) else v) for k, v in kwargs.items()}
    Model(stack, "M", image=ContainerImage.from_uri("683313688378.dkr.ecr.us-east-1.amazonaws.com/x:1"),
          model_data=ModelData.from_bucket(bucket, "m/model.tar.gz"), encryption_key=key, **extra)
    return stack


def test_a_model_outside_any_vpc_gets_no_network_interface_permissions():
    actions, resources = _policy_actions(_model_stack())
    assert not [a for a in actions if a.startswith("ec2:")]
    assert "ecr:GetAuthorizationToken" in actions
    policies = [r for r in resources.values() if r["Type"] == "AWS::IAM::ManagedPolicy"]
    assert all("checkov" not in r.get("Metadata", {}) for r in policies)  # nothing left to skip


def test_a_model_in_a_vpc_gets_the_network_interface_permissions():
    from aws_cdk import aws_ec2 as ec2

    from sagemaker_constructs.security.roles import VPC_NETWORK_INTERFACE_ACTIONS

    stack = _model_stack(vpc=lambda s: ec2.Vpc(s, "Vpc", max_azs=2, nat_gateways=0, subnet_configuration=[
        ec2.SubnetConfiguration(name="p", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)]))
    actions, _ = _policy_actions(stack)
    assert set(VPC_NETWORK_INTERFACE_ACTIONS) <= set(actions)


def test_a_supplied_role_of_a_model_outside_any_vpc_gets_no_network_interface_permissions():
    from aws_cdk import aws_iam as iam

    stack = _model_stack(role=lambda s: iam.Role(s, "Mine", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")))
    actions, _ = _policy_actions(stack)
    assert not [a for a in actions if a.startswith("ec2:")]
    assert "s3:GetObject*" in actions  # the supplied role did get the model's statements


def test_a_model_hosting_role_made_directly_keeps_the_network_interface_permissions():
    import aws_cdk as cdk

    from sagemaker_constructs import ModelHostingRole, PlatformKey
    from sagemaker_constructs.security.roles import VPC_NETWORK_INTERFACE_ACTIONS
    from tests.conftest import new_app

    stack = cdk.Stack(new_app(), "S")
    ModelHostingRole(stack, "R", encryption_key=PlatformKey(stack, "Key"))
    ModelHostingRole(stack, "NoEni", encryption_key=PlatformKey(stack, "Key2"), network_interfaces=False)
    from tests.harness.templates import template_of

    docs = {k: v["Properties"]["PolicyDocument"] for k, v in template_of(stack)["Resources"].items()
            if v["Type"] == "AWS::IAM::ManagedPolicy"}
    flat = {k: {a for s in d["Statement"] for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
            for k, d in docs.items()}
    (with_eni,) = [k for k in flat if k.startswith("RPolicy")]
    (without,) = [k for k in flat if k.startswith("NoEni")]
    assert set(VPC_NETWORK_INTERFACE_ACTIONS) <= flat[with_eni]
    assert not {a for a in flat[without] if a.startswith("ec2:")}
