"""The validation module: the instance-type catalog, the reusable checkers, names and schedules.

Table-driven: each class has its bad values with the message fragment they must produce, and
valid-but-unusual values that must pass (names at their maximum length, Tokens, the newest
instance families, ``NOW``). The last tests keep the one-mechanism rule: construct modules call
the checkers instead of hand-building ``ValidationError`` messages.
"""

from __future__ import annotations

import ast
import pathlib
import re

import aws_cdk as cdk
import pytest
from aws_cdk import Duration

from sagemaker_constructs import (
    AuditTrail,
    ContainerImage,
    DataCapture,
    DeploymentGuardrail,
    IsolatedNetwork,
    JobExecutionRole,
    Model,
    ModelData,
    ModelMonitor,
    PlatformKey,
    RealtimeEndpoint,
    SecureBucket,
    ValidationError,
    errors,
)
from sagemaker_constructs.validation import _instance_types, catalog, checks, naming, schedules
from tests.conftest import new_app
from tests.harness.templates import only, template_of

PACKAGE = pathlib.Path(catalog.__file__).resolve().parents[1]
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def _raises(fragment, call, *args, **kwargs):
    with pytest.raises(ValidationError, match=fragment) as info:
        call(*args, **kwargs)
    return info.value


# --- the instance-type catalog ------------------------------------------------------------------

BAD_INSTANCE_TYPES = [
    # (value, use, fragment)
    ("ml.m5.xlage", "hosting", r"did you mean ml\.m5\.xlarge"),
    ("m5.large", "hosting", r"did you mean .*ml\.m5\.large"),
    ("ml.M5.large", "training", "not an instance type SageMaker offers for training"),
    ("ml.m99.large", "processing", "ProcessingInstanceType"),
    ("ml.t3.medium", "hosting", r"does not offer ml\.t3\.medium for real-time hosting.*valid for .*training"),
    ("ml.c7g.large", "training", r"does not offer .* for training.*valid for real-time hosting"),
    ("ml.inf2.xlarge", "training", "TrainingInstanceType"),
    ("ml.p5e.48xlarge", "processing", "valid for real-time hosting, training"),
    ("ml.c6g.large", "transform", "TransformInstanceType"),
    ("ml.t2.medium", "studio", "AppInstanceType"),
    (42, "hosting", "an instance type name"),
]


@pytest.mark.parametrize("value,use,fragment", BAD_INSTANCE_TYPES)
def test_catalog_refuses(value, use, fragment):
    error = _raises(fragment, catalog.check_instance_type, "Stack/Thing", "instance_type", value, use=use)
    assert error.construct_path == "Stack/Thing" and error.argument == "instance_type"
    assert "botocore sagemaker" in str(error)  # quotes the AWS limit it enforces


@pytest.mark.parametrize("value,use", [
    ("ml.p6-b200.48xlarge", "training"), ("ml.p6-b300.48xlarge", "hosting"), ("ml.p6e-gb200.36xlarge", "hosting"),
    ("ml.trn2.48xlarge", "training"), ("ml.g7e.2xlarge", "hosting"), ("ml.m8g.medium", "hosting"),
    ("ml.c8i-flex.xlarge", "processing"), ("ml.c8i-flex.xlarge", "monitoring"), ("ml.t3.medium", "notebook"),
    ("system", "studio"), (None, "hosting"),
])
def test_catalog_accepts_the_newest_families(value, use):
    catalog.check_instance_type("S", "instance_type", value, use=use)


def test_catalog_skips_tokens():
    stack = cdk.Stack(new_app(), "S")
    param = cdk.CfnParameter(stack, "Type")
    catalog.check_instance_type(stack, "instance_type", param.value_as_string, use="training")


def test_a_type_newer_than_the_catalog_is_allowed_through_context():
    app = new_app(context={catalog.EXTRA_TYPES_CONTEXT: ["ml.p7.48xlarge"]})
    stack = cdk.Stack(app, "S")
    catalog.check_instance_type(stack, "instance_type", "ml.p7.48xlarge", use="hosting")
    _raises("ml.p7.48xlarge", catalog.check_instance_type, cdk.Stack(new_app(), "T"), "instance_type",
            "ml.p7.48xlarge", use="hosting")


def test_unknown_use_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown instance-type use"):
        catalog.check_instance_type("S", "instance_type", "ml.m5.large", use="gaming")


