"""Combinations of arguments SageMaker refuses (or silently does not honour), checked at synth.

Each checker raises :class:`~sagemaker_constructs.ValidationError` naming the construct path, the
argument, the value and what is allowed, and quotes the AWS page that documents the restriction:

* a serverless endpoint serving a multi-model model: "Some of the features currently available for
  SageMaker AI Real-time Inference are not supported for Serverless Inference, including [...]
  multi-model endpoints" (:data:`SERVERLESS_DOC`, Feature exclusions);
* a Model Monitor (data quality, model quality, bias, explainability) on a multi-model or serverless
  endpoint: "Model Monitor currently supports only endpoints that host a single model and does not
  support monitoring multi-model endpoints" (:data:`MODEL_MONITOR_DOC`); serverless endpoints support
  neither data capture nor Model Monitor (:data:`SERVERLESS_DOC`);
* deploy- or promote-on-approval onto a multi-model endpoint: a model package version is one model,
  deployed as a ``SingleModel`` container in a new endpoint config; on a multi-model endpoint that
  replaces the container that serves every model under the prefix (new models of a multi-model endpoint
  are objects added under its S3 prefix, with no endpoint update: :data:`MULTI_MODEL_DOC`);
* a construct in an :class:`~sagemaker_constructs.IsolatedNetwork` whose endpoint list lacks an interface
  endpoint the construct calls (an invoker without ``sagemaker.runtime``): its calls would time out;
* deployment guardrails (canary, linear, or an all-at-once bake) on Inf1 instances: "you cannot use
  deployment guardrails on your endpoint, and your endpoint will fall back to using a blue/green
  deployment with all at once traffic shifting and no final baking period" (:data:`GUARDRAILS_EXCLUSIONS_DOC`);
* rollback alarms that fire on every deployment: a 5xx threshold below 1 with ``>=`` (0 errors is
  ``>= 0``), a latency threshold of 0 with ``>`` (every request takes longer than 0).
"""

from __future__ import annotations

from typing import Any, Sequence

from constructs import IConstruct

from .catalog import instance_family
from .checks import check_combination, check_range, is_unresolved

SERVERLESS_DOC = "https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html"
MODEL_MONITOR_DOC = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor.html"
MULTI_MODEL_DOC = "https://docs.aws.amazon.com/sagemaker/latest/dg/multi-model-endpoints.html"
GUARDRAILS_EXCLUSIONS_DOC = "https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-exclusions.html"
ALARM_DOC = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html"

#: Instance families on which SageMaker runs every guardrail as all-at-once with no bake (exclusions page).
GUARDRAIL_EXCLUDED_FAMILIES = frozenset({"inf1"})
#: What SageMaker cannot shadow-test (serverless, asynchronous, multi-model endpoints, Inf1 instances, ...).
SHADOW_EXCLUSIONS_DOC = "https://docs.aws.amazon.com/sagemaker/latest/dg/shadow-tests-exclusions.html"
#: Instance families of endpoints SageMaker does not shadow-test (shadow test exclusions page).
SHADOW_EXCLUDED_FAMILIES = frozenset({"inf1"})


def _is_multi_model(endpoint_or_model: Any) -> bool:
    model = getattr(endpoint_or_model, "model", endpoint_or_model)
    return getattr(model, "multi_model", False) is True


def _is_serverless(endpoint: Any) -> bool:
    from ..inference.endpoints.serverless import ServerlessEndpoint

    return isinstance(endpoint, ServerlessEndpoint)


def _path(thing: Any) -> Any:
    node = getattr(thing, "node", None)
    return node.path if node is not None else type(thing).__name__


def check_serverless_model(scope: IConstruct | str, argument: str, model: Any) -> None:
    """Raise for a serverless endpoint given a multi-model model (``Model(multi_model=True)``)."""
    refused = _is_multi_model(model)  # the model's path (two Python-to-Node calls) only in the message
    check_combination(scope, argument, _path(model) if refused else None, refused=refused, because=(
        "a single-model Model: SageMaker Serverless Inference does not support multi-model endpoints "
        "(\"Some of the features currently available for SageMaker AI Real-time Inference are not supported "
        "for Serverless Inference, including [...] multi-model endpoints\"); host the models on a "
        "MultiModelEndpoint, or create the Model without multi_model=True"), limit=f"{SERVERLESS_DOC}, Feature exclusions")


def check_monitorable_endpoint(scope: IConstruct | str, argument: str, endpoint: Any, *, monitor: str) -> None:
    """Raise for a Model Monitor (``monitor`` names it) on a serverless or multi-model endpoint."""
    check_combination(scope, argument, _path(endpoint), refused=_is_serverless(endpoint), because=(
        f"an instance-backed endpoint with data capture: {monitor} cannot watch a serverless endpoint "
        "(Serverless Inference supports neither data capture nor Model Monitor)"),
        limit=f"{SERVERLESS_DOC}, Feature exclusions")
    check_combination(scope, argument, _path(endpoint), refused=_is_multi_model(endpoint), because=(
        f"an endpoint that hosts a single model: {monitor} cannot watch a multi-model endpoint (\"Model Monitor "
        "currently supports only endpoints that host a single model and does not support monitoring "
        "multi-model endpoints\")"), limit=MODEL_MONITOR_DOC)


