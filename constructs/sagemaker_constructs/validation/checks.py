"""The one exception type for bad input, and the small reusable checkers that raise it.

Every checker skips CDK Tokens (values known only at deploy time: a ``CfnParameter`` passed as a
count, a size or a threshold is never read as the number it encodes) and ``None`` (not given), and
raises :class:`ValidationError` naming the construct path, the argument, the value and what is
allowed; ``limit=`` quotes the AWS limit the check enforces (a doc URL or a botocore shape name).
"""

from __future__ import annotations

import fnmatch
import math
import re
import struct
import weakref
from typing import Any, Callable, Iterable

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


def arn_name(name: str) -> str:
    """``name`` as SageMaker writes it in ARNs: lower-cased. A Token is kept as it is: lower-casing
    its marker would break it, and CloudFormation has no function that lower-cases, so a name
    given as a parameter must already be lower case for the ARN to match."""
    return name if is_unresolved(name) else name.lower()


def arn_account(arn: str) -> str | None:
    """The account field of ``arn`` when it is literal, even if another field is a Token (an imported
    resource's ARN carries the ``AWS::Partition`` Token in an app without CDK's region facts); None
    when it is not known at synth."""
    parts = arn.split(":") if isinstance(arn, str) else []
    account = parts[4] if len(parts) > 5 and parts[0] == "arn" else None
    return account if account and not is_unresolved(account) else None


def is_unresolved(value: Any) -> bool:
    """True for CDK Tokens (values known only at deploy time, including encoded numbers and lists):
    validation skips them."""
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False  # NaN and infinities are never Tokens (and jsii cannot carry them)
    if isinstance(value, str):
        return "Token[" in value and _STRING_TOKEN.search(value) is not None
    if isinstance(value, (int, float)):
        return _is_number_token(value)
    if isinstance(value, list):
        return is_list_token(value) or any(is_unresolved(v) for v in value)
    return False


# The encodings aws-cdk-lib gives Tokens (core/lib/private/encoding.ts), tested in Python so that
# a validation skip costs no Python-to-Node call; tests/unit/test_tokens.py holds them equal to
# ``Token.is_unresolved``. A string holds ``${Token[NAME.123]}`` (and, with it, may hold a number
# Token rendered as a string, ``-1.888...e+289``); a list is ``["#{Token[NAME.123]}"]``; a number
# is a double whose high 16 bits are 0xFBFF.
_STRING_TOKEN = re.compile(r"\$\{Token\[[a-zA-Z0-9:._-]+\]\}|-1\.\d{10,16}e\+289")
_LIST_TOKEN = re.compile(r"#\{Token\[[a-zA-Z0-9:._-]+\]\}")
_DOUBLE_TOKEN_MARKER = 0xFBFF


def is_list_token(value: Any) -> bool:
    """True for a list Token (``Token.as_list``, a ``CommaDelimitedList`` parameter's value)."""
    return isinstance(value, list) and len(value) == 1 and isinstance(value[0], str) and (
        _LIST_TOKEN.search(value[0]) is not None)


def _is_number_token(value: int | float) -> bool:
    try:
        bits = struct.unpack("<Q", struct.pack("<d", float(value)))[0]
    except OverflowError:  # an int too large for a double is no Token
        return False
    return bits >> 48 == _DOUBLE_TOKEN_MARKER


def _skip(value: Any) -> bool:
    return value is None or is_unresolved(value)


def _with_limit(allowed: str, limit: str | None) -> str:
    return f"{allowed} ({limit})" if limit else allowed


def check_int_range(
    scope: IConstruct | str, argument: str, value: int | float | None, *, minimum: float | None = None,
    maximum: float | None = None, limit: str | None = None, unit: str = "",
) -> None:
    """Raise unless ``value`` is a whole number with ``minimum <= value <= maximum`` (Tokens and
    ``None`` pass): every count, size and percentage these check is an integer in the API."""
    check_range(scope, argument, value, minimum=minimum, maximum=maximum, limit=limit, unit=unit, integer=True)


def check_range(
    scope: IConstruct | str, argument: str, value: int | float | None, *, minimum: float | None = None,
    maximum: float | None = None, limit: str | None = None, unit: str = "", integer: bool = False,
    step: float | None = None, note: str | None = None,
) -> None:
    """Raise unless ``value`` is a number with ``minimum <= value <= maximum`` (``integer=True``: a
    whole number; ``step``: a multiple of ``step``). ``note`` adds context to the message (``"with
    MODEL_BIAS"``). Tokens (encoded numbers) and ``None`` pass."""
    if _skip(value):
        return
    suffix = (f" {unit}" if unit else "") + (f", in steps of {step:g}" if step else "") + (f", {note}" if note else "")
    lo = "-inf" if minimum is None else f"{minimum:g}"
    hi = "inf" if maximum is None else f"{maximum:g}"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:  # NaN
        raise ValidationError(scope, argument, value, _with_limit(f"a number from {lo} to {hi}{suffix}", limit))
    if integer and (not math.isfinite(value) or int(value) != value):
        raise ValidationError(scope, argument, value, _with_limit(f"a whole number from {lo} to {hi}{suffix}", limit))
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum) or (
            step and not math.isclose(round(value / step) * step, value, rel_tol=0, abs_tol=1e-9)):
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
    of: str | None = None, note: str | None = None, shown: int | None = None,
    label: Callable[[Any], Any] | None = None,
) -> None:
    """Raise unless ``value`` is one of ``choices`` (Tokens pass).

    ``of`` names where the choices come from (``"outputs"``: "one of outputs (a, b)", "none" when
    there are none); ``note`` adds context (``"when there is no evaluation_script"``); ``shown``
    lists only the first ``shown`` choices; ``label`` is how the value and the choices read in the
    message (objects compared by identity, named by a path or a name)."""
    if is_unresolved(value):
        return
    options = list(choices)
    if value not in options:
        show = label or (lambda v: v)
        listed = ", ".join(str(show(o)) for o in (options[:shown] if shown else options))
        if shown and len(options) > shown:
            listed += f", ... ({len(options)} in all)"
        allowed = f"one of {of} ({listed or 'none'})" if of else f"allowed: {listed or 'none'}"
        raise ValidationError(scope, argument, show(value),
                              _with_limit(f"{allowed}, {note}" if note else allowed, limit))


