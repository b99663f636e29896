"""Lambda handler behind ``DeployOnApproval``: deploy an approved model package to an existing endpoint.

An EventBridge rule (source ``aws.sagemaker``, detail-type ``SageMaker Model Package State Change``,
``detail.ModelApprovalStatus == "Approved"``, one model package group) sends approvals to an SQS queue
that feeds this function one at a time (or invokes it directly). Each event ends in exactly one
decision, logged as one JSON line and returned:

* ``ignored``: not Approved, another group, or the package is no longer Approved when described
  (a late event for a package since rejected). No AWS call for the first two.
* ``already-deployed``: the endpoint already runs, or is being updated to, the target endpoint config
  (the same approval delivered twice deploys once; a retry after ``update_endpoint`` succeeded is a no-op).
* ``superseded``: the endpoint already runs, or is being updated to, a newer version of the group
  (approvals never go backwards; see below). No change.
* ``deployed``: a new Model and EndpointConfig were created (an existing one of the same name, left by
  an earlier partial attempt, is reused) and ``update_endpoint`` started, with ``DEPLOYMENT_CONFIG``
  (blue/green traffic shifting and alarm-based auto-rollback) so a bad model never takes all traffic.

Names are deterministic (:func:`resource_name`), which makes every step safe to repeat.

Endpoints with several variants: only the serving variant (``VARIANT_NAME``) gets the new model, keeping
its weight, capacity and timeouts; the config's other production variants (A/B) and its shadow variant are
carried into the new endpoint config unchanged (same model, weight and settings, at their current instance
count), so an approval never drops a variant. The config's explainer, async inference, metrics and
cross-region traffic settings (``CARRIED_CONFIG_KEYS``) are carried too.

Errors are never swallowed. While the endpoint is busy (Creating, Updating, SystemUpdating,
RollingBack, Deleting) :class:`EndpointBusy` is raised, a ``Failed`` endpoint raises :class:`DeploymentError`
before anything is created, throttling re-raises the ``ClientError`` and any
other AWS error raises :class:`DeploymentError`. From the queue, a failed record is reported in
``batchItemFailures`` and offered again after the queue's visibility timeout (so an approval waits out a
blue/green rollout of hours), and moves to the dead-letter queue after the queue's receive limit. Invoked
directly, the exception fails the invocation and Lambda's asynchronous retries apply.

Versions are ordered: the version the endpoint serves and the one it is being updated to are read from the
names of the endpoint configs this function created (:func:`version_of`); an approval of an older version is
``superseded`` (a retried or replayed event for v7 never replaces v8). A config this function did not create
(the CloudFormation template's) has no version. Rolling back is explicit: an event with ``"force": true`` at
its top level (sent by an operator to the queue or as a direct invocation; EventBridge events never carry it)
deploys its version even over a newer one; the package must still be Approved.

Configuration is read from the environment at call time: ``ENDPOINT_NAME``, ``MODEL_PACKAGE_GROUP_NAME``,
``EXECUTION_ROLE_ARN`` (required); ``VARIANT_NAME`` (``AllTraffic``), ``DEPLOYMENT_CONFIG`` (JSON
UpdateEndpoint ``DeploymentConfig``; empty: SageMaker's default), ``VPC_CONFIG`` (JSON), ``ENABLE_NETWORK_ISOLATION``
(``true``), ``KMS_KEY_ARN`` and ``DATA_CAPTURE_CONFIG`` (JSON) for the new endpoint config.
Lambda code with ``common.py`` (shared clients, retries, log lines): boto3 and the standard library only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from typing import Any

from botocore.exceptions import ClientError

try:  # imported from the package
    from . import common
except ImportError:  # in Lambda (and the handler tests): a top-level module next to this one
    import common  # type: ignore[no-redef]

THROTTLING = common.THROTTLING
BUSY = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"})
#: SageMaker's pattern for model and endpoint config names.
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
#: Properties of the serving variant carried over to the new endpoint config (capacity and timeouts):
#: every member of botocore's ``ProductionVariant`` but the ones set here (``VariantName``, ``ModelName``,
#: ``InitialVariantWeight``, ``InitialInstanceCount``). A variant on ``InstancePools`` has no
#: ``InstanceType``; one on a capacity reservation (``CapacityReservationConfig``) would otherwise be
#: moved to on-demand capacity by the first approval.
CARRIED_VARIANT_KEYS = (
    "InstanceType", "ServerlessConfig", "VolumeSizeInGB", "ModelDataDownloadTimeoutInSeconds",
    "ContainerStartupHealthCheckTimeoutInSeconds", "ManagedInstanceScaling", "RoutingConfig",
    "InferenceAmiVersion", "EnableSSMAccess", "CoreDumpConfig", "InstancePools",
    "VariantInstanceProvisionTimeoutInSeconds", "CapacityReservationConfig", "AcceleratorPartitionLayouts",
    "AcceleratorType",
)
#: Members of a package's container (``ModelPackageContainerDefinition``) that CreateModel's
#: ``ContainerDefinition`` takes under the same name and shape, copied as they are.
CARRIED_CONTAINER_KEYS = ("ContainerHostname", "Environment", "AdditionalModelDataSources")
#: Endpoint-config settings of the serving config that no environment variable sets, carried to the new
#: config when present (members of both botocore's DescribeEndpointConfig output and CreateEndpointConfig
#: input): without them an approval silently switched off online explainability, an async endpoint's
#: output configuration, per-variant metrics or cross-region traffic.
CARRIED_CONFIG_KEYS = ("AsyncInferenceConfig", "ExplainerConfig", "MetricsConfig", "CrossRegionTrafficConfig")
PACKAGE_TAG = common.PACKAGE_TAG
#: The tag StudioUserRole's guardrails read (security/roles.py PLATFORM_RESOURCE_TAG_* is this tag).
PLATFORM_TAG = common.PLATFORM_TAG


class DeploymentError(RuntimeError):
    """The deployment failed; Lambda retries the event, then sends it to the dead-letter queue."""


class EndpointBusy(DeploymentError):
    """The endpoint is being created, updated, rolled back or deleted: retryable, try again later."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """The function's configuration, read from the environment."""

    endpoint: str
    group: str
    role_arn: str
    variant: str = "AllTraffic"
    deployment_config: dict[str, Any] | None = None
    vpc_config: dict[str, Any] | None = None
    network_isolation: bool = True
    kms_key_arn: str | None = None
    data_capture: dict[str, Any] | None = None

    @classmethod
    def from_env(cls) -> Settings:
        def required(name: str) -> str:
            if not (value := os.environ.get(name, "").strip()):
                raise DeploymentError(f"environment variable {name} is not set")
            return value

        def json_or_none(name: str) -> dict[str, Any] | None:
            raw = os.environ.get(name, "").strip()
            try:
                return json.loads(raw) if raw else None
            except json.JSONDecodeError as err:
                raise DeploymentError(f"environment variable {name} is not valid JSON: {err}") from err

        isolation = os.environ.get("ENABLE_NETWORK_ISOLATION", "true").strip().lower() or "true"
        if isolation not in ("true", "false"):
            raise DeploymentError(f"ENABLE_NETWORK_ISOLATION must be true or false, not {isolation!r}")
        return cls(
            endpoint=required("ENDPOINT_NAME"), group=required("MODEL_PACKAGE_GROUP_NAME"),
            role_arn=required("EXECUTION_ROLE_ARN"), variant=os.environ.get("VARIANT_NAME", "").strip() or "AllTraffic",
            deployment_config=json_or_none("DEPLOYMENT_CONFIG"), vpc_config=json_or_none("VPC_CONFIG"),
            network_isolation=isolation == "true", kms_key_arn=os.environ.get("KMS_KEY_ARN", "").strip() or None,
            data_capture=json_or_none("DATA_CAPTURE_CONFIG"),
        )


