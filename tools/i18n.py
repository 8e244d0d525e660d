"""The Chinese edition (zh_CN): message catalogs, its build configuration, its check.

The Chinese edition is built from the same notebooks as the English one. Sphinx's
internationalisation splits the English prose into messages (paragraphs, headings,
list items, captions, display math); ``locales/zh_CN/LC_MESSAGES/book/<page>.po``
holds a translation of each. Code, outputs and glued numbers come from the same run.

    python tools/i18n.py extract        # English prose -> _build/gettext/*.pot
    python tools/i18n.py update         # extract, then bring the .po files up to date
    python tools/i18n.py prefill        # copy the messages with nothing to translate
    python tools/i18n.py check          # untranslated or outdated messages: fail above 0
    python tools/i18n.py config         # _build/zh/config.yml and toc.yml for the build

``update`` is the translator's command: after the English text changes, a changed
paragraph becomes a fuzzy message (its old translation kept as a hint) and a new one
an untranslated message; the Chinese build shows them in English until they are
translated. ``check`` compares the catalogs with the English text as it is now, so it
catches a change even when nobody ran ``update``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
LANGUAGE = "zh_CN"
LOCALES = ROOT / "locales"
CATALOGS = LOCALES / LANGUAGE / "LC_MESSAGES"
GETTEXT = BUILD / "gettext"  # every message, also what the code cells print
PROSE = BUILD / "gettext_prose"  # the messages of the sources alone
ZH = BUILD / "zh"
# The API page is mostly the package's docstrings, which stay English in both
# editions: only what its own source says (title, introduction, section titles) is
# translated.
DOCSTRING_PAGES = ("book/api",)

# Strings of the theme and of myst-nb that Sphinx's catalogs leave in English.
ZH_CONFIG = {
    "language": LANGUAGE,
    "togglebutton_hint": "点击显示",
    "togglebutton_hint_hide": "点击隐藏",
    "nb_code_prompt_show": "显示代码",
    "nb_code_prompt_hide": "隐藏代码",
}


def _jupyter_book() -> Path:
    return Path(sys.executable).parent / "jupyter-book"


def _load_yaml(path: Path) -> dict:
    import yaml

    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def _dump_yaml(data: dict, path: Path) -> None:
    import yaml

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(data, f, allow_unicode=True, sort_keys=False)


def _absolute(config: dict) -> dict:
    """Paths in a config resolve from the config file's folder: make them absolute."""
    config["bibtex_bibfiles"] = [str(ROOT / b) for b in config.get("bibtex_bibfiles", [])]
    extensions = config.get("sphinx", {}).get("local_extensions", {})
    for name, folder in extensions.items():
        extensions[name] = str(ROOT / folder)
    sphinx = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx["locale_dirs"] = [str(LOCALES)]
    sphinx["templates_path"] = [str(ROOT / p) for p in sphinx.get("templates_path", [])]
    sphinx["html_static_path"] = [str(ROOT / "_static")]
    return config


