"""What every Lambda handler shares: clients, retries, log lines, and the names and tags the
constructs also compute.

The Lambda code asset is the whole ``handlers/`` directory, so this module ships next to each handler
(a top-level ``common`` module in the function). The constructs import the constants and
:func:`name_prefix` from here too (``sagemaker-constructs`` code may import handlers, never the
reverse), so a name or tag has one definition on both sides. boto3 and botocore are imported only
when a client is made or an error classified: importing the constants needs neither.
Boto3 and the standard library only.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

#: Appended to the SDK's user agent on every call the handlers make (visible in CloudTrail's userAgent).
USER_AGENT_EXTRA = "sagemaker-constructs"
#: Retries and timeouts of every client unless a handler says otherwise (botocore's ``standard``
#: retry mode: exponential backoff with jitter on throttling, 5xx and connection errors).
MAX_ATTEMPTS, CONNECT_TIMEOUT, READ_TIMEOUT = 5, 10, 60

#: The tag StudioUserRole's guardrails read: Studio users (but platform admins) may not update or
#: delete what the platform deployed. The constructs tag templates with the same key and value.
PLATFORM_TAG_KEY, PLATFORM_TAG_VALUE = "sagemaker-constructs:deployed-by", "platform"
PLATFORM_TAG = {"Key": PLATFORM_TAG_KEY, "Value": PLATFORM_TAG_VALUE}
#: The tag naming the model package version a deployed model or endpoint config came from.
PACKAGE_TAG = "sagemaker-constructs:model-package-arn"
#: Characters of a model package group name kept in the names of what is deployed from it.
NAME_PREFIX_LENGTH = 30

THROTTLING = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"})
SERVER_ERRORS = frozenset({
    "InternalFailure", "InternalError", "InternalServerError", "InternalServerException", "ServiceUnavailable",
    "ServiceUnavailableException", "Unavailable", "RequestTimeout", "RequestTimeoutException",
})


def name_prefix(group: str) -> str:
    """The prefix of the models and endpoint configs deployed from model package group ``group``:
    its first 30 characters, each one SageMaker names do not allow replaced by ``-``, without leading
    ``-`` (``model`` when nothing is left). The constructs grant on ``<prefix lower-cased>-*``."""
    return re.sub(r"[^a-zA-Z0-9-]", "-", group[:NAME_PREFIX_LENGTH]).lstrip("-") or "model"


def config(*, max_attempts: int | None = MAX_ATTEMPTS, total_max_attempts: int | None = None,
           connect_timeout: int = CONNECT_TIMEOUT, read_timeout: int = READ_TIMEOUT) -> Any:
    """The botocore ``Config`` of every client: ``standard`` retries (``max_attempts`` retries, or
    ``total_max_attempts`` attempts in all), connect and read timeouts in seconds, our user agent."""
    from botocore.config import Config

    retries: dict[str, Any] = {"mode": "standard"}
    if total_max_attempts is not None:
        retries["total_max_attempts"] = total_max_attempts
    elif max_attempts is not None:
        retries["max_attempts"] = max_attempts
    return Config(retries=retries, connect_timeout=connect_timeout, read_timeout=read_timeout,
                  user_agent_extra=USER_AGENT_EXTRA)


@functools.cache
def client(name: str, *, max_attempts: int | None = MAX_ATTEMPTS, total_max_attempts: int | None = None,
           connect_timeout: int = CONNECT_TIMEOUT, read_timeout: int = READ_TIMEOUT) -> Any:
    """One boto3 client per service and settings, created on first use (see :func:`config`)."""
    import boto3

    return boto3.client(name, config=config(max_attempts=max_attempts, total_max_attempts=total_max_attempts,
                                            connect_timeout=connect_timeout, read_timeout=read_timeout))


def emit(line: dict[str, Any]) -> dict[str, Any]:
    """Print ``line`` as one JSON log line (keys sorted, anything else as ``str``) and return it."""
    print(json.dumps(line, default=str, sort_keys=True), flush=True)
    return line


def log(decision: str, **fields: Any) -> dict[str, Any]:
    """One structured log line ``{"decision": decision, **fields}``, returned."""
    return emit({"decision": decision, **fields})


def not_an_approval_of(detail: dict[str, Any], group: str) -> dict[str, Any] | None:
    """Why a model package state-change event's ``detail`` is not an approved package of ``group``
    (the fields of an "ignored" decision), or None when it is one."""
    if detail.get("ModelApprovalStatus") != "Approved":
        return {"reason": f"status is {detail.get('ModelApprovalStatus')}"}
    if detail.get("ModelPackageGroupName") != group or not detail.get("ModelPackageArn"):
        return {"reason": f"not a package of group {group}", "group": detail.get("ModelPackageGroupName")}
    return None


def sqs_batch(event: dict[str, Any], process: Any) -> dict[str, Any]:
    """Run ``process`` on an EventBridge event, or on each event of an SQS batch of them: a record
    that fails is logged (``retry-later``) and reported in ``batchItemFailures``, so SQS offers it
    again after the visibility timeout, and after the queue's receive limit dead-letters it."""
    if "Records" not in event:
        return process(event)
    failures, results = [], []
    for record in event["Records"]:
        try:
            results.append(process(json.loads(record["body"])))
        except Exception as err:  # noqa: BLE001 - every failure is retried through SQS, then dead-lettered
            log("retry-later", message_id=record.get("messageId"), error=type(err).__name__, detail=str(err))
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures, "results": results}


def error_code(err: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` (empty for any other exception)."""
    response = getattr(err, "response", None)
    return str((response or {}).get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def is_throttling(err: BaseException) -> bool:
    """Whether ``err`` is AWS refusing the call for its rate."""
    return error_code(err) in THROTTLING


def is_transient(err: BaseException) -> bool:
    """Throttling, a 5xx or a connection failure (what outlasted the SDK's own retries): worth
    trying again later."""
    from botocore.exceptions import ClientError, ConnectionError as BotoConnectionError, HTTPClientError

    if isinstance(err, (BotoConnectionError, HTTPClientError)):
        return True
    if not isinstance(err, ClientError):
        return False
    status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return error_code(err) in THROTTLING or error_code(err) in SERVER_ERRORS or status >= 500
