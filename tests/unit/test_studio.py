"""StudioDomain: VPC-only domain, security group, idle shutdown, profiles, teardown, validation."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from sagemaker_constructs import IsolatedNetwork, PlatformKey, SecureBucket, StudioDomain, UserProfile, ValidationError
from tests.harness.templates import only, resources, template_of


def _network_domain(stack, **kwargs):
    key = PlatformKey(stack, "Key")
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="studio")
    kwargs.setdefault("endpoint_security_group", net.endpoint_security_group)
    domain = StudioDomain(stack, "Studio", vpc=net.vpc, encryption_key=key, **kwargs)
    return net, domain


@pytest.fixture
def studio(stack):
    net, domain = _network_domain(stack)
    domain.add_user_profile("alice")
    return net, domain, template_of(stack)


def _domain(t):
    return only(t, "AWS::SageMaker::Domain")


def _studio_sg(t):
    return next(v["Properties"] for k, v in resources(t, "AWS::EC2::SecurityGroup").items() if k.startswith("StudioSecurityGroup"))


def _sg_id(t):
    return next(k for k in resources(t, "AWS::EC2::SecurityGroup") if k.startswith("StudioSecurityGroup"))


def test_vpc_only_iam_auth_kms(studio):
    _, _, t = studio
    d = _domain(t)
    assert d["AppNetworkAccessType"] == "VpcOnly"
    assert d["AuthMode"] == "IAM"
    assert d["KmsKeyId"] == {"Fn::GetAtt": ["Key961B73FD", "Arn"]}
    assert len(d["SubnetIds"]) == 2
    assert d["VpcId"] == {"Ref": "Network6E62CE96"}


def test_security_group_everywhere(studio):
    _, _, t = studio
    d = _domain(t)
    ref = [{"Fn::GetAtt": [_sg_id(t), "GroupId"]}]
    assert d["DomainSettings"]["SecurityGroupIds"] == ref
    assert d["DefaultUserSettings"]["SecurityGroups"] == ref
    assert d["DefaultSpaceSettings"]["SecurityGroups"] == ref


def test_security_group_has_exactly_the_rules_studio_needs(studio):
    _, _, t = studio
    sg_id = _sg_id(t)
    sg = _studio_sg(t)
    assert "SecurityGroupIngress" not in sg  # all ingress is intra-group, as separate resources
    ingress = [r["Properties"] for r in resources(t, "AWS::EC2::SecurityGroupIngress").values()]
    egress = [r["Properties"] for r in resources(t, "AWS::EC2::SecurityGroupEgress").values()]
    self_ref = {"Fn::GetAtt": [sg_id, "GroupId"]}
    own_in = {(r["FromPort"], r["ToPort"]) for r in ingress if r["GroupId"] == self_ref}
    assert own_in == {(2049, 2049), (8192, 65535)}
    assert all(r["SourceSecurityGroupId"] == self_ref for r in ingress if r["GroupId"] == self_ref)
    own_out = [r for r in egress if r["GroupId"] == self_ref]
    to_self = {(r["FromPort"], r["ToPort"]) for r in own_out if r.get("DestinationSecurityGroupId") == self_ref}
    assert to_self == {(2049, 2049), (8192, 65535)}
    https = [r for r in own_out if r["FromPort"] == 443]
    assert len(https) == 2  # endpoint SG and the S3 prefix list
    assert any("DestinationSecurityGroupId" in r and r["DestinationSecurityGroupId"] != self_ref for r in https)
    assert any("DestinationPrefixListId" in r for r in https)
    # The endpoint SG admits the domain's SG on 443.
    assert any(r.get("SourceSecurityGroupId") == self_ref and r["FromPort"] == 443 for r in ingress)
    for r in ingress + egress + sg.get("SecurityGroupEgress", []):
        assert r.get("CidrIp") not in ("0.0.0.0/0",) and r.get("CidrIpv6") != "::/0"


def test_s3_egress_uses_the_prefix_list_looked_up_by_teardown(studio):
    _, _, t = studio
    (teardown_id,) = resources(t, "Custom::StudioTeardown")
    s3 = next(r["Properties"] for r in resources(t, "AWS::EC2::SecurityGroupEgress").values()
              if "DestinationPrefixListId" in r["Properties"])
    assert s3["DestinationPrefixListId"] == {"Fn::GetAtt": [teardown_id, "S3PrefixListId"]}
    props = resources(t, "Custom::StudioTeardown")[teardown_id]["Properties"]
    assert props["S3PrefixListName"] == {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".s3"]]}


def test_without_endpoint_sg_https_goes_to_the_vpc_cidr(stack):
    _network_domain(stack, endpoint_security_group=None)
    t = template_of(stack)
    sg = _studio_sg(t)
    assert sg["SecurityGroupEgress"] == [
        {"CidrIp": {"Fn::GetAtt": ["Network6E62CE96", "CidrBlock"]}, "Description": "HTTPS to the VPC interface endpoints",
         "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}
    ]


def test_docker_off_by_default(studio):
    _, _, t = studio
    d = _domain(t)
    assert d["DomainSettings"]["DockerSettings"] == {"EnableDockerAccess": "DISABLED"}
    assert "CustomPosixUserConfig" not in d["DefaultUserSettings"]


def test_docker_on_when_asked(stack):
    _network_domain(stack, allow_docker_access=True)
    d = _domain(template_of(stack))
    assert d["DomainSettings"]["DockerSettings"] == {"EnableDockerAccess": "ENABLED"}


def test_posix_user_for_custom_images(stack):
    _network_domain(stack, posix_user=(20000, 2000))
    d = _domain(template_of(stack))
    assert d["DefaultUserSettings"]["CustomPosixUserConfig"] == {"Uid": 20000, "Gid": 2000}
    assert d["DefaultSpaceSettings"]["CustomPosixUserConfig"] == {"Uid": 20000, "Gid": 2000}


@pytest.mark.parametrize("user,match", [((0, 2000), "uid"), ((1000, 100), "uid"), ((20000, 100), "gid"),
                                        ((4_000_001, 2000), "uid")])
def test_rejects_posix_users_sagemaker_reserves(stack, user, match):
    with pytest.raises(ValidationError, match=f"posix_user {match}"):
        _network_domain(stack, posix_user=user)


def test_idle_shutdown_for_jupyterlab_and_code_editor(studio):
    _, _, t = studio
    d = _domain(t)
    expected = {"IdleSettings": {"LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": 60,
                                 "MinIdleTimeoutInMinutes": 60, "MaxIdleTimeoutInMinutes": 60}}
    assert d["DefaultUserSettings"]["JupyterLabAppSettings"]["AppLifecycleManagement"] == expected
    assert d["DefaultUserSettings"]["CodeEditorAppSettings"]["AppLifecycleManagement"] == expected
    assert d["DefaultSpaceSettings"]["JupyterLabAppSettings"]["AppLifecycleManagement"] == expected


def test_custom_idle_timeout(stack):
    _network_domain(stack, idle_timeout=Duration.hours(3))
    idle = _domain(template_of(stack))["DefaultUserSettings"]["JupyterLabAppSettings"]["AppLifecycleManagement"]
    assert idle["IdleSettings"]["IdleTimeoutInMinutes"] == 180
    assert idle["IdleSettings"]["MaxIdleTimeoutInMinutes"] == 180


def test_notebook_sharing_off_by_default(studio):
    _, _, t = studio
    assert _domain(t)["DefaultUserSettings"]["SharingSettings"] == {"NotebookOutputOption": "Disabled"}


def test_notebook_sharing_encrypted_when_enabled(stack):
    key = PlatformKey(stack, "Key")
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="none")
    bucket = SecureBucket(stack, "Shared", encryption_key=key)
    StudioDomain(stack, "Studio", vpc=net.vpc, encryption_key=key, notebook_sharing_bucket=bucket)
    sharing = _domain(template_of(stack))["DefaultUserSettings"]["SharingSettings"]
    assert sharing["NotebookOutputOption"] == "Allowed"
    assert sharing["S3KmsKeyId"] == {"Fn::GetAtt": ["Key961B73FD", "Arn"]}


def test_default_execution_role_is_created_and_used(studio):
    _, domain, t = studio
    d = _domain(t)
    role_id = d["DefaultUserSettings"]["ExecutionRole"]["Fn::GetAtt"][0]
    assert role_id.startswith("StudioExecutionRole")
    assert d["DefaultSpaceSettings"]["ExecutionRole"] == d["DefaultUserSettings"]["ExecutionRole"]
    arns = json.dumps(resources(t, "AWS::IAM::Role")[role_id])
    assert "AmazonSageMakerFullAccess" not in arns


def test_given_execution_role_is_used(stack):
    role = iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::111122223333:role/ds", mutable=False)
    _network_domain(stack, default_execution_role=role)
    d = _domain(template_of(stack))
    assert d["DefaultUserSettings"]["ExecutionRole"] == "arn:aws:iam::111122223333:role/ds"


def test_exposes_attributes(studio):
    _, domain, _ = studio
    assert isinstance(domain.cfn_domain, cdk.aws_sagemaker.CfnDomain)
    assert isinstance(domain.security_group, ec2.SecurityGroup)
    for value in (domain.domain_id, domain.domain_arn, domain.home_efs_file_system_id, domain.url):
        assert cdk.Token.is_unresolved(value)


def test_user_profiles(studio):
    _, domain, t = studio
    profile = domain.user_profiles["alice"]
    assert isinstance(profile, UserProfile)
    props = only(t, "AWS::SageMaker::UserProfile")
    assert props["UserProfileName"] == "alice"
    assert props["DomainId"] == {"Fn::GetAtt": [next(iter(resources(t, "AWS::SageMaker::Domain"))), "DomainId"]}
    assert "UserSettings" not in props  # inherits the domain's settings


def test_user_profile_with_own_role(stack):
    _, domain = _network_domain(stack)
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    domain.add_user_profile("bob", execution_role=role)
    props = only(template_of(stack), "AWS::SageMaker::UserProfile")
    assert props["UserSettings"]["ExecutionRole"]["Fn::GetAtt"][0].startswith("Role")
    assert len(props["UserSettings"]["SecurityGroups"]) == 1


def test_teardown_runs_before_profiles_and_domain_are_deleted(studio):
    _, _, t = studio
    ((teardown_id, teardown),) = resources(t, "Custom::StudioTeardown").items()
    (profile_id,) = resources(t, "AWS::SageMaker::UserProfile")
    (domain_id,) = resources(t, "AWS::SageMaker::Domain")
    assert profile_id in teardown["DependsOn"]
    assert teardown["Properties"]["DomainId"] == {"Fn::GetAtt": [domain_id, "DomainId"]}
    assert teardown["Properties"]["RemoveHomeEfs"] == "false"


def test_teardown_keeps_home_efs_by_default(studio):
    _, _, t = studio
    policies = json.dumps([p for k, p in resources(t, "AWS::IAM::ManagedPolicy").items() if "Teardown" in k])
    assert "elasticfilesystem:DeleteFileSystem" not in policies
    assert "sagemaker:DeleteApp" in policies


def test_teardown_removes_home_efs_when_destroy(stack):
    _network_domain(stack, home_efs_removal_policy=RemovalPolicy.DESTROY)
    t = template_of(stack)
    (teardown,) = resources(t, "Custom::StudioTeardown").values()
    assert teardown["Properties"]["RemoveHomeEfs"] == "true"
    policies = json.dumps([p for k, p in resources(t, "AWS::IAM::ManagedPolicy").items() if "Teardown" in k])
    assert "elasticfilesystem:DeleteFileSystem" in policies
    assert "ec2:DeleteSecurityGroup" in policies
    assert "ManagedByAmazonSageMakerResource" in policies and "ec2:Vpc" in policies


def test_teardown_functions_are_hardened(studio):
    _, _, t = studio
    ours = {k: v["Properties"] for k, v in resources(t, "AWS::Lambda::Function").items()
            if v["Properties"].get("Handler", "").startswith("studio_teardown.")}
    assert {p["Handler"] for p in ours.values()} == {"studio_teardown.on_event", "studio_teardown.is_complete"}
    for p in ours.values():
        assert p["Runtime"] == "python3.14"
        assert p["ReservedConcurrentExecutions"] == 2
        assert p["TracingConfig"] == {"Mode": "Active"}
        assert "KmsKeyArn" in p
        assert "LoggingConfig" in p


def test_teardown_waits_at_most_as_long_as_cloudformation(studio):
    """CloudFormation waits at most 3600 s for a custom resource (ServiceTimeout); the waiter polled for
    2 hours, so a long teardown failed the stack deletion at one hour and went on deleting."""
    import re

    _, _, t = studio
    (machine,) = resources(t, "AWS::StepFunctions::StateMachine").values()
    definition = json.dumps(machine["Properties"]["DefinitionString"])
    (attempts,) = {int(n) for n in re.findall(r'MaxAttempts\\+":(\d+)', definition)}
    (interval,) = {int(n) for n in re.findall(r'IntervalSeconds\\+":(\d+)', definition)}
    assert interval == 30 and attempts * interval == 3600
    assert "ServiceTimeout" not in json.dumps(resources(t, "Custom::StudioTeardown"))  # CloudFormation's default, 3600 s


def test_no_teardown_when_disabled(stack):
    _network_domain(stack, teardown=False, s3_prefix_list_id="pl-63a5400a")
    t = template_of(stack)
    assert resources(t, "Custom::StudioTeardown") == {}
    s3 = [r["Properties"] for r in resources(t, "AWS::EC2::SecurityGroupEgress").values()
          if "DestinationPrefixListId" in r["Properties"]]
    assert s3 == [{"Description": "HTTPS to S3 through the gateway endpoint", "DestinationPrefixListId": "pl-63a5400a",
                   "FromPort": 443, "GroupId": s3[0]["GroupId"], "IpProtocol": "tcp", "ToPort": 443}]


def test_no_teardown_and_no_prefix_list_warns_that_s3_is_unreachable(stack):
    """teardown=False without s3_prefix_list_id silently left the domain's group without HTTPS to S3
    (only the teardown provider looks the prefix list up)."""
    from aws_cdk.assertions import Annotations, Match

    _network_domain(stack, teardown=False)
    assert not [r for r in resources(template_of(stack), "AWS::EC2::SecurityGroupEgress").values()
                if "DestinationPrefixListId" in r["Properties"]]
    Annotations.from_stack(stack).has_warning("/Test/Studio", Match.string_like_regexp(
        "teardown=False without s3_prefix_list_id.*no HTTPS egress to S3"))


@pytest.mark.parametrize("kwargs", [{}, {"teardown": False, "s3_prefix_list_id": "pl-63a5400a"}])
def test_s3_egress_by_either_way_does_not_warn(stack, kwargs):
    from aws_cdk.assertions import Annotations, Match

    _network_domain(stack, **kwargs)
    Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp("s3_prefix_list_id"))


def test_imported_vpc_and_key_need_no_lookups(stack):
    vpc = ec2.Vpc.from_vpc_attributes(
        stack, "Vpc", vpc_id="vpc-0123456789abcdef0", vpc_cidr_block="10.1.0.0/16",
        availability_zones=["us-east-1a", "us-east-1b"], isolated_subnet_ids=["subnet-0a", "subnet-0b"],
    )
    key = kms.Key.from_key_arn(stack, "Key", "arn:aws:kms:us-east-1:111122223333:key/abcd")
    domain = StudioDomain(stack, "Studio", vpc=vpc, encryption_key=key, domain_name="team-a")
    domain.add_user_profile("alice")
    d = _domain(template_of(stack))
    assert d["SubnetIds"] == ["subnet-0a", "subnet-0b"]
    assert d["VpcId"] == "vpc-0123456789abcdef0"
    assert d["KmsKeyId"] == "arn:aws:kms:us-east-1:111122223333:key/abcd"
    assert d["DomainName"] == "team-a"
    assert not stack.node.metadata or all(m.type != "aws:cdk:missing" for m in stack.node.metadata)


def test_default_domain_name_is_valid(studio):
    _, domain, t = studio
    import re

    name = _domain(t)["DomainName"]
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name), name


# ----------------------------------------------------------------- validation


def test_rejects_imported_vpc_without_cidr_or_endpoint_sg(stack):
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-1", availability_zones=["us-east-1a"],
                                      isolated_subnet_ids=["subnet-0a"])
    with pytest.raises(ValidationError, match="vpc_cidr_block"):
        StudioDomain(stack, "Studio", vpc=vpc, encryption_key=PlatformKey(stack, "Key"))


def test_rejects_vpc_without_private_subnets(stack):
    vpc = ec2.Vpc(stack, "Vpc", nat_gateways=0, subnet_configuration=[
        ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC)])
    with pytest.raises(ValidationError, match="no private or isolated subnets"):
        StudioDomain(stack, "Studio", vpc=vpc, encryption_key=PlatformKey(stack, "Key"))


def test_rejects_more_than_16_subnets(stack):
    net = IsolatedNetwork(stack, "Network", endpoints="none")
    subnets = [ec2.Subnet.from_subnet_id(stack, f"S{i}", f"subnet-{i:02d}") for i in range(17)]
    with pytest.raises(ValidationError, match="1 to 16 subnets"):
        StudioDomain(stack, "Studio", vpc=net.vpc, encryption_key=PlatformKey(stack, "Key"), subnets=subnets)


def test_rejects_empty_subnet_list(stack):
    net = IsolatedNetwork(stack, "Network", endpoints="none")
    with pytest.raises(ValidationError, match="subnets"):
        StudioDomain(stack, "Studio", vpc=net.vpc, encryption_key=PlatformKey(stack, "Key"), subnets=[])


@pytest.mark.parametrize("name", ["-bad", "bad-", "has_underscore", "a" * 64, "dots.not.allowed"])
def test_rejects_bad_domain_names(stack, name):
    with pytest.raises(ValidationError, match="domain_name"):
        _network_domain(stack, domain_name=name)


@pytest.mark.parametrize("name", ["-bad", "has space", "b" * 64])
def test_rejects_bad_user_profile_names(stack, name):
    _, domain = _network_domain(stack)
    with pytest.raises(ValidationError, match="user profile name"):
        domain.add_user_profile(name)


def test_rejects_duplicate_user_profile(stack):
    _, domain = _network_domain(stack)
    domain.add_user_profile("alice")
    with pytest.raises(ValidationError, match="at most once"):
        domain.add_user_profile("alice")


@pytest.mark.parametrize("timeout", [Duration.minutes(59), Duration.minutes(525_601)])
def test_rejects_idle_timeout_out_of_range(stack, timeout):
    with pytest.raises(ValidationError, match="idle_timeout"):
        _network_domain(stack, idle_timeout=timeout)


def test_rejects_snapshot_for_home_efs(stack):
    with pytest.raises(ValidationError, match="home_efs_removal_policy"):
        _network_domain(stack, home_efs_removal_policy=RemovalPolicy.SNAPSHOT)


def test_rejects_bad_prefix_list_id(stack):
    with pytest.raises(ValidationError, match="s3_prefix_list_id"):
        _network_domain(stack, s3_prefix_list_id="s3")


def test_requires_a_key(stack):
    net = IsolatedNetwork(stack, "Network", endpoints="none")
    with pytest.raises(ValidationError, match="encryption_key"):
        StudioDomain(stack, "Studio", vpc=net.vpc, encryption_key=None)


def test_job_roles_are_the_only_passable_roles(stack):
    from sagemaker_constructs import JobExecutionRole

    key = PlatformKey(stack, "Key")
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="none")
    job = JobExecutionRole(stack, "Job", encryption_key=key)
    StudioDomain(stack, "Studio", vpc=net.vpc, encryption_key=key, job_roles=[job])
    t = template_of(stack)
    docs = [p["Properties"]["PolicyDocument"] for k, p in resources(t, "AWS::IAM::ManagedPolicy").items()
            if k.startswith("StudioExecutionRole")]
    passes = [s for d in docs for s in d["Statement"] if s.get("Action") == "iam:PassRole"]
    assert len(passes) == 1
    assert passes[0]["Resource"] == {"Fn::GetAtt": [next(k for k in resources(t, "AWS::IAM::Role") if k.startswith("Job")), "Arn"]}
    assert passes[0]["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


# ----------------------------------------------------------------- teardown acts only on the domain's own deletion


def _teardown_policy(t):
    (doc,) = [p["Properties"]["PolicyDocument"] for k, p in resources(t, "AWS::IAM::ManagedPolicy").items()
              if k.startswith("StudioTeardownProviderPolicy")]
    return {s.get("Sid"): s for s in doc["Statement"]}


def test_teardown_knows_the_domain_logical_id_and_its_retention(studio):
    _, domain, t = studio
    (teardown,) = resources(t, "Custom::StudioTeardown").values()
    (domain_logical_id,) = resources(t, "AWS::SageMaker::Domain")
    props = teardown["Properties"]
    assert props["DomainLogicalId"] == domain_logical_id
    assert props["DomainDeletionPolicy"] == "Delete" and props["DomainUpdateReplacePolicy"] == "Delete"
    assert domain.teardown.node.id == "Teardown" and props["ServiceToken"]


def test_teardown_sees_a_removal_policy_applied_to_the_domain_later(stack):
    _, domain = _network_domain(stack)
    domain.cfn_domain.apply_removal_policy(RemovalPolicy.RETAIN)
    t = template_of(stack)
    (teardown,) = resources(t, "Custom::StudioTeardown").values()
    assert teardown["Properties"]["DomainDeletionPolicy"] == "Retain"
    assert teardown["Properties"]["DomainUpdateReplacePolicy"] == "Retain"


def test_teardown_reads_only_its_own_stack(studio):
    _, _, t = studio
    statements = _teardown_policy(t)
    assert statements["ReadOwnStack"] == {
        "Action": ["cloudformation:DescribeStackResource", "cloudformation:DescribeStacks", "cloudformation:GetTemplate"],
        "Effect": "Allow", "Resource": {"Ref": "AWS::StackId"}, "Sid": "ReadOwnStack"}
    others = [s for sid, s in statements.items() if sid != "ReadOwnStack"]
    assert "cloudformation:" not in json.dumps(others)


def test_retained_home_efs_loses_only_what_blocks_deleting_the_network(studio):
    _, _, t = studio
    statements = _teardown_policy(t)
    efs = statements["DeleteStudioHomeEfsMountTargets"]
    assert efs["Action"] == "elasticfilesystem:DeleteMountTarget"  # never DeleteFileSystem
    assert "ManagedByAmazonSageMakerResource" in json.dumps(efs["Condition"])
    groups = statements["DeleteStudioNfsSecurityGroups"]
    assert set(groups["Action"]) == {"ec2:DeleteSecurityGroup", "ec2:RevokeSecurityGroupIngress",
                                     "ec2:RevokeSecurityGroupEgress"}
    assert "ec2:Vpc" in groups["Condition"]["ArnEquals"]
    enis = statements["DeleteDetachedStudioNetworkInterfaces"]
    assert enis["Action"] == "ec2:DeleteNetworkInterface"
    assert set(enis["Condition"]["ArnEquals"]) == {"ec2:Vpc", "ec2:Subnet"}


def test_teardown_may_touch_only_this_domains_nfs_groups_and_subnets(studio):
    """In a VPC shared with other teams, the teardown can neither revoke rules on nor delete a
    group SageMaker did not tag with this domain's ARN, nor delete an ENI outside its subnets."""
    _, _, t = studio
    statements = _teardown_policy(t)
    groups = statements["DeleteStudioNfsSecurityGroups"]
    (domain_id,) = resources(t, "AWS::SageMaker::Domain")
    tag = groups["Condition"]["StringEquals"]["aws:ResourceTag/ManagedByAmazonSageMakerResource"]
    assert domain_id in json.dumps(tag)  # the domain's own ARN
    assert groups["Resource"]["Fn::Join"][1][-1].endswith(":security-group/*")
    enis = statements["DeleteDetachedStudioNetworkInterfaces"]
    subnets = enis["Condition"]["ArnEquals"]["ec2:Subnet"]
    (domain,) = resources(t, "AWS::SageMaker::Domain").values()
    assert len(subnets) == len(domain["Properties"]["SubnetIds"]) >= 1
    for arn, subnet in zip(subnets, domain["Properties"]["SubnetIds"]):
        assert json.dumps(subnet) in json.dumps(arn)
    ec2_actions = {a for s in statements.values() for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
                   if a.startswith("ec2:") and not a.startswith("ec2:Describe")}
    assert ec2_actions == {"ec2:DeleteSecurityGroup", "ec2:RevokeSecurityGroupIngress",
                           "ec2:RevokeSecurityGroupEgress", "ec2:DeleteNetworkInterface"}


