"""The pull-request review report (``sagemaker_constructs.review``) on pairs of small assemblies.

Each test writes a base and a head cloud assembly (manifest.json and templates) into temporary
directories, changes one thing, and checks the report names it; the last test compares two real
synths of a small app.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from sagemaker_constructs.review import compare_assemblies, parse_fail_on, read_assembly
from sagemaker_constructs.review import schemas
from sagemaker_constructs.review.__main__ import main
from sagemaker_constructs.review.jsondiff import diff, json_document, render


# ---------------------------------------------------------------------------------------------
# Hand-built assemblies
# ---------------------------------------------------------------------------------------------

def res(kind: str, path: str, props: dict | None = None, **extra) -> dict:
    out = {"Type": kind, "Properties": props or {}, "Metadata": {"aws:cdk:path": path}}
    out.update(extra)
    return out


def write_assembly(directory: Path, stacks: dict[str, dict], *, report: dict | None = None,
                   metadata: dict[str, dict] | None = None, names: dict[str, str] | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    artifacts = {}
    for name, resources in stacks.items():
        (directory / f"{name}.template.json").write_text(json.dumps({"Resources": resources}))
        artifacts[name] = {"type": "aws:cloudformation:stack", "environment": "aws://unknown-account/unknown-region",
                           "properties": {"templateFile": f"{name}.template.json"}, "displayName": name}
        if metadata and name in metadata:
            artifacts[name]["metadata"] = metadata[name]
        if names and name in names:  # Stack(stack_name=...)
            artifacts[name]["properties"]["stackName"] = names[name]
    (directory / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": artifacts}))
    if report is not None:
        (directory / "validation-report.json").write_text(json.dumps(report))
    return directory


def pair(tmp_path: Path, base: dict, head: dict, **kwargs):
    """A base and a head assembly of one stack ``App``; returns their directories."""
    b = write_assembly(tmp_path / "base", {"App": base}, **kwargs.get("base_kwargs", {}))
    h = write_assembly(tmp_path / "head", {"App": head}, **kwargs.get("head_kwargs", {}))
    return b, h


def review(tmp_path: Path, base: dict, head: dict, **kwargs):
    b, h = pair(tmp_path, base, head, **kwargs)
    return compare_assemblies(b, h, cost=kwargs.get("cost", False))


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def bucket(**props) -> dict:
    return res("AWS::S3::Bucket", "App/Data/Resource", props, DeletionPolicy="Retain", UpdateReplacePolicy="Retain")


# ---------------------------------------------------------------------------------------------
# Resources added, removed, modified
# ---------------------------------------------------------------------------------------------

def test_added_removed_and_modified_per_stack(tmp_path):
    base = {"Topic": res("AWS::SNS::Topic", "App/Topic/Resource", {"DisplayName": "a"}),
            "Param": res("AWS::SSM::Parameter", "App/Param/Resource", {"Type": "String", "Value": "1"})}
    head = {"Topic": res("AWS::SNS::Topic", "App/Topic/Resource", {"DisplayName": "b"}),
            "Alarm": res("AWS::CloudWatch::Alarm", "App/Alarm/Resource", {"Threshold": 1})}
    report = review(tmp_path, base, head)
    (stack,) = report.stacks
    kinds = {r.logical_id: r.kind for r in stack.resources}
    assert kinds == {"Topic": "modified", "Param": "removed", "Alarm": "added"}
    topic = next(r for r in stack.resources if r.logical_id == "Topic")
    assert [c.line() for c in topic.changes] == ["DisplayName: a -> b"]
    assert topic.replacement is None
    md = report.to_markdown()
    assert "#### App: +1 −1 ~1" in md and "`DisplayName: a -> b`" in md
    # A removed topic is stateful, a removed parameter is not.
    assert report.removals == []
    assert report.summary()["resources_added"] == 1


def test_identical_assemblies_report_no_changes(tmp_path, capsys):
    stack = {"Data": bucket(BucketName="x")}
    b, h = pair(tmp_path, stack, stack)
    code, out, _ = run_cli(capsys, b, h, "--no-cost", "--fail-on", "replacement,removal,wildcard,finding")
    assert code == 0
    assert "No changes." in out and "0 stack(s) changed" in out


def test_cdk_path_metadata_alone_is_not_a_change(tmp_path):
    before = bucket()
    after = copy.deepcopy(before)
    after["Metadata"]["aws:cdk:path"] = "App/Moved/Resource"
    report = review(tmp_path, {"Data": before}, {"Data": after})
    assert report.stacks[0].resources == []


# ---------------------------------------------------------------------------------------------
# Stateful replacements
# ---------------------------------------------------------------------------------------------

def test_bucket_name_change_is_a_replacement_by_create_only_property(tmp_path, capsys):
    b, h = pair(tmp_path, {"Data": bucket(BucketName="old-name")}, {"Data": bucket(BucketName="new-name")})
    report = compare_assemblies(b, h, cost=False)
    (replacement,) = report.replacements
    assert replacement.logical_id == "Data" and replacement.certainty == "will"
    assert replacement.reasons == ["create-only property BucketName changed"]
    assert replacement.old_resource_policy == "Retain"
    md = report.to_markdown()
    assert md.index("Stateful resources that would be replaced") < md.index("### Stacks")
    code, _, err = run_cli(capsys, b, h, "--no-cost", "--fail-on", "replacement")
    assert code == 1 and "fails on replacement" in err
    assert run_cli(capsys, b, h, "--no-cost", "--fail-on", "wildcard")[0] == 0


def test_updatable_bucket_property_is_not_a_replacement(tmp_path):
    report = review(tmp_path, {"Data": bucket(VersioningConfiguration={"Status": "Suspended"})},
                    {"Data": bucket(VersioningConfiguration={"Status": "Enabled"})})
    assert report.replacements == []
    (change,) = report.stacks[0].resources
    assert change.kind == "modified" and change.replacement is None


def domain(**props) -> dict:
    base = {"AuthMode": "IAM", "DomainName": "studio", "VpcId": "vpc-1", "SubnetIds": ["subnet-1"],
            "DefaultUserSettings": {"ExecutionRole": "arn:aws:iam::111111111111:role/r"}}
    return res("AWS::SageMaker::Domain", "App/Studio/Resource", {**base, **props})


def test_domain_auth_mode_will_and_vpc_may_replace(tmp_path):
    report = review(tmp_path / "auth", {"Domain": domain()}, {"Domain": domain(AuthMode="SSO")})
    (replacement,) = report.replacements
    assert replacement.certainty == "will" and "AuthMode" in replacement.reasons[0]
    assert replacement.old_resource_policy == "Delete"
    assert "**deleted with its data**" in report.to_markdown()
    report = review(tmp_path / "vpc", {"Domain": domain()}, {"Domain": domain(VpcId="vpc-2")})
    (replacement,) = report.replacements
    assert replacement.certainty == "may"
    assert replacement.reasons == ["conditionally create-only property VpcId changed"]


def test_a_block_added_above_a_nested_create_only_property_replaces_only_when_it_sets_it(tmp_path):
    """Domain's create-only DomainSettings/RStudioServerProDomainSettings/DefaultResourceSpec: adding
    DomainSettings with only SecurityGroupIds (updatable) is an update; adding the spec replaces."""
    groups = {"SecurityGroupIds": ["sg-1"]}
    report = review(tmp_path / "groups", {"Domain": domain()}, {"Domain": domain(DomainSettings=groups)})
    assert not report.replacements
    (change,) = report.stacks[0].resources
    assert change.kind == "modified" and change.replacement is None
    rstudio = {**groups, "RStudioServerProDomainSettings": {"DomainExecutionRoleArn": "r",
                                                            "DefaultResourceSpec": {"InstanceType": "system"}}}
    report = review(tmp_path / "spec", {"Domain": domain(DomainSettings=groups)},
                    {"Domain": domain(DomainSettings=rstudio)})
    (replacement,) = report.replacements
    assert replacement.reasons == [
        "create-only property DomainSettings.RStudioServerProDomainSettings.DefaultResourceSpec changed"]


def test_stateful_logical_id_change_is_a_replacement(tmp_path, capsys):
    # The construct was moved: same type, new construct path, new logical ID.
    before = {"DataBucketE3889A50": res("AWS::S3::Bucket", "App/DataBucket/Resource", DeletionPolicy="Retain")}
    after = {"StorageDataBucket0123ABCD": res("AWS::S3::Bucket", "App/Storage/DataBucket/Resource",
                                              DeletionPolicy="Retain")}
    b, h = pair(tmp_path, before, after)
    report = compare_assemblies(b, h, cost=False)
    (replacement,) = report.replacements
    assert (replacement.old_logical_id, replacement.logical_id) == ("DataBucketE3889A50", "StorageDataBucket0123ABCD")
    assert replacement.reasons == ["logical ID changed from DataBucketE3889A50"]
    assert report.removals == []
    (change,) = report.stacks[0].resources
    assert change.kind == "replaced"
    assert "`DataBucketE3889A50` → `StorageDataBucket0123ABCD`" in report.to_markdown()
    assert run_cli(capsys, b, h, "--no-cost", "--fail-on", "replacement")[0] == 1


def test_logical_id_pairing_prefers_the_construct_path(tmp_path):
    # Two buckets swap nothing: one keeps its path under a new logical ID, the other is new.
    before = {"OldIdAAAAAAAA": res("AWS::S3::Bucket", "App/Logs/Resource")}
    after = {"NewIdBBBBBBBB": res("AWS::S3::Bucket", "App/Logs/Resource"),
             "OtherCCCCCCCC": res("AWS::S3::Bucket", "App/Other/Resource")}
    report = review(tmp_path, before, after)
    (replacement,) = report.replacements
    assert replacement.logical_id == "NewIdBBBBBBBB"
    assert {r.logical_id: r.kind for r in report.stacks[0].resources}["OtherCCCCCCCC"] == "added"


def test_non_stateful_logical_id_change_is_added_and_removed(tmp_path):
    before = {"RoleAAAAAAAA": res("AWS::SNS::Subscription", "App/Sub/Resource", {"Protocol": "email"})}
    after = {"RoleBBBBBBBB": res("AWS::SNS::Subscription", "App/Sub2/Resource", {"Protocol": "email"})}
    report = review(tmp_path, before, after)
    assert report.replacements == [] and report.removals == []
    assert sorted(r.kind for r in report.stacks[0].resources) == ["added", "removed"]


def test_stateful_removal_is_flagged_and_gated(tmp_path, capsys):
    b, h = pair(tmp_path, {"Queue": res("AWS::SQS::Queue", "App/Queue/Resource")}, {})
    report = compare_assemblies(b, h, cost=False)
    (removal,) = report.removals
    assert removal.logical_id == "Queue" and removal.deletion_policy == "Delete"
    assert "Stateful resources removed" in report.to_markdown()
    assert run_cli(capsys, b, h, "--no-cost", "--fail-on", "removal")[0] == 1
    assert run_cli(capsys, b, h, "--no-cost", "--fail-on", "replacement")[0] == 0
    # every --fail-on counts: the first one is not dropped for the last
    code, _, err = run_cli(capsys, b, h, "--no-cost", "--fail-on", "removal", "--fail-on", "replacement")
    assert code == 1 and "fails on removal" in err


def test_resource_moved_to_another_stack_is_a_replacement(tmp_path):
    b = write_assembly(tmp_path / "base", {"A": {"Key1": res("AWS::KMS::Key", "A/Key/Resource")}, "B": {}})
    h = write_assembly(tmp_path / "head", {"A": {}, "B": {"Key1": res("AWS::KMS::Key", "B/Key/Resource")}})
    report = compare_assemblies(b, h, cost=False)
    (replacement,) = report.replacements
    assert replacement.stack == "B" and replacement.reasons == ["moved from stack A (Key1)"]
    assert report.removals == []


def test_stacks_are_paired_by_the_stack_name_cloudformation_deploys_to(tmp_path, capsys):
    """Stack(app, "Data") -> Stack(app, "Data", stack_name="data-prod") is a new CloudFormation
    stack with a new bucket; Stack(app, "DataV2", stack_name="data-prod") is the same stack."""
    b = write_assembly(tmp_path / "base", {"Data": {"Data": bucket()}})
    h = write_assembly(tmp_path / "head", {"Data": {"Data": bucket()}}, names={"Data": "data-prod"})
    report = compare_assemblies(b, h, cost=False)
    (replacement,) = report.replacements
    assert replacement.stack == "data-prod" and "stack renamed from Data" in replacement.reasons[0]
    assert [(s.name, s.status) for s in report.stacks] == [("Data", "removed"), ("data-prod", "added")]
    assert any("now deployed as data-prod" in n for n in report.notes)
    assert run_cli(capsys, b, h, "--no-cost", "--fail-on", "replacement")[0] == 1

    b = write_assembly(tmp_path / "base2", {"Data": {"Data": bucket()}}, names={"Data": "data-prod"})
    h = write_assembly(tmp_path / "head2", {"DataV2": {"Data": bucket()}}, names={"DataV2": "data-prod"})
    report = compare_assemblies(b, h, cost=False)
    assert not report.replacements and not report.removals and not report.notes
    assert [(s.key, s.status, s.changed) for s in report.stacks] == [("DataV2", "modified", False)]


def test_replacement_cascades_to_create_only_references(tmp_path):
    # The security group is replaced (its VPC changed): the ingress rule on it refers to it
    # through GroupId, create-only, so it may be replaced too.
    def stack(vpc):
        return {"Sg": res("AWS::EC2::SecurityGroup", "App/Sg/Resource", {"GroupDescription": "d", "VpcId": vpc}),
                "In": res("AWS::EC2::SecurityGroupIngress", "App/In/Resource",
                          {"GroupId": {"Fn::GetAtt": ["Sg", "GroupId"]}, "IpProtocol": "tcp", "FromPort": 443,
                           "ToPort": 443, "CidrIp": "10.0.0.0/16"})}
    report = review(tmp_path, stack("vpc-1"), stack("vpc-2"))
    by_id = {r.logical_id: r for r in report.stacks[0].resources}
    assert by_id["Sg"].replacement == "will"
    assert by_id["In"].replacement == "may"
    assert "refers to Sg" in by_id["In"].reasons[0]


def test_cascade_reads_the_create_only_path_not_its_whole_top_level_property(tmp_path):
    """Domain's create-only DomainSettings/RStudioServerProDomainSettings/DefaultResourceSpec does
    not make DomainSettings.SecurityGroupIds create-only: a replaced security group (a new
    GroupDescription) is an update of the domain; a replaced role in the RStudio spec's place is not."""
    def stack(description):
        sg = {"Fn::GetAtt": ["Sg", "GroupId"]}
        return {"Sg": res("AWS::EC2::SecurityGroup", "App/Sg/Resource", {"GroupDescription": description,
                                                                         "VpcId": "vpc-1"}),
                "Domain": res("AWS::SageMaker::Domain", "App/Domain/Resource", {
                    "AuthMode": "IAM", "DomainName": "d", "VpcId": "vpc-1", "SubnetIds": ["subnet-1"],
                    "DefaultUserSettings": {"ExecutionRole": "r", "SecurityGroups": [sg]},
                    "DomainSettings": {"SecurityGroupIds": [sg], "RStudioServerProDomainSettings": {
                        "DomainExecutionRoleArn": "r", "DefaultResourceSpec": {"SageMakerImageArn": {"Ref": "Img"}}}}},
                    DeletionPolicy="Retain"),
                "Img": res("AWS::SageMaker::Image", "App/Img/Resource", {"ImageName": description,
                                                                         "ImageRoleArn": "r"})}
    report = review(tmp_path, stack("a"), stack("b"))
    by_id = {r.logical_id: r for r in report.stacks[0].resources}
    assert by_id["Sg"].replacement == "will"
    assert by_id["Domain"].reasons == ["create-only property DomainSettings.RStudioServerProDomainSettings."
                                       "DefaultResourceSpec refers to Img, which is replaced"]
    del by_id  # without the image, the security group alone replaces nothing but itself
    base, head = stack("a"), stack("b")
    for template in (base, head):
        del template["Img"]
        del template["Domain"]["Properties"]["DomainSettings"]["RStudioServerProDomainSettings"]
    report = review(tmp_path / "sg-only", base, head)
    assert [(r.logical_id, r.replacement) for r in report.stacks[0].resources] == [("Sg", "will")]
    assert not report.replacements


