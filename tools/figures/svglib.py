"""Tiny helpers that write tidy, hand-readable SVG for the book's figures."""

import argparse
import importlib
import re
from xml.sax.saxutils import escape

# The language of the figures being written: "en" writes NAME.svg, any other language writes
# NAME.<lang>.svg with the words from the catalog <lang>.py (e.g. zh_CN.py) and its own fonts.
LANG = "en"
LANGS = ("en", "zh_CN")
# Text fonts per language (the English ones are those of CSS below). The formulas keep their
# italic serif font in every language.
FONTS = {
    "zh_CN": '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif',
}
# The value of the lang attribute of the <svg> element, for the languages that are not English.
XML_LANG = {"zh_CN": "zh-CN"}

# One palette for every figure: one accent colour per kind of thing.
CSS = """
      text { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; font-size: 14px; fill: #222222; }
      .m { font-family: "DejaVu Serif", Georgia, "Times New Roman", serif; font-style: italic; font-size: 18px; }
      .u { font-style: normal; }
      .title { font-size: 15px; font-weight: bold; fill: #333333; }
      .note { font-size: 13.5px; fill: #555555; }
      .small { font-size: 12.5px; fill: #555555; }
      .op-text { font-size: 19px; fill: #222222; }
      .bg { fill: #ffffff; stroke: #d0d0d0; stroke-width: 1; }
      .body { fill: #f7f7f7; stroke: #b8b8b8; stroke-width: 1.2; }
      .wire { fill: none; stroke: #3a3a3a; stroke-width: 1.6; }
      .dashed { stroke-dasharray: 6 4; }
      .halo { fill: none; stroke: #f7f7f7; stroke-width: 9; }
      .halo-white { fill: none; stroke: #ffffff; stroke-width: 9; }
      .dot { fill: #3a3a3a; }
      .x { fill: #e8f0fb; stroke: #2f6db5; stroke-width: 1.6; }
      .h { fill: #fdf0e1; stroke: #cf7a1e; stroke-width: 1.6; }
      .y { fill: #f1eaf8; stroke: #7b4fa6; stroke-width: 1.6; }
      .layer { fill: #fff4c4; stroke: #a67c00; stroke-width: 1.6; }
      .op { fill: #ffffff; stroke: #3a3a3a; stroke-width: 1.6; }
      .c-line { fill: none; stroke: #00897b; stroke-width: 4; }
      .h-line { fill: none; stroke: #cf7a1e; stroke-width: 4; }
      .grad { fill: none; stroke: #c62828; stroke-width: 1.8; }
      .grad-text { fill: #c62828; }
      .att { fill: #dcefdc; stroke: #2e7d32; stroke-width: 1.4; }
      .att-line { fill: none; stroke: #2e7d32; }
      .mark { fill: #cf7a1e; stroke: #ffffff; stroke-width: 1.5; }
      .pad { fill: #fafafa; stroke: #b0b0b0; stroke-width: 1.2; stroke-dasharray: 4 3; }
      .window { fill: #eef1f5; stroke: #8c96a3; stroke-width: 1.4; stroke-dasharray: 2 3; }
"""

# Arrow heads, one per colour of line (SVG 1.1 markers do not inherit the line's colour).
MARKER_COLOURS = {
    "dark": "#3a3a3a",
    "red": "#c62828",
    "teal": "#00897b",
    "orange": "#cf7a1e",
    "green": "#2e7d32",
}

UPRIGHT_WORDS = {"tanh", "softmax", "GRU", "enc", "dec", "exp"}
GREEK = set("αβγδεζηθικλμνξπρσςτυφχψωℓϕ")


def _segments(s):
    """Split mini-TeX such as 'h_{t-1}' into (text, upright, level) runs."""
    out = []

    def emit(text, upright, level):
        if out and out[-1][1] == upright and out[-1][2] == level:
            out[-1] = (out[-1][0] + text, upright, level)
        else:
            out.append((text, upright, level))

    def walk(s, level):
        i = 0
        while i < len(s):
            ch = s[i]
            if ch in "_^":
                mark = "sub" if ch == "_" else "super"
                if s[i + 1] == "{":
                    depth, j = 1, i + 2
                    while depth:
                        depth += {"{": 1, "}": -1}.get(s[j], 0)
                        j += 1
                    inner, i = s[i + 2 : j - 1], j
                else:
                    inner, i = s[i + 1], i + 2
                out.append(("", None, (level, mark, "open")))
                walk(inner, mark)
                out.append(("", None, (level, mark, "close")))
                continue
            m = re.match(r"[A-Za-z]+", s[i:])
            if m:
                word = m.group(0)
                emit(word, word in UPRIGHT_WORDS, level)
                i += len(word)
                continue
            if ch in GREEK:
                emit(ch, False, level)
            else:
                emit("\u2212" if ch == "-" else ch, True, level)
            i += 1

    walk(s, "base")
    return out


