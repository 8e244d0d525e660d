"""The checks that the test command runs on notebooks and on the built book.

Each check is shown to fail on the mistake it exists to catch: a notebook saved
with outputs, a page that loads a script from another host, a notebook cell
that raises, and a notebook that uses more CPU time than its budget. The
reader's build is shown to build every page when a cell fails, and to name it.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import book_errors  # noqa: E402
import check_notebooks_clean  # noqa: E402
import check_offline_html  # noqa: E402
import check_rendered  # noqa: E402

sys.path.insert(0, str(ROOT))
import tasks  # noqa: E402


def write_notebook(path: Path, sources: list[str], with_outputs: bool = False) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# A title")]
    for source in sources:
        cell = nbformat.v4.new_code_cell(source)
        if with_outputs:
            cell.execution_count = 1
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="2\n")]
        notebook.cells.append(cell)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, path)
    return path


# Committed notebooks carry no outputs -----------------------------------------------------


def test_clean_notebook_passes(tmp_path):
    path = write_notebook(tmp_path / "clean.ipynb", ["print(1 + 1)"])
    assert check_notebooks_clean.problems_in(path) == []
    assert check_notebooks_clean.main(["check", str(path)]) == 0


def test_notebook_saved_with_outputs_fails(tmp_path, capsys):
    path = write_notebook(tmp_path / "dirty.ipynb", ["print(1 + 1)"], with_outputs=True)
    problems = check_notebooks_clean.problems_in(path)
    assert any("stored output" in p for p in problems)
    assert any("execution count" in p for p in problems)
    assert check_notebooks_clean.main(["check", str(tmp_path)]) == 1
    assert "dirty.ipynb" in capsys.readouterr().out


def test_the_committed_chapters_are_clean():
    assert check_notebooks_clean.main(["check", str(ROOT / "book")]) == 0


# The built HTML loads nothing from another host -------------------------------------------

CLEAN_PAGE = """<html><head>
<link rel="stylesheet" href="_static/style.css">
<script src="_static/mathjax/tex-chtml.js"></script>
</head><body><span class="math">\\(x\\)</span>
<a href="https://example.org/paper.pdf">a link is fine</a></body></html>"""


def make_site(tmp_path: Path, page: str, css: str = "body { color: black; }") -> Path:
    (tmp_path / "_static" / "mathjax").mkdir(parents=True)
    (tmp_path / "_static" / "mathjax" / "tex-chtml.js").write_text("// local MathJax")
    (tmp_path / "_static" / "style.css").write_text(css)
    (tmp_path / "index.html").write_text(page)
    return tmp_path


def test_offline_page_passes(tmp_path):
    assert check_offline_html.check_build(make_site(tmp_path, CLEAN_PAGE)) == []


@pytest.mark.parametrize(
    "tag",
    [
        '<script src="https://cdn.example.com/mathjax/tex-chtml.js"></script>',
        '<script src="//cdn.example.com/lib.js"></script>',
        '<link rel="stylesheet" href="http://fonts.example.com/css?family=Lato">',
        '<link rel="preload" as="font" href="https://fonts.example.com/a.woff2">',
        '<img src="https://example.com/figure.png">',
        '<div style="background: url(https://example.com/bg.png)"></div>',
    ],
)
def test_page_loading_from_another_host_fails(tmp_path, tag):
    page = CLEAN_PAGE.replace("</head>", tag + "</head>")
    problems = check_offline_html.check_build(make_site(tmp_path, page))
    assert len(problems) == 1 and "example.com" in problems[0]


def test_stylesheet_importing_a_web_font_fails(tmp_path):
    css = '@import url("https://fonts.example.com/css2?family=Roboto");\nbody { color: red }'
    problems = check_offline_html.check_build(make_site(tmp_path, CLEAN_PAGE, css))
    assert len(problems) == 1 and "fonts.example.com" in problems[0]


def test_inline_svg_data_urls_are_fine(tmp_path):
    svg = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"
    css = f'a {{ background: url("{svg}") }}'
    assert check_offline_html.check_build(make_site(tmp_path, CLEAN_PAGE, css)) == []


def test_math_without_local_mathjax_fails(tmp_path):
    page = CLEAN_PAGE.replace('<script src="_static/mathjax/tex-chtml.js"></script>', "")
    problems = check_offline_html.check_build(make_site(tmp_path, page))
    assert problems and "MathJax" in problems[0]


def test_main_exit_code(tmp_path):
    page = CLEAN_PAGE.replace(
        "</head>", '<script src="https://cdn.example.com/x.js"></script></head>'
    )
    assert check_offline_html.main(["check", str(make_site(tmp_path, page))]) == 1


# The built book renders in a browser: code fits, figures load, math typesets ------------------

# The MathJax that the book ships (the sphinx-mathjax-offline package).
MATHJAX = Path(sysconfig.get_paths()["purelib"]) / "sphinx-mathjax-offline" / "static" / "mathjax"
PIXEL_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'


def rendered_page(tmp_path: Path, body: str) -> Path:
    """A one-page site with a 640-pixel text column, a figure and the book's MathJax."""
    assert MATHJAX.is_dir(), "sphinx-mathjax-offline is not installed in this environment"
    shutil.copytree(MATHJAX, tmp_path / "_static" / "mathjax")
    (tmp_path / "figure.svg").write_text(PIXEL_SVG)
    page = (
        "<html><head><style>article { width: 640px } pre { overflow: auto }</style>"
        '<script defer src="_static/mathjax/tex-chtml.js"></script></head>'
        f"<body><article>{body}</article></body></html>"
    )
    (tmp_path / "page.html").write_text(page)
    return tmp_path / "page.html"