def test_a_changed_mapping_or_condition_is_reported_and_replaces_what_reads_it(tmp_path, capsys):
    """A value moved into Mappings (Fn::FindInMap) or decided by a Condition changes with no change
    in the resource's text: the section's change is listed, and a create-only property reading it
    may replace its resource."""
    def template(names: dict, condition: dict) -> Path:
        directory = tmp_path / str(len(list(tmp_path.iterdir())))
        directory.mkdir()
        resources = {"Data": bucket(BucketName={"Fn::FindInMap": ["Names", "prod", "bucket"]}),
                     "Queue": res("AWS::SQS::Queue", "App/Queue/Resource",
                                  {"FifoQueue": {"Fn::If": ["Ordered", True, {"Ref": "AWS::NoValue"}]}})}
        (directory / "App.template.json").write_text(json.dumps(
            {"Mappings": {"Names": names}, "Conditions": {"Ordered": condition}, "Resources": resources}))
        (directory / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": {"App": {
            "type": "aws:cloudformation:stack", "environment": "aws://unknown-account/unknown-region",
            "properties": {"templateFile": "App.template.json"}}}}))
        return directory

    same = {"Fn::Equals": ["a", "a"]}
    b = template({"prod": {"bucket": "team-data"}}, same)
    h = template({"prod": {"bucket": "team-data-v2"}}, same)
    report = compare_assemblies(b, h, cost=False)
    (stack,) = [s for s in report.stacks if s.changed]
    assert [c.line() for c in stack.template_changes] == ["Mappings.Names.prod.bucket: team-data -> team-data-v2"]
    (replacement,) = report.replacements
    assert (replacement.logical_id, replacement.certainty) == ("Data", "may")
    assert replacement.reasons == ["create-only property BucketName reads mapping Names, which changed"]
    assert run_cli(capsys, b, h, "--no-cost", "--fail-on", "replacement")[0] == 1

    h = template({"prod": {"bucket": "team-data"}}, {"Fn::Equals": ["a", "b"]})
    report = compare_assemblies(b, h, cost=False)
    (replacement,) = report.replacements
    assert replacement.logical_id == "Queue"
    assert replacement.reasons == ["create-only property FifoQueue reads condition Ordered, which changed"]


