"""SageMaker ML instance types: kept for its importers; the facts live in :mod:`.catalog` (one mechanism)."""

from __future__ import annotations

from .catalog import NVME_FAMILIES, check_instance_type, has_instance_storage, instance_facts, instance_family

#: ``ml.<family>.<size>``: the form only. Validate with :func:`check_instance_type`, which knows
#: which types exist for which use.
INSTANCE_TYPE_PATTERN = r"ml\.[a-z][a-z0-9-]*\.[a-z0-9]+"

__all__ = [
    "INSTANCE_TYPE_PATTERN", "NVME_FAMILIES", "check_instance_type", "has_instance_storage", "instance_facts",
    "instance_family",
]