def test_destroyed_home_efs_adds_only_delete_file_system(stack):
    _network_domain(stack, home_efs_removal_policy=RemovalPolicy.DESTROY)
    efs = _teardown_policy(template_of(stack))["DeleteStudioHomeEfs"]
    assert efs["Action"] == ["elasticfilesystem:DeleteFileSystem", "elasticfilesystem:DeleteMountTarget"]


def test_teardown_properties_match_what_the_handler_reads(studio):
    """The handler's decision reads these properties; a renamed property would silently mean 'delete nothing'."""
    from tests.handlers.conftest import load_handler

    source = (load_handler("studio_teardown").__file__)
    text = open(source).read()
    _, _, t = studio
    (teardown,) = resources(t, "Custom::StudioTeardown").values()
    for prop in ("DomainId", "DomainLogicalId", "DomainDeletionPolicy", "DomainUpdateReplacePolicy", "RemoveHomeEfs"):
        assert prop in teardown["Properties"] and f'"{prop}"' in text


# ----------------------------------------------------------------- supplied roles and keys


def _bucket(stack, key, id="Data"):
    return SecureBucket(stack, id, encryption_key=key)


def _with_role(stack, role, **kwargs):
    key = PlatformKey(stack, "Key")
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="none")
    bucket = _bucket(stack, key)
    domain = StudioDomain(stack, "Studio", vpc=net.vpc, encryption_key=key, default_execution_role=role,
                          data_buckets=[bucket], **kwargs)
    return domain, template_of(stack)


