"""The Chinese edition's catalog check fails on the mistakes it exists to catch.

A paragraph left untranslated, an English paragraph changed after it was
translated (its old translation no longer matches), and a translation marked
fuzzy all count as messages without a current translation; the check fails when
their share passes the threshold. Also: the committed catalogs hold well-formed
translations that keep every formula, code span and role of their English text.
"""

import re
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import i18n  # noqa: E402

ENGLISH = ["The forget gate keeps the cell.", "$$\nc_t = f_t c_{t-1}\n$$ (cell)"]
CHINESE = {ENGLISH[0]: "遗忘门保留细胞状态。", ENGLISH[1]: ENGLISH[1]}


def write_catalog(path: Path, messages: dict, fuzzy: frozenset = frozenset()) -> None:
    catalog = Catalog(locale="zh_CN")
    for english, chinese in messages.items():
        catalog.add(english, chinese, flags=("fuzzy",) if english in fuzzy else ())
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        write_po(f, catalog, width=0)


@pytest.fixture
def catalogs(tmp_path, monkeypatch):
    """An extracted English page and its Chinese catalog, in a temporary tree."""
    monkeypatch.setattr(i18n, "PROSE", tmp_path / "gettext")
    monkeypatch.setattr(i18n, "CATALOGS", tmp_path / "locales")

    def make(english, chinese, fuzzy=frozenset()):
        write_catalog(tmp_path / "gettext" / "book" / "page.pot", dict.fromkeys(english, ""))
        write_catalog(tmp_path / "locales" / "book" / "page.po", chinese, fuzzy)

    return make


def test_a_fully_translated_page_passes(catalogs, capsys):
    catalogs(ENGLISH, CHINESE)
    assert i18n.check(0.0, extracted=True) == 0
    # The display equation needs no translation: one message to translate.
    assert "1 messages to translate, 0 without" in capsys.readouterr().out


def test_an_untranslated_paragraph_fails(catalogs, capsys):
    catalogs([*ENGLISH, "A new paragraph."], CHINESE)
    assert i18n.check(0.0, extracted=True) == 1
    out = capsys.readouterr().out
    assert "book/page: 1 messages without a current translation" in out
    assert "A new paragraph." in out
    # A threshold above the share (1 of 2) lets it pass: the share is what is compared.
    assert i18n.check(0.6, extracted=True) == 0


def test_a_changed_english_paragraph_fails_until_translated_again(catalogs):
    changed = ["The forget gate keeps the cell state.", ENGLISH[1]]
    catalogs(changed, CHINESE)  # the catalog still holds the old English text
    assert i18n.check(0.0, extracted=True) == 1
    catalogs(changed, {**CHINESE, changed[0]: "遗忘门保留细胞状态。"})
    assert i18n.check(0.0, extracted=True) == 0


def test_a_fuzzy_translation_fails(catalogs):
    catalogs(ENGLISH, CHINESE, fuzzy=frozenset({ENGLISH[0]}))
    assert i18n.check(0.0, extracted=True) == 1


def test_a_message_with_nothing_to_translate_needs_no_entry(catalogs):
    catalogs([*ENGLISH, "`tutor.rnn.RNN.forward (tutor/rnn.py, lines 1-9)`"], CHINESE)
    assert i18n.check(0.0, extracted=True) == 0


def test_on_the_api_page_only_its_own_text_counts(catalogs, tmp_path):
    # The API page's docstrings stay English; its title and introduction do not.
    catalogs(ENGLISH, CHINESE)
    pot = tmp_path / "gettext" / "book" / "api.pot"
    write_catalog(pot, {"A docstring's sentence stays English.": ""})
    assert i18n.check(0.0, extracted=True) == 0
    write_catalog(pot, {"The `tutor` package": ""})  # the page's own title
    assert i18n.check(0.0, extracted=True) == 1


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("$$\nh_t = \\tanh(a_t)\n$$ (srn-step)", False),
        ("`weight_ih`, $(G H, D)$", False),
        ("{eq}`srn-step`", False),
        ("The state $h_t$ of {eq}`srn-step`", True),
        ("Sizes", True),
    ],
)
def test_what_needs_a_translation(text, words):
    assert i18n.has_words(text) is words


# Spans of a message that a translation must keep exactly as they are: math, code
# and roles. A link's own text may be translated, its target not: in
# {doc}`the LSTM chapter <05_lstm>` only `<05_lstm>` must stay.
KEPT = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$|`[^`]+`|\{[a-z:]+\}", re.S)
LINK_TEXT = re.compile(r"(\{(?:doc|ref|numref)\}`)[^`<]*(<[^`>]+>`)")


def kept_spans(text: str) -> list[str]:
    return sorted(KEPT.findall(LINK_TEXT.sub(r"\1\2", text)))


def committed_catalogs():
    return sorted((ROOT / "locales" / "zh_CN" / "LC_MESSAGES" / "book").glob("*.po"))


@pytest.mark.parametrize("path", committed_catalogs(), ids=lambda p: p.stem)
def test_translations_keep_the_math_code_and_roles(path):
    with open(path, "rb") as f:
        catalog = read_po(f)
    for message in catalog:
        if not message.id or not message.string:
            continue
        assert kept_spans(message.string) == kept_spans(message.id), (
            message.id[:80],
            message.string[:80],
        )