def test_vendored_copy_matches_the_installed_botocore():
    """Fails when botocore moved on: run ``python benchmarks/generate_instance_types.py``."""
    live = catalog._botocore_enums()
    assert live is not None, "botocore is a dev dependency"
    for shape in set(catalog.USE_SHAPES.values()):
        missing = set(live[shape]) - set(_instance_types.INSTANCE_TYPES[shape])
        assert not missing, f"{shape}: vendored copy lacks {sorted(missing)}; regenerate it"


def test_without_botocore_the_vendored_copy_is_the_catalog(monkeypatch):
    catalog._catalog.cache_clear()
    monkeypatch.setattr(catalog, "_botocore_enums", lambda: None)
    try:
        assert catalog.instance_types("hosting") == frozenset(
            _instance_types.INSTANCE_TYPES["ProductionVariantInstanceType"])
        _raises("did you mean ml.m5.xlarge", catalog.check_instance_type, "S", "instance_type", "ml.m5.xlage",
                use="hosting")
    finally:
        catalog._catalog.cache_clear()


def test_botocore_is_read_lazily():
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-c", "import sys, sagemaker_constructs; print('botocore' in sys.modules)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


FACTS = [
    # (type, field, expected)
    ("ml.t2.medium", "burstable", True),
    ("ml.trn1.2xlarge", "burstable", False),  # "t" of trn is not a T instance
    ("ml.trn1.2xlarge", "accelerator", "neuron"),
    ("ml.inf2.24xlarge", "accelerator_count", 6),
    ("ml.g5.48xlarge", "accelerator_count", 8),
    ("ml.p6-b200.48xlarge", "accelerator", "nvidia"),
    ("ml.m5.large", "accelerator", None),
    ("ml.m5.large", "accelerator_count", None),
    ("ml.c6gn.large", "arm64", True),
    ("ml.r7gd.large", "arm64", True),
    ("ml.m8g.large", "arm64", True),
    ("ml.p6e-gb200.36xlarge", "arm64", True),   # Grace CPUs
    ("ml.g4dn.xlarge", "arm64", False),         # GPU, not Graviton
    ("ml.g5.xlarge", "arm64", False),
    ("ml.g6.xlarge", "arm64", False),
    ("ml.m5d.large", "local_storage", True),
    ("ml.g4dn.xlarge", "local_storage", True),
    ("ml.g5.xlarge", "local_storage", True),
    ("ml.p6-b200.48xlarge", "local_storage", True),
    ("ml.p6-b300.48xlarge", "local_storage", True),
    ("ml.trn2.48xlarge", "local_storage", True),
    ("ml.m5.large", "local_storage", False),
    ("ml.inf2.xlarge", "local_storage", False),
    ("ml.c5.large", "multi_model", True),      # every CPU type
    ("ml.g4dn.16xlarge", "multi_model", True),
    ("ml.g5.12xlarge", "multi_model", False),  # multi-GPU types are not listed
    ("ml.inf2.xlarge", "multi_model", False),
    ("ml.g5.xlarge", "inference_components", True),
    ("ml.t3.medium", "inference_components", False),  # not a hosting type
]


@pytest.mark.parametrize("instance_type,field,expected", FACTS)
def test_instance_facts(instance_type, field, expected):
    assert getattr(catalog.instance_facts(instance_type), field) == expected


def test_facts_of_an_unknown_type_have_no_uses():
    facts = catalog.instance_facts("ml.m99.large")
    assert facts.uses == frozenset() and facts.family == "m99" and not facts.inference_components


def test_every_local_storage_family_in_the_catalog_is_known():
    """Families in the catalog whose EC2 instances have NVMe instance store (by the naming rule or the
    list) are flagged; a new family must be classified here on purpose."""
    families = {catalog.instance_family(t) for use in catalog.USE_SHAPES for t in catalog.instance_types(use)}
    families.discard("")
    storage = {f for f in families if catalog.has_instance_storage(f"ml.{f}.x")}
    assert storage >= {"m5d", "c5d", "r5d", "g4dn", "p4d", "p4de", "g5", "g6", "g6e", "p5", "p6-b200", "trn1"}
    assert not storage & {"m5", "c5", "r5", "inf1", "inf2", "p2", "p3", "t2", "t3", "c7i", "m7i"}


