"""Lambda handler behind ``InstanceRecommender``: Inference Recommender jobs for new model
package versions, and their result recorded on the version before anyone approves it.

Two kinds of invocation, each logged as one JSON line and answered with a JSON object:

* **start** (a pipeline's ``RecommendInstancesStep``, a ``Lambda`` step after ``RegisterModel``):
  ``{"ModelPackageArn": ..., "JobType": "Default" | "Advanced", "InstanceTypes": [...],
  "MaxLatencyMs": n, "MaxInvocations": n, "JobDurationSeconds": n}``. Starts
  ``CreateInferenceRecommendationsJob`` for the version (a job name derived from the version, so
  a retried step starts it once) and records on the version (``CustomerMetadataProperties``,
  merged with what it has) ``sagemaker-constructs:recommendation-job``, ``...-status``
  ``IN_PROGRESS`` and the latency target. Answers ``{"JobName", "Status"}`` (the step's outputs).
* **record** (an EventBridge schedule, ``{"action": "record"}`` or a scheduled event): for each
  recommendations job of this function (name prefix ``JOB_PREFIX``) that ended in the last two
  days, whose version still says ``IN_PROGRESS`` for it, records the cheapest recommendation
  (lowest ``CostPerHour``) whose ``ModelLatency`` meets the target: ``...-instance-type``,
  ``...-instance-count``, ``...-cost-per-hour``, ``...-model-latency-ms``,
  ``...-max-invocations``, status ``COMPLETED``; ``NO_CANDIDATE`` when none meets it; ``FAILED``
  (with the job's reason) when the job failed or stopped. A job whose recording fails (an AWS error on
  it or its version) is reported as ``failed`` without stopping the others; the invocation then raises
  :class:`RecommendationError` naming those jobs.

Versions of other groups are refused (``MODEL_PACKAGE_GROUP_NAME``). Configuration from the
environment: ``JOB_ROLE_ARN``, ``JOB_PREFIX``, ``MODEL_PACKAGE_GROUP_NAME`` (required);
``KMS_KEY_ARN`` (volume and output key of the job), ``VPC_CONFIG`` (JSON ``{"Subnets",
"SecurityGroupIds"}`` of the job's endpoints). API shapes: CreateInferenceRecommendationsJob,
DescribeInferenceRecommendationsJob, ListInferenceRecommendationsJobs, UpdateModelPackage
(https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateInferenceRecommendationsJob.html).
Packaged alone as Lambda code: boto3 and the standard library only.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import os
import re
import unicodedata
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

PREFIX = "sagemaker-constructs:recommendation-"
KEYS = ("job", "status", "max-latency-ms", "instance-type", "instance-count", "cost-per-hour", "model-latency-ms",
        "max-invocations", "reason")
JOB_TYPES = ("Default", "Advanced")
ENDED = ("COMPLETED", "FAILED", "STOPPED")
LOOKBACK = datetime.timedelta(days=2)
#: UpdateModelPackage ``CustomerMetadataValue``: 1-256 characters, each a letter, a space, a number or
#: one of ``_.:/=+-@`` (botocore ``([\p{L}\p{Z}\p{N}_.:\/=+\-@]*)``); SageMaker refuses anything else.
METADATA_VALUE_MAX = 256
METADATA_VALUE_SYMBOLS = frozenset("_.:/=+-@")
#: CreateInferenceRecommendationsJob ``JobDescription``: at most 128 characters (botocore
#: RecommendationJobDescription); a version ARN alone can be 130.
JOB_DESCRIPTION_MAX = 128


class RecommendationError(Exception):
    """A request this function refuses, or an AWS error other than throttling."""


@functools.lru_cache(maxsize=None)
def _client(name: str) -> Any:
    """One boto3 client per service, created on first use (tests replace this function)."""
    return boto3.client(name, config=Config(retries={"mode": "standard", "max_attempts": 5}))


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _log(**fields: Any) -> None:
    print(json.dumps(fields, sort_keys=True, default=str))


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise RecommendationError(f"environment variable {name} is required")
    return value


def job_name(prefix: str, model_package_arn: str) -> str:
    """``<prefix>-v<version>-<hash>`` (at most 64 characters), the same for the same version."""
    version = model_package_arn.rsplit("/", 1)[-1]
    digest = hashlib.sha256(model_package_arn.encode()).hexdigest()[:8]
    return f"{prefix[:64 - len(version) - 11]}-v{version}-{digest}"


def is_own_job(prefix: str, name: str) -> bool:
    """Whether ``name`` is a :func:`job_name` of ``prefix``: ``NameContains`` also lists the jobs of
    another group's recommender whose prefix starts with this one (``churn-rec`` and
    ``churn-recall-rec``), which this function neither owns nor may read the versions of."""
    return re.fullmatch(rf"{re.escape(prefix)}-v\d+-[0-9a-f]{{8}}", name) is not None


def job_description(model_package_arn: str) -> str:
    """The job's description: the version it benchmarks (``<group>/<version>``), at most 128 characters."""
    version = model_package_arn.split(":model-package/", 1)[-1]
    text = f"Instance recommendations for model package {version}"
    return text if len(text) <= JOB_DESCRIPTION_MAX else f"{text[:JOB_DESCRIPTION_MAX - 3]}..."