# Advance widths in em of the formula font (DejaVu Serif; Georgia and Times are a little
# narrower), to stack a subscript and a superscript; other characters count as 0.6 em.
EM = {**dict.fromkeys("fijlrt(),.", 0.4), **dict.fromkeys("mw+−=⊤", 0.9), "s": 0.5}


def _em(text):
    return sum(EM.get(ch, 0.6) for ch in text)


def math(s):
    """Inner SVG markup for a formula; the enclosing <text> has class "m" (italic serif).

    A subscript and a superscript written one after the other, as in h_t^{(1)}, are stacked:
    the shorter is written first, and the longer is moved back (dx, in em) to start above or
    below it.
    """
    items = []  # markup, or [mark, text, markup] for a script of the base line
    depth = 0
    for text, upright, level in _segments(s):
        if upright is None:
            _, mark, kind = level
            if kind == "close":
                items[-1][2] += "</tspan>"
                depth -= 1
                continue
            tag = f'<tspan baseline-shift="{mark}" font-size="70%">'
            if depth == 0:
                items.append([mark, "", tag])
            else:
                items[-1][2] += tag
            depth += 1
            continue
        piece = f'<tspan class="u">{escape(text)}</tspan>' if upright else escape(text)
        if depth:
            items[-1][1] += text
            items[-1][2] += piece
        else:
            items.append(piece)
    parts, i = [], 0
    while i < len(items):
        a = items[i]
        b = items[i + 1] if i + 1 < len(items) else None
        if isinstance(a, list) and isinstance(b, list) and a[0] != b[0]:
            first, second = sorted((a, b), key=lambda g: _em(g[1]))
            back = f' dx="-{_em(first[1]):.2f}em">'
            parts += [first[2], second[2].replace(">", back, 1)]
            i += 2
            continue
        parts.append(a[2] if isinstance(a, list) else a)
        i += 1
    return "".join(parts)


def tr(s, ctx=""):
    """The words s in the current language: s itself in English, else from the catalog.

    ctx tells apart the same English words with different translations: the catalog's key is
    then "ctx|s" (e.g. "gate|input" is 输入门, the input gate, while "input" is 输入).
    """
    if LANG == "en":
        return s
    catalog = importlib.import_module(LANG).TEXT
    key = f"{ctx}|{s}" if ctx else s
    if key not in catalog:
        raise KeyError(f"no {LANG} translation in tools/figures/{LANG}.py for: {key!r}")
    return catalog[key]


def main(*builders):
    """Run the figure builders for the language(s) given by --lang (default: English)."""
    global LANG
    parser = argparse.ArgumentParser(description="Write the figures into book/figures/.")
    parser.add_argument(
        "--lang",
        choices=LANGS + ("all",),
        default="en",
        help="en writes NAME.svg, zh_CN writes NAME.zh_CN.svg; all writes both",
    )
    args = parser.parse_args()
    for lang in LANGS if args.lang == "all" else (args.lang,):
        LANG = lang
        for build in builders:
            build()
    LANG = "en"


def f(v):
    """Format a coordinate without a trailing .0."""
    return f"{v:g}"


