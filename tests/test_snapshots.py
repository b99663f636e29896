"""syrupy JSON snapshots: each construct's defaults and each reference stack (asset hashes scrubbed).

Review a snapshot diff like a CloudFormation diff; update with `pytest --snapshot-update`.
"""

from __future__ import annotations

import pytest

from sagemaker_constructs import (
    AsyncEndpoint,
    InferenceComponentEndpoint,
    AuditTrail,
    ContainerImage,
    DataCapture,
    DeployOnApproval,
    DeploymentGuardrail,
    EndpointInvoker,
    Model,
    ModelData,
    ModelMonitor,
    ModelPackageGroup,
    MultiModelEndpoint,
    RealtimeEndpoint,
    ShadowVariant,
    ServerlessEndpoint,
    TrainingPipeline,
    IsolatedNetwork,
    JobExecutionRole,
    ModelHostingRole,
    PlatformKey,
    SecureBucket,
    StudioDomain,
    StudioUserRole,
)
from tests.conftest import REPO
from tests.harness.templates import scrub, template_of


def _platform_key(stack):
    PlatformKey(stack, "Key")


def _secure_bucket(stack):
    SecureBucket(stack, "Bucket", encryption_key=PlatformKey(stack, "Key"))


def _isolated_network(stack):
    IsolatedNetwork(stack, "Network")


def _audit_trail(stack):
    AuditTrail(stack, "Trail", encryption_key=PlatformKey(stack, "Key"))


def _studio_domain(stack):
    key = PlatformKey(stack, "Key")
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="studio")
    domain = StudioDomain(stack, "Studio", vpc=net.vpc, encryption_key=key,
                          endpoint_security_group=net.endpoint_security_group)
    domain.add_user_profile("alice")


def _studio_user_role(stack):
    StudioUserRole(stack, "Role", encryption_key=PlatformKey(stack, "Key"))


def _job_execution_role(stack):
    JobExecutionRole(stack, "Role", encryption_key=PlatformKey(stack, "Key"))


def _model_hosting_role(stack):
    ModelHostingRole(stack, "Role", encryption_key=PlatformKey(stack, "Key"))


IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
TRAINING = REPO / "stacks" / "assets" / "iris_training"


def _base(stack):
    key = PlatformKey(stack, "Key")
    bucket = SecureBucket(stack, "Data", encryption_key=key)
    return key, bucket


def _model(stack):
    key, bucket = _base(stack)
    return key, bucket, Model(stack, "Model", image=ContainerImage.from_uri(IMAGE),
                              model_data=ModelData.from_bucket(bucket, "m/model.tar.gz"), encryption_key=key)


def _realtime(stack):
    key, bucket, model = _model(stack)
    return key, bucket, RealtimeEndpoint(stack, "Endpoint", model=model, instance_type="ml.m5.large",
                                         data_capture=DataCapture(bucket), deployment=DeploymentGuardrail.canary())


def _realtime_ab(stack):
    """Two weighted production variants, the second autoscaled on its own."""
    key, bucket, model = _model(stack)
    challenger = Model(stack, "Challenger", image=ContainerImage.from_uri(IMAGE),
                       model_data=ModelData.from_bucket(bucket, "c/model.tar.gz"), encryption_key=key)
    endpoint = RealtimeEndpoint(stack, "Endpoint", model=model, instance_type="ml.m5.large", encryption_key=key,
                                data_capture=DataCapture(bucket), variant_weight=0.9)
    endpoint.add_variant("Challenger", model=challenger, instance_type="ml.c5.large", weight=0.1,
                         max_instance_count=2)


def _realtime_shadow(stack):
    """A shadow variant receiving 25 % of the production requests."""
    key, bucket, model = _model(stack)
    candidate = Model(stack, "Candidate", image=ContainerImage.from_uri(IMAGE),
                      model_data=ModelData.from_bucket(bucket, "c/model.tar.gz"), encryption_key=key)
    RealtimeEndpoint(stack, "Endpoint", model=model, instance_type="ml.m5.large", encryption_key=key,
                     data_capture=DataCapture(bucket),
                     shadow=ShadowVariant(candidate, "ml.c5.large", sampling_percentage=25))