def check_glob(
    scope: IConstruct | str, argument: str, value: str | None, patterns: Iterable[str], *, of: str = "the patterns",
    limit: str | None = None,
) -> None:
    """Raise unless ``value`` matches one of the shell-style ``patterns`` (``ml.t3.*``), case-sensitively
    (Tokens and ``None`` pass)."""
    if _skip(value):
        return
    options = list(patterns)
    if not any(fnmatch.fnmatchcase(str(value), p) for p in options):
        raise ValidationError(scope, argument, value,
                              _with_limit(f"matching one of {of} ({', '.join(options) or 'none'})", limit))


def check_excluded(
    scope: IConstruct | str, argument: str, value: Any, refused: Iterable[Any], *, what: str = "reserved values",
    key: Callable[[Any], Any] | None = None, limit: str | None = None,
) -> None:
    """Raise when ``value`` (or ``key(value)``, e.g. ``str.lower``) is one of ``refused`` (Tokens and
    ``None`` pass); the message lists them as ``what``."""
    if _skip(value):
        return
    options = list(refused)
    if (key(value) if key else value) in options:
        raise ValidationError(scope, argument, value,
                              _with_limit(f"not one of the {what} ({', '.join(map(str, options))})", limit))


def check_count(
    scope: IConstruct | str, argument: str, items: Iterable[Any] | None, *, maximum: int, minimum: int = 0,
    what: str = "items", limit: str | None = None, note: str | None = None,
) -> None:
    """Raise unless ``minimum <= len(items) <= maximum`` (a Token list and ``None`` pass); ``note``
    adds context to the message (``"per feature group"``)."""
    if items is None or (is_list_token(items)):
        return
    n = len(list(items))
    if n < minimum or n > maximum:
        allowed = f"{minimum} to {maximum} {what}" + (f" {note}" if note else "")
        raise ValidationError(scope, argument, f"{n} {what}", _with_limit(allowed, limit))


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
    if values is None or is_list_token(values):
        return
    for i, v in enumerate(values):
        check(scope, f"{argument}[{i}]", v)


def duration_seconds(scope: IConstruct | str, argument: str, duration: Any, *, integral: bool = True) -> float | None:
    """``duration.to_seconds()``, with CDK's own error for a duration that is not a whole number of
    seconds (``Duration.millis(1500)``) raised as our ``ValidationError`` naming ``argument``; None
    for an unresolved duration."""
    if duration is None or duration.is_unresolved():
        return None
    return duration_to_seconds(scope, argument, duration, integral=integral)


def duration_to_seconds(scope: IConstruct | str, argument: str, duration: Any, *, integral: bool = True) -> float:
    """``duration.to_seconds()`` for a template: a Token for ``Duration.seconds(<parameter>)``, our
    ``ValidationError`` naming ``argument`` where CDK would raise its own (a fraction of a second,
    or a parameter in another unit, which CDK cannot convert)."""
    return duration_in(scope, argument, duration, "seconds", integral=integral)


def duration_in(scope: IConstruct | str, argument: str, duration: Any, unit: str, *, integral: bool = True) -> float:
    """``duration`` in ``unit`` (``seconds``, ``minutes``, ``hours`` or ``days``), with CDK's own error
    for a duration that is not a whole number of them (``Duration.hours(36)`` in days), or for a
    parameter given in another unit, raised as our ``ValidationError`` naming ``argument``."""
    try:
        return getattr(duration, f"to_{unit}")(integral=integral)
    except RuntimeError as error:  # jsii: "'1500 millis' cannot be converted into a whole number of seconds."
        if duration.is_unresolved():
            raise ValidationError(scope, argument, duration.to_human_string(),
                                  f"a Duration from a parameter as Duration.{unit}(<parameter>): CDK converts a "
                                  "Token to no other unit") from None
        raise ValidationError(scope, argument, duration.to_human_string(),
                              f"a whole number of {unit} ({str(error).strip()})") from None


_CLAIMED: "weakref.WeakKeyDictionary[Any, dict[tuple[str, ...], str]]" = weakref.WeakKeyDictionary()


def claim_name(scope: IConstruct, argument: str, name: Any, *, kind: str) -> None:
    """Record that ``scope`` creates a resource called ``name`` of ``kind`` (names unique per account
    and Region); raise when another construct of the same app, in a stack of the same account and
    Region (environment-agnostic stacks with each other), already claimed it (Tokens pass unless
    they are the same Token)."""
    if name is None:
        return
    from .._internal.stacks import arn_parts

    claimed = _CLAIMED.setdefault(scope.node.root, {})
    key = (kind, name, *arn_parts(scope)[1:])
    owner = claimed.get(key)
    if owner is not None and owner != scope.node.path:
        raise ValidationError(scope, argument, name, f"a {kind} of its own: {owner} already creates {name!r}, and "
                                                     f"{kind}s are unique per account and Region")
    claimed[key] = scope.node.path
