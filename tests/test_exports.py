"""Score files a researcher can take away, and subsets on demand (module exports, CLI scores and subset)."""
import json
import subprocess
import sys

import numpy as np
import pytest

from datadiet_core import ParameterError, bank, c2, cli, exports, runs, selection, store, summaries, sweep
from small import digits_profile


@pytest.fixture(scope="module")
def computed(tmp_path_factory):
    """The digits profile's setup, C1 and a slice of C2 (50% pruned, 1 seed) in a private store."""
    root = tmp_path_factory.mktemp("results")
    P = digits_profile(prune_fractions=(0.5,), eval_seeds=1, side_seeds=1, regime_epochs=(), c1_models=(),
                       c1_fashion=False, c2_scores=("random", "el2n_early"), c2_per_class=("el2n_early",),
                       c2_rule_scores=())
    s = store.Store(root / "smoke")
    for claim in ("setup", "c1", "c2"):
        sweep.sweep(claim, P, s.root, progress=None)
    return P, s


def test_score_files_load_with_numpy_alone_and_their_digests_verify(computed, tmp_path):
    P, s = computed
    manifest_path = exports.export_scores(P, s, tmp_path / "scores")
    manifest = json.loads(manifest_path.read_text())
    assert exports.verify(tmp_path / "scores") and set(manifest["files"]) == {"scores.npz", "scores.csv.gz"}
    z = np.load(tmp_path / "scores" / "scores.npz", allow_pickle=False)
    n = len(z["label"])
    assert n == 1500 and (z["index"] == np.arange(n)).all()  # the dataset's own order
    for score in ("input_norm", "grand_init", "grand_early", "el2n_early", "forgetting", "grand_init_restore_bug"):
        assert z[score].shape == (n,), score
    runs_ = np.stack([z[f"el2n_early__run{k}"] for k in range(P.scoring_seeds)])
    np.testing.assert_allclose(runs_.mean(0), z["el2n_early"], rtol=1e-6)  # the mean is over the runs exported
    info = manifest["scores"]
    assert info["grand_init"]["runs"] == P.scoring_seeds and info["grand_init_c1"]["runs"] == P.inits
    assert "initialisations" in info["grand_init_c1"]["averaged_over"] and "scoring runs" in info["grand_init"]["averaged_over"]
    there = info["el2n_early"]["accuracy_there"]
    assert set(there) in ({"test_acc"}, {"test_acc_between"}, {"test_acc_first_evaluation_after", "what"})
    assert all(np.isfinite(v).all() for k, v in there.items() if k != "what")  # no NaN in a JSON file
    assert info["el2n_early"]["checkpoint"] == f"epoch {P.early * P.epochs:g} of {P.epochs} ({P.early:.0%} of training)"
    assert manifest["net"] == P.model and manifest["epochs"] == P.epochs
    assert manifest["dataset_sha256"]["x_train"] and manifest["dataset_verified"]  # digits: no published digest
    (tmp_path / "scores" / "scores.npz").write_bytes(b"damaged")
    assert not exports.verify(tmp_path / "scores")


def test_a_c1_correlation_row_recomputes_from_the_files_alone(computed, tmp_path):
    P, s = computed
    exports.export_scores(P, s, tmp_path / "scores")
    c1 = summaries.claim1(P, s)
    out = subprocess.run([sys.executable, "-c", exports.RECOMPUTE], cwd=tmp_path / "scores", capture_output=True,
                         text=True, check=True)  # a fresh interpreter: no datadiet_core imported
    assert float(out.stdout) == pytest.approx(c1["score_pairs"]["grand_early_vs_el2n_early"][0], abs=1e-4)


def test_subset_is_what_the_stored_c2_run_trained_on(computed):
    P, s = computed
    sc = bank.score_bank(P, s)
    specs = c2.grid(P)
    assert {g.rule for g in specs} == {"keep_highest", "per_class"} and {g.score for g in specs} == {"random", "el2n_early"}
    for spec in specs:
        rows = exports.subset(P, s, spec.score, spec.prune, spec.rule == "per_class",
                              runs.EVAL_SEED_OFFSET + spec.eval_index)
        rec = c2.run_spec(P, s.reader(), spec, sc)
        assert rec.config["subset"].endswith(":" + runs.subset_digest(rows)), spec.label


def test_bad_input_gets_one_line_naming_the_parameter_and_nothing_is_written(computed, tmp_path, monkeypatch, capsys):
    P, s = computed
    bad = [({"score": "loss", "prune": 0.5}, "parameter 'score' must be one of random, input_norm"),
           ({"score": "el2n_early", "prune": 1.0}, "parameter 'prune' must be a fraction in (0, 1)"),
           ({"score": "random", "prune": 0.5, "seed": -1}, "parameter 'seed' must be an integer >= 0")]
    for kw, message in bad:
        with pytest.raises(ParameterError) as e:
            exports.subset(P, s, **kw)
        assert str(e.value).startswith(message) and "\n" not in str(e.value)
    empty = store.Store(tmp_path / "nothing" / "smoke")
    with pytest.raises(ParameterError, match="parameter 'profile' has no results in"):
        exports.export_scores(P, empty, tmp_path / "never")
    assert not (tmp_path / "never").exists()
    monkeypatch.setenv("DATADIET_RESULTS", str(tmp_path / "nothing"))  # the CLI on a profile with no results
    out = tmp_path / "kept.txt"
    assert cli.main(["subset", "--profile", "smoke", "--score", "el2n_early", "--prune", "0.5", "--out", str(out)]) == 2
    assert cli.main(["scores", "export", "--profile", "smoke", "--out", str(tmp_path / "files")]) == 2
    assert cli.main(["subset", "--profile", "smoke", "--score", "loss", "--prune", "0.5"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("error: parameter 'profile' has no results in") and len(err) == 3
    assert err[2].startswith("error: parameter 'score' must be one of")
    assert not out.exists() and not (tmp_path / "files").exists()
    assert set(exports.DEFINITIONS) >= set(selection.STATIC_SCORES[1:])


def test_the_books_score_table_keeps_one_cell_per_column_when_a_definition_has_bars():
    from datadiet_core import book
    rows = book.score_rows({"scores": {n: {"definition": d, "checkpoint": "init", "averaged_over": "4 runs"}
                                       for n, d in exports.DEFINITIONS.items()}})
    assert len(rows) == len(exports.DEFINITIONS)
    for row in rows:  # 4 cells: 5 unescaped bars
        assert len([i for i, ch in enumerate(row) if ch == "|" and row[i - 1:i] != "\\"]) == 5, row
