"""Sizes and counts the services refuse: environment maps, hyperparameters, MIME types, Lambda concurrency
and timeouts.

The SageMaker limits are botocore's shapes, as data (:data:`MAP_SHAPES`, :data:`STRING_SHAPES`,
:data:`LIST_SHAPES`; ``tests/unit/test_validation_limits.py`` compares them with the installed
botocore's ``sagemaker`` and ``sagemaker-runtime`` models, so an API change fails a test rather than a
deployment). botocore is not a runtime dependency of this library, so the numbers are vendored here.

=================================== ===================== =============================================
shape (botocore)                    entries, key, value   API member
=================================== ===================== =============================================
``EnvironmentMap``                  100, 1024, 1024       ``ContainerDefinition.Environment`` (models)
``TrainingEnvironmentMap``          100, 512, 512         ``CreateTrainingJob.Environment``
``ProcessingEnvironmentMap``        100, 256, 256         ``CreateProcessingJob.Environment``
``MonitoringEnvironmentMap``        50, 256, 256          ``*AppSpecification.Environment`` (monitors)
``TransformEnvironmentMap``         16, 1024, 10240       ``CreateTransformJob.Environment``
``HyperParameters``                 100, 256, 2500        ``CreateTrainingJob.HyperParameters``
``CustomImageContainer...``         25, 256, 256          ``ContainerConfig.ContainerEnvironmentVariables``
=================================== ===================== =============================================

Environment keys must match ``[a-zA-Z_][a-zA-Z0-9_]*`` (a POSIX shell name). MIME types: data capture's
``JsonContentType``/``CsvContentType`` (``type/subtype``, 1-256, at most 10 each), a transform job's
``ContentType``/``Accept`` (256), a model package's ``ContentType`` (256) and ``ResponseMIMEType``
(1024, ``type/subtype``), ``InvokeEndpoint``'s ``ContentType``/``Accept`` headers (1024 ASCII).

Lambda: an account has 1,000 concurrent executions per Region by default
(https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html) and "You can reserve up to
the Unreserved account concurrency value that is shown, minus 100 for functions that don't have
reserved concurrency" (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html):
one function may reserve at most 900 by default. An account with a raised quota sets the CDK context
key :data:`ACCOUNT_CONCURRENCY_CONTEXT`.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from constructs import IConstruct

from .checks import ValidationError, _with_limit, is_unresolved

_API = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/"

#: botocore ``sagemaker`` map shapes: (most entries, key shape, value shape).
MAP_SHAPES: Mapping[str, tuple[int, str, str]] = {
    "EnvironmentMap": (100, "EnvironmentKey", "EnvironmentValue"),
    "TrainingEnvironmentMap": (100, "TrainingEnvironmentKey", "TrainingEnvironmentValue"),
    "ProcessingEnvironmentMap": (100, "ProcessingEnvironmentKey", "ProcessingEnvironmentValue"),
    "MonitoringEnvironmentMap": (50, "ProcessingEnvironmentKey", "ProcessingEnvironmentValue"),
    "TransformEnvironmentMap": (16, "TransformEnvironmentKey", "TransformEnvironmentValue"),
    "HyperParameterTrainingJobEnvironmentMap": (48, "HyperParameterTrainingJobEnvironmentKey",
                                                "HyperParameterTrainingJobEnvironmentValue"),
    "HyperParameters": (100, "HyperParameterKey", "HyperParameterValue"),
    "CustomImageContainerEnvironmentVariables": (25, "NonEmptyString256", "String256"),
}

_ENV_KEY = "[a-zA-Z_][a-zA-Z0-9_]*"
_ANY = "[\\S\\s]*"
_ENTITY_TEXT = "[\\p{L}\\p{M}\\p{Z}\\p{S}\\p{N}\\p{P}]*"
_MIME = "[a-zA-Z0-9](-*[a-zA-Z0-9])*\\/[a-zA-Z0-9](-*[a-zA-Z0-9.])*"

#: botocore string shapes: (service, min length, max length, pattern or None). Patterns are botocore's
#: (Java regular expressions); :data:`_PYTHON_PATTERNS` translates the two Python's ``re`` spells differently.
STRING_SHAPES: Mapping[str, tuple[str, int, int, str | None]] = {
    "EnvironmentKey": ("sagemaker", 0, 1024, _ENV_KEY),
    "EnvironmentValue": ("sagemaker", 0, 1024, _ANY),
    "TrainingEnvironmentKey": ("sagemaker", 0, 512, _ENV_KEY),
    "TrainingEnvironmentValue": ("sagemaker", 0, 512, _ANY),
    "ProcessingEnvironmentKey": ("sagemaker", 0, 256, _ENV_KEY),
    "ProcessingEnvironmentValue": ("sagemaker", 0, 256, _ANY),
    "TransformEnvironmentKey": ("sagemaker", 0, 1024, "[a-zA-Z_][a-zA-Z0-9_]{0,1023}"),
    "TransformEnvironmentValue": ("sagemaker", 0, 10240, _ANY),
    "HyperParameterTrainingJobEnvironmentKey": ("sagemaker", 0, 512, _ENV_KEY),
    "HyperParameterTrainingJobEnvironmentValue": ("sagemaker", 0, 512, _ANY),
    "HyperParameterKey": ("sagemaker", 0, 256, ".*"),
    "HyperParameterValue": ("sagemaker", 0, 2500, ".*"),
    "NonEmptyString256": ("sagemaker", 0, 256, "(?!\\s*$).+"),
    "String256": ("sagemaker", 0, 256, None),
    "JsonContentType": ("sagemaker", 1, 256, _MIME),
    "CsvContentType": ("sagemaker", 1, 256, _MIME),
    "ContentType": ("sagemaker", 0, 256, ".*"),
    "Accept": ("sagemaker", 0, 256, ".*"),
    "ResponseMIMEType": ("sagemaker", 0, 1024, "[-\\w]+\\/.+"),
    "Header": ("sagemaker-runtime", 0, 1024, "\\p{ASCII}*"),
    "EntityDescription": ("sagemaker", 0, 1024, _ENTITY_TEXT),
    "ModelPackageFrameworkVersion": ("sagemaker", 3, 10, "[0-9]\\.[A-Za-z0-9.-]+"),
}
#: Java's Unicode classes in Python's ``re``: letters, marks, separators, symbols, numbers and
#: punctuation are every character but the control ones (Cc; Python has no \p{...}).
_PYTHON_PATTERNS = {"\\p{ASCII}*": "[\\x00-\\x7f]*", _ENTITY_TEXT: "[^\\x00-\\x1f\\x7f-\\x9f]*"}

#: botocore list shapes: (service, min entries, max entries, member shape).
LIST_SHAPES: Mapping[str, tuple[str, int, int, str]] = {
    "JsonContentTypes": ("sagemaker", 1, 10, "JsonContentType"),
    "CsvContentTypes": ("sagemaker", 1, 10, "CsvContentType"),
}

_RULES = {
    _ENV_KEY: "a letter or '_' followed by letters, digits and '_'",
    "[a-zA-Z_][a-zA-Z0-9_]{0,1023}": "a letter or '_' followed by letters, digits and '_'",
    _MIME: "a MIME type type/subtype of letters, digits and hyphens (no parameters such as ;charset=)",
    "[-\\w]+\\/.+": "a MIME type type/subtype",
    "(?!\\s*$).+": "not blank, on one line",
    ".*": "on one line",
    "\\p{ASCII}*": "ASCII characters",
    _ENTITY_TEXT: "on one line, without control characters",
    "[0-9]\\.[A-Za-z0-9.-]+": "a version such as 1.2 or 1.2-1",
}
_PAGES = {
    "EnvironmentMap": "API_ContainerDefinition.html", "TrainingEnvironmentMap": "API_CreateTrainingJob.html",
    "ProcessingEnvironmentMap": "API_CreateProcessingJob.html",
    "MonitoringEnvironmentMap": "API_DataQualityAppSpecification.html",
    "TransformEnvironmentMap": "API_CreateTransformJob.html",
    "HyperParameterTrainingJobEnvironmentMap": "API_HyperParameterTrainingJobDefinition.html",
    "HyperParameters": "API_CreateTrainingJob.html", "CustomImageContainerEnvironmentVariables":
        "API_ContainerConfig.html",
    "JsonContentTypes": "API_CaptureContentTypeHeader.html", "CsvContentTypes": "API_CaptureContentTypeHeader.html",
    "JsonContentType": "API_CaptureContentTypeHeader.html", "CsvContentType": "API_CaptureContentTypeHeader.html",
    "ContentType": "API_TransformInput.html", "Accept": "API_TransformOutput.html",
    "ResponseMIMEType": "API_InferenceSpecification.html",
    "Header": "API_runtime_InvokeEndpoint.html",
    "EntityDescription": "API_CreateModelPackage.html",
    "ModelPackageFrameworkVersion": "API_ModelPackageContainerDefinition.html",
}


def _limit(shape: str) -> str:
    service = STRING_SHAPES[shape][0] if shape in STRING_SHAPES else "sagemaker"
    page = _PAGES.get(shape)
    return f"botocore {service} {shape}" + (f", {_API}{page}" if page else "")


def check_string(scope: IConstruct | str, argument: str, value: Any, *, shape: str, limit: str | None = None) -> None:
    """Raise unless ``value`` is a string botocore shape ``shape`` accepts (its length and pattern).
    Tokens and ``None`` pass."""
    if value is None or is_unresolved(value):
        return
    _service, minimum, maximum, pattern = STRING_SHAPES[shape]
    where = limit or _limit(shape)
    rule = _RULES.get(pattern or "", f"must match {pattern}") if pattern not in (None, _ANY) else None
    span = f"{max(minimum, 0)} to {maximum} characters" + (f", {rule}" if rule else "")
    if not isinstance(value, str):
        raise ValidationError(scope, argument, value, _with_limit(f"a string of {span}", where))
    if not minimum <= len(value) <= maximum:
        raise ValidationError(scope, argument, value, _with_limit(f"{span} (got {len(value)})", where))
    if pattern is not None and not re.fullmatch(_PYTHON_PATTERNS.get(pattern, pattern), value):
        raise ValidationError(scope, argument, value, _with_limit(span, where))


def check_map(scope: IConstruct | str, argument: str, values: Mapping[str, Any] | None, *, shape: str) -> None:
    """Raise unless ``values`` fits botocore map shape ``shape``: at most its number of entries, each key
    and each string value of its key and value shapes. Tokens (as keys or values, or the whole map) and
    ``None`` pass; values that are not strings (pipeline parameters, properties) are the caller's to check."""
    if values is None or is_unresolved(values) or not isinstance(values, Mapping):
        return
    most, key_shape, value_shape = MAP_SHAPES[shape]
    if len(values) > most:
        raise ValidationError(scope, argument, f"{len(values)} entries",
                              _with_limit(f"0 to {most} entries", _limit(shape)))
    for key, value in values.items():
        check_string(scope, f"{argument} key", key, shape=key_shape, limit=_limit(shape))
        if isinstance(value, str):
            check_string(scope, f"{argument}[{key!r}]", value, shape=value_shape, limit=_limit(shape))


