"""``python -m datadiet_core``: data, bench, train, sweep, plan, store, stretch, scores, subset, summarize, book.

Errors in parameters or data, and results a command needs but the store lacks, stop with one
line on stderr (``error: ...``) and exit code 2. Each command imports what it needs when it
runs, so the sweep path never imports the book's packages (altair, papermill), which a GPU
host may lack.
"""
from __future__ import annotations

import argparse
import json
import sys

from . import DataError, MissingResults, ParameterError


def _data(args: argparse.Namespace) -> int:
    from . import data

    if args.action == "export":
        if not args.out:
            raise ParameterError("parameter 'out' must name a folder for the parts (--out DIR)")
        index = data.export_dataset(args.name, args.out, args.part_mb)
        print(f"wrote {index} and its parts: move the folder, then run: python -m datadiet_core data import {index.name}")
        return 0
    if args.action == "import":
        ds = data.import_dataset(args.name)
        print(f"{ds.name}: imported and verified into {data.data_dir()}")
        return 0
    ds = data.load_dataset(args.name)  # fetches and verifies (CIFAR-10: against the published sha256)
    if args.action == "fetch":
        print(f"{ds.name}: train {ds.x_train.shape}, test {ds.x_test.shape}, {ds.num_classes} classes")
        return 0
    arrays = {"x_train": ds.x_train, "x_test": ds.x_test}
    if args.name != "cifar10":
        for k, a in arrays.items():
            print(f"{k} {data.sha256_array(a)} (no published hash for {args.name}: printed only)")
        return 0
    ok = True
    for k, (digest, good) in data.verify_cifar10(arrays).items():
        print(f"{k} {digest} {'OK' if good else 'MISMATCH, expected ' + data.CIFAR10_SHA256[k]}")
        ok &= good
    return 0 if ok else 1


def _bench(args: argparse.Namespace) -> int:
    from . import bench

    result = bench.run(args.profile, quick=args.quick, compile_modes=args.compile)
    if args.save:  # what `plan` estimates device-hours from
        from .store import project_root

        bench.save(result, project_root() / "benchmarks" / "throughput.json")
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>20}: {v}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from .profiles import resolve_profile
    from .runs import run
    from .store import Store

    P = resolve_profile(args.profile, **_overrides(args.set))
    if args.seed < 0:
        raise ParameterError(f"parameter 'seed' must be an integer >= 0; got {args.seed}")
    rec = run(P, args.seed, Store.for_profile(P.name), force=args.force)
    print(json.dumps({"entry": str(rec.path), **rec.metrics}))
    return 0


def _overrides(text: str | None) -> dict:
    try:
        overrides = json.loads(text) if text else {}
    except ValueError:
        overrides = None
    if not isinstance(overrides, dict):
        raise ParameterError(f"parameter 'set' must be a JSON object of profile fields; got {text!r}")
    return overrides


def _sweep(args: argparse.Namespace) -> int:
    from .headlines import headline_profile
    from .profiles import resolve_profile
    from .store import Store
    from .sweep import check_claim, claim_id, sweep

    check_claim(args.claim)
    P = resolve_profile(args.profile, **_overrides(args.set))
    if args.headline:
        P = headline_profile(claim_id(args.claim), P)
    report = sweep(args.claim, P, Store.for_profile(P.name).root, engine=args.engine, address=args.address,
                   retries=args.retries, threads=args.threads, progress=None if args.quiet else print,
                   minutes=args.minutes)
    print(report.line(), flush=True)
    return 0


def _plan(args: argparse.Namespace) -> int:
    from .headlines import headline_profile
    from .profiles import resolve_profile
    from .sweep import check_claim, claim_id, plan

    check_claim(args.claim)
    P = resolve_profile(args.profile, **_overrides(args.set))
    if args.headline:
        P = headline_profile(claim_id(args.claim), P)
    p = plan(args.claim, P, args.device)
    if args.json:
        print(json.dumps(p))
        return 0
    print(f"{p['claim']} with profile {p['profile']} ({p['model']}): {p['runs']} runs")
    for r in p["stages"]:
        kinds = ", ".join(f"{n} {k}" for k, n in r["kinds"].items())
        print(f"  stage {r['stage']}: {r['tasks']:4d} tasks ({kinds}), {r['device_hours']:.2f} device-hours")
    print(f"estimated {p['device_hours']:.1f} device-hours at {p['img_per_s']:.0f} img/s, {p['throughput_source']}")
    return 0


