"""Schedule expressions, checked against the service that will run them.

* EventBridge Scheduler (pipelines on a schedule): ``at(yyyy-mm-ddThh:mm:ss)``,
  ``rate(<n> minute|minutes|hour|hours|day|days)``, ``cron(<6 fields>)``
  (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html).
* Application Auto Scaling scheduled actions (``scale_on_schedule``): the same three forms
  (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html), and
  bounds it can apply whichever of the target's other actions ran last
  (https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-policy-overview.html).
* SageMaker Model Monitor (``ScheduleConfig.ScheduleExpression``): only hourly ``cron(0 * ? * * *)``,
  daily ``cron(0 H ? * * *)``, every N hours ``cron(0 H/N ? * * *)`` and ``NOW`` (one run, at once)
  (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html).

Both services read ``cron(...)`` in the EventBridge syntax
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html, which
https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-using-cron-expressions.html
refers to): minutes 0-59, hours 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 1-7 or
SUN-SAT (1 = SUN), year 1970-2199; lists ``,``, ranges ``-``, all ``*`` and increments ``/``;
``?`` (any) in one of the two day fields, ``L`` (last) in either, ``<day>W`` (nearest weekday) in
day-of-month, ``<day>L`` and ``<day>#<1-5>`` (alone) in day-of-week. One parser
(:func:`cron_field_values`) reads the fields for these checks and for the cost estimate. A range
whose end is before its start (``FRI-MON``) is not refused: the page does not say.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any, TypeGuard

from constructs import IConstruct

from .checks import ValidationError, is_unresolved

SCHEDULER_DOC = "https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html"
MONITOR_SCHEDULE_DOC = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html"
CRON_DOC = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html"
AUTOSCALING_CRON_DOC = ("https://docs.aws.amazon.com/autoscaling/application/userguide/"
                        "scheduled-scaling-using-cron-expressions.html")
SCHEDULED_SCALING_DOC = ("https://docs.aws.amazon.com/autoscaling/application/userguide/"
                         "scheduled-scaling-policy-overview.html")
ZONEINFO_DOC = "https://docs.python.org/3/library/zoneinfo.html#data-sources"

SCHEDULER_RULE = ("at(yyyy-mm-ddThh:mm:ss), rate(<positive integer> minute|minutes|hour|hours|day|days) or "
                  "cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>) with exactly one of "
                  "day-of-month and day-of-week '?'")
AUTOSCALING_SCHEDULE_RULE = (
    "at(yyyy-mm-ddThh:mm:ss), rate(<positive integer> minute|minutes|hour|hours|day|days) or "
    "cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>) with one of day-of-month "
    "and day-of-week '?' (Application Auto Scaling's schedule expressions)")
MONITOR_RULE = ("hourly cron(0 * ? * * *), daily cron(0 <0-23> ? * * *), every N hours cron(0 <0-23>/<1-24> ? * * *), "
                "or NOW (one run, immediately)")

_AT = re.compile(r"at\(\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\)")
_RATE = re.compile(r"rate\(([1-9]\d*) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\((.*)\)")
_NUMBER = re.compile(r"[0-9]+")

#: Day-of-week names (1 = Sunday) and month names, as cron fields spell them.
DAY_NAMES = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
MONTH_NAMES = {m: i for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)}

#: Per cron field: its name, lowest and highest value, value names, and what it takes.
_CRON_SPEC: tuple[tuple[str, int, int, dict[str, int] | None, str], ...] = (
    ("minutes", 0, 59, None, "0-59"),
    ("hours", 0, 23, None, "0-23"),
    ("day-of-month", 1, 31, None, "1-31, ? (any), L (last day) or <1-31>W (nearest weekday)"),
    ("month", 1, 12, MONTH_NAMES, "1-12 or JAN-DEC"),
    ("day-of-week", 1, 7, DAY_NAMES, "1-7 or SUN-SAT (1 = SUN), ? (any), L (last day), <day>L or <day>#<1-5>"),
    ("year", 1970, 2199, None, "1970-2199"),
)


class _NotAField(ValueError):
    """A cron field the parser does not read: a value out of range, or not the field's syntax."""


