"""The reference app with one deliberately broken change: the platform's data bucket construct
renamed (``DataBucket`` -> ``MlDataBucket``), which gives the retained bucket a new logical ID, so
CloudFormation would create a new, empty bucket and orphan the old one (RETAIN) with the data.

The CLI rehearsal (tests/harness/cli_rehearsal.py) synthesizes it to show that the review gate
reports the replacement before anything is deployed. It is never deployed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import aws_cdk as cdk  # noqa: E402

import stacks.platform as platform_module  # noqa: E402

OLD_ID, NEW_ID = "DataBucket", "MlDataBucket"


def build(app: cdk.App) -> dict[str, cdk.Stack]:
    """The reference app's ``build`` with the data bucket's construct id changed."""
    import app as reference_app

    original = platform_module.SecureBucket

    def renamed(scope: Any, construct_id: str, **kwargs: Any) -> Any:
        return original(scope, NEW_ID if construct_id == OLD_ID else construct_id, **kwargs)

    platform_module.SecureBucket = renamed
    try:
        return reference_app.build(app)
    finally:
        platform_module.SecureBucket = original


def main() -> None:
    app = cdk.App()
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
