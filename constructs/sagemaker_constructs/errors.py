"""The one exception type the library raises for bad input, and the checks that raise it.

The logic lives in :mod:`sagemaker_constructs.validation.checks` (one mechanism); these names stay
importable from here.
"""

from __future__ import annotations

from .validation.checks import (
    ValidationError,
    check_choice,
    check_int_range,
    check_pattern,
    is_unresolved,
)

__all__ = ["ValidationError", "check_choice", "check_int_range", "check_pattern", "is_unresolved"]
