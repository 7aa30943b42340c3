"""Headless-Chromium check of a built book: charts drawn, math typeset, no JS errors.

For each page a sibling copy `<page>.__probe__.html` is written (same directory, so
relative _static/ paths still resolve) with a tiny probe script injected as the first
thing in <head>. The probe records console.error/console.warn calls, uncaught
exceptions, unhandled promise rejections and failed resource loads (script/link/img
`error` events, caught in the capture phase) into an attribute of <html>, which
`--dump-dom` serialises. Chromium's own stderr log (`--enable-logging=stderr --v=0`)
is also scanned for `"Uncaught ...` lines as a second net. The copy is deleted after.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--virtual-time-budget=10000", "--enable-logging=stderr", "--v=0"]
PROBE_ATTR = "data-probe-errors"
PROBE = """<script>(function(){
var errs=[], root=document.documentElement;
function rec(kind,msg){errs.push(kind+": "+msg); root.setAttribute("%s", JSON.stringify(errs));}
function fmt(a){return Array.prototype.map.call(a,function(x){
  try{return (x&&x.stack)?String(x.stack).split("\\n")[0]:(typeof x==="object"?JSON.stringify(x):String(x));}
  catch(e){return String(x);}}).join(" ");}
root.setAttribute("%s","[]");
["error","warn"].forEach(function(k){var o=console[k];
  console[k]=function(){rec("console."+k,fmt(arguments)); return o.apply(console,arguments);};});
window.addEventListener("error",function(e){
  var t=e.target, u=t&&t!==window&&(t.src||t.href);
  if(u&&u.baseVal!==undefined) u=u.baseVal;  // SVG <image href>
  // vega's SVG renderer first emits <image href=""> (error event), then sets the data: URL
  if(u!==undefined&&t!==window){ if(String(u)) rec("resource",(t.tagName||"")+" "+String(u).slice(0,120)); }
  else rec("uncaught",(e.message||"")+" @"+(e.filename||"")+":"+(e.lineno||""));
},true);
window.addEventListener("unhandledrejection",function(e){rec("unhandledrejection",fmt([e.reason]));});
})();</script>""" % (PROBE_ATTR, PROBE_ATTR)


class _Scan(HTMLParser):
    """Per chart div (class vega-chart): classes and whether an svg.marks/canvas is inside."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.charts, self._open, self.math = [], [], 0   # _open: [chart, div_depth]
        self.root_attrs = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "html":
            self.root_attrs = a
        if tag == "mjx-container":
            self.math += 1
        if self._open:
            if tag == "div":
                self._open[-1][1] += 1
            if (tag == "svg" and "marks" in cls) or tag == "canvas":
                self._open[-1][0]["drawn"] = True
        if tag == "div" and "vega-chart" in cls:
            chart = {"id": a.get("id"), "classes": cls, "drawn": False}
            self.charts.append(chart)
            self._open.append([chart, 0])

    def handle_endtag(self, tag):
        if tag == "div" and self._open:
            if self._open[-1][1] == 0:
                self._open.pop()
            else:
                self._open[-1][1] -= 1


def _scan(text: str) -> _Scan:
    s = _Scan()
    s.feed(text)
    s.close()
    return s


def check_page(page: Path, timeout: float = 60) -> list[str]:
    """Return a list of problems for one built page (empty list = OK)."""
    src = page.read_text(encoding="utf-8")
    if re.search(r'http-equiv="refresh"', src, re.I) and "<body" not in src:
        return []  # bare redirect stub (index.html): the browser would just navigate away
    expected = _scan(src)
    needs_math = 'class="math' in src and "mathjax" in src
    probe_page = page.with_name(page.stem + ".__probe__.html")
    probe_page.write_text(re.sub(r"(<head[^>]*>)", lambda m: m.group(1) + PROBE, src, count=1),
                          encoding="utf-8")
    profile = tempfile.mkdtemp(prefix="chromium-check-")
    try:
        r = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                            probe_page.resolve().as_uri()],
                           capture_output=True, text=True, timeout=timeout)
    finally:
        probe_page.unlink(missing_ok=True)
        shutil.rmtree(profile, ignore_errors=True)

    problems = []
    if r.returncode != 0 or "<html" not in r.stdout:
        return [f"chromium failed rc={r.returncode}: {r.stderr[-500:]}"]
    dom = _scan(r.stdout)
    probe = dom.root_attrs.get(PROBE_ATTR)
    if probe is None:
        problems.append("probe script did not run")
    else:
        problems += [f"js {e}" for e in json.loads(probe)]
    problems += [f"stderr {m}" for m in re.findall(r'CONSOLE[^\]]*\] "(Uncaught[^\n]*)', r.stderr)]
    if len(dom.charts) != len(expected.charts):
        problems.append(f"expected {len(expected.charts)} charts, found {len(dom.charts)}")
    for c in dom.charts:
        if "vega-embed" not in c["classes"] or not c["drawn"]:
            problems.append(f"chart {c['id']} not drawn (classes={c['classes']})")
    if needs_math and dom.math == 0:
        problems.append("page has math but no <mjx-container> after load")
    return problems


def pages(html_dir: Path) -> list[Path]:
    """Every built page outside _static/_sources."""
    return sorted(p for p in Path(html_dir).rglob("*.html")
                  if not {"_static", "_sources"} & set(p.relative_to(html_dir).parts[:-1])
                  and not p.name.endswith(".__probe__.html"))


def count_charts(page: Path) -> int:
    return len(_scan(page.read_text(encoding="utf-8")).charts)