def check_string_list(scope: IConstruct | str, argument: str, values: Iterable[Any] | None, *, shape: str) -> None:
    """Raise unless ``values`` fits botocore list shape ``shape`` (its number of members, each member's
    shape). A Token list and ``None`` pass."""
    if values is None or is_unresolved(values):
        return
    items = list(values)
    _service, least, most, member = LIST_SHAPES[shape]
    if not least <= len(items) <= most:
        raise ValidationError(scope, argument, f"{len(items)} entries",
                              _with_limit(f"{least} to {most} entries", _limit(shape)))
    for i, item in enumerate(items):
        check_string(scope, f"{argument}[{i}]", item, shape=member)


# --- Lambda ---------------------------------------------------------------------------------------

LAMBDA_CONCURRENCY_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html"
LAMBDA_QUOTAS_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
#: Lambda's default concurrent executions per account and Region, and what must stay unreserved.
DEFAULT_ACCOUNT_CONCURRENCY = 1_000
MIN_UNRESERVED_CONCURRENCY = 100
#: CDK context key: the account's concurrency quota when it was raised (a number), e.g.
#: ``cdk synth -c @sagemaker-constructs/lambdaAccountConcurrency=5000``.
ACCOUNT_CONCURRENCY_CONTEXT = "@sagemaker-constructs/lambdaAccountConcurrency"


