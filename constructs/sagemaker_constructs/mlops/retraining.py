"""The retraining trigger: a monitoring violation starts a pipeline, through EventBridge.

A monitor's alarm changing to ``ALARM`` is a "CloudWatch Alarm State Change" event on the default
event bus (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html);
a rule matching that alarm's ARN and state targets the SageMaker pipeline, which EventBridge starts
with the target's role (https://docs.aws.amazon.com/sagemaker/latest/dg/pipeline-eventbridge.html).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from constructs import Construct

from .._internal.managed_role import service_role
from ..errors import ValidationError
from .schedule import EVENTS_PARAMETER_NAME, check_pipeline_parameters

if TYPE_CHECKING:
    from .pipeline import Pipeline


def start_pipeline_on_alarm(scope: Construct, id: str, *, alarm: cloudwatch.IAlarm, pipeline: "Pipeline",
                            parameters: Mapping[str, str] | None = None,
                            description: str | None = None) -> events.CfnRule:
    """An EventBridge rule (child ``id`` of ``scope``) that starts ``pipeline`` each time ``alarm``
    goes into ``ALARM``, with a role (child ``<id>Role``, policy ``<id>Policy``) that may only
    start that pipeline; ``parameters`` are passed to the execution. Retries for 24 hours."""
    from .pipeline import Pipeline

    if not isinstance(pipeline, Pipeline):
        raise ValidationError(scope, "pipeline", type(pipeline).__name__, "a Pipeline (or TrainingPipeline)")
    check_pipeline_parameters(
        scope, "parameters", parameters, declared=pipeline.parameters, name_pattern=EVENTS_PARAMETER_NAME,
        name_description="a pipeline parameter name an EventBridge rule target accepts: letters, digits and inner "
                         "'-' (no '_')",
        min_value_length=0, limit="botocore events SageMakerPipelineParameter")
    role, policy = service_role(
        scope, f"{id}Role", f"{id}Policy", service="events.amazonaws.com",
        description=f"EventBridge: start pipeline {pipeline.pipeline_name} when a monitor alarms", statements=[
            iam.PolicyStatement(actions=["sagemaker:StartPipelineExecution"], resources=[pipeline.pipeline_arn]),
        ])
    target: dict = {"arn": pipeline.pipeline_arn, "id": "Pipeline", "role_arn": role.role_arn,
                    "retry_policy": events.CfnRule.RetryPolicyProperty(maximum_event_age_in_seconds=86400,
                                                                      maximum_retry_attempts=10)}
    if parameters:
        target["sage_maker_pipeline_parameters"] = events.CfnRule.SageMakerPipelineParametersProperty(
            pipeline_parameter_list=[events.CfnRule.SageMakerPipelineParameterProperty(name=k, value=v)
                                     for k, v in parameters.items()])
    rule = events.CfnRule(
        scope, id,
        description=description or f"Start pipeline {pipeline.pipeline_name} when the monitor alarms",
        state="ENABLED",
        event_pattern={
            "source": ["aws.cloudwatch"],
            "detail-type": ["CloudWatch Alarm State Change"],
            "resources": [alarm.alarm_arn],
            "detail": {"state": {"value": ["ALARM"]}},
        },
        targets=[events.CfnRule.TargetProperty(**target)],
    )
    rule.node.add_dependency(policy)
    rule.node.add_dependency(pipeline.cfn_pipeline)
    return rule
