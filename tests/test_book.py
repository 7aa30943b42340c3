"""The smoke book: built by the real runner, then opened in headless Chromium.

In CI, .ci/run builds the smoke book first and points DATADIET_BOOK_HTML at it; elsewhere
this test builds it (a few minutes). Without Chromium the browser test is skipped, except in
CI, where it must run.
"""
import os
import re
import shutil
from pathlib import Path

import pytest

from datadiet_core import book
from datadiet_core.store import project_root

pytestmark = pytest.mark.slow
ROOT = project_root()


@pytest.fixture(scope="module")
def html_dir(tmp_path_factory):
    given = os.environ.get("DATADIET_BOOK_HTML")
    if given:
        html = Path(given)
        assert (html / ".profile").read_text().strip() == "smoke", "DATADIET_BOOK_HTML must be a smoke build"
        return html
    # Build the smoke book with the real runner, into a private result store.
    os.environ["DATADIET_RESULTS"] = str(tmp_path_factory.mktemp("results"))
    return book.build("smoke", root=ROOT)


def test_every_toc_entry_became_a_page(html_dir):
    for doc in book.toc_files(ROOT):
        assert (html_dir / f"{doc}.html").exists(), doc


def test_no_page_loads_anything_from_the_network(html_dir):
    from browser import pages

    for page in pages(html_dir):
        text = page.read_text(encoding="utf-8")
        remote = re.findall(r'<(?:script|link|img|iframe)[^>]+(?:src|href)="(https?://[^"]+)"', text)
        assert not remote, f"{page.name} loads {remote}"
        assert "unpkg.com" not in text and "cdn.jsdelivr" not in text, page.name


def test_training_setup_chapter_shows_computed_numbers_and_charts(html_dir):
    from browser import count_charts

    page = html_dir / "notebooks" / "00_training_setup.html"
    text = page.read_text(encoding="utf-8")
    assert count_charts(page) >= 3
    assert re.search(r"\d+\.\d% ± \d+\.\d \(n = \d+\)", text), "the accuracy sentence is filled in"
    assert "injected-parameters" not in text and "Traceback" not in text


def test_charts_are_drawn_without_console_errors_in_chromium(html_dir):
    from browser import CHROMIUM, check_page, count_charts, pages

    if not shutil.which("chromium") and not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    checked = 0
    for page in pages(html_dir):
        problems = check_page(page)
        assert not problems, f"{page.relative_to(html_dir)}: {problems}"
        checked += count_charts(page)
    assert checked >= 3