def _store(args: argparse.Namespace) -> int:
    from .bank import compact, export_results, import_results
    from .dynamic import unread_arrays
    from .profiles import resolve_profile
    from .store import Store

    store = Store.for_profile(resolve_profile(args.profile).name)
    if args.action == "compact":
        done = compact(store, resolve_profile(args.profile), unread_arrays)
        print(f"{args.profile}: {done['rewritten']} entries rewritten, checkpoints dropped from "
              f"{done['checkpoints_dropped']} scoring runs")
    elif args.action == "export":
        if not args.out:
            raise ParameterError("parameter 'out' must name a folder for the parts (--out DIR)")
        index = export_results(store, args.out, args.part_mb, resolve_profile(args.profile), unread_arrays)
        print(f"wrote {index} and its parts: move the folder, then run: "
              f"python -m datadiet_core store import {index.name} --profile {args.profile}")
    else:
        if not args.index:
            raise ParameterError("parameter 'index' must name the .parts.json written by store export")
        done = import_results(args.index, store)
        print(f"{args.profile}: {done['added']} entries added, {done['present']} already present, all verified")
    return 0


def _stretch(args: argparse.Namespace) -> int:
    from .profiles import resolve_profile
    from .stretch import CLAIM_ORDER, run

    P = resolve_profile(args.profile, **_overrides(args.set))
    run(P, args.out, args.minutes, data_index=args.data, bench_mode=args.bench,
        claims=tuple(args.claims or CLAIM_ORDER), part_mb=args.part_mb, bench_json=args.bench_json)
    print(f"wrote {args.out}: carry it back, then run: python -m datadiet_core store import "
          f"{args.out}/results/results-{args.profile}.parts.json --profile {args.profile}")
    return 0


def _scores(args: argparse.Namespace) -> int:
    from .exports import export_scores
    from .profiles import resolve_profile
    from .store import Store

    if not args.out:
        raise ParameterError("parameter 'out' must name a folder for the score files (--out DIR)")
    P = resolve_profile(args.profile)
    manifest = export_scores(P, Store.for_profile(P.name), args.out)
    print(f"wrote {manifest.parent}: scores.npz, scores.csv.gz and manifest.json (sha256 of each inside)")
    return 0


