"""sagemaker-constructs: secure-by-default AWS CDK v2 constructs for Amazon SageMaker."""

from .audit import MAX_DATA_EVENT_RESOURCES, AuditTrail
from .compliance import NAG_PACKS, acknowledge, add_compliance_checks
from .encryption import PlatformKey
from .errors import ValidationError
from .network import ENDPOINT_PRESETS, ENDPOINT_SERVICES, EndpointService, IsolatedNetwork
from .roles import JobExecutionRole, ModelHostingRole, StudioUserRole
from .storage import SecureBucket
from .studio import StudioDomain, UserProfile

__version__ = "0.1.0"

__all__ = [
    "AuditTrail",
    "ENDPOINT_PRESETS",
    "ENDPOINT_SERVICES",
    "EndpointService",
    "IsolatedNetwork",
    "JobExecutionRole",
    "MAX_DATA_EVENT_RESOURCES",
    "ModelHostingRole",
    "NAG_PACKS",
    "PlatformKey",
    "SecureBucket",
    "StudioDomain",
    "StudioUserRole",
    "UserProfile",
    "ValidationError",
    "acknowledge",
    "add_compliance_checks",
]