def test_without_cfn_lint_the_report_says_so_and_the_gate_cannot_pass(tmp_path, capsys, monkeypatch):
    def missing():
        raise schemas.SchemasUnavailable("cfn-lint is not installed: " + schemas.INSTALL_HINT)

    monkeypatch.setattr(schemas, "schema_dir", missing)
    b, h = pair(tmp_path, {"Data": bucket(BucketName="a")}, {"Data": bucket(BucketName="b")})
    report = compare_assemblies(b, h, cost=False)
    assert report.replacements == [] and not report.schemas_checked
    assert "pip install cfn-lint" in report.to_markdown()
    code, _, err = run_cli(capsys, b, h, "--no-cost", "--fail-on", "replacement")
    assert code == 2 and "cannot check replacement" in err


def test_create_only_properties_come_from_the_cfn_lint_schemas():
    assert schemas.schema_dir().parts[-3:] == ("cfnlint", "data", "schemas")
    rules = schemas.replacement_rules("AWS::S3::Bucket")
    assert ("BucketName",) in rules.create_only
    assert ("VpcId",) in schemas.replacement_rules("AWS::SageMaker::Domain").conditional
    assert schemas.replacement_rules("Custom::Anything") is None
    assert schemas.matches(("Tags", "*", "Key"), ("Tags", 2, "Key"))
    assert schemas.matches(("A", "B"), ("A",)) and not schemas.matches(("A", "B"), ("A", "C"))


# ---------------------------------------------------------------------------------------------
# JSON in strings: pipeline definitions and others
# ---------------------------------------------------------------------------------------------

def pipeline(instance_type: str, *, extra_step: bool = False, branch_step: str = "Register") -> dict:
    steps = [
        {"Name": "Train", "Type": "Training",
         "Arguments": {"ResourceConfig": {"InstanceCount": 1, "InstanceType": instance_type, "VolumeSizeInGB": 30},
                       "RoleArn": "ROLE"}},
        {"Name": "CheckMetric", "Type": "Condition",
         "Arguments": {"Conditions": [{"Type": "GreaterThanOrEqualTo", "LeftValue": 0.9, "RightValue": 0.8}],
                       "IfSteps": [{"Name": branch_step, "Type": "RegisterModel", "Arguments": {}}],
                       "ElseSteps": [{"Name": "Fail", "Type": "Fail", "Arguments": {"ErrorMessage": "low"}}]}},
    ]
    if extra_step:
        steps.insert(1, {"Name": "Evaluate", "Type": "Processing", "Arguments": {}})
    text = json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": steps})
    # As CDK writes it: a Fn::Join whose pieces hold the role's ARN as a token.
    before, after = text.split("ROLE")
    body = {"Fn::Join": ["", [before, {"Fn::GetAtt": ["PipelineRole", "Arn"]}, after]]}
    return res("AWS::SageMaker::Pipeline", "App/Pipeline/Resource",
               {"PipelineName": "train", "RoleArn": {"Fn::GetAtt": ["PipelineRole", "Arn"]},
                "PipelineDefinition": {"PipelineDefinitionBody": body}})


def test_pipeline_instance_type_change_is_one_path_line(tmp_path):
    report = review(tmp_path, {"Pipeline": pipeline("ml.m5.xlarge")}, {"Pipeline": pipeline("ml.m5.2xlarge")})
    (change,) = report.stacks[0].resources
    (line,) = change.changes
    assert line.line() == "Steps.Train.ResourceConfig.InstanceType: ml.m5.xlarge -> ml.m5.2xlarge"
    assert line.within == "PipelineDefinition.PipelineDefinitionBody"
    md = report.to_markdown()
    assert "`Steps.Train.ResourceConfig.InstanceType: ml.m5.xlarge -> ml.m5.2xlarge`" in md
    assert '\\"' not in md and "Fn::Join" not in md  # never the escaped string
    assert report.replacements == []  # a pipeline updates its definition in place
    data = report.to_dict()["stacks"][0]["resources"][0]["changes"][0]
    assert data == {"path": "Steps.Train.ResourceConfig.InstanceType", "kind": "changed",
                    "within": "PipelineDefinition.PipelineDefinitionBody", "old": "ml.m5.xlarge",
                    "new": "ml.m5.2xlarge"}


