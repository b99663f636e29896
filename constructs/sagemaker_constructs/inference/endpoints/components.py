"""Inference-component endpoints: models as components with their own copies, down to zero instances.

An inference-component endpoint (https://docs.aws.amazon.com/sagemaker/latest/dg/realtime-endpoints-deploy-models.html)
hosts no model itself: its production variant only names an instance type, and SageMaker's
managed instance scaling (``ManagedInstanceScaling``) adds and removes instances as the
components' copies need them. Each ``AWS::SageMaker::InferenceComponent`` runs one model with a
number of copies and the CPU, memory and accelerators each copy reserves.

Scale to zero (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html):
"An endpoint can scale to and from zero instances only if it hosts inference components", with
``MinInstanceCount`` 0 in ``ManagedInstanceScaling``, each component registered as a scalable
target (``inference-component/<name>``, ``sagemaker:inference-component:DesiredCopyCount``) with
minimum capacity 0, and a step-scaling policy run by a CloudWatch alarm on the component's
``NoCapacityInvocationFailures`` metric that adds a copy when a request finds none. "Be aware
that the provisioning process takes several minutes. During that time, any attempts to invoke
the endpoint will produce an error."
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from aws_cdk import Duration, TimeZone
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ..._internal.stacks import attribute
from ...compliance import acknowledge, across_packs
from ...errors import ValidationError, check_choice, check_int_range, is_unresolved
from ...validation.checks import check_count, check_range, claim_name, duration_to_seconds
from ...validation.instances import has_instance_storage, instance_family
from ...validation.naming import check_name, default_name
from ..models import Model, check_image_architecture
from .autoscaling import register_target, wake_from_zero
from .base import EndpointBase, check_finite, check_instance_type

if TYPE_CHECKING:
    from ...interfaces import IModel

#: ``ManagedInstanceScaling`` and ``RoutingConfig`` API reference pages.
MANAGED_SCALING_DOC = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariantManagedInstanceScaling.html"
#: Routing strategies of ``ProductionVariantRoutingConfig``.
ROUTING_STRATEGIES = ("LEAST_OUTSTANDING_REQUESTS", "RANDOM")
#: Copy-count target-tracking metrics (Application Auto Scaling predefined metrics).
SCALING_METRICS = {
    "concurrent_requests": appscaling.PredefinedMetric.SAGEMAKER_INFERENCE_COMPONENT_CONCURRENT_REQUESTS_PER_COPY_HIGH_RESOLUTION,
    "invocations": appscaling.PredefinedMetric.SAGEMAKER_INFERENCE_COMPONENT_INVOCATIONS_PER_COPY,
}
_DEFAULT_TARGETS = {"concurrent_requests": 4.0, "invocations": 100.0}

# vCPUs by size, and GiB of memory per vCPU by family, where the EC2 instance-type specifications
# give them uniformly (general purpose https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html,
# compute optimized .../co.html, memory optimized .../mo.html, accelerated computing .../ac.html).
# Families not listed are not checked (unknown, never guessed).
_VCPUS = {"medium": 1, "large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32, "9xlarge": 36,
          "12xlarge": 48, "16xlarge": 64, "18xlarge": 72, "24xlarge": 96, "32xlarge": 128, "48xlarge": 192}
_GIB_PER_VCPU = {
    **{f: 4 for f in ("m5", "m5d", "m6i", "m6id", "m6g", "m6gd", "m7i", "m7g", "m7gd", "m8g", "g5", "g6", "g4dn")},
    **{f: 2 for f in ("c5", "c5d", "c6i", "c6id", "c6g", "c6gd", "c6gn", "c7i", "c7g", "c7gd", "c8g")},
    **{f: 8 for f in ("r5", "r5d", "r6i", "r6id", "r6g", "r6gd", "r7i", "r7g", "r7gd", "r8g")},
}


def accelerator_facts(instance_type: str) -> tuple[bool, int | None]:
    """(has accelerators, devices per instance where documented) for ``instance_type``, from the
    instance-type catalog (``validation/catalog.py``) when present, else by family: NVIDIA G and P,
    AWS Inferentia and Trainium, Habana DL1."""
    try:
        from ...validation.catalog import instance_facts
    except ImportError:  # the catalog is not part of this checkout
        family = instance_family(instance_type)
        return family.startswith(("g", "p", "inf", "trn", "dl")), None
    facts = instance_facts(instance_type)
    return facts.accelerated, facts.accelerator_count


def cpu_memory(instance_type: str) -> tuple[int, int] | None:
    """(vCPUs, memory in MiB) where the EC2 specifications give them uniformly, else None."""
    family = instance_family(instance_type)
    size = instance_type.split(".", 2)[2] if family else ""
    if family not in _GIB_PER_VCPU or size not in _VCPUS:
        return None
    vcpus = _VCPUS[size]
    return vcpus, vcpus * _GIB_PER_VCPU[family] * 1024


class InferenceComponent(Construct):
    """One model on an :class:`InferenceComponentEndpoint` (``AWS::SageMaker::InferenceComponent``,
    child ``Resource``), created by :meth:`InferenceComponentEndpoint.add_component`.

    Its copy count autoscales (child ``ScalableTarget``, ``sagemaker:inference-component:
    DesiredCopyCount``) between 0 (``scale_to_zero``) or 1 and ``max_copies``, tracking
    ``scaling_metric`` (child ``ScalableTarget/TargetTracking``); with ``scale_to_zero`` a
    step-scaling policy (child ``WakeUp``) run by the alarm ``WakeUpAlarm`` on
    ``NoCapacityInvocationFailures`` adds a copy when a request finds none.
    """

    def __init__(self, scope: "InferenceComponentEndpoint", id: str, *, model: "IModel", copies: int,
                 max_copies: int | None, number_of_cpu_cores_required: float | None,
                 min_memory_required_in_mb: int, max_memory_required_in_mb: int | None,
                 number_of_accelerator_devices_required: int | None, scale_to_zero: bool,
                 model_data_download_timeout: Duration | None, container_startup_health_check_timeout: Duration | None,
                 scaling_metric: str, target_value: float | None, component_name: str | None) -> None:
        super().__init__(scope, id)
        endpoint = scope
        if model is None:
            raise ValidationError(self, "model", None, "a Model is required")
        check_name(self, "component_name", component_name)
        # The API accepts CopyCount 0 (API_InferenceComponentRuntimeConfig), but a component created
        # without a copy serves nothing until its first request fails; scale_to_zero reaches 0 later.
        check_int_range(self, "copies", copies, minimum=1)
        max_copies = copies if max_copies is None else max_copies
        check_int_range(self, "max_copies", max_copies, minimum=copies)
        check_choice(self, "scaling_metric", scaling_metric, SCALING_METRICS)
        check_finite(self, "target_value", target_value)
        check_finite(self, "number_of_cpu_cores_required", number_of_cpu_cores_required)
        if target_value is not None and not is_unresolved(target_value) and not (
                isinstance(target_value, (int, float)) and target_value > 0):
            raise ValidationError(self, "target_value", target_value, "a positive number")
        check_range(self, "number_of_cpu_cores_required", number_of_cpu_cores_required, minimum=0.25, step=0.25,
                    limit="InferenceComponentComputeResourceRequirements")
        check_int_range(self, "min_memory_required_in_mb", min_memory_required_in_mb, minimum=128)
        if max_memory_required_in_mb is not None:
            check_int_range(self, "max_memory_required_in_mb", max_memory_required_in_mb,
                            minimum=max(128, min_memory_required_in_mb))
        for argument, value in (("model_data_download_timeout", model_data_download_timeout),
                                ("container_startup_health_check_timeout", container_startup_health_check_timeout)):
            if value is not None:
                check_int_range(self, argument, duration_to_seconds(self, argument, value), minimum=60, maximum=3600)
        self._check_fit(endpoint, copies=copies, max_copies=max_copies, cpus=number_of_cpu_cores_required,
                        memory=min_memory_required_in_mb, accelerators=number_of_accelerator_devices_required)

        if isinstance(model, Model):  # an imported model's image is unknown
            check_image_architecture(self, endpoint.instance_type, model.architecture, argument="endpoint instance_type",
                                     image=lambda: f"{model.node.path}'s image")

        self.endpoint = endpoint
        self.model: "IModel" = model
        if endpoint.vpc is not None:
            # The components run in the endpoint's VPC: the role of a model made outside any VPC gets
            # the network-interface calls too (as every model role had before they were kept to models
            # in a VPC), whichever role SageMaker uses for them: a Model's own or supplied role, or our
            # ModelHostingRole of a model described by attributes.
            from ...security.roles import ModelHostingRole, give_network_interfaces

            role = getattr(model, "role", None)
            if (isinstance(model, Model) and model.vpc is None) or isinstance(role, ModelHostingRole):
                give_network_interfaces(self, role, role_is_prepared=getattr(model, "role_is_prepared", False))
        self.copies: int = copies
        self.max_copies: int | None = max_copies
        self.scale_to_zero: bool = scale_to_zero
        self.min_copies = 0 if scale_to_zero else 1
        self.component_name: str = component_name or default_name(self)
        claim_name(self, "component_name", self.component_name, kind="inference component")
        startup = None
        if model_data_download_timeout is not None or container_startup_health_check_timeout is not None:
            startup = sagemaker.CfnInferenceComponent.InferenceComponentStartupParametersProperty(
                model_data_download_timeout_in_seconds=(
                    duration_to_seconds(self, "model_data_download_timeout", model_data_download_timeout)
                    if model_data_download_timeout else None),
                container_startup_health_check_timeout_in_seconds=(
                    duration_to_seconds(self, "container_startup_health_check_timeout", container_startup_health_check_timeout)
                    if container_startup_health_check_timeout else None),
            )
        self.cfn_component: sagemaker.CfnInferenceComponent = sagemaker.CfnInferenceComponent(
            self, "Resource",
            inference_component_name=self.component_name,
            endpoint_name=endpoint.cfn_endpoint.attr_endpoint_name,
            variant_name=endpoint.variant_name,
            specification=sagemaker.CfnInferenceComponent.InferenceComponentSpecificationProperty(
                model_name=model.model_name,
                compute_resource_requirements=sagemaker.CfnInferenceComponent.InferenceComponentComputeResourceRequirementsProperty(
                    number_of_cpu_cores_required=number_of_cpu_cores_required,
                    min_memory_required_in_mb=min_memory_required_in_mb,
                    max_memory_required_in_mb=max_memory_required_in_mb,
                    number_of_accelerator_devices_required=number_of_accelerator_devices_required,
                ),
                startup_parameters=startup,
            ),
            runtime_config=sagemaker.CfnInferenceComponent.InferenceComponentRuntimeConfigProperty(copy_count=copies),
        )
        if not is_unresolved(model.model_name):  # a literal name carries no implicit dependency
            self.cfn_component.node.add_dependency(model)

        # Application Auto Scaling owns the copy count from here on.
        self.scalable_target: appscaling.ScalableTarget = register_target(
            self, "ScalableTarget", resource_id=f"inference-component/{self.component_name}",
            dimension="sagemaker:inference-component:DesiredCopyCount", min_capacity=self.min_copies,
            max_capacity=max_copies, depends_on=self.cfn_component,
        )
        self.scalable_target.scale_to_track_metric(
            "TargetTracking", predefined_metric=SCALING_METRICS[scaling_metric],
            target_value=float(target_value if target_value is not None else _DEFAULT_TARGETS[scaling_metric]),
            scale_in_cooldown=Duration.minutes(5), scale_out_cooldown=Duration.minutes(1),
        )
        self.wake_up_alarm: cloudwatch.Alarm | None = None
        if scale_to_zero:
            # As the scale-to-zero page sets it up: Maximum over 30 s, one period, threshold 1;
            # the policy adds one copy (ChangeInCapacity, Maximum aggregation, 60 s cooldown).
            _, self.wake_up_alarm = wake_from_zero(
                self, "WakeUp", target=self.scalable_target,
                metric=self.metric("NoCapacityInvocationFailures", statistic="Maximum", period=Duration.seconds(30)),
                aggregation=appscaling.MetricAggregationType.MAXIMUM, cooldown=Duration.minutes(1),
                evaluation_periods=1,
                description=f"{self.component_name}: a request found no copy; adds one (wakes the component from zero)",
            )

    def _check_fit(self, endpoint: "InferenceComponentEndpoint", *, copies: int, max_copies: int,
                   cpus: float | None, memory: int, accelerators: int | None) -> None:
        instance_type = endpoint.instance_type
        accelerated, devices = accelerator_facts(instance_type)
        if accelerators is not None:
            check_int_range(self, "number_of_accelerator_devices_required", accelerators, minimum=1)
            if not accelerated:
                raise ValidationError(self, "number_of_accelerator_devices_required", accelerators,
                                      f"{instance_type} has no accelerators (GPU, Inferentia or Trainium): "
                                      "omit it, or choose an accelerated instance type (e.g. ml.g5.xlarge)")
            if devices is not None and accelerators > devices:
                raise ValidationError(self, "number_of_accelerator_devices_required", accelerators,
                                      f"at most {devices}: a copy runs on one instance and {instance_type} "
                                      f"has {devices} accelerator device(s)")
        shape = cpu_memory(instance_type)
        per_instance: list[tuple[str, float, float]] = []
        if shape is not None:
            vcpus, mib = shape
            if cpus is not None and not is_unresolved(cpus):
                per_instance.append(("number_of_cpu_cores_required", cpus, vcpus))
            if not is_unresolved(memory):
                per_instance.append(("min_memory_required_in_mb", memory, mib))
        if accelerators is not None and devices is not None and not is_unresolved(accelerators):
            per_instance.append(("number_of_accelerator_devices_required", accelerators, devices))
        for argument, need, has in per_instance:
            if need > has:
                raise ValidationError(self, argument, need,
                                      f"at most {has:g}: a copy runs on one {instance_type} instance, which has {has:g}")
            per_copy_fit = int(has // need)
            capacity = per_copy_fit * endpoint.max_instance_count
            if not is_unresolved(endpoint.max_instance_count) and max_copies > capacity:
                raise ValidationError(self, "max_copies", max_copies,
                                      f"at most {capacity}: {per_copy_fit} cop{'y' if per_copy_fit == 1 else 'ies'} "
                                      f"fit one {instance_type} by {argument} ({need:g} of {has:g}) and the endpoint "
                                      f"has at most {endpoint.max_instance_count} instances")

    def metric(self, metric_name: str, *, statistic: str | None = None, period: Duration | None = None,
               namespace: str = "AWS/SageMaker") -> cloudwatch.Metric:
        """A metric of this component (dimension ``InferenceComponentName``). Default: ``Sum`` over 5 minutes."""
        return cloudwatch.Metric(namespace=namespace, metric_name=metric_name,
                                 dimensions_map={"InferenceComponentName": self.component_name},
                                 statistic=statistic or "Sum", period=period or Duration.minutes(5))

    def scale_on_schedule(self, id: str, *, schedule: "str | appscaling.Schedule", min_capacity: int | None = None,
                          max_capacity: int | None = None, time_zone: "str | TimeZone | None" = None) -> None:
        """Change this component's copy-count bounds at the times ``schedule`` names (copies, not
        instances: managed instance scaling follows). Capacities lie between 0 (with
        ``scale_to_zero``; else 1) and ``max_copies``. See
        :meth:`RealtimeEndpoint.scale_on_schedule` for the schedule forms."""
        from .schedules import add_scheduled_action

        add_scheduled_action(
            self, self.scalable_target, id, schedule=schedule, min_capacity=min_capacity, max_capacity=max_capacity,
            time_zone=time_zone, floor=self.min_copies, ceiling=self.max_copies, unit="copies",
            floor_reason="this component was added with scale_to_zero=False, so its copies stay at 1 or more",
            no_target_reason="the component has no scalable target",
        )


class InferenceComponentEndpoint(EndpointBase):
    """An endpoint that hosts inference components (``AWS::SageMaker::Endpoint``, child
    ``Resource``; config ``Config``), which :meth:`add_component` adds.

    Default settings:

    * managed instance scaling (``ManagedInstanceScaling``) between ``min_instance_count`` (0:
      no instance, no cost, while no component has a copy) and ``max_instance_count``;
      it starts with ``max(1, min_instance_count)`` instances;
    * requests routed to the instance with the fewest outstanding requests
      (``RoutingConfig`` ``LEAST_OUTSTANDING_REQUESTS``);
    * an execution role SageMaker runs the endpoint as (``ExecutionRoleArn``, which inference
      component endpoints need): a new ``ModelHostingRole`` (child ``Role``) that may use
      ``encryption_key``;
    * the ML storage volumes encrypted with ``encryption_key`` (not on instance types with local
      NVMe storage, which SageMaker refuses a volume key for);
    * in ``vpc`` (``subnets``: the private and isolated ones), with its own security group (child
      ``SecurityGroup``: no inbound, HTTPS to the VPC), when a VPC is given; network isolation of
      every container on (``network_isolation``);
    * components: scale to zero copies, woken by ``NoCapacityInvocationFailures`` (see
      :class:`InferenceComponent`).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        instance_type: str,
        max_instance_count: int,
        min_instance_count: int = 0,
        encryption_key: kms.IKey | None = None,
        vpc: ec2.IVpc | None = None,
        subnets: Sequence[ec2.ISubnet] | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        network_isolation: bool = True,
        role: iam.IRole | None = None,
        routing_strategy: str = "LEAST_OUTSTANDING_REQUESTS",
        endpoint_name: str | None = None,
        endpoint_config_name: str | None = None,
        role_is_prepared: bool = False,
    ) -> None:
        """
        :param instance_type: ``ml.<family>.<size>``; accelerated types (``ml.g5.*``, ``ml.inf2.*``...) for
            components that request accelerators.
        :param max_instance_count: the most instances managed instance scaling may run (1 or more).
        :param min_instance_count: the fewest; 0 scales the endpoint to zero instances when no
            component has a copy. Default: 0.
        :param encryption_key: the ML storage volume key. Default: the AWS-managed EBS key.
        :param vpc: run the components in this VPC. Default: no VPC.
        :param subnets: Default: the VPC's private and isolated subnets.
        :param security_groups: Default: a new security group (child ``SecurityGroup``).
        :param network_isolation: no network access for the containers. Default: true.
        :param role: the endpoint's execution role. Default: a new ``ModelHostingRole`` (child ``Role``).
            A role you pass receives the same statements (in its own policy).
        :param role_is_prepared: ``role`` already has every permission the default role would have:
            CDK adds none to a role it cannot change instead of raising. Default: false.
        :param routing_strategy: ``LEAST_OUTSTANDING_REQUESTS`` or ``RANDOM``. Default: least outstanding requests.
        :param endpoint_name: Default: a stable name derived from the construct path.
        :param endpoint_config_name: Default: generated by CloudFormation.
        """
        super().__init__(scope, id)
        check_instance_type(self, instance_type)
        check_name(self, "endpoint_name", endpoint_name)
        check_name(self, "endpoint_config_name", endpoint_config_name)
        check_int_range(self, "min_instance_count", min_instance_count, minimum=0)
        check_int_range(self, "max_instance_count", max_instance_count, minimum=max(1, min_instance_count or 0))
        check_choice(self, "routing_strategy", routing_strategy, ROUTING_STRATEGIES)
        if vpc is None and (subnets or security_groups):
            raise ValidationError(self, "subnets", "given without vpc", "pass vpc= together with subnets/security_groups")

        self.instance_type: str = instance_type
        self.min_instance_count: int = min_instance_count
        self.max_instance_count: int = max_instance_count
        self.encryption_key: kms.IKey | None = encryption_key
        self.network_isolation: bool = network_isolation
        self.endpoint_name: str = endpoint_name or default_name(self)
        volume_key = None if has_instance_storage(instance_type) else encryption_key
        #: The ML storage volume key actually used (None on NVMe instance types or without a key).
        self.volume_key: kms.IKey | None = volume_key
        self.components: list[InferenceComponent] = []

        from ..._internal.grants import bind_role
        from ...compliance import acknowledge_iam_findings_at_synth
        from ...security.roles import ModelHostingRole

        #: The VPC the components run in, or None.
        self.vpc: ec2.IVpc | None = vpc
        # A supplied role gets the default role's statements (in its own policy), or a clear error
        # when CDK cannot change it and role_is_prepared is false.
        binding = bind_role(self, role, role_is_prepared=role_is_prepared,
                            default=lambda scope, child: ModelHostingRole(
                                scope, child, encryption_key=encryption_key, network_interfaces=vpc is not None))
        if binding.supplied and isinstance(binding.role, Construct):
            acknowledge_iam_findings_at_synth(binding.role, reason=(
                "The statements of this inference component endpoint's default ModelHostingRole, given to the "
                "supplied role: image pulls (ecr:GetAuthorizationToken has no resource type), SageMaker's endpoint "
                "log groups (log streams named at run time), metrics limited by namespace and, in a VPC, the "
                "network-interface calls SageMaker requires unscoped."))
        binding.finish()
        self.role: iam.IRole = binding.role
        #: Whether the supplied role was declared prepared.
        self.role_is_prepared: bool = role_is_prepared
        vpc_config = None
        self.security_groups: list[ec2.ISecurityGroup] = []
        if vpc is not None:
            from ...network import allow_https_to_endpoints, private_subnets

            chosen = private_subnets(self, vpc, subnets)
            if security_groups is None:
                group = ec2.SecurityGroup(self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
                                          description="SageMaker inference components: no inbound, HTTPS to the VPC only")
                allow_https_to_endpoints(self, group, vpc, None)
                self.security_groups = [group]
            else:
                check_count(self, "security_groups", security_groups, minimum=1, maximum=5, what="security groups",
                            limit="botocore sagemaker VpcSecurityGroupIds")
                self.security_groups = list(security_groups)
            vpc_config = sagemaker.CfnEndpointConfig.VpcConfigProperty(
                subnets=[s.subnet_id for s in chosen],
                security_group_ids=[g.security_group_id for g in self.security_groups],
            )
        initial: Any = max(1, min_instance_count)
        if is_unresolved(min_instance_count):
            # max(1, <parameter>) in the template: Python's max() of a Token's encoding is not it.
            from aws_cdk import CfnCondition, Fn, Token

            zero = CfnCondition(self, "MinInstanceCountIsZero", expression=Fn.condition_equals(min_instance_count, 0))
            initial = Token.as_number(Fn.condition_if(zero.logical_id, 1, min_instance_count))
        self.cfn_endpoint_config: sagemaker.CfnEndpointConfig = sagemaker.CfnEndpointConfig(
            self, "Config",
            endpoint_config_name=endpoint_config_name,
            execution_role_arn=self.role.role_arn,
            kms_key_id=attribute(volume_key, "key_arn") if volume_key is not None else None,  # read once per key
            vpc_config=vpc_config,
            enable_network_isolation=network_isolation,
            production_variants=[sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name=self.variant_name,
                instance_type=instance_type,
                initial_instance_count=initial,
                managed_instance_scaling=sagemaker.CfnEndpointConfig.ManagedInstanceScalingProperty(
                    status="ENABLED", min_instance_count=min_instance_count, max_instance_count=max_instance_count),
                routing_config=sagemaker.CfnEndpointConfig.RoutingConfigProperty(routing_strategy=routing_strategy),
            )],
        )
        binding.depend_on_policies(self.cfn_endpoint_config)
        if encryption_key is not None and volume_key is None:
            acknowledge(
                self.cfn_endpoint_config,
                reason=(f"{instance_type} has local NVMe instance storage, which SageMaker encrypts with a "
                        "hardware module and for which it rejects a volume KmsKeyId."),
                nag=across_packs("SageMakerEndpointConfigurationKMSKeyConfigured"),
            )
        self._create_endpoint()

    def add_component(
        self,
        id: str,
        *,
        model: "IModel",
        copies: int = 1,
        max_copies: int | None = None,
        number_of_cpu_cores_required: float | None = None,
        min_memory_required_in_mb: int = 1024,
        max_memory_required_in_mb: int | None = None,
        number_of_accelerator_devices_required: int | None = None,
        scale_to_zero: bool = True,
        model_data_download_timeout: Duration | None = None,
        container_startup_health_check_timeout: Duration | None = None,
        scaling_metric: str = "concurrent_requests",
        target_value: float | None = None,
        component_name: str | None = None,
    ) -> InferenceComponent:
        """Host ``model`` on this endpoint as an inference component (child ``id``).

        :param model: the ``Model`` (any ``IModel``) the component runs.
        :param copies: copies at creation (1 or more). Default: 1.
        :param max_copies: the autoscaling maximum. Default: ``copies``.
        :param number_of_cpu_cores_required: CPU cores per copy (0.25 or more). Default: SageMaker's choice.
        :param min_memory_required_in_mb: memory per copy (128 or more). Default: 1024.
        :param max_memory_required_in_mb: Default: no maximum.
        :param number_of_accelerator_devices_required: GPUs/Neuron devices per copy; only on
            accelerated instance types, at most the type's devices. Default: none.
        :param scale_to_zero: copies autoscale down to 0 and a request wakes them. Default: true.
        :param model_data_download_timeout: 60 s - 1 h. Default: SageMaker's.
        :param container_startup_health_check_timeout: 60 s - 1 h. Default: SageMaker's.
        :param scaling_metric: ``concurrent_requests`` (``SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution``)
            or ``invocations`` (``SageMakerInferenceComponentInvocationsPerCopy``, per minute). Default: concurrent requests.
        :param target_value: the metric's target per copy. Default: 4 concurrent requests, or 100 invocations.
        :param component_name: Default: a stable name derived from the construct path.
        """
        component = InferenceComponent(
            self, id, model=model, copies=copies, max_copies=max_copies,
            number_of_cpu_cores_required=number_of_cpu_cores_required,
            min_memory_required_in_mb=min_memory_required_in_mb, max_memory_required_in_mb=max_memory_required_in_mb,
            number_of_accelerator_devices_required=number_of_accelerator_devices_required, scale_to_zero=scale_to_zero,
            model_data_download_timeout=model_data_download_timeout,
            container_startup_health_check_timeout=container_startup_health_check_timeout,
            scaling_metric=scaling_metric, target_value=target_value, component_name=component_name,
        )
        self.components.append(component)
        return component

    def scale_on_schedule(self, id: str, *, schedule: "str | appscaling.Schedule", min_capacity: int | None = None,
                          max_capacity: int | None = None, time_zone: "str | TimeZone | None" = None,
                          components: Sequence[InferenceComponent] | None = None) -> None:
        """Change the copy-count bounds of ``components`` (default: every component added so far)
        at the times ``schedule`` names. The capacities count copies of each component, not
        instances: SageMaker's managed instance scaling runs the instances the copies need,
        between ``min_instance_count`` and ``max_instance_count``. See
        :meth:`InferenceComponent.scale_on_schedule`."""
        chosen = list(self.components if components is None else components)
        if not chosen:
            raise ValidationError(self, "scale_on_schedule", id,
                                  "schedules scale the components' copies: add_component first")
        for component in chosen:
            if component.endpoint is not self:
                raise ValidationError(self, "components", component.node.path, "components of this endpoint")
            component.scale_on_schedule(id, schedule=schedule, min_capacity=min_capacity, max_capacity=max_capacity,
                                        time_zone=time_zone)


__all__ = ["InferenceComponent", "InferenceComponentEndpoint", "ROUTING_STRATEGIES", "SCALING_METRICS",
           "accelerator_facts", "cpu_memory"]
