"""Interfaces of this library's resources, for resources a stack owns and ones it imports.

``DeployOnApproval``, ``ModelMonitor`` and ``EndpointInvoker`` take these interfaces, never a
concrete class, so an endpoint or model package group that another stack (or another team)
owns works the same as one built here: ``RealtimeEndpoint.from_endpoint_attributes(...)``,
``ModelPackageGroup.from_model_package_group_name(...)``.

They are :class:`typing.Protocol` classes (structural, ``runtime_checkable``): a class satisfies
one by having its members, without inheriting from it. That is deliberate: our constructs are
jsii classes (``constructs.Construct``, with jsii's metaclass), which cannot also inherit from a
``Protocol`` (metaclass conflict); pyright checks the members statically, and
``isinstance(x, IEndpoint)`` checks that they are present at run time (not their types).
``metric_*`` methods take the keyword arguments of ``cloudwatch.MetricOptions``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Protocol, Sequence, runtime_checkable

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Node

if TYPE_CHECKING:  # a run-time import would be circular (the endpoints use these interfaces)
    from .inference.endpoints.data_capture import DataCapture

__all__ = ["IEndpoint", "IInstanceEndpoint", "IModel", "IModelPackageGroup", "InvocableEndpoint"]


@runtime_checkable
class InvocableEndpoint(Protocol):
    """The least :class:`EndpointInvoker` needs: a SageMaker endpoint's name and ARN."""

    @property
    def endpoint_name(self) -> str: ...

    @property
    def endpoint_arn(self) -> str: ...


@runtime_checkable
class IEndpoint(InvocableEndpoint, Protocol):
    """A SageMaker endpoint (real-time, serverless or multi-model; owned or imported)."""

    @property
    def node(self) -> Node: ...

    @property
    def variant_name(self) -> str:
        """The production variant the metrics and autoscaling refer to (``AllTraffic``)."""
        ...

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` invoke this endpoint (and only it)."""
        ...

    def metric(self, metric_name: str, *, namespace: str = "AWS/SageMaker", statistic: str | None = None,
               period: Duration | None = None, label: str | None = None, unit: cloudwatch.Unit | None = None,
               color: str | None = None, dimensions_map: Mapping[str, str] | None = None,
               account: str | None = None, region: str | None = None) -> cloudwatch.Metric: ...

    def metric_invocations(self, *, statistic: str | None = None, period: Duration | None = None,
                           label: str | None = None, unit: cloudwatch.Unit | None = None, color: str | None = None,
                           dimensions_map: Mapping[str, str] | None = None, account: str | None = None,
                           region: str | None = None) -> cloudwatch.Metric: ...

    def metric_model_latency(self, *, statistic: str | None = None, period: Duration | None = None,
                             label: str | None = None, unit: cloudwatch.Unit | None = None,
                             color: str | None = None, dimensions_map: Mapping[str, str] | None = None,
                             account: str | None = None, region: str | None = None) -> cloudwatch.Metric: ...

    def metric_invocation_5xx_errors(self, *, statistic: str | None = None, period: Duration | None = None,
                                     label: str | None = None, unit: cloudwatch.Unit | None = None,
                                     color: str | None = None, dimensions_map: Mapping[str, str] | None = None,
                                     account: str | None = None, region: str | None = None) -> cloudwatch.Metric: ...

    def metric_invocation_4xx_errors(self, *, statistic: str | None = None, period: Duration | None = None,
                                     label: str | None = None, unit: cloudwatch.Unit | None = None,
                                     color: str | None = None, dimensions_map: Mapping[str, str] | None = None,
                                     account: str | None = None, region: str | None = None) -> cloudwatch.Metric: ...


@runtime_checkable
class IModel(Protocol):
    """A SageMaker model: what an endpoint serves, and what a new version of it runs as."""

    @property
    def node(self) -> Node: ...

    @property
    def model_name(self) -> str: ...

    @property
    def role(self) -> iam.IRole:
        """The execution role SageMaker runs the model's containers as."""
        ...

    @property
    def network_isolation(self) -> bool: ...

    @property
    def vpc_config(self) -> Mapping[str, Any] | None:
        """CreateModel's ``VpcConfig`` (``Subnets``, ``SecurityGroupIds``), or None outside a VPC."""
        ...


@runtime_checkable
class IInstanceEndpoint(IEndpoint, Protocol):
    """An instance-backed (real-time or multi-model) endpoint: what deploy-on-approval and model
    monitoring need besides name, ARN and variant."""

    @property
    def model(self) -> IModel | None:
        """The model it serves (its role runs new versions), or None when unknown (imported
        without ``role``)."""
        ...

    @property
    def encryption_key(self) -> kms.IKey | None:
        """The endpoint's key (volume and data capture), or None."""
        ...

    @property
    def volume_key(self) -> kms.IKey | None:
        """The ML storage volume key actually used (None on NVMe instance types or without a key)."""
        ...

    @property
    def data_capture(self) -> DataCapture | None: ...

    @property
    def deployment_api_config(self) -> Mapping[str, Any] | None:
        """UpdateEndpoint's ``DeploymentConfig`` (guardrails), or None for SageMaker's default."""
        ...

    @property
    def rollback_alarms(self) -> Sequence[cloudwatch.IAlarm]: ...


@runtime_checkable
class IModelPackageGroup(Protocol):
    """A model registry group (owned, or imported by name)."""

    @property
    def node(self) -> Node: ...

    @property
    def model_package_group_name(self) -> str: ...

    @property
    def model_package_group_arn(self) -> str: ...

    @property
    def model_package_arn_pattern(self) -> str:
        """ARN pattern of the group's versions: ``...:model-package/<lower-cased name>/*``."""
        ...

    def grant_register(self, grantee: iam.IGrantable) -> iam.Grant: ...

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant: ...

    def grant_approve(self, grantee: iam.IGrantable) -> iam.Grant: ...
