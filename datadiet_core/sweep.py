"""The only thing that computes: run one chapter's grid into the result store, here or on a
Ray cluster. Everything else (the claim modules' loaders, the notebooks) reads the store.

A chapter's grid is a list of *stages*; the tasks of one stage are independent of each other
and depend only on earlier stages (scoring runs, then the scores computed from them, then the
evaluation runs that prune by those scores). Every task goes through the result store, so a
sweep that is killed and started again redoes only what was not finished, and any number of
workers can share one store: entries are written atomically under a key of their configuration.

- ``local``: every task in this process, in order (what the notebooks do).
- ``ray``: every task of a stage as a Ray task, at most one GPU each where the cluster has GPUs
  (otherwise ``threads`` CPUs each), on a running cluster (``address``) or a local instance;
  a task whose worker fails or is lost is retried (``retries``).
"""
from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from . import MissingResults, ParameterError, bank, c1, c2, c3, dynamic, selection
from .data import load_dataset
from .devices import autocast_dtype, precision_name, select_device
from .profiles import Profile, as_dict, resolve_profile
from .store import Store, project_root

# A grid by the one id each claim has everywhere (CLI, summary.json, modules); "setup" is the
# training-setup chapter (the scoring runs alone). The CLI also takes the older names.
CLAIMS = ("setup", "c1", "c2", "c3")
ALIASES = {"claim1": "c1", "claim2": "c2", "claim3": "c3", "00_training_setup": "setup",
           "01_input_norm_correlation": "c1", "02_static_pruning": "c2", "03_dynamic_pruning": "c3"}
CLAIM_MODULES = {"c1": c1, "c2": c2, "c3": c3}
ENGINES = ("local", "ray")


@dataclass(frozen=True)
class Task:
    """One unit of a sweep: ``spec`` (a frozen dataclass of ``bank`` or a claim module) at ``stage``."""

    claim: str
    stage: int
    spec: Any

    @property
    def kind(self) -> str:
        return type(self.spec).__name__

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def needs_bank(self) -> bool:
        return bool(self.spec.needs_bank)


def claim_id(claim: Any) -> str:
    """The claim's id (``c2``) for an id or an older name (``claim2``, ``02_static_pruning``)."""
    cid = ALIASES.get(claim, claim) if isinstance(claim, str) else claim
    if cid not in CLAIMS:
        raise ParameterError(f"parameter 'claim' must be one of {', '.join(CLAIMS)} (or claim1, claim2, claim3); "
                             f"got {claim!r}")
    return cid


def stages(claim: str, P: Profile) -> list[list[Task]]:
    """The grid of ``claim`` for profile ``P``, as stages of independent tasks: the shared
    scoring runs and score bank, then the claim's own stages."""
    cid = claim_id(claim)
    specs = bank.stages(P) + (CLAIM_MODULES[cid].stages(P) if cid in CLAIM_MODULES else bank.variant_stages(P))
    specs = [s for s in specs if s]
    return [[Task(cid, i, spec) for spec in stage] for i, stage in enumerate(specs)]


def check_claim(claim: Any) -> None:
    claim_id(claim)


def run_task(profile: dict[str, Any], root: str, task: Task, score_bank: dict[str, np.ndarray] | None = None,
             threads: int | None = None, force: bool = False) -> bool:
    """Execute ``task`` into the store at ``root``; True when it was computed, False when it came
    from the store. ``score_bank`` is the stage's bank (loaded once per stage by the caller).
    Importable by Ray workers: everything it needs is in its arguments."""
    if threads:
        torch.set_num_threads(threads)
    P = resolve_profile(profile["name"], **{k: v for k, v in profile.items() if k != "name"})
    store = Store(root)
    if not force:
        try:  # stored: read back on any machine, whatever precision it was computed in
            _run_spec(P, store.reader(), task.spec, score_bank, False)
            return False
        except MissingResults:
            pass
    check_precision(P, store)  # about to compute: only in the precision the store's runs have
    before = store.computed
    _run_spec(P, store, task.spec, score_bank, force)
    return store.computed > before


