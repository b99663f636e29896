"""The one exception type the library raises for bad input, and the checks that raise it."""

from __future__ import annotations

import re
from typing import Any, Iterable

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
        self.argument = argument
        self.value = value
        self.allowed = allowed
        super().__init__(f"{path}: invalid {argument}={value!r}; {allowed}")


def is_unresolved(value: Any) -> bool:
    """True for CDK Tokens (values known only at deploy time): validation skips them."""
    if value is None:
        return False
    if isinstance(value, (str, int, float)):
        return Token.is_unresolved(value)
    return False


def check_int_range(
    scope: IConstruct | str, argument: str, value: int | float | None, *, minimum: float | None = None,
    maximum: float | None = None,
) -> None:
    """Raise unless ``minimum <= value <= maximum`` (Tokens and ``None`` pass)."""
    if value is None or is_unresolved(value):
        return
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        lo = "-inf" if minimum is None else f"{minimum:g}"
        hi = "inf" if maximum is None else f"{maximum:g}"
        raise ValidationError(scope, argument, value, f"allowed: {lo} to {hi}")


def check_pattern(
    scope: IConstruct | str, argument: str, value: str | None, pattern: str, *, max_length: int | None = None,
    description: str | None = None,
) -> None:
    """Raise unless ``value`` fully matches ``pattern`` (Tokens and ``None`` pass)."""
    if value is None or is_unresolved(value):
        return
    allowed = description or f"must match {pattern}"
    if max_length is not None and len(value) > max_length:
        raise ValidationError(scope, argument, value, f"at most {max_length} characters; {allowed}")
    if not re.fullmatch(pattern, value):
        raise ValidationError(scope, argument, value, allowed)


def check_choice(scope: IConstruct | str, argument: str, value: Any, choices: Iterable[Any]) -> None:
    """Raise unless ``value`` is one of ``choices`` (Tokens pass)."""
    if is_unresolved(value):
        return
    options = list(choices)
    if value not in options:
        raise ValidationError(scope, argument, value, f"allowed: {', '.join(map(str, options))}")