def test_volume_key_is_omitted_for_local_storage():
    assert catalog.volume_key("ml.m5d.large", "k") == {}
    assert catalog.volume_key("ml.m5.large", "k") == {"VolumeKmsKeyId": "k"}
    token = cdk.Token.as_string({"Ref": "Param"})
    assert catalog.volume_key(token, "k") == {"VolumeKmsKeyId": "k"}


# --- reusable checkers --------------------------------------------------------------------------

BAD_VALUES = [
    (lambda: checks.check_range("S", "count", 0, minimum=1, maximum=10, limit="API X"), r"allowed: 1 to 10 \(API X\)"),
    (lambda: checks.check_range("S", "count", 1.5, minimum=1, integer=True), "a whole number"),
    (lambda: checks.check_range("S", "count", "3", minimum=1), "a number from 1"),
    (lambda: checks.check_range("S", "count", True, minimum=0), "a number"),
    (lambda: checks.check_range("S", "ratio", float("nan"), minimum=0, maximum=1), "a number from 0 to 1"),
    (lambda: checks.check_length("S", "description", "x" * 257, maximum=256), "0 to 256 characters"),
    (lambda: checks.check_pattern("S", "name", "a b", r"\S+", description="no spaces"), "no spaces"),
    (lambda: checks.check_pattern("S", "name", "x" * 9, r"x+", max_length=8), "at most 8 characters"),
    (lambda: checks.check_pattern("S", "name", 7, r"x+"), "a string"),
    (lambda: checks.check_choice("S", "mode", "fast", ["File", "Pipe"]), "allowed: File, Pipe"),
    (lambda: checks.check_count("S", "environment", {str(i): "" for i in range(17)}, maximum=16, what="variables"),
     "0 to 16 variables"),
    (lambda: checks.check_combination("S", "serverless", True, refused=True, because="not with a multi-model model"),
     "not with a multi-model model"),
    (lambda: checks.duration_seconds("S", "timeout", Duration.millis(1500)), "timeout.*whole number of seconds"),
    (lambda: checks.check_each("S", "hosts", ["a", "b c"],
                               lambda s, a, v: checks.check_pattern(s, a, v, r"\S+")), r"hosts\[1\]"),
]


@pytest.mark.parametrize("call,fragment", BAD_VALUES)
def test_checkers_refuse(call, fragment):
    _raises(fragment, call)


def test_tokens_are_never_read_as_numbers():
    stack = cdk.Stack(new_app(), "S")
    number = cdk.CfnParameter(stack, "N", type="Number").value_as_number
    assert number < -1e288  # what the encoded Token "is" as a float
    checks.check_range(stack, "count", number, minimum=1, maximum=10)
    checks.check_int_range(stack, "count", number, minimum=1)
    errors.check_int_range(stack, "count", number, minimum=1)
    checks.check_range(stack, "count", number, minimum=1, integer=True)
    checks.check_choice(stack, "mode", cdk.CfnParameter(stack, "M").value_as_string, ["File"])
    checks.check_length(stack, "text", cdk.CfnParameter(stack, "T").value_as_string, maximum=2)
    checks.check_count(stack, "items", cdk.CfnParameter(stack, "L", type="CommaDelimitedList").value_as_list,
                       maximum=1)
    checks.check_each(stack, "items", cdk.CfnParameter(stack, "L2", type="CommaDelimitedList").value_as_list,
                      lambda s, a, v: checks.check_pattern(s, a, v, "x"))
    assert checks.duration_seconds(stack, "timeout", Duration.seconds(number)) is None


def test_errors_module_reexports_the_one_mechanism():
    assert errors.ValidationError is checks.ValidationError
    assert errors.check_pattern is checks.check_pattern and errors.is_unresolved is checks.is_unresolved
    assert errors.check_choice is checks.check_choice and errors.check_int_range is checks.check_int_range


def test_message_names_path_argument_value_and_what_is_allowed():
    error = _raises("instance_count", checks.check_range, "Stack/Endpoint", "instance_count", 0, minimum=1, maximum=10,
                    limit="botocore sagemaker TaskCount")
    assert str(error) == ("Stack/Endpoint: invalid instance_count=0; allowed: 1 to 10 "
                          "(botocore sagemaker TaskCount)")


# --- names --------------------------------------------------------------------------------------

