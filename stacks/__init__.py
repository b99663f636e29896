"""Deployable compositions of sagemaker-constructs used by the reference app (app.py)."""

from .config import PlatformConfig
from .inference import InferenceStack
from .mlops import MlopsStack
from .platform import PlatformStack

__all__ = ["InferenceStack", "MlopsStack", "PlatformConfig", "PlatformStack"]
