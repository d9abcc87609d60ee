"""The documentation builds without warnings and has every page it promises.

The build runs every gallery example, so it takes a few minutes: the tests are
marked ``docs`` (deselect them with ``-m "not docs"``) and skip when the docs
dependencies (``pip install ".[docs]"``) are missing.
"""

import doctest
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

PUBLIC_NAMES = [
    "PairwiseAUCClassifier",
    "logistic_pairwise_loss",
    "squared_hinge_pairwise_loss",
    "hinge_pairwise_loss",
    "square_pairwise_loss",
    "set_max_compiled_programs",
    "clear_compiled_programs",
]
EXAMPLES = sorted(path.stem for path in (DOCS / "examples").glob("plot_*.py"))
PAGES = [
    "index",
    "getting_started",
    "api",
    "user_guide/index",
    "user_guide/roc_auc",
    "user_guide/defaults",
    "user_guide/losses",
    "user_guide/training",
    "user_guide/thresholds",
    "user_guide/multiclass",
    "user_guide/practical",
    "user_guide/scaling",
    "auto_examples/index",
]
# Pages whose ``>>>`` examples are run as doctests.
DOCTEST_PAGES = ["getting_started.rst", "user_guide/multiclass.rst"]
BUILD_DEPENDENCIES = [
    "sphinx",
    "pydata_sphinx_theme",
    "numpydoc",
    "sphinx_gallery",
    "matplotlib",
    "pandas",
]
# Cold, on two busy CPU cores, the build takes a few minutes; this only
# stops a hung build from blocking the suite.
BUILD_TIMEOUT_S = 1500

pytestmark = pytest.mark.docs


@pytest.fixture(scope="module")
def html_dir(tmp_path_factory):
    """Build the HTML docs once, warnings as errors, and return the output."""
    missing = [m for m in BUILD_DEPENDENCIES if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(
            f"docs dependencies not installed ({', '.join(missing)}); "
            'install them with pip install ".[docs]"'
        )
    out = tmp_path_factory.mktemp("docs") / "html"
    command = [
        sys.executable, "-m", "sphinx",
        "-W", "--keep-going", "-b", "html",
        # sphinx-gallery skips examples whose source is unchanged since the
        # last build in docs/auto_examples; rerun them, since the package
        # they call may have changed.
        "-D", "sphinx_gallery_conf.run_stale_examples=True",
        str(DOCS), str(out),
    ]  # fmt: skip
    env = dict(os.environ, MPLBACKEND="Agg")
    result = subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    assert result.returncode == 0, (
        f"{' '.join(command)} failed (exit {result.returncode}):\n"
        f"{result.stdout[-4000:]}\n{result.stderr[-8000:]}"
    )
    return out


@pytest.mark.parametrize("page", PAGES)
def test_page_is_built(html_dir, page):
    assert (html_dir / f"{page}.html").is_file()


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_api_page_for_every_public_name(html_dir, name):
    page = html_dir / "generated" / f"skpairauc.{name}.html"
    assert page.is_file()
    html = page.read_text(encoding="utf-8")
    # numpydoc rendered the docstring's sections, including its examples.
    assert "Examples" in html
    import inspect

    import skpairauc

    if inspect.signature(getattr(skpairauc, name)).parameters:
        assert "Parameters" in html


def test_the_estimator_page_documents_its_methods(html_dir):
    page = html_dir / "generated" / "skpairauc.PairwiseAUCClassifier.html"
    html = page.read_text(encoding="utf-8")
    methods = ["fit", "partial_fit", "decision_function", "predict", "predict_proba"]
    for method in methods:
        assert f'id="skpairauc.PairwiseAUCClassifier.{method}"' in html
    # scikit-learn's own methods are left to its documentation.
    assert 'id="skpairauc.PairwiseAUCClassifier.get_params"' not in html


def test_partial_auc_page_and_the_sorted_losses_figure(html_dir):
    page = (html_dir / "user_guide" / "partial_auc.html").read_text(encoding="utf-8")
    assert "max_fpr" in page and "plot_partial_auc" in page
    losses = (html_dir / "user_guide" / "losses.html").read_text(encoding="utf-8")
    assert 'id="sorted-losses"' in losses
    assert (html_dir / "_images" / "sorted_gradient.png").is_file()


def test_api_names_match_the_package():
    import skpairauc

    assert sorted(PUBLIC_NAMES) == sorted(
        name for name in skpairauc.__all__ if name != "__version__"
    )


@pytest.mark.parametrize("example", EXAMPLES)
def test_gallery_example_ran_and_plotted(html_dir, example):
    if "dask" in example:  # run only with the dask extra (docs/conf.py)
        for name in ("dask", "distributed", "dask_ml"):
            pytest.importorskip(name)
    page = html_dir / "auto_examples" / f"{example}.html"
    assert page.is_file()
    html = page.read_text(encoding="utf-8")
    # sphinx-gallery names the figures it scraped sphx_glr_<example>_001.png...
    assert f"sphx_glr_{example}_001.png" in html
    assert (html_dir / "_images" / f"sphx_glr_{example}_001.png").is_file()


def test_gallery_has_the_promised_examples():
    assert EXAMPLES == [
        "plot_dask_incremental",
        "plot_decision_surfaces",
        "plot_grid_search",
        "plot_pairwise_vs_cross_entropy",
        "plot_partial_auc",
        "plot_threshold",
        "plot_training_curves",
    ]


@pytest.mark.parametrize("page", DOCTEST_PAGES)
def test_rst_doctests(page):
    """The ``>>>`` snippets of the prose run and print what the page shows."""
    failures, attempted = doctest.testfile(
        str(DOCS / page),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        verbose=False,
    )
    assert attempted > 0
    assert failures == 0