BAD_NAMES = [
    (naming.check_bucket_name, "192.168.5.4", "IP address"),
    (naming.check_bucket_name, "my..bucket", "two adjacent periods"),
    (naming.check_bucket_name, "xn--bucket", "reserved prefix xn--"),
    (naming.check_bucket_name, "sthree-bucket", "reserved prefix sthree-"),
    (naming.check_bucket_name, "amzn-s3-demo-bucket", "reserved prefix amzn-s3-demo-"),
    (naming.check_bucket_name, "data--x-s3", "reserved suffix --x-s3"),
    (naming.check_bucket_name, "data-s3alias", "reserved suffix -s3alias"),
    (naming.check_bucket_name, "data--ol-s3", "reserved suffix --ol-s3"),
    (naming.check_bucket_name, "data.mrap", r"reserved suffix \.mrap"),
    (naming.check_bucket_name, "data--table-s3", "reserved suffix --table-s3"),
    (naming.check_bucket_name, "Data", "lowercase"),
    (naming.check_bucket_name, "ab", "at least 3 characters"),
    (naming.check_bucket_name, "a" * 64, "at most 63"),
    (naming.check_trail_name, "my--trail", "adjacent"),
    (naming.check_trail_name, "my-_trail", "adjacent"),
    (naming.check_trail_name, "10.0.0.1", "IP address"),
    (naming.check_trail_name, "ab", "at least 3"),
    (naming.check_trail_name, "t" * 129, "at most 128"),
    (lambda s, a, v: naming.check_iam_name(s, a, v, kind="role"), "r" * 65, "roleNameType"),
    (lambda s, a, v: naming.check_iam_name(s, a, v, kind="role"), "my role", "letters, digits"),
    (lambda s, a, v: naming.check_iam_name(s, a, v, kind="policy"), "p" * 129, "policyNameType"),
    (naming.check_alarm_name, "a" * 256, "AlarmName"),
    (naming.check_schedule_name, "nightly run", "scheduler Name"),
    (naming.check_function_name, "f" * 65, "lambda FunctionName"),
    (naming.check_name, "-endpoint", "EndpointName"),
    (naming.check_name, "e" * 64, "at most 63"),
    (lambda s, a, v: naming.check_name(s, a, v, shape="PipelineName"), "p" * 257, "PipelineName"),
    (lambda s, a, v: naming.check_name(s, a, v, shape="FeatureGroupName"), "fg.1", "FeatureGroupName"),
    (lambda s, a, v: naming.check_name(s, a, v, shape="UserProfileName"), "alice_smith", "UserProfileName"),
]


@pytest.mark.parametrize("check,value,fragment", BAD_NAMES)
def test_names_refused(check, value, fragment):
    _raises(fragment, check, "S/Thing", "name", value)


GOOD_NAMES = [
    (naming.check_bucket_name, "a" * 63),
    (naming.check_bucket_name, "my.data-bucket.2026"),
    (naming.check_bucket_name, "abc"),
    (naming.check_trail_name, "t" * 128),
    (naming.check_trail_name, "org.audit_trail-1"),
    (lambda s, a, v: naming.check_iam_name(s, a, v, kind="role"), "r" * 64),
    (lambda s, a, v: naming.check_iam_name(s, a, v, kind="role"), "ml+role=a,b.c@d_e-f"),
    (naming.check_alarm_name, "a" * 255),
    (naming.check_schedule_name, "s" * 64),
    (naming.check_name, "e" * 63),
    (naming.check_name, "a--b"),  # repeated hyphens are allowed by SageMaker's pattern
    (lambda s, a, v: naming.check_name(s, a, v, shape="PipelineName"), "p" * 256),
    (lambda s, a, v: naming.check_name(s, a, v, shape="FeatureGroupName"), "f_" * 31 + "fg"),
]


@pytest.mark.parametrize("check,value", GOOD_NAMES)
def test_names_at_their_limits_pass(check, value):
    check("S/Thing", "name", value)


@pytest.mark.parametrize("check", [naming.check_bucket_name, naming.check_trail_name, naming.check_name,
                                   naming.check_schedule_name, naming.check_alarm_name])
def test_name_tokens_pass(check):
    stack = cdk.Stack(new_app(), "S")
    check(stack, "name", cdk.CfnParameter(stack, "P").value_as_string)


def test_sagemaker_name_shapes_match_botocore():
    from botocore.loaders import Loader
    shapes = Loader().load_service_model("sagemaker", "service-2")["shapes"]
    for shape, (pattern, maximum) in naming.SAGEMAKER_NAMES.items():
        assert shapes[shape]["pattern"] == pattern and shapes[shape]["max"] == maximum, shape


