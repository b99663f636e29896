"""Lambda handler that invokes one SageMaker endpoint (EndpointInvoker).

Two event shapes are accepted:

* a direct invocation: ``{"body": <JSON-able value or str>, "content_type"?: str, "accept"?: str,
  "target_model"?: str (multi-model endpoints: TargetModel), "target_variant"?: str,
  "inference_id"?: str, "custom_attributes"?: str}``; a string body is sent as is, anything else
  as JSON. The answer is ``{"statusCode": 200, "body": <response>, "contentType": ...}``, the body
  parsed when the endpoint answers JSON, text otherwise (base64 with ``"isBase64Encoded": true``
  when it is not UTF-8);
* an API Gateway proxy event (``requestContext``/``headers`` with a string ``body``, base64 when
  ``isBase64Encoded``). ``Content-Type``, ``Accept`` and ``X-Amzn-SageMaker-Target-Model`` come from
  the headers, and the answer is a proxy response: the body stays a string, with a
  ``Content-Type`` header.

A ``ModelError`` or ``ValidationError`` from SageMaker, and a malformed event, are answered with a
4xx status (424 / 400) and the message, with one structured JSON log line: retrying would fail the
same way.

At most once: one call sends the request at most ``MAX_ATTEMPTS`` times (default 1: botocore's
``total_max_attempts``, no SDK retry). A failure after which the request may have reached the
model -- a read timeout, a connection closed before the answer, a 5xx answer from SageMaker -- is
answered (504 ``EndpointTimeout`` / 502 ``EndpointFailure``) instead of raised, because a raised
error makes Lambda invoke the function again (asynchronous invocations: twice more), which would send the request again.
Failures where it did not reach the model (throttling, a connection that was never made) raise,
so asynchronous invocations are retried and then sent to the dead-letter queue.

An answer bigger than Lambda's 6 MB synchronous response payload limit
(https://docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html) -- binary answers grow by a third
in base64 -- is answered 502 ``ResponseTooLarge`` with both sizes, not a Lambda error.
Request and response bodies are never logged.

Configuration is read from the environment at call time: ``ENDPOINT_NAME`` (required),
``CONTENT_TYPE`` and ``ACCEPT`` (defaults for callers that give none), ``MAX_ATTEMPTS`` (1),
``CONNECT_TIMEOUT`` (5 s) and ``READ_TIMEOUT`` (70 s: SageMaker's advice for models that take up
to its 60 s limit, https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html).
Lambda code with ``common.py`` (shared clients, retries, log lines): boto3 and the standard library only.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
from typing import Any

from botocore.exceptions import (ClientError, ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError,
                                 ReadTimeoutError)

try:  # imported from the package
    from . import common
except ImportError:  # in Lambda (and the handler tests): a top-level module next to this one
    import common  # type: ignore[no-redef]

DEFAULT_CONTENT_TYPE = "application/json"
DEFAULT_MAX_ATTEMPTS, DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT = 1, 5, 70
#: Lambda's synchronous response payload limit (6 MB), with room for the runtime's framing.
MAX_RESPONSE_BYTES = 6 * 1024 * 1024 - 1024
THROTTLING = common.THROTTLING
#: SageMaker errors that a retry cannot fix, and the status they are answered with.
CLIENT_ERRORS = {"ValidationError": 400, "ModelError": 424}
TARGET_MODEL_HEADER = "x-amzn-sagemaker-target-model"
#: Direct-payload keys and the InvokeEndpoint parameters they map to.
OPTIONAL_PARAMETERS = {
    "target_model": "TargetModel",
    "target_variant": "TargetVariant",
    "inference_id": "InferenceId",
    "custom_attributes": "CustomAttributes",
}


class BadRequest(ValueError):
    """The event cannot be turned into an InvokeEndpoint request."""


def _int_env(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise RuntimeError(f"{name}={raw!r} is not an integer: the function is misconfigured") from None
    if value < minimum:
        raise RuntimeError(f"{name}={value} is below {minimum}: the function is misconfigured")
    return value


def _client_settings() -> dict[str, int]:
    """Retries and timeouts from the environment: ``total_max_attempts`` (``MAX_ATTEMPTS``, default 1:
    no retry), connect and read timeouts in seconds."""
    return {"total_max_attempts": _int_env("MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS, 1),
            "connect_timeout": _int_env("CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT, 1),
            "read_timeout": _int_env("READ_TIMEOUT", DEFAULT_READ_TIMEOUT, 1)}


def client_config() -> Any:
    """The botocore ``Config`` of the client (see ``common.config``), with the settings above."""
    return common.config(**_client_settings())


@functools.cache
def _client(name: str = "sagemaker-runtime") -> Any:
    """One client per service (SageMaker Runtime here), created on first use (tests replace this)."""
    return common.client(name, **_client_settings())


def _log(level: str, message: str, **fields: Any) -> None:
    """One structured (JSON) log line."""
    common.emit({"level": level, "message": message, **fields})


def _is_api_gateway(event: dict[str, Any]) -> bool:
    return "requestContext" in event or "httpMethod" in event or "routeKey" in event


def _headers(event: dict[str, Any]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}


def _request(event: Any, endpoint_name: str) -> tuple[dict[str, Any], bool]:
    """The InvokeEndpoint parameters for ``event``, and whether it came from API Gateway."""
    if not isinstance(event, dict):
        raise BadRequest(f"the event must be a JSON object, not {type(event).__name__}")
    body = event.get("body")
    if body is None:
        raise BadRequest("the event has no body")
    content_type = os.environ.get("CONTENT_TYPE") or DEFAULT_CONTENT_TYPE
    accept = os.environ.get("ACCEPT") or DEFAULT_CONTENT_TYPE
    params: dict[str, Any] = {"EndpointName": endpoint_name}
    api_gateway = _is_api_gateway(event)
    if api_gateway:
        if not isinstance(body, str):
            raise BadRequest("an API Gateway event body must be a string")
        if event.get("isBase64Encoded"):
            try:
                payload = base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError) as err:
                raise BadRequest(f"the body is not valid base64: {err}") from err
        else:
            payload = body.encode("utf-8")
        headers = _headers(event)
        content_type = headers.get("content-type", content_type)
        accept = headers.get("accept", accept)
        if headers.get(TARGET_MODEL_HEADER):
            params["TargetModel"] = headers[TARGET_MODEL_HEADER]
    else:
        if isinstance(body, str):
            payload = body.encode("utf-8")
        else:
            try:
                payload = json.dumps(body, separators=(",", ":")).encode("utf-8")
            except (TypeError, ValueError) as err:
                raise BadRequest(f"the body cannot be serialised as JSON: {err}") from err
        for key in ("content_type", "accept"):
            if event.get(key) is not None and not isinstance(event[key], str):
                # botocore refuses it before sending (ParamValidationError): a Lambda error, retried when asynchronous
                raise BadRequest(f"{key} must be a string")
        content_type = event.get("content_type") or content_type
        accept = event.get("accept") or accept
        for key, parameter in OPTIONAL_PARAMETERS.items():
            value = event.get(key)
            if value is not None:
                if not isinstance(value, str) or not value:
                    raise BadRequest(f"{key} must be a non-empty string")
                params[parameter] = value
    params.update(Body=payload, ContentType=content_type, Accept=accept)
    return params, api_gateway


def _decode(payload: bytes, content_type: str) -> tuple[Any, bool]:
    """The response body as JSON (for JSON content types), text, or base64 (flag True)."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(payload).decode("ascii"), True
    if "json" in content_type.lower():
        try:
            return json.loads(text), False
        except ValueError:
            pass
    return text, False


