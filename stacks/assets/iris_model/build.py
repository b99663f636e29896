#!/usr/bin/env python3
"""Build dist/model.tar.gz (the artifact the reference InferenceStack deploys) from model.json and
code/inference.py, deterministically. Run: python stacks/assets/iris_model/build.py"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from deterministic_tar import build_tar_gz, write  # noqa: E402

MEMBERS = {"model.json": HERE / "model.json", "code/inference.py": HERE / "code" / "inference.py"}


def build() -> bytes:
    return build_tar_gz(MEMBERS)


if __name__ == "__main__":
    write(HERE / "dist" / "model.tar.gz", MEMBERS)