def test_other_services_name_limits_match_botocore():
    from botocore.loaders import Loader
    iam = Loader().load_service_model("iam", "service-2")["shapes"]
    assert (iam["roleNameType"]["max"], iam["policyNameType"]["max"]) == (64, 128)
    assert Loader().load_service_model("cloudwatch", "service-2")["shapes"]["AlarmName"]["max"] == 255
    assert Loader().load_service_model("scheduler", "service-2")["shapes"]["Name"]["max"] == 64


def test_constructs_check_their_names(stack):
    key = PlatformKey(stack, "Key")
    _raises("bucket_name.*IP address", SecureBucket, stack, "B1", encryption_key=key, bucket_name="10.1.2.3")
    _raises("bucket_name.*--x-s3", SecureBucket, stack, "B2", encryption_key=key, bucket_name="data--x-s3")
    _raises("trail_name.*adjacent", AuditTrail, stack, "T", encryption_key=key, trail_name="org--trail")
    _raises("role_name.*roleNameType", JobExecutionRole, stack, "R", encryption_key=key, role_name="r" * 65)
    SecureBucket(stack, "B3", encryption_key=key, bucket_name="b" * 63)


# --- schedules ----------------------------------------------------------------------------------

BAD_SCHEDULER = [
    ("cron(0 12 * * ?)", "6 fields, got 5"),
    ("cron(0 25 * * ? *)", "hours field '25'"),
    ("cron(61 * ? * * *)", "minutes field '61'"),
    ("cron(0 12 * * * *)", "exactly one of day-of-month and day-of-week"),
    ("cron(0 12 ? * ? *)", "exactly one of day-of-month and day-of-week"),
    ("cron(0 12 ? FOO * *)", "month field"),
    ("rate(0 minutes)", "positive integer"),
    ("rate(5 weeks)", "rate"),
    ("at(2026-13-01T00:00:00)", "at"),
    ("every day", "cron"),
]


@pytest.mark.parametrize("value,fragment", BAD_SCHEDULER)
def test_scheduler_refuses(value, fragment):
    _raises(fragment, schedules.check_scheduler_expression, "S", "schedule", value)


@pytest.mark.parametrize("value", [
    "rate(1 minute)", "rate(12 hours)", "at(2026-02-28T23:59:59)", "cron(0/15 * ? * MON-FRI *)",
    "cron(0 10 ? * 6L 2026)", "cron(0 10 15W * ? *)", "cron(0 10 ? * 2#3 *)", "cron(0 10 L * ? *)",
    "cron(15,45 0-5 ? JAN-MAR SUN *)", None,
])
def test_scheduler_accepts(value):
    schedules.check_scheduler_expression("S", "schedule", value)


@pytest.mark.parametrize("value,interval", [
    ("NOW", None), ("cron(0 * ? * * *)", 3600), ("cron(0 12 ? * * *)", 86400), ("cron(0 00 ? * * *)", 86400),
    ("cron(0 17/12 ? * * *)", 43200), ("cron(0 0/2 ? * * *)", 7200),
])
def test_monitor_schedules_sagemaker_documents(value, interval):
    assert schedules.monitor_schedule_interval("S", "schedule_expression", value) == interval


@pytest.mark.parametrize("value", ["rate(1 hour)", "cron(30 * ? * * *)", "cron(0 0/25 ? * * *)", "hourly",
                                   "cron(0 12 * * ? *)", "now"])
def test_monitor_refuses_other_schedules(value):
    _raises("Model Monitor supports", schedules.monitor_schedule_interval, "S", "schedule_expression", value)


def _endpoint(stack, name="Endpoint"):
    key = PlatformKey(stack, f"{name}Key")
    net = IsolatedNetwork(stack, f"{name}Net", encryption_key=key, endpoints="inference")
    bucket = SecureBucket(stack, f"{name}Data", encryption_key=key)
    model = Model(stack, f"{name}Model", image=ContainerImage.from_uri(IMAGE),
                  model_data=ModelData.from_bucket(bucket, "m/model.tar.gz"), encryption_key=key)
    endpoint = RealtimeEndpoint(stack, name, model=model, instance_type="ml.m5.large",
                                data_capture=DataCapture(bucket))
    return key, net, bucket, endpoint


def _monitor(stack, id="Monitor", setup=None, **kwargs):
    key, net, bucket, endpoint = setup or _endpoint(stack)
    return ModelMonitor(stack, id, endpoint=endpoint, baseline_uri="s3://baseline-bucket/iris", output_bucket=bucket,
                        encryption_key=key, vpc=net.vpc, features=["f"], **kwargs)