def _error_result(status: int, code: str, message: str, api_gateway: bool, **details: Any) -> dict[str, Any]:
    error = {"error": code, "message": message, **{k: v for k, v in details.items() if v is not None}}
    if api_gateway:
        return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(error)}
    return {"statusCode": status, "body": error, "contentType": "application/json"}


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Invoke the endpoint named by ``ENDPOINT_NAME`` with the event's body."""
    endpoint_name = os.environ.get("ENDPOINT_NAME")
    if not endpoint_name:
        raise RuntimeError("ENDPOINT_NAME is not set: the function is misconfigured")
    request_id = getattr(context, "aws_request_id", None)
    api_gateway = isinstance(event, dict) and _is_api_gateway(event)
    try:
        params, api_gateway = _request(event, endpoint_name)
    except BadRequest as err:
        _log("WARNING", "bad request", endpoint=endpoint_name, error="BadRequest", detail=str(err),
             request_id=request_id)
        return _error_result(400, "BadRequest", str(err), api_gateway)

    try:
        response = _client().invoke_endpoint(**params)
    except ReadTimeoutError as err:
        # The request may have reached the model: answering (not raising) keeps Lambda from sending it again.
        _log("ERROR", "no answer within the read timeout; not retried (the request may have been processed)",
             endpoint=endpoint_name, error="ReadTimeout", detail=str(err), request_id=request_id)
        return _error_result(504, "EndpointTimeout",
                             "the endpoint did not answer in time; the request may have been processed, so it was "
                             "not sent again", api_gateway)
    except ConnectionClosedError as err:
        # The connection was closed after the request was sent, before any answer: it may have reached the model.
        _log("ERROR", "the connection closed before an answer; not retried (the request may have been processed)",
             endpoint=endpoint_name, error="ConnectionClosedError", detail=str(err), request_id=request_id)
        return _error_result(502, "EndpointFailure",
                             "the connection closed before the endpoint answered; the request may have been "
                             "processed, so it was not sent again", api_gateway)
    except (ConnectTimeoutError, EndpointConnectionError) as err:
        _log("ERROR", "could not connect to the endpoint; raising so Lambda can retry", endpoint=endpoint_name,
             error=type(err).__name__, detail=str(err), request_id=request_id)
        raise
    except ClientError as err:
        code = str(err.response.get("Error", {}).get("Code", ""))
        message = str(err.response.get("Error", {}).get("Message", ""))
        status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code in CLIENT_ERRORS:
            original = err.response.get("OriginalStatusCode")
            log_stream = err.response.get("LogStreamArn")
            _log("WARNING", "endpoint rejected the request", endpoint=endpoint_name, error=code, detail=message,
                 original_status_code=original, log_stream_arn=log_stream, request_id=request_id,
                 target_model=params.get("TargetModel"), inference_id=params.get("InferenceId"))
            return _error_result(CLIENT_ERRORS[code], code, message, api_gateway,
                                 originalStatusCode=original, logStreamArn=log_stream)
        if status >= 500 and code not in THROTTLING:
            _log("ERROR", "the endpoint failed; not retried (the request may have been processed)",
                 endpoint=endpoint_name, error=code, detail=message, status=status, request_id=request_id)
            return _error_result(502, "EndpointFailure", f"{code}: {message}", api_gateway)
        _log("ERROR", "invocation failed before reaching the model; raising so Lambda can retry",
             endpoint=endpoint_name, error=code, detail=message, request_id=request_id)
        raise

    return _limit_size(_answer(response, params, api_gateway), endpoint_name, request_id, api_gateway)


