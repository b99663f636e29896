"""StudioDomain apps and spaces: default app settings, custom images, shared spaces, Canvas."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam

from sagemaker_constructs import (
    CanvasSettings, CustomImage, IsolatedNetwork, ModelPackageGroup, Persona, PlatformKey, SecureBucket, StudioDomain,
    StudioUserRole, ValidationError,
)
from sagemaker_constructs.mlops.registry import ImportedModelPackageGroup
from tests.harness.templates import only, resources, template_of
from tests.conftest import new_app


def _domain(stack, **kwargs):
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="studio")
    domain = StudioDomain(stack, "Studio", vpc=net.vpc, encryption_key=key, data_buckets=[bucket],
                          endpoint_security_group=net.endpoint_security_group, **kwargs)
    return domain, bucket, key


def _policies(t, prefix):
    return {k: v["Properties"] for k, v in resources(t, "AWS::IAM::ManagedPolicy").items() if k.startswith(prefix)}


def test_defaults_add_no_guardrails_or_canvas(stack):
    _domain(stack)
    t = template_of(stack)
    assert not _policies(t, "StudioAppGuardrails") and not resources(t, "Custom::CanvasSettings")


def test_default_app_settings_images_and_lifecycle(stack):
    repo = ecr.Repository.from_repository_name(stack, "Repo", "team-image")
    image = CustomImage(stack, "Image", repository=repo, tag="v1")
    editor = CustomImage(stack, "Editor", repository=repo, app_type="CodeEditor")
    domain, *_ = _domain(stack, default_instance_type="ml.t3.large", allowed_instance_types=["ml.t3.*"],
                         custom_images=[image, editor], default_image=image, space_ebs_gb=(10, 100),
                         jupyter_lab_lifecycle_configs=["arn:aws:sagemaker:us-east-1:123456789012:studio-lifecycle-config/a"],
                         code_editor_lifecycle_configs=["arn:aws:sagemaker:us-east-1:123456789012:studio-lifecycle-config/e"])
    t = template_of(stack)
    settings = only(t, "AWS::SageMaker::Domain")["DefaultUserSettings"]
    jl, ce = settings["JupyterLabAppSettings"], settings["CodeEditorAppSettings"]
    assert jl["DefaultResourceSpec"]["InstanceType"] == "ml.t3.large" and "SageMakerImageArn" in jl["DefaultResourceSpec"]
    assert jl["LifecycleConfigArns"] == [jl["DefaultResourceSpec"]["LifecycleConfigArn"]]
    assert jl["LifecycleConfigArns"][0].endswith("/a") and ce["LifecycleConfigArns"][0].endswith("/e")
    assert ce["DefaultResourceSpec"]["LifecycleConfigArn"].endswith("/e")
    assert [i["ImageName"] for i in jl["CustomImages"]] == [image.image_name]
    assert [i["ImageName"] for i in ce["CustomImages"]] == [editor.image_name]
    assert settings["SpaceStorageSettings"]["DefaultEbsStorageSettings"] == {
        "DefaultEbsVolumeSizeInGb": 10, "MaximumEbsVolumeSizeInGb": 100}
    version = next(iter(resources(t, "AWS::SageMaker::ImageVersion").values()))["Properties"]
    assert "team-image:v1" in json.dumps(version["BaseImage"])
    assert len(resources(t, "AWS::SageMaker::AppImageConfig")) == 2
    guard = json.dumps(_policies(t, "StudioAppGuardrailsExecutionRole"))
    assert "sagemaker:InstanceTypes" in guard and "ml.t3.*" in guard and '"Deny"' in guard
    image_policy = json.dumps(_policies(t, "ImagePolicy"))
    assert "ecr:BatchGetImage" in image_policy


@pytest.mark.parametrize("kwargs, match", [
    ({"default_instance_type": "t3.large"}, "default_instance_type"),
    ({"allowed_instance_types": ["ml.t3.*"], "default_instance_type": "ml.m5.large"}, "allowed_instance_types"),
    ({"allowed_instance_types": []}, "allowed_instance_types"),
    ({"allowed_instance_types": ["t3.medium"]}, "allowed_instance_types"),
    ({"space_ebs_gb": (4, 10)}, "space_ebs_gb"),
    ({"space_ebs_gb": (20, 10)}, "space_ebs_gb"),
    ({"space_ebs_gb": (5, 20000)}, "space_ebs_gb"),
])
def test_app_settings_bad_input(stack, kwargs, match):
    with pytest.raises(ValidationError, match=match):
        _domain(stack, **kwargs)


def test_default_image_must_be_listed(stack):
    repo = ecr.Repository.from_repository_name(stack, "Repo", "team-image")
    image = CustomImage(stack, "Image", repository=repo)
    with pytest.raises(ValidationError, match="default_image"):
        _domain(stack, default_image=image)


@pytest.mark.parametrize("kwargs, match", [({"app_type": "RStudio"}, "app_type"), ({"image_name": "bad_name"}, "image_name")])
def test_custom_image_bad_input(stack, kwargs, match):
    repo = ecr.Repository.from_repository_name(stack, "Repo", "team-image")
    with pytest.raises(ValidationError, match=match):
        CustomImage(stack, "Image", repository=repo, **kwargs)


@pytest.mark.parametrize("names", [
    ("team.image", "team-image"),
    ("research-pytorch-2-3-cuda-12-1-python-3-11-ubuntu-22-04-gpu-v1",
     "research-pytorch-2-3-cuda-12-1-python-3-11-ubuntu-22-04-gpu-v2"),
])
def test_custom_images_whose_app_image_configs_share_a_name_are_refused(stack, names):
    """Both images' AppImageConfigs got one name (the image name's first 56 characters, '.' as '-'):
    CloudFormation would fail to create the second."""
    repo = ecr.Repository.from_repository_name(stack, "Repo", "team-image")
    images = [CustomImage(stack, f"Image{i}", repository=repo, image_name=n) for i, n in enumerate(names)]
    with pytest.raises(ValidationError, match=rf"custom_images='{names[0]} and {names[1]}'.*app image config names"):
        _domain(stack, custom_images=images)


# ------------------------------------------------------------------ shared spaces
def test_shared_space_owned_by_a_member_apps_for_members_only(stack):
    domain, bucket, key = _domain(stack)
    alice, bob = domain.add_user_profile("alice"), domain.add_user_profile("bob")
    carol_role = StudioUserRole(stack, "CarolRole", encryption_key=key, user_profile_name="carol")
    admin_role = StudioUserRole(stack, "AdminRole", encryption_key=key, persona=Persona.PLATFORM_ADMIN)
    domain.add_user_profile("carol", execution_role=carol_role)
    domain.add_user_profile("root", execution_role=admin_role)
    space = domain.add_shared_space("Team", name="team", members=[alice, bob], owner=bob, ebs_volume_size_gb=20,
                                    idle_timeout=Duration.minutes(60))
    t = template_of(stack)
    props = only(t, "AWS::SageMaker::Space")
    assert props["SpaceSharingSettings"] == {"SharingType": "Shared"}
    assert props["OwnershipSettings"] == {"OwnerUserProfileName": "bob"}
    assert props["SpaceSettings"]["SpaceStorageSettings"]["EbsStorageSettings"]["EbsVolumeSizeInGb"] == 20
    shared = json.dumps(_policies(t, "StudioAppGuardrailsExecutionRole"))
    assert '"aws:SourceIdentity": ["alice", "bob"]' in shared and "/team/*" in shared
    carol = json.dumps(_policies(t, "StudioAppGuardrailscarol"))
    assert "/team/*" in carol and "aws:SourceIdentity" not in carol  # carol's own role: denied outright
    assert not _policies(t, "StudioAppGuardrailsroot")  # platform admins manage every space
    assert domain.shared_spaces == {"Team": space} and space.owner is bob


def test_shared_space_bad_input(stack):
    domain, *_ = _domain(stack, space_ebs_gb=(5, 50))
    alice = domain.add_user_profile("alice")
    other_stack = cdk.Stack(new_app(), "Other")
    other, *_ = _domain(other_stack)
    stranger = other.add_user_profile("zed")
    cases = [
        (dict(name="bad_name", members=[alice]), "name"),
        (dict(name="s1", members=[]), "members"),
        (dict(name="s2", members=[stranger]), "members"),
        (dict(name="s3", members=[alice], ebs_volume_size_gb=60), "ebs_volume_size_gb"),
        (dict(name="s4", members=[alice], ebs_volume_size_gb=2), "ebs_volume_size_gb"),
        (dict(name="s5", members=[alice], idle_timeout=Duration.hours(2)), "idle_timeout"),
        (dict(name="s6", members=[alice], app_type="Canvas"), "app_type"),
        (dict(name="s7", members=[alice], instance_type="m5.large"), "instance_type"),
    ]
    for i, (kwargs, match) in enumerate(cases):
        with pytest.raises(ValidationError, match=match):
            domain.add_shared_space(f"S{i}", **kwargs)
    domain.add_shared_space("Ok", name="ok", members=[alice])
    with pytest.raises(ValidationError, match="name"):
        domain.add_shared_space("Again", name="ok", members=[alice])


# ------------------------------------------------------------------ Canvas
def test_canvas_settings_resource_and_personas():
    s = cdk.Stack(new_app(), "C")
    key = PlatformKey(s, "Key")
    bucket = SecureBucket(s, "Data", encryption_key=key)
    group = ModelPackageGroup(s, "Group", model_package_group_name="canvas-models")
    net = IsolatedNetwork(s, "Network", encryption_key=key, endpoints="studio")
    domain = StudioDomain(s, "Studio", vpc=net.vpc, encryption_key=key, data_buckets=[bucket],
                          canvas=CanvasSettings(workspace_bucket=bucket, model_package_group=group, athena=True,
                                                data_buckets=[bucket]))
    engineer = StudioUserRole(s, "Engineer", encryption_key=key, persona=Persona.ML_ENGINEER)
    domain.add_user_profile("alice")
    domain.add_user_profile("eve", execution_role=engineer)
    t = template_of(s)
    props = only(t, "Custom::CanvasSettings")
    canvas = props["CanvasAppSettings"]
    assert canvas["DirectDeploySettings"] == {"Status": "DISABLED"}
    assert canvas["ModelRegisterSettings"] == {"Status": "ENABLED"}
    assert canvas["KendraSettings"] == {"Status": "DISABLED"} and "GenerativeAiSettings" not in canvas
    assert "/canvas" in json.dumps(canvas["WorkspaceSettings"]["S3ArtifactPath"]) and canvas["WorkspaceSettings"]["S3KmsKeyId"]
    assert props["DomainLogicalId"] and props["DomainDeletionPolicy"] == "Delete"
    policy = _policies(t, "StudioCanvas")
    (canvas_policy,) = [p for k, p in policy.items()
                        if not k.startswith(("StudioCanvasSettings", "StudioCanvasIdleShutdown"))]
    text = json.dumps(canvas_policy)
    assert "sagemaker:CreateAutoMLJobV2" in text and "model-package/canvas-models/*" in text and "athena:" in text
    assert "bedrock" not in text.lower() and "redshift" not in text
    # Canvas policy only on the data scientists' (default) role; the engineer is denied Canvas apps.
    assert [r["Ref"] for r in canvas_policy["Roles"]] == [k for k in resources(t, "AWS::IAM::Role")
                                                          if k.startswith("StudioExecutionRole")]
    deny = json.dumps(_policies(t, "StudioAppGuardrailseve"))
    assert "/*/canvas/*" in deny and '"Deny"' in deny


def test_canvas_changing_domain_settings_changes_digest():
    digests = []
    for idle in (60, 120):
        s = cdk.Stack(new_app(), "C")
        key = PlatformKey(s, "Key")
        bucket = SecureBucket(s, "Data", encryption_key=key)
        net = IsolatedNetwork(s, "Network", encryption_key=key, endpoints="studio")
        StudioDomain(s, "Studio", vpc=net.vpc, encryption_key=key, idle_timeout=Duration.minutes(idle),
                     canvas=CanvasSettings(workspace_bucket=bucket))
        digests.append(only(template_of(s), "Custom::CanvasSettings")["DomainUserSettingsDigest"])
    assert digests[0] != digests[1]


def test_canvas_bedrock_and_cross_account_roles_are_passed(stack):
    key = PlatformKey(stack, "K2")
    bucket = SecureBucket(stack, "Work", encryption_key=key)
    bedrock = iam.Role(stack, "Bedrock", assumed_by=iam.ServicePrincipal("bedrock.amazonaws.com"))
    domain, *_ = _domain(stack, canvas=CanvasSettings(workspace_bucket=bucket, bedrock_role=bedrock))
    t = template_of(stack)
    assert "GenerativeAiSettings" in only(t, "Custom::CanvasSettings")["CanvasAppSettings"]
    assert "iam:PassRole" in json.dumps(_policies(t, "StudioCanvasSettingsProviderPolicy"))


def test_canvas_without_workspace_raises(stack):
    with pytest.raises(ValidationError, match="workspace"):
        _domain(stack, canvas=CanvasSettings())


def test_canvas_bad_personas_raise(stack):
    bucket = SecureBucket(stack, "Work", encryption_key=PlatformKey(stack, "K2"))
    with pytest.raises(ValidationError, match="personas"):
        _domain(stack, canvas=CanvasSettings(workspace_bucket=bucket, personas=["admin"]))


def test_canvas_group_in_another_account_needs_register_role():
    def build(**canvas):
        s = cdk.Stack(new_app(), "C", env=cdk.Environment(account="111111111111", region="us-east-1"))
        key = PlatformKey(s, "Key")
        bucket = SecureBucket(s, "Data", encryption_key=key)
        other = ImportedModelPackageGroup(s, "Theirs", model_package_group_name="shared")
        other.model_package_group_arn = "arn:aws:sagemaker:us-east-1:222222222222:model-package-group/shared"
        net = IsolatedNetwork(s, "Network", encryption_key=key, endpoints="studio")
        extra = {}
        if canvas.pop("with_role", False):
            extra["cross_account_register_role"] = iam.Role.from_role_arn(
                s, "Register", "arn:aws:iam::222222222222:role/canvas-register")
        StudioDomain(s, "Studio", vpc=net.vpc, encryption_key=key,
                     canvas=CanvasSettings(workspace_bucket=bucket, model_package_group=other, **extra))
        return s

    with pytest.raises(ValidationError, match="cross_account_register_role"):
        build()
    settings = only(template_of(build(with_role=True)), "Custom::CanvasSettings")["CanvasAppSettings"]
    assert settings["ModelRegisterSettings"]["CrossAccountModelRegisterRoleArn"].endswith("canvas-register")


def test_canvas_register_role_without_a_group_is_refused(stack):
    """Without model_package_group registration is off: the role was written next to a DISABLED
    ModelRegisterSettings (and passed to SageMaker) and never used."""
    role = iam.Role.from_role_arn(stack, "Register", "arn:aws:iam::222222222222:role/canvas-register")
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="studio")
    with pytest.raises(ValidationError, match=r"canvas.cross_account_register_role='Test/Register'.*model_package_group"):
        StudioDomain(stack, "Studio", vpc=net.vpc, encryption_key=key,
                     canvas=CanvasSettings(workspace_bucket=bucket, cross_account_register_role=role))


def test_canvas_endpoint_preset(stack):
    from sagemaker_constructs import ENDPOINT_PRESETS

    assert {"sagemaker.experiments", "athena", "glue", "sagemaker.studio"} <= set(ENDPOINT_PRESETS["canvas"])
    IsolatedNetwork(stack, "Net", encryption_key=PlatformKey(stack, "K"), endpoints="canvas")
    names = json.dumps([v["Properties"]["ServiceName"] for v in resources(template_of(stack), "AWS::EC2::VPCEndpoint").values()])
    assert ".experiments" in names and ".athena" in names and ".glue" in names


def _canvas_stack(**canvas):
    s = cdk.Stack(new_app(), "C")
    key = PlatformKey(s, "Key")
    bucket = SecureBucket(s, "Data", encryption_key=key)
    net = IsolatedNetwork(s, "Network", encryption_key=key, endpoints="auto")
    domain = StudioDomain(s, "Studio", vpc=net.vpc, encryption_key=key, data_buckets=[bucket],
                          canvas=CanvasSettings(workspace_bucket=bucket, **canvas))
    return s, domain


def _interface_endpoints(t):
    return {json.dumps(p["ServiceName"]) for p in
            [r["Properties"] for r in resources(t, "AWS::EC2::VPCEndpoint").values()]
            if p.get("VpcEndpointType") == "Interface"}


def test_canvas_data_sources_bring_their_endpoints_in_auto_mode():
    s, _ = _canvas_stack()
    plain = _interface_endpoints(template_of(s))
    s, _ = _canvas_stack(athena=True, redshift=True)
    added = _interface_endpoints(template_of(s)) - plain
    assert {next(n for n in ("athena", "glue", "redshift-data") if f".{n}" in e) for e in added} == \
        {"athena", "glue", "redshift-data"}
    assert len(added) == 3


def test_each_canvas_role_may_pass_only_itself_to_sagemaker():
    s, domain = _canvas_stack()
    domain.add_user_profile("alice")
    domain.add_user_profile("bob")
    t = template_of(s)
    passes = {}
    for policy in [*resources(t, "AWS::IAM::ManagedPolicy").values(), *resources(t, "AWS::IAM::Policy").values()]:
        for st in policy["Properties"]["PolicyDocument"]["Statement"]:
            if st.get("Sid") == "CanvasPassSelfToSageMaker":
                roles = policy["Properties"].get("Roles")
                assert roles and len(roles) == 1, "the statement sits on one role's own policy"
                assert st["Resource"] == {"Fn::GetAtt": [roles[0]["Ref"], "Arn"]}
                assert st["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
                passes[roles[0]["Ref"]] = st
    # the domain's default (data scientist) role: the profiles use it
    assert len(passes) == 1 and domain.canvas_policy is not None
    canvas_doc = json.dumps(stack_resolve(s, domain.canvas_policy))
    assert "iam:PassRole" not in canvas_doc, "the shared Canvas policy lets no role pass another"


def stack_resolve(s, policy):
    return s.resolve(policy.document.to_json())


def test_grant_canvas_to_a_role_without_persona():
    s, domain = _canvas_stack()
    own = iam.Role(s, "Own", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    policy = domain.grant_canvas(own)
    assert policy is domain.canvas_policy and domain.grant_canvas(own) is policy
    t = template_of(s)
    canvas = [p for k, p in resources(t, "AWS::IAM::ManagedPolicy").items() if k.startswith("StudioCanvas")
              and "CanvasWorkspaceObjects" in json.dumps(p)]
    (own_id,) = [k for k in resources(t, "AWS::IAM::Role") if k.startswith("Own")]
    assert {"Ref": own_id} in canvas[0]["Properties"]["Roles"]  # beside the domain's default (data scientist) role
    own_policy = json.dumps([p for p in resources(t, "AWS::IAM::Policy").values()
                             if p["Properties"]["Roles"] == [{"Ref": own_id}]])
    assert "CanvasPassSelfToSageMaker" in own_policy


def test_grant_canvas_refuses_what_it_cannot_honour():
    s, domain = _canvas_stack()
    fixed = iam.Role.from_role_arn(s, "Fixed", "arn:aws:iam::111122223333:role/fixed", mutable=False)
    with pytest.raises(ValidationError, match="CDK cannot add permissions to this role.*iam:PassRole"):
        domain.grant_canvas(fixed)
    domain.grant_canvas(fixed, role_is_prepared=True)
    attached = [p for p in resources(template_of(s), "AWS::IAM::ManagedPolicy").values()
                if "CanvasWorkspaceObjects" in json.dumps(p)]
    assert "fixed" not in json.dumps(attached[0]["Properties"]["Roles"]), "a prepared role gets nothing attached"
    plain = cdk.Stack(new_app(), "P")
    key = PlatformKey(plain, "Key")
    net = IsolatedNetwork(plain, "Network", encryption_key=key, endpoints="studio")
    no_canvas = StudioDomain(plain, "Studio", vpc=net.vpc, encryption_key=key)
    with pytest.raises(ValidationError, match="canvas.*CanvasSettings"):
        no_canvas.grant_canvas(iam.Role(plain, "R", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")))


def test_canvas_choices_reach_the_settings_and_the_policy():
    s, _ = _canvas_stack(direct_deploy=True, time_series_forecasting=False, redshift=True, kendra=True)
    t = template_of(s)
    canvas = only(t, "Custom::CanvasSettings")["CanvasAppSettings"]
    assert canvas["DirectDeploySettings"] == {"Status": "ENABLED"}
    assert canvas["TimeSeriesForecastingSettings"] == {"Status": "DISABLED"}
    assert canvas["KendraSettings"] == {"Status": "ENABLED"}
    assert canvas["ModelRegisterSettings"] == {"Status": "DISABLED"}
    policy = json.dumps([p for k, p in resources(t, "AWS::IAM::ManagedPolicy").items()
                         if "CanvasWorkspaceObjects" in json.dumps(p)])
    assert "redshift-data:ExecuteStatement" in policy and "athena:" not in policy


def test_canvas_imported_group_of_another_account_needs_register_role():
    """The documented import (``account=``) in an app without our feature flags: its ARN carries the
    partition Token (``arn:${Token[AWS.Partition.4]}:...``), and the account is still read from it."""
    s = cdk.Stack(cdk.App(), "C", env=cdk.Environment(account="111111111111", region="us-east-1"))
    key = PlatformKey(s, "Key")
    bucket = SecureBucket(s, "Data", encryption_key=key)
    theirs = ModelPackageGroup.from_model_package_group_name(s, "Theirs", "shared", account="222222222222")
    ours = ModelPackageGroup.from_model_package_group_name(s, "Ours", "own")
    net = IsolatedNetwork(s, "Network", encryption_key=key, endpoints="studio")
    with pytest.raises(ValidationError, match="cross_account_register_role"):
        StudioDomain(s, "Studio", vpc=net.vpc, encryption_key=key,
                     canvas=CanvasSettings(workspace_bucket=bucket, model_package_group=theirs))
    StudioDomain(s, "Studio2", vpc=net.vpc, encryption_key=key,
                 canvas=CanvasSettings(workspace_bucket=bucket, model_package_group=ours))


@pytest.mark.parametrize("kwargs, match", [
    ({"default_instance_type": "ml.t2.medium"}, "Studio apps"),       # a notebook-instance type, not a Studio one
    ({"default_instance_type": "ml.m5.xlage"}, "ml.m5.xlarge"),        # a typo: the nearest real type is suggested
    ({"allowed_instance_types": ["ml.t2.*"]}, "allowed_instance_types"),  # matches no Studio type: allows nothing
    ({"allowed_instance_types": ["ml.t3.medium", "ml.inf1.xlarge"]}, "ml.inf1.xlarge"),
])
def test_instance_types_are_those_studio_apps_run_on(stack, kwargs, match):
    """CreateApp takes only botocore's AppInstanceType values (API_ResourceSpec.html): anything else
    passed synth and failed when the user opened JupyterLab (or, in allowed_instance_types, denied every app)."""
    with pytest.raises(ValidationError, match=match):
        _domain(stack, **kwargs)


def test_shared_space_instance_type_is_a_studio_type(stack):
    domain, *_ = _domain(stack)
    alice = domain.add_user_profile("alice")
    with pytest.raises(ValidationError, match="add_shared_space instance_type"):
        domain.add_shared_space("Team", name="team", members=[alice], instance_type="ml.t2.large")
    domain.add_shared_space("Team", name="team", members=[alice], instance_type="ml.g5.xlarge")


def test_a_studio_type_newer_than_the_catalog_is_allowed_by_context():
    stack = cdk.Stack(new_app(context={"@sagemaker-constructs/extraInstanceTypes": ["ml.z9.xlarge"]}), "Test")
    _domain(stack, default_instance_type="ml.z9.xlarge", allowed_instance_types=["ml.z9.*"])


def test_custom_image_named_by_a_parameter(stack):
    """The app image config's name was the image name edited in Python ('.' -> '-'), which corrupted a
    Token's marker: synth failed with 'Unrecognized token key'."""
    repo = ecr.Repository.from_repository_name(stack, "Repo", "team-image")
    name = cdk.CfnParameter(stack, "ImageName").value_as_string
    image = CustomImage(stack, "Image", repository=repo, image_name=name)
    _domain(stack, custom_images=[image])
    t = template_of(stack)
    (config,) = resources(t, "AWS::SageMaker::AppImageConfig").values()
    config_name = config["Properties"]["AppImageConfigName"]
    assert isinstance(config_name, str) and config_name.endswith("-config") and len(config_name) <= 63
    (img,) = resources(t, "AWS::SageMaker::Image").values()
    assert img["Properties"]["ImageName"] == {"Ref": "ImageName"}
    settings = only(t, "AWS::SageMaker::Domain")["DefaultUserSettings"]["JupyterLabAppSettings"]
    assert settings["CustomImages"] == [{"AppImageConfigName": config_name, "ImageName": {"Ref": "ImageName"}}]


