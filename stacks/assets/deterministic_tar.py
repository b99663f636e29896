"""Deterministic ``.tar.gz`` archives (fixed order, mtimes, owners and gzip header), so committed
artifacts and their CDK asset hashes change only when their content does."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path
from typing import Mapping


def build_tar_gz(members: Mapping[str, Path]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, path in members.items():
            data = Path(path).read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def write(target: Path, members: Mapping[str, Path]) -> None:
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(build_tar_gz(members))
    print(f"wrote {target} ({target.stat().st_size} bytes)")