def _limit_size(result: dict[str, Any], endpoint_name: str, request_id: Any, api_gateway: bool) -> dict[str, Any]:
    """``result``, or a 502 ``ResponseTooLarge`` answer when Lambda could not return it."""
    size = len(json.dumps(result, separators=(",", ":")).encode("utf-8"))
    if size <= MAX_RESPONSE_BYTES:
        return result
    _log("ERROR", "the answer is too large for a Lambda response", endpoint=endpoint_name, error="ResponseTooLarge",
         response_bytes=size, limit_bytes=MAX_RESPONSE_BYTES, request_id=request_id)
    return _error_result(502, "ResponseTooLarge",
                         f"the endpoint's answer is {size} bytes as a Lambda response (base64 for binary content), "
                         f"above the {MAX_RESPONSE_BYTES}-byte limit of a synchronous Lambda response; use "
                         "asynchronous inference or have the model write large results to S3", api_gateway,
                         responseBytes=size, limitBytes=MAX_RESPONSE_BYTES)


def _answer(response: dict[str, Any], params: dict[str, Any], api_gateway: bool) -> dict[str, Any]:
    """The function's answer for a successful InvokeEndpoint response."""
    content_type = response.get("ContentType") or params["Accept"]
    payload = response["Body"].read()
    variant = response.get("InvokedProductionVariant")
    if api_gateway:
        headers = {"Content-Type": content_type}
        if variant:
            headers["X-Amzn-Invoked-Production-Variant"] = variant
        try:
            return {"statusCode": 200, "headers": headers, "body": payload.decode("utf-8"), "isBase64Encoded": False}
        except UnicodeDecodeError:
            return {"statusCode": 200, "headers": headers, "body": base64.b64encode(payload).decode("ascii"),
                    "isBase64Encoded": True}
    body, encoded = _decode(payload, content_type)
    result: dict[str, Any] = {"statusCode": 200, "body": body, "contentType": content_type}
    if encoded:
        result["isBase64Encoded"] = True
    if variant:
        result["invokedProductionVariant"] = variant
    return result
