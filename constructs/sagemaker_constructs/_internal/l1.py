"""L1 property structs as the plain mappings jsii sends them as.

A generated struct class (``CfnEndpointConfig.ProductionVariantProperty(...)``) type-checks every
one of its fields in Python (typeguard, under ``__debug__``) and is then converted back into the
same mapping before it crosses to Node; on the endpoint and model hot paths that costs more than
the L1 itself. A mapping with the struct's camelCase (jsii) field names is what the L1 receives
either way: the template is the same, Node validates it as it validates the struct, and reading
the property back (``cfn_model.vpc_config.subnets``) still returns the struct class.
"""

from __future__ import annotations

from typing import Any


def struct(**fields: Any) -> dict[str, Any]:
    """An L1 property struct from its jsii (camelCase) field names, unset (None) fields left out,
    as the generated struct classes leave them out."""
    return {name: value for name, value in fields.items() if value is not None}
