"""Execute the notebooks with papermill and build the Jupyter Book.

``python -m datadiet_core book --profile P`` (what ``make book`` calls):

1. validates the profile before anything runs;
2. writes the offline vega bundle to ``_static/``;
3. executes each jupytext notebook of ``_toc.yml`` with papermill (parameters ``profile`` and
   ``force``) into ``notebooks/<name>.ipynb`` (git-ignored build output); the notebooks read
   the result store, so stored runs are reused and only missing ones are computed;
4. writes ``book/_generated/``: the introduction's verdict table from every regime's ``summary.json``, the
   profiles table, what the stored runs took (the Reproduce page's cost table), and every
   regime's score files with the page that offers them;
5. runs ``jupyter-book build --all -W -n --keep-going .``: any warning, broken reference or
   failed cell fails the build.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jupytext
import nbformat
import papermill
import yaml

from . import MissingResults, ParameterError
from .exports import FILES as EXPORT_FILES
from .exports import RECOMPUTE, export_scores
from .plots import write_vega_bundle
from .profiles import FIELDS, PROFILES, resolve_profile
from .report import value_text
from .regimes import read_summaries, regime_profiles, verdict_table
from .sweep import ALIASES, measured_cost, rates
from .store import Store, project_root

def toc_files(root: Path) -> list[str]:
    """Every file named in ``_toc.yml``, in order (without suffix)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    out = [toc["root"]]

    def walk(entries: list[dict[str, Any]]) -> None:
        for e in entries:
            if "file" in e:
                out.append(e["file"])
            for key in ("sections", "chapters"):
                walk(e.get(key, []))
            for part in e.get("parts", []):
                walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    return out


def notebooks(root: Path) -> list[Path]:
    """The jupytext sources of the notebooks in the table of contents."""
    return [root / (f + ".py") for f in toc_files(root) if (root / (f + ".py")).exists()]


def execute(source: Path, profile: str, force: bool = False, root: Path | None = None,
            parameters: dict[str, Any] | None = None) -> Path:
    """Execute one jupytext notebook with papermill into ``<source>.ipynb`` and return its path."""
    root = root or project_root()
    out = source.with_suffix(".ipynb")
    nb = jupytext.read(source)
    params = {"profile": profile, "force": force, **(parameters or {})}
    t0 = time.perf_counter()
    executed = papermill.execute_notebook(nb, str(out), parameters=params, kernel_name="python3",
                                          cwd=str(root), progress_bar=False)
    # papermill's injected-parameters cell would show in the book; hide it like the defaults.
    for cell in executed.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    nbformat.write(executed, str(out))
    print(f"executed {source.relative_to(root)} in {time.perf_counter() - t0:.0f} s", flush=True)
    return out


def cost_table(profile: str, cost: list[dict[str, Any]]) -> str:
    """What the stored runs of each grid took (``sweep.measured_cost``), as a MyST table with the
    total (the regime's compute from an empty store, as timed), the plan's estimate at the
    benchmark's rates for those same runs beside it, and its estimate for the whole grid."""
    lines = ["| grid | runs | stored | wall-clock of the stored runs (hours) | plan's estimate, stored runs (hours) "
             "| plan's estimate, whole grid (hours) |", "|---|---|---|---|---|---|"]
    for c in cost:
        lines.append(f"| `{c['claim']}` | {c['runs']} | {c['stored']} | {c['hours']:.2f} | {c['estimated_stored_hours']:.2f} "
                     f"| {c['estimated_hours']:.2f} |")
    total, done, est = (sum(c[k] for c in cost) for k in ("hours", "estimated_stored_hours", "estimated_hours"))
    lines.append(f"| all (`{profile}`) | {sum(c['runs'] for c in cost)} | {sum(c['stored'] for c in cost)} | "
                 f"**{total:.2f}** | **{done:.2f}** | **{est:.2f}** |")
    missing = sum(c["runs"] - c["stored"] for c in cost)
    note = f" ({missing} runs not stored yet)" if missing else ""
    return "\n".join(lines) + (f"\n\nStored runs: {total:.2f} hours as timed, against the plan's {done:.2f} for the same "
                               f"runs{note}; the plan's estimate for the whole grid: {est:.2f} hours.\n")


def cost_page(profiles: list[str]) -> str:
    """Every regime's :func:`cost_table`, with the rates the plan priced it at (a regime whose net
    the bench has not measured says so)."""
    out = []
    for p in profiles:
        P = resolve_profile(p)
        try:
            source = rates(P)[1]
            table = cost_table(p, measured_cost(P, Store.for_profile(p)))
        except ParameterError as e:
            out.append(f"**`{p}`**: {str(e).split(';')[0]}.\n")
            continue
        source = source.replace("bench --save", "`bench --save`")  # as code: prose would set "--" as a dash
        out.append(f"**`{p}`** ({P.model}, {P.epochs} epochs; the plan's rates {source}):\n\n{table}")
    return "\n".join(out)


# The shipped profiles computed on this book's 2-core CPU; the others are for a GPU host.
CPU_PROFILES = ("smoke", "cpu", "airbench")


