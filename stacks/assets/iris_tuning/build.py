#!/usr/bin/env python3
"""Build dist/sourcedir.tar.gz (the training code of the reference MlopsStack's tuning pipeline):
train.py, the iris training script it reuses (as iris_train.py) and the serving handlers.
Run: python stacks/assets/iris_tuning/build.py"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from deterministic_tar import build_tar_gz, write  # noqa: E402

MEMBERS = {"train.py": HERE / "train.py", "iris_train.py": HERE.parent / "iris_training" / "train.py",
           "inference.py": HERE.parent / "iris_model" / "code" / "inference.py"}


def build() -> bytes:
    return build_tar_gz(MEMBERS)


if __name__ == "__main__":
    write(HERE / "dist" / "sourcedir.tar.gz", MEMBERS)
