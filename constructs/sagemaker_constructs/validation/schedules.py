"""Schedule expressions, checked against the service that will run them.

* EventBridge Scheduler (pipelines on a schedule): ``at(yyyy-mm-ddThh:mm:ss)``,
  ``rate(<n> minute|minutes|hour|hours|day|days)``, ``cron(<6 fields>)``
  (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html).
* SageMaker Model Monitor (``ScheduleConfig.ScheduleExpression``): only hourly ``cron(0 * ? * * *)``,
  daily ``cron(0 H ? * * *)``, every N hours ``cron(0 H/N ? * * *)`` and ``NOW`` (one run, at once)
  (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html).
"""

from __future__ import annotations

import re
from typing import Any

from constructs import IConstruct

from .checks import ValidationError, is_unresolved

SCHEDULER_DOC = "https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html"
MONITOR_SCHEDULE_DOC = "https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html"

SCHEDULER_RULE = ("at(yyyy-mm-ddThh:mm:ss), rate(<positive integer> minute|minutes|hour|hours|day|days) or "
                  "cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>) with exactly one of "
                  "day-of-month and day-of-week '?'")
MONITOR_RULE = ("hourly cron(0 * ? * * *), daily cron(0 <0-23> ? * * *), every N hours cron(0 <0-23>/<1-24> ? * * *), "
                "or NOW (one run, immediately)")

_AT = re.compile(r"at\(\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\)")
_RATE = re.compile(r"rate\(([1-9]\d*) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\((.*)\)")
_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_DAYS = "SUN|MON|TUE|WED|THU|FRI|SAT"


def _numbers(lo: int, hi: int, names: str = "") -> str:
    """A regex for one value: a number in lo..hi (optionally zero-padded) or one of ``names``."""
    nums = "|".join(str(n) for n in range(hi, lo - 1, -1))
    padded = "|".join(f"0{n}" for n in range(max(lo, 0), min(hi, 9) + 1))
    return f"(?:{names + '|' if names else ''}{padded + '|' if padded else ''}{nums})"


def _field(lo: int, hi: int, names: str = "", extra: str = "") -> re.Pattern[str]:
    v = _numbers(lo, hi, names)
    item = rf"(?:\*|{v}(?:-{v})?)(?:/\d+)?"
    return re.compile(rf"(?:{item}(?:,{item})*{extra})", re.I)


_CRON_FIELDS = (
    ("minutes", _field(0, 59)),
    ("hours", _field(0, 23)),
    ("day-of-month", re.compile(rf"\?|L|{_numbers(1, 31)}W|{_field(1, 31).pattern}", re.I)),
    ("month", _field(1, 12, _MONTHS)),
    ("day-of-week", re.compile(rf"\?|L|{_numbers(1, 7, _DAYS)}(?:L|#[1-5])|{_field(1, 7, _DAYS).pattern}", re.I)),
    ("year", _field(1970, 2199)),
)


def check_scheduler_expression(scope: IConstruct | str, argument: str, value: Any) -> None:
    """Raise unless ``value`` is an EventBridge Scheduler expression (Tokens and None pass)."""
    if value is None or is_unresolved(value):
        return
    allowed = f"{SCHEDULER_RULE} ({SCHEDULER_DOC})"
    if not isinstance(value, str):
        raise ValidationError(scope, argument, value, allowed)
    if _AT.fullmatch(value) or _RATE.fullmatch(value):
        return
    cron = _CRON.fullmatch(value)
    if cron is None:
        raise ValidationError(scope, argument, value, allowed)
    fields = cron.group(1).split()
    if len(fields) != 6:
        raise ValidationError(scope, argument, value, f"cron() takes 6 fields, got {len(fields)}; {allowed}")
    for (name, pattern), field in zip(_CRON_FIELDS, fields):
        if not pattern.fullmatch(field):
            raise ValidationError(scope, argument, value, f"the {name} field {field!r} is not valid; {allowed}")
    if (fields[2] == "?") == (fields[4] == "?"):
        raise ValidationError(scope, argument, value, f"exactly one of day-of-month and day-of-week must be '?'; "
                                                      f"{allowed}")


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
    "MONITOR_RULE", "MONITOR_SCHEDULE_DOC", "SCHEDULER_DOC", "SCHEDULER_RULE", "check_monitor_schedule",
    "check_scheduler_expression", "monitor_schedule_interval",
]
