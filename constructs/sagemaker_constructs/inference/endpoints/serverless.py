"""Serverless endpoints: no instances, no idle cost."""

from __future__ import annotations

from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ...compliance import acknowledge, across_packs, new_resource
from ..._internal.l1 import struct
from ..._internal.stacks import note_scope
from ...errors import ValidationError, check_choice, check_int_range, is_unresolved
from ...security.roles import platform_tags
from ..models import Model
from ...validation.checks import check_range
from ...validation.combinations import check_serverless_model
from ...validation.naming import check_name, default_name
from .base import EndpointBase
from .data_capture import DataCapture

#: MemorySizeInMB values SageMaker Serverless Inference accepts.
SERVERLESS_MEMORY_SIZES = (1024, 2048, 3072, 4096, 5120, 6144)
MAX_SERVERLESS_CONCURRENCY = 200


class ServerlessEndpoint(EndpointBase):
    """A serverless endpoint (``AWS::SageMaker::Endpoint``, child ``Resource``; config ``Config``).

    You pay per request and per GB-second of compute; nothing while idle.

    Default settings:

    * 2048 MB memory, at most 20 concurrent invocations (``max_concurrency``);
    * no provisioned concurrency (cold starts possible); with ``provisioned_concurrency``, that
      many warm instances; with ``max_provisioned_concurrency`` too, Application Auto Scaling
      tracks ``SageMakerVariantProvisionedConcurrencyUtilization`` at
      ``target_provisioned_utilization`` (0.7) between the two (child ``ScalableTarget``).

    SageMaker Serverless Inference does not support VPC configuration, network isolation or
    data capture (nor GPUs, multi-model or multiple variants): a model with a VPC or with
    network isolation, or ``data_capture``, is a ``ValidationError``. It has no ML storage
    volume, so no volume key: SageMaker encrypts its data at rest with AWS-owned keys.
    """

    _tags_later_resources = False  # its config and endpoint carry the platform tag

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model: Model,
        memory_size_in_mb: int = 2048,
        max_concurrency: int = 20,
        provisioned_concurrency: int | None = None,
        max_provisioned_concurrency: int | None = None,
        target_provisioned_utilization: float | None = None,
        endpoint_name: str | None = None,
        endpoint_config_name: str | None = None,
        data_capture: DataCapture | None = None,
        shadow: object = None,
    ) -> None:
        """
        :param model: the ``Model`` to serve; create it with ``network_isolation=False`` and no VPC.
        :param memory_size_in_mb: 1024, 2048, 3072, 4096, 5120 or 6144. Default: 2048.
        :param max_concurrency: 1-200. Default: 20.
        :param provisioned_concurrency: warm capacity, 1-200 and at most ``max_concurrency``.
            Default: none.
        :param max_provisioned_concurrency: autoscale provisioned concurrency up to this.
            Default: no autoscaling.
        :param target_provisioned_utilization: autoscaling target (0.1-1.0), only with
            ``max_provisioned_concurrency``. Default: 0.7.
        :param data_capture: not supported by SageMaker for serverless endpoints; present so
            the mistake fails at synth with a clear message.
        :param shadow: not offered on serverless endpoints (shadow variants run on instances of a
            ``RealtimeEndpoint``); present so ``shadow=ShadowVariant(...)`` fails with a clear message.
        """
        super().__init__(scope, id)
        if model is None:
            raise ValidationError(self, "model", None, "a Model is required")
        check_serverless_model(self, "model", model)
        check_name(self, "endpoint_name", endpoint_name)
        check_name(self, "endpoint_config_name", endpoint_config_name)
        check_choice(self, "memory_size_in_mb", memory_size_in_mb, SERVERLESS_MEMORY_SIZES)
        check_int_range(self, "max_concurrency", max_concurrency, minimum=1, maximum=MAX_SERVERLESS_CONCURRENCY)
        # a CfnParameter max_concurrency bounds nothing at synth (its number encoding is no value)
        concurrency_bound = MAX_SERVERLESS_CONCURRENCY if is_unresolved(max_concurrency) else min(
            MAX_SERVERLESS_CONCURRENCY, max_concurrency)
        if provisioned_concurrency is not None:
            check_int_range(self, "provisioned_concurrency", provisioned_concurrency, minimum=1,
                            maximum=concurrency_bound)
        if max_provisioned_concurrency is not None:
            if provisioned_concurrency is None:
                raise ValidationError(self, "max_provisioned_concurrency", max_provisioned_concurrency,
                                      "only together with provisioned_concurrency (the autoscaling minimum)")
            check_int_range(self, "max_provisioned_concurrency", max_provisioned_concurrency,
                            minimum=provisioned_concurrency, maximum=concurrency_bound)
        if target_provisioned_utilization is not None and max_provisioned_concurrency is None:
            raise ValidationError(self, "target_provisioned_utilization", target_provisioned_utilization,
                                  "only with max_provisioned_concurrency (autoscaling)")
        check_range(self, "target_provisioned_utilization", target_provisioned_utilization, minimum=0.1, maximum=1.0)
        if getattr(model, "vpc_config", None) is not None:  # a Model, or one described by attributes
            raise ValidationError(self, "model", model.node.path,
                                  "SageMaker Serverless Inference does not support a VPC: create the Model without vpc=")
        if model.network_isolation:
            raise ValidationError(self, "model", model.node.path,
                                  "SageMaker Serverless Inference does not support network isolation: "
                                  "create the Model with network_isolation=False")
        if data_capture is not None:
            raise ValidationError(self, "data_capture", data_capture.bucket.node.path,
                                  "SageMaker Serverless Inference does not support data capture")
        if shadow is not None:
            self.add_shadow_variant(shadow)

        self.model: Model = model
        if isinstance(model, Model):  # a model described by attributes is not in this template
            acknowledge(
                model.cfn_model,
                reason=(
                    "Served by a serverless endpoint: SageMaker Serverless Inference does not support "
                    "network isolation (nor a VPC), so this model runs without them."
                ),
                nag=["SageMaker-ModelNetworkIsolation", "SageMaker-ModelInVpc"],
                checkov=["CKV_AWS_370"],
            )
        self.endpoint_name: str = endpoint_name or default_name(self)  # stable: callers invoke by name, alarms watch by name
        self.cfn_endpoint_config: sagemaker.CfnEndpointConfig = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            endpoint_config_name=endpoint_config_name,
            production_variants=[
                {  # CfnEndpointConfig.ProductionVariantProperty
                    "variantName": self.variant_name,
                    "modelName": model.model_name,
                    "serverlessConfig": struct(  # CfnEndpointConfig.ServerlessConfigProperty
                        memorySizeInMb=memory_size_in_mb,
                        maxConcurrency=max_concurrency,
                        provisionedConcurrency=provisioned_concurrency,
                    ),
                }
            ],
            tags=platform_tags(),  # and the endpoint (_create_endpoint)
        )
        if not is_unresolved(model.model_name):  # a literal name carries no implicit dependency
            self.cfn_endpoint_config.node.add_dependency(model)
        note_scope(self.cfn_endpoint_config, self)
        with new_resource(self.cfn_endpoint_config):  # just created: no checkov skips yet
            acknowledge(
                self.cfn_endpoint_config,
                reason=(
                    "Serverless endpoints have no ML storage volume and SageMaker rejects a KmsKeyId for "
                    "them; their data at rest is encrypted by SageMaker."
                ),
                nag=across_packs("SageMakerEndpointConfigurationKMSKeyConfigured"),
                checkov=["CKV_AWS_98"],
            )
        self._create_endpoint(autoscaling=None if max_provisioned_concurrency is None else {
            "dimension": "sagemaker:variant:DesiredProvisionedConcurrency",
            "min_capacity": provisioned_concurrency,
            "max_capacity": max_provisioned_concurrency,
            "metric": appscaling.PredefinedMetric.SAGEMAKER_VARIANT_PROVISIONED_CONCURRENCY_UTILIZATION,
            "target_value": 0.7 if target_provisioned_utilization is None else target_provisioned_utilization,
        })

    def add_shadow_variant(self, shadow: object, *, id: str = "ShadowVariant") -> None:
        """Not available: shadow variants run on instances of a real-time endpoint
        (``RealtimeEndpoint(shadow=...)``); raises :class:`ValidationError`."""
        from ...errors import ValidationError

        raise ValidationError(self, "shadow", getattr(shadow, "variant_name", shadow),
                              "a RealtimeEndpoint: this library offers shadow variants (and A/B variants) on "
                              "instance-backed real-time endpoints only, not on serverless endpoints")

    def add_variant(self, id: str, **kwargs: object) -> None:
        """Not available on serverless endpoints (see :meth:`add_shadow_variant`); raises."""
        from ...errors import ValidationError

        raise ValidationError(self, "add_variant", id, "a RealtimeEndpoint: variants are offered on "
                              "instance-backed real-time endpoints only, not on serverless endpoints")
