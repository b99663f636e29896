#!/usr/bin/env python3
"""Build model.tar.gz (the artifact the reference InferenceStack deploys) from model.json and code/.

Deterministic: fixed order, mtimes, owners and gzip header, so the committed tarball and its
CDK asset hash change only when the model or its code does. Run: python stacks/assets/iris_model/build.py
"""

from __future__ import annotations

import gzip
import io
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MEMBERS = ("model.json", "code/inference.py")


def build() -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in MEMBERS:
            data = (HERE / name).read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


if __name__ == "__main__":
    target = HERE / "dist" / "model.tar.gz"
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(build())
    print(f"wrote {target} ({target.stat().st_size} bytes)", file=sys.stderr)