class Figure:
    def __init__(self, name, width, height, title, desc, prefix):
        """title and desc are given in English and translated here, like every tr() text."""
        self.name, self.w, self.h, self.p = name, width, height, prefix
        self.title, self.desc = tr(title), tr(desc)
        self.body = []
        self.depth = 1

    # --- structure -------------------------------------------------------------
    def add(self, line):
        self.body.append("  " * self.depth + line)

    def comment(self, text):
        self.body.append("")
        self.add(f"<!-- {text} -->")

    def group(self, attrs=""):
        self.add(f"<g{(' ' + attrs) if attrs else ''}>")
        self.depth += 1

    def end(self):
        self.depth -= 1
        self.add("</g>")

    # --- shapes ------------------------------------------------------------------
    def rect(self, cx, cy, w, h, cls, rx=7, extra=""):
        self.add(
            f'<rect class="{cls}" x="{f(cx - w / 2)}" y="{f(cy - h / 2)}" width="{f(w)}" '
            f'height="{f(h)}" rx="{f(rx)}"{extra}/>'
        )

    def circle(self, cx, cy, r, cls):
        self.add(f'<circle class="{cls}" cx="{f(cx)}" cy="{f(cy)}" r="{f(r)}"/>')

    def ellipse(self, cx, cy, rx, ry, cls):
        self.add(f'<ellipse class="{cls}" cx="{f(cx)}" cy="{f(cy)}" rx="{f(rx)}" ry="{f(ry)}"/>')

    def path(self, points, cls="wire", marker="dark", extra=""):
        d = "M " + " L ".join(f"{f(x)},{f(y)}" for x, y in points)
        end = f' marker-end="url(#{self.p}-arrow-{marker})"' if marker else ""
        self.add(f'<path class="{cls}" d="{d}"{end}{extra}/>')

    def raw_path(self, d, cls="wire", marker="dark", extra=""):
        end = f' marker-end="url(#{self.p}-arrow-{marker})"' if marker else ""
        self.add(f'<path class="{cls}" d="{d}"{end}{extra}/>')

    def dot(self, x, y, r=3.2):
        self.add(f'<circle class="dot" cx="{f(x)}" cy="{f(y)}" r="{f(r)}"/>')

    # --- text --------------------------------------------------------------------
    def m(self, s, x, y, anchor="middle", size=None, extra=""):
        """A formula in italic serif, with subscripts."""
        style = f' style="font-size:{size}px"' if size else ""
        a = "" if anchor == "start" else f' text-anchor="{anchor}"'
        self.add(f'<text class="m" x="{f(x)}" y="{f(y)}"{a}{style}{extra}>{math(s)}</text>')

    def t(self, s, x, y, cls="note", anchor="middle", extra=""):
        """Plain text; formulas inside $...$ become italic-serif tspans."""
        pieces = re.split(r"\$(.+?)\$", s)
        inner = "".join(
            escape(p)
            if i % 2 == 0
            else f'<tspan class="m" style="font-size:1.22em">{math(p)}</tspan>'
            for i, p in enumerate(pieces)
        )
        a = "" if anchor == "start" else f' text-anchor="{anchor}"'
        self.add(f'<text class="{cls}" x="{f(x)}" y="{f(y)}"{a}{extra}>{inner}</text>')

    # --- composite nodes ---------------------------------------------------------------
    def node(self, cx, cy, label, cls, w=64, h=36, size=None):
        self.rect(cx, cy, w, h, cls)
        self.m(label, cx, cy + 6, size=size)

    def op(self, cx, cy, sym, r=13, size=None):
        self.circle(cx, cy, r, "op")
        style = f' style="font-size:{size}px"' if size else ""
        dy = 6.5 if size is None else size * 0.34
        self.add(
            f'<text class="op-text" x="{f(cx)}" y="{f(cy + dy)}" text-anchor="middle"{style}>{sym}</text>'
        )

    # --- output -------------------------------------------------------------------------
    def write(self, path):
        p = self.p
        lang_attr = ""
        if LANG != "en":
            path = re.sub(r"\.svg$", f".{LANG}.svg", path)
            lang_attr = f' lang="{XML_LANG[LANG]}" xml:lang="{XML_LANG[LANG]}"'
        body = "\n".join(self.body)
        used = {"bg"}
        for attr in re.findall(r'class="([^"]+)"', body):
            used.update(attr.split())
        css = "".join(
            line + "\n"
            for line in CSS.strip("\n").split("\n")
            if not line.strip().startswith(".") or line.strip()[1:].split()[0] in used
        )
        if LANG in FONTS:
            css = re.sub(
                r"(text \{ font-family: )[^;]+;", lambda m: m.group(1) + FONTS[LANG] + ";", css
            )
        markers = []
        for name, colour in MARKER_COLOURS.items():
            if f"{p}-arrow-{name}" not in body:
                continue
            markers.append(
                f'    <marker id="{p}-arrow-{name}" viewBox="0 0 10 10" refX="10" refY="5" '
                f'markerWidth="10" markerHeight="10" markerUnits="userSpaceOnUse" '
                f'orient="auto-start-reverse">\n'
                f'      <path d="M 0,1 L 10,5 L 0,9 z" fill="{colour}"/>\n'
                f"    </marker>"
            )
        head = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.w} {self.h}" '
            f'width="{self.w}" height="{self.h}"{lang_attr} role="img" '
            f'aria-labelledby="{p}-title {p}-desc">',
            f'  <title id="{p}-title">{escape(self.title)}</title>',
            f'  <desc id="{p}-desc">{escape(self.desc)}</desc>',
            "  <defs>",
            "    <style>\n" + css + "    </style>",
            *markers,
            "  </defs>",
            "",
            "  <!-- Opaque background, so that the figure reads in the light and the dark theme. -->",
            f'  <rect class="bg" x="0.5" y="0.5" width="{self.w - 1}" height="{self.h - 1}" rx="14"/>',
        ]
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("\n".join(head + self.body + ["</svg>", ""]))