def test_space_ebs_sizes_as_parameters(stack):
    """A CfnParameter as the domain's maximum EBS size was compared as its Token's encoding: every
    shared space's ebs_volume_size_gb was refused ('allowed: 5 to -1.88815e+289')."""
    maximum = cdk.CfnParameter(stack, "MaxEbs", type="Number").value_as_number
    domain, *_ = _domain(stack, space_ebs_gb=(20, maximum))
    alice = domain.add_user_profile("alice")
    domain.add_shared_space("Team", name="team", members=[alice], ebs_volume_size_gb=50)
    with pytest.raises(ValidationError, match="ebs_volume_size_gb"):
        domain.add_shared_space("Big", name="big", members=[alice], ebs_volume_size_gb=20000)
    t = template_of(stack)
    assert only(t, "AWS::SageMaker::Domain")["DefaultUserSettings"]["SpaceStorageSettings"] == {
        "DefaultEbsStorageSettings": {"DefaultEbsVolumeSizeInGb": 20, "MaximumEbsVolumeSizeInGb": {"Ref": "MaxEbs"}}}


def test_space_ebs_default_as_parameter_still_bounds_the_maximum(stack):
    default = cdk.CfnParameter(stack, "DefaultEbs", type="Number").value_as_number
    with pytest.raises(ValidationError, match="space_ebs_gb"):
        _domain(stack, space_ebs_gb=(default, 4))


