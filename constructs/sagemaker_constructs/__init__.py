"""sagemaker-constructs: secure-by-default AWS CDK v2 constructs for Amazon SageMaker."""

from .audit import MAX_DATA_EVENT_RESOURCES, AuditTrail
from .compliance import COMPLIANCE_PACKS, NAG_PACKS, acknowledge, acknowledge_iam_findings, add_compliance_checks
from .deploy import DeployOnApproval
from .encryption import PlatformKey
from .endpoints import (
    DataCapture,
    DeploymentGuardrail,
    ImportedEndpoint,
    MultiModelEndpoint,
    RealtimeEndpoint,
    ServerlessEndpoint,
)
from .errors import ValidationError
from .network import ENDPOINT_PRESETS, ENDPOINT_SERVICES, EndpointService, IsolatedNetwork
from .invoke import EndpointInvoker
from .models import ContainerImage, Model, ModelData
from .monitoring import ModelMonitor
from .pipelines import ModelPackageGroup, TrainingPipeline
from .sagemaker_rules import RULES as SAGEMAKER_RULES
from .sagemaker_rules import SageMakerChecks
from .roles import JobExecutionRole, ModelHostingRole, StudioUserRole
from .storage import SecureBucket
from .studio import StudioDomain, UserProfile

__version__ = "0.1.0"

__all__ = [
    "AuditTrail",
    "COMPLIANCE_PACKS",
    "ContainerImage",
    "DataCapture",
    "DeployOnApproval",
    "DeploymentGuardrail",
    "EndpointInvoker",
    "ImportedEndpoint",
    "Model",
    "ModelData",
    "ModelMonitor",
    "ModelPackageGroup",
    "MultiModelEndpoint",
    "RealtimeEndpoint",
    "ServerlessEndpoint",
    "ENDPOINT_PRESETS",
    "ENDPOINT_SERVICES",
    "EndpointService",
    "IsolatedNetwork",
    "JobExecutionRole",
    "MAX_DATA_EVENT_RESOURCES",
    "ModelHostingRole",
    "NAG_PACKS",
    "PlatformKey",
    "SAGEMAKER_RULES",
    "SageMakerChecks",
    "SecureBucket",
    "StudioDomain",
    "StudioUserRole",
    "TrainingPipeline",
    "UserProfile",
    "ValidationError",
    "acknowledge",
    "acknowledge_iam_findings",
    "add_compliance_checks",
]