def check_single_model_endpoint(scope: IConstruct | str, argument: str, endpoint: Any, *, feature: str) -> None:
    """Raise when ``feature`` (a model-package deployment) targets a multi-model endpoint."""
    check_combination(scope, argument, _path(endpoint), refused=_is_multi_model(endpoint), because=(
        f"a single-model endpoint (RealtimeEndpoint): {feature} deploys one model package version as a "
        "SingleModel container, which on a multi-model endpoint would replace the container serving every "
        "model under its prefix; add models to a multi-model endpoint by copying their model.tar.gz under "
        "its model_data_prefix (no endpoint update)"), limit=MULTI_MODEL_DOC)


def check_network_endpoints(scope: IConstruct | str, argument: str, vpc: Any, services: Sequence[str], *,
                            feature: str) -> None:
    """Raise when ``vpc`` is an :class:`~sagemaker_constructs.IsolatedNetwork`'s VPC with a fixed endpoint
    list (a preset or names, not ``"auto"``) that lacks one of ``services`` and no ``require(...)`` asked
    for it: ``feature`` would call an API it cannot reach. Other VPCs (imported, or ours in ``"auto"``
    mode, which adds what the app needs) pass."""
    from ..network import _REQUIREMENTS_ATTR, AUTO, IsolatedNetwork

    node = getattr(vpc, "node", None)
    network = node.scope if node is not None else None
    if not isinstance(network, IsolatedNetwork) or network.endpoints_mode == AUTO:
        return
    required = getattr(network.vpc, _REQUIREMENTS_ATTR, None) or {}
    missing = [s for s in services if s not in network.interface_endpoints and s not in required]
    check_combination(scope, argument, network.node.path, refused=bool(missing), because=(
        f"a VPC with the {', '.join(missing)} interface endpoint{'s' if len(missing) > 1 else ''} {feature} calls: "
        f"the network's endpoints ({network.endpoints_mode!r}: {', '.join(network.interface_endpoints) or 'none'}) "
        f"lack it; create the IsolatedNetwork with endpoints='auto' (or a preset or list that includes "
        f"{', '.join(missing)}), or call network.require({', '.join(repr(m) for m in missing)}, reason=...) first"),
        limit="https://docs.aws.amazon.com/sagemaker/latest/dg/interface-vpc-endpoint.html")


def check_guardrail_instance_type(scope: IConstruct | str, argument: str, instance_type: Any, mode: str) -> None:
    """Raise for a deployment guardrail (``mode``: ``ALL_AT_ONCE`` with a bake, ``CANARY``, ``LINEAR``) on an
    instance type SageMaker runs all at once without a bake (Inf1)."""
    if instance_type is None or is_unresolved(instance_type) or not isinstance(instance_type, str):
        return
    refused = instance_family(instance_type) in GUARDRAIL_EXCLUDED_FAMILIES
    check_combination(scope, argument, instance_type, refused=refused, because=(
        f"an instance type deployment guardrails apply to: on Inf1 SageMaker ignores the {mode.lower()} "
        "guardrail (\"you cannot use deployment guardrails on your endpoint, and your endpoint will fall back "
        "to using a blue/green deployment with all at once traffic shifting and no final baking period\"); "
        "use ml.inf2 (or another family), or drop deployment="), limit=GUARDRAILS_EXCLUSIONS_DOC)


def check_shadow_testable(scope: IConstruct | str, argument: str, instance_type: Any, model: Any, *,
                          model_argument: str = "model") -> None:
    """Raise for a variant of a shadow test (production or shadow) SageMaker does not shadow-test:
    on an Inf1 ``instance_type``, or serving a multi-model ``model``. Tokens pass."""
    if isinstance(instance_type, str) and not is_unresolved(instance_type):
        check_combination(scope, argument, instance_type,
                          refused=instance_family(instance_type) in SHADOW_EXCLUDED_FAMILIES,
                          because="not an Inf1 instance type: SageMaker does not shadow-test endpoints on Inf1 instances",
                          limit=SHADOW_EXCLUSIONS_DOC)
    refused = _is_multi_model(model)
    check_combination(scope, model_argument, _path(model) if refused else None, refused=refused, because=(
        "a single-model Model: SageMaker does not shadow-test multi-model endpoints"), limit=SHADOW_EXCLUSIONS_DOC)


def check_rollback_thresholds(scope: IConstruct | str, threshold_5xx: Any, latency_ms: Any) -> None:
    """Raise for default rollback alarms that would roll back every deployment: the 5xx alarm fires at
    ``Sum >= threshold_5xx`` per minute (at least 1, or 0 errors alarm), the latency alarm at
    ``p99 > latency`` (above 0 ms, or every request alarms). Tokens pass."""
    check_range(scope, "rollback_5xx_threshold", threshold_5xx, minimum=1, integer=True, unit="errors per minute",
                limit=f"an alarm of Sum >= 0 fires on every minute, rolling back every deployment; {ALARM_DOC}")
    check_range(scope, "rollback_latency (ms)", latency_ms, minimum=1, unit="ms",
                limit=f"an alarm of p99 ModelLatency > 0 fires on every request, rolling back every deployment; "
                      f"{ALARM_DOC}")


__all__ = [
    "GUARDRAIL_EXCLUDED_FAMILIES", "check_guardrail_instance_type", "check_monitorable_endpoint",
    "check_network_endpoints", "check_rollback_thresholds", "check_serverless_model", "check_single_model_endpoint",
]
