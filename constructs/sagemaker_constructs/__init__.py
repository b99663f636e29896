"""sagemaker-constructs: secure-by-default AWS CDK v2 constructs for Amazon SageMaker.

Exports are lazy: ``import sagemaker_constructs`` loads none of its modules (nor aws_cdk); a
name is imported from its module on first use (``from sagemaker_constructs import RealtimeEndpoint``).
The imports under ``if TYPE_CHECKING:`` below are the one list of exports: type checkers read them,
and :func:`__getattr__` reads the name-to-module map from them. Add an export there (and to
``__all__``); an ordinary import outside the block also works, eagerly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .security.audit import MAX_DATA_EVENT_RESOURCES, AuditTrail
    from .cost import CostReport, estimate_monthly_cost
    from .compliance import (
        COMPLIANCE_PACKS,
        NAG_PACKS,
        ControlTowerChecks,
        acknowledge,
        acknowledge_iam_findings,
        add_compliance_checks,
    )
    from .mlops.deploy import DeployOnApproval
    from .mlops.delivery import DeliveryStage, ModelDeliveryPipeline
    from .mlops.promotion import PromoteOnApproval, PromotionTarget
    from .security.key import PlatformKey
    from .inference.endpoints import (
        AsyncEndpoint,
        InferenceComponent,
        InferenceComponentEndpoint,
        DataCapture,
        DeploymentGuardrail,
        ImportedEndpoint,
        MultiModelEndpoint,
        RealtimeEndpoint,
        ServerlessEndpoint,
        ShadowVariant,
    )
    from .errors import ValidationError
    from .interfaces import IEndpoint, IInstanceEndpoint, IModel, IModelPackageGroup, InvocableEndpoint
    from .network import ENDPOINT_PRESETS, ENDPOINT_SERVICES, EndpointService, IsolatedNetwork
    from .inference.invoker import EndpointInvoker
    from .inference.models import ContainerImage, Model, ModelData, ssm_model_package
    from .mlops.feature_store import Feature, FeatureGroup, FeatureType
    from .mlops.mlflow import MlflowTrackingServer
    from .mlops.batch import BatchTransform
    from .mlops.monitor import ModelMonitor
    from .mlops.recommend import InstanceRecommender, RecommendInstancesStep
    from .mlops.monitors import ModelBiasMonitor, ModelExplainabilityMonitor, ModelQualityMonitor
    from .mlops.check_steps import BiasFacet, ClarifyCheckStep, QualityCheckStep
    from .mlops.pipeline import Pipeline, TrainingPipeline
    from .mlops.expressions import Execution, Join, Parameter, PropertyFile, s3_uri
    from .mlops.steps import (
        AutoMLStep,
        CategoricalRange,
        Condition,
        ConditionStep,
        ContinuousRange,
        CreateModelStep,
        Distribution,
        FailStep,
        InstanceGroup,
        InstanceRecommendation,
        IntegerRange,
        LambdaStep,
        ProcessingInput,
        ProcessingOutput,
        ProcessingStep,
        RegisterModelStep,
        Step,
        TrainingInput,
        TrainingStep,
        TransformStep,
        TuningStep,
    )
    from .mlops.registry import ModelPackageGroup
    from .rules.pack import RULES as SAGEMAKER_RULES
    from .rules.pack import SageMakerChecks
    from .security.roles import JobExecutionRole, ModelHostingRole, Persona, StudioUserRole, tag_platform_resource
    from .security.bucket import SecureBucket
    from .studio.domain import CanvasSettings, CustomImage, SharedSpace, StudioDomain, UserProfile

__version__ = "0.1.0"

__all__ = [
    "AsyncEndpoint",
    "InferenceComponent",
    "InferenceComponentEndpoint",
    "AuditTrail",
    "COMPLIANCE_PACKS",
    "CanvasSettings",
    "ContainerImage",
    "CostReport",
    "CustomImage",
    "DataCapture",
    "DeployOnApproval",
    "DeliveryStage",
    "DeploymentGuardrail",
    "EndpointInvoker",
    "Feature",
    "FeatureGroup",
    "FeatureType",
    "IEndpoint",
    "IInstanceEndpoint",
    "IModel",
    "IModelPackageGroup",
    "InvocableEndpoint",
    "ImportedEndpoint",
    "Model",
    "ModelData",
    "ModelMonitor",
    "InstanceRecommender",
    "RecommendInstancesStep",
    "ModelBiasMonitor",
    "ModelExplainabilityMonitor",
    "ModelQualityMonitor",
    "ModelPackageGroup",
    "MultiModelEndpoint",
    "RealtimeEndpoint",
    "ServerlessEndpoint",
    "ShadowVariant",
    "ENDPOINT_PRESETS",
    "ENDPOINT_SERVICES",
    "EndpointService",
    "IsolatedNetwork",
    "JobExecutionRole",
    "MAX_DATA_EVENT_RESOURCES",
    "MlflowTrackingServer",
    "ModelHostingRole",
    "NAG_PACKS",
    "Persona",
    "PlatformKey",
    "SAGEMAKER_RULES",
    "SageMakerChecks",
    "ControlTowerChecks",
    "SecureBucket",
    "SharedSpace",
    "StudioDomain",
    "StudioUserRole",
    "TrainingPipeline",
    "AutoMLStep",
    "BatchTransform",
    "BiasFacet",
    "ClarifyCheckStep",
    "QualityCheckStep",
    "CategoricalRange",
    "Condition",
    "ConditionStep",
    "ContinuousRange",
    "CreateModelStep",
    "Distribution",
    "Execution",
    "FailStep",
    "InstanceGroup",
    "InstanceRecommendation",
    "IntegerRange",
    "Join",
    "LambdaStep",
    "Parameter",
    "Pipeline",
    "ProcessingInput",
    "ProcessingOutput",
    "ProcessingStep",
    "PropertyFile",
    "RegisterModelStep",
    "Step",
    "TrainingInput",
    "TrainingStep",
    "TransformStep",
    "TuningStep",
    "s3_uri",
    "UserProfile",
    "ValidationError",
    "acknowledge",
    "acknowledge_iam_findings",
    "add_compliance_checks",
    "estimate_monthly_cost",
    "tag_platform_resource",
    "ModelDeliveryPipeline",
    "PromoteOnApproval",
    "PromotionTarget",
    "ssm_model_package",
]


def _exports() -> dict[str, tuple[str, str]]:
    # name -> (module, attribute), from the TYPE_CHECKING imports above (parsed once, ~1 ms).
    import ast
    from pathlib import Path

    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    found: dict[str, tuple[str, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom) and statement.level == 1:
                    for alias in statement.names:
                        found[alias.asname or alias.name] = ("." + (statement.module or ""), alias.name)
    return found


_EXPORTS: dict[str, tuple[str, str]] | None = None


def __getattr__(name: str) -> Any:
    global _EXPORTS
    if _EXPORTS is None:
        _EXPORTS = _exports()
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module, attribute = _EXPORTS[name]
    value = getattr(importlib.import_module(module, __name__), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