def _bucket_statements_of_default_role(t):
    """Statements of the default StudioUserRole's policies that name the bucket, plus its KMS statements."""
    docs = [p["Properties"]["PolicyDocument"] for k, p in resources(t, "AWS::IAM::ManagedPolicy").items()
            if k.startswith("StudioExecutionRole")]
    (bucket,) = [k for k in resources(t, "AWS::S3::Bucket") if k.startswith("Data") and "AccessLogs" not in k]
    return sorted((json.dumps(s, sort_keys=True) for d in docs for s in d["Statement"]
                   if f'"{bucket}"' in json.dumps(s["Resource"]) or all(a.startswith("kms:") for a in
                                                                      ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))))


def _strip_sid(statement_json):
    """A statement without its Sid and with its actions sorted (iam.Policy and ManagedPolicy order them differently)."""
    s = json.loads(statement_json)
    s.pop("Sid", None)
    if isinstance(s["Action"], list):
        s["Action"] = sorted(s["Action"])
    return json.dumps(s, sort_keys=True)


def test_supplied_mutable_role_gets_exactly_the_default_roles_bucket_grants(stack):
    role = iam.Role(stack, "Own", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    _, t = _with_role(stack, role)
    (policy,) = [p["Properties"] for k, p in resources(t, "AWS::IAM::Policy").items() if k.startswith("OwnDefaultPolicy")]
    granted = sorted(_strip_sid(json.dumps(s, sort_keys=True)) for s in policy["PolicyDocument"]["Statement"])
    assert not [k for k in resources(t, "AWS::IAM::Role") if k.startswith("Studio") and "Teardown" not in k]
    # The same statements, as the default role gets them for the same bucket.
    reference = cdk.Stack(cdk.App(), "Reference")
    _, t_default = _with_role(reference, None)
    expected = sorted(_strip_sid(s) for s in _bucket_statements_of_default_role(t_default))
    assert granted == expected
    actions = json.dumps(granted)
    for action in ("s3:GetObject", "s3:PutObject", "s3:ListBucket", "kms:Decrypt", "kms:GenerateDataKey"):
        assert action in actions
    assert "sagemaker:" not in actions and "iam:PassRole" not in actions


def test_supplied_role_imported_mutable_gets_the_grants_too(stack):
    role = iam.Role.from_role_arn(stack, "Imported", f"arn:aws:iam::{cdk.Aws.ACCOUNT_ID}:role/ds")
    _, t = _with_role(stack, role)
    docs = json.dumps([p["Properties"] for p in resources(t, "AWS::IAM::Policy").values()])
    assert '"ds"' in docs and "s3:PutObject" in docs


#: The bucket kinds a domain's data_buckets may be: (make(stack, key), what its ARNs contain once resolved).
_BUCKET_KINDS = {
    "secure_bucket_of_the_stack": (lambda stack, key: _bucket(stack, key), "Data"),
    "s3_bucket_of_the_stack": (lambda stack, key: s3.Bucket(stack, "Data"), "Data"),
    "imported_by_name": (lambda stack, key: s3.Bucket.from_bucket_name(stack, "Data", "team-data-bucket"),
                         "team-data-bucket"),
    "imported_by_attributes": (lambda stack, key: s3.Bucket.from_bucket_attributes(
        stack, "Data", bucket_name="team-data-bucket"), "team-data-bucket"),
    "imported_by_attributes_with_key": (lambda stack, key: s3.Bucket.from_bucket_attributes(
        stack, "Data", bucket_name="team-data-bucket",
        encryption_key=kms.Key.from_key_arn(stack, "BucketKey", _BUCKET_KEY_ARN)), "team-data-bucket"),
}
_BUCKET_KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555"
_SUPPLIED_ROLE_ARN = "arn:aws:iam::111122223333:role/TeamStudioUser"


def _domain_with_bucket(kind, role_kind):
    """A domain (stack ``Test``, same construct ids either way) whose data bucket is of ``kind``, with
    the default execution role (``role_kind`` None) or a supplied one: ``"imported"``
    (``from_role_arn(..., mutable=True)``) or ``"own"`` (an ``iam.Role`` of the stack)."""
    stack = cdk.Stack(cdk.App(), "Test")
    key = PlatformKey(stack, "Key")
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0abc", availability_zones=["us-east-1a"],
                                      private_subnet_ids=["subnet-priv1"], vpc_cidr_block="10.1.0.0/16")
    bucket = _BUCKET_KINDS[kind][0](stack, key)
    role = None
    if role_kind == "imported":
        role = iam.Role.from_role_arn(stack, "UserRole", _SUPPLIED_ROLE_ARN, mutable=True)
    elif role_kind == "own":
        role = iam.Role(stack, "UserRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    StudioDomain(stack, "Studio", vpc=vpc, encryption_key=key, default_execution_role=role, data_buckets=[bucket],
                 s3_prefix_list_id="pl-63a5400a", teardown=False)
    return template_of(stack)