def _subset(args: argparse.Namespace) -> int:
    from .exports import subset
    from .profiles import resolve_profile
    from .store import Store
    from .train import device_data

    P = resolve_profile(args.profile)
    rows = subset(P, Store.for_profile(P.name), args.score, args.prune, args.per_class, args.seed)
    indices = device_data(P).train_index[rows]  # CIFAR-10 indices (the rows themselves on the full set)
    text = "\n".join(str(i) for i in indices) + "\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
        print(f"wrote {len(indices)} indices to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _summarize(args: argparse.Namespace) -> int:
    from .profiles import resolve_profile
    from .store import Store
    from .summaries import write

    P = resolve_profile(args.profile)
    done = write(P, Store.for_profile(P.name), tuple(args.sections) if args.sections else None)
    print(f"results/{P.name}/summary.json: wrote {', '.join(done) or 'nothing (no section has all its runs stored)'}")
    return 0


def _book(args: argparse.Namespace) -> int:
    from .book import build

    html = build(args.profile, force=args.force, only=args.only)
    print(f"built {html}/index.html")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m datadiet_core", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("data", help="fetch, verify, export or import a dataset")
    d.add_argument("action", choices=("fetch", "verify", "export", "import"))
    d.add_argument("name", help="a dataset (for import: the .parts.json written by export)")
    d.add_argument("--out", help="export: the folder for the parts")
    d.add_argument("--part-mb", type=float, default=30.0, help="export: the largest part, in MiB")
    d.set_defaults(func=_data)

    b = sub.add_parser("bench", help="throughput benchmark")
    b.add_argument("--profile", default="cpu")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.add_argument("--quick", action="store_true", help="fewer steps (a smoke check, noisy)")
    b.add_argument("--save", action="store_true", help="record the training throughput in benchmarks/throughput.json")
    b.add_argument("--compile", nargs="+", metavar="MODE",
                   help="engines to compare beside the profile's: off and torch.compile modes "
                        "(default: off, default, reduce-overhead on a GPU; none on a CPU)")
    b.set_defaults(func=_bench)

    t = sub.add_parser("train", help="one training run through the result store")
    t.add_argument("--profile", default="cpu")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--set", help='profile overrides as JSON, e.g. \'{"epochs": 4}\'')
    t.add_argument("--force", action="store_true")
    t.set_defaults(func=_train)

    w = sub.add_parser("sweep", help="run one chapter's grid into the result store")
    w.add_argument("claim", help="setup, c1, c2 or c3 (claim1, claim2, claim3 also accepted)")
    w.add_argument("--profile", default="cpu")
    w.add_argument("--set", help="profile overrides as JSON")
    w.add_argument("--engine", default="local", help="local (this process) or ray")
    w.add_argument("--address", help="Ray cluster address (default: start a local instance)")
    w.add_argument("--retries", type=int, default=2, help="retries of a task whose worker failed")
    w.add_argument("--threads", type=int, default=None, help="torch threads (CPU) per task")
    w.add_argument("--quiet", action="store_true", help="print only the final line")
    w.add_argument("--minutes", type=float, help="start no run that would end past this many minutes "
                                                 "(local engine; run again to go on)")
    w.add_argument("--headline", action="store_true", help="only the cells the claim's headline reads (c2, c3): "
                                                           "compute them first, summarize, then run the rest")
    w.set_defaults(func=_sweep)

    n = sub.add_parser("plan", help="print a chapter's grid and its estimated cost")
    n.add_argument("claim", help="setup, c1, c2 or c3 (claim1, claim2, claim3 also accepted)")
    n.add_argument("--profile", default="cpu")
    n.add_argument("--set", help="profile overrides as JSON")
    n.add_argument("--headline", action="store_true", help="only the cells the claim's headline reads (c2, c3)")
    n.add_argument("--json", action="store_true")
    n.add_argument("--device", choices=("cpu", "cuda"),
                   help="estimate at the throughput measured on this kind of device (default: where the model was measured)")
    n.set_defaults(func=_plan)

    r = sub.add_parser("store", help="maintain a profile's result store")
    r.add_argument("action", choices=("compact", "export", "import"),
                   help="compact: rewrite every entry compressed at its smallest exact dtypes, drop the arrays no grid reads and the "
                        "checkpoints of scoring runs whose scores are stored; export: the profile's results "
                        "(compacted) in parts; import: parts written by export, every entry verified")
    r.add_argument("index", nargs="?", help="import: the .parts.json written by export")
    r.add_argument("--profile", default="cpu")
    r.add_argument("--out", help="export: the folder for the parts")
    r.add_argument("--part-mb", type=float, default=16.0, help="export: the largest part, in MiB")
    r.set_defaults(func=_store)

    s = sub.add_parser("stretch", help="a short stretch on a GPU host: data import, bench, sweeps, store export")
    s.add_argument("--profile", default="gpu")
    s.add_argument("--set", help="profile overrides as JSON (the bench measures the named profile)")
    s.add_argument("--out", required=True, help="the folder that comes back (bench figures and results parts)")
    s.add_argument("--minutes", type=float, required=True, help="start no sweep run that would end past this")
    s.add_argument("--data", help="the .parts.json written by data export (imported unless the cache has it)")
    s.add_argument("--bench", default="full", help="full, quick or none")
    s.add_argument("--bench-json", help="use this earlier bench --json output instead of running the bench")
    s.add_argument("--claims", nargs="+", help="the sweeps, in order (default: setup, then the claims cheapest first)")
    s.add_argument("--part-mb", type=float, default=15.0, help="the largest results part, in MiB")
    s.set_defaults(func=_stretch)

    e = sub.add_parser("scores", help="export a profile's per-example scores (npz, csv.gz, manifest)")
    e.add_argument("action", choices=("export",))
    e.add_argument("--profile", default="cpu")
    e.add_argument("--out", help="the folder to write")
    e.set_defaults(func=_scores)

    u = sub.add_parser("subset", help="the CIFAR-10 indices the C2 grid keeps for a score and a fraction pruned")
    u.add_argument("--profile", default="cpu")
    u.add_argument("--score", required=True, help="a static score: random, input_norm, grand_init, el2n_early, ...")
    u.add_argument("--prune", type=float, required=True, help="the fraction pruned, in (0, 1)")
    u.add_argument("--per-class", action="store_true", help="keep the highest within each class")
    u.add_argument("--seed", type=int, default=1000, help="the evaluation seed that draws random's subset")
    u.add_argument("--out", help="write the indices here, one per line (default: print them)")
    u.set_defaults(func=_subset)

    m = sub.add_parser("summarize", help="write results/<profile>/summary.json from the store (computes nothing)")
    m.add_argument("--profile", default="cpu")
    m.add_argument("--sections", nargs="+", help="setup, c1, c2, c3, progress (default: every one whose runs are stored)")
    m.set_defaults(func=_summarize)

    k = sub.add_parser("book", help="execute the notebooks and build the book")
    k.add_argument("--profile", default="cpu")
    k.add_argument("--force", action="store_true", help="recompute everything, ignoring stored results")
    k.add_argument("--only", nargs="+", help="execute only these chapters (setup, c1, c2, c3 or file stems)")
    k.set_defaults(func=_book)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (ParameterError, DataError, MissingResults) as e:
        print(f"error: {str(e).splitlines()[0]}", file=sys.stderr)
        return 2
