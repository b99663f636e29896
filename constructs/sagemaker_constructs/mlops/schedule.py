"""Starting a SageMaker pipeline on a schedule, through EventBridge Scheduler."""

from __future__ import annotations

from typing import Mapping

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct, IConstruct

from .._internal.managed_role import service_role
from ..errors import check_pattern

SCHEDULE_PATTERN = r"(rate\(\s*[1-9][0-9]*\s+(minute|minutes|hour|hours|day|days)\s*\)|cron\(\S+( \S+){5}\))"


def schedule_pipeline(scope: Construct, *, pipeline_name: str, pipeline_arn: str, pipeline: IConstruct,
                      encryption_key: kms.IKey, expression: str, parameters: Mapping[str, str] | None,
                      id: str) -> scheduler.CfnSchedule:
    """A schedule (child ``id`` of ``scope``) that starts the pipeline on ``expression``, with a
    role (child ``<id>Role``, policy ``<id>Policy``) that may only start this pipeline, the target
    input encrypted with ``encryption_key``, and retries for 24 hours."""
    check_pattern(scope, "schedule expression", expression, SCHEDULE_PATTERN,
                  description="rate(<n> minutes|hours|days) or cron(<6 fields>)")
    for name in (parameters or {}):
        check_pattern(scope, "schedule parameter name", name, r"[A-Za-z0-9\-_]{1,256}",
                      description="a pipeline parameter name")
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
