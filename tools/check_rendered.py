"""Open every page of the built book in headless Chromium and check what a reader sees.

A page can build without a warning and still read badly. This opens each HTML
page in a real browser, at a window 1280 pixels wide, lets MathJax typeset the
math, opens every folded cell (the solutions of the exercises), and reports:

- a code block that scrolls sideways: its text is wider than the text column
  (the code cells of the chapters, the package source they show, and printed
  outputs);
- an image that did not load (a missing figure file, or one the browser
  cannot decode);
- math that did not render: a formula MathJax left as raw TeX, or rendered as
  an error.

How: for each page a copy is written next to it with a small script appended.
The script waits for MathJax, measures, and writes its findings into the page
as JSON; Chromium prints the page's DOM (``--dump-dom``) and the findings are
read back from it. Chromium is Debian's ``chromium`` package; ``--chromium``
or the ``CHROMIUM`` environment variable name another binary.

Usage: python tools/check_rendered.py [BUILD_HTML_DIR]   (default _build/html)
Exit status 0 when every page reads well, 1 with the problems listed otherwise,
2 when no Chromium is found.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

WINDOW = (1280, 2000)
# Virtual time that Chromium lets the page run before it prints the DOM: enough
# for MathJax to typeset a long chapter (virtual time runs faster than the clock
# when the page is idle).
VIRTUAL_TIME_MS = 60_000
MARK = "rendered-check-findings"

# The script appended to each page. It measures only inside the article, where
# the chapter's text lives (not the sidebars).
PROBE = """
<script>
(function () {
  function findings() {
    var article = document.querySelector("article") || document.body;
    article.querySelectorAll("details").forEach(function (d) { d.open = true; });
    article.querySelectorAll(".toggle-hidden, .hide-input, .hide-cell")
      .forEach(function (e) { e.classList.remove("toggle-hidden"); });
    var out = {overflow: [], images: [], math: []};
    article.querySelectorAll("pre").forEach(function (pre) {
      if (pre.clientWidth > 0 && pre.scrollWidth > pre.clientWidth + 1) {
        var lines = pre.textContent.split("\\n");
        var longest = lines.reduce(function (a, b) {
          return b.length > a.length ? b : a; }, "");
        out.overflow.push({width: pre.scrollWidth, column: pre.clientWidth,
                           line: longest.trim().slice(0, 100)});
      }
    });
    document.querySelectorAll("img").forEach(function (img) {
      if (!img.complete || img.naturalWidth === 0) {
        out.images.push(img.getAttribute("src"));
      }
    });
    article.querySelectorAll(".math").forEach(function (m) {
      if (!m.querySelector("mjx-container") && m.tagName !== "MJX-CONTAINER") {
        out.math.push("not typeset: " + m.textContent.trim().slice(0, 80));
      }
    });
    article.querySelectorAll("mjx-merror").forEach(function (e) {
      out.math.push("MathJax error: " + (e.getAttribute("data-mjx-error") ||
                                         e.textContent).slice(0, 80));
    });
    var pre = document.createElement("pre");
    pre.id = "MARK";
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }
  function whenTypeset() {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(findings, findings);
    } else {
      findings();
    }
  }
  if (document.readyState === "complete") { whenTypeset(); }
  else { window.addEventListener("load", whenTypeset); }
})();
</script>
""".replace("MARK", MARK)

FINDINGS = re.compile(rf'<pre id="{MARK}"[^>]*>(.*?)</pre>', re.S)


def find_chromium(given: str | None = None) -> str | None:
    """The Chromium binary: the given one, $CHROMIUM, or the first on the PATH."""
    for candidate in (given, os.environ.get("CHROMIUM")):
        if candidate:
            return candidate
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if found := shutil.which(name):
            return found
    return None


def dump_dom(chromium: str, page: Path) -> str:
    """The DOM of a local page after its scripts ran, as Chromium prints it."""
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",  # CI runs as root, where the sandbox cannot start
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",  # a scroll bar would narrow the column
                f"--user-data-dir={profile}",
                f"--window-size={WINDOW[0]},{WINDOW[1]}",
                f"--virtual-time-budget={VIRTUAL_TIME_MS}",
                "--dump-dom",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    return result.stdout


def problems_on_page(chromium: str, page: Path) -> list[str]:
    """What a reader would see go wrong on one page, as lines naming the page."""
    probe_page = page.with_name(f".rendered-check-{page.name}")
    source = page.read_text(encoding="utf-8")
    probe_page.write_text(source.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    try:
        dom = dump_dom(chromium, probe_page)
    finally:
        probe_page.unlink()
    match = FINDINGS.search(dom)
    if not match:
        return [f"{page}: the page did not finish rendering in the browser"]
    found = json.loads(html.unescape(match.group(1)))
    problems = []
    for block in found["overflow"]:
        problems.append(
            f"{page}: a code block scrolls sideways ({block['width']} px of text in a "
            f"{block['column']} px column); its longest line: {block['line']!r}"
        )
    problems += [f"{page}: image not shown: {src}" for src in found["images"]]
    problems += [f"{page}: math not rendered: {what}" for what in found["math"]]
    return problems


REDIRECT = re.compile(r"<meta[^>]+http-equiv=[\"']?refresh", re.IGNORECASE)


def pages_of(build: Path) -> list[Path]:
    """The book's own HTML pages (not Sphinx's search, index and module pages,
    nor a page that only redirects the browser to another)."""
    skipped = {"search.html", "genindex.html", "py-modindex.html"}
    return sorted(
        p
        for p in build.rglob("*.html")
        if p.name not in skipped
        and not p.name.startswith(".")
        and not any(part.startswith("_") for part in p.relative_to(build).parts[:-1])
        and not REDIRECT.search(p.read_text(encoding="utf-8", errors="replace")[:2000])
    )


def check_build(build: Path, chromium: str, jobs: int = 2) -> list[str]:
    """Every problem on every page of the build."""
    pages = pages_of(build)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda page: problems_on_page(chromium, page), pages))
    return [problem for page_problems in results for problem in page_problems]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", nargs="?", default="_build/html", type=Path)
    parser.add_argument("--chromium", help="the browser binary (default: chromium)")
    parser.add_argument("--jobs", type=int, default=2, help="pages opened at once")
    args = parser.parse_args(argv)
    chromium = find_chromium(args.chromium)
    if chromium is None:
        print("No Chromium found: install Debian's chromium package, or name it with --chromium.")
        return 2
    if not args.build.is_dir():
        print(f"No built book in {args.build}: build it first (python3 tasks.py book).")
        return 1
    pages = pages_of(args.build)
    problems = check_build(args.build, chromium, args.jobs)
    for problem in problems:
        print(problem)
    verdict = "reads well" if not problems else f"has {len(problems)} problems"
    print(f"rendered check: {len(pages)} pages opened in {Path(chromium).name}; the book {verdict}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