def _run_spec(P: Profile, store: Store, spec: Any, score_bank: dict[str, np.ndarray] | None, force: bool) -> None:
    """``spec`` through ``store`` by the module that owns its kind (a read-only store only reads)."""
    if isinstance(spec, (bank.ScoringSpec, bank.ScoreSpec, bank.VariantSpec)):
        bank.run_spec(P, store, spec, force)
    elif isinstance(spec, c1.AnalysisSpec):
        c1.run_spec(P, store, spec, score_bank, force)
    elif isinstance(spec, c2.PrunedSpec):
        c2.run_spec(P, store, spec, score_bank, force)
    elif isinstance(spec, c3.DynamicSpec):
        c3.run_spec(P, store, spec, score_bank, force)
    else:
        raise ParameterError(f"parameter 'task' must hold a spec of bank, c1, c2 or c3; got {type(spec).__name__}")


@dataclass
class Report:
    total: int
    done: int
    from_store: int
    seconds: float
    minutes: float | None = None  # the time limit, when the sweep stopped at it

    def line(self) -> str:
        line = f"done: {self.done}/{self.total} runs ({self.from_store} from store)"
        if self.minutes is not None:
            line += (f"; stopped before the {self.minutes:g}-minute limit with {self.total - self.done} left "
                     "(the same command goes on from the store)")
        return line


def sweep(claim: str, P: Profile, root: str | Path, engine: str = "local", address: str | None = None,
          retries: int = 2, threads: int | None = None, progress: Callable[[str], None] | None = print,
          force: bool = False, minutes: float | None = None) -> Report:
    """Run the grid of ``claim`` into the store at ``root`` with ``engine`` (``force``: recompute
    every task instead of reading the store). The score bank is loaded once per stage that needs
    it, after the stages that compute it.

    ``minutes`` (local engine): start no task that would end past this many minutes, judged by
    the longest task computed so far, so a sweep on a lent machine stops with every finished
    run stored; run it again to go on.

    A stored task is read back whatever precision it was computed in, so a book builds from a
    committed store on any machine; a task to compute first checks that this machine resolves
    ``P.precision`` as the store's runs did (:func:`check_precision`).
    """
    cid = claim_id(claim)
    if engine not in ENGINES:
        raise ParameterError(f"parameter 'engine' must be one of {', '.join(ENGINES)}; got {engine!r}")
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise ParameterError(f"parameter 'retries' must be an integer >= 0; got {retries!r}")
    if threads is not None and (not isinstance(threads, int) or isinstance(threads, bool) or threads < 1):
        raise ParameterError(f"parameter 'threads' must be an integer >= 1; got {threads!r}")
    if address is not None and engine != "ray":
        raise ParameterError("parameter 'address' must only be given with engine ray")
    if minutes is not None:
        check_minutes(minutes, engine)
    grid = stages(cid, P)
    total = sum(len(s) for s in grid)
    profile = as_dict(P)
    t0 = time.perf_counter()
    done = from_store = 0
    run_stage = _local_stage if engine == "local" else _ray_stage(address, retries, threads)
    longest = 0.0  # seconds of the longest task computed so far (the estimate of the next one)

    def in_time() -> bool:
        return fits(time.perf_counter() - t0, longest, minutes)

    for stage in grid:
        if not in_time():
            return Report(total, done, from_store, time.perf_counter() - t0, minutes)
        before = done
        score_bank = bank.score_bank(P, Store(root)) if any(t.needs_bank for t in stage) else None
        for task, computed, seconds in run_stage(profile, str(root), stage, score_bank, threads, force, in_time):
            done += 1
            from_store += not computed
            longest = max(longest, seconds if computed else 0.0)
            if progress:
                progress(f"[{done}/{total}] {task.label}: {'computed' if computed else 'from store'}")
        if done - before < len(stage):  # the stage stopped at the limit: later stages need all of it
            return Report(total, done, from_store, time.perf_counter() - t0, minutes)
    return Report(total, done, from_store, time.perf_counter() - t0)


def stored_precisions(store: Store, precision: str) -> set[str]:
    """The precisions the training runs in ``store`` resolved their ``precision`` setting to, read
    from their manifests (``metrics.precision``)."""
    out = set()
    for manifest in (store.root / "train").glob("*/manifest.json") if (store.root / "train").is_dir() else []:
        try:
            m = json.loads(manifest.read_text())
        except (OSError, ValueError):
            continue
        if m.get("config", {}).get("precision") == precision and "precision" in m.get("metrics", {}):
            out.add(m["metrics"]["precision"])
    return out


