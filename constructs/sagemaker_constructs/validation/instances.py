"""SageMaker ML instance types: their form, family, and whether they have local instance storage."""

from __future__ import annotations

import re

#: ``ml.<family>.<size>``, e.g. ``ml.m5.xlarge``, ``ml.g5.2xlarge``, ``ml.c7g.large``.
INSTANCE_TYPE_PATTERN = r"ml\.[a-z][a-z0-9-]*\.[a-z0-9]+"

#: Instance families with local NVMe instance storage whose names carry no "d": SageMaker rejects
#: a volume KmsKeyId for them (their instance store is encrypted by the hardware). AWS publishes
#: no SageMaker list; families whose name has a "d" after the generation (m5d, c5d, r5d, g4dn,
#: p3dn, p4d, p4de, m6id, ...) are matched by rule, as the SageMaker Python SDK does.
NVME_FAMILIES = frozenset({"g5", "g6", "g6e", "gr6", "p5", "p5e", "p5en", "trn1", "trn1n", "trn2"})
_NVME_BY_NAME = re.compile(r"[a-z]+[0-9]+[a-z]*d[a-z]*")


def instance_family(instance_type: str) -> str:
    """``"m5"`` for ``"ml.m5.xlarge"``; ``""`` for anything not of the form ``ml.<family>.<size>``."""
    return instance_type.split(".")[1] if instance_type.count(".") >= 2 else ""


def has_instance_storage(instance_type: str) -> bool:
    """True when SageMaker will not accept a volume KMS key for ``instance_type``."""
    family = instance_family(instance_type)
    return family in NVME_FAMILIES or bool(_NVME_BY_NAME.fullmatch(family))