@pytest.mark.parametrize("kwargs", [
    {"jupyter_lab_lifecycle_configs": ["install-extensions"]},  # a name, not the ARN
    {"code_editor_lifecycle_configs": ["arn:aws:sagemaker:eu-west-1:111122223333:lifecycle-config/x"]},
])
def test_lifecycle_configs_are_studio_lifecycle_config_arns(stack, kwargs):
    """LifecycleConfigArns takes StudioLifecycleConfigArn values only: a name passed synth and the domain
    failed to deploy."""
    with pytest.raises(ValidationError, match="lifecycle_configs.*StudioLifecycleConfigArn"):
        _domain(stack, **kwargs)


@pytest.mark.parametrize("kwargs, match", [
    ({"container_entrypoint": ["python", "-m", "server"]}, "container_entrypoint"),  # at most one entry
    ({"container_arguments": [str(i) for i in range(51)]}, "container_arguments"),
    ({"display_name": " Team image "}, "display_name"),
    ({"display_name": "x" * 129}, "display_name"),
])
def test_custom_image_settings_against_botocore(stack, kwargs, match):
    repo = ecr.Repository.from_repository_name(stack, "Repo", "team-image")
    with pytest.raises(ValidationError, match=match):
        CustomImage(stack, "Image", repository=repo, **kwargs)


@pytest.mark.parametrize("display_name", ["x" * 65, "   "])
def test_shared_space_display_name_against_botocore(stack, display_name):
    domain, *_ = _domain(stack)
    alice = domain.add_user_profile("alice")
    with pytest.raises(ValidationError, match="display_name"):
        domain.add_shared_space("Team", name="team", members=[alice], display_name=display_name)


def test_studio_shapes_are_botocores():
    botocore = pytest.importorskip("botocore.session")
    from sagemaker_constructs.studio.domain import LIFECYCLE_CONFIG_ARN

    model = botocore.get_session().get_service_model("sagemaker")
    assert model.shape_for("StudioLifecycleConfigArn").metadata["pattern"] == LIFECYCLE_CONFIG_ARN
    assert model.shape_for("CustomImageContainerEntrypoint").metadata["max"] == 1
    assert model.shape_for("CustomImageContainerArguments").metadata["max"] == 50
    assert model.shape_for("ImageDisplayName").metadata == {"min": 1, "max": 128, "pattern": r"\S(.*\S)?"}
    display = model.shape_for("CreateSpaceRequest").members["SpaceDisplayName"].metadata
    assert display == {"min": 0, "max": 64, "pattern": r"(?!\s*$).+"}