def check_precision(P: Profile, store: Store) -> None:
    """Refuse to add runs to a store whose runs resolved ``P.precision`` otherwise than this
    machine does (``auto`` is bf16 on a CPU with native bf16, fp32 on one without): a grid never
    mixes precisions, which differ in results and in speed."""
    here = precision_name(autocast_dtype(select_device(P.device), P.precision))
    other = stored_precisions(store, P.precision) - {here}
    if other:
        raise ParameterError(f"parameter 'precision' ({P.precision}) resolves to {here} on this machine, but the "
                             f"store {store.root} holds runs in {', '.join(sorted(other))}; run this grid on a machine "
                             f"that resolves it the same way, or into another store")


def check_minutes(minutes: object, engine: str = "local") -> None:
    """One line naming ``minutes`` unless it is a time limit a sweep can keep: a number > 0, with
    the local engine."""
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not minutes > 0 or engine != "local":
        raise ParameterError(f"parameter 'minutes' must be a number > 0, with engine local; got {minutes!r}")


def fits(elapsed_s: float, next_s: float, minutes: float | None) -> bool:
    """Whether a task estimated at ``next_s`` seconds, started ``elapsed_s`` into a sweep, ends
    within ``minutes`` (always, without a limit)."""
    return minutes is None or elapsed_s + next_s <= 60 * minutes


def _local_stage(profile: dict, root: str, stage: list[Task], score_bank: dict | None, threads: int | None,
                 force: bool, in_time: Callable[[], bool]) -> Iterator[tuple[Task, bool, float]]:
    for task in stage:
        if not in_time():
            return
        t = time.perf_counter()
        computed = run_task(profile, root, task, score_bank, threads, force)
        yield task, computed, time.perf_counter() - t


def _ray_stage(address: str | None, retries: int, threads: int | None):
    """A stage runner that submits every task of a stage to Ray and yields them as they finish
    (the stage's score bank goes to the object store once, not once per task)."""
    import ray  # optional: only this engine needs it

    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 **({} if address else {"num_cpus": threads or None}))
    gpus = ray.cluster_resources().get("GPU", 0) > 0
    # One GPU per task where there are GPUs; otherwise `threads` CPUs (default 1) per task.
    remote = ray.remote(num_gpus=1 if gpus else 0, num_cpus=1 if gpus else (threads or 1),
                        max_retries=retries, retry_exceptions=True)(run_task)

    def run_stage(profile: dict, root: str, stage: list[Task], score_bank: dict | None, threads_: int | None,
                  force: bool, in_time: Callable[[], bool]) -> Iterator[tuple[Task, bool, float]]:
        ref_bank = ray.put(score_bank)  # (no time limit here: `minutes` is for the local engine)
        pending = {remote.remote(profile, root, t, ref_bank, threads_, force): t for t in stage}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                yield pending.pop(ref), ray.get(ref), 0.0
    return run_stage


# --------------------------------------------------------------------------- planning

PASSES = ("train", "forward", "grand")  # what a task's images go through: plan prices each at its measured rate


def task_images(P: Profile, task: Task) -> dict[str, float]:
    """Images a task pushes through each kind of pass (:data:`PASSES`): training steps; forward
    passes without gradients (evaluation, with test-time augmentation six per test image, EL2N,
    the loss-driven selectors' scoring passes); GraNd's per-example gradients. A C3 full-data
    cell read from a scoring run costs nothing here (``setup`` counts it)."""
    n, n_test = _sizes(P)
    final_eval = n_test * (7 if P.tta else 1)  # the last pass: plain, and with test-time augmentation
    spec = task.spec
    out = {"train": 0.0, "forward": 0.0, "grand": 0.0}
    if isinstance(spec, (bank.ScoringSpec, bank.VariantSpec)):
        Q = bank.variant_profile(P, spec.variant) if isinstance(spec, bank.VariantSpec) else P
        out.update(train=Q.epochs * n, forward=(Q.epochs - 1) * n_test + final_eval)
    elif isinstance(spec, bank.ScoreSpec):
        images = float(min(spec.images or np.inf, _split_size(P, spec.dataset, spec.split)))
        out.update(grand=images, forward=images)  # GraNd, then EL2N
    elif isinstance(spec, c2.PrunedSpec):
        out.update(train=c2.run_epochs(P, spec) * n, forward=final_eval)
    elif isinstance(spec, c3.DynamicSpec) and not spec.scoring_run:
        keep = 1.0 - spec.prune
        E = spec.epochs
        if spec.selector == "full":
            out.update(train=E * n, forward=(E - 1) * n_test + final_eval)
        else:
            passes = E if spec.budget == "epochs" else E / keep
            trained = E * n * (1.0 if spec.budget == "iterations" else keep)
            if spec.selector == "infobatch":
                trained = E * n * (1 - 0.5 * spec.prune)
            scoring = spec.selector in selection.DYNAMIC_SELECTORS[1:] or spec.variant  # the loss-driven ones
            period = spec.period or dynamic.period_passes(E, keep, spec.budget)
            evals = passes if abs(spec.prune - dynamic.FIG5_PRUNE) < 1e-9 and spec.budget == "epochs" else 1
            out.update(train=trained, forward=(passes / period * n if scoring else 0.0) + (evals - 1) * n_test + final_eval)
    return out