def _statement_set(statements):
    """(Sid, Effect, actions, resources) of each statement, actions and resources in a canonical order."""
    def listed(value):
        return value if isinstance(value, list) else [value]

    return {(s.get("Sid"), s["Effect"], tuple(sorted(listed(s["Action"]))),
             tuple(sorted(json.dumps(r, sort_keys=True) for r in listed(s["Resource"]))))
            for s in statements}


def _default_role_bucket_statements(t, marker):
    """The default role's statements (its managed policies) naming the bucket, and its KMS ones."""
    statements = [s for k, p in resources(t, "AWS::IAM::ManagedPolicy").items() if k.startswith("StudioExecutionRole")
                  for s in p["Properties"]["PolicyDocument"]["Statement"]]
    return _statement_set(s for s in statements if marker in json.dumps(s["Resource"]) or all(
        a.startswith("kms:") for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])))


def _supplied_role_statements(t, role_kind):
    """Every statement the domain added to the supplied role (its inline policy)."""
    if role_kind == "imported":
        policies = [p["Properties"] for p in resources(t, "AWS::IAM::Policy").values()
                    if p["Properties"]["Roles"] == ["TeamStudioUser"]]
    else:
        policies = [p["Properties"] for k, p in resources(t, "AWS::IAM::Policy").items()
                    if k.startswith("UserRoleDefaultPolicy")]
    assert len(policies) == 1, policies
    return _statement_set(policies[0]["PolicyDocument"]["Statement"])


