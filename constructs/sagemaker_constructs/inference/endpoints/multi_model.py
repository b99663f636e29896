"""Multi-model endpoints: many models from one S3 prefix on shared instances."""

from __future__ import annotations

from typing import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ..models import ContainerImage, Model, ModelData
from .data_capture import DataCapture
from .deployment import DeploymentGuardrail
from .realtime import _InstanceEndpoint


class MultiModelEndpoint(_InstanceEndpoint):
    """A multi-model endpoint (``Mode: MultiModel``): SageMaker loads each model from
    ``model_data_prefix`` on first use (``TargetModel`` in the request) and caches it, so a
    thousand models share the same instances and the stack's resources do not grow with them.

    Default settings: as :class:`RealtimeEndpoint` (2 instances, volume key, optional autoscaling,
    guardrails), with its model created as child ``Model`` (network isolation on, a
    least-privilege role that may read only ``model_data_prefix``).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        image: ContainerImage,
        model_data_prefix: ModelData,
        instance_type: str,
        instance_count: int = 2,
        max_instance_count: int | None = None,
        target_invocations_per_instance: float | None = None,
        encryption_key: kms.IKey | None = None,
        vpc: ec2.IVpc | None = None,
        subnets: Sequence[ec2.ISubnet] | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        role: iam.IRole | None = None,
        network_isolation: bool = True,
        environment: Mapping[str, str] | None = None,
        data_capture: DataCapture | None = None,
        deployment: DeploymentGuardrail | None = None,
        endpoint_name: str | None = None,
        endpoint_config_name: str | None = None,
        rollback_5xx_threshold: int = 1,
        rollback_latency: Duration = Duration.seconds(1),
        role_is_prepared: bool = False,
    ) -> None:
        """
        :param image: a container that supports multi-model hosting (e.g. SageMaker's
            scikit-learn, XGBoost or Triton images, or one built on the Multi Model Server).
        :param model_data_prefix: ``ModelData.from_bucket(bucket, "models/")``: the prefix
            holding the ``*.tar.gz`` models.
        :param instance_type: ``ml.<family>.<size>``.
        :param instance_count: Default: 2.
        :param vpc: run the models in this VPC. Default: no VPC.
        :param role: the models' execution role. Default: a new ``ModelHostingRole`` (child
            ``Model/Role``); a role you pass gets the same statements.
        :param role_is_prepared: ``role`` already has them (CDK adds none to a role it cannot
            change instead of raising). Default: false.
        Other parameters: as :class:`RealtimeEndpoint` and :class:`Model`.
        """
        super().__init__(scope, id)
        model = Model(
            self,
            "Model",
            image=image,
            model_data=model_data_prefix,
            role=role,
            vpc=vpc,
            subnets=subnets,
            security_groups=security_groups,
            network_isolation=network_isolation,
            environment=environment,
            encryption_key=encryption_key,
            multi_model=True,
            role_is_prepared=role_is_prepared,
        )
        self._build(
            model=model, instance_type=instance_type, instance_count=instance_count,
            max_instance_count=max_instance_count, target_invocations_per_instance=target_invocations_per_instance,
            encryption_key=encryption_key, data_capture=data_capture, deployment=deployment,
            endpoint_name=endpoint_name, endpoint_config_name=endpoint_config_name,
            rollback_5xx_threshold=rollback_5xx_threshold, rollback_latency=rollback_latency,
        )
