"""Make the English text shipped with tutor: prose paragraphs of the Python Language Reference.

Every Python installation carries the text of the Python Language Reference (and of parts
of the Library Reference) as plain text, in ``pydoc_data.topics.topics``: the help pages
that ``help("assert")`` shows. This script takes the prose out of it and writes
``src/tutor/data/files/python_reference.txt``, which the package ships and
``tutor.data.text.load_text`` reads. It was run once, with CPython 3.11.7; the output
depends on the Python version (the documentation changes between releases), so the
shipped file, not this script, is what the book's numbers rest on.

The changes made to the documentation (the PSF licence asks for a summary of them):

1. The topics are taken in alphabetical order of their keys.
2. Each topic is cut into paragraphs at blank lines. A paragraph is kept only when it is
   prose: its first line is not indented (code examples and grammar rules are), it holds
   no heading underline (rows of ``*``, ``=``, ``-``), it is not a table (lines starting
   with ``+`` or ``|``), it does not start with a grammar rule (``::=``) or a directive
   marker (``..``), and it has at least 40 characters.
3. A paragraph that was already kept is not kept again (several topics repeat others,
   for example "compound" contains "if", "while" and "for").
4. Typographic characters become ASCII: curly quotes become straight quotes, en and em
   dashes become "-" and "--", the ellipsis becomes "...". Paragraphs still holding a
   character outside printable ASCII (there are a handful) are dropped.
5. Trailing spaces are removed. Paragraphs are separated by one blank line; line breaks
   inside a paragraph are kept as they are (lines of at most about 70 characters).
6. Paragraphs are kept in order until the text would pass ``--max-chars`` characters.

Usage: python tools/make_text_extract.py [--out PATH] [--max-chars N]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "tutor" / "data" / "files" / "python_reference.txt"

ASCII_FOR = {
    "\u201c": '"',
    "\u201d": '"',
    "\u2018": "'",
    "\u2019": "'",
    "\u2013": "-",
    "\u2014": "--",
    "\u2026": "...",
}
UNDERLINE = re.compile(r"^\s*([*=\-~^])\1{2,}\s*$")


def is_prose(paragraph: str) -> bool:
    """True for a paragraph of running text (see rule 2 of the module's docstring)."""
    lines = paragraph.split("\n")
    first = lines[0]
    return not (
        first[:1].isspace()
        or any(UNDERLINE.match(line) for line in lines)
        or first.startswith(("+", "|", ".."))
        or "::=" in first
        or len(paragraph) < 40
    )


def to_ascii(paragraph: str) -> str | None:
    """The paragraph with typographic characters replaced, or None if others remain."""
    for fancy, plain in ASCII_FOR.items():
        paragraph = paragraph.replace(fancy, plain)
    printable = all(ch == "\n" or 32 <= ord(ch) < 127 for ch in paragraph)
    return paragraph if printable else None


def extract(topics: dict[str, str], max_chars: int) -> str:
    """Apply rules 1-6 of the module's docstring to ``topics``."""
    kept: list[str] = []
    seen: set[str] = set()
    size = 0
    for key in sorted(topics):
        for raw in re.split(r"\n\s*\n", topics[key]):
            paragraph = "\n".join(line.rstrip() for line in raw.strip("\n").split("\n"))
            if not paragraph or not is_prose(paragraph):
                continue
            paragraph = to_ascii(paragraph)
            if paragraph is None or paragraph in seen:
                continue
            if size + len(paragraph) + 2 > max_chars:
                return "\n\n".join(kept) + "\n"
            seen.add(paragraph)
            kept.append(paragraph)
            size += len(paragraph) + 2
    return "\n\n".join(kept) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--max-chars", type=int, default=300_000)
    args = parser.parse_args(argv)
    from pydoc_data.topics import topics

    text = extract(topics, args.max_chars)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8", newline="\n")
    version = sys.version.split()[0]
    print(f"wrote {len(text):,} characters ({len(set(text))} distinct) to {args.out}")
    print(f"from pydoc_data.topics of Python {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
