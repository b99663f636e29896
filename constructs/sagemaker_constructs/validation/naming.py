"""Resource names: each service's own pattern and length, and stable defaults.

SageMaker's patterns and lengths are botocore's shapes (``SAGEMAKER_NAMES``, compared with the
installed botocore by ``tests/unit/test_validation.py``); S3, CloudTrail, IAM, CloudWatch and
EventBridge Scheduler rules cite their service's documentation or botocore shape.
"""

from __future__ import annotations

import ipaddress
import re

from constructs import Construct, IConstruct

from .checks import ValidationError, check_length, check_pattern, is_unresolved

#: SageMaker's pattern for domain, user-profile, model, endpoint, endpoint-config and model
#: package group names: at most 63 characters.
NAME_PATTERN = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
NAME_RULE = "1-63 letters, digits and single or repeated hyphens, starting and ending with a letter or digit"

#: botocore ``sagemaker`` name shapes: (pattern, max length). ``EntityName`` is the model package
#: group name; ``ModelName`` and ``InferenceComponentName`` refuse repeated hyphens at the ends only.
SAGEMAKER_NAMES: dict[str, tuple[str, int]] = {
    "EndpointName": (NAME_PATTERN, 63),
    "EndpointConfigName": (NAME_PATTERN, 63),
    "VariantName": (NAME_PATTERN, 63),
    "ModelName": (r"[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?", 63),
    "InferenceComponentName": (r"[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?", 63),
    "PipelineName": (r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}", 256),
    "UserProfileName": (NAME_PATTERN, 63),
    "SpaceName": (NAME_PATTERN, 63),
    "DomainName": (NAME_PATTERN, 63),
    "EntityName": (NAME_PATTERN, 63),
    "MonitoringScheduleName": (NAME_PATTERN, 63),
    "FeatureGroupName": (r"[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}", 64),
    "TrackingServerName": (r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}", 256),
    "ImageName": (r"[a-zA-Z0-9]([-.]?[a-zA-Z0-9]){0,62}", 63),
    "AppName": (NAME_PATTERN, 63),
}
_SAGEMAKER_RULES = {
    "ModelName": "letters, digits and hyphens, starting and ending with a letter or digit",
    "InferenceComponentName": "letters, digits and hyphens, starting and ending with a letter or digit",
    "FeatureGroupName": "letters, digits, '-' and '_', starting and ending with a letter or digit",
    "ImageName": "letters, digits and single '-' or '.', starting and ending with a letter or digit",
}


def check_name(scope: IConstruct | str, argument: str, value: str | None, *, shape: str = "EndpointName") -> None:
    """Raise ``ValidationError`` unless ``value`` is a valid SageMaker name of botocore shape ``shape``
    (Tokens and None pass)."""
    pattern, maximum = SAGEMAKER_NAMES[shape]
    rule = _SAGEMAKER_RULES.get(shape, "letters, digits and hyphens, starting and ending with a letter or digit")
    check_pattern(scope, argument, value, pattern, max_length=maximum, min_length=1,
                  description=f"1-{maximum} {rule}", limit=f"botocore sagemaker {shape}")


BUCKET_NAMING_DOC = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"
_BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def check_bucket_name(scope: IConstruct | str, argument: str, value: str | None) -> None:
    """S3 general purpose bucket naming rules: 3-63 lowercase letters, digits, '.' and '-', starting
    and ending with a letter or digit, no '..', not an IP address, no reserved prefix or suffix."""
    if value is None or is_unresolved(value):
        return
    rule = ("3-63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit, "
            "no two adjacent periods")
    check_pattern(scope, argument, value, r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", max_length=63, min_length=3,
                  description=rule, limit=BUCKET_NAMING_DOC)
    if ".." in value:
        raise ValidationError(scope, argument, value, f"no two adjacent periods ({BUCKET_NAMING_DOC})")
    if _is_ip(value):
        raise ValidationError(scope, argument, value, f"not formatted as an IP address ({BUCKET_NAMING_DOC})")
    for prefix in _BUCKET_RESERVED_PREFIXES:
        if value.startswith(prefix):
            raise ValidationError(scope, argument, value, f"not starting with the reserved prefix {prefix} "
                                  f"(reserved: {', '.join(_BUCKET_RESERVED_PREFIXES)}; {BUCKET_NAMING_DOC})")
    for suffix in _BUCKET_RESERVED_SUFFIXES:
        if value.endswith(suffix):
            raise ValidationError(scope, argument, value, f"not ending with the reserved suffix {suffix} "
                                  f"(reserved: {', '.join(_BUCKET_RESERVED_SUFFIXES)}; {BUCKET_NAMING_DOC})")


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return False


