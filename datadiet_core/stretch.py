"""One stretch on a lent GPU host, in one command: ``python -m datadiet_core stretch``.

Owns the order of a stretch and nothing else; each step is a command of its own too:

1. the dataset from its parts (``data import``), unless this host's cache already holds it;
2. the benchmark (``bench``), its figures kept, and the fastest engine it measured chosen for the
   sweeps (``compile`` is an engine choice, not part of a run's store key);
3. the sweeps (``sweep``): ``setup`` whole first (its scores are what let the export leave the
   scoring runs' checkpoints behind: a ResNet-18 checkpoint is 45 MB), then the other claims in
   order, none started past the time limit, less a reserve for the export;
4. the profile's results into parts (``store export``) beside the bench figures, to carry back and
   ``store import`` where the book is built.

A lent machine is taken back when its time is spent, so everything goes under ``out`` as soon as
it exists, and ``stretch.json`` there says what was done.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any, Callable

from . import ParameterError, bench
from .bank import export_results
from .data import CACHED, cache_path, import_dataset
from .dynamic import unread_arrays
from .profiles import Profile, resolve_profile
from .store import Store, project_root
from .sweep import check_minutes, claim_id, sweep
from .transfer import check_part_mb

BENCH_MODES = ("full", "quick", "none")
CLAIM_ORDER = ("setup", "c1", "c3", "c2")  # cheapest first: C2's grid is the longest


def engine_of(result: dict[str, Any], default: str) -> str:
    """The engine with the highest training throughput in a bench result (``default`` when the
    bench compared none)."""
    rates = result.get("train_img_s_by_engine") or {}
    return max(rates, key=rates.get) if rates else default


def _read_bench(path: str | Path) -> dict[str, Any]:
    try:
        result = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        result = None
    if not isinstance(result, dict) or "train_img_s" not in result:
        raise ParameterError(f"parameter 'bench_json' must be a file written by bench --json; got {path}")
    return result


def run(profile: str | Profile, out: str | Path, minutes: float, data_index: str | Path | None = None,
        bench_mode: str = "full", claims: tuple[str, ...] = CLAIM_ORDER, part_mb: float = 15.0,
        export_minutes: float = 1.0, bench_json: str | Path | None = None,
        progress: Callable[[str], None] | None = print) -> dict[str, Any]:
    """A stretch of at most about ``minutes`` for ``profile``, everything it yields under ``out``
    (``bench.json``, ``throughput.json``, ``results/``, ``stretch.json``). Returns what
    ``stretch.json`` holds.

    ``bench_json``: the ``bench --json`` output of an earlier call on the same host, used instead
    of running the bench again (where one call may not hold both the bench and the sweeps).
    """
    t0 = time.perf_counter()
    P = resolve_profile(profile)
    check_minutes(minutes)
    if bench_mode not in BENCH_MODES:
        raise ParameterError(f"parameter 'bench' must be one of {', '.join(BENCH_MODES)}; got {bench_mode!r}")
    claims = tuple(claim_id(c) for c in claims)
    check_part_mb(part_mb)
    if data_index is not None and not Path(data_index).is_file():
        raise ParameterError(f"parameter 'data' must be a .parts.json written by data export; {data_index} is not a file")
    earlier = None if bench_json is None else _read_bench(bench_json)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _: None)
    done: dict[str, Any] = {"profile": P.name, "minutes": minutes, "steps": []}

    def left() -> float:
        return minutes - (time.perf_counter() - t0) / 60

    def log(step: str, **facts: Any) -> None:
        done["steps"].append({"step": step, "at_minute": round((time.perf_counter() - t0) / 60, 2), **facts})
        (out / "stretch.json").write_text(json.dumps(done, indent=1) + "\n")
        say(f"[{done['steps'][-1]['at_minute']:.1f} min] {step}: {facts}")

    if data_index is not None and P.dataset in CACHED and not cache_path(P.dataset).exists():
        import_dataset(data_index)
        log("data import", dataset=P.dataset)
    engine = P.compile
    if earlier is not None or bench_mode != "none":
        result = earlier if earlier is not None else bench.run(P.name, quick=bench_mode == "quick")
        (out / "bench.json").write_text(json.dumps(result, indent=1) + "\n")
        engine = engine_of(result, P.compile)
        # The checkout's throughput.json with this host's figure for the engine the sweeps use
        # (what `plan` reads), to copy back over benchmarks/throughput.json.
        shutil.copy(project_root() / "benchmarks" / "throughput.json", out / "throughput.json")
        rates = result.get("train_img_s_by_engine") or {}
        bench.save({**result, "compile": engine, "train_img_s": rates.get(engine, result["train_img_s"])},
                   out / "throughput.json")
        log("bench" if earlier is None else f"bench (read from {bench_json})", train_img_s=result["train_img_s"],
            by_engine=result.get("train_img_s_by_engine"), engine=engine)
    P = P.replace(compile=engine)
    store = Store.for_profile(P.name)
    for claim in claims:
        limit = None if claim == "setup" else left() - export_minutes
        if limit is not None and limit <= 0:
            log(f"sweep {claim}", skipped="no time left")
            continue
        report = sweep(claim, P, store.root, progress=None, minutes=limit)
        log(f"sweep {claim}", result=report.line(), seconds=round(report.seconds, 1))
    index = export_results(store, out / "results", part_mb, P, unread_arrays)
    log("store export", index=index.name, engine=P.compile)
    return done