def test_monitor_now_runs_once_over_the_hour_before(stack):
    _monitor(stack, schedule_expression="NOW")
    config = only(template_of(stack), "AWS::SageMaker::MonitoringSchedule")["MonitoringScheduleConfig"]
    assert config["ScheduleConfig"] == {"ScheduleExpression": "NOW", "DataAnalysisStartTime": "-PT1H",
                                        "DataAnalysisEndTime": "PT0H"}


def test_monitor_runtime_must_fit_the_interval(stack):
    _raises("max_runtime.*at most the schedule's interval, 3600", _monitor, stack, max_runtime=Duration.hours(2))


def test_monitor_runtime_may_fill_a_longer_interval(stack):
    _monitor(stack, schedule_expression="cron(0 0/6 ? * * *)", max_runtime=Duration.hours(6))


def test_monitor_runtime_not_whole_seconds(stack):
    _raises("max_runtime.*whole number of seconds", _monitor, stack, max_runtime=Duration.millis(1500))


def test_two_monitors_cannot_share_a_schedule_name(stack):
    setup = _endpoint(stack)
    _monitor(stack, setup=setup)
    _raises("monitoring schedule name.*Monitor already creates", _monitor, stack, "Monitor2", setup=setup)


def test_monitors_on_two_endpoints_are_fine(stack):
    _monitor(stack, setup=_endpoint(stack, "A"))
    _monitor(stack, "Monitor2", setup=_endpoint(stack, "B"))


def test_monitor_on_local_storage_type_has_no_volume_key(stack):
    _monitor(stack, instance_type="ml.r5d.large")
    job = only(template_of(stack), "AWS::SageMaker::DataQualityJobDefinition")
    assert "VolumeKmsKeyId" not in job["JobResources"]["ClusterConfig"]


def test_monitor_instance_type_from_the_catalog(stack):
    _raises(r"instance_type.*did you mean ml\.m5\.xlarge", _monitor, stack, instance_type="ml.m5.xlage")


# --- one mechanism ------------------------------------------------------------------------------

#: A hand-built ``allowed`` text that one of the checkers expresses: a numeric range or count
#: ("1-64", "between 1 and 5", "at most 10", "allowed: 1 to 10"), a length ("... characters"), a
#: list of choices ("allowed: a, b", "one of ..."). Such a raise must call the checker instead.
_CHECKER_FORM = re.compile(r"\d\s*(-|to)\s*\d|\b(at most|at least|between) \d|characters|allowed: |\bone of ", re.I)

#: The debt is paid (86 hand-built raises of checker form when the rule landed, 0 now): any such
#: raise in any module fails outright, and nothing may be added here.
NOT_YET_CONVERTED: dict[str, list[str]] = {}


