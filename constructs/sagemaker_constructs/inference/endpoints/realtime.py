"""Real-time (instance-backed) endpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

from aws_cdk import Duration, Resource, TimeZone
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ..._internal.stacks import attribute
from ...compliance import acknowledge, across_packs
from ...errors import ValidationError, check_int_range, is_unresolved
from ..models import ImportedModel, check_model_instance_type
from ...validation.combinations import (check_guardrail_instance_type, check_rollback_thresholds,
                                        check_shadow_testable)
from ...validation.checks import check_count, check_range
from ...validation.naming import check_name, default_name
from ...validation.catalog import check_autoscalable
from ...validation.instances import NVME_FAMILIES, has_instance_storage
from .base import VARIANT_NAME, EndpointBase, _EndpointMixin, check_finite, check_instance_type, endpoint_arn_for
from .data_capture import DataCapture
from .deployment import DeploymentGuardrail
from .variants import (MAX_PRODUCTION_VARIANTS, SHADOW_DOC, ShadowVariant, Variant, _all_zero_weights, check_sampling,
                       check_weight)
from ...compliance import check_at_synth
from ...security.roles import platform_tags

if TYPE_CHECKING:
    from ...interfaces import IInstanceEndpoint, IModel


#: Variant properties a stack update takes from the new endpoint config although the endpoint
#: retains its variants' properties (``RetainAllVariantProperties``, kept for the autoscaled
#: instance counts): UpdateEndpoint otherwise retains every variant property, weights included
#: (botocore sagemaker ``UpdateEndpointInput.ExcludeRetainedVariantProperties``).
_NOT_RETAINED = ("DesiredWeight", "DataCaptureConfig")


def _production_variant(name: str, model: "IModel", count: int, instance_type: str,
                        weight: float) -> dict[str, Any]:
    """One instance-backed ``CfnEndpointConfig.ProductionVariantProperty``, as the mapping jsii
    sends (see :mod:`~sagemaker_constructs._internal.l1`)."""
    return {"variantName": name, "modelName": model.model_name, "initialInstanceCount": count,
            "instanceType": instance_type, "initialVariantWeight": weight}


class _InstanceEndpoint(EndpointBase):
    """Shared by real-time and multi-model endpoints: one production variant on instances."""

    _tags_later_resources = False  # its config and endpoint carry the platform tag

    def _build(
        self,
        *,
        model: "IModel",
        instance_type: str,
        instance_count: int,
        max_instance_count: int | None,
        target_invocations_per_instance: float | None,
        encryption_key: kms.IKey | None,
        data_capture: DataCapture | None,
        deployment: DeploymentGuardrail | None,
        endpoint_name: str | None,
        endpoint_config_name: str | None,
        rollback_5xx_threshold: int,
        rollback_latency: Duration,
    ) -> None:
        check_instance_type(self, instance_type)
        check_int_range(self, "instance_count", instance_count, minimum=1)
        check_name(self, "endpoint_name", endpoint_name)
        check_name(self, "endpoint_config_name", endpoint_config_name)
        if max_instance_count is not None:
            check_int_range(self, "max_instance_count", max_instance_count, minimum=instance_count)
            check_autoscalable(self, "instance_type", instance_type, hint=", or drop max_instance_count")
        if target_invocations_per_instance is not None:
            if max_instance_count is None:
                raise ValidationError(self, "target_invocations_per_instance", target_invocations_per_instance,
                                      "only with max_instance_count (autoscaling)")
            # a target value (TargetTrackingScalingPolicyConfiguration.TargetValue is a double), not a count
            check_finite(self, "target_invocations_per_instance", target_invocations_per_instance)
            check_range(self, "target_invocations_per_instance", target_invocations_per_instance, minimum=1)
        if deployment is not None:
            deployment.validate(self, instance_count)
            check_guardrail_instance_type(self, "instance_type", instance_type, deployment.mode)
            if deployment.alarms is None:  # the endpoint's own rollback alarms
                check_rollback_thresholds(self, rollback_5xx_threshold, None if rollback_latency.is_unresolved()
                                          else rollback_latency.to_milliseconds())
        if data_capture is not None:
            data_capture.validate(self)
        check_model_instance_type(self, instance_type, model)

        self.model = model
        self.instance_type = instance_type
        #: The autoscaling bounds (None without autoscaling): what ``scale_on_schedule`` may set.
        self.min_instance_count = instance_count
        self.max_instance_count = max_instance_count
        self.endpoint_name: str = endpoint_name or default_name(self)  # stable: callers invoke by name, alarms watch by name
        self.encryption_key = encryption_key
        volume_key = None if has_instance_storage(instance_type) else encryption_key
        #: The ML storage volume key actually used (None on NVMe instance types).
        self.volume_key: kms.IKey | None = volume_key
        #: The data capture settings (None without capture).
        self.data_capture: DataCapture | None = data_capture
        capture = data_capture.bind(self, model.role, encryption_key,
                                    role_is_prepared=getattr(model, "role_is_prepared", False),
                                    ) if data_capture is not None else None
        self.cfn_endpoint_config: sagemaker.CfnEndpointConfig = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            endpoint_config_name=endpoint_config_name,
            kms_key_id=attribute(volume_key, "key_arn") if volume_key is not None else None,  # read once per key
            data_capture_config=capture,
            production_variants=[_production_variant(self.variant_name, model, instance_count, instance_type, 1.0)],
            tags=platform_tags(),
        )
        if not is_unresolved(model.model_name):  # a literal name carries no implicit dependency
            self.cfn_endpoint_config.node.add_dependency(model)
        if encryption_key is not None and volume_key is None:
            acknowledge(
                self.cfn_endpoint_config,
                reason=(
                    f"{instance_type} has local NVMe instance storage, which SageMaker encrypts with a "
                    "hardware module and for which it rejects a volume KmsKeyId."
                ),
                nag=across_packs("SageMakerEndpointConfigurationKMSKeyConfigured"),
            )

        self.rollback_alarms: list[cloudwatch.IAlarm] = []
        deployment_config = None
        if deployment is not None:
            alarms = list(deployment.alarms) if deployment.alarms is not None else self._default_alarms(
                rollback_5xx_threshold, rollback_latency
            )
            self.rollback_alarms = alarms
            deployment_config = deployment.render(alarms)
        #: UpdateEndpoint's DeploymentConfig for deployments made outside CloudFormation (None: default).
        self.deployment_api_config: Mapping[str, Any] | None = deployment.api(self.rollback_alarms) if deployment else None

        self._create_endpoint(
            deployment_config=deployment_config,
            # Only the scaled instance count is kept across updates: the variants' weights (A/B
            # splits) and data capture follow the new config. UpdateEndpoint otherwise retains
            # every variant property (botocore sagemaker UpdateEndpointInput.ExcludeRetainedVariantProperties).
            exclude_retained=_NOT_RETAINED,
            autoscaling=None if max_instance_count is None else {
                "dimension": "sagemaker:variant:DesiredInstanceCount",
                "min_capacity": instance_count,
                "max_capacity": max_instance_count,
                "metric": appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
                "target_value": float(target_invocations_per_instance or 100),
            },
        )

    def scale_on_schedule(self, id: str, *, schedule: "str | appscaling.Schedule", min_capacity: int | None = None,
                          max_capacity: int | None = None, time_zone: "str | TimeZone | None" = None) -> None:
        """Change the autoscaling bounds (instance counts) at the times ``schedule`` names, e.g.
        ``scale_on_schedule("Nights", schedule="cron(0 19 ? * MON-FRI *)", min_capacity=1)`` and
        ``scale_on_schedule("Mornings", schedule="cron(0 7 ? * MON-FRI *)", min_capacity=2)``.

        The bounds stay until another action changes them (a scheduled action is a change, not
        a window). Scheduled capacities lie between 1 (instance-backed real-time endpoints cannot
        scale to zero; only asynchronous and inference-component endpoints can) and
        ``max_instance_count``; the endpoint needs autoscaling (``max_instance_count``).

        :param id: the scheduled action's name, unique on this endpoint.
        :param schedule: ``at(...)``, ``rate(...)`` or ``cron(<6 fields>)`` (or an
            ``appscaling.Schedule``).
        :param min_capacity: the new minimum. Default: unchanged.
        :param max_capacity: the new maximum. Default: unchanged.
        :param time_zone: an IANA time zone for ``at``/``cron``. Default: UTC.
        """
        from .schedules import add_scheduled_action

        add_scheduled_action(
            self, self.scalable_target, id, schedule=schedule, min_capacity=min_capacity, max_capacity=max_capacity,
            time_zone=time_zone, floor=1, ceiling=self.max_instance_count, unit="instances",
            floor_reason=("real-time and multi-model endpoints cannot scale to zero instances (only asynchronous "
                          "and inference-component endpoints can: AsyncEndpoint, InferenceComponentEndpoint); "
                          "at least 1"),
            no_target_reason="schedules change the autoscaling bounds: give the endpoint max_instance_count",
        )

    @classmethod
    def from_endpoint_attributes(
        cls,
        scope: Construct,
        id: str,
        *,
        endpoint_name: str,
        variant_name: str = VARIANT_NAME,
        model: "IModel | None" = None,
        role: iam.IRole | None = None,
        network_isolation: bool = True,
        subnets: Sequence[ec2.ISubnet] | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        encryption_key: kms.IKey | None = None,
        instance_type: str | None = None,
        data_capture: DataCapture | None = None,
        deployment: DeploymentGuardrail | None = None,
        rollback_alarms: Sequence[cloudwatch.IAlarm] = (),
    ) -> "IInstanceEndpoint":
        """An instance-backed endpoint this stack does not own, described well enough for
        ``DeployOnApproval`` and ``ModelMonitor`` (and ``grant_invoke``/``metric_*``).

        :param endpoint_name: the endpoint's name.
        :param variant_name: its production variant. Default: ``AllTraffic``.
        :param model: the model it serves (``Model.from_model_attributes``). Default: built from
            ``role``, ``network_isolation``, ``subnets`` and ``security_groups`` when ``role`` is
            given; otherwise unknown (``DeployOnApproval`` then raises: it needs the role new
            versions run as).
        :param role: the execution role new model versions run as. Default: unknown.
        :param network_isolation: of new model versions. Default: true.
        :param subnets: VPC subnets of new model versions (with ``security_groups``). Default: no VPC.
        :param encryption_key: the endpoint's key (volume and data capture); also the default key of
            a ``DeployOnApproval``/``EndpointInvoker`` next to it. Default: none.
        :param instance_type: decides whether the volume key applies (instance types with NVMe
            storage take none). Default: unknown (the key is used for the volume).
        :param data_capture: the endpoint's capture settings (needed by ``ModelMonitor``; kept by
            ``DeployOnApproval``). Default: none.
        :param deployment: the guardrail ``DeployOnApproval`` deploys with, watching
            ``rollback_alarms``. Default: SageMaker's default (blue/green, all at once), rolled back
            on ``rollback_alarms`` when there are any.
        :param rollback_alarms: at most 10 alarms that roll a deployment back. Default: none.
        """
        return ImportedInstanceEndpoint(
            scope, id, endpoint_name=endpoint_name, variant_name=variant_name, model=model, role=role,
            network_isolation=network_isolation, subnets=subnets, security_groups=security_groups,
            encryption_key=encryption_key, instance_type=instance_type, data_capture=data_capture,
            deployment=deployment, rollback_alarms=rollback_alarms,
        )

    def _default_alarms(self, threshold_5xx: int, latency: Duration) -> list[cloudwatch.IAlarm]:
        """The endpoint's own rollback alarms: 5xx errors, and model latency."""
        errors = cloudwatch.Alarm(
            self,
            "Invocation5xxAlarm",
            alarm_description=f"{self.endpoint_name}: model 5xx errors (rolls back a deployment)",
            metric=self.metric_invocation_5xx_errors(period=Duration.minutes(1)),
            threshold=threshold_5xx,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        p99: cloudwatch.IMetric = self.metric_model_latency(statistic="p99", period=Duration.minutes(1))
        if latency.is_unresolved():
            # A CfnParameter latency: Python cannot multiply its number encoding by 1000 (that gave a
            # threshold of -1.9e292, an alarm in ALARM at every data point, so every deployment rolled
            # back). CloudWatch converts the metric instead: ModelLatency (microseconds) divided down
            # to the unit the Duration was given in, compared with the parameter itself.
            amount, unit, divisor = _token_latency(self, latency)
            p99 = cloudwatch.MathExpression(expression=f"latency / {divisor}", using_metrics={"latency": p99},
                                            period=Duration.minutes(1), label=f"p99 ModelLatency ({unit})")
            threshold: float = amount
        else:
            amount, unit, threshold = latency.to_milliseconds(), "ms", latency.to_milliseconds() * 1000
        slow = cloudwatch.Alarm(
            self,
            "ModelLatencyAlarm",
            alarm_description=f"{self.endpoint_name}: p99 model latency above {amount} {unit}",
            metric=p99,
            threshold=threshold,  # microseconds (ModelLatency), or the unit of a parameter latency
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        for alarm in (errors, slow):
            acknowledge(
                alarm,
                reason=(
                    "This alarm's action is SageMaker's automatic rollback (the endpoint's "
                    "AutoRollbackConfiguration watches it); add_alarm_action adds paging if wanted."
                ),
                nag=across_packs("CloudWatchAlarmAction", ("HIPAA.Security", "NIST.800.53.R5")),
                control_tower=["cloudwatch_alarm_action_check"],
            )
        return [errors, slow]


class ImportedInstanceEndpoint(_EndpointMixin, Resource):
    """An instance-backed endpoint described by attributes (``from_endpoint_attributes``); an
    ``IInstanceEndpoint``. Its model (when known) is child ``Model``."""

    def __init__(self, scope: Construct, id: str, *, endpoint_name: str, variant_name: str = VARIANT_NAME,
                 model: "IModel | None" = None, role: iam.IRole | None = None, network_isolation: bool = True,
                 subnets: Sequence[ec2.ISubnet] | None = None,
                 security_groups: Sequence[ec2.ISecurityGroup] | None = None,
                 encryption_key: kms.IKey | None = None, instance_type: str | None = None,
                 data_capture: DataCapture | None = None, deployment: DeploymentGuardrail | None = None,
                 rollback_alarms: Sequence[cloudwatch.IAlarm] = ()) -> None:
        super().__init__(scope, id)
        check_name(self, "endpoint_name", endpoint_name)
        if not endpoint_name:
            raise ValidationError(self, "endpoint_name", endpoint_name, "the endpoint's name")
        if instance_type is not None:
            check_instance_type(self, instance_type)
        if model is not None and role is not None:
            raise ValidationError(self, "role", _path(role), "either model= or role= (the model's role), not both")
        if deployment is not None:
            deployment.validate(self, 2)
        if data_capture is not None:
            data_capture.validate(self)
        self.endpoint_name: str = endpoint_name
        self.variant_name: str = variant_name
        self.endpoint_arn: str = endpoint_arn_for(self, endpoint_name)
        if model is None and role is not None:
            model = ImportedModel(self, "Model", model_name="", role=role, network_isolation=network_isolation,
                                  subnets=subnets, security_groups=security_groups)
        self.model: "IModel | None" = model
        self.instance_type: str | None = instance_type
        self.encryption_key: kms.IKey | None = encryption_key
        storage = instance_type is not None and not is_unresolved(instance_type) and has_instance_storage(instance_type)
        self.volume_key: kms.IKey | None = None if storage else encryption_key
        self.data_capture: DataCapture | None = data_capture
        self.rollback_alarms: Sequence[cloudwatch.IAlarm] = list(rollback_alarms)
        check_count(self, "rollback_alarms", self.rollback_alarms, maximum=10, what="alarms",
                    limit="botocore sagemaker AlarmList")
        # Alarms without a guardrail: SageMaker's default update (blue/green, all at once) rolled back
        # on them; with no update policy "SageMaker uses a blue/green deployment strategy with all at
        # once traffic shifting" (botocore sagemaker DeploymentConfig.BlueGreenUpdatePolicy).
        self.deployment_api_config: Mapping[str, Any] | None = (
            deployment.api(self.rollback_alarms) if deployment is not None
            else {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": a.alarm_name} for a in self.rollback_alarms]}}
            if self.rollback_alarms else None)


#: Duration units a Token ``rollback_latency`` may be given in: (converter, unit, microseconds per unit).
_LATENCY_UNITS = (("to_milliseconds", "ms", 1000), ("to_seconds", "s", 1_000_000), ("to_minutes", "min", 60_000_000))


def _token_latency(scope: Construct, latency: Duration) -> tuple[float, str, int]:
    """(amount, unit, microseconds per unit) of a Duration whose amount is a Token."""
    for converter, unit, divisor in _LATENCY_UNITS:
        try:
            return getattr(latency, converter)(), unit, divisor
        except Exception:  # jsii: a Token Duration converts only to its own unit
            continue
    raise ValidationError(scope, "rollback_latency", latency.to_human_string(),
                          "Duration.millis(), Duration.seconds() or Duration.minutes() of a parameter")


def _path(value: Any) -> str:
    node = getattr(value, "node", None)
    return node.path if node is not None else repr(value)


class RealtimeEndpoint(_InstanceEndpoint):
    """A real-time endpoint on instances (``AWS::SageMaker::Endpoint``, child ``Resource``;
    its config is child ``Config``).

    Default settings:

    * ``instance_count`` 2: SageMaker spreads instances across AZs, so one AZ can fail;
    * the volume encrypted with ``encryption_key`` (omitted, with a recorded reason, on instance
      types with local NVMe storage, which SageMaker rejects a volume key for);
    * autoscaling when ``max_instance_count`` is given: a scalable target from
      ``instance_count`` to ``max_instance_count`` (child ``ScalableTarget``) tracking
      ``SageMakerVariantInvocationsPerInstance`` at ``target_invocations_per_instance`` (100);
      stack updates keep the scaled-out count (``RetainAllVariantProperties``);
    * ``data_capture=DataCapture(bucket, ...)`` writes KMS-encrypted captures;
    * ``deployment=DeploymentGuardrail.canary()/linear()/all_at_once()`` shifts traffic
      blue/green and rolls back on alarms: by default the endpoint's own (children
      ``Invocation5xxAlarm``: any 5xx in a minute; ``ModelLatencyAlarm``: p99 above
      ``rollback_latency`` (1 s) in 2 of 3 minutes);
    * ``endpoint_name``: a stable name derived from the construct path (callers invoke by name).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model: "IModel",
        instance_type: str,
        instance_count: int = 2,
        max_instance_count: int | None = None,
        target_invocations_per_instance: float | None = None,
        encryption_key: kms.IKey | None = None,
        data_capture: DataCapture | None = None,
        deployment: DeploymentGuardrail | None = None,
        endpoint_name: str | None = None,
        endpoint_config_name: str | None = None,
        rollback_5xx_threshold: int = 1,
        rollback_latency: Duration = Duration.seconds(1),
        variant_weight: float = 1.0,
        shadow: ShadowVariant | None = None,
    ) -> None:
        """
        :param model: the ``Model`` to serve (or any ``IModel``, e.g. ``Model.from_model_attributes``).
        :param instance_type: ``ml.<family>.<size>``, e.g. ``ml.c7g.large`` (Graviton: cheaper per request).
        :param instance_count: instances, and the autoscaling minimum. Default: 2.
        :param max_instance_count: enables autoscaling up to this many. Default: no autoscaling.
        :param target_invocations_per_instance: autoscaling target (per minute). Default: 100.
        :param encryption_key: the ML storage volume key. Default: the AWS-managed EBS key.
        :param data_capture: Default: no capture.
        :param deployment: Default: SageMaker's default (blue/green, all at once, no rollback alarms).
        :param endpoint_name: Default: a stable name derived from the construct path.
        :param endpoint_config_name: Default: generated by CloudFormation (configs are replaced on change).
        :param variant_weight: the ``InitialVariantWeight`` of the endpoint's own variant
            (``variant_name``), relative to the variants :meth:`add_variant` adds. Default: 1.
        :param shadow: a shadow variant (:class:`ShadowVariant`) receiving a copy of a sample of
            this variant's requests; the endpoint then has no other production variant
            (:meth:`add_shadow_variant`). Default: none.
        """
        super().__init__(scope, id)
        if model is None:
            raise ValidationError(self, "model", None, "a Model is required")
        check_weight(self, "variant_weight", variant_weight)
        #: The ``InitialVariantWeight`` of the endpoint's own (primary) variant.
        self.variant_weight: float = variant_weight
        #: Production variants added by :meth:`add_variant` (the primary one is the endpoint itself).
        self.variants: list[Variant] = []
        #: The shadow variant, or None.
        self.shadow_variant: Variant | None = None
        self._deployment = deployment
        self._build(
            model=model, instance_type=instance_type, instance_count=instance_count,
            max_instance_count=max_instance_count, target_invocations_per_instance=target_invocations_per_instance,
            encryption_key=encryption_key, data_capture=data_capture, deployment=deployment,
            endpoint_name=endpoint_name, endpoint_config_name=endpoint_config_name,
            rollback_5xx_threshold=rollback_5xx_threshold, rollback_latency=rollback_latency,
        )
        self._primary_count = instance_count
        check_at_synth(self, lambda: _all_zero_weights(self))
        if not (isinstance(variant_weight, (int, float)) and not isinstance(variant_weight, bool)
                and variant_weight == 1):  # _build rendered the primary variant with weight 1
            self._render_variants()
        if shadow is not None:
            self.add_shadow_variant(shadow)

    def add_variant(self, id: str, *, model: "IModel", instance_type: str, instance_count: int = 1,
                    weight: float = 1.0, variant_name: str | None = None, max_instance_count: int | None = None,
                    target_invocations_per_instance: float | None = None) -> Variant:
        """Another production variant (A/B testing): ``model`` on ``instance_type``, receiving
        ``weight / (sum of all production weights)`` of the traffic (the endpoint's own variant
        has ``variant_weight``). It shares the endpoint's data capture settings and volume key
        (properties of the endpoint config); its model's role gets the capture grants.

        At most 10 production variants (botocore ``CreateEndpointConfig.ProductionVariants``),
        none beside a shadow variant (shadow-tests-create.html); names unique; weights
        non-negative and not all zero. ``DeployOnApproval`` updates only ``variant_name`` (the
        endpoint's own variant) and carries these unchanged.

        :param id: the construct id of the returned :class:`Variant` (child of the endpoint).
        :param instance_count: instances, and the autoscaling minimum. Default: 1.
        :param weight: its ``InitialVariantWeight``. Default: 1 (an even split with the endpoint's own).
        :param variant_name: Default: ``id``.
        :param max_instance_count: autoscale it up to this many (:meth:`Variant.scale_instances`).
            Default: no autoscaling.
        :param target_invocations_per_instance: its autoscaling target (per minute), only with
            ``max_instance_count``. Default: 100.
        """
        name = variant_name if variant_name is not None else id
        if self.shadow_variant is not None:
            raise ValidationError(self, "add_variant", name,
                                  f"no second production variant beside the shadow variant {self.shadow_variant.variant_name!r}: "
                                  f"an endpoint with a shadow variant has at most one production variant ({SHADOW_DOC})")
        if 1 + len(self.variants) >= MAX_PRODUCTION_VARIANTS:
            raise ValidationError(self, "add_variant", name,
                                  f"at most {MAX_PRODUCTION_VARIANTS} production variants per endpoint "
                                  "(botocore sagemaker CreateEndpointConfig.ProductionVariants)")
        check_weight(self, f"add_variant({name!r}) weight", weight)
        if target_invocations_per_instance is not None and max_instance_count is None:
            raise ValidationError(self, f"add_variant({name!r}) target_invocations_per_instance",
                                  target_invocations_per_instance, "only with max_instance_count (autoscaling)")
        variant = self._new_variant(id, name=name, model=model, instance_type=instance_type,
                                    instance_count=instance_count, weight=weight, shadow=False)
        if not is_unresolved(weight) and weight == 0 and not any(
                is_unresolved(w) or w > 0 for w in [self.variant_weight, *(v.weight for v in self.variants)]):
            raise ValidationError(variant, "weight", weight,
                                  "a positive weight: every production variant of the endpoint would have weight 0 "
                                  "and none would receive traffic")
        self.variants.append(variant)
        if max_instance_count is not None:
            variant.scale_instances(max_instance_count=max_instance_count,
                                    target_invocations_per_instance=target_invocations_per_instance or 100)
        self._render_variants()
        return variant

    def add_shadow_variant(self, shadow: ShadowVariant, *, id: str = "ShadowVariant") -> Variant:
        """A shadow variant (``ShadowProductionVariants``; SageMaker shadow testing,
        https://docs.aws.amazon.com/sagemaker/latest/dg/shadow-tests.html): ``shadow.model`` on
        ``shadow.instance_count`` ``shadow.instance_type`` instances receives
        ``shadow.sampling_percentage`` percent of the production variant's requests, replicated,
        and answers nobody. Rendered with ``InitialVariantWeight`` = ``variant_weight x
        sampling_percentage / 100`` (the ratio to the production variant's weight); a
        ``sampling_percentage`` from a CloudFormation parameter is the shadow's weight against a
        production weight of 100 (the same ratio); a ``variant_weight`` from a parameter is refused. At most one,
        and only on an endpoint with a single production variant (shadow-tests-create.html). It
        shares the endpoint's data capture settings and volume key; its model's role gets the
        capture grants. Its instances are billed like the production variant's.

        :param id: the construct id of the returned :class:`Variant`. Default: ``ShadowVariant``.
        """
        if not isinstance(shadow, ShadowVariant):
            raise ValidationError(self, "shadow", shadow, "a ShadowVariant(model, instance_type, sampling_percentage=...)")
        if self.shadow_variant is not None:
            raise ValidationError(self, "shadow", shadow.variant_name,
                                  f"at most one shadow variant per endpoint ({SHADOW_DOC})")
        if self.variants:
            raise ValidationError(self, "shadow", shadow.variant_name,
                                  f"an endpoint with a shadow variant has at most one production variant; this one has "
                                  f"{1 + len(self.variants)} ({SHADOW_DOC})")
        check_sampling(self, shadow.sampling_percentage)
        check_shadow_testable(self, "instance_type", self.instance_type, self.model)
        check_shadow_testable(self, "shadow instance_type", shadow.instance_type, shadow.model, model_argument="shadow")
        if is_unresolved(self.variant_weight):
            # Python multiplied the parameter's number encoding: InitialVariantWeight -9.4e288, which
            # SageMaker refuses (VariantWeight minimum 0); CloudFormation has no multiplication.
            raise ValidationError(self, "variant_weight", "a CloudFormation parameter",
                                  "a number with a shadow variant: the shadow's weight is variant_weight x "
                                  "sampling_percentage / 100, which CloudFormation cannot compute (the endpoint's "
                                  "one production variant receives all traffic whatever its weight)")
        if self.variant_weight == 0:
            raise ValidationError(self, "variant_weight", self.variant_weight,
                                  "positive with a shadow variant: the shadow's sample is relative to it")
        # A parameter sampling_percentage is the shadow's weight itself, against a production weight
        # of 100 (its only production variant receives all traffic whatever its weight): the same
        # ratio, sampling_percentage / 100 (against variant_weight it was 100 times that).
        weight = (self.variant_weight * shadow.sampling_percentage / 100
                  if not is_unresolved(shadow.sampling_percentage) else shadow.sampling_percentage)
        variant = self._new_variant(id, name=shadow.variant_name, model=shadow.model,
                                    instance_type=shadow.instance_type, instance_count=shadow.instance_count,
                                    weight=weight, shadow=True)
        #: The sampling percentage of the shadow variant.
        variant.sampling_percentage = shadow.sampling_percentage
        self.shadow_variant = variant
        self._render_variants()
        return variant

    def _new_variant(self, id: str, *, name: str, model: "IModel", instance_type: str, instance_count: int,
                     weight: float, shadow: bool) -> Variant:
        argument = "shadow" if shadow else "add_variant"
        check_name(self, f"{argument} variant_name", name, shape="VariantName")
        taken = [self.variant_name, *(v.variant_name for v in self.variants),
                 *([self.shadow_variant.variant_name] if self.shadow_variant is not None else [])]
        if not is_unresolved(name) and name.lower() in {t.lower() for t in taken if not is_unresolved(t)}:
            raise ValidationError(self, f"{argument} variant_name", name,
                                  f"unique among the endpoint's variants (taken: {', '.join(taken)})")
        if model is None:
            raise ValidationError(self, f"{argument} model", None, "a Model is required")
        check_instance_type(self, instance_type, argument=f"{argument} instance_type")
        check_int_range(self, f"{argument} instance_count", instance_count, minimum=1)
        if (self.volume_key is not None and not is_unresolved(instance_type)
                and has_instance_storage(instance_type)):
            raise ValidationError(self, f"{argument} instance_type", instance_type,
                                  "an instance type without local NVMe storage: the endpoint config's volume KmsKeyId "
                                  "applies to every variant and SageMaker rejects it for NVMe instance types")
        check_model_instance_type(self, instance_type, model, argument=f"{argument} instance_type")
        if self._deployment is not None and not shadow:  # the step is a share of each production variant's fleet
            self._deployment.validate(self, instance_count)
        if self._deployment is not None:  # the guardrail covers every variant: none may be a type it skips
            check_guardrail_instance_type(self, f"{argument} instance_type", instance_type, self._deployment.mode)
        variant = Variant(self, id, model=model, instance_type=instance_type, instance_count=instance_count,
                          weight=weight, variant_name=name, shadow=shadow)
        if self.data_capture is not None:
            self.data_capture.bind(variant, model.role, self.encryption_key,
                                   role_is_prepared=getattr(model, "role_is_prepared", False))
        if not is_unresolved(model.model_name):
            self.cfn_endpoint_config.node.add_dependency(model)
        return variant

    def _render_variants(self) -> None:
        shadow = self.shadow_variant
        primary_weight = (100 if shadow is not None and is_unresolved(shadow.sampling_percentage)
                          else self.variant_weight)
        self.cfn_endpoint_config.production_variants = [
            _production_variant(self.variant_name, self.model, self._primary_count, self.instance_type,
                                primary_weight),
            *(_production_variant(v.variant_name, v.model, v.instance_count, v.instance_type, v.weight)
              for v in self.variants),
        ]
        if shadow is not None:  # unset until there is one (an endpoint has at most one, never removed)
            self.cfn_endpoint_config.shadow_production_variants = [_production_variant(
                shadow.variant_name, shadow.model, shadow.instance_count, shadow.instance_type, shadow.weight)]

    def _retain_scaled_capacity(self) -> None:
        """Stack updates keep the autoscaled instance counts (as with ``max_instance_count``), and
        only them: the variants' weights and data capture follow the new config (without
        ``DesiredWeight`` here, a changed A/B split was silently kept at the deployed weights)."""
        self.cfn_endpoint.retain_all_variant_properties = True
        self.cfn_endpoint.exclude_retained_variant_properties = [
            {"variantPropertyType": p} for p in _NOT_RETAINED]  # CfnEndpoint.VariantPropertyProperty


__all__: Sequence[str] = ("ImportedInstanceEndpoint", "RealtimeEndpoint", "ShadowVariant", "Variant", "NVME_FAMILIES",
                          "has_instance_storage")
