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