def _group_of(model_package_arn: str) -> str:
    match = re.fullmatch(r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/([^/]+)/\d+", model_package_arn)
    if not match:
        raise RecommendationError(f"not a versioned model package ARN: {model_package_arn!r}")
    return match.group(1)


def _metadata(model_package_arn: str) -> dict[str, str]:
    described = _client("sagemaker").describe_model_package(ModelPackageName=model_package_arn)
    return dict(described.get("CustomerMetadataProperties") or {})


def metadata_value(value: Any) -> str:
    """``value`` as a ``CustomerMetadataValue`` SageMaker accepts: each character it refuses (``<``,
    ``(``, ``,``, a quote... of a job's failure reason) replaced by a space, runs of spaces made one,
    at most 256 characters, never empty."""
    text = "".join(c if unicodedata.category(c)[0] in "LZN" or c in METADATA_VALUE_SYMBOLS else " "
                   for c in str(value))
    return " ".join(text.split())[:METADATA_VALUE_MAX].rstrip() or "-"


def _record(model_package_arn: str, values: dict[str, Any]) -> dict[str, str]:
    current = _metadata(model_package_arn)
    merged = {**current, **{PREFIX + k: metadata_value(v) for k, v in values.items() if v is not None}}
    _client("sagemaker").update_model_package(ModelPackageArn=model_package_arn, CustomerMetadataProperties=merged)
    return merged


def start(event: dict[str, Any]) -> dict[str, Any]:
    arn = event.get("ModelPackageArn")
    if not isinstance(arn, str):
        raise RecommendationError("ModelPackageArn is required")
    group = _env("MODEL_PACKAGE_GROUP_NAME")
    if _group_of(arn).lower() != group.lower():
        raise RecommendationError(f"{arn} is not a version of {group}")
    job_type = event.get("JobType", "Default")
    if job_type not in JOB_TYPES:
        raise RecommendationError(f"JobType must be one of {JOB_TYPES}, got {job_type!r}")
    instance_types = list(event.get("InstanceTypes") or [])
    if job_type == "Advanced" and not instance_types:
        raise RecommendationError("an Advanced job needs InstanceTypes")
    name = job_name(_env("JOB_PREFIX"), arn)
    config: dict[str, Any] = {"ModelPackageVersionArn": arn}
    if event.get("JobDurationSeconds"):
        config["JobDurationInSeconds"] = int(event["JobDurationSeconds"])
    kms = os.environ.get("KMS_KEY_ARN")
    if kms:
        config["VolumeKmsKeyId"] = kms
    vpc = os.environ.get("VPC_CONFIG")
    if vpc:
        config["VpcConfig"] = json.loads(vpc)
    request: dict[str, Any] = {"JobName": name, "JobType": job_type, "RoleArn": _env("JOB_ROLE_ARN"),
                               "InputConfig": config, "JobDescription": job_description(arn)}
    if job_type == "Advanced":
        config["EndpointConfigurations"] = [{"InstanceType": t} for t in instance_types]
        stopping: dict[str, Any] = {}
        if event.get("MaxInvocations"):
            stopping["MaxInvocations"] = int(event["MaxInvocations"])
        if event.get("MaxLatencyMs"):
            stopping["ModelLatencyThresholds"] = [{"Percentile": "P95",
                                                   "ValueInMilliseconds": int(event["MaxLatencyMs"])}]
        if stopping:
            request["StoppingConditions"] = stopping
    if kms:
        request["OutputConfig"] = {"KmsKeyId": kms}
    try:
        _client("sagemaker").create_inference_recommendations_job(**request)
        decision = "started"
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code == "ResourceInUse":
            decision = "already-started"  # a retried step: the job of this version exists
        elif code in ("ThrottlingException", "Throttling"):
            raise
        else:
            raise RecommendationError(f"CreateInferenceRecommendationsJob {name}: {error}") from error
    _record(arn, {"job": name, "status": "IN_PROGRESS", "max-latency-ms": event.get("MaxLatencyMs")})
    _log(action="start", decision=decision, job=name, model_package=arn, job_type=job_type)
    return {"JobName": name, "Status": "IN_PROGRESS"}


def best(recommendations: list[dict[str, Any]], max_latency_ms: float | None) -> dict[str, Any] | None:
    """The cheapest recommendation (``CostPerHour``) whose ``ModelLatency`` meets the target."""
    fits = [r for r in recommendations
            if max_latency_ms is None or (r.get("Metrics") or {}).get("ModelLatency", float("inf")) <= max_latency_ms]
    if not fits:
        return None
    return min(fits, key=lambda r: ((r.get("Metrics") or {}).get("CostPerHour", float("inf")),
                                    (r.get("EndpointConfiguration") or {}).get("InstanceType", "")))


def record(event: dict[str, Any]) -> dict[str, Any]:
    prefix = _env("JOB_PREFIX")
    sagemaker = _client("sagemaker")
    decisions = []
    token = None
    while True:
        kwargs: dict[str, Any] = {"NameContains": prefix, "LastModifiedTimeAfter": _now() - LOOKBACK,
                                  "MaxResults": 100}
        if token:
            kwargs["NextToken"] = token
        page = sagemaker.list_inference_recommendations_jobs(**kwargs)
        for summary in page.get("InferenceRecommendationsJobs", []):
            if summary.get("Status") in ENDED and is_own_job(prefix, summary["JobName"]):
                try:
                    decisions.append(_record_job(summary["JobName"]))
                except (ClientError, RecommendationError) as error:
                    # One job's error (its version deleted or no longer readable, throttling) must not keep
                    # every later job of the last two days from being recorded: recorded below, raised at the end.
                    code = error.response.get("Error", {}).get("Code") if isinstance(error, ClientError) else None
                    decisions.append({"job": summary["JobName"], "decision": "failed", "error": code or type(error).__name__,
                                      "detail": str(error)})
        token = page.get("NextToken")
        if not token:
            break
    _log(action="record", decisions=decisions)
    failed = [d for d in decisions if d["decision"] == "failed"]
    if failed:
        # The function fails (its errors metric and the event's retries see it); the jobs recorded stay recorded
        # and are "already recorded" on a retry.
        raise RecommendationError(f"could not record {len(failed)} job(s): " + "; ".join(
            f"{d['job']}: {d['detail']}" for d in failed))
    return {"Recorded": [d for d in decisions if d["decision"] == "recorded"], "Decisions": decisions}


def _record_job(name: str) -> dict[str, Any]:
    job = _client("sagemaker").describe_inference_recommendations_job(JobName=name)
    arn = (job.get("InputConfig") or {}).get("ModelPackageVersionArn")
    if not arn:
        return {"job": name, "decision": "ignored", "why": "no model package version"}
    group = _env("MODEL_PACKAGE_GROUP_NAME")
    try:
        of_this_group = _group_of(arn).lower() == group.lower()
    except RecommendationError:
        of_this_group = False
    if not of_this_group:  # a job of another recommender whose prefix starts with ours
        return {"job": name, "decision": "ignored", "why": f"not a version of {group}", "model_package": arn}
    metadata = _metadata(arn)
    if metadata.get(PREFIX + "job") != name or metadata.get(PREFIX + "status") != "IN_PROGRESS":
        return {"job": name, "decision": "ignored", "why": "already recorded or another job"}
    if job.get("Status") != "COMPLETED":
        _record(arn, {"status": "FAILED", "reason": job.get("FailureReason") or job.get("Status", "")})
        return {"job": name, "decision": "recorded", "status": "FAILED", "model_package": arn}
    target = metadata.get(PREFIX + "max-latency-ms")
    chosen = best(job.get("InferenceRecommendations") or [], float(target) if target else None)
    if chosen is None:
        _record(arn, {"status": "NO_CANDIDATE", "reason": f"no recommendation with ModelLatency at most {target} ms"})
        return {"job": name, "decision": "recorded", "status": "NO_CANDIDATE", "model_package": arn}
    metrics, endpoint = chosen.get("Metrics") or {}, chosen.get("EndpointConfiguration") or {}
    _record(arn, {"status": "COMPLETED", "instance-type": endpoint.get("InstanceType"),
                  "instance-count": endpoint.get("InitialInstanceCount"),
                  "cost-per-hour": metrics.get("CostPerHour"), "model-latency-ms": metrics.get("ModelLatency"),
                  "max-invocations": metrics.get("MaxInvocations")})
    return {"job": name, "decision": "recorded", "status": "COMPLETED", "model_package": arn,
            "instance_type": endpoint.get("InstanceType")}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    if event.get("action") == "record" or event.get("source") in ("aws.events", "aws.scheduler"):
        return record(event)
    return start(event)
