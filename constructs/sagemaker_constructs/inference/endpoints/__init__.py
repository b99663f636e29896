"""Endpoints: real-time, serverless and multi-model, with autoscaling, guardrails and data capture."""

from .asynchronous import MAX_ASYNC_CONCURRENCY, AsyncEndpoint
from .base import VARIANT_NAME, EndpointBase, ImportedEndpoint
from .components import InferenceComponent, InferenceComponentEndpoint
from .data_capture import DataCapture
from .deployment import DeploymentGuardrail
from .multi_model import MultiModelEndpoint
from .realtime import NVME_FAMILIES, ImportedInstanceEndpoint, RealtimeEndpoint, has_instance_storage
from .serverless import SERVERLESS_MEMORY_SIZES, ServerlessEndpoint
from .variants import MAX_PRODUCTION_VARIANTS, ShadowVariant, Variant

__all__ = [
    "AsyncEndpoint",
    "InferenceComponent",
    "InferenceComponentEndpoint",
    "MAX_ASYNC_CONCURRENCY",
    "DataCapture",
    "DeploymentGuardrail",
    "EndpointBase",
    "ImportedEndpoint",
    "ImportedInstanceEndpoint",
    "MultiModelEndpoint",
    "NVME_FAMILIES",
    "RealtimeEndpoint",
    "SERVERLESS_MEMORY_SIZES",
    "ServerlessEndpoint",
    "ShadowVariant",
    "Variant",
    "MAX_PRODUCTION_VARIANTS",
    "VARIANT_NAME",
    "has_instance_storage",
]
