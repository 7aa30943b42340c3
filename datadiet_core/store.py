"""The result store: every run under a hash of its full configuration.

An entry is a folder ``<root>/<kind>/<key>/`` holding ``manifest.json`` (configuration,
metrics, timings, seed, package versions, device, checksums) and ``arrays.npz`` (plain
numeric arrays, never pickled objects, compressed, each in the smallest dtype that holds its
values exactly: ``dtypes`` in the manifest names the dtype it is read back in). ``key`` is the sha256 of the canonical JSON of
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
SUMMARY = "summary.json"
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
        """The arrays, each in the dtype it was computed in (stored in a smaller exact one)."""
        if self._arrays is None:
            dtypes = self.manifest.get("dtypes", {})
            with np.load(self.path / ARRAYS, allow_pickle=False) as z:
                self._arrays = {k: z[k].astype(dtypes[k]) if k in dtypes else z[k] for k in z.files}
        return self._arrays

    @property
    def dropped(self) -> list[str]:
        """Prefixes of arrays left out of this entry after it was computed (``Store.rewrite``)."""
        return list(self.manifest.get("dropped", []))


def smallest_exact(a: np.ndarray) -> np.ndarray:
    """``a`` in the smallest dtype of its kind that holds every value exactly: integers by their
    range, floats as float16 or float32 when the round trip gives back every value (inf and NaN
    included). Anything else is returned as it is."""
    if a.size and a.dtype.kind in "iu":
        lo, hi = a.min(), a.max()
        for t in (np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32):
            if np.dtype(t).itemsize < a.dtype.itemsize and np.iinfo(t).min <= lo and hi <= np.iinfo(t).max:
                return a.astype(t)
    if a.size and a.dtype.kind == "f":
        for t in (np.float16, np.float32):
            if np.dtype(t).itemsize < a.dtype.itemsize:
                with np.errstate(over="ignore"):
                    b = a.astype(t)
                if np.array_equal(b.astype(a.dtype), a, equal_nan=True):
                    return b
    return a


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
        body = {"kind": kind, "key": path.name, "code_version": CODE_VERSION,
                "config": json.loads(canonical_json(config)), "metrics": json.loads(canonical_json(metrics)),
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "environment": environment(), **json.loads(canonical_json(extra))}
        tmp, manifest = self._staged(path, body, {k: np.asarray(v) for k, v in (arrays or {}).items()})
        try:
            if path.exists():  # a stale or corrupt entry, or a concurrent writer's result
                if self.get(kind, config) is not None:
                    shutil.rmtree(tmp)
                    return Record(path, json.loads((path / MANIFEST).read_text()))
            os.rename(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return Record(path, manifest)

    def rewrite(self, rec: Record, drop: tuple[str, ...] = ()) -> Record:
        """Write ``rec`` again in today's format (compressed, smallest exact dtypes), leaving out
        the arrays whose names start with a prefix of ``drop`` (listed in the manifest as
        ``dropped``). Key, configuration, metrics and timings stay; checksums are recomputed."""
        if self.read_only:
            raise ParameterError("parameter 'store' must be writable to rewrite an entry")
        gone = [p for p in drop if any(k.startswith(p) for k in rec.arrays)]
        arrays = {k: a for k, a in rec.arrays.items() if not k.startswith(tuple(drop) or ("\0",))}
        body = {k: v for k, v in rec.manifest.items() if k not in ("checksums", "dtypes", "dropped")}
        if gone or rec.dropped:
            body["dropped"] = sorted(set(rec.dropped) | set(gone))
        tmp, manifest = self._staged(rec.path, body, arrays)
        old = rec.path.parent / f".tmp-old-{uuid.uuid4().hex[:8]}"
        os.rename(rec.path, old)  # both renames are atomic; between them the entry reads as missing
        os.rename(tmp, rec.path)
        shutil.rmtree(old)
        return Record(rec.path, manifest)

    def _staged(self, path: Path, body: dict[str, Any], arrays: dict[str, np.ndarray]) -> tuple[Path, dict]:
        """A complete entry in a temporary folder beside ``path``: arrays compressed, each in its
        smallest exact dtype (the original recorded under ``dtypes`` and restored on reading)."""
        for k, a in arrays.items():
            if a.dtype.hasobject:  # np.savez would pickle it, and we never unpickle
                raise TypeError(f"store array {k!r} has dtype object; store numbers or fixed-width strings")
        small = {k: smallest_exact(a) for k, a in arrays.items()}
        dtypes = {k: str(a.dtype) for k, a in arrays.items() if small[k].dtype != a.dtype}
        body = {**body, **({"dtypes": dtypes} if dtypes else {})}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".tmp-{uuid.uuid4().hex[:8]}-"))
        try:
            with open(tmp / ARRAYS, "wb") as f:
                np.savez_compressed(f, **small)
            manifest = {**body, "checksums": {"manifest": hashlib.sha256(canonical_json(body).encode()).hexdigest(),
                                              ARRAYS: _sha256_file(tmp / ARRAYS)}}
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
            for p in (tmp, tmp / MANIFEST, tmp / ARRAYS):
                os.chmod(p, 0o755 if p.is_dir() else 0o644)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return tmp, manifest

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
    return results_root() / profile / SUMMARY


def read_summary(profile: str) -> dict[str, Any]:
    """The headline numbers each chapter wrote for ``profile`` (empty if none yet)."""
    path = summary_path(profile)
    return json.loads(path.read_text()) if path.exists() else {}


def write_summary(profile: str, section: str, values: Mapping[str, Any] | None) -> None:
    """Replace ``section`` of ``results/<profile>/summary.json`` atomically, keeping the others
    (``values`` None: remove the section)."""
    summary = read_summary(profile)
    if values is None:
        summary.pop(section, None)
    else:
        summary[section] = json.loads(canonical_json(values))
    path = summary_path(profile)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".summary-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