def test_pipeline_steps_added_removed_and_in_condition_branches(tmp_path):
    report = review(tmp_path, {"Pipeline": pipeline("ml.m5.large")},
                    {"Pipeline": pipeline("ml.m5.large", extra_step=True, branch_step="RegisterV2")})
    lines = {c.line() for c in report.stacks[0].resources[0].changes}
    assert "Steps.Evaluate: step added (Processing, top level)" in lines
    assert "Steps.RegisterV2: step added (RegisterModel, CheckMetric.IfSteps)" in lines
    assert "Steps.Register: step removed (RegisterModel, CheckMetric.IfSteps)" in lines
    assert "Steps.CheckMetric.IfSteps: removed Register" in lines


def test_other_json_string_properties_are_compared_as_structure(tmp_path):
    def machine(timeout):
        definition = {"StartAt": "Run", "States": {"Run": {"Type": "Task", "TimeoutSeconds": timeout, "End": True}}}
        return res("AWS::StepFunctions::StateMachine", "App/Machine/Resource",
                   {"DefinitionString": {"Fn::Join": ["", [json.dumps(definition)]]},
                    "RoleArn": {"Fn::GetAtt": ["R", "Arn"]}})

    def custom(payload):
        return res("Custom::Thing", "App/Thing/Default", {"ServiceToken": "arn", "Create": json.dumps(payload)})

    report = review(tmp_path, {"M": machine(60), "C": custom({"service": "S3", "parameters": {"Bucket": "a"}})},
                    {"M": machine(120), "C": custom({"service": "S3", "parameters": {"Bucket": "b"}})})
    lines = {r.logical_id: [c.line() for c in r.changes] for r in report.stacks[0].resources}
    assert lines["M"] == ["States.Run.TimeoutSeconds: 60 -> 120"]
    assert lines["C"] == ["parameters.Bucket: a -> b"]


def test_json_document_renders_tokens_and_refuses_plain_strings():
    body = {"Fn::Join": ["", ['{"Arn":"', {"Fn::GetAtt": ["Role", "Arn"]}, '","Region":"', {"Ref": "AWS::Region"},
                              '"}']]}
    assert json_document(body) == {"Arn": "${Role.Arn}", "Region": "${AWS::Region}"}
    assert json_document("ml.m5.large") is None and json_document("[not json") is None
    assert render({"Fn::ImportValue": "Stack:Export"}) == "${Import:Stack:Export}"


def test_a_definition_with_an_unquoted_number_reference_is_still_structure(tmp_path):
    """Stack.to_json_string writes a CfnParameter number unquoted (``"InstanceCount":`` + Ref + ``,``);
    the definition is still compared step by step, not as one escaped string."""
    def pipeline(instance_type: str) -> dict:
        body = {"Fn::Join": ["", [
            '{"Version":"2020-12-01","Steps":[{"Name":"Train","Type":"Training","Arguments":{"ResourceConfig":'
            '{"InstanceCount":', {"Ref": "Count"}, ',"InstanceType":"' + instance_type + '","VolumeKmsKeyId":"',
            {"Fn::GetAtt": ["Key", "Arn"]}, '"}}}]}']]}
        return res("AWS::SageMaker::Pipeline", "App/Pipeline/Resource",
                   {"PipelineName": "p", "RoleArn": "r", "PipelineDefinition": {"PipelineDefinitionBody": body}})

    report = review(tmp_path, {"Pipeline": pipeline("ml.m5.xlarge")}, {"Pipeline": pipeline("ml.m5.2xlarge")})
    (change,) = [r for s in report.stacks for r in s.resources][0].changes
    assert change.line() == "Steps.Train.ResourceConfig.InstanceType: ml.m5.xlarge -> ml.m5.2xlarge"
    assert change.within == "PipelineDefinition.PipelineDefinitionBody"
    assert json_document({"Fn::Sub": ['{"A": ${N}, "B": "${AWS::Region}", "C": "${!Literal}"}', {"N": {"Ref": "P"}}]}) == {
        "A": "${P}", "B": "${AWS::Region}", "C": "${Literal}"}


def test_long_plain_strings_show_the_difference_not_the_whole_value():
    old = "x" * 500 + "OLD" + "y" * 500
    new = "x" * 500 + "NEW" + "y" * 500
    (change,) = diff({"Script": old}, {"Script": new})
    line = change.line()
    assert "OLD" in line and "NEW" in line and len(line) < 300


def test_lists_of_scalars_are_compared_as_sets():
    lines = [c.line() for c in diff({"Subnets": ["a", "b"]}, {"Subnets": ["b", "c"]})]
    assert lines == ["Subnets: removed a", "Subnets: added c"]
    (change,) = diff({"Subnets": ["a", "b"]}, {"Subnets": ["b", "a"]})
    assert change.kind == "reordered"


# ---------------------------------------------------------------------------------------------
# IAM
# ---------------------------------------------------------------------------------------------

def policy(*statements) -> dict:
    return res("AWS::IAM::Policy", "App/Role/DefaultPolicy/Resource",
               {"PolicyName": "p", "Roles": [{"Ref": "Role"}],
                "PolicyDocument": {"Version": "2012-10-17", "Statement": list(statements)}})


