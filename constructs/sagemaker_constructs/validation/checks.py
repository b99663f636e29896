"""The one exception type for bad input, and the small reusable checkers that raise it.

Every checker skips CDK Tokens (values known only at deploy time: a ``CfnParameter`` passed as a
count, a size or a threshold is never read as the number it encodes) and ``None`` (not given), and
raises :class:`ValidationError` naming the construct path, the argument, the value and what is
allowed; ``limit=`` quotes the AWS limit the check enforces (a doc URL or a botocore shape name).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable

from aws_cdk import Token
from constructs import IConstruct


class ValidationError(ValueError):
    """Bad input to a sagemaker-constructs construct, raised at synth time.

    The message names the construct path, the argument, the bad value and what is
    allowed, so a user can fix the call without reading our source.
    """

    def __init__(self, scope: IConstruct | str, argument: str, value: Any, allowed: str) -> None:
        path = scope if isinstance(scope, str) else scope.node.path
        self.construct_path = path
        self.argument: str = argument
        self.value: Any = value
        self.allowed: str = allowed
        super().__init__(f"{path}: invalid {argument}={value!r}; {allowed}")


def is_unresolved(value: Any) -> bool:
    """True for CDK Tokens (values known only at deploy time, including encoded numbers and lists):
    validation skips them."""
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, (str, int, float)):
        return Token.is_unresolved(value)
    if isinstance(value, list):
        return Token.is_unresolved(value) or any(is_unresolved(v) for v in value)
    return False


def _skip(value: Any) -> bool:
    return value is None or is_unresolved(value)


def _with_limit(allowed: str, limit: str | None) -> str:
    return f"{allowed} ({limit})" if limit else allowed


def check_int_range(
    scope: IConstruct | str, argument: str, value: int | float | None, *, minimum: float | None = None,
    maximum: float | None = None, limit: str | None = None, unit: str = "",
) -> None:
    """Raise unless ``minimum <= value <= maximum`` (Tokens and ``None`` pass)."""
    check_range(scope, argument, value, minimum=minimum, maximum=maximum, limit=limit, unit=unit)


def check_range(
    scope: IConstruct | str, argument: str, value: int | float | None, *, minimum: float | None = None,
    maximum: float | None = None, limit: str | None = None, unit: str = "", integer: bool = False,
) -> None:
    """Raise unless ``value`` is a number with ``minimum <= value <= maximum`` (``integer=True``: a
    whole number). Tokens (encoded numbers) and ``None`` pass."""
    if _skip(value):
        return
    suffix = f" {unit}" if unit else ""
    lo = "-inf" if minimum is None else f"{minimum:g}"
    hi = "inf" if maximum is None else f"{maximum:g}"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:  # NaN
        raise ValidationError(scope, argument, value, _with_limit(f"a number from {lo} to {hi}{suffix}", limit))
    if integer and int(value) != value:
        raise ValidationError(scope, argument, value, _with_limit(f"a whole number from {lo} to {hi}{suffix}", limit))
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValidationError(scope, argument, value, _with_limit(f"allowed: {lo} to {hi}{suffix}", limit))


def check_length(
    scope: IConstruct | str, argument: str, value: str | None, *, minimum: int = 0, maximum: int | None = None,
    limit: str | None = None,
) -> None:
    """Raise unless ``minimum <= len(value) <= maximum`` (Tokens and ``None`` pass)."""
    if _skip(value):
        return
    if len(value) < minimum or (maximum is not None and len(value) > maximum):
        span = f"{minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
        raise ValidationError(scope, argument, value, _with_limit(f"{span} characters (got {len(value)})", limit))


def check_pattern(
    scope: IConstruct | str, argument: str, value: str | None, pattern: str, *, max_length: int | None = None,
    description: str | None = None, limit: str | None = None, min_length: int = 0,
) -> None:
    """Raise unless ``value`` fully matches ``pattern`` (Tokens and ``None`` pass)."""
    if _skip(value):
        return
    allowed = description or f"must match {pattern}"
    if not isinstance(value, str):
        raise ValidationError(scope, argument, value, _with_limit(f"a string; {allowed}", limit))
    if max_length is not None and len(value) > max_length:
        raise ValidationError(
            scope, argument, value, _with_limit(f"at most {max_length} characters (got {len(value)}); {allowed}", limit)
        )
    if len(value) < min_length:
        raise ValidationError(scope, argument, value, _with_limit(f"at least {min_length} characters; {allowed}", limit))
    if not re.fullmatch(pattern, value):
        raise ValidationError(scope, argument, value, _with_limit(allowed, limit))


def check_choice(
    scope: IConstruct | str, argument: str, value: Any, choices: Iterable[Any], *, limit: str | None = None,
) -> None:
    """Raise unless ``value`` is one of ``choices`` (Tokens pass)."""
    if is_unresolved(value):
        return
    options = list(choices)
    if value not in options:
        raise ValidationError(scope, argument, value, _with_limit(f"allowed: {', '.join(map(str, options))}", limit))


def check_count(
    scope: IConstruct | str, argument: str, items: Iterable[Any] | None, *, maximum: int, minimum: int = 0,
    what: str = "items", limit: str | None = None,
) -> None:
    """Raise unless ``minimum <= len(items) <= maximum`` (a Token list and ``None`` pass)."""
    if items is None or (isinstance(items, list) and Token.is_unresolved(items)):
        return
    n = len(list(items))
    if n < minimum or n > maximum:
        raise ValidationError(
            scope, argument, f"{n} {what}", _with_limit(f"{minimum} to {maximum} {what}", limit)
        )


def check_combination(
    scope: IConstruct | str, argument: str, value: Any, *, refused: bool, because: str, limit: str | None = None,
) -> None:
    """Raise when a combination of arguments SageMaker (or the library) refuses is ``refused``.

    ``because`` says what the argument conflicts with and what to do instead; ``limit`` cites the
    AWS documentation of the restriction.
    """
    if refused:
        raise ValidationError(scope, argument, value, _with_limit(because, limit))


def check_each(
    scope: IConstruct | str, argument: str, values: Iterable[Any] | None,
    check: Callable[[IConstruct | str, str, Any], None],
) -> None:
    """Run ``check(scope, f"{argument}[i]", v)`` on each element (a Token list and ``None`` pass)."""
    if values is None or (isinstance(values, list) and Token.is_unresolved(values)):
        return
    for i, v in enumerate(values):
        check(scope, f"{argument}[{i}]", v)
