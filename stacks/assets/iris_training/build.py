#!/usr/bin/env python3
"""Build dist/sourcedir.tar.gz (the training code of the reference MlopsStack's pipeline): train.py
and the serving handlers it copies into the model. Run: python stacks/assets/iris_training/build.py"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from deterministic_tar import build_tar_gz, write  # noqa: E402

MEMBERS = {"train.py": HERE / "train.py", "inference.py": HERE.parent / "iris_model" / "code" / "inference.py"}


def build() -> bytes:
    return build_tar_gz(MEMBERS)


if __name__ == "__main__":
    write(HERE / "dist" / "sourcedir.tar.gz", MEMBERS)