def extract(executed: bool = True, target: Path = GETTEXT) -> int:
    """Write the English messages of every page to ``target/book/<page>.pot``.

    With ``executed``, the messages include what the notebooks' code cells put on
    the page: the captions of their figures, and the tables and text they print. That
    needs the notebooks run: the English build's executed notebooks are reused (after
    ``python3 tasks.py book`` nothing runs again). Without it, nothing runs, and the
    messages are the prose of the sources. A glue role stays a role in its message.
    """
    config = _absolute(_load_yaml(ROOT / "_config.yml"))
    if executed:
        config["execute"]["cache"] = str(BUILD / ".jupyter_cache")
    else:
        config["execute"]["execute_notebooks"] = "off"
    work = BUILD / f"{target.name}_work"
    path = work / "config.yml"
    shutil.rmtree(target, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
    _dump_yaml(config, path)
    command = [str(_jupyter_book()), "build", ".", "--all", "--builder", "custom"]
    command += ["--custom-builder", "gettext", "--config", str(path)]
    command += ["--path-output", str(work)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
        return done.returncode
    built = work / "_build" / "gettext"
    for pot in built.rglob("*.pot"):
        destination = target / pot.relative_to(built)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(pot, destination)
    return 0


def _one_line(text: str) -> str:
    return " ".join(text.split())


def figure_captions(page: str) -> list[str]:
    """The captions that the code cells of a notebook page give their figures."""
    source = ROOT / f"{page}.ipynb"
    if not source.exists():
        return []
    notebook = json.loads(source.read_text(encoding="utf-8"))
    captions = []
    for cell in notebook["cells"]:
        figure = cell.get("metadata", {}).get("mystnb", {}).get("figure", {})
        if figure.get("caption"):
            captions.append(_one_line(figure["caption"]))
    return captions


def update() -> int:
    """Extract, then merge the new messages into the catalogs (sphinx-intl)."""
    if extract() != 0:
        return 1
    command = [sys.executable, "-m", "sphinx_intl", "update", "-p", str(GETTEXT)]
    command += ["-l", LANGUAGE, "-d", str(LOCALES), "-w", "0"]
    code = subprocess.run(command, cwd=ROOT).returncode
    from babel.messages.pofile import write_po

    for page in DOCSTRING_PAGES:  # keep the page's own messages, not docstrings'
        po = CATALOGS / f"{page}.po"
        if po.exists():
            catalog = _messages(po)
            for message in list(catalog):
                if message.id and not _written_in(page, message.id):
                    catalog.delete(message.id, message.context)
            with open(po, "wb") as f:
                write_po(f, catalog, width=0, ignore_obsolete=True)
    return code


def _written_in(page: str, text: str) -> bool:
    """Whether a message is text of the page's own source (and not, say, of a
    docstring that the page pulls in)."""
    source = ROOT / f"{page}.md"
    if not source.exists():
        return True
    written = source.read_text(encoding="utf-8")
    # its paragraphs, and its lines without a heading's #
    pieces = {_one_line(block) for block in written.split("\n\n")}
    pieces |= {line.strip().lstrip("#").strip() for line in written.splitlines()}
    return _one_line(text) in pieces


def _messages(path: Path):
    from babel.messages.pofile import read_po

    with open(path, "rb") as f:
        return read_po(f)


def check(max_share: float = 0.0, extracted: bool = False) -> int:
    """Count the English messages that lack a current translation.

    The messages that must be translated are the prose of every page (its text,
    headings, lists, captions of diagrams) and the captions of the figures that code
    draws, but not what code prints: like code, a table a cell prints may stay
    English, and its numbers may differ from run to run. A message with nothing to
    translate (a display equation, a line of code) needs no entry either: the
    Chinese page shows it as it is.

    A message counts as lacking when its page's catalog does not hold it (new or
    changed English text), holds it with an empty translation, or marks it fuzzy.
    Fails (returns 1) when the share of such messages exceeds ``max_share``.
    """
    if not extracted and extract(executed=False, target=PROSE) != 0:
        return 1
    total = missing = 0
    for pot in sorted(PROSE.rglob("*.pot")):
        page = pot.relative_to(PROSE).with_suffix("").as_posix()
        po = CATALOGS / f"{page}.po"
        catalog = {m.id: m for m in _messages(po) if m.id} if po.exists() else {}
        by_line = {_one_line(text): m for text, m in catalog.items()}
        wanted = [m.id for m in _messages(pot) if m.id and has_words(m.id)]
        if page in DOCSTRING_PAGES:
            wanted = [text for text in wanted if _written_in(page, text)]
        wanted += figure_captions(page)
        lacking = []
        for text in wanted:
            found = catalog.get(text) or by_line.get(_one_line(text))
            if found is None or not found.string or found.fuzzy:
                lacking.append(text)
        total += len(wanted)
        missing += len(lacking)
        if lacking:
            print(f"{page}: {len(lacking)} messages without a current translation, e.g.")
            for text in lacking[:3]:
                print(f"    {text[:90]!r}")
    share = missing / total if total else 0.0
    print(
        f"{LANGUAGE}: {total} messages to translate, {missing} without a current "
        f"translation ({share:.1%}; the check fails above {max_share:.1%})."
    )
    if missing:
        print("Run python tools/i18n.py update, then translate the empty or fuzzy messages.")
    return 1 if share > max_share else 0


# What a message may hold that needs no translation: math, code, roles and markup.
_NOT_WORDS = re.compile(
    r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`|\{[a-z:]+\}|\\[a-zA-Z]+|\([a-z0-9-]+\)",
    re.S,
)


def has_words(text: str) -> bool:
    """True when ``text`` holds a word outside its math, code and markup."""
    return re.search(r"[A-Za-z]{2,}", _NOT_WORDS.sub(" ", text)) is not None


def prefill() -> int:
    """Give every empty message with nothing to translate (a display equation, a
    symbol, a shape) its own text as translation, in every catalog."""
    from babel.messages.pofile import write_po

    for po in sorted(CATALOGS.rglob("*.po")):
        page = po.relative_to(CATALOGS).with_suffix("").as_posix()
        catalog = _messages(po)
        filled = 0
        for message in catalog:
            if message.id and not message.string and not has_words(message.id):
                message.string = message.id
                filled += 1
        with open(po, "wb") as f:
            write_po(f, catalog, width=0)
        print(f"{page}: {filled} messages copied")
    return 0


def _translations(page: str) -> dict[str, str]:
    po = CATALOGS / f"{page}.po"
    if not po.exists():
        return {}
    return {m.id: m.string for m in _messages(po) if m.id and m.string and not m.fuzzy}


def search_dictionary(path: Path) -> None:
    """A word list for the search index's Chinese word splitter (jieba): the Chinese
    terms of the glossary, so that a term typed without spaces, such as 梯度消失, is
    found as one word. The glossary's terms read ``english · 中文`` (see glossary.md)."""
    words = set()
    glossary = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
    for line in glossary.splitlines():
        if " · " not in line or line.startswith(" "):
            continue
        for part in re.split(r"[/,，、()（）\s]+", line.split(" · ", 1)[1]):
            if len(part) > 1 and all("\u4e00" <= ch <= "\u9fff" for ch in part):
                words.add(part)
    path.write_text("".join(f"{w} 1000 n\n" for w in sorted(words)), encoding="utf-8")


def zh_config(base: Path = ROOT / "_config.yml") -> tuple[Path, Path]:
    """Write the Chinese build's configuration and table of contents into ``_build/zh``.

    The same configuration as the English book, in Chinese: the English build's
    executed notebooks are reused (nothing runs twice), and the table of contents'
    captions and the title are looked up in the title page's catalog (Sphinx does not
    translate them itself). ``base`` is the English build's configuration.
    """
    config = _absolute(_load_yaml(base))
    toc = _load_yaml(ROOT / "_toc.yml")
    root_page = _translations(Path(toc["root"]).with_suffix("").as_posix())
    for part in toc.get("parts", []):
        part["caption"] = root_page.get(part["caption"], part["caption"])
    config["title"] = root_page.get(config["title"], config["title"])
    config["execute"]["cache"] = str(BUILD / ".jupyter_cache")
    sphinx = config["sphinx"]["config"]
    sphinx.update(ZH_CONFIG)
    ZH.mkdir(parents=True, exist_ok=True)
    words = ZH / "search_words.txt"
    search_dictionary(words)
    sphinx["html_search_options"] = {"dict": str(words)}
    theme = sphinx.setdefault("html_theme_options", {})
    theme["search_bar_text"] = "搜索本书……"
    paths = (ZH / "config.yml", ZH / "toc.yml")
    _dump_yaml(config, paths[0])
    _dump_yaml(toc, paths[1])
    return paths


def build_zh(base: Path = ROOT / "_config.yml") -> int:
    """Build the Chinese edition strictly into ``_build/html/zh_CN``, after the English
    build with the configuration ``base``, whose executed notebooks it reuses."""
    config, toc = zh_config(base)
    command = [str(_jupyter_book()), "build", ".", "--all", "-W", "-n", "--keep-going"]
    command += ["--config", str(config), "--toc", str(toc), "--path-output", str(ZH)]
    code = subprocess.run(command, cwd=ROOT).returncode
    built = ZH / "_build" / "html"
    target = BUILD / "html" / LANGUAGE
    shutil.rmtree(target, ignore_errors=True)
    if built.exists():
        shutil.copytree(built, target)
    return code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("extract", help="English messages -> _build/gettext")
    commands.add_parser("update", help="extract, then update the .po catalogs")
    commands.add_parser("prefill", help="copy the messages with nothing to translate")
    checker = commands.add_parser("check", help="fail when messages lack a translation")
    checker.add_argument("--max-share", type=float, default=0.0)
    for name, text in (
        ("config", "write the Chinese build's config into _build/zh"),
        ("build", "build the Chinese edition (after the English one)"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument(
            "--config", type=Path, default=ROOT / "_config.yml", help="the English config"
        )
    args = parser.parse_args()
    if args.command == "extract":
        return extract()
    if args.command == "update":
        return update()
    if args.command == "prefill":
        return prefill()
    if args.command == "check":
        return check(args.max_share)
    if args.command == "config":
        print(*zh_config(args.config), sep="\n")
        return 0
    return build_zh(args.config)


if __name__ == "__main__":
    sys.exit(main())
