"""A/B and shadow variants of a real-time endpoint.

* Production variants (``RealtimeEndpoint.add_variant``) share the endpoint's traffic by weight:
  "The traffic to a production variant is determined by the ratio of the ``VariantWeight`` to the
  sum of all ``VariantWeight`` values across all ProductionVariants" (botocore sagemaker
  ``ProductionVariant.InitialVariantWeight``, minimum 0). An endpoint config holds at most 10
  production variants (botocore ``CreateEndpointConfig.ProductionVariants``: 1-10 members).
* A shadow variant (``RealtimeEndpoint(shadow=ShadowVariant(...))`` or ``add_shadow_variant``)
  receives a copy of a sample of the production requests and returns nothing to callers
  (https://docs.aws.amazon.com/sagemaker/latest/dg/shadow-tests.html). "SageMaker AI supports a
  maximum of one shadow variant per endpoint. For an endpoint with a shadow variant, there can be a
  maximum of one production variant" (https://docs.aws.amazon.com/sagemaker/latest/dg/shadow-tests-create.html;
  botocore ``CreateEndpointConfig.ShadowProductionVariants``: "you can only specify one variant for
  ProductionVariants and one variant for ShadowProductionVariants"). ``sampling_percentage`` is
  rendered as the shadow's ``InitialVariantWeight`` relative to the production variant's weight
  (``sampling_percentage / 100`` times it), the ratio that definition of ``InitialVariantWeight``
  gives; long-running shadow variants in an endpoint config are SageMaker's "Model Shadow
  Deployments" (https://docs.aws.amazon.com/sagemaker/latest/dg/model-shadow-deployment.html). No
  AWS page states the shadow weight-to-sampling mapping in one sentence: verify the sample in the
  ``Invocations`` metric of the shadow variant after deploying.

Every variant of one endpoint config shares its ``DataCaptureConfig`` and volume ``KmsKeyId``
(both are properties of the endpoint config, not of a variant), so the endpoint's capture
settings and key apply to every variant: each variant's model role gets the same capture grants.
"""

from __future__ import annotations

from dataclasses import dataclass

from typing import TYPE_CHECKING

from aws_cdk import TimeZone
from aws_cdk import aws_applicationautoscaling as appscaling
from constructs import Construct

from ...errors import ValidationError, check_int_range, is_unresolved
from ...validation.checks import check_range
from .base import _EndpointMixin, check_finite

if TYPE_CHECKING:
    from ...interfaces import IModel
    from .realtime import RealtimeEndpoint

#: botocore sagemaker CreateEndpointConfig.ProductionVariants: at most 10 members.
MAX_PRODUCTION_VARIANTS = 10
#: shadow-tests-create.html: at most one shadow variant, and then one production variant.
MAX_SHADOW_VARIANTS = 1
#: The shadow variant's default name.
SHADOW_VARIANT_NAME = "Shadow"
SHADOW_DOC = "https://docs.aws.amazon.com/sagemaker/latest/dg/shadow-tests-create.html"


@dataclass(frozen=True)
class ShadowVariant:
    """A shadow variant for ``RealtimeEndpoint(shadow=...)``: ``model`` on ``instance_count``
    ``instance_type`` instances receives ``sampling_percentage`` (0-100) percent of the production
    variant's requests, replicated; its responses are not returned (data capture, when the endpoint
    has it, records them).

    :param variant_name: Default: ``Shadow``.
    """

    model: "IModel"
    instance_type: str
    sampling_percentage: int = 100
    instance_count: int = 1
    variant_name: str = SHADOW_VARIANT_NAME