def _cron_value(text: str, lo: int, hi: int, names: dict[str, int] | None) -> int:
    if names and text in names:
        return names[text]
    if not _NUMBER.fullmatch(text) or not lo <= int(text) <= hi:
        raise _NotAField(text)
    return int(text)


def _cron_values(text: str, lo: int, hi: int, names: dict[str, int] | None, *, wrap: bool) -> set[int]:
    """The values of a list of ``*``/``?``, values, ranges and increments (``a/n``: from a to the
    highest value, every n); a reversed range (``FRI-MON``) wraps past the highest value only if
    ``wrap``."""
    values: set[int] = set()
    for part in text.strip().upper().split(","):
        step = 1
        increment = "/" in part
        if increment:
            part, step_text = part.split("/", 1)
            if not _NUMBER.fullmatch(step_text) or int(step_text) == 0:
                raise _NotAField(text)
            step = int(step_text)
        if part in ("*", "?"):
            start, end = lo, hi
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _cron_value(a, lo, hi, names), _cron_value(b, lo, hi, names)
        else:
            start = _cron_value(part, lo, hi, names)
            end = hi if increment else start
        if start <= end:
            values.update(range(start, end + 1, step))
        elif wrap:
            values.update([*range(start, hi + 1), *range(lo, end + 1)][::step])
        else:
            raise _NotAField(text)
    return values


def cron_field_values(text: str, lo: int, hi: int, names: dict[str, int] | None = None) -> set[int] | None:
    """The values ``lo``..``hi`` a cron field of values, names, ranges, lists, ``*``/``?`` and
    increments names (``5/15``: 5, 20, 35, 50 in minutes); None for anything else (``L``, ``W``,
    ``#``, a reversed range, a value out of range)."""
    try:
        return _cron_values(text, lo, hi, names, wrap=False)
    except _NotAField:
        return None


def _cron_field_problem(position: int, text: str) -> str | None:
    """Why field ``position`` (0 = minutes) of a cron expression is not valid, or None."""
    name, lo, hi, names, takes = _CRON_SPEC[position]
    upper = text.upper()
    try:
        if position in (2, 4) and upper in ("?", "L"):
            return None
        if "?" in upper:
            raise _NotAField(text)
        if position == 2 and upper.endswith("W"):
            _cron_value(upper[:-1], lo, hi, None)
        elif position == 4 and "#" in upper:
            day, nth = upper.split("#", 1)
            _cron_value(day, lo, hi, names)
            _cron_value(nth, 1, 5, None)
        elif position == 4 and upper.endswith("L"):
            _cron_value(upper[:-1], lo, hi, names)
        else:
            _cron_values(upper, lo, hi, names, wrap=True)
    except _NotAField:
        return (f"the {name} field {text!r} is not valid: it takes {takes}, with lists (,), ranges (-), "
                f"* (all) and increments (/)")
    return None


def _check_expression(scope: IConstruct | str, argument: str, value: str, allowed: str) -> None:
    if _AT.fullmatch(value) or _RATE.fullmatch(value):
        return
    cron = _CRON.fullmatch(value)
    if cron is None:
        raise ValidationError(scope, argument, value, allowed)
    fields = cron.group(1).split()
    if len(fields) != 6:
        raise ValidationError(scope, argument, value, f"cron() takes 6 fields, got {len(fields)}; {allowed}")
    for position, field in enumerate(fields):
        problem = _cron_field_problem(position, field)
        if problem is not None:
            raise ValidationError(scope, argument, value, f"{problem}; {allowed}")
    if (fields[2] == "?") == (fields[4] == "?"):
        raise ValidationError(scope, argument, value, f"exactly one of day-of-month and day-of-week must be '?'; "
                                                      f"{allowed}")


def check_scheduler_expression(scope: IConstruct | str, argument: str, value: Any) -> None:
    """Raise unless ``value`` is an EventBridge Scheduler expression (Tokens and None pass)."""
    if value is None or is_unresolved(value):
        return
    allowed = f"{SCHEDULER_RULE} ({SCHEDULER_DOC})"
    if not isinstance(value, str):
        raise ValidationError(scope, argument, value, allowed)
    _check_expression(scope, argument, value, allowed)