def _checker_form_raises(path: pathlib.Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            func = node.exc.func
            if getattr(func, "id", getattr(func, "attr", None)) == "ValidationError" and len(node.exc.args) > 3:
                text = ast.unparse(node.exc.args[3])
                if _CHECKER_FORM.search(text):
                    found.append((node.lineno, text))
    return found


def _hand_built_everywhere() -> dict[str, list[tuple[int, str]]]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if not rel.startswith(("validation/", "handlers/")) and rel != "errors.py":
            found[rel] = _checker_form_raises(path)
    return found


def test_no_hand_built_message_a_checker_could_express():
    bad = {}
    for rel, found in _hand_built_everywhere().items():
        new = [(line, text) for line, text in found if text not in NOT_YET_CONVERTED.get(rel, [])]
        if new:
            bad[rel] = [f"line {line}: {text[:80]}" for line, text in new]
    assert not bad, ("hand-built ValidationError messages a checker expresses (call validation.checks / "
                     f"naming / catalog / schedules / limits / combinations instead): {bad}")


def test_the_last_exceptions_are_exact():
    """A raise moved to the checkers leaves ``NOT_YET_CONVERTED`` in the same change; none is added."""
    found = {rel: sorted(text for _, text in raises) for rel, raises in _hand_built_everywhere().items() if raises}
    assert found == {rel: sorted(texts) for rel, texts in NOT_YET_CONVERTED.items()}
    assert NOT_YET_CONVERTED == {}


def test_the_scan_sees_a_hand_built_range(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f(self, n):\n    raise ValidationError(self, 'n', n, '1-16 subnets')\n")
    assert _checker_form_raises(sample) == [(2, "'1-16 subnets'")]
    sample.write_text("def f(self, n):\n    raise ValidationError(self, 'endpoint', n, 'an IInstanceEndpoint')\n")
    assert _checker_form_raises(sample) == []


def test_validation_module_raises_live_in_checkers():
    """Inside validation/ every public function that raises is a checker."""
    for path in (PACKAGE / "validation").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                if any(isinstance(n, ast.Raise) for n in ast.walk(node)):
                    assert node.name.startswith(("check_", "monitor_schedule", "duration_", "cdk_", "claim_",
                                                 "instance_types")), f"{path.name}:{node.name}"


def test_instance_types_are_not_matched_by_pattern_outside_the_catalog():
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if not rel.startswith("validation/"):
            assert "INSTANCE_TYPE_PATTERN" not in path.read_text() or rel == "mlops/serving.py", rel


# --- rollouts -----------------------------------------------------------------------------------

def _fleet(stack, instance_count, deployment):
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    model = Model(stack, "Model", image=ContainerImage.from_uri(IMAGE),
                  model_data=ModelData.from_bucket(bucket, "m/model.tar.gz"), encryption_key=key)
    return RealtimeEndpoint(stack, "Endpoint", model=model, instance_type="ml.m5.large", instance_count=instance_count,
                            deployment=deployment)


BAD_ROLLOUTS = [
    (1, lambda: DeploymentGuardrail.canary(instances=1), "canary instances.*no canary step of whole instances"),
    (4, lambda: DeploymentGuardrail.canary(instances=3), r"canary instances.*CanarySize"),
    (1, lambda: DeploymentGuardrail.linear(step_instances=1), "linear step_instances.*no linear step"),
    (20, lambda: DeploymentGuardrail.linear(step_instances=1), r"allowed: 2 to 10 instances of 20"),
    (2, lambda: DeploymentGuardrail.canary(percent=None), "canary size.*a percent of the fleet or a number"),
    (2, lambda: DeploymentGuardrail.linear(step_percent=None), "linear size"),
    (2, lambda: DeploymentGuardrail.canary(percent=60), "canary percent"),
    (2, lambda: DeploymentGuardrail.canary(wait=Duration.minutes(30), termination_wait=Duration.minutes(10),
                                           max_execution_timeout=Duration.minutes(30)),
     r"max_execution_timeout.*1 x wait \(1800 s\) \+ termination_wait \(600 s\) = 2400 s"),
    (2, lambda: DeploymentGuardrail.linear(step_percent=10, wait=Duration.minutes(10),
                                           max_execution_timeout=Duration.minutes(60)),
     r"9 x wait"),
    (2, lambda: DeploymentGuardrail.canary(wait=Duration.millis(1500)), "deployment wait.*whole number of seconds"),
]


@pytest.mark.parametrize("count,guardrail,fragment", BAD_ROLLOUTS)
def test_rollouts_that_cannot_happen(stack, count, guardrail, fragment):
    _raises(fragment, _fleet, stack, count, guardrail())


@pytest.mark.parametrize("count,guardrail", [
    (2, lambda: DeploymentGuardrail.canary(instances=1)),
    (20, lambda: DeploymentGuardrail.linear(step_instances=10)),
    (2, lambda: DeploymentGuardrail.linear(step_percent=50, wait=Duration.minutes(5),
                                           max_execution_timeout=Duration.minutes(11))),
    (1, lambda: DeploymentGuardrail.all_at_once()),
])
def test_rollouts_at_their_limits(stack, count, guardrail):
    _fleet(stack, count, guardrail())


# --- silent surprises ---------------------------------------------------------------------------

def test_max_azs_beyond_what_the_stack_resolves_raises(stack):
    _raises(r"max_azs.*at most the 2 AZs this stack resolves", IsolatedNetwork, stack, "Net", max_azs=3)


def test_max_azs_three_with_a_known_environment(stack):
    app = new_app(context={"availability-zones:account=111122223333:region=us-east-1":
                           ["us-east-1a", "us-east-1b", "us-east-1c"]})
    env_stack = cdk.Stack(app, "Env", env=cdk.Environment(account="111122223333", region="us-east-1"))
    net = IsolatedNetwork(env_stack, "Net", max_azs=3)
    assert len(net.vpc.isolated_subnets) == 3
