"""Fail if any page of the built book loads a script, stylesheet, font or image from another host.

A reader must be able to open the book with no network. This walks every HTML
page under the build folder, collects what the page loads by itself when it
opens (``<script src>``, ``<link href>`` for stylesheets, icons, fonts and
preloads, ``<img src>``, ``<iframe src>``, ``<source src>``, inline
``style`` and ``<style>`` blocks) and, for every local stylesheet, its
``url(...)`` and ``@import`` references, recursively. Anything that points to
another host (``http://``, ``https://`` or ``//``) is reported. Plain
hyperlinks (``<a href>``) are not loaded on page load and are allowed.

It also checks that local resources exist, and that a page with math loads a
MathJax that ships with the book.

Usage: python tools/check_offline_html.py [BUILD_HTML_DIR]   (default _build/html)
Exit status 0 when clean, 1 with a list of offending pages otherwise.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

LOADING_LINK_RELS = {
    "stylesheet",
    "icon",
    "shortcut",
    "preload",
    "modulepreload",
    "prefetch",
    "apple-touch-icon",
    "manifest",
    "font",
}
CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)""", re.IGNORECASE)
CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*['"]?([^'");\s]+)""", re.IGNORECASE)


def is_external(url: str) -> bool:
    url = url.strip()
    return url.startswith("//") or urlsplit(url).scheme in {"http", "https", "ftp", "ws", "wss"}


class _LoadedResources(HTMLParser):
    """Collect the URLs an HTML page loads by itself, and inline CSS."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str]] = []  # (what, url)
        self.inline_css: list[str] = []
        self.has_math = False
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if "style" in a:
            self.inline_css.append(a["style"])
        if "math" in a.get("class", "").split():
            self.has_math = True
        if tag == "script" and a.get("src"):
            self.urls.append(("script", a["src"]))
        elif tag == "link" and a.get("href"):
            rels = set(a.get("rel", "").lower().split())
            if rels & LOADING_LINK_RELS:
                self.urls.append((f"link rel={a.get('rel')}", a["href"]))
        elif tag in {"img", "iframe", "source", "audio", "video", "embed"} and a.get("src"):
            self.urls.append((tag, a["src"]))
        elif tag == "object" and a.get("data"):
            self.urls.append((tag, a["data"]))
        elif tag == "style":
            self._in_style = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.inline_css.append(data)


def css_references(css: str) -> list[str]:
    """The URLs a stylesheet loads: ``url(...)`` values and ``@import`` targets."""
    refs = [m.group(2) for m in CSS_URL.finditer(css)]
    refs += [m.group(1) for m in CSS_IMPORT.finditer(css)]
    refs = list(dict.fromkeys(refs))  # ``@import url(...)`` matches both patterns
    return [r for r in refs if not r.startswith("data:") and not r.startswith("#")]


def _local_path(base: Path, url: str, root: Path) -> Path | None:
    path = unquote(urlsplit(url).path)
    if not path:
        return None
    target = (root / path.lstrip("/")) if path.startswith("/") else (base.parent / path)
    return target.resolve()


def check_stylesheet(
    path: Path, root: Path, seen: set[Path], problems: list[str], page: Path
) -> None:
    if path in seen or not path.is_file():
        return
    seen.add(path)
    for ref in css_references(path.read_text(encoding="utf-8", errors="replace")):
        if is_external(ref):
            problems.append(
                f"{page.relative_to(root)}: stylesheet {path.relative_to(root)} loads {ref}"
            )
            continue
        target = _local_path(path, ref, root)
        if target is not None and target.suffix == ".css":
            check_stylesheet(target, root, seen, problems, page)


def check_page(page: Path, root: Path, seen_css: set[Path]) -> list[str]:
    parser = _LoadedResources()
    parser.feed(page.read_text(encoding="utf-8", errors="replace"))
    problems: list[str] = []
    loads_local_mathjax = False
    for what, url in parser.urls:
        if is_external(url):
            problems.append(f"{page.relative_to(root)}: {what} loads {url}")
            continue
        target = _local_path(page, url, root)
        if target is None:
            continue
        if not target.exists():
            problems.append(f"{page.relative_to(root)}: {what} {url} is missing from the build")
        elif target.suffix == ".css":
            check_stylesheet(target, root, seen_css, problems, page)
        if what == "script" and "mathjax" in url.lower():
            loads_local_mathjax = True
    for css in parser.inline_css:
        for ref in css_references(css):
            if is_external(ref):
                problems.append(f"{page.relative_to(root)}: inline style loads {ref}")
    if parser.has_math and not loads_local_mathjax:
        problems.append(
            f"{page.relative_to(root)}: has math but loads no MathJax shipped with the book"
        )
    return problems


def check_build(root: Path) -> list[str]:
    root = root.resolve()
    pages = sorted(root.rglob("*.html"))
    if not pages:
        return [f"no HTML pages under {root}: build the book first"]
    seen_css: set[Path] = set()
    problems: list[str] = []
    for page in pages:
        if {"_sources", "_static"} & set(page.relative_to(root).parts):
            continue
        problems += check_page(page, root, seen_css)
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else "_build/html").resolve()
    problems = check_build(root)
    if problems:
        print(f"The built book is not fully offline ({len(problems)} problems):")
        for problem in problems:
            print("  " + problem)
        return 1
    pages = [p for p in root.rglob("*.html") if "_static" not in p.relative_to(root).parts]
    print(f"offline check: {len(pages)} pages load nothing from another host")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