#: One boto3 client per service, created on first use (tests replace this function).
_client = common.client
#: Log the decision as one JSON line and return it.
_decide = common.log
_code = common.error_code


def _message(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Message", ""))


def resource_name(group: str, version: int | str, package_arn: str, endpoint: str) -> str:
    """The deterministic name of the Model and EndpointConfig for one package on one endpoint.

    ``{group[:30]}-v{version}-{hash8}`` where hash8 is the first 8 hex digits of the SHA-256 of the package
    ARN and the endpoint name (two endpoints fed from one group never share a config). Characters SageMaker
    rejects become ``-``; the result always matches :data:`NAME_PATTERN` (at most 63 characters).
    """
    prefix = common.name_prefix(group)
    digest = hashlib.sha256(f"{package_arn}\n{endpoint}".encode()).hexdigest()[:8]
    name = f"{prefix}-v{version}-{digest}"
    if not NAME_PATTERN.match(name):
        raise DeploymentError(f"cannot derive a valid SageMaker name from {group!r} version {version!r}: {name}")
    return name


def version_of(group: str, config_name: str | None) -> int | None:
    """The group version an endpoint config of :func:`resource_name` deploys, or None for a config this
    function did not create."""
    if not config_name:
        return None
    prefix = common.name_prefix(group)
    match = re.fullmatch(re.escape(prefix) + r"-v(\d+)-[0-9a-f]{8}", config_name)
    return int(match.group(1)) if match else None


def _call(operation: str, ids: dict[str, Any], *, exists_ok: bool = False, **params: Any) -> dict[str, Any]:
    """One SageMaker call. Throttling re-raises the ClientError, a conflicting update raises EndpointBusy, any
    other AWS error raises DeploymentError (each logged). With ``exists_ok``, "already existing" answers {}."""
    try:
        return getattr(_client("sagemaker"), operation)(**params)
    except ClientError as err:
        code, message = _code(err), _message(err)
        if exists_ok and code == "ValidationException" and "cannot create already existing" in message.lower():
            return {}
        if code in THROTTLING:
            _decide("throttled", operation=operation, error=code, **ids)
            raise
        if operation == "update_endpoint" and "in-progress" in message.lower():
            _decide("endpoint-busy", operation=operation, error=code, detail=message, **ids)
            raise EndpointBusy(f"endpoint {ids['endpoint']} became busy: {message}") from err
        _decide("failed", operation=operation, error=code, detail=message, **ids)
        raise DeploymentError(f"SageMaker {operation} failed for {ids['model_package_arn']} on endpoint "
                              f"{ids['endpoint']}: {code}: {message}") from err


def _containers(package: dict[str, Any]) -> list[dict[str, Any]]:
    """The package's inference containers as CreateModel container definitions."""
    containers = package.get("InferenceSpecification", {}).get("Containers", [])
    if not containers:
        raise DeploymentError(f"model package {package['ModelPackageArn']} has no inference containers")
    result = []
    for container in containers:
        definition = {"Image": container["Image"]}
        if container.get("ModelDataUrl"):
            definition["ModelDataUrl"] = container["ModelDataUrl"]
        elif container.get("ModelDataSource"):
            definition["ModelDataSource"] = container["ModelDataSource"]
        definition.update({key: container[key] for key in CARRIED_CONTAINER_KEYS if container.get(key)})
        result.append(definition)
    return result


def _variant(settings: Settings, endpoint: dict[str, Any], config: dict[str, Any], model_name: str) -> dict[str, Any]:
    """The new production variant: the serving variant's capacity and timeouts, running the new model."""
    variants = config["ProductionVariants"]
    current = next((v for v in variants if v["VariantName"] == settings.variant), variants[0] if variants else None)
    if current is None:
        raise DeploymentError(f"endpoint config {config['EndpointConfigName']} has no production variant")
    variant = {"VariantName": settings.variant, "ModelName": model_name,
               "InitialVariantWeight": current.get("InitialVariantWeight", 1.0),
               **{key: current[key] for key in CARRIED_VARIANT_KEYS if key in current}}
    if "ServerlessConfig" not in variant:
        running = next((v for v in endpoint.get("ProductionVariants", [])
                        if v["VariantName"] == current["VariantName"]), {})
        variant["InitialInstanceCount"] = running.get("CurrentInstanceCount") or current.get("InitialInstanceCount", 1)
    return variant


def _other_variants(settings: Settings, endpoint: dict[str, Any], config: dict[str, Any],
                    key: str = "ProductionVariants") -> list[dict[str, Any]]:
    """The endpoint config's other variants under ``key`` (``ProductionVariants`` but the serving one: A/B
    variants; or ``ShadowProductionVariants``), carried unchanged (their model, weight and settings) at the
    instance count they run at now; only the serving variant (``VARIANT_NAME``) gets the new model."""
    variants = config.get(key) or []
    if key == "ProductionVariants":
        serving = next((v for v in variants if v["VariantName"] == settings.variant), variants[0] if variants else None)
        variants = [v for v in variants if v is not serving]
    carried = []
    for current in variants:
        variant = dict(current)
        if "ServerlessConfig" not in variant:
            running = next((v for v in endpoint.get(key, []) if v["VariantName"] == current["VariantName"]), {})
            variant["InitialInstanceCount"] = (running.get("CurrentInstanceCount")
                                               or current.get("InitialInstanceCount", 1))
        carried.append(variant)
    return carried


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Deploy approved model packages to ``ENDPOINT_NAME``; see the module docstring.

    Takes the EventBridge event itself, or an SQS batch of them (the construct buffers approvals in
    a queue): a record that fails (e.g. the endpoint is busy) is reported in ``batchItemFailures``,
    so SQS offers it again after the queue's visibility timeout, and after the queue's receive
    limit moves it to the dead-letter queue.
    """
    return common.sqs_batch(event, deploy)


def deploy(event: dict[str, Any]) -> dict[str, Any]:
    """Deploy the approved model package of one EventBridge event."""
    settings = Settings.from_env()
    detail = event.get("detail") or {}
    arn = detail.get("ModelPackageArn")
    ids = {"endpoint": settings.endpoint, "model_package_arn": arn, "version": detail.get("ModelPackageVersion")}
    ignored = common.not_an_approval_of(detail, settings.group)
    if ignored is not None:
        return _decide("ignored", **ignored, **ids)
    arn = detail["ModelPackageArn"]  # present: not_an_approval_of checked it

    package = _call("describe_model_package", ids, ModelPackageName=arn)
    if package.get("ModelApprovalStatus") != "Approved":
        return _decide("ignored", reason=f"package is now {package.get('ModelApprovalStatus')}", **ids)
    ids["version"] = version = package.get("ModelPackageVersion", ids["version"])
    name = resource_name(settings.group, version, arn, settings.endpoint)
    ids["name"] = name  # of both the new Model and EndpointConfig

    endpoint = _call("describe_endpoint", ids, EndpointName=settings.endpoint)
    status = endpoint["EndpointStatus"]
    pending = (endpoint.get("PendingDeploymentSummary") or {}).get("EndpointConfigName")
    force = event.get("force") is True
    deployed = {"current_version": version_of(settings.group, endpoint.get("EndpointConfigName")),
                "pending_version": version_of(settings.group, pending)}
    newest = max((v for v in deployed.values() if v is not None), default=None)
    incoming = _as_int(version)
    if newest is not None and incoming is not None and incoming < newest:
        if not force:
            return _decide("superseded", status=status, reason=f"the endpoint serves or deploys version {newest}; "
                           "send the event with \"force\": true to roll back", **deployed, **ids)
        if name != pending:
            _decide("rollback-forced", status=status, **deployed, **ids)
    if name == pending or (name == endpoint.get("EndpointConfigName") and not pending):
        return _decide("already-deployed", status=status, pending=name == pending, **ids)
    if status in BUSY:
        _decide("endpoint-busy", status=status, current_config=endpoint.get("EndpointConfigName"), **ids)
        raise EndpointBusy(f"endpoint {settings.endpoint} is {status}; {arn} will be deployed on a retry")
    if status == "Failed":
        # "DeleteEndpoint is the only operation that can be performed on a failed endpoint" (DescribeEndpoint
        # EndpointStatus): a Model and EndpointConfig created now would never serve; the approval is retried
        # through the queue (the endpoint may be re-created by its stack), then dead-lettered.
        reason = endpoint.get("FailureReason") or "no reason given"
        _decide("failed", status=status, detail=reason, **ids)
        raise DeploymentError(f"endpoint {settings.endpoint} is Failed ({reason}): only DeleteEndpoint works on it; "
                              f"{arn} is not deployed")

    config = _call("describe_endpoint_config", ids, EndpointConfigName=endpoint["EndpointConfigName"])
    containers = _containers(package)
    model = {"ModelName": name, "ExecutionRoleArn": settings.role_arn,
             **({"PrimaryContainer": containers[0]} if len(containers) == 1 else {"Containers": containers}),
             "EnableNetworkIsolation": settings.network_isolation,
             **({"VpcConfig": settings.vpc_config} if settings.vpc_config else {}),
             "Tags": [{"Key": PACKAGE_TAG, "Value": arn}, PLATFORM_TAG]}
    model_created = bool(_call("create_model", ids, exists_ok=True, **model))
    endpoint_config = {"EndpointConfigName": name,
                       "ProductionVariants": [_variant(settings, endpoint, config, name),
                                              *_other_variants(settings, endpoint, config)],
                       **({"ShadowProductionVariants": shadows}
                          if (shadows := _other_variants(settings, endpoint, config, "ShadowProductionVariants"))
                          else {}),
                       **({"KmsKeyId": settings.kms_key_arn} if settings.kms_key_arn else {}),
                       **({"DataCaptureConfig": settings.data_capture} if settings.data_capture else {}),
                       **{key: config[key] for key in CARRIED_CONFIG_KEYS if config.get(key)},
                       "Tags": [{"Key": PACKAGE_TAG, "Value": arn}, PLATFORM_TAG]}
    config_created = bool(_call("create_endpoint_config", ids, exists_ok=True, **endpoint_config))
    deployment: dict[str, Any] = {"DeploymentConfig": settings.deployment_config} if settings.deployment_config else {}
    _call("update_endpoint", ids, EndpointName=settings.endpoint, EndpointConfigName=name,
          RetainAllVariantProperties=False, **deployment)
    return _decide("deployed", previous_config=endpoint["EndpointConfigName"], model_created=model_created,
                   config_created=config_created, variant=endpoint_config["ProductionVariants"][0], **ids)
