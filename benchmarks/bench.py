#!/usr/bin/env python3
"""`make bench`: what synth costs, against the same resources written as raw L1 (and the
aws-cdk SageMaker alpha L2s when ``aws-cdk.aws-sagemaker-alpha`` is installed).

Prints, in one run:
- the reference app's CLI synth (`cdk synth --quiet`) with the built-in CloudFormation
  validation on and off (CDK_VALIDATION=false), interleaved, median;
- per added endpoint (real-time with autoscaling, serverless, multi-model) at 1, 10 and 50
  endpoints: the median marginal synth time (construct + ``app.synth()``) over a stack with the
  shared key and bucket only, ours against raw L1, per endpoint and per CloudFormation resource,
  and the Python-to-Node (jsii kernel) calls per endpoint; implementations are interleaved in
  every repeat so the machine's load hits all of them alike. Two L1 versions: ``L1`` writes the
  fewest properties that make the same resources; ``L1 same template`` writes our template
  property for property (tags, checkov skips, DependsOn, the role's statements), so its ratio is
  what the constructs cost over the same output written by hand;
- ``import sagemaker_constructs``: wall time in a fresh interpreter, and -X importtime split into
  our modules and aws_cdk's;
- a multi-model endpoint's resource count at 1 and 1000 models;
- the last whole-suite run's wall time (recorded by `make test`), or with --suite, a new run's.

Run: make bench [BENCH_ARGS="--repeats 5 --suite"]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), str(REPO / "node_modules" / ".bin"), os.environ["PATH"]])
os.environ.setdefault("CDK_VALIDATION", "false")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

SIZES = (1, 10, 50)
KINDS = ("realtime", "serverless", "multi-model")
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


# --- jsii call counting ---------------------------------------------------------------------

class KernelCalls:
    """Counts Python-to-Node calls: the generated bindings call the module-level aliases
    ``jsii.create/invoke/sinvoke/get/sget/set/sset`` (bound to the kernel at import).

    With ``attribute_to``, also counts (in ``self.made_by``) the calls that module of ours makes
    itself: the innermost frame of ours is there (a check it only schedules counts for its own
    module). That walks the stack on every call, so the timed benchmarks leave it off."""

    METHODS = ("create", "invoke", "sinvoke", "get", "sget", "set", "sset", "ainvoke")

    def __init__(self, attribute_to: str | None = None) -> None:
        import jsii

        self.count = 0
        self.made_by = 0
        for name in self.METHODS:
            original = getattr(jsii, name, None)
            if original is None:
                continue

            def counted(*args, __original=original, **kwargs):
                self.count += 1
                if attribute_to is not None:
                    ours = [f for f in traceback.extract_stack(limit=16) if "/sagemaker_constructs/" in f.filename]
                    if ours and ours[-1].filename.endswith(f"sagemaker_constructs/{attribute_to}"):
                        self.made_by += 1
                return __original(*args, **kwargs)

            setattr(jsii, name, counted)


# --- the implementations --------------------------------------------------------------------

def _shared(stack):
    from sagemaker_constructs import PlatformKey, SecureBucket

    key = PlatformKey(stack, "Key")
    return key, SecureBucket(stack, "Data", encryption_key=key)


def ours(stack, kind: str, n: int) -> None:
    from sagemaker_constructs import ContainerImage, Model, ModelData, MultiModelEndpoint, RealtimeEndpoint, ServerlessEndpoint

    key, bucket = _shared(stack)
    for i in range(n):
        if kind == "multi-model":
            MultiModelEndpoint(stack, f"E{i}", image=ContainerImage.from_uri(IMAGE), encryption_key=key,
                               model_data_prefix=ModelData.from_bucket(bucket, f"models{i}/"), instance_type="ml.m5.large")
            continue
        model = Model(stack, f"M{i}", image=ContainerImage.from_uri(IMAGE), encryption_key=key,
                      model_data=ModelData.from_bucket(bucket, f"m{i}/model.tar.gz"),
                      network_isolation=kind == "realtime")
        if kind == "realtime":
            RealtimeEndpoint(stack, f"E{i}", model=model, instance_type="ml.m5.large", instance_count=1, max_instance_count=4)
        else:
            ServerlessEndpoint(stack, f"E{i}", model=model)


def _autoscaling_role_arn() -> str:
    """Application Auto Scaling's service-linked role for SageMaker endpoints (read once per build:
    each ``Aws.*`` read is a Python-to-Node call the baselines should not pay per endpoint)."""
    from aws_cdk import Aws

    return (f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/aws-service-role/sagemaker.application-autoscaling"
            ".amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint")


def _scalable_target(stack, id: str, resource_id: str, role_arn: str):
    """A raw ``CfnScalableTarget`` of one endpoint variant, 1 to 4 instances, with ``role_arn``
    (:func:`_autoscaling_role_arn`)."""
    from aws_cdk import aws_applicationautoscaling as appscaling

    return appscaling.CfnScalableTarget(
        stack, id, service_namespace="sagemaker", scalable_dimension="sagemaker:variant:DesiredInstanceCount",
        resource_id=resource_id, min_capacity=1, max_capacity=4, role_arn=role_arn)


def l1(stack, kind: str, n: int) -> None:
    """The same resources (types, count, comparable properties) as raw CloudFormation L1s."""
    from aws_cdk import Aws
    from aws_cdk import aws_applicationautoscaling as appscaling
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_sagemaker as sm

    key, bucket = _shared(stack)
    # Every token read once, outside the loop (each read is a Python-to-Node call).
    partition, account, region = Aws.PARTITION, Aws.ACCOUNT_ID, Aws.REGION
    key_arn, bucket_arn, bucket_name = key.key_arn, bucket.bucket_arn, bucket.bucket_name
    region_account = f"{region}:{account}"
    autoscaling_role = _autoscaling_role_arn() if kind == "realtime" else ""
    for i in range(n):
        role = iam.CfnRole(stack, f"R{i}", assume_role_policy_document={
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "sagemaker.amazonaws.com"},
                           "Condition": {"StringEquals": {"aws:SourceAccount": account}}}],
        })
        prefix = f"models{i}/" if kind == "multi-model" else f"m{i}/model.tar.gz"
        iam.CfnManagedPolicy(stack, f"P{i}", roles=[role.ref], policy_document={"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": key_arn},
            {"Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
             "Resource": f"arn:{partition}:ecr:{region_account}:repository/*"},
            {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": f"arn:{partition}:logs:{region_account}:log-group:/aws/sagemaker/Endpoints/*"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{bucket_arn}/{prefix}*"},
        ]})
        model = sm.CfnModel(stack, f"M{i}", execution_role_arn=role.attr_arn, enable_network_isolation=kind != "serverless",
                            primary_container=sm.CfnModel.ContainerDefinitionProperty(
                                image=IMAGE, model_data_url=f"s3://{bucket_name}/{prefix}",
                                mode="MultiModel" if kind == "multi-model" else "SingleModel"))
        variant = sm.CfnEndpointConfig.ProductionVariantProperty(
            variant_name="AllTraffic", model_name=model.attr_model_name, initial_variant_weight=1,
            **({"serverless_config": sm.CfnEndpointConfig.ServerlessConfigProperty(max_concurrency=20, memory_size_in_mb=2048)}
               if kind == "serverless" else {"instance_type": "ml.m5.large", "initial_instance_count": 1}))
        config = sm.CfnEndpointConfig(stack, f"C{i}", production_variants=[variant], kms_key_id=None if kind == "serverless" else key_arn)
        endpoint = sm.CfnEndpoint(stack, f"E{i}", endpoint_config_name=config.attr_endpoint_config_name)
        if kind == "realtime":
            target = _scalable_target(stack, f"T{i}", f"endpoint/{endpoint.attr_endpoint_name}/variant/AllTraffic", autoscaling_role)
            target.node.add_dependency(endpoint)
            appscaling.CfnScalingPolicy(
                stack, f"S{i}", policy_name=f"E{i}Tracking", policy_type="TargetTrackingScaling", scaling_target_id=target.ref,
                target_tracking_scaling_policy_configuration=appscaling.CfnScalingPolicy.TargetTrackingScalingPolicyConfigurationProperty(
                    target_value=1000, scale_in_cooldown=300, scale_out_cooldown=60,
                    predefined_metric_specification=appscaling.CfnScalingPolicy.PredefinedMetricSpecificationProperty(
                        predefined_metric_type="SageMakerVariantInvocationsPerInstance")))


_TAGS = [{"key": "sagemaker-constructs:deployed-by", "value": "platform"}]
_NAMESPACES = ["/aws/sagemaker/Endpoints", "/aws/sagemaker/Endpoints/*", "/aws/sagemaker/InferenceComponents"]


def l1_same(stack, kind: str, n: int) -> None:
    """Raw L1s that write our template, property for property (tags, checkov skips, DependsOn,
    the role's seven statements): what our constructs cost over the same output written by hand.
    Held equal to ``ours`` (logical IDs and generated names aside) by tests/unit/test_synth_cost.py."""
    from aws_cdk import Aws
    from aws_cdk import aws_applicationautoscaling as appscaling
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_sagemaker as sm

    key, bucket = _shared(stack)
    key_arn, bucket_arn, bucket_name = key.key_arn, bucket.bucket_arn, bucket.bucket_name
    partition, account, region = Aws.PARTITION, Aws.ACCOUNT_ID, Aws.REGION
    region_account = f"{region}:{account}"
    autoscaling_role = _autoscaling_role_arn() if kind == "realtime" else ""
    for i in range(n):
        role = iam.CfnRole(stack, f"R{i}", description="SageMaker model hosting execution role (sagemaker-constructs)",
                           assume_role_policy_document={
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "sagemaker.amazonaws.com"},
                           "Condition": {"StringEquals": {"aws:SourceAccount": account}}}],
        })
        data = f"models{i}/" if kind == "multi-model" else f"m{i}/model.tar.gz"
        objects = f"{data}*" if kind == "multi-model" else data
        policy = iam.CfnManagedPolicy(stack, f"P{i}", description="sagemaker-constructs model hosting permissions", path="/",
                                      roles=[role.ref], policy_document={"Version": "2012-10-17", "Statement": [
            {"Sid": "UseEncryptionKeys", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": key_arn},
            {"Sid": "GrantKeysToAwsServices", "Effect": "Allow", "Action": "kms:CreateGrant", "Resource": key_arn,
             "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
            {"Sid": "PullImages", "Effect": "Allow",
             "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
             "Resource": f"arn:{partition}:ecr:{region_account}:repository/*"},
            {"Sid": "WriteSageMakerLogs", "Effect": "Allow",
             "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
             "Resource": f"arn:{partition}:logs:{region_account}:log-group:/aws/sagemaker/Endpoints/*"},
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*",
             "Condition": {"StringLike": {"cloudwatch:namespace": _NAMESPACES}}},
            {"Effect": "Allow", "Action": ["s3:GetBucket*", "s3:GetObject*", "s3:List*"],
             "Resource": [bucket_arn, f"{bucket_arn}/{objects}"]},
        ]})
        model = sm.CfnModel(stack, f"M{i}", execution_role_arn=role.attr_arn, enable_network_isolation=kind != "serverless",
                            primary_container={"image": IMAGE, "modelDataUrl": f"s3://{bucket_name}/{data}",
                                               "mode": "MultiModel" if kind == "multi-model" else "SingleModel"},
                            tags=_TAGS)
        model.add_dependency(policy)
        if kind == "serverless":
            model.add_metadata("checkov", {"skip": [{"id": "CKV_AWS_370", "comment": (
                "Served by a serverless endpoint: SageMaker Serverless Inference does not support network isolation "
                "(nor a VPC), so this model runs without them.")}]})
            variant = {"variantName": "AllTraffic", "modelName": model.attr_model_name,
                       "serverlessConfig": {"maxConcurrency": 20, "memorySizeInMb": 2048}}
        else:
            variant = {"variantName": "AllTraffic", "modelName": model.attr_model_name, "initialVariantWeight": 1,
                       "instanceType": "ml.m5.large", "initialInstanceCount": 2 if kind == "multi-model" else 1}
        config = sm.CfnEndpointConfig(stack, f"C{i}", production_variants=[variant], tags=_TAGS,
                                      kms_key_id=key_arn if kind == "multi-model" else None)
        if kind == "serverless":
            config.add_metadata("checkov", {"skip": [{"id": "CKV_AWS_98", "comment": (
                "Serverless endpoints have no ML storage volume and SageMaker rejects a KmsKeyId for them; their data "
                "at rest is encrypted by SageMaker.")}]})
        name = f"Bench-E{i}-L1"
        endpoint = sm.CfnEndpoint(stack, f"E{i}", endpoint_name=name, endpoint_config_name=config.attr_endpoint_config_name,
                                  tags=_TAGS, **({"retain_all_variant_properties": True, "exclude_retained_variant_properties": [
                                      {"variantPropertyType": "DesiredWeight"}, {"variantPropertyType": "DataCaptureConfig"}]} if kind == "realtime" else {}))
        if kind == "realtime":
            target = _scalable_target(stack, f"T{i}", f"endpoint/{name}/variant/AllTraffic", autoscaling_role)
            target.add_dependency(endpoint)
            scaling = appscaling.CfnScalingPolicy(
                stack, f"S{i}", policy_name=f"BenchE{i}Tracking", policy_type="TargetTrackingScaling",
                scaling_target_id=target.ref, target_tracking_scaling_policy_configuration={
                    "targetValue": 100, "scaleInCooldown": 300, "scaleOutCooldown": 60,
                    "predefinedMetricSpecification": {"predefinedMetricType": "SageMakerVariantInvocationsPerInstance"}})
            scaling.add_dependency(endpoint)


def alpha(stack, kind: str, n: int) -> None:
    """The aws-cdk SageMaker alpha L2s (real-time and multi-model; they have no serverless variant)."""
    from aws_cdk import aws_sagemaker_alpha as sma

    key, bucket = _shared(stack)
    image = sma.ContainerImage.from_ecr_repository  # noqa: F841 (API presence)
    for i in range(n):
        data = f"models{i}/" if kind == "multi-model" else f"m{i}/model.tar.gz"
        model = sma.Model(stack, f"M{i}", containers=[sma.ContainerDefinition(
            image=_AlphaImage(sma), model_data=sma.ModelData.from_bucket(bucket, data))])
        config = sma.EndpointConfig(stack, f"C{i}", encryption_key=key, instance_production_variants=[
            sma.InstanceProductionVariantProps(model=model, variant_name="AllTraffic",
                                               instance_type=sma.InstanceType.M5_LARGE, initial_instance_count=1)])
        endpoint = sma.Endpoint(stack, f"E{i}", endpoint_config=config)
        if kind == "realtime":
            endpoint.find_instance_production_variant("AllTraffic").auto_scale_instance_count(
                max_capacity=4).scale_on_invocations("Tracking", max_requests_per_second=30)


def _AlphaImage(sma):
    class Image(sma.ContainerImage):  # an image given by URI (ContainerImage is an abstract class)
        def bind(self, scope, model):
            return sma.ContainerImageConfig(image_name=IMAGE)

    return Image()


IMPLEMENTATIONS: dict[str, Callable] = {"ours": ours, "L1": l1, "L1 same template": l1_same}
try:  # optional
    import aws_cdk.aws_sagemaker_alpha  # noqa: F401

    IMPLEMENTATIONS["alpha"] = alpha
except ImportError:
    pass


def _synth(build: Callable, kind: str, n: int, calls: KernelCalls) -> tuple[float, int, int]:
    """Seconds, CloudFormation resources and jsii calls of building ``n`` endpoints and synthesizing."""
    import aws_cdk as cdk

    from tests.conftest import cdk_context

    with tempfile.TemporaryDirectory() as out:
        before = calls.count
        started = time.perf_counter()
        app = cdk.App(outdir=out, context=cdk_context())
        stack = cdk.Stack(app, "Bench")
        build(stack, kind, n)
        assembly = app.synth()
        elapsed = time.perf_counter() - started
        made = calls.count - before
        template = assembly.get_stack_by_name("Bench").template
    return elapsed, len(template["Resources"]), made


def endpoint_costs(repeats: int) -> None:
    calls = KernelCalls()
    print(f"\n## Per added endpoint (median of {repeats}, interleaved; marginal over the shared key and bucket)")
    print("| kind | N | impl | ms / endpoint | resources / endpoint | ms / resource | jsii calls / endpoint | × L1 / endpoint | × L1 / resource | × L1 same template |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    impls = list(IMPLEMENTATIONS)
    for kind in KINDS:  # warm-up: module imports and jsii type loading are not per-endpoint costs
        for impl in impls:
            if not (impl == "alpha" and kind == "serverless"):
                _synth(IMPLEMENTATIONS[impl], kind, 1, calls)
    for kind in KINDS:
        for n in SIZES:
            samples: dict[str, list[float]] = {i: [] for i in impls}
            base: dict[str, list[float]] = {i: [] for i in impls}
            shape: dict[str, tuple[int, int, int, int]] = {}
            for _ in range(repeats):
                for impl in impls:
                    if impl == "alpha" and kind == "serverless":  # no serverless variant in the alpha L2s
                        continue
                    build = IMPLEMENTATIONS[impl]
                    t0, r0, c0 = _synth(build, kind, 0, calls)
                    t, r, c = _synth(build, kind, n, calls)
                    base[impl].append(t0)
                    samples[impl].append(t)
                    shape[impl] = (r, r0, c, c0)
            rows = {}
            for impl in impls:
                if not samples[impl]:
                    continue
                r, r0, c, c0 = shape[impl]
                per_endpoint = (statistics.median(samples[impl]) - statistics.median(base[impl])) / n * 1000
                per_resource = per_endpoint / ((r - r0) / n)
                rows[impl] = (per_endpoint, (r - r0) / n, per_resource, (c - c0) / n)
            for impl, (pe, rpe, pr, cpe) in rows.items():
                ref, same = rows["L1"], rows["L1 same template"]
                print(f"| {kind} | {n} | {impl} | {pe:.1f} | {rpe:g} | {pr:.2f} | {cpe:.0f} | ×{pe / ref[0]:.2f} | ×{pr / ref[2]:.2f} "
                      f"| ×{pe / same[0]:.2f} |")


# --- CLI synth, import time, multi-model, suite ---------------------------------------------

def cli_synth(repeats: int) -> None:
    cdk = REPO / "node_modules" / ".bin" / "cdk"
    if not cdk.exists():
        print("\n## CLI synth: skipped (run `make install` for the pinned CDK CLI)")
        return
    env = {**os.environ, "CDK_HOME": str(REPO / ".cdk-home"), "CDK_DISABLE_CLI_TELEMETRY": "true",
           "CDK_DISABLE_VERSION_CHECK": "1"}
    # The packs (cdk.json: all seven) and without Control Tower's cfn-guard, or none.
    without_ct = "AwsSolutions,HIPAA.Security,NIST.800.53.R5,PCI.DSS.321,SageMaker"
    modes = {"on": [], "off": [], "off, packs but Control Tower": ["-c", f"sagemaker-constructs:compliance={without_ct}"],
             "off, no packs": ["-c", "sagemaker-constructs:compliance=false"]}
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    for _ in range(repeats):
        for mode, extra in modes.items():
            run_env = dict(env)
            if mode == "on":
                run_env.pop("CDK_VALIDATION", None)
            else:
                run_env["CDK_VALIDATION"] = "false"
            with tempfile.TemporaryDirectory() as out:
                started = time.perf_counter()
                proc = subprocess.run([str(cdk), "synth", "--quiet", "--output", out, *extra], cwd=REPO, env=run_env,
                                      capture_output=True, text=True)
                elapsed = time.perf_counter() - started
            if proc.returncode != 0:
                print(f"\n## CLI synth (validation {mode}) FAILED:\n{(proc.stdout + proc.stderr)[-2000:]}")
                return
            times[mode].append(elapsed)
    print(f"\n## Reference app, `cdk synth --quiet` (median of {repeats}, interleaved)")
    print(f"- built-in CloudFormation validation on: {statistics.median(times['on']):.1f} s")
    print(f"- off (CDK_VALIDATION=false): {statistics.median(times['off']):.1f} s")
    print(f"- off, every pack but Control Tower: {statistics.median(times['off, packs but Control Tower']):.1f} s")
    print(f"- off, no packs: {statistics.median(times['off, no packs']):.1f} s")


def import_time(repeats: int) -> None:
    code = "import sagemaker_constructs"
    walls, ours_us, cdk_us, total_us = [], [], [], []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        walls.append(time.perf_counter() - started)
        proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True)
        own = cdk = total = 0
        for line in proc.stderr.splitlines():
            m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
            if not m:
                continue
            self_us, name = int(m.group(1)), m.group(4)
            total += self_us
            if name.startswith("sagemaker_constructs"):
                own += self_us
            elif name.startswith(("aws_cdk", "jsii", "constructs", "publication", "typeguard", "cattrs", "attrs", "attr")):
                cdk += self_us
        ours_us.append(own)
        cdk_us.append(cdk)
        total_us.append(total)
    baseline = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        baseline.append(time.perf_counter() - started)
    med = statistics.median
    full = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "from sagemaker_constructs import RealtimeEndpoint"], check=True,
                       capture_output=True)
        full.append(time.perf_counter() - started)
    print(f"\n## `import sagemaker_constructs` (median of {repeats})")
    print(f"- `from sagemaker_constructs import RealtimeEndpoint` (loads aws_cdk and starts jsii's Node process): "
          f"{statistics.median(full):.3f} s")
    print(f"- wall, fresh interpreter: {med(walls):.3f} s (interpreter start alone: {med(baseline):.3f} s)")
    print(f"- -X importtime: our modules {med(ours_us) / 1e6:.3f} s; aws_cdk/jsii/constructs and their "
          f"dependencies {med(cdk_us) / 1e6:.3f} s; all imports {med(total_us) / 1e6:.3f} s")


def multi_model_resources() -> None:
    import aws_cdk as cdk

    from sagemaker_constructs import ContainerImage, ModelData, MultiModelEndpoint
    from tests.conftest import cdk_context

    counts = {}
    for models in (1, 1000):
        with tempfile.TemporaryDirectory() as out:
            app = cdk.App(outdir=out, context=cdk_context())
            stack = cdk.Stack(app, "Bench")
            key, bucket = _shared(stack)
            # The models are objects under the prefix (TargetModel in the request): the template
            # is the same for 1 or 1000 of them; SageMaker loads each on first use.
            MultiModelEndpoint(stack, "MM", image=ContainerImage.from_uri(IMAGE), encryption_key=key,
                               model_data_prefix=ModelData.from_bucket(bucket, "models/"), instance_type="ml.m5.large")
            template = app.synth().get_stack_by_name("Bench").template
            counts[models] = len(template["Resources"]) - 5  # less the shared key and buckets
    print("\n## Multi-model endpoint")
    print(f"- CloudFormation resources at 1 model: {counts[1]}; at 1000 models: {counts[1000]}")


def last_suite_run(path: "os.PathLike[str] | None" = None) -> str:
    """The last whole-suite run's wall time (``make test`` records it in build/test-suite-wall.json,
    tests/conftest.py), as the line ``make bench`` prints."""
    from pathlib import Path

    path = Path(path) if path is not None else Path(REPO) / "build" / "test-suite-wall.json"
    if not path.exists():
        return "## Test suite: no whole-suite run recorded yet (run `make test`, or pass --suite to time one now)"
    run = json.loads(path.read_text())
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(run.get("counts", {}).items()))
    status = "passed" if run.get("exit_status") == 0 else f"exit status {run.get('exit_status')}"
    return (f"## Test suite: last whole-suite run (`make test`) took {run['seconds']:.0f} s wall ({counts}; {status}; "
            f"-m {run.get('marks')!r}), finished {run.get('finished')}; --suite times it again")


def suite() -> None:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider"], cwd=REPO,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    tail = (proc.stdout.strip().splitlines() or [""])[-1]
    print(f"\n## Test suite (`pytest -n 2`): {elapsed:.0f} s wall; {tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cli-repeats", type=int, default=2)
    parser.add_argument("--suite", action="store_true", help="also time the test suite (slow)")
    parser.add_argument("--only", choices=("cli", "endpoints", "import", "multi-model"), action="append")
    args = parser.parse_args()
    only = set(args.only or ("cli", "endpoints", "import", "multi-model"))
    print("# sagemaker-constructs synth benchmark")
    print(f"implementations: {', '.join(IMPLEMENTATIONS)}" + ("" if "alpha" in IMPLEMENTATIONS else
          " (alpha L2s not installed: pip install aws-cdk.aws-sagemaker-alpha to compare)"))
    if "import" in only:
        import_time(args.repeats)
    if "cli" in only:
        cli_synth(args.cli_repeats)
    if "endpoints" in only:
        endpoint_costs(args.repeats)
    if "multi-model" in only:
        multi_model_resources()
    if args.suite:
        suite()
    else:
        print("\n" + last_suite_run())


if __name__ == "__main__":
    main()