def _serverless(stack):
    model = Model(stack, "Model", image=ContainerImage.from_uri(IMAGE), network_isolation=False)
    ServerlessEndpoint(stack, "Endpoint", model=model)


def _multi_model(stack):
    key, bucket = _base(stack)
    MultiModelEndpoint(stack, "Endpoint", image=ContainerImage.from_uri(IMAGE),
                       model_data_prefix=ModelData.from_bucket(bucket, "models/"), instance_type="ml.m5.large")


def _component_endpoint(stack):
    key, bucket, model = _model(stack)
    endpoint = InferenceComponentEndpoint(stack, "Endpoint", instance_type="ml.m5.xlarge", max_instance_count=2,
                                          encryption_key=key)
    endpoint.add_component("Iris", model=model, max_copies=2)


def _async_endpoint(stack):
    key, bucket, model = _model(stack)
    AsyncEndpoint(stack, "Endpoint", model=model, instance_type="ml.m5.large", output_bucket=bucket,
                  encryption_key=key)


def _invoker(stack):
    _, _, endpoint = _realtime(stack)
    EndpointInvoker(stack, "Invoker", endpoint=endpoint)


def _pipeline(stack):
    key, bucket = _base(stack)
    net = IsolatedNetwork(stack, "Network", encryption_key=key, endpoints="training")
    group = ModelPackageGroup(stack, "Group", model_package_group_name="iris")
    TrainingPipeline(stack, "Pipeline", training_image=ContainerImage.from_uri(IMAGE), data_bucket=bucket,
                     encryption_key=key, vpc=net.vpc, model_package_group=group,
                     evaluation_script=str(TRAINING / "evaluate.py"))


def _deploy(stack):
    _, _, endpoint = _realtime(stack)
    DeployOnApproval(stack, "Deploy", model_package_group=ModelPackageGroup(stack, "Group", model_package_group_name="iris"),
                     endpoint=endpoint)


def _monitor(stack):
    key, bucket, endpoint = _realtime(stack)
    ModelMonitor(stack, "Monitor", endpoint=endpoint, baseline_uri="s3://baseline-bucket/iris", output_bucket=bucket,
                 encryption_key=key, features=["sepal_length_cm"])


CONSTRUCT_DEFAULTS = {
    "Model": lambda stack: _model(stack),
    "RealtimeEndpoint": lambda stack: _realtime(stack),
    "RealtimeEndpointVariants": _realtime_ab,
    "RealtimeEndpointShadow": _realtime_shadow,
    "ServerlessEndpoint": _serverless,
    "MultiModelEndpoint": _multi_model,
    "InferenceComponentEndpoint": _component_endpoint,
    "AsyncEndpoint": _async_endpoint,
    "EndpointInvoker": _invoker,
    "ModelPackageGroup": lambda stack: ModelPackageGroup(stack, "Group", model_package_group_name="iris"),
    "TrainingPipeline": _pipeline,
    "DeployOnApproval": _deploy,
    "ModelMonitor": _monitor,
    "StudioDomain": _studio_domain,
    "StudioUserRole": _studio_user_role,
    "JobExecutionRole": _job_execution_role,
    "ModelHostingRole": _model_hosting_role,
    "PlatformKey": _platform_key,
    "SecureBucket": _secure_bucket,
    "IsolatedNetwork": _isolated_network,
    "AuditTrail": _audit_trail,
}


@pytest.mark.parametrize("name", sorted(CONSTRUCT_DEFAULTS))
def test_construct_defaults(name, stack, snapshot_json):
    CONSTRUCT_DEFAULTS[name](stack)
    assert scrub(template_of(stack)) == snapshot_json


@pytest.mark.parametrize("stack_name", ["platform", "inference", "mlops", "delivery"])
def test_reference_stack(stack_name, reference, snapshot_json):
    assert scrub(reference.template(stack_name)) == snapshot_json
