"""Application Auto Scaling for endpoint variants."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_applicationautoscaling as appscaling
from constructs import Construct, IDependable


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
