"""Regenerate ``constructs/sagemaker_constructs/validation/_instance_types.py`` from the installed botocore.

Run after a botocore upgrade (``tests/unit/test_validation.py`` fails when the vendored copy falls
behind the installed botocore)::

    .venv/bin/python benchmarks/generate_instance_types.py

The vendored copy is what the instance-type catalog uses when botocore is not installed (it is a
dev/handlers dependency, not a runtime one); with botocore present the catalog is the union of both.
"""

from __future__ import annotations

import datetime
import pathlib
import pprint

TARGET = pathlib.Path(__file__).resolve().parents[1] / "constructs/sagemaker_constructs/validation/_instance_types.py"


def render() -> str:
    import botocore
    from sagemaker_constructs.validation.catalog import USE_SHAPES, _botocore_enums

    enums = _botocore_enums()
    shapes = sorted(set(USE_SHAPES.values()))
    body = {shape: tuple(enums[shape]) for shape in shapes}
    return (
        '"""Vendored copy of the SageMaker instance-type enums of botocore\'s service model (generated: do not edit).\n\n'
        "Regenerate with ``python benchmarks/generate_instance_types.py``.\n"
        '"""\n\n'
        f"BOTOCORE_VERSION = {botocore.__version__!r}\n"
        f"GENERATED = {datetime.date.today().isoformat()!r}\n\n"
        f"INSTANCE_TYPES: dict[str, tuple[str, ...]] = {pprint.pformat(body, width=110, compact=True)}\n"
    )


if __name__ == "__main__":
    TARGET.write_text(render())
    print(f"wrote {TARGET}")
