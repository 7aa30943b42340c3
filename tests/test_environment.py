import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _pins(reqs):
    return {re.split(r"[=<>~!]", r, maxsplit=1)[0].strip().lower(): r.replace(" ", "") for r in reqs}


def test_environment_yml_has_the_same_pins_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    want = _pins(project["dependencies"] + project["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    got = _pins([r for r in pip if not r.startswith("-e")])
    assert got == want
    assert all("==" in r for r in want.values()), "every direct dependency is pinned exactly"


def test_github_workflow_runs_the_same_ci_and_publishes_the_book():
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    build = wf["jobs"]["build"]
    runs = [s.get("run", "") for s in build["steps"]]
    assert "bash .ci/run" in runs  # the same steps CI runs here
    assert build["container"].startswith("python:3.11")  # the Python pyproject.toml requires
    upload = next(s for s in build["steps"] if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "_build/html"
    assert any("deploy-pages" in s.get("uses", "") for s in wf["jobs"]["deploy"]["steps"])
