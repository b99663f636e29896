"""Time-weighted minimum capacity under Application Auto Scaling scheduled actions.

Scheduled actions on a scalable target change its ``MinCapacity``/``MaxCapacity`` at the times
their ``cron(...)`` expressions name (https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-using-cron-expressions.html:
six fields, minutes hours day-of-month month day-of-week year, day-of-week 1-7 = SUN-SAT).
The committed capacity at any minute is the minimum in effect then. A schedule that repeats every
week (day-of-month, month and year all wildcards) is simulated minute by minute over a week in
its steady state; anything else (``rate()``, ``at()``, calendar days, ``L``/``W``/``#``) is not
evaluated and the caller falls back to the lowest minimum any action sets.

Each action fires in its own time zone (``Timezone``, UTC when absent). The series is in UTC: an
action's minutes are shifted by its zone's UTC offset in mid-January (:func:`utc_offset_minutes`),
so actions of one target in different zones (or targets combined minute by minute) line up as they
do in the account; the offsets of one zone shift a whole series alike, which leaves its mean as it
is. Daylight-saving changes (an hour, part of the year, where zones observe it differently) are not
modelled. Where Python has no time zone database for a zone, every action is read in one zone.

:func:`running_fraction` reuses the same simulation for a resource that schedules start and stop
(a managed MLflow tracking server on EventBridge Scheduler): running is a minimum of 1, stopped 0.
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Sequence

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


#: The instant whose UTC offsets convert scheduled actions' zones (standard time north of the equator).
OFFSET_REFERENCE = datetime.datetime(2027, 1, 15, 12, tzinfo=datetime.timezone.utc)


@functools.lru_cache(maxsize=64)
def utc_offset_minutes(time_zone: str | None) -> int | None:
    """Minutes east of UTC of the IANA ``time_zone`` at :data:`OFFSET_REFERENCE` (0 for None, UTC's
    own); None when Python's ``zoneinfo`` does not know it (no time zone database on this machine)."""
    if time_zone is None or time_zone in ("UTC", "Etc/UTC", "GMT", "Etc/GMT"):
        return 0
    import zoneinfo

    try:
        zone = zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
    offset = OFFSET_REFERENCE.astimezone(zone).utcoffset()
    return None if offset is None else int(offset.total_seconds()) // 60


def zones_converted(zones: Sequence[str | None]) -> bool:
    """Whether :func:`weekly_minimums` converts actions in ``zones`` to UTC (every zone is known
    here), rather than reading them all in one zone."""
    return all(utc_offset_minutes(zone) is not None for zone in zones)


def _field(text: str, lo: int, hi: int, names: dict[str, int] | None = None) -> set[int]:
    """The values of one cron field (the parser the schedule validation uses,
    :func:`~sagemaker_constructs.validation.schedules.cron_field_values`)."""
    values = cron_field_values(text, lo, hi, names)
    if values is None:
        raise UnsupportedSchedule(text)
    return values


def weekly_fire_minutes(expression: str, utc_offset: int = 0) -> set[int]:
    """The minutes of a week (0 = Monday 00:00 UTC) at which ``cron(...)`` ``expression`` fires,
    read in a zone ``utc_offset`` minutes east of UTC (0: in UTC).

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
                fired.add((day * 1440 + h * 60 + m - utc_offset) % _MINUTES_PER_WEEK)
    return fired


def weekly_minimums(min_capacity: int, max_capacity: int, actions: list[ScheduledAction]) -> list[int]:
    """The capacity floor in effect at each minute of a week in steady state (``min(minimum,
    maximum)`` then; index 0 = Monday 00:00): the series :func:`average_minimum` averages, for a
    caller that combines several targets minute by minute (an inference-component endpoint's
    instances follow all its components' copy counts).

    Each action is read in its ``time_zone`` and shifted to UTC (see the module's notes); when a
    zone is not known here, all of them are read in one zone.

    Raises :class:`UnsupportedSchedule` when any action's schedule is not weekly ``cron(...)``.
    """
    convert = zones_converted([a.time_zone for a in actions])
    fires = [(weekly_fire_minutes(a.schedule, (utc_offset_minutes(a.time_zone) or 0) if convert else 0), a)
             for a in actions]
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


def running_fraction(starts: Sequence[str | tuple[str, str | None]],
                     stops: Sequence[str | tuple[str, str | None]]) -> Decimal:
    """The fraction of a week (steady state, exact as Decimal) a resource runs when the ``cron(...)``
    expressions ``starts`` start it and ``stops`` stop it. It runs from creation until the first stop;
    a start and a stop in the same minute leave it stopped.

    Each expression is a string (UTC) or ``(expression, time zone)``: expressions in one zone run
    the same hours a week in any zone; in different zones they are converted to UTC as
    :func:`weekly_minimums` does (daylight-saving changes not modelled).
    Raises :class:`UnsupportedSchedule` when any expression is not weekly ``cron(...)``.
    """
    def action(item: str | tuple[str, str | None], running: int) -> ScheduledAction:
        expression, zone = (item, None) if isinstance(item, str) else item
        return ScheduledAction(expression, running, None, zone)

    actions = [action(s, 1) for s in starts] + [action(s, 0) for s in stops]
    return average_minimum(1, 1, actions)
