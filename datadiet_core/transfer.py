"""Moving verified files between hosts in parts of a chosen size, for hosts without internet.

Owns one format: ``<name>.part000``, ``<name>.part001``, ... (the pieces of one uncompressed
tar archive) and ``<name>.parts.json`` (each part's size and sha256, and the sha256 of the
whole archive). Importing checks every part, reassembles the archive, checks the whole, and
only then unpacks it (no absolute paths, no ``..``). ``data`` and ``store`` use it to move a
dataset cache out to a GPU host and a profile's results back.
"""
from __future__ import annotations

import hashlib
import json
import os
import tarfile
import tempfile
from pathlib import Path
from typing import Mapping

from . import DataError, ParameterError

def check_part_mb(part_mb: object) -> float:
    """One line naming ``part_mb`` unless it is a number of MiB >= 1."""
    if isinstance(part_mb, bool) or not isinstance(part_mb, (int, float)) or not part_mb >= 1:
        raise ParameterError(f"parameter 'part_mb' must be a number of MiB >= 1; got {part_mb!r}")
    return float(part_mb)


def export_parts(files: Mapping[str, Path], out_dir: str | Path, name: str, part_mb: float) -> Path:
    """Pack ``files`` (name in the archive -> file on disk) into one tar archive split into parts
    of at most ``part_mb`` MiB in ``out_dir``; returns the ``<name>.parts.json`` written last."""
    size = int(check_part_mb(part_mb) * (1 << 20))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob(f"{name}.part*"):
        old.unlink()
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        archive = Path(tmp) / f"{name}.tar"
        with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tar:
            for arcname, path in sorted(files.items()):
                tar.add(path, arcname=arcname, recursive=False)
        whole, parts = hashlib.sha256(), []
        with open(archive, "rb") as f:
            while block := f.read(size):
                whole.update(block)
                part = out / f"{name}.part{len(parts):03d}"
                part.write_bytes(block)
                parts.append({"file": part.name, "bytes": len(block), "sha256": hashlib.sha256(block).hexdigest()})
    index = out / f"{name}.parts.json"
    index.write_text(json.dumps({"name": name, "sha256": whole.hexdigest(), "files": sorted(files),
                                 "parts": parts}, indent=1) + "\n")
    return index


def import_parts(index: str | Path, dest: str | Path) -> list[Path]:
    """Check every part listed in ``index`` (a ``.parts.json``), reassemble the archive, check its
    sha256, and unpack it into ``dest``; returns the files written. A missing or damaged part
    stops with one line naming it, before anything is unpacked."""
    index = Path(index)
    try:
        meta = json.loads(index.read_text())
        parts = meta["parts"]
    except (OSError, ValueError, KeyError) as e:
        raise DataError(f"{index} is not a parts index written by export ({type(e).__name__})") from None
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest) as tmp:
        archive = Path(tmp) / "archive.tar"
        whole = hashlib.sha256()
        with open(archive, "wb") as out:
            for p in parts:
                path = index.parent / p["file"]
                if not path.exists():
                    raise DataError(f"part {p['file']} of {meta['name']} is missing beside {index}")
                block = path.read_bytes()
                if len(block) != p["bytes"] or hashlib.sha256(block).hexdigest() != p["sha256"]:
                    raise DataError(f"part {p['file']} of {meta['name']} is damaged (size or sha256 differs)")
                whole.update(block)
                out.write(block)
        if whole.hexdigest() != meta["sha256"]:
            raise DataError(f"{meta['name']} reassembled does not match its sha256")
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            for m in members:
                if m.name.startswith("/") or ".." in Path(m.name).parts or not (m.isfile() or m.isdir()):
                    raise DataError(f"{meta['name']} holds an unsafe member {m.name!r}; nothing was unpacked")
            tar.extractall(Path(tmp) / "files", filter="data")
        written = []
        for m in members:
            if m.isfile():
                target = dest / m.name
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(Path(tmp) / "files" / m.name, target)
                written.append(target)
    return written


def tree(root: Path, skip_hidden: bool = True) -> dict[str, Path]:
    """Every file below ``root`` by its path relative to ``root`` (hidden names left out)."""
    return {str(p.relative_to(root)): p for p in sorted(root.rglob("*"))
            if p.is_file() and not (skip_hidden and any(part.startswith(".") for part in p.relative_to(root).parts))}