GOOD_BODY = (
    "<pre>x = short_line_of_code(1)</pre>"
    '<img src="figure.svg" alt="a figure">'
    '<span class="math">\\(h_t = \\tanh(W x_t + U h_{t-1} + b)\\)</span>'
)


def test_a_page_that_reads_well_passes(tmp_path, chromium):
    assert check_rendered.problems_on_page(chromium, rendered_page(tmp_path, GOOD_BODY)) == []


@pytest.mark.parametrize(
    "body, expected",
    [
        ("<pre>" + "x" * 200 + "</pre>", "code block scrolls sideways"),
        # A folded solution is checked too: the check unfolds it first.
        (
            "<details><summary>Solution</summary><pre>" + "y" * 200 + "</pre></details>",
            "code block scrolls sideways",
        ),
        ('<img src="no-such-figure.svg" alt="missing">', "image not shown: no-such-figure.svg"),
        # \frac with one argument: TeX that MathJax cannot typeset.
        ('<span class="math">\\(\\frac{1}\\)</span>', "math not rendered: MathJax error"),
    ],
)
def test_a_page_that_reads_badly_fails(tmp_path, chromium, body, expected):
    problems = check_rendered.problems_on_page(chromium, rendered_page(tmp_path, body))
    assert len(problems) == 1 and expected in problems[0], problems


def test_math_left_as_raw_tex_fails(tmp_path, chromium):
    page = rendered_page(tmp_path, GOOD_BODY)
    page.write_text(page.read_text().replace("tex-chtml.js", "missing-mathjax.js"))
    problems = check_rendered.problems_on_page(chromium, page)
    assert len(problems) == 1 and "math not rendered: not typeset" in problems[0], problems


def test_the_rendered_check_exit_code(tmp_path, chromium, capsys):
    rendered_page(tmp_path, GOOD_BODY)
    assert check_rendered.main([str(tmp_path), "--chromium", chromium]) == 0
    (tmp_path / "bad.html").write_text('<html><body><img src="gone.png"></body></html>')
    assert check_rendered.main([str(tmp_path), "--chromium", chromium]) == 1
    assert "bad.html: image not shown: gone.png" in capsys.readouterr().out


# Notebooks run top to bottom, within their time budget ------------------------------------


def run_nbval(folder: Path, *options: str) -> subprocess.CompletedProcess:
    # The project's conftest.py (with the time budget) is copied beside the notebook, so
    # the run in the temporary folder uses exactly the plugin the test command uses.
    shutil.copy(ROOT / "conftest.py", folder / "conftest.py")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval",
            str(folder),
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(folder),
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=folder,
    )


def test_nbval_passes_a_working_notebook_and_reports_its_time(tmp_path):
    write_notebook(tmp_path / "works.ipynb", ["x = 1 + 1", "assert x == 2"])
    result = run_nbval(tmp_path, "--nb-time-budget=60")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "notebook execution times" in result.stdout
    assert "works.ipynb" in result.stdout


