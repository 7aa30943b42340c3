import os
import sys
from pathlib import Path

import pytest
import torch

# Tests must never write into the committed results/ folder.
os.environ.setdefault("DATADIET_RESULTS", "/tmp/datadiet-test-results-unused")
torch.set_num_threads(2)
sys.path.insert(0, str(Path(__file__).parent))  # tests/browser.py


@pytest.fixture
def results_dir(tmp_path, monkeypatch):
    """A private result store root for one test."""
    monkeypatch.setenv("DATADIET_RESULTS", str(tmp_path / "results"))
    return tmp_path / "results"


@pytest.fixture(scope="session")
def cifar10():
    """The real CIFAR-10 (fetched and verified on first use; cached in $DATADIET_DATA)."""
    from datadiet_core.data import load_dataset

    return load_dataset("cifar10")
