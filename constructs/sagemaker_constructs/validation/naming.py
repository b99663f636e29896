"""SageMaker resource names: the one pattern SageMaker uses for most of them, and stable defaults."""

from __future__ import annotations

import re

from aws_cdk import Names
from constructs import Construct, IConstruct

from ..errors import check_pattern

#: SageMaker's pattern for domain, user-profile, model, endpoint, endpoint-config and model
#: package group names: at most 63 characters.
NAME_PATTERN = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
NAME_RULE = "1-63 letters, digits and single or repeated hyphens, starting and ending with a letter or digit"


def check_name(scope: IConstruct | str, argument: str, value: str | None) -> None:
    """Raise ``ValidationError`` unless ``value`` is a valid SageMaker name (Tokens and None pass)."""
    check_pattern(scope, argument, value, NAME_PATTERN, max_length=63, description=NAME_RULE)


def default_name(scope: Construct, *, max_length: int = 63) -> str:
    """A stable, unique name derived from the construct path, of letters, digits and single
    hyphens, at most ``max_length`` characters (valid for every SageMaker name pattern)."""
    raw = Names.unique_resource_name(scope, max_length=max_length, separator="-")
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-zA-Z0-9-]", "", raw)).strip("-")[:max_length].rstrip("-")
