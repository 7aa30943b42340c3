"""Execute the notebooks with papermill and build the Jupyter Book.

``python -m datadiet_core book --profile P`` (what ``make book`` calls):

1. validates the profile before anything runs;
2. writes the offline vega bundle to ``_static/``;
3. executes each jupytext notebook of ``_toc.yml`` with papermill (parameters ``profile`` and
   ``force``) into ``notebooks/<name>.ipynb`` (git-ignored build output); the notebooks read
   the result store, so stored runs are reused and only missing ones are computed;
4. writes ``book/_generated/``: the introduction's verdict table from every regime's ``summary.json``, the
   profiles table, and what the stored runs took (the Reproduce page's cost table);
5. runs ``jupyter-book build --all -W -n --keep-going .``: any warning, broken reference or
   failed cell fails the build.
"""
from __future__ import annotations

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

from . import ParameterError
from .plots import write_vega_bundle
from .profiles import FIELDS, PROFILES, resolve_profile
from .regimes import read_summaries, regime_profiles, verdict_table
from .sweep import ALIASES, measured_cost
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


def cost_table(profile: str, cost: list[dict[str, Any]], budget_hours: float = 3.0) -> str:
    """What the stored runs of each grid took (``sweep.measured_cost``), as a MyST table with the
    total (the whole book's compute from an empty store, as timed), the estimate at the
    benchmark's throughput beside it, and whether the book is within ``budget_hours``."""
    lines = ["| grid | runs | stored | wall-clock of the stored runs (hours) | estimated from the benchmark (hours) |",
             "|---|---|---|---|---|"]
    for c in cost:
        lines.append(f"| `{c['claim']}` | {c['runs']} | {c['stored']} | {c['hours']:.2f} | {c['estimated_hours']:.2f} |")
    total, est = sum(c["hours"] for c in cost), sum(c["estimated_hours"] for c in cost)
    lines.append(f"| all (`{profile}`) | {sum(c['runs'] for c in cost)} | {sum(c['stored'] for c in cost)} | "
                 f"**{total:.2f}** | **{est:.2f}** |")
    missing = sum(c["runs"] - c["stored"] for c in cost)

    def verdict(h: float) -> str:
        return f"**over** the {budget_hours:g}-hour budget" if h > budget_hours else f"within the {budget_hours:g}-hour budget"

    return ("\n".join(lines) + f"\n\nStored runs: {total:.2f} hours, {verdict(total)}"
            + (f" so far ({missing} runs not stored yet)" if missing else "") + f"; estimated: {est:.2f} hours, {verdict(est)}.\n")


def _value(v: Any) -> str:
    """A profile value for a table: lists without brackets or quotes, so long ones wrap."""
    if isinstance(v, tuple):
        return ", ".join(str(x) for x in v) if v else "(none)"
    return "—" if v is None else str(v)


def profiles_table() -> str:
    """Every field of every shipped profile, as a MyST table."""
    names = list(PROFILES)
    lines = ["| field | " + " | ".join(f"`{n}`" for n in names) + " |", "|---" * (len(names) + 1) + "|"]
    for f in FIELDS[1:]:
        lines.append(f"| `{f}` | " + " | ".join(_value(getattr(PROFILES[n], f)) for n in names) + " |")
    return "\n".join(lines) + "\n"


def write_generated(root: Path, profile: str) -> Path:
    """``book/_generated/verdicts.md``, ``profile.md``, ``profiles.md`` and ``cost.md`` (what the
    stored runs took) for the pages that include them."""
    gen = root / "book" / "_generated"
    gen.mkdir(parents=True, exist_ok=True)
    (gen / "verdicts.md").write_text(verdict_table(read_summaries(regime_profiles(profile))))
    (gen / "profile.md").write_text(
        f"This build used the **`{profile}`** profile. Results are read from `results/{profile}/`.\n")
    (gen / "profiles.md").write_text(profiles_table())
    (gen / "cost.md").write_text(cost_table(profile, measured_cost(resolve_profile(profile), Store.for_profile(profile))))
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
