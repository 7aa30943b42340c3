"""Run one chapter's experiment grid into the result store, here or on a Ray cluster.

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

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from . import ParameterError
from .profiles import Profile, as_dict, resolve_profile

CLAIMS = ("claim1", "claim2", "claim3")
ENGINES = ("local", "ray")


@dataclass(frozen=True)
class Task:
    """One unit of a sweep: ``kind`` names the function, ``spec`` its JSON-able arguments."""

    claim: str
    stage: int
    kind: str
    spec: tuple[tuple[str, Any], ...]

    @property
    def label(self) -> str:
        return f"{self.kind}(" + ", ".join(f"{k}={v}" for k, v in self.spec) + ")"

    def args(self) -> dict[str, Any]:
        return dict(self.spec)


def _task(claim: str, stage: int, kind: str, **spec: Any) -> Task:
    return Task(claim, stage, kind, tuple(spec.items()))


def _scoring_stages(claim: str, P: Profile) -> list[list[Task]]:
    """Stage 0: the scoring runs; stage 1: GraNd/EL2N of the training split at init, 10% and end."""
    runs = [_task(claim, 0, "scoring_run", seed=s) for s in range(P.scoring_seeds)]
    scores = [_task(claim, 1, "scores", dataset=P.dataset, model=P.model, seed=s, when=w, split="train", images=None)
              for s in range(P.scoring_seeds) for w in (0.0, P.early, 1.0)]
    return [runs, scores]


def stages(claim: str, P: Profile) -> list[list[Task]]:
    """The grid of ``claim`` for profile ``P``, as stages of independent tasks."""
    from . import experiments as ex

    check_claim(claim)
    out = _scoring_stages(claim, P)
    if claim == "claim1":
        extra = []
        for s in ex.c1_settings(P):
            for seed in range(s["seeds"]):
                t = _task(claim, 1, "scores", dataset=s["dataset"], model=s["model"], seed=seed, when=s["when"],
                          split=s["split"], images=s["images"])
                if t not in out[1] and t not in extra:
                    extra.append(t)
        out[1] += extra
    elif claim == "claim2":
        out.append([_task(claim, 2, "c2", **asdict(g)) for g in ex.c2_grid(P)])
    else:
        grid = ex.c3_grid(P)
        out.append([_task(claim, 2, "c3", **asdict(g)) for g in grid if not g.selector.startswith("always_plus_")])
        out.append([_task(claim, 3, "c3", **asdict(g)) for g in grid if g.selector.startswith("always_plus_")])
    return [s for s in out if s]


def check_claim(claim: Any) -> None:
    if claim not in CLAIMS:
        raise ParameterError(f"parameter 'claim' must be one of {', '.join(CLAIMS)}; got {claim!r}")


def run_task(profile: dict[str, Any], root: str, task: Task, threads: int | None = None, force: bool = False) -> bool:
    """Execute ``task`` into the store at ``root``; True when it was computed, False when it came
    from the store. Importable by Ray workers: everything it needs is in its arguments."""
    import torch

    from . import experiments as ex
    from .store import Store

    if threads:
        torch.set_num_threads(threads)
    P = resolve_profile(profile["name"], **{k: v for k, v in profile.items() if k != "name"})
    store = Store(root)
    before = store.computed
    a = task.args()
    if task.kind == "scoring_run":
        ex.scoring_run(P, a["seed"], store, force)
    elif task.kind == "scores":
        ex.model_scores(P.replace(dataset=a["dataset"]), store, a["seed"], a["when"], a["split"], a["model"],
                        a["images"], force)
    elif task.kind == "c2":
        ex.c2_run(P, store, ex.PrunedSpec(**a), ex.c2_scores(P, store), force)
    elif task.kind == "c3":
        ex.c3_run(P, store, ex.DynamicSpec(**a), force)
    else:
        raise ParameterError(f"parameter 'kind' must be scoring_run, scores, c2 or c3; got {task.kind!r}")
    return store.computed > before


@dataclass
class Report:
    total: int
    done: int
    from_store: int
    seconds: float

    def line(self) -> str:
        return f"done: {self.done}/{self.total} runs ({self.from_store} from store)"


def sweep(claim: str, P: Profile, root: str | Path, engine: str = "local", address: str | None = None,
          retries: int = 2, threads: int | None = None, progress: Callable[[str], None] | None = print,
          force: bool = False) -> Report:
    """Run the grid of ``claim`` into the store at ``root`` with ``engine`` (``force``: recompute
    every task instead of reading the store)."""
    check_claim(claim)
    if engine not in ENGINES:
        raise ParameterError(f"parameter 'engine' must be one of {', '.join(ENGINES)}; got {engine!r}")
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise ParameterError(f"parameter 'retries' must be an integer >= 0; got {retries!r}")
    if threads is not None and (not isinstance(threads, int) or isinstance(threads, bool) or threads < 1):
        raise ParameterError(f"parameter 'threads' must be an integer >= 1; got {threads!r}")
    if address is not None and engine != "ray":
        raise ParameterError("parameter 'address' must only be given with engine ray")
    grid = stages(claim, P)
    total = sum(len(s) for s in grid)
    profile = as_dict(P)
    t0 = time.perf_counter()
    done = from_store = 0
    run_stage = _local_stage if engine == "local" else _ray_stage(address, retries, threads)
    for stage in grid:
        for task, computed in run_stage(profile, str(root), stage, threads, force):
            done += 1
            from_store += not computed
            if progress:
                progress(f"[{done}/{total}] {task.label}: {'computed' if computed else 'from store'}")
    return Report(total, done, from_store, time.perf_counter() - t0)


def _local_stage(profile: dict, root: str, stage: list[Task], threads: int | None, force: bool):
    for task in stage:
        yield task, run_task(profile, root, task, threads, force)


def _ray_stage(address: str | None, retries: int, threads: int | None):
    """A stage runner that submits every task of a stage to Ray and yields them as they finish."""
    import ray

    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 **({} if address else {"num_cpus": threads or None}))
    gpus = ray.cluster_resources().get("GPU", 0) > 0
    # One GPU per task where there are GPUs; otherwise `threads` CPUs (default 1) per task.
    remote = ray.remote(num_gpus=1 if gpus else 0, num_cpus=1 if gpus else (threads or 1),
                        max_retries=retries, retry_exceptions=True)(run_task)

    def run_stage(profile: dict, root: str, stage: list[Task], threads_: int | None, force: bool):
        pending = {remote.remote(profile, root, t, threads_, force): t for t in stage}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                yield pending.pop(ref), ray.get(ref)
    return run_stage


# --------------------------------------------------------------------------- planning

# Assumptions for the paper profile, stated, not measured here (this machine has no GPU):
# ResNet-18 on CIFAR-10 with mixed precision on one current datacentre GPU, about 15 s per epoch.
ASSUMED_GPU_IMG_S = {"resnet18": 50_000 / 15.0, "resnet34": 50_000 / 25.0}


def task_images(P: Profile, task: Task) -> float:
    """Images a task pushes through a training step (or a scoring pass, counted the same)."""
    from . import experiments as ex

    n = 50_000 if P.train_size is None else P.train_size
    a = task.args()
    if task.kind == "scoring_run":
        return P.epochs * n
    if task.kind == "scores":
        return float(a["images"] or n) * 3  # one forward, one backward-like pass, per image: ~one step
    if task.kind == "c2":
        return (a["epochs"] or P.epochs) * n
    spec = ex.DynamicSpec(**a)
    keep = 1.0 - spec.rate
    return spec.epochs * n * (keep if spec.selector != "infobatch" else (1 - 0.5 * spec.rate))


def measured_img_s(root: Path | None = None) -> dict[str, float]:
    """Training throughput measured by ``python -m datadiet_core bench --json`` and committed in
    ``benchmarks/throughput.json`` (model → images per second on the machine that measured it)."""
    from .book import project_root

    path = (root or project_root()) / "benchmarks" / "throughput.json"
    return json.loads(path.read_text()) if path.exists() else {}


def plan(claim: str, P: Profile) -> dict[str, Any]:
    """The grid of ``claim``: tasks per stage and kind, and the estimated device-hours from the
    measured (or, for the paper's models on a GPU, assumed) throughput."""
    grid = stages(claim, P)
    measured = measured_img_s()
    if P.model in measured.get("cpu", {}):
        img_s, source = measured["cpu"][P.model], "measured on this project's 2-core CPU (benchmarks/throughput.json)"
    elif P.model in ASSUMED_GPU_IMG_S:
        img_s, source = ASSUMED_GPU_IMG_S[P.model], "assumed for one current GPU (no GPU here to measure it)"
    else:
        raise ParameterError(f"parameter 'profile' has model {P.model!r} with no measured or assumed throughput")
    rows = []
    for i, stage in enumerate(grid):
        kinds: dict[str, int] = {}
        images = 0.0
        for t in stage:
            kinds[t.kind] = kinds.get(t.kind, 0) + 1
            images += task_images(P, t)
        rows.append({"stage": i, "tasks": len(stage), "kinds": kinds, "device_hours": images / img_s / 3600})
    return {"claim": claim, "profile": P.name, "model": P.model, "runs": sum(r["tasks"] for r in rows),
            "stages": rows, "device_hours": sum(r["device_hours"] for r in rows), "img_per_s": img_s,
            "throughput_source": source}