def test_nbval_fails_on_a_broken_cell(tmp_path):
    write_notebook(tmp_path / "broken.ipynb", ["x = 1", "assert x == 2, 'the claim is false'"])
    result = run_nbval(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the claim is false" in result.stdout


BUSY_FOR_TWO_CPU_SECONDS = (
    "import time\nstart = time.process_time()\nwhile time.process_time() - start < 2:\n    pass"
)


def test_nbval_fails_a_notebook_over_its_cpu_time_budget(tmp_path):
    write_notebook(tmp_path / "slow.ipynb", [BUSY_FOR_TWO_CPU_SECONDS])
    result = run_nbval(tmp_path, "--nb-time-budget=1.5")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "OVER BUDGET" in result.stdout and "slow.ipynb" in result.stdout
    reported = next(line for line in result.stdout.splitlines() if "s CPU" in line)
    assert 2 <= float(reported.split()[0]) < 10, reported  # the kernel's CPU time is measured


def test_the_budget_is_on_cpu_time_not_on_the_wall_clock(tmp_path):
    # A notebook that waits (a busy machine, a slow disk) uses little CPU time: within budget.
    write_notebook(tmp_path / "waits.ipynb", ["import time", "time.sleep(3)"])
    result = run_nbval(tmp_path, "--nb-time-budget=2.5", "--nb-total-budget=2.5")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OVER BUDGET" not in result.stdout


def test_nbval_fails_when_all_notebooks_together_are_over_budget(tmp_path):
    for name in ("one", "two"):
        write_notebook(tmp_path / f"{name}.ipynb", [BUSY_FOR_TWO_CPU_SECONDS])
    result = run_nbval(tmp_path, "--nb-time-budget=10", "--nb-total-budget=3")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "all notebooks used" in result.stdout


# The portability pass ---------------------------------------------------------------------


def test_each_portability_pass_changes_the_floating_point_environment():
    assert tasks.PASSES[0] == "native" and tasks.pass_environment("native") == {}
    assert tasks.pass_environment("no-fma") == {"OPENBLAS_CORETYPE": "Sandybridge"}
    avx2 = tasks.pass_environment("avx2")
    assert avx2["OPENBLAS_CORETYPE"] == "Haswell"
    # The NumPy features switched off are ones this NumPy dispatches to, none of them AVX2.
    assert "X86_V3" not in avx2.get("NPY_DISABLE_CPU_FEATURES", "").split()
    with pytest.raises(ValueError, match="native, avx2, no-fma"):
        tasks.pass_environment("fast")


def test_the_no_fma_pass_changes_the_last_digits_of_a_matrix_product():
    # The pass is only useful if the kernel it asks for is taken: where OpenBLAS has no
    # Sandybridge kernel (another BLAS, another processor), this shows nothing and passes.
    probe = (
        "import numpy as np\n"
        "a = np.random.default_rng(0).standard_normal((64, 64))\n"
        "print(repr(float((a @ a).sum())))"
    )
    results = {
        name: subprocess.run(
            [sys.executable, "-c", probe],
            env={**os.environ, **tasks.ENV, **tasks.pass_environment(name)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for name in ("native", "no-fma")
    }
    assert abs(float(results["native"]) - float(results["no-fma"])) < 1e-9
    blas = subprocess.run(
        [sys.executable, "-c", "import numpy; numpy.show_config()"],
        capture_output=True,
        text=True,
    ).stdout
    if "openblas" in blas.lower() and os.environ.get("OPENBLAS_CORETYPE") is None:
        assert results["native"] != results["no-fma"], results


# The reader's build: every page, and the failing cells named -------------------------------

TINY_CONFIG = """title: A tiny book
author: The tests
only_build_toc_files: true
exclude_patterns: [_build, "**.ipynb_checkpoints", ".*", "**/.*"]
execute:
  execute_notebooks: cache
  allow_errors: false
launch_buttons:
  thebe: false
sphinx:
  config:
    nb_execution_raise_on_error: true
"""


def test_reader_config_records_failing_cells_and_keeps_the_rest():
    config = {"title": "t", "execute": {"timeout": 120}, "sphinx": {"config": {"nitpicky": True}}}
    reader = book_errors.reader_config(config)
    assert reader["execute"] == {"timeout": 120, "allow_errors": True}
    assert reader["sphinx"]["config"] == {"nitpicky": True, "nb_execution_raise_on_error": False}
    assert config["execute"] == {"timeout": 120}  # the strict configuration is untouched


def test_the_reader_config_finds_the_local_extensions_from_elsewhere(tmp_path):
    # The reader's config is written into _build/; the book's local extensions
    # (_ext) must still be found from there.
    (tmp_path / "_ext").mkdir()
    source = tmp_path / "_config.yml"
    source.write_text("title: t\nsphinx:\n  local_extensions:\n    glue_i18n: _ext\n")
    book_errors.write_reader_config(source, tmp_path / "_build" / "reader.yml")
    written = yaml.safe_load((tmp_path / "_build" / "reader.yml").read_text())
    folder = Path(written["sphinx"]["local_extensions"]["glue_i18n"])
    assert folder.is_absolute() and folder == (tmp_path / "_ext").resolve()


def test_the_committed_config_builds_the_reader_book_with_its_extensions(tmp_path):
    book_errors.write_reader_config(ROOT / "_config.yml", tmp_path / "reader.yml")
    written = yaml.safe_load((tmp_path / "reader.yml").read_text())
    for folder in written["sphinx"]["local_extensions"].values():
        assert Path(folder).is_absolute() and Path(folder).is_dir()


def test_the_reader_build_builds_every_page_and_names_the_failing_cell(tmp_path, capfd):
    (tmp_path / "_config.yml").write_text(TINY_CONFIG)
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: broken\n  - file: works\n"
    )
    (tmp_path / "intro.md").write_text("# Intro\n\nA tiny book.\n")
    glued = "from myst_nb import glue\n"
    write_notebook(
        tmp_path / "broken.ipynb",
        [glued + "x = 1", "assert x == 2, 'x should be two'\nglue('value', x, display=False)"],
    )
    write_notebook(tmp_path / "works.ipynb", [glued + "glue('value', 3.0, display=False)"])

    assert tasks.build_reader_book(tmp_path) == 1
    html = tmp_path / "_build" / "html"
    assert (html / "works.html").exists() and (html / "index.html").exists()
    assert "x should be two" in (html / "broken.html").read_text()  # the error, in its page
    out = capfd.readouterr().out
    assert "broken.ipynb, cell 2: AssertionError: x should be two" in out
    assert "at: assert x == 2, 'x should be two'" in out
    assert "works.ipynb" not in out.split("cell(s) failed")[1]