def check_autoscaling_schedule(scope: IConstruct | str, argument: str, value: Any) -> None:
    """Raise unless ``value`` is a schedule Application Auto Scaling accepts for a scheduled action
    (PutScheduledAction ``Schedule``; its cron fields as
    https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-using-cron-expressions.html
    gives them). Tokens pass; None does not (a scheduled action needs a schedule)."""
    if is_unresolved(value):
        return
    allowed = f"{AUTOSCALING_SCHEDULE_RULE} ({AUTOSCALING_CRON_DOC})"
    if not isinstance(value, str):
        raise ValidationError(scope, argument, value, allowed)
    _check_expression(scope, argument, value, allowed)


def _known(value: Any) -> TypeGuard[float]:
    """A literal number (not None, not a Token)."""
    return value is not None and not is_unresolved(value)


_BOTH_BOUNDS = ("Application Auto Scaling cannot apply a maximum below the minimum in effect or a minimum above the "
                "maximum: \"you must include both sizes to ensure that the new minimum capacity is not greater than "
                "the maximum capacity, or the new maximum capacity is not less than the minimum capacity\" "
                f"({SCHEDULED_SCALING_DOC})")


def check_scheduled_bounds(
    scope: IConstruct | str,
    action: str,
    min_capacity: Any,
    max_capacity: Any,
    *,
    target_min: Any,
    others: Sequence[tuple[str, Any, Any]],
    unit: str,
) -> None:
    """Raise unless Application Auto Scaling can apply scheduled action ``action`` whichever of the
    target's other actions ran before it.

    A scheduled action sets one bound or both, and the bounds stay until another action changes
    them (https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-using-cron-expressions.html).
    So when an action that sets only ``max_capacity`` fires, the minimum in effect can be the
    scalable target's ``MinCapacity`` (``target_min``) or the minimum any other action sets; when
    one that sets only ``min_capacity`` fires, the maximum in effect can be one any other action
    sets (the target's own maximum is the ceiling its capacities are checked against already).
    Application Auto Scaling cannot apply a maximum below that minimum nor a minimum above that
    maximum; such an action must set both bounds (:data:`SCHEDULED_SCALING_DOC`). Actions that
    set both bounds never conflict. Tokens are skipped.

    :param others: the target's other scheduled actions, as ``(name, min_capacity, max_capacity)``.
    :param unit: what the capacity counts ("instances", "copies"), for messages.
    """
    only_max = min_capacity is None and _known(max_capacity)
    only_min = max_capacity is None and _known(min_capacity)
    if only_max:
        minimums = [(f"the scalable target's MinCapacity is {target_min}", target_min)]
        minimums += [(f"scheduled action {name!r} sets min_capacity={low}", low) for name, low, _ in others]
        for source, minimum in minimums:
            if _known(minimum) and _known(max_capacity) and max_capacity < minimum:
                raise ValidationError(scope, "max_capacity", max_capacity,
                                      f"at least {minimum} {unit}, or give {action!r} min_capacity as well: {source}, "
                                      f"which can be in effect when {action!r} fires; {_BOTH_BOUNDS}")
    if only_min:
        for name, _, high in others:
            if _known(high) and _known(min_capacity) and min_capacity > high:
                raise ValidationError(scope, "min_capacity", min_capacity,
                                      f"at most {high} {unit}, or give {action!r} max_capacity as well: scheduled "
                                      f"action {name!r} sets max_capacity={high}, which can be in effect when "
                                      f"{action!r} fires; {_BOTH_BOUNDS}")
    for name, low, high in others:
        if _known(min_capacity) and low is None and _known(high) and high < min_capacity:
            raise ValidationError(scope, "min_capacity", min_capacity,
                                  f"at most {high} {unit}, or give scheduled action {name!r} min_capacity as well: "
                                  f"it sets only max_capacity={high}, and {action!r} sets a minimum of "
                                  f"{min_capacity} that can be in effect when {name!r} fires; {_BOTH_BOUNDS}")
        if _known(max_capacity) and high is None and _known(low) and low > max_capacity:
            raise ValidationError(scope, "max_capacity", max_capacity,
                                  f"at least {low} {unit}, or give scheduled action {name!r} max_capacity as well: "
                                  f"it sets only min_capacity={low}, and {action!r} sets a maximum of "
                                  f"{max_capacity} that can be in effect when {name!r} fires; {_BOTH_BOUNDS}")