def _sizes(P: Profile) -> tuple[int, int]:
    """Training and test examples of the profile's data (its subsets where it sets them)."""
    n_train, n_test = _dataset_sizes(P.dataset)
    return (n_train if P.train_size is None else min(P.train_size, n_train),
            n_test if P.test_size is None else min(P.test_size, n_test))


def _split_size(P: Profile, dataset: str, split: str) -> int:
    """Examples of ``split`` ("train" or "test") of ``dataset``: the profile's subset where it is
    the profile's data, else the whole split (C1's second dataset)."""
    sizes = _sizes(P) if dataset == P.dataset else _dataset_sizes(dataset)
    return sizes[0] if split == "train" else sizes[1]


@functools.lru_cache(maxsize=None)
def _dataset_sizes(name: str) -> tuple[int, int]:
    ds = load_dataset(name)  # read once, from the verified cache
    return len(ds.y_train), len(ds.y_test)


def task_seconds(P: Profile, task: Task, rates: dict[str, float]) -> float:
    """:func:`task_images` at ``rates`` (images per second per kind of pass)."""
    return sum(images / rates[kind] for kind, images in task_images(P, task).items() if images)


def measured_img_s(root: Path | None = None) -> dict[str, Any]:
    """Training throughput measured by ``python -m datadiet_core bench --save`` and committed in
    ``benchmarks/throughput.json``: per device kind (``cpu``, ``cuda``), ``"model@batch"`` →
    images per second on the machine named under ``hosts``."""
    path = (root or project_root()) / "benchmarks" / "throughput.json"
    return json.loads(path.read_text()) if path.exists() else {}


def rates(P: Profile, device: str | None = None, measured: dict[str, Any] | None = None) -> tuple[dict[str, float], str]:
    """Images per second of each kind of pass (:data:`PASSES`) for ``P.model`` at ``P.batch_size``
    (:func:`throughput` for training; the bench's scoring-pass and GraNd rates, saved beside it as
    ``model@batch/forward`` and ``model@batch/grand`` on the same device and batch), and where they
    come from. A rate the bench did not save is taken as the training rate, and the source says so."""
    measured = measured_img_s() if measured is None else measured
    kind, batch, train_rate, source = _measured_at(P, device, measured)
    out = {"train": train_rate}
    missing = []
    for extra in ("forward", "grand"):
        value = measured.get(kind, {}).get(f"{P.model}@{batch}/{extra}")
        out[extra] = float(value) if value else train_rate
        if not value:
            missing.append(extra)
    if missing:
        source += f"; {' and '.join(missing)} passes at the training rate (not measured)"
    return out, source


def throughput(P: Profile, device: str | None = None, measured: dict[str, Any] | None = None) -> tuple[float, str]:
    """Training images per second for ``P.model`` at ``P.batch_size`` on ``device`` (``cpu`` or
    ``cuda``; default: the profile's device if it names one, else the CPU where the model was
    measured there, else the GPU) and where the figure comes from. Every figure is measured
    (:func:`measured_img_s`); where the model was measured at another batch size only, the
    nearest one is used and the source says so (on a GPU the rate grows with the batch).
    ``measured``: the figures to read (default :func:`measured_img_s`)."""
    _, _, rate, source = _measured_at(P, device, measured_img_s() if measured is None else measured)
    return rate, source


