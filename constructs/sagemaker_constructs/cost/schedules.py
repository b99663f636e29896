"""Time-weighted minimum capacity under Application Auto Scaling scheduled actions.

Scheduled actions on a scalable target change its ``MinCapacity``/``MaxCapacity`` at the times
their ``cron(...)`` expressions name (https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-using-cron-expressions.html:
six fields, minutes hours day-of-month month day-of-week year, day-of-week 1-7 = SUN-SAT).
The committed capacity at any minute is the minimum in effect then. A schedule that repeats every
week (day-of-month, month and year all wildcards) is simulated minute by minute over a week in
its steady state; anything else (``rate()``, ``at()``, calendar days, ``L``/``W``/``#``) is not
evaluated and the caller falls back to the lowest minimum any action sets.

:func:`running_fraction` reuses the same simulation for a resource that schedules start and stop
(a managed MLflow tracking server on EventBridge Scheduler): running is a minimum of 1, stopped 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from ..validation.schedules import DAY_NAMES, cron_field_values

_MINUTES_PER_WEEK = 7 * 24 * 60


@dataclass(frozen=True)
class ScheduledAction:
    """One scheduled action: its ``cron(...)`` (or other) expression and the capacities it sets."""

    schedule: str
    min_capacity: int | None
    max_capacity: int | None
    time_zone: str | None = None  # the action's ``Timezone`` (UTC when None)


class UnsupportedSchedule(ValueError):
    """The expression is not a weekly-repeating ``cron(...)`` this module evaluates."""


def _field(text: str, lo: int, hi: int, names: dict[str, int] | None = None) -> set[int]:
    """The values of one cron field (the parser the schedule validation uses,
    :func:`~sagemaker_constructs.validation.schedules.cron_field_values`)."""
    values = cron_field_values(text, lo, hi, names)
    if values is None:
        raise UnsupportedSchedule(text)
    return values


def weekly_fire_minutes(expression: str) -> set[int]:
    """The minutes of a week (0 = Monday 00:00) at which ``cron(...)`` ``expression`` fires.

    Raises :class:`UnsupportedSchedule` for anything that does not repeat weekly.
    """
    match = re.fullmatch(r"\s*cron\((.*)\)\s*", expression)
    if not match:
        raise UnsupportedSchedule(expression)
    fields = match.group(1).split()
    if len(fields) != 6:
        raise UnsupportedSchedule(expression)
    minute, hour, dom, month, dow, year = fields
    if dom not in ("*", "?") or month not in ("*", "?") or year not in ("*", "?"):
        raise UnsupportedSchedule(expression)
    minutes = _field(minute, 0, 59)
    hours = _field(hour, 0, 23)
    days = _field(dow, 1, 7, DAY_NAMES)  # 1 = Sunday
    fired = set()
    for day in range(7):  # 0 = Monday
        aws_day = (day + 1) % 7 + 1
        if aws_day not in days:
            continue
        for h in hours:
            for m in minutes:
                fired.add(day * 1440 + h * 60 + m)
    return fired


def weekly_minimums(min_capacity: int, max_capacity: int, actions: list[ScheduledAction]) -> list[int]:
    """The capacity floor in effect at each minute of a week in steady state (``min(minimum,
    maximum)`` then; index 0 = Monday 00:00): the series :func:`average_minimum` averages, for a
    caller that combines several targets minute by minute (an inference-component endpoint's
    instances follow all its components' copy counts).

    Raises :class:`UnsupportedSchedule` when any action's schedule is not weekly ``cron(...)``.
    """
    fires = [(weekly_fire_minutes(a.schedule), a) for a in actions]
    current_min, current_max = min_capacity, max_capacity
    series: list[int] = []
    for week in range(2):  # the first week reaches the steady state, the second is measured
        for minute in range(_MINUTES_PER_WEEK):
            for minutes, action in fires:
                if minute in minutes:
                    if action.min_capacity is not None:
                        current_min = action.min_capacity
                    if action.max_capacity is not None:
                        current_max = action.max_capacity
            if week == 1:
                series.append(min(current_min, current_max))
    return series


def average(series: list[int]) -> Decimal:
    """The mean of a per-minute series (an exact fraction as Decimal)."""
    return Decimal(sum(series)) / Decimal(len(series))


def average_minimum(min_capacity: int, max_capacity: int, actions: list[ScheduledAction]) -> Decimal:
    """The time-weighted minimum capacity over a week in steady state (an exact fraction as Decimal):
    the mean of :func:`weekly_minimums`.

    Raises :class:`UnsupportedSchedule` when any action's schedule is not weekly ``cron(...)``.
    """
    return average(weekly_minimums(min_capacity, max_capacity, actions))


def running_fraction(starts: list[str], stops: list[str]) -> Decimal:
    """The fraction of a week (steady state, exact as Decimal) a resource runs when the ``cron(...)``
    expressions ``starts`` start it and ``stops`` stop it. It runs from creation until the first stop;
    a start and a stop in the same minute leave it stopped.

    All expressions are read in one time zone: the running time per week is the same in any zone,
    shifted as a whole (daylight-saving changes move it by an hour on two days a year; not modelled).
    Raises :class:`UnsupportedSchedule` when any expression is not weekly ``cron(...)``.
    """
    actions = [ScheduledAction(s, 1, None) for s in starts] + [ScheduledAction(s, 0, None) for s in stops]
    return average_minimum(1, 1, actions)