@pytest.mark.parametrize("role_kind", ["imported", "own"])
@pytest.mark.parametrize("kind", sorted(_BUCKET_KINDS))
def test_supplied_role_gets_the_default_roles_bucket_statements_for_every_bucket_kind(kind, role_kind):
    """Allow and Deny alike: object and bucket actions, the prefix guardrails, the keys."""
    marker = _BUCKET_KINDS[kind][1]
    expected = _default_role_bucket_statements(_domain_with_bucket(kind, None), marker)
    t = _domain_with_bucket(kind, role_kind)
    assert not [k for k in resources(t, "AWS::IAM::Role") if k.startswith("Studio")]  # no default role
    assert not [k for k in resources(t, "AWS::IAM::ManagedPolicy") if k.startswith("StudioDefaultRoleTemplate")]
    granted = _supplied_role_statements(t, role_kind)
    assert granted == expected
    # Not vacuous: the default role's set is the whole bucket-related set of StudioUserRole.
    assert {(sid, effect) for sid, effect, _, _ in expected} == {
        ("ReadWriteDataBucketsObjects", "Allow"), ("ReadWriteDataBuckets", "Allow"),
        ("UseEncryptionKeys", "Allow"), ("GrantKeysToAwsServices", "Allow"),
        ("DenyWritesUnderServingPrefixes", "Deny"), ("DenyCapturedRequests", "Deny"),
    }
    by_sid = {sid: resources_ for sid, _, _, resources_ in granted}
    assert all(marker in r for r in by_sid["ReadWriteDataBucketsObjects"])
    assert all(r.endswith('/models/*"]]}') for r in by_sid["DenyWritesUnderServingPrefixes"])
    keys = json.dumps(by_sid["UseEncryptionKeys"])
    assert "Key961B73FD" in keys
    assert (_BUCKET_KEY_ARN in keys) is (kind == "imported_by_attributes_with_key")


