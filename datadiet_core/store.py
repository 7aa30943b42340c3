"""The result store: every run under a hash of its full configuration.

An entry is a folder ``<root>/<kind>/<key>/`` holding ``manifest.json`` (configuration,
metrics, timings, seed, package versions, device, checksums) and ``arrays.npz`` (plain
numeric arrays, never pickled objects). ``key`` is the sha256 of the canonical JSON of
``{kind, config, CODE_VERSION}``, so any change of configuration, or a bumped code version,
is a different entry.

Writes are atomic: the entry is written to a temporary folder beside it and renamed into
place, so a killed run leaves no half-written entry. Reads verify the checksums; a corrupt
or truncated entry is removed and treated as missing, so it is recomputed and never read
as a result. The root is ``$DATADIET_RESULTS`` or ``results/`` beside the package, with one
sub-folder per profile.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from . import CODE_VERSION, MissingResults, ParameterError

MANIFEST = "manifest.json"
ARRAYS = "arrays.npz"
_PACKAGES = ("torch", "torchvision", "numpy", "scipy", "scikit-learn")


def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def results_root() -> Path:
    """``$DATADIET_RESULTS`` if set, else ``results/`` in the project."""
    env = os.environ.get("DATADIET_RESULTS")
    return Path(env) if env else project_root() / "results"


def canonical_json(obj: Any) -> str:
    """Sorted keys, no whitespace, tuples as lists: the same configuration gives the same text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_jsonable)


def _jsonable(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (np.ndarray, tuple, set)):
        return list(o)
    raise TypeError(f"not JSON-serialisable in a store config: {type(o).__name__}")