def _measured_at(P: Profile, device: str | None, measured: dict[str, Any]) -> tuple[str, int, float, str]:
    """The device kind and batch size whose training rate :func:`throughput` reads, the rate, and
    its source."""
    if device not in (None, "cpu", "cuda"):
        raise ParameterError(f"parameter 'device' must be cpu or cuda; got {device!r}")
    kinds = [device] if device else [P.device] if P.device in ("cpu", "cuda") else ["cpu", "cuda"]
    for kind in kinds:
        pairs = (k.partition("@") for k in measured.get(kind, {}))  # "model@batch"; other keys are not read
        batches = {int(b): measured[kind][f"{m}@{b}"] for m, _, b in pairs if m == P.model and b.isdigit()}
        if batches:
            b = min(batches, key=lambda x: (abs(x - P.batch_size), x))
            at = "" if b == P.batch_size else f", at batch {b}, not {P.batch_size}"
            return kind, b, float(batches[b]), (f"measured on {measured.get('hosts', {}).get(kind, kind)}{at} "
                                                "(benchmarks/throughput.json)")
    raise ParameterError(f"parameter 'profile' has model {P.model!r} with no throughput measured on "
                         f"{' or '.join(kinds)}; measure it there with: python -m datadiet_core bench --save "
                         f"--profile {P.name}")


def plan(claim: str, P: Profile, device: str | None = None) -> dict[str, Any]:
    """The grid of ``claim``: tasks per stage and kind, and the estimated device-hours from the
    throughput measured on ``device`` (:func:`throughput`)."""
    grid = stages(claim, P)
    r, source = rates(P, device)
    rows = []
    for i, stage in enumerate(grid):
        kinds: dict[str, int] = {}
        seconds = 0.0
        for t in stage:
            kinds[t.kind] = kinds.get(t.kind, 0) + 1
            seconds += task_seconds(P, t, r)
        rows.append({"stage": i, "tasks": len(stage), "kinds": kinds, "device_hours": seconds / 3600})
    return {"claim": claim_id(claim), "profile": P.name, "model": P.model, "runs": sum(r_["tasks"] for r_ in rows),
            "stages": rows, "device_hours": sum(r_["device_hours"] for r_ in rows), "img_per_s": r["train"],
            "rates": r, "throughput_source": source}


def measured_cost(P: Profile, store: Store) -> list[dict[str, Any]]:
    """What the stored runs of every claim's grid took, read from their manifests (nothing is
    computed): per claim, the runs in its grid, how many are stored and the sum of their
    wall-clock seconds. The shared scoring runs and score bank are counted once, under
    ``setup``; the sum over claims is what the whole book costs from an empty store, on the
    hosts and in the conditions the runs were timed in. Beside it, ``estimated_hours``: the
    grid's training, forward and GraNd passes at the benchmark's rates (:func:`rates`), free of
    hosts that shared their cores, for the whole grid and (``estimated_stored_hours``) for the
    stored runs alone, the figure to set beside theirs."""
    r = rates(P)[0]
    reader = store.reader()
    score_bank: dict[str, np.ndarray] | None = None
    shared = len([s for s in bank.stages(P) if s])
    out = []
    for cid in CLAIMS:
        tasks = [t for stage in stages(cid, P) for t in stage if (cid == "setup" or t.stage >= shared)
                 and not getattr(t.spec, "scoring_run", False)]  # a scoring run counts under setup
        estimates = [task_seconds(P, t, r) for t in tasks]  # priced once: for the grid and for its stored runs
        seconds, stored, stored_estimate = 0.0, 0, 0.0
        for t, estimate in zip(tasks, estimates):
            spec = t.spec
            try:
                if isinstance(spec, (bank.ScoringSpec, bank.ScoreSpec, bank.VariantSpec)):
                    rec = bank.run_spec(P, reader, spec)
                else:
                    if score_bank is None:
                        score_bank = bank.score_bank(P, reader)
                    rec = CLAIM_MODULES[cid].run_spec(P, reader, spec, score_bank)
            except MissingResults:
                continue
            seconds += float(rec.manifest.get("wall_seconds", 0.0))
            stored += 1
            stored_estimate += estimate
        out.append({"claim": cid, "runs": len(tasks), "stored": stored, "hours": seconds / 3600,
                    "estimated_stored_hours": stored_estimate / 3600, "estimated_hours": sum(estimates) / 3600})
    return out