READ = {"Effect": "Allow", "Action": "s3:GetObject",
        "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["Data", "Arn"]}, "/models/model.tar.gz"]]}}


def test_iam_wildcard_introduced_is_reported_and_gated(tmp_path, capsys):
    wide = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"}
    b, h = pair(tmp_path, {"Policy": policy(READ)}, {"Policy": policy(READ, wide)})
    report = compare_assemblies(b, h, cost=False)
    (change,) = report.iam
    assert change.wildcards == ["Resource *"]
    assert change.new_actions == ["s3:PutObject"]
    assert change.widened_resources == ["s3:GetObject: *"]
    assert change.statements_added == ["Allow s3:GetObject, s3:PutObject on *"]
    md = report.to_markdown()
    assert "wildcard introduced: `Resource *`" in md
    code, _, err = run_cli(capsys, b, h, "--no-cost", "--fail-on", "wildcard")
    assert code == 1 and "1 IAM wildcard(s) introduced" in err


@pytest.mark.parametrize("head_document", [
    {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k"},
        {"Fn::If": ["Dev", {"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Ref": "AWS::NoValue"}]}]},
    {"Fn::If": ["Dev", {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
                {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k"}]}]},
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": {"Fn::If": ["Dev", ["*"], "s3:GetObject"]},
                                             "Resource": {"Fn::If": ["Dev", "*", "arn:aws:s3:::b/k"]}}]},
], ids=["statement", "document", "values"])
def test_a_wildcard_under_a_condition_is_introduced(tmp_path, capsys, head_document):
    """Either branch of an Fn::If may be deployed: a wildcard in one is a wildcard introduced."""
    def policy(document):
        return {"Policy": res("AWS::IAM::ManagedPolicy", "App/Policy/Resource", {"PolicyDocument": document})}

    base = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k"}]}
    b, h = pair(tmp_path, policy(base), policy(head_document))
    (change,) = compare_assemblies(b, h, cost=False).iam
    assert change.wildcards == ["Action *", "Resource *"]
    assert "Allow NotAction " not in change.statements_added
    assert run_cli(capsys, b, h, "--no-cost", "--fail-on", "wildcard")[0] == 1


def test_iam_statement_removed_and_order_ignored(tmp_path):
    write = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/out/x"}
    report = review(tmp_path, {"Policy": policy(READ, write)}, {"Policy": policy(READ)})
    (change,) = report.iam
    assert change.statements_removed == ["Allow s3:PutObject on arn:aws:s3:::b/out/x"]
    assert change.statements_added == [] and change.wildcards == []
    report = review(tmp_path / "order", {"Policy": policy(READ, write)}, {"Policy": policy(write, READ)})
    assert report.iam == []


def test_iam_new_trust_and_managed_policy(tmp_path):
    def role(principals, managed=()):
        return res("AWS::IAM::Role", "App/Role/Resource",
                   {"AssumeRolePolicyDocument": {"Statement": [
                       {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": principals}}]},
                    "ManagedPolicyArns": list(managed)})

    report = review(tmp_path, {"Role": role("sagemaker.amazonaws.com")},
                    {"Role": role(["sagemaker.amazonaws.com", "lambda.amazonaws.com"],
                                  ["arn:aws:iam::aws:policy/AdministratorAccess"])})
    by_doc = {c.document: c for c in report.iam}
    assert by_doc["AssumeRolePolicyDocument"].new_principals == ["Service:lambda.amazonaws.com"]
    assert by_doc["ManagedPolicyArns"].managed_policies_added == ["arn:aws:iam::aws:policy/AdministratorAccess"]
    assert "new trust: `Service:lambda.amazonaws.com`" in report.to_markdown()


def test_key_and_bucket_policies_are_read(tmp_path):
    def key(principal):
        return res("AWS::KMS::Key", "App/Key/Resource", {"KeyPolicy": {"Statement": [
            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*", "Principal": {"AWS": principal}}]}})

    def bucket_policy(action):
        return res("AWS::S3::BucketPolicy", "App/Data/Policy/Resource", {"Bucket": {"Ref": "Data"}, "PolicyDocument": {
            "Statement": [{"Effect": "Allow", "Action": action, "Principal": {"Service": "logging.s3.amazonaws.com"},
                           "Resource": "arn:aws:s3:::b/*"}]}})

    report = review(tmp_path, {"Key": key("arn:aws:iam::111111111111:root"), "P": bucket_policy("s3:PutObject")},
                    {"Key": key("*"), "P": bucket_policy("s3:*")})
    by_id = {c.logical_id: c for c in report.iam}
    assert by_id["Key"].new_principals == ["AWS:*"] and "Principal AWS:*" in by_id["Key"].wildcards
    assert by_id["P"].wildcards == ["Action s3:*"]


def test_model_package_group_share_and_endpoint_policies_are_read(tmp_path, capsys):
    """A registry shared with another account, then with everyone, is a new trust and a wildcard;
    a VPC endpoint's policy and a document nested in an object (DynamoDB's ``ResourcePolicy``)
    are IAM documents too. They were only "modified" properties, and --fail-on wildcard passed."""
    def group(principals):
        return res("AWS::SageMaker::ModelPackageGroup", "App/Registry/Resource", {
            "ModelPackageGroupName": "churn", "ModelPackageGroupPolicy": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["sagemaker:DescribeModelPackage"], "Principal": {"AWS": principals},
                 "Resource": "arn:aws:sagemaker:us-east-1:111111111111:model-package/churn/*"}]}})

    def endpoint(action):
        return res("AWS::EC2::VPCEndpoint", "App/Network/S3/Resource", {
            "ServiceName": "com.amazonaws.us-east-1.s3", "VpcId": "vpc-1", "PolicyDocument": json.dumps(
                {"Statement": [{"Effect": "Allow", "Action": action, "Principal": "*", "Resource": "arn:aws:s3:::b/*"}]})})

    def table(action):
        return res("AWS::DynamoDB::Table", "App/Table/Resource", {"KeySchema": [], "ResourcePolicy": {"PolicyDocument": {
            "Statement": [{"Effect": "Allow", "Action": action, "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                           "Resource": "*"}]}}})

    b, h = pair(tmp_path, {"Registry": group("arn:aws:iam::222222222222:root"), "S3": endpoint("s3:GetObject"),
                           "Table": table("dynamodb:GetItem")},
                {"Registry": group(["arn:aws:iam::222222222222:root", "*"]), "S3": endpoint(["s3:GetObject", "s3:PutObject"]),
                 "Table": table("dynamodb:*")})
    by_id = {c.logical_id: c for c in compare_assemblies(b, h, cost=False).iam}
    assert by_id["Registry"].document == "ModelPackageGroupPolicy" and by_id["Registry"].kind == "resource"
    assert by_id["Registry"].new_principals == ["AWS:*"] and "Principal AWS:*" in by_id["Registry"].wildcards
    assert by_id["S3"].new_actions == ["s3:PutObject"]
    assert by_id["Table"].document == "ResourcePolicy.PolicyDocument" and by_id["Table"].wildcards == ["Action dynamodb:*"]
    code, _, err = run_cli(capsys, b, h, "--no-cost", "--fail-on", "wildcard")
    assert code == 1 and "IAM wildcard(s) introduced" in err


def test_policy_properties_are_policy_documents_in_the_resource_schemas():
    """Every type and property the IAM diff reads is a policy document in the CloudFormation
    resource schemas cfn-lint ships (a misspelt type or property would be read from nothing)."""
    from sagemaker_constructs.review.iam import POLICY_PROPERTIES

    root = schemas.schema_dir()
    providers = json.loads((root / "providers" / "us-east-1.json").read_text())
    for resource_type, properties in POLICY_PROPERTIES.items():
        assert resource_type in providers, resource_type
        (schema_file,) = [f for f in root.rglob(f"{providers[resource_type]}*") if f.suffix == ".json"]
        declared = json.loads(schema_file.read_text())
        for prop, _kind in properties:
            if prop == "*":
                continue
            outer, _, inner = prop.partition(".")
            assert outer in declared["properties"], (resource_type, prop)
            if inner:
                definition = declared["properties"][outer]
                ref = definition.get("$ref", "").rsplit("/", 1)[-1]
                nested = declared["definitions"][ref]["properties"] if ref else definition["properties"]
                assert inner in nested, (resource_type, prop)


# ---------------------------------------------------------------------------------------------
# Security groups and network
# ---------------------------------------------------------------------------------------------

def group(*ingress) -> dict:
    return res("AWS::EC2::SecurityGroup", "App/Sg/Resource",
               {"GroupDescription": "d", "VpcId": "vpc-1", "SecurityGroupIngress": list(ingress)})


def test_new_ingress_rules_inline_and_standalone(tmp_path):
    https = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/16"}
    ssh = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}
    standalone = res("AWS::EC2::SecurityGroupIngress", "App/Sg/from Other:443", {
        "GroupId": {"Fn::GetAtt": ["Sg", "GroupId"]}, "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
        "SourceSecurityGroupId": {"Fn::GetAtt": ["Other", "GroupId"]}})
    report = review(tmp_path, {"Sg": group(https)}, {"Sg": group(https, ssh), "In": standalone})
    found = {(c.logical_id, c.kind, c.detail, c.open_to_world) for c in report.network}
    assert ("Sg", "ingress added", "tcp 22 from 0.0.0.0/0", True) in found
    assert ("In", "ingress added", "tcp 443 from SecurityGroupId ${Other.GroupId} (group ${Sg.GroupId})",
            False) in found
    assert "**open to the internet**" in report.to_markdown()


def test_an_ingress_rule_open_under_a_condition_is_open_to_the_internet(tmp_path):
    """Either branch of an Fn::If may be deployed: a rule, or a peer, open to 0.0.0.0/0 in one
    branch is reported as open (it read as 'all traffic from (no peer)')."""
    https = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/16"}
    ssh = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}
    standalone = res("AWS::EC2::SecurityGroupIngress", "App/In/Resource", {
        "GroupId": {"Fn::GetAtt": ["Sg", "GroupId"]}, "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
        "CidrIp": {"Fn::If": ["Demo", "0.0.0.0/0", "10.0.0.0/16"]}})
    head = group(https, {"Fn::If": ["Debug", ssh, {"Ref": "AWS::NoValue"}]})
    report = review(tmp_path, {"Sg": group(https)}, {"Sg": head, "In": standalone})
    found = {(c.logical_id, c.kind, c.detail, c.open_to_world) for c in report.network}
    assert ("Sg", "ingress added", "tcp 22 from 0.0.0.0/0", True) in found
    assert ("In", "ingress added", "tcp 8080 from 0.0.0.0/0 (group ${Sg.GroupId})", True) in found
    assert not [c for c in report.network if "no peer" in c.detail]


def test_vpc_endpoint_removed(tmp_path):
    endpoint = res("AWS::EC2::VPCEndpoint", "App/Network/SageMakerApi/Resource",
                   {"ServiceName": {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".sagemaker.api"]]},
                    "VpcEndpointType": "Interface", "VpcId": "vpc-1"})
    report = review(tmp_path, {"Api": endpoint}, {})
    (change,) = report.network
    assert change.kind == "removed"
    assert change.detail == "ServiceName com.amazonaws.${AWS::Region}.sagemaker.api, VpcEndpointType Interface"
    assert "VPC endpoint removed" in report.to_markdown()


def test_sagemaker_network_settings_and_routes_changed_in_place(tmp_path):
    """A Studio domain switched to PublicInternetOnly, a model that loses its network isolation and
    VPC, a subnet that starts giving public IPs and a route moved to an internet gateway stay the
    same resources: they were no network change at all."""
    def domain(access):
        return res("AWS::SageMaker::Domain", "App/Studio/Domain", {
            "DomainName": "d", "AuthMode": "IAM", "VpcId": "vpc-1", "SubnetIds": ["subnet-1"],
            "AppNetworkAccessType": access})

    def model(**props):
        return res("AWS::SageMaker::Model", "App/Model/Resource", {"ExecutionRoleArn": "arn:aws:iam::1:role/r", **props})

    def subnet(public):
        return res("AWS::EC2::Subnet", "App/Network/Subnet", {"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/24",
                                                               "MapPublicIpOnLaunch": public})

    def route(**target):
        return res("AWS::EC2::Route", "App/Network/Route", {"RouteTableId": "rtb-1", "DestinationCidrBlock": "0.0.0.0/0",
                                                             **target})

    isolated = {"EnableNetworkIsolation": True, "VpcConfig": {"Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}}
    report = review(tmp_path, {"Domain": domain("VpcOnly"), "Model": model(**isolated), "Subnet": subnet(False),
                               "Route": route(NatGatewayId="nat-1")},
                    {"Domain": domain("PublicInternetOnly"), "Model": model(), "Subnet": subnet(True),
                     "Route": route(GatewayId="igw-1")})
    found = {(c.logical_id, c.detail, c.open_to_world) for c in report.network if c.kind == "changed"}
    assert ("Domain", "AppNetworkAccessType: VpcOnly -> PublicInternetOnly", True) in found
    assert ("Model", "EnableNetworkIsolation: true -> (not set)", True) in found
    assert ("Model", 'VpcConfig: {"SecurityGroupIds":["sg-1"],"Subnets":["subnet-1"]} -> (not set)', True) in found
    assert ("Subnet", "MapPublicIpOnLaunch: false -> true", True) in found
    assert ("Route", "DestinationCidrBlock 0.0.0.0/0, NatGatewayId nat-1 -> DestinationCidrBlock 0.0.0.0/0, "
            "GatewayId igw-1", False) in found
    assert "AWS::SageMaker::Domain changed" in report.to_markdown()
    back = review(tmp_path / "back", {"Domain": domain("PublicInternetOnly")}, {"Domain": domain("VpcOnly")})
    assert [(c.detail, c.open_to_world) for c in back.network] == [("AppNetworkAccessType: PublicInternetOnly -> VpcOnly", False)]


# ---------------------------------------------------------------------------------------------
# Compliance
# ---------------------------------------------------------------------------------------------

def validation_report(*violations, suppressed=()) -> dict:
    def entry(rule, path, **extra):
        return {"ruleName": rule, "description": f"{rule} description", "violatingConstructs": [{"constructPath": path}],
                **extra}

    return {"version": "55.0.0", "pluginReports": [
        {"pluginName": "AwsSolutions", "conclusion": "failure" if violations else "success",
         "violations": [entry(*v) for v in violations],
         "suppressedViolations": [entry(*s, reason="because") for s in suppressed]},
        {"pluginName": "SageMaker", "conclusion": "success", "violations": []}]}


def test_findings_added_and_resolved_per_pack_from_the_validation_report(tmp_path, capsys):
    stack = {"Data": bucket()}
    b, h = pair(tmp_path, stack, stack,
                base_kwargs={"report": validation_report(("AwsSolutions-S1", "App/Old/Resource"))},
                head_kwargs={"report": validation_report(("AwsSolutions-S10", "App/Data/Resource"),
                                                         suppressed=[("AwsSolutions-IAM5", "App/Role/Resource")])})
    report = compare_assemblies(b, h, cost=False)
    got = {(f.pack, f.kind, f.rule) for f in report.findings}
    assert got == {("AwsSolutions", "added", "AwsSolutions-S10"), ("AwsSolutions", "resolved", "AwsSolutions-S1"),
                   ("AwsSolutions", "acknowledged", "AwsSolutions-IAM5")}
    assert report.finding_sources == {"AwsSolutions": "validation-report.json", "SageMaker": "validation-report.json"}
    assert "| AwsSolutions | 1 | 1 | 1 | validation-report.json |" in report.to_markdown()
    code, _, err = run_cli(capsys, b, h, "--no-cost", "--fail-on", "finding")
    assert code == 1 and "1 compliance finding(s) added" in err


def test_a_second_finding_of_one_rule_on_one_resource_is_added(tmp_path, capsys):
    """cfn-lint (the CloudFormation Validate plugin) reports one violation per property: a second
    property failing the same rule on the same resource is a finding added, not the same one."""
    def lint(*properties: str) -> dict:
        return {"version": "55.0.0", "pluginReports": [{"pluginName": "CloudFormation Validate", "violations": [
            {"ruleName": "F3031", "description": f"{prop}: does not match pattern", "violatingConstructs": [
                {"constructPath": "App/Model", "cloudFormationResource": {
                    "templatePath": "App.template.json", "logicalId": "Model",
                    "propertyPaths": [f"Properties.{prop}"]}}]} for prop in properties]}]}

    stack = {"Model": model(True)}
    b, h = pair(tmp_path, stack, stack, base_kwargs={"report": lint("ExecutionRoleArn")},
                head_kwargs={"report": lint("ExecutionRoleArn", "PrimaryContainer.Image")})
    report = compare_assemblies(b, h, cost=False)
    (added,) = [f for f in report.findings if f.pack == "CloudFormation Validate"]
    assert (added.kind, added.rule, added.path, added.where) == (
        "added", "F3031", "App/Model", "Properties.PrimaryContainer.Image")
    assert "(`Properties.PrimaryContainer.Image`)" in report.to_markdown()
    assert run_cli(capsys, b, h, "--no-cost", "--fail-on", "finding")[0] == 1


def model(isolated: bool) -> dict:
    return res("AWS::SageMaker::Model", "App/Model/Resource",
               {"ExecutionRoleArn": "arn:aws:iam::111111111111:role/r", "EnableNetworkIsolation": isolated,
                "PrimaryContainer": {"Image": "img"}})


def test_sagemaker_pack_is_evaluated_on_templates_without_a_report(tmp_path):
    report = review(tmp_path, {"Model": model(True)}, {"Model": model(False)})
    (finding,) = report.findings
    assert (finding.pack, finding.kind, finding.rule, finding.path) == (
        "SageMaker", "added", "SageMaker-ModelNetworkIsolation", "App/Model/Resource")
    assert report.finding_sources == {"SageMaker": "evaluated on the templates"}
    report = review(tmp_path / "back", {"Model": model(False)}, {"Model": model(True)})
    assert [(f.kind, f.rule) for f in report.findings] == [("resolved", "SageMaker-ModelNetworkIsolation")]


def test_sagemaker_finding_acknowledged_in_metadata_is_not_added(tmp_path):
    ack = {"/App/Model": [{"type": "aws:cdk:acknowledged-rules",
                           "data": {"SageMaker::SageMaker-ModelNetworkIsolation": "needs the internet"}}]}
    report = review(tmp_path, {"Model": model(True)}, {"Model": model(False)},
                    head_kwargs={"metadata": {"App": ack}})
    assert [(f.kind, f.rule) for f in report.findings] == [("acknowledged", "SageMaker-ModelNetworkIsolation")]
    assert report.findings_added == []


# ---------------------------------------------------------------------------------------------
# Cost
# ---------------------------------------------------------------------------------------------

def endpoint_stack(instance_type: str) -> dict:
    return {
        "Config": res("AWS::SageMaker::EndpointConfig", "App/Endpoint/Config", {"ProductionVariants": [
            {"VariantName": "AllTraffic", "ModelName": "m", "InstanceType": instance_type,
             "InitialInstanceCount": 2}]}),
        "Endpoint": res("AWS::SageMaker::Endpoint", "App/Endpoint/Resource",
                        {"EndpointConfigName": {"Fn::GetAtt": ["Config", "EndpointConfigName"]}}),
    }


def test_cost_increase_is_reported_and_gated(tmp_path, capsys):
    b, h = pair(tmp_path, endpoint_stack("ml.m5.large"), endpoint_stack("ml.m5.xlarge"))
    report = compare_assemblies(b, h)
    assert report.cost.estimated and report.cost.delta > 0
    assert report.cost.head_total == 2 * report.cost.base_total  # xlarge costs twice large
    assert f"+${report.cost.delta:,.2f}" in report.to_markdown()
    # Config changed (ProductionVariants is create-only) but an endpoint configuration is not stateful.
    assert report.replacements == []
    assert run_cli(capsys, b, h, "--fail-on", "cost-increase=10")[0] == 1
    assert run_cli(capsys, b, h, "--fail-on", "cost-increase=100000")[0] == 0
    assert run_cli(capsys, b, h, "--fail-on", "cost-increase")[0] == 1
    assert run_cli(capsys, h, b, "--fail-on", "cost-increase")[0] == 0  # a decrease passes
    code, _, err = run_cli(capsys, b, h, "--region", "mars-east-1", "--fail-on", "cost-increase=1")
    assert code == 2 and "cannot check cost-increase" in err


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

def test_json_output_and_output_file(tmp_path, capsys):
    b, h = pair(tmp_path, {"Data": bucket(BucketName="a")}, {"Data": bucket(BucketName="b")})
    out_file = tmp_path / "review.json"
    code, out, _ = run_cli(capsys, b, h, "--json", "--no-cost", "--output", out_file)
    assert code == 0
    data = json.loads(out)
    assert data == json.loads(out_file.read_text())
    assert data["summary"]["stateful_replacements"] == 1
    assert data["replacements"][0]["reasons"] == ["create-only property BucketName changed"]
    assert data["stacks"][0]["resources"][0]["changes"] == [
        {"path": "BucketName", "kind": "changed", "old": "a", "new": "b"}]


def test_bad_input_exits_2(tmp_path, capsys):
    b, h = pair(tmp_path, {}, {})
    code, _, err = run_cli(capsys, b, tmp_path / "nowhere")
    assert code == 2 and "manifest.json" in err
    code, _, err = run_cli(capsys, b, h, "--fail-on", "replacement,typo")
    assert code == 2 and "unknown condition 'typo'" in err
    for bad in ("cost-increase=abc", "cost-increase=-1", "wildcard=3"):
        with pytest.raises(ValueError):
            parse_fail_on(bad)
    assert parse_fail_on("replacement, cost-increase=$12.50") == {"replacement": None,
                                                                  "cost-increase": __import__("decimal").Decimal("12.50")}


def test_markdown_can_be_cut_for_a_comment(tmp_path):
    base = {f"P{i}": res("AWS::SSM::Parameter", f"App/P{i}/Resource", {"Type": "String", "Value": "a"})
            for i in range(200)}
    head = {k: res("AWS::SSM::Parameter", v["Metadata"]["aws:cdk:path"], {"Type": "String", "Value": "b"})
            for k, v in base.items()}
    md = review(tmp_path, base, head).to_markdown(max_chars=3000)
    assert len(md) <= 3000 and "report cut here" in md


def test_nested_assemblies_are_read(tmp_path):
    outer = tmp_path / "asm"
    write_assembly(outer / "assembly-Prod", {"Stack": {"Data": bucket()}})
    (outer / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": {
        "assembly-Prod": {"type": "cdk:cloud-assembly", "properties": {"directoryName": "assembly-Prod"}}}}))
    assert list(read_assembly(outer).stacks) == ["assembly-Prod/Stack"]


def write_nested(directory: Path, bucket_name: str) -> Path:
    """Stack ``Parent`` with a ``NestedStack`` ``Data`` holding a bucket, as CDK writes it: the
    nested template is a file beside the parent's, named in the artifact's metadata."""
    directory.mkdir(parents=True, exist_ok=True)
    parent = {"Resources": {"DataNestedStackDataNestedStackResourceEC94013D": {
        "Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": f"https://x/{bucket_name}.json"}}}}
    nested = {"Resources": {"B08E7C7AF": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": bucket_name},
                                          "DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}}}
    (directory / "Parent.template.json").write_text(json.dumps(parent))
    (directory / "ParentData0FBABE46.nested.template.json").write_text(json.dumps(nested))
    metadata = {
        "/Parent": [{"type": "aws:cdk:templateFile", "data": "Parent.template.json"}],
        "/Parent/Data": [{"type": "aws:cdk:templateFile", "data": "ParentData0FBABE46.nested.template.json"}],
        "/Parent/Data.NestedStack/Data.NestedStackResource": [
            {"type": "aws:cdk:logicalId", "data": "DataNestedStackDataNestedStackResourceEC94013D"}],
        "/Parent/Data/B/Resource": [{"type": "aws:cdk:logicalId", "data": "B08E7C7AF"}],
    }
    (directory / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": {"Parent": {
        "type": "aws:cloudformation:stack", "environment": "aws://unknown-account/unknown-region",
        "properties": {"templateFile": "Parent.template.json"}, "metadata": metadata, "displayName": "Parent"}}}))
    return directory


def test_a_bucket_replaced_in_a_nested_stack_is_flagged(tmp_path, capsys):
    """A nested stack's resources are in their own template; the parent shows only a new TemplateURL."""
    b, h = write_nested(tmp_path / "base", "a-bucket"), write_nested(tmp_path / "head", "b-bucket")
    assert list(read_assembly(h).stacks) == ["Parent", "Parent/Data"]
    assert read_assembly(h).stacks["Parent/Data"].path("B08E7C7AF") == "Parent/Data/B/Resource"
    report = compare_assemblies(b, h, cost=False)
    (replacement,) = report.replacements
    assert (replacement.stack, replacement.logical_id, replacement.path) == (
        "Parent/Data", "B08E7C7AF", "Parent/Data/B/Resource")
    assert replacement.reasons == ["create-only property BucketName changed"]
    assert run_cli(capsys, b, h, "--no-cost", "--fail-on", "replacement")[0] == 1


FAKE_CDK = """#!/usr/bin/env bash
# cdk synth --quiet --output DIR: writes a one-bucket assembly; fails after writing it in FAIL_IN
out=""
while [[ $# -gt 0 ]]; do [[ "$1" == --output ]] && out="$2"; shift; done
mkdir -p "$out"
echo '{"Resources": {"Data": {"Type": "AWS::S3::Bucket"}}}' > "$out/App.template.json"
echo '{"version": "55.0.0", "artifacts": {"App": {"type": "aws:cloudformation:stack",
  "environment": "aws://unknown-account/unknown-region", "properties": {"templateFile": "App.template.json"}}}}' \
  > "$out/manifest.json"
if [[ "$(basename "$out")" == "$FAIL_IN" ]]; then echo "ValidationError: the app is broken" >&2; exit 1; fi
"""


@pytest.mark.parametrize("fail_in,code", [("none", 0), ("base.out", 0), ("head.out", 2)])
def test_ci_review_fails_when_the_head_does_not_synthesize(tmp_path, fail_in, code):
    """.ci/review compares what a failed synth wrote, but a head that does not synthesize is never
    a clean pass, and the synth log is printed (the review directory is removed on exit)."""
    import os
    import shutil
    import subprocess
    import sys

    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(Path(__file__).parents[2] / ".ci" / "review", repo / ".ci" / "review")
    cdk = tmp_path / "cdk"
    cdk.write_text(FAKE_CDK)
    cdk.chmod(0o755)
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-C", str(repo)]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], check=True)
    env = {**os.environ, "PYTHON": sys.executable, "CDK": str(cdk), "BASE_REF": "main", "FAIL_IN": fail_in,
           "TMPDIR": str(tmp_path)}
    run = subprocess.run(["bash", str(repo / ".ci" / "review"), "--no-cost"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == code, run.stderr
    assert "## Infrastructure review" in run.stdout
    if fail_in != "none":
        assert "ValidationError: the app is broken" in run.stderr


# ---------------------------------------------------------------------------------------------
# End to end: two synths of a small app
# ---------------------------------------------------------------------------------------------

def synth_endpoint_app(outdir: Path, instance_type: str) -> Path:
    import aws_cdk as cdk

    from sagemaker_constructs import ContainerImage, Model, ModelData, PlatformKey, RealtimeEndpoint, SecureBucket
    from tests.conftest import new_app

    app = new_app(outdir=str(outdir))
    stack = cdk.Stack(app, "Serving")
    key = PlatformKey(stack, "Key")
    data = SecureBucket(stack, "Data", encryption_key=key)
    model = Model(stack, "Model", encryption_key=key,
                  image=ContainerImage.from_uri("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"),
                  model_data=ModelData.from_bucket(data, "iris/model.tar.gz"))
    RealtimeEndpoint(stack, "Endpoint", model=model, instance_type=instance_type, encryption_key=key)
    app.synth()
    return outdir


def test_end_to_end_two_synths_of_a_small_app(tmp_path, capsys):
    base = synth_endpoint_app(tmp_path / "base", "ml.m5.large")
    head = synth_endpoint_app(tmp_path / "head", "ml.m5.xlarge")
    code, out, err = run_cli(capsys, base, head, "--fail-on", "replacement,wildcard,finding")
    assert code == 0, err
    assert "ProductionVariants.AllTraffic.InstanceType: ml.m5.large -> ml.m5.xlarge" in out
    assert "Stateful resources that would be replaced" not in out
    report = compare_assemblies(base, head)
    assert report.cost.delta > 0
    (stack,) = [s for s in report.stacks if s.changed]
    configs = [r for r in stack.resources if r.resource_type == "AWS::SageMaker::EndpointConfig"]
    assert configs and all(r.replacement == "will" for r in configs)  # a new configuration, the endpoint updates
    assert not [r for r in stack.resources if r.resource_type == "AWS::SageMaker::Endpoint" and r.replacement]
    assert code == 0 and run_cli(capsys, base, head, "--fail-on", "cost-increase=1")[0] == 1


# ---------------------------------------------------------------------------------------------
# Values CloudFormation computes: Fn::Sub variables, policies as Fn::Join of JSON
# ---------------------------------------------------------------------------------------------

def _sub(template: str, **variables) -> dict:
    return {"Fn::Sub": [template, variables]}


def test_a_sub_whose_variable_changes_is_a_change(tmp_path, capsys):
    """``${Env}-data`` with Env=dev -> prod is a new BucketName (create-only): the bucket is replaced."""
    b, h = pair(tmp_path, {"Data": bucket(BucketName=_sub("${Env}-data", Env="dev"))},
                {"Data": bucket(BucketName=_sub("${Env}-data", Env="prod"))})
    report = compare_assemblies(b, h, cost=False)
    (replacement,) = report.replacements
    assert replacement.reasons == ["create-only property BucketName changed"]
    assert render(_sub("${Env}-data", Env={"Ref": "Stage"})) == "${Stage}-data"
    assert run_cli(capsys, b, h, "--no-cost", "--fail-on", "replacement")[0] == 1


def test_a_policy_written_as_a_join_of_json_is_analysed(tmp_path, capsys):
    """A policy document given as JSON text with references in it (``Fn::Join``) is read as a policy."""
    def joined(action: str) -> dict:
        return res("AWS::IAM::ManagedPolicy", "App/Policy/Resource", {"PolicyDocument": {"Fn::Join": ["", [
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "' + action + '", "Resource": "',
            {"Fn::GetAtt": ["Key", "Arn"]}, '"}]}']]}})

    b, h = pair(tmp_path, {"Policy": joined("kms:Decrypt")}, {"Policy": joined("*")})
    (change,) = compare_assemblies(b, h, cost=False).iam
    assert change.wildcards == ["Action *"]
    assert run_cli(capsys, b, h, "--no-cost", "--fail-on", "wildcard")[0] == 1


@pytest.mark.parametrize("break_it", ["manifest", "template_missing", "template_list"])
def test_a_broken_assembly_is_bad_input_not_a_traceback(tmp_path, capsys, break_it):
    """Exit 2 (bad input), never exit 1, which means "a condition holds"."""
    b, h = pair(tmp_path, {"Data": bucket()}, {"Data": bucket()})
    if break_it == "manifest":
        (h / "manifest.json").write_text("{not json")
    elif break_it == "template_missing":
        (h / "App.template.json").unlink()
    else:
        (h / "App.template.json").write_text("[]")
    code, _, err = run_cli(capsys, b, h, "--no-cost")
    assert code == 2 and "a readable cloud assembly" in err


def test_cost_increase_with_an_empty_amount_is_refused():
    with pytest.raises(ValueError, match="needs a USD amount"):
        parse_fail_on("cost-increase=")
    assert parse_fail_on("cost-increase") == {"cost-increase": None}
    with pytest.raises(ValueError, match="replacement takes no value"):
        parse_fail_on("replacement=")
    with pytest.raises(ValueError, match=r"without thousands separators \(cost-increase=1000\)"):
        parse_fail_on("cost-increase=1,000")
    assert parse_fail_on("cost-increase=$1000.50") == {"cost-increase": __import__("decimal").Decimal("1000.50")}
    with pytest.raises(ValueError, match="unknown condition 'replacment'"):
        parse_fail_on("replacment")