def test_supplied_role_gets_no_statement_about_other_buckets_or_keys():
    """Only the statements about the data buckets and keys: no job, pipeline, log or ECR permissions,
    no guardrail that names no bucket."""
    t = _domain_with_bucket("imported_by_name", "imported")
    granted = _supplied_role_statements(t, "imported")
    assert {sid for sid, _, _, _ in granted} == {
        "ReadWriteDataBucketsObjects", "ReadWriteDataBuckets", "UseEncryptionKeys", "GrantKeysToAwsServices",
        "DenyWritesUnderServingPrefixes", "DenyCapturedRequests",
    }
    actions = {a for _, _, acts, _ in granted for a in acts}
    assert all(a.startswith(("s3:", "kms:")) for a in actions)


def test_supplied_role_gets_the_statements_for_every_data_and_sharing_bucket(stack):
    """Buckets of mixed kinds in one domain: every bucket's object, bucket and guardrail statements."""
    key = PlatformKey(stack, "Key")
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0abc", availability_zones=["us-east-1a"],
                                      private_subnet_ids=["subnet-priv1"], vpc_cidr_block="10.1.0.0/16")
    own = _bucket(stack, key)
    by_name = s3.Bucket.from_bucket_name(stack, "ByName", "team-data-bucket")
    sharing = s3.Bucket.from_bucket_attributes(stack, "Sharing", bucket_name="team-sharing-bucket")
    role = iam.Role.from_role_arn(stack, "UserRole", _SUPPLIED_ROLE_ARN, mutable=True)
    StudioDomain(stack, "Studio", vpc=vpc, encryption_key=key, default_execution_role=role,
                 data_buckets=[own, by_name], notebook_sharing_bucket=sharing,
                 s3_prefix_list_id="pl-63a5400a", teardown=False)
    granted = _supplied_role_statements(template_of(stack), "imported")
    by_sid = {sid: "".join(resources_) for sid, _, _, resources_ in granted}
    for sid in ("ReadWriteDataBucketsObjects", "ReadWriteDataBuckets", "DenyWritesUnderServingPrefixes",
                "DenyCapturedRequests"):
        for name in ("Data", "team-data-bucket", "team-sharing-bucket"):
            assert name in by_sid[sid], (sid, name)