def _account_concurrency(scope: IConstruct | str) -> int:
    """The account's Lambda concurrency quota: the context key :data:`ACCOUNT_CONCURRENCY_CONTEXT`, else
    the documented default of 1,000 per Region."""
    if isinstance(scope, str):
        return DEFAULT_ACCOUNT_CONCURRENCY
    value = scope.node.try_get_context(ACCOUNT_CONCURRENCY_CONTEXT)
    try:
        return int(value) if value is not None else DEFAULT_ACCOUNT_CONCURRENCY
    except (TypeError, ValueError):
        raise ValidationError(scope, f"context {ACCOUNT_CONCURRENCY_CONTEXT}", value,
                              "a whole number: the account's Lambda concurrent executions quota") from None


def check_reserved_concurrency(scope: IConstruct | str, argument: str, value: Any, *, minimum: int = 1) -> None:
    """Raise unless ``minimum <= value <= account quota - 100`` (900 by default): Lambda refuses a
    reservation that leaves fewer than 100 unreserved executions. Tokens and ``None`` pass."""
    if value is None or is_unresolved(value):
        return
    most = _account_concurrency(scope) - MIN_UNRESERVED_CONCURRENCY
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= most:
        raise ValidationError(scope, argument, value, _with_limit(
            f"a whole number from {minimum} to {most}: the account's {_account_concurrency(scope)} concurrent "
            f"executions minus the {MIN_UNRESERVED_CONCURRENCY} Lambda keeps unreserved (a raised quota: set the "
            f"CDK context key {ACCOUNT_CONCURRENCY_CONTEXT})", f"{LAMBDA_CONCURRENCY_DOC}; {LAMBDA_QUOTAS_DOC}"))


def check_timeout_outlives(scope: IConstruct | str, argument: str, timeout_seconds: float | None,
                           wrapped_seconds: float | None, *, what: str, margin: float = 0) -> None:
    """Raise when a Lambda ``timeout_seconds`` is shorter than ``wrapped_seconds + margin``: the SDK
    calls (and their retries) it wraps could still be running when Lambda stops it (``what`` says which).
    ``None`` (unresolved) passes."""
    if timeout_seconds is None or wrapped_seconds is None:
        return
    need = wrapped_seconds + margin
    if timeout_seconds < need:
        raise ValidationError(scope, argument, f"{timeout_seconds:g} s", (
            f"at least {need:g} s: {what}, so the function outlives the SDK's last attempt "
            "(https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html)"))


__all__ = [
    "ACCOUNT_CONCURRENCY_CONTEXT", "DEFAULT_ACCOUNT_CONCURRENCY", "LIST_SHAPES", "MAP_SHAPES",
    "MIN_UNRESERVED_CONCURRENCY", "STRING_SHAPES", "check_map", "check_reserved_concurrency",
    "check_string", "check_string_list", "check_timeout_outlives",
]