def check_trail_name(scope: IConstruct | str, argument: str, value: str | None) -> None:
    """CloudTrail trail names (botocore ``cloudtrail`` ``CreateTrailRequest.Name``): 3-128 ASCII letters,
    digits, '.', '_' or '-', starting and ending with a letter or digit, no adjacent '.', '_' or '-',
    not an IP address."""
    if value is None or is_unresolved(value):
        return
    limit = "botocore cloudtrail CreateTrailRequest.Name"
    check_pattern(scope, argument, value, r"[a-zA-Z0-9]([._-]?[a-zA-Z0-9])+", max_length=128, min_length=3,
                  description="3-128 letters, digits, '.', '_' or '-', starting and ending with a letter or digit, "
                              "no two of '.', '_', '-' adjacent (my-_trail, my--trail are refused)", limit=limit)
    if _is_ip(value):
        raise ValidationError(scope, argument, value, f"not formatted as an IP address ({limit})")


def check_iam_name(scope: IConstruct | str, argument: str, value: str | None, *, kind: str = "role") -> None:
    """IAM role (64) and policy (128) names: letters, digits and ``+=,.@_-`` (botocore ``iam``
    ``roleNameType`` / ``policyNameType``)."""
    maximum, shape = (64, "roleNameType") if kind == "role" else (128, "policyNameType")
    check_pattern(scope, argument, value, r"[\w+=,.@-]+", max_length=maximum, min_length=1,
                  description=f"1-{maximum} letters, digits and +=,.@_-", limit=f"botocore iam {shape}")


def check_alarm_name(scope: IConstruct | str, argument: str, value: str | None) -> None:
    """CloudWatch alarm names: 1-255 characters (botocore ``cloudwatch`` ``AlarmName``)."""
    check_length(scope, argument, value, minimum=1, maximum=255, limit="botocore cloudwatch AlarmName")


def check_schedule_name(scope: IConstruct | str, argument: str, value: str | None) -> None:
    """EventBridge Scheduler schedule and group names: 1-64 of ``[0-9a-zA-Z-_.]`` (botocore ``scheduler`` ``Name``)."""
    check_pattern(scope, argument, value, r"[0-9a-zA-Z._-]+", max_length=64, min_length=1,
                  description="1-64 letters, digits, '.', '_' or '-'", limit="botocore scheduler Name")


def check_function_name(scope: IConstruct | str, argument: str, value: str | None) -> None:
    """Lambda function names: 1-64 letters, digits, '-' or '_' (botocore ``lambda`` ``FunctionName``)."""
    check_pattern(scope, argument, value, r"[a-zA-Z0-9_-]+", max_length=64, min_length=1,
                  description="1-64 letters, digits, '-' or '_'", limit="botocore lambda FunctionName")


def default_name(scope: Construct, *, max_length: int = 63) -> str:
    """A stable, unique name derived from the construct path, of letters, digits and single
    hyphens, at most ``max_length`` characters (valid for every SageMaker name pattern)."""
    from .._internal.stacks import unique_resource_name

    raw = unique_resource_name(scope, max_length=max_length, separator="-")  # Names.unique_resource_name, no call
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-zA-Z0-9-]", "", raw)).strip("-")[:max_length].rstrip("-")
