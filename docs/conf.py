"""Sphinx configuration for the skpairauc documentation.

Build locally with::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The build runs every gallery example in ``docs/examples``; they are written on
small data so the whole build stays within a few minutes on two CPU cores.
"""

import importlib.util
import os
import sys
import warnings
from datetime import date

# The docs describe the package in this checkout, installed or not.
DOCS_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(DOCS_DIR))

# Gallery examples run in this process. Pin JAX to the CPU (unless the caller
# says otherwise) so the rendered outputs do not depend on the builder's GPU.
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402

import skpairauc  # noqa: E402

# Every configuration an example fits compiles a training loop. Keep the
# compiled loops between builds (in the git-ignored build folder, unless the
# caller set JAX_COMPILATION_CACHE_DIR): a rebuild then skips most of the
# compilation. See the user guide's section on the compilation cache.
if not os.environ.get("JAX_COMPILATION_CACHE_DIR"):
    jax.config.update(
        "jax_compilation_cache_dir", os.path.join(DOCS_DIR, "_build", "jax_cache")
    )
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)

project = "skpairauc"
author = "The skpairauc developers"
copyright = f"{date.today().year}, {author}"
release = skpairauc.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "matplotlib.sphinxext.plot_directive",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
# examples/ holds the gallery sources; sphinx-gallery turns them into
# auto_examples/, so Sphinx must not read them itself.
exclude_patterns = ["_build", "examples", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"
pygments_style = "sphinx"

# -- autodoc / autosummary / numpydoc ---------------------------------------
autosummary_generate = True
# Inherited members are documented except scikit-learn's (partial_fit comes
# from skpairauc's StreamingMixin).
autodoc_default_options = {
    "members": True,
    "inherited-members": "ClassifierMixin,BaseEstimator",
}
autodoc_typehints = "none"
# numpydoc's own member tables would repeat autosummary's and pull in the
# inherited scikit-learn methods, whose docstrings link into sklearn's docs.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# The ``.. plot::`` directive of the user guide: show the figure, not the code.
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]

# -- HTML -------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skpairauc {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"index": [], "getting_started": []}
html_show_sourcelink = True

# -- sphinx-gallery -----------------------------------------------------------
# The dask example needs the dask extra (pip install "skpairauc[dask]"):
# without it, its page is built from the source without running it.
HAVE_DASK = all(
    importlib.util.find_spec(name) for name in ("dask", "distributed", "dask_ml")
)

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_" if HAVE_DASK else r"/plot_(?!dask_)",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skpairauc",),
    "backreferences_dir": os.path.join("generated", "backreferences"),
    "remove_config_comments": True,
    "plot_gallery": "True",
    "download_all_examples": False,
    "show_signature": False,
    "min_reported_time": 1,
    "matplotlib_animations": False,
}

# Matplotlib's Agg backend warns when an example calls plt.show(); the
# gallery scraper collects the figures itself.
warnings.filterwarnings(
    "ignore",
    category=UserWarning,
    message="FigureCanvasAgg is non-interactive, and thus cannot be shown",
)