def config_key(kind: str, config: Mapping[str, Any]) -> str:
    blob = canonical_json({"kind": kind, "config": config, "code_version": CODE_VERSION})
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def environment() -> dict[str, Any]:
    versions = {}
    for p in _PACKAGES:
        try:
            versions[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            versions[p] = None
    return {"python": sys.version.split()[0], "platform": platform.platform(), "packages": versions}


@dataclass
class Record:
    """A stored run: its manifest and (loaded on first use) its arrays."""

    path: Path
    manifest: dict[str, Any]
    _arrays: dict[str, np.ndarray] | None = None

    @property
    def metrics(self) -> dict[str, Any]:
        return self.manifest["metrics"]

    @property
    def config(self) -> dict[str, Any]:
        return self.manifest["config"]

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        if self._arrays is None:
            with np.load(self.path / ARRAYS, allow_pickle=False) as z:
                self._arrays = {k: z[k] for k in z.files}
        return self._arrays


class Store:
    """A folder of results keyed by configuration. See the module docstring."""

    def __init__(self, root: str | Path, read_only: bool = False):
        self.root = Path(root)
        self.read_only = read_only  # loaders read through such a view: a missing entry raises
        self.computed = 0  # entries this Store object computed (not read back): sweeps report it

    def reader(self) -> "Store":
        """A read-only view of the same folder: :meth:`cached` returns stored entries and raises
        :class:`MissingResults` where one would have to be computed."""
        return Store(self.root, read_only=True)

    @classmethod
    def for_profile(cls, profile: str) -> "Store":
        return cls(results_root() / profile)

    def path(self, kind: str, config: Mapping[str, Any]) -> Path:
        if not kind.replace("_", "").isalnum():
            raise ParameterError(f"parameter 'kind' must be letters, digits and underscores; got {kind!r}")
        return self.root / kind / config_key(kind, config)

    def get(self, kind: str, config: Mapping[str, Any]) -> Record | None:
        """The verified entry for (kind, config), or None. A corrupt entry is removed."""
        path = self.path(kind, config)
        if not path.exists():
            return None
        try:
            manifest = json.loads((path / MANIFEST).read_text())
            body = {k: v for k, v in manifest.items() if k != "checksums"}
            ok = (manifest["checksums"]["manifest"] == hashlib.sha256(canonical_json(body).encode()).hexdigest()
                  and manifest["checksums"][ARRAYS] == _sha256_file(path / ARRAYS)
                  and manifest["kind"] == kind and manifest["config"] == json.loads(canonical_json(config)))
        except (OSError, ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            shutil.rmtree(path, ignore_errors=True)
            return None
        return Record(path, manifest)

    def put(self, kind: str, config: Mapping[str, Any], metrics: Mapping[str, Any],
            arrays: Mapping[str, np.ndarray] | None = None, **extra: Any) -> Record:
        """Write an entry atomically (temporary folder, then rename) and return it."""
        path = self.path(kind, config)
        arrays = {k: np.asarray(v) for k, v in (arrays or {}).items()}
        for k, a in arrays.items():
            if a.dtype.hasobject:  # np.savez would pickle it, and we never unpickle
                raise TypeError(f"store array {k!r} has dtype object; store numbers or fixed-width strings")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".tmp-{uuid.uuid4().hex[:8]}-"))
        try:
            with open(tmp / ARRAYS, "wb") as f:
                np.savez(f, **arrays)
            body = {"kind": kind, "key": path.name, "code_version": CODE_VERSION,
                    "config": json.loads(canonical_json(config)), "metrics": json.loads(canonical_json(metrics)),
                    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "environment": environment(), **json.loads(canonical_json(extra))}
            manifest = {**body, "checksums": {"manifest": hashlib.sha256(canonical_json(body).encode()).hexdigest(),
                                              ARRAYS: _sha256_file(tmp / ARRAYS)}}
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
            for p in (tmp, tmp / MANIFEST, tmp / ARRAYS):
                os.chmod(p, 0o755 if p.is_dir() else 0o644)
            if path.exists():  # a stale or corrupt entry, or a concurrent writer's result
                if self.get(kind, config) is not None:
                    shutil.rmtree(tmp)
                    return Record(path, json.loads((path / MANIFEST).read_text()))
            os.rename(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return Record(path, manifest)

    def cached(self, kind: str, config: Mapping[str, Any],
               compute: Callable[[], tuple[Mapping[str, Any], Mapping[str, np.ndarray]]],
               force: bool = False, **extra: Any) -> Record:
        """The stored entry for (kind, config), computing and storing it first if it is missing
        (or if ``force``). ``compute`` returns ``(metrics, arrays)``."""
        if not force:
            rec = self.get(kind, config)
            if rec is not None:
                return rec
        if self.read_only:
            raise MissingResults(f"no {kind} entry {self.path(kind, config).name} in {self.root}")
        t0 = time.perf_counter()
        metrics, arrays = compute()
        self.computed += 1
        if force:
            shutil.rmtree(self.path(kind, config), ignore_errors=True)
        return self.put(kind, config, metrics, arrays, wall_seconds=time.perf_counter() - t0, **extra)

    def entries(self, kind: str) -> list[Record]:
        """Every verified entry of ``kind``."""
        out = []
        for p in sorted((self.root / kind).glob("*")) if (self.root / kind).is_dir() else []:
            if p.name.startswith("."):
                continue
            try:
                m = json.loads((p / MANIFEST).read_text())
                rec = self.get(kind, m["config"])
            except (OSError, ValueError, KeyError):
                shutil.rmtree(p, ignore_errors=True)
                continue
            if rec is not None:
                out.append(rec)
        return out


# --------------------------------------------------------------------------- summary.json

def summary_path(profile: str) -> Path:
    return results_root() / profile / "summary.json"


def read_summary(profile: str) -> dict[str, Any]:
    """The headline numbers each chapter wrote for ``profile`` (empty if none yet)."""
    path = summary_path(profile)
    return json.loads(path.read_text()) if path.exists() else {}


def write_summary(profile: str, section: str, values: Mapping[str, Any]) -> None:
    """Replace ``section`` of ``results/<profile>/summary.json`` atomically, keeping the others."""
    summary = read_summary(profile)
    summary[section] = json.loads(canonical_json(values))
    path = summary_path(profile)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".summary-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