#: The form of a tz database name: ASCII letters, digits, '_', '-' and '+' in components that
#: start with a letter, separated by '/' (Europe/Berlin, America/Argentina/Buenos_Aires, Etc/GMT+9, UTC).
_IANA_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z][A-Za-z0-9_+\-]*)*")


@functools.lru_cache(maxsize=4)
def _zones(tzpath: tuple[str, ...]) -> frozenset[str]:
    """The zone names Python's zoneinfo finds (``tzpath`` keys the cache: zoneinfo.TZPATH), without
    the system's ``localtime`` link (not a tz database name)."""
    import zoneinfo

    return frozenset(zoneinfo.available_timezones()) - {"localtime"}


def check_time_zone(scope: IConstruct | str, argument: str, value: Any) -> None:
    """Raise unless ``value`` is an IANA time zone name (Tokens and None pass).

    The names are the tz database's that Python's ``zoneinfo`` finds on the synthesizing machine:
    the system's, or the ``tzdata`` package. A machine with neither (Windows without ``tzdata``,
    Alpine or distroless images: :data:`ZONEINFO_DOC`) has no list to check against, so there any
    name of the tz database's form (``Area/Location``, ``UTC``) passes, and the service checks the
    name at deploy time.
    """
    if value is None or is_unresolved(value):
        return
    allowed = "an IANA time zone name, e.g. Europe/Berlin or America/New_York"
    if not isinstance(value, str):
        raise ValidationError(scope, argument, value, allowed)
    import zoneinfo

    zones = _zones(tuple(zoneinfo.TZPATH))
    if value in zones:
        return
    if not zones:
        if _IANA_NAME.fullmatch(value):
            return
        allowed += (" (this machine has no time zone database, so only the name's form is checked: letters, "
                    f"digits, '_', '-' and '+' in '/'-separated parts; {ZONEINFO_DOC})")
    raise ValidationError(scope, argument, value, allowed)


_MONITOR_HOURLY = re.compile(r"cron\(0 \* \? \* \* \*\)")
_MONITOR_DAILY = re.compile(r"cron\(0 ([01]?\d|2[0-3]) \? \* \* \*\)")
_MONITOR_EVERY = re.compile(r"cron\(0 ([01]?\d|2[0-3])/(0?[1-9]|1\d|2[0-4]) \? \* \* \*\)")


def monitor_schedule_interval(scope: IConstruct | str, argument: str, value: Any) -> int | None:
    """The interval in seconds between Model Monitor runs of ``value`` (None for ``NOW`` or a Token);
    raise ``ValidationError`` unless it is one of the forms Model Monitor documents."""
    if value is None or is_unresolved(value):
        return None
    if value == "NOW":
        return None
    if isinstance(value, str):
        if _MONITOR_HOURLY.fullmatch(value):
            return 3600
        if _MONITOR_DAILY.fullmatch(value):
            return 86_400
        every = _MONITOR_EVERY.fullmatch(value)
        if every:
            return int(every.group(2)) * 3600
    raise ValidationError(scope, argument, value,
                          f"one of the expressions Model Monitor supports: {MONITOR_RULE} ({MONITOR_SCHEDULE_DOC})")


def check_monitor_schedule(scope: IConstruct | str, argument: str, value: Any) -> None:
    """Raise unless ``value`` is a Model Monitor schedule expression (Tokens and None pass)."""
    monitor_schedule_interval(scope, argument, value)


__all__ = [
    "AUTOSCALING_CRON_DOC", "AUTOSCALING_SCHEDULE_RULE", "CRON_DOC", "DAY_NAMES", "MONITOR_RULE",
    "MONITOR_SCHEDULE_DOC", "MONTH_NAMES", "SCHEDULED_SCALING_DOC", "SCHEDULER_DOC", "SCHEDULER_RULE",
    "ZONEINFO_DOC", "check_autoscaling_schedule", "check_monitor_schedule", "check_scheduled_bounds",
    "check_scheduler_expression", "check_time_zone", "cron_field_values", "monitor_schedule_interval",
]