def test_supplied_immutable_role_raises_naming_the_actions(stack):
    role = iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::111122223333:role/ds", mutable=False)
    with pytest.raises(ValidationError, match=r"default_execution_role.*s3:GetObject.*s3:PutObject.*role_is_prepared"):
        _with_role(stack, role)


def test_supplied_immutable_role_accepted_when_prepared(stack):
    role = iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::111122223333:role/ds", mutable=False)
    domain, t = _with_role(stack, role, role_is_prepared=True)
    assert _domain(t)["DefaultUserSettings"]["ExecutionRole"] == "arn:aws:iam::111122223333:role/ds"
    assert domain.node.try_find_child("DefaultRoleTemplate") is None
    assert not [k for k in resources(t, "AWS::IAM::ManagedPolicy") if k.startswith("StudioDefaultRoleTemplate")]


def test_supplied_immutable_role_without_buckets_needs_nothing(stack):
    role = iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::111122223333:role/ds", mutable=False)
    _network_domain(stack, default_execution_role=role)  # no data buckets: nothing to grant, no error


def test_everything_the_domain_creates_uses_the_domains_key(studio):
    _, _, t = studio
    assert list(resources(t, "AWS::KMS::Key")) == ["Key961B73FD"]  # the caller's key only
    key_refs = []

    def walk(value, key=None):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif key in ("KmsKeyId", "KmsKeyArn", "KMSKeyArn", "S3KmsKeyId") and value is not None:
            key_refs.append(value)
        if isinstance(value, dict) and key in ("KmsKeyId", "KmsKeyArn", "KMSKeyArn", "S3KmsKeyId"):
            key_refs.append(value)

    walk(t["Resources"])
    assert key_refs and all(ref == {"Fn::GetAtt": ["Key961B73FD", "Arn"]} for ref in key_refs), key_refs
    log_groups = resources(t, "AWS::Logs::LogGroup")
    assert log_groups and all(g["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["Key961B73FD", "Arn"]}
                              for k, g in log_groups.items() if k.startswith("Studio"))


def test_teardown_role_may_make_every_call_of_the_handler(studio):
    """SageMaker's List* actions have no resource type: IAM matches ListApps/ListSpaces only with a
    statement whose Resource is "*" (a statement naming the domain's app ARNs never allows them), so
    a teardown scoped to the domain's ARNs was denied its first call and every stack deletion failed."""
    from tests.harness.iam_eval import ALLOW, default_refs, evaluate, role_policies

    _, _, t = studio
    refs = default_refs(t)
    (role_id,) = [k for k in resources(t, "AWS::IAM::Role") if k.startswith("StudioTeardownProviderRole")]
    policies = role_policies(t, role_id, refs)
    (domain_logical_id,) = resources(t, "AWS::SageMaker::Domain")
    domain_id = refs[f"{domain_logical_id}.DomainId"]
    sagemaker = "arn:aws:sagemaker:eu-west-1:111122223333"
    calls = {
        "sagemaker:DescribeDomain": f"{sagemaker}:domain/{domain_id}",
        "sagemaker:ListApps": "*",  # no resource type (Service Authorization Reference)
        "sagemaker:ListSpaces": "*",
        "sagemaker:DeleteApp": f"{sagemaker}:app/{domain_id}/alice/jupyterlab/default",
        "sagemaker:DescribeSpace": f"{sagemaker}:space/{domain_id}/team",
        "sagemaker:DeleteSpace": f"{sagemaker}:space/{domain_id}/team",
        "ec2:DescribeSecurityGroups": "*",
        "ec2:DescribeNetworkInterfaces": "*",
        "ec2:DescribePrefixLists": "*",
        "elasticfilesystem:DescribeMountTargets": "*",
        "elasticfilesystem:DescribeFileSystems": "*",
    }
    for action, resource in calls.items():
        assert evaluate(policies, action, resource).effect == ALLOW, action
    # the deletes stay on this domain: another domain's apps and spaces are not the teardown's
    other = f"{sagemaker}:app/d-otherdomain01/bob/jupyterlab/default"
    assert evaluate(policies, "sagemaker:DeleteApp", other).effect != ALLOW
    assert evaluate(policies, "sagemaker:DeleteSpace", f"{sagemaker}:space/d-otherdomain01/team").effect != ALLOW


def test_user_profile_named_by_a_parameter_needs_an_id(stack):
    """A CfnParameter as the user name: the name was also the construct id, and CDK failed at synth with
    'ID components may not include unresolved tokens'. Now id= names the construct, and without it the
    ValidationError says so."""
    _, domain = _network_domain(stack, allowed_instance_types=["ml.t3.*"])
    user = cdk.CfnParameter(stack, "UserName")
    with pytest.raises(ValidationError, match="id="):
        domain.add_user_profile(user.value_as_string)
    role = iam.Role(stack, "UserRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    profile = domain.add_user_profile(user.value_as_string, id="User", execution_role=role)
    assert profile.node.path.endswith("/UserProfiles/User")
    with pytest.raises(ValidationError, match="id"):
        domain.add_user_profile("user", id="User")
    t = template_of(stack)
    (props,) = resources(t, "AWS::SageMaker::UserProfile").values()
    assert props["Properties"]["UserProfileName"] == {"Ref": "UserName"}


def test_supplied_role_may_pass_the_job_roles(stack):
    """job_roles with default_execution_role= was silently ignored: the supplied role got no
    iam:PassRole, so users of the domain could start no job although job_roles named the roles."""
    from sagemaker_constructs import JobExecutionRole

    key = PlatformKey(stack, "Key")
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="none")
    job = JobExecutionRole(stack, "Job", encryption_key=key)
    own = iam.Role(stack, "Own", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    StudioDomain(stack, "Studio", vpc=net.vpc, encryption_key=key, job_roles=[job], default_execution_role=own)
    t = template_of(stack)
    (policy,) = [p["Properties"] for k, p in resources(t, "AWS::IAM::Policy").items() if k.startswith("OwnDefaultPolicy")]
    passes = [s for s in policy["PolicyDocument"]["Statement"] if s.get("Action") == "iam:PassRole"]
    job_id = next(k for k in resources(t, "AWS::IAM::Role") if k.startswith("Job"))
    assert [(s["Resource"], s["Condition"]) for s in passes] == [
        ({"Fn::GetAtt": [job_id, "Arn"]}, {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}})]


def test_supplied_immutable_role_with_job_roles_raises_unless_prepared(stack):
    from sagemaker_constructs import JobExecutionRole

    key = PlatformKey(stack, "Key")
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="none")
    job = JobExecutionRole(stack, "Job", encryption_key=key)
    role = iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::111122223333:role/ds", mutable=False)
    with pytest.raises(ValidationError, match=r"default_execution_role.*iam:PassRole.*role_is_prepared"):
        StudioDomain(stack, "Studio", vpc=net.vpc, encryption_key=key, job_roles=[job], default_execution_role=role)
    StudioDomain(stack, "Studio2", vpc=net.vpc, encryption_key=key, job_roles=[job], default_execution_role=role,
                 role_is_prepared=True)


def test_readme_states_the_teardown_timeout_the_provider_has():
    """The README still said the teardown retried 'until the 2-hour timeout' after it became 1 hour."""
    import re
    from pathlib import Path

    from sagemaker_constructs.studio.teardown import TEARDOWN_TIMEOUT

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    stated = {int(h) for h in re.findall(r"until the (\d+)-hour timeout", readme)}
    assert stated == {int(TEARDOWN_TIMEOUT.to_hours())}
