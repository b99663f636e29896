"""Starting a SageMaker pipeline on a schedule, through EventBridge Scheduler."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct, IConstruct

from .._internal.managed_role import service_role
from ..errors import ValidationError, check_pattern, is_unresolved

#: EventBridge Scheduler's SageMakerPipelineParameter: Name ``[A-Za-z0-9\-_]*`` (1-256), Value 1-1024
#: characters (botocore ``scheduler``); an EventBridge rule target's Name is ``^[a-zA-Z0-9](-*[a-zA-Z0-9])*$``
#: (1-256: no underscore, no leading or trailing ``-``), Value 0-1024 (botocore ``events``).
SCHEDULER_PARAMETER_NAME = r"[A-Za-z0-9\-_]{1,256}"
EVENTS_PARAMETER_NAME = r"[a-zA-Z0-9](-*[a-zA-Z0-9])*"


def check_pipeline_parameters(scope: Construct, argument: str, parameters: Mapping[str, str] | None, *,
                              declared: Sequence[Mapping[str, Any]] | None, name_pattern: str,
                              name_description: str, min_value_length: int, limit: str) -> None:
    """``parameters`` passed to a pipeline execution by a schedule or a rule: names the target
    accepts (``name_pattern``), declared by the pipeline (``declared``, its ``parameters``: an
    undeclared one would never reach a step), string values of ``min_value_length``-1024 characters."""
    names = [str(p.get("Name")) for p in declared] if declared is not None else None
    for name, value in (parameters or {}).items():
        check_pattern(scope, argument, name, name_pattern, max_length=256, description=name_description, limit=limit)
        if names is not None and not is_unresolved(name) and name not in names:
            raise ValidationError(scope, argument, name,
                                  f"a parameter the pipeline declares ({', '.join(names) or 'none'}): an "
                                  "undeclared one would never reach a step")
        if value is None or not isinstance(value, str):
            raise ValidationError(scope, f"{argument}[{name!r}]", value, "a string")
        check_pattern(scope, f"{argument}[{name!r}]", value, r"[\s\S]*", min_length=min_value_length,
                      max_length=1024, description=f"a string of {min_value_length} to 1024 characters",
                      limit=limit)


SCHEDULE_PATTERN = r"(rate\(\s*[1-9][0-9]*\s+(minute|minutes|hour|hours|day|days)\s*\)|cron\(\S+( \S+){5}\))"


def schedule_pipeline(scope: Construct, *, pipeline_name: str, pipeline_arn: str, pipeline: IConstruct,
                      encryption_key: kms.IKey, expression: str, parameters: Mapping[str, str] | None,
                      id: str) -> scheduler.CfnSchedule:
    """A schedule (child ``id`` of ``scope``) that starts the pipeline on ``expression``, with a
    role (child ``<id>Role``, policy ``<id>Policy``) that may only start this pipeline, the target
    input encrypted with ``encryption_key``, and retries for 24 hours."""
    check_pattern(scope, "schedule expression", expression, SCHEDULE_PATTERN,
                  description="rate(<n> minutes|hours|days) or cron(<6 fields>)")
    taken = [child for child in (id, f"{id}Role", f"{id}Policy") if scope.node.try_find_child(child) is not None]
    if taken:
        # A second schedule under the same id failed in jsii ("There is already a Construct with name ...").
        raise ValidationError(scope, "id", id, f"an id not used yet on {scope.node.path} ({taken[0]} exists): give "
                                               "each schedule its own, e.g. schedule(..., id=\"Nightly\")")
    from .pipeline import Pipeline

    check_pipeline_parameters(scope, "parameters", parameters,
                              declared=scope.parameters if isinstance(scope, Pipeline) else None,
                              name_pattern=SCHEDULER_PARAMETER_NAME, name_description="a pipeline parameter name",
                              min_value_length=1, limit="botocore scheduler SageMakerPipelineParameter")
    role, policy = service_role(
        scope, f"{id}Role", f"{id}Policy", service="scheduler.amazonaws.com",
        description=f"EventBridge Scheduler: start pipeline {pipeline_name}", statements=[
            iam.PolicyStatement(actions=["sagemaker:StartPipelineExecution"], resources=[pipeline_arn]),
            iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[encryption_key.key_arn]),
        ])
    schedule = scheduler.CfnSchedule(
        scope,
        id,
        description=f"Runs the SageMaker pipeline {pipeline_name}",
        schedule_expression=expression,
        flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
        kms_key_arn=encryption_key.key_arn,
        target=scheduler.CfnSchedule.TargetProperty(
            arn=pipeline_arn,
            role_arn=role.role_arn,
            retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                maximum_event_age_in_seconds=86400, maximum_retry_attempts=10
            ),
            sage_maker_pipeline_parameters=scheduler.CfnSchedule.SageMakerPipelineParametersProperty(
                pipeline_parameter_list=[
                    scheduler.CfnSchedule.SageMakerPipelineParameterProperty(name=k, value=v)
                    for k, v in (parameters or {}).items()
                ] or None
            ),
        ),
    )
    schedule.node.add_dependency(policy)
    schedule.node.add_dependency(pipeline)
    return schedule
