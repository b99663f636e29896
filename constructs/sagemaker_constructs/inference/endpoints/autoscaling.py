"""Application Auto Scaling for endpoint variants."""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from constructs import Construct, IDependable

#: The service-linked role Application Auto Scaling creates (on the first RegisterScalableTarget)
#: and uses for SageMaker endpoints, variants and inference components
#: (https://docs.aws.amazon.com/autoscaling/application/userguide/services-that-can-integrate-sagemaker.html,
#: https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-service-linked-roles.html).
#: Given as the scalable target's role, CDK creates no role of its own: without it every target
#: got an IAM role with no permissions, which the service never assumes.
SAGEMAKER_AUTOSCALING_ROLE_ARN = (
    f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/aws-service-role/"
    "sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)


_SHARED_ROLE = "_sagemaker_constructs_autoscaling_role"


def _service_linked_role(scope: Construct, id: str) -> iam.IRole:
    """The service-linked role as an imported role (no resource), one per stack (child
    ``sagemaker-constructs.AutoScalingServiceLinkedRole`` of the stack, an id no app picks): every scalable target of the stack
    names the same ARN, and one import saves a Python-to-Node call per endpoint."""
    from ..._internal.stacks import stack_of

    stack = stack_of(scope)
    role = vars(stack).get(_SHARED_ROLE)
    if role is None:
        role = vars(stack)[_SHARED_ROLE] = iam.Role.from_role_arn(
            stack, "sagemaker-constructs.AutoScalingServiceLinkedRole", SAGEMAKER_AUTOSCALING_ROLE_ARN, mutable=False)
    return role


def scale_variant(
    scope: Construct,
    *,
    endpoint_name: str,
    variant_name: str,
    dimension: str,
    min_capacity: int,
    max_capacity: int,
    metric: appscaling.PredefinedMetric,
    target_value: float,
    depends_on: IDependable,
    scale_in_cooldown: Duration = Duration.minutes(5),
    scale_out_cooldown: Duration = Duration.minutes(1),
) -> appscaling.ScalableTarget:
    """A scalable target (child ``ScalableTarget``) with one target-tracking policy (child
    ``TargetTracking`` of it) on ``metric``. Scale-out reacts within a minute; scale-in waits
    5 minutes so a burst does not flap capacity."""
    target = appscaling.ScalableTarget(
        scope,
        "ScalableTarget",
        service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
        resource_id=f"endpoint/{endpoint_name}/variant/{variant_name}",
        scalable_dimension=dimension,
        min_capacity=min_capacity,
        max_capacity=max_capacity,
        role=_service_linked_role(scope, "ScalableTarget"),
    )
    target.node.add_dependency(depends_on)
    target.scale_to_track_metric(
        "TargetTracking",
        target_value=target_value,
        predefined_metric=metric,
        scale_in_cooldown=scale_in_cooldown,
        scale_out_cooldown=scale_out_cooldown,
    )
    return target


def register_target(
    scope: Construct,
    id: str,
    *,
    resource_id: str,
    dimension: str,
    min_capacity: int,
    max_capacity: int,
    depends_on: IDependable,
) -> appscaling.ScalableTarget:
    """A SageMaker scalable target (child ``id`` of ``scope``) that waits for ``depends_on``."""
    target = appscaling.ScalableTarget(
        scope, id, service_namespace=appscaling.ServiceNamespace.SAGEMAKER, resource_id=resource_id,
        scalable_dimension=dimension, min_capacity=min_capacity, max_capacity=max_capacity,
        role=_service_linked_role(scope, id),
    )
    target.node.add_dependency(depends_on)
    return target


def wake_from_zero(
    scope: Construct,
    id: str,
    *,
    target: appscaling.ScalableTarget,
    metric: cloudwatch.Metric,
    aggregation: appscaling.MetricAggregationType,
    cooldown: Duration,
    evaluation_periods: int,
    description: str,
) -> tuple[appscaling.StepScalingAction, cloudwatch.Alarm]:
    """The step-scaling policy that adds one unit of capacity when ``metric`` reaches 1 (child
    ``id``), and the alarm that runs it (child ``<id>Alarm``): how a target at zero capacity
    scales out again, as SageMaker documents it for inference components
    (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html)
    and asynchronous endpoints (https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-autoscale.html)."""
    from aws_cdk import aws_cloudwatch_actions as cw_actions

    action = appscaling.StepScalingAction(
        scope, id, scaling_target=target, adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
        cooldown=cooldown, metric_aggregation_type=aggregation,
    )
    action.add_adjustment(adjustment=1, lower_bound=0)
    alarm = cloudwatch.Alarm(
        scope, f"{id}Alarm", alarm_description=description, metric=metric, threshold=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=evaluation_periods, treat_missing_data=cloudwatch.TreatMissingData.MISSING,
    )
    alarm.add_alarm_action(cw_actions.ApplicationScalingAction(action))
    return action, alarm