class Variant(_EndpointMixin, Construct):
    """One variant of a :class:`RealtimeEndpoint` (created by ``add_variant`` or for a shadow):
    ``metric_*`` are this variant's (dimension ``VariantName``), ``grant_invoke`` is the
    endpoint's. A production variant autoscales on its own (:meth:`scale_instances`, child
    ``ScalableTarget`` on ``endpoint/<name>/variant/<variant>``) and keeps its own schedules
    (:meth:`scale_on_schedule`)."""

    #: A shadow variant's sampling percentage (set by ``add_shadow_variant``; absent on a production variant).
    sampling_percentage: int

    def __init__(self, endpoint: "RealtimeEndpoint", id: str, *, model: "IModel", instance_type: str,
                 instance_count: int, weight: float, variant_name: str, shadow: bool) -> None:
        super().__init__(endpoint, id)
        self.endpoint = endpoint
        self.model: "IModel" = model
        self.instance_type: str = instance_type
        self.instance_count: int = instance_count
        self.weight: float = weight
        self.shadow: bool = shadow
        self.endpoint_name: str = endpoint.endpoint_name
        self.endpoint_arn: str = endpoint.endpoint_arn
        self.variant_name: str = variant_name
        self.min_instance_count: int = instance_count
        self.max_instance_count: int | None = None
        self.scalable_target: appscaling.ScalableTarget | None = None

    def scale_instances(self, *, max_instance_count: int, target_invocations_per_instance: float = 100) -> appscaling.ScalableTarget:
        """Autoscale this variant between its ``instance_count`` and ``max_instance_count``,
        tracking ``SageMakerVariantInvocationsPerInstance`` at ``target_invocations_per_instance``
        (per minute; default 100), like the endpoint's own ``max_instance_count``. Stack updates
        then keep the scaled capacity (``RetainAllVariantProperties``)."""
        from ...validation.catalog import check_autoscalable
        from .autoscaling import scale_variant

        if self.shadow:
            raise ValidationError(self, "scale_instances", self.variant_name,
                                  "a production variant: this library does not autoscale shadow variants "
                                  "(their capacity is instance_count)")
        if self.scalable_target is not None:
            raise ValidationError(self, "scale_instances", self.variant_name, "once per variant")
        check_int_range(self, "max_instance_count", max_instance_count, minimum=self.instance_count)
        check_finite(self, "target_invocations_per_instance", target_invocations_per_instance)
        check_range(self, "target_invocations_per_instance", target_invocations_per_instance, minimum=1)
        check_autoscalable(self, "instance_type", self.instance_type)
        self.max_instance_count = max_instance_count
        self.scalable_target = scale_variant(
            self, endpoint_name=self.endpoint_name, variant_name=self.variant_name,
            dimension="sagemaker:variant:DesiredInstanceCount", min_capacity=self.instance_count,
            max_capacity=max_instance_count,
            metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
            target_value=float(target_invocations_per_instance), depends_on=self.endpoint.cfn_endpoint,
        )
        self.endpoint._retain_scaled_capacity()
        return self.scalable_target

    def scale_on_schedule(self, id: str, *, schedule: "str | appscaling.Schedule", min_capacity: int | None = None,
                          max_capacity: int | None = None, time_zone: "str | TimeZone | None" = None) -> None:
        """Change this variant's autoscaling bounds at the times ``schedule`` names (as
        ``RealtimeEndpoint.scale_on_schedule``; needs :meth:`scale_instances` first)."""
        from .schedules import add_scheduled_action

        add_scheduled_action(
            self, self.scalable_target, id, schedule=schedule, min_capacity=min_capacity, max_capacity=max_capacity,
            time_zone=time_zone, floor=1, ceiling=self.max_instance_count, unit="instances",
            floor_reason="real-time endpoint variants cannot scale to zero instances; at least 1",
            no_target_reason="schedules change the autoscaling bounds: call scale_instances(max_instance_count=...) first",
        )


def check_weight(scope: Construct, argument: str, weight: float) -> None:
    """Raise unless ``weight`` is a non-negative number (``InitialVariantWeight`` minimum 0)."""
    if is_unresolved(weight):
        return
    check_finite(scope, argument, weight)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
        raise ValidationError(scope, argument, weight,
                              "a non-negative number (botocore ProductionVariant.InitialVariantWeight minimum 0)")


def check_sampling(scope: Construct, sampling_percentage: int) -> None:
    check_int_range(scope, "shadow.sampling_percentage", sampling_percentage, minimum=0, maximum=100)


def _all_zero_weights(endpoint: "RealtimeEndpoint") -> list[str]:
    """Fail synth when every production variant of an endpoint has weight 0 (no traffic anywhere)."""
    weights = [endpoint.variant_weight, *(v.weight for v in endpoint.variants)]
    if any(is_unresolved(w) for w in weights) or any(w > 0 for w in weights):
        return []
    return [f"{endpoint.node.path}: variant weights are all zero ({', '.join(str(w) for w in weights)}): "
            "at least one production variant needs a positive weight to receive traffic"]


__all__ = ["MAX_PRODUCTION_VARIANTS", "MAX_SHADOW_VARIANTS", "SHADOW_VARIANT_NAME", "ShadowVariant", "Variant"]
