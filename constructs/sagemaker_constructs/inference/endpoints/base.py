"""What every endpoint shares: names, ARNs, invoke grants, metrics, imports."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

from aws_cdk import Duration, Resource
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from constructs import Construct

from ...validation.catalog import check_instance_type as _check_catalog
from ...validation.naming import check_name
from ...validation.checks import arn_name
from ..._internal.stacks import format_arn, note_scope

if TYPE_CHECKING:
    from aws_cdk import aws_sagemaker as sagemaker

#: The production variant name every endpoint of this library uses.
VARIANT_NAME = "AllTraffic"
_INVOKE_ACTIONS = ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"]


def check_instance_type(scope: Construct, instance_type: str, *, use: str = "hosting",
                        argument: str = "instance_type") -> None:
    """Raise unless ``instance_type`` is one SageMaker offers for ``use`` (the instance-type catalog)."""
    _check_catalog(scope, argument, instance_type, use=use)


def check_finite(scope: Construct, argument: str, value: object) -> None:
    """Raise unless ``value`` (a number) is finite: ``float("inf")`` or ``nan`` has no JSON form, so
    jsii's kernel failed to parse the value and the synth died with a raw ``JSONDecodeError``
    (Tokens and non-numbers pass: the argument's own check handles them)."""
    import math

    from ...errors import ValidationError, is_unresolved

    if (isinstance(value, float) and not is_unresolved(value) and not math.isfinite(value)):
        raise ValidationError(scope, argument, value,
                              "a finite number (a CloudFormation template is JSON, which has no NaN or Infinity)")


def endpoint_arn_for(scope: Construct, endpoint_name: str) -> str:
    """``arn:<partition>:sagemaker:<region>:<account>:endpoint/<name>``; SageMaker lower-cases
    endpoint names in ARNs."""
    return format_arn(scope, "sagemaker", "endpoint", arn_name(endpoint_name))  # Stack.format_arn's string, no call to Node


class _EndpointMixin:
    """Invoke grants and CloudWatch metrics for anything with ``endpoint_name``/``endpoint_arn``."""

    endpoint_name: str
    endpoint_arn: str
    variant_name: str = VARIANT_NAME

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` call ``InvokeEndpoint`` (and its streaming form) on this endpoint only."""
        return iam.Grant.add_to_principal(grantee=grantee, actions=_INVOKE_ACTIONS, resource_arns=[self.endpoint_arn])

    def metric(self, metric_name: str, *, namespace: str = "AWS/SageMaker", statistic: str | None = None,
               period: Duration | None = None, label: str | None = None, unit: cloudwatch.Unit | None = None,
               color: str | None = None, dimensions_map: Mapping[str, str] | None = None,
               account: str | None = None, region: str | None = None) -> cloudwatch.Metric:
        """A CloudWatch metric of this endpoint's variant (dimensions ``EndpointName``,
        ``VariantName``; ``dimensions_map`` adds or overrides dimensions). The other arguments are
        ``cloudwatch.MetricOptions``'. Default: ``Sum`` over 5 minutes."""
        return cloudwatch.Metric(
            namespace=namespace,
            metric_name=metric_name,
            dimensions_map={"EndpointName": self.endpoint_name, "VariantName": self.variant_name,
                            **(dimensions_map or {})},
            statistic=statistic or "Sum",
            period=period or Duration.minutes(5),
            label=label,
            unit=unit,
            color=color,
            account=account,
            region=region,
        )

    def metric_invocations(self, *, statistic: str | None = None, period: Duration | None = None,
                           label: str | None = None, unit: cloudwatch.Unit | None = None, color: str | None = None,
                           dimensions_map: Mapping[str, str] | None = None, account: str | None = None,
                           region: str | None = None) -> cloudwatch.Metric:
        """Requests sent to the endpoint. Default: ``Sum`` over 5 minutes (``cloudwatch.MetricOptions``)."""
        return self.metric("Invocations", statistic=statistic or "Sum", period=period, label=label, unit=unit,
                           color=color, dimensions_map=dimensions_map, account=account, region=region)

    def metric_model_latency(self, *, statistic: str | None = None, period: Duration | None = None,
                             label: str | None = None, unit: cloudwatch.Unit | None = None,
                             color: str | None = None, dimensions_map: Mapping[str, str] | None = None,
                             account: str | None = None, region: str | None = None) -> cloudwatch.Metric:
        """Time the model took to respond, in microseconds. Default: ``Average`` over 5 minutes."""
        return self.metric("ModelLatency", statistic=statistic or "Average", period=period, label=label, unit=unit,
                           color=color, dimensions_map=dimensions_map, account=account, region=region)

    def metric_invocation_5xx_errors(self, *, statistic: str | None = None, period: Duration | None = None,
                                     label: str | None = None, unit: cloudwatch.Unit | None = None,
                                     color: str | None = None, dimensions_map: Mapping[str, str] | None = None,
                                     account: str | None = None, region: str | None = None) -> cloudwatch.Metric:
        """Requests for which the model returned a 5xx error. Default: ``Sum`` over 5 minutes."""
        return self.metric("Invocation5XXErrors", statistic=statistic or "Sum", period=period, label=label,
                           unit=unit, color=color, dimensions_map=dimensions_map, account=account, region=region)

    def metric_invocation_4xx_errors(self, *, statistic: str | None = None, period: Duration | None = None,
                                     label: str | None = None, unit: cloudwatch.Unit | None = None,
                                     color: str | None = None, dimensions_map: Mapping[str, str] | None = None,
                                     account: str | None = None, region: str | None = None) -> cloudwatch.Metric:
        """Requests for which the model returned a 4xx error. Default: ``Sum`` over 5 minutes."""
        return self.metric("Invocation4XXErrors", statistic=statistic or "Sum", period=period, label=label,
                           unit=unit, color=color, dimensions_map=dimensions_map, account=account, region=region)


class ImportedEndpoint(_EndpointMixin, Resource):
    """An endpoint this stack does not own (``*.from_endpoint_name``)."""

    def __init__(self, scope: Construct, id: str, *, endpoint_name: str, variant_name: str = VARIANT_NAME) -> None:
        super().__init__(scope, id)
        check_name(self, "endpoint_name", endpoint_name)
        self.endpoint_name: str = endpoint_name
        self.variant_name: str = variant_name
        self.endpoint_arn: str = endpoint_arn_for(self, endpoint_name)


class EndpointBase(_EndpointMixin, Construct):
    """Base of the endpoint constructs; ``from_endpoint_name`` imports one the stack does not own."""

    #: set by each subclass before it calls ``_create_endpoint``
    cfn_endpoint_config: sagemaker.CfnEndpointConfig
    #: Whether SageMaker resources are added under the endpoint after it is built (inference
    #: components): then the platform tag is a ``Tags.of`` aspect on the endpoint; otherwise its
    #: config (``tags=platform_tags()``, given by the subclass) and endpoint carry it themselves.
    _tags_later_resources: bool = True

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        note_scope(self, scope, id)

    def _create_endpoint(self, *, deployment_config=None, autoscaling: dict[str, Any] | None = None,
                         exclude_retained: Sequence[str] = ()) -> None:
        """The ``AWS::SageMaker::Endpoint`` (child ``Resource``) on ``self.cfn_endpoint_config``, its
        ARN, and, with ``autoscaling`` (``scale_variant`` arguments), a scalable target. With
        autoscaling, stack updates keep the scaled capacity (``RetainAllVariantProperties``) except
        for ``exclude_retained`` properties."""
        from aws_cdk import aws_sagemaker as sagemaker

        from ...security.roles import platform_tags, tag_platform_resource
        from aws_cdk import aws_applicationautoscaling as appscaling

        from .autoscaling import scale_variant

        # Studio personas other than PLATFORM_ADMIN may not update or delete the endpoint or its
        # configs (StudioUserRole's guardrails read this tag).
        if self._tags_later_resources:
            tag_platform_resource(self)
        self.cfn_endpoint: sagemaker.CfnEndpoint = sagemaker.CfnEndpoint(
            self,
            "Resource",
            endpoint_name=self.endpoint_name,
            endpoint_config_name=self.cfn_endpoint_config.attr_endpoint_config_name,
            deployment_config=deployment_config,
            retain_all_variant_properties=True if autoscaling else None,
            exclude_retained_variant_properties=[
                {"variantPropertyType": p} for p in exclude_retained  # CfnEndpoint.VariantPropertyProperty
            ] if autoscaling and exclude_retained else None,
            tags=None if self._tags_later_resources else platform_tags(),
        )
        # Built from the (literal) name rather than read back, so grants need not wait for the endpoint.
        self.endpoint_arn: str = endpoint_arn_for(self, self.endpoint_name)
        self.scalable_target: appscaling.ScalableTarget | None = None
        if autoscaling:
            self.scalable_target = scale_variant(
                self, endpoint_name=self.endpoint_name, variant_name=self.variant_name,
                depends_on=self.cfn_endpoint, **autoscaling,
            )

    @classmethod
    def from_endpoint_name(cls, scope: Construct, id: str, endpoint_name: str, *,
                           variant_name: str = VARIANT_NAME) -> ImportedEndpoint:
        """An existing endpoint by name: ``grant_invoke`` and ``metric_*`` work on it."""
        return ImportedEndpoint(scope, id, endpoint_name=endpoint_name, variant_name=variant_name)