def profiles_table(names: list[str] | None = None) -> str:
    """Every field of the shipped profiles ``names`` (default: all), as a MyST table."""
    names = list(PROFILES) if names is None else names
    lines = ["| field | " + " | ".join(f"`{n}`" for n in names) + " |", "|---" * (len(names) + 1) + "|"]
    for f in FIELDS[1:]:
        lines.append(f"| `{f}` | " + " | ".join(value_text(getattr(PROFILES[n], f), f) for n in names) + " |")
    return "\n".join(lines) + "\n"


def profiles_page() -> str:
    """The shipped profiles in two tables that each fit a page 1280 px wide: those computed on the
    CPU (:data:`CPU_PROFILES`), then those for a GPU host."""
    cpu = [n for n in PROFILES if n in CPU_PROFILES]
    gpu = [n for n in PROFILES if n not in CPU_PROFILES]
    return (f"**Computed on 2 CPU cores:**\n\n{profiles_table(cpu)}\n"
            + (f"**For a GPU host** (not computed in this book):\n\n{profiles_table(gpu)}" if gpu else ""))


def scores_page(gen: Path, profiles: list[str]) -> str:
    """Export every regime's score files into ``gen/scores/<profile>/`` (:func:`exports.export_scores`)
    and return the MyST text of the downloads: per regime, its three files (Sphinx's download role)
    with the net, epochs and what each score averages; a regime whose scoring runs are not all
    stored says so."""
    lines = []
    for p in profiles:
        P = resolve_profile(p)
        try:
            manifest = json.loads(export_scores(P, Store.for_profile(p), gen / "scores" / p).read_text())
        except (MissingResults, ParameterError):
            lines += [f"**`{p}` regime**: not computed yet (its scoring runs are not all in `results/{p}/`).", ""]
            continue
        files = " · ".join(f"{{download}}`{name} <_generated/scores/{p}/{name}>`" for name in EXPORT_FILES)
        lines += [f"**`{p}` regime** ({P.model}, {P.epochs} epochs, {manifest['examples']:,} training examples): "
                  f"{files}", "", "| column | what it is | checkpoint | averaged over |", "|---|---|---|---|"]
        lines += score_rows(manifest)
        lines.append("")
    return "\n".join(lines) + "\n"


def score_rows(manifest: dict[str, Any]) -> list[str]:
    """The rows of a regime's score table (MyST): column, definition, checkpoint, what it averages,
    with every "|" escaped (a norm's bars, ||x||_2, would split a row)."""
    cell = lambda text: str(text).replace("|", "\\|")  # noqa: E731
    return [f"| `{name}` | {cell(info['definition'])} | {cell(info['checkpoint'])} | {cell(info['averaged_over'])} |"
            for name, info in manifest["scores"].items()]


def write_generated(root: Path, profile: str) -> Path:
    """``book/_generated/verdicts.md``, ``profile.md``, ``profiles.md``, ``cost.md`` (what the
    stored runs took) and ``scores.md`` with every regime's score files for the pages that
    include them."""
    gen = root / "book" / "_generated"
    gen.mkdir(parents=True, exist_ok=True)
    (gen / "scores.md").write_text(scores_page(gen, regime_profiles(profile)))
    (gen / "recompute.md").write_text(f"```python\n{RECOMPUTE}```\n")
    (gen / "verdicts.md").write_text(verdict_table(read_summaries(regime_profiles(profile))))
    (gen / "profile.md").write_text(
        f"This build used the **`{profile}`** profile. Results are read from `results/{profile}/`.\n")
    (gen / "profiles.md").write_text(profiles_page())
    (gen / "cost.md").write_text(cost_page(regime_profiles(profile)))
    return gen


def build(profile: str, force: bool = False, root: Path | None = None, only: list[str] | None = None) -> Path:
    """Execute every notebook for ``profile`` and build the HTML book; returns ``_build/html``."""
    resolve_profile(profile)  # fail before any computation
    root = root or project_root()
    sources = notebooks(root)
    if only:
        chapters = {cid: stem for stem, cid in ALIASES.items() if not stem.startswith("claim")}
        only = [chapters.get(o, o) for o in only]
        unknown = sorted(set(only) - {s.stem for s in sources})
        if unknown:
            raise ParameterError(f"parameter 'only' must name notebooks of _toc.yml "
                                 f"({', '.join(s.stem for s in sources)}); got {', '.join(unknown)}")
        sources = [s for s in sources if s.stem in only]
    write_vega_bundle(root / "_static")
    for src in sources:
        execute(src, profile, force, root)
    write_generated(root, profile)
    jb = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(jb if jb.exists() else "jupyter-book"), "build", "--all", "-W", "-n", "--keep-going", str(root)]
    env = {**os.environ, "DATADIET_PROFILE": profile}
    r = subprocess.run(cmd, cwd=root, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"jupyter-book build failed (exit {r.returncode}); see the warnings above")
    html = root / "_build" / "html"
    (html / ".profile").write_text(profile + "\n")
    return html
