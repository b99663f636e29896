"""Scheduled scaling of instance-backed endpoints: ``scale_on_schedule`` and its validation.

A scheduled action sets a scalable target's ``MinCapacity``/``MaxCapacity`` at the times its
schedule names, and the new bounds stay until another action changes them (Application Auto
Scaling keeps no memory of the previous values: "Application Auto Scaling does not keep track
of previous values and revert back to them after the end time",
https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-using-cron-expressions.html).
So office hours take two actions: one that raises the minimum in the morning, one that lowers it
in the evening.

Schedules (PutScheduledAction ``Schedule``,
https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html):
``at(yyyy-mm-ddThh:mm:ss)``, ``rate(<positive integer> minute|minutes|hour|hours|day|days)``, or
``cron(<six fields>)``: minutes, hours, day-of-month, month, day-of-week, year (the EventBridge
cron syntax; one of day-of-month and day-of-week is ``?``; each field's values are range-checked by
:mod:`sagemaker_constructs.validation.schedules`). ``at`` and ``cron`` are in UTC unless
``time_zone`` names an IANA time zone.
"""

from __future__ import annotations

import re
from aws_cdk import TimeZone
from aws_cdk import aws_applicationautoscaling as appscaling
from constructs import Construct

from ...errors import ValidationError, check_int_range, check_pattern, is_unresolved
from ...validation.schedules import (
    AUTOSCALING_SCHEDULE_RULE,
    check_autoscaling_schedule,
    check_scheduled_bounds,
    check_time_zone,
)

#: ScheduledActionName: 1-256 characters, none of ``:``, ``/``, ``|`` or control characters, and
#: no space at either end (botocore application-autoscaling ``ScheduledActionName`` pattern
#: ``(?!((^[ ]+.*)|(.*([\u0000-\u001f]|[\u007f-\u009f]|[:/|])+.*)|(.*[ ]+$))).+``).
_ACTION_NAME = re.compile(r"(?! )[^:/|\x00-\x1f\x7f-\x9f]{1,256}(?<! )")
SCHEDULE_RULE = AUTOSCALING_SCHEDULE_RULE


def schedule_expression(schedule: "str | appscaling.Schedule") -> str:
    return schedule.expression_string if isinstance(schedule, appscaling.Schedule) else schedule


def check_schedule(scope: Construct, schedule: "str | appscaling.Schedule") -> str:
    """The expression of ``schedule``; raise ``ValidationError`` unless Application Auto Scaling
    accepts it: its form, and each ``cron(...)`` field's values
    (:func:`~sagemaker_constructs.validation.schedules.check_autoscaling_schedule`; Tokens pass)."""
    expression = schedule_expression(schedule)
    check_autoscaling_schedule(scope, "schedule", expression)
    return expression


def _time_zone(scope: Construct, time_zone: "str | TimeZone | None") -> TimeZone | None:
    """``time_zone`` as a ``TimeZone``; a name must be an IANA time zone
    (:func:`~sagemaker_constructs.validation.schedules.check_time_zone`: on a machine without a tz
    database only its form is checked)."""
    if time_zone is None or isinstance(time_zone, TimeZone):
        return time_zone
    check_time_zone(scope, "time_zone", time_zone)
    return TimeZone.of(time_zone)


def add_scheduled_action(
    owner: Construct,
    target: appscaling.ScalableTarget | None,
    id: str,
    *,
    schedule: "str | appscaling.Schedule",
    min_capacity: int | None,
    max_capacity: int | None,
    time_zone: "str | TimeZone | None",
    floor: int,
    ceiling: int | None,
    unit: str,
    floor_reason: str,
    no_target_reason: str,
) -> None:
    """Validate and add one scheduled action to ``target``.

    An action that sets only one bound must be one Application Auto Scaling can apply whichever
    of the target's actions ran before it: a maximum not below the target's ``MinCapacity`` or
    any minimum another action sets, a minimum not above any maximum another action sets
    (:func:`~sagemaker_constructs.validation.schedules.check_scheduled_bounds`,
    https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-policy-overview.html).

    :param floor: the lowest capacity this kind of endpoint can run at (0 only for kinds that
        scale to zero).
    :param ceiling: the autoscaling maximum; scheduled capacities may not exceed it.
    :param unit: what the capacity counts ("instances", "copies"), for messages.
    """
    if target is None:
        raise ValidationError(owner, "scale_on_schedule", id, no_target_reason)
    if id is None:
        raise ValidationError(owner, "id", id, "a scheduled action name")
    check_pattern(owner, "id", id, _ACTION_NAME.pattern, max_length=256, min_length=1,
                  description="a scheduled action name: 1-256 characters without ':', '/', '|' or control "
                              "characters, and no space at either end",
                  limit="botocore application-autoscaling ScheduledActionName")
    expression = check_schedule(owner, schedule)
    if min_capacity is None and max_capacity is None:
        raise ValidationError(owner, "min_capacity", None, "a scheduled action sets min_capacity, max_capacity or both")
    if ceiling is not None and is_unresolved(ceiling):
        # a CfnParameter maximum (max_instance_count, max_copies): its number encoding is no bound
        # to compare with; CloudFormation's own MinCapacity/MaxCapacity checks apply at deploy time
        ceiling = None
    for argument, value in (("min_capacity", min_capacity), ("max_capacity", max_capacity)):
        if value is None or is_unresolved(value):
            continue
        if value < floor:
            raise ValidationError(owner, argument, value, floor_reason if value == 0 else f"at least {floor} {unit}")
        check_int_range(owner, argument, value, minimum=floor, maximum=ceiling)
    if (min_capacity is not None and max_capacity is not None and not is_unresolved(min_capacity)
            and not is_unresolved(max_capacity) and min_capacity > max_capacity):
        raise ValidationError(owner, "min_capacity", min_capacity, f"at most max_capacity ({max_capacity})")
    taken: set[str] = vars(owner).setdefault("_scheduled_action_ids", set())
    if id in taken:
        raise ValidationError(owner, "id", id, "unique among this endpoint's scheduled actions")
    # The target's actions so far, (name, min_capacity, max_capacity): which bounds can be in
    # effect when this one fires (one owner, one scalable target).
    actions: list[tuple[str, int | None, int | None]] = vars(owner).setdefault("_scheduled_bounds", [])
    cfn_target = target.node.default_child
    check_scheduled_bounds(owner, id, min_capacity, max_capacity, others=actions, unit=unit,
                           target_min=cfn_target.min_capacity if isinstance(cfn_target, appscaling.CfnScalableTarget)
                           else None)
    zone = _time_zone(owner, time_zone)
    taken.add(id)
    actions.append((id, min_capacity, max_capacity))
    target.scale_on_schedule(
        id, schedule=appscaling.Schedule.expression(expression), min_capacity=min_capacity,
        max_capacity=max_capacity, time_zone=zone,
    )


__all__ = ["SCHEDULE_RULE", "add_scheduled_action", "check_schedule", "schedule_expression"]
