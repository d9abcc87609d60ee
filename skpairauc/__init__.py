"""skpairauc: a scikit-learn classifier that trains directly for ROC AUC.

Importing the package imports neither JAX nor optax: they are imported by the
first ``fit``. Prediction, pickling and unpickling are NumPy only.
"""

from ._classifier import PairwiseAUCClassifier
from ._losses import (
    hinge_pairwise_loss,
    logistic_pairwise_loss,
    square_pairwise_loss,
    squared_hinge_pairwise_loss,
)

__version__ = "0.1.0"


def set_max_compiled_programs(n):
    """Keep at most ``n`` compiled training programs loaded in this process.

    Every compiled program holds code and memory mappings for as long as it
    is loaded; the least recently used ones beyond ``n`` are freed (and
    loaded again from the disk cache, in milliseconds, when needed). The
    default is 24, or the environment variable ``SKPAIRAUC_MAX_PROGRAMS``.
    JAX functions of your own are not affected.

    Parameters
    ----------
    n : int
        At least 1.

    See Also
    --------
    clear_compiled_programs : Free them all now.

    Examples
    --------
    >>> import skpairauc
    >>> skpairauc.set_max_compiled_programs(8)
    >>> skpairauc.set_max_compiled_programs(24)
    """
    from . import _programs

    _programs.set_max_programs(n)


def clear_compiled_programs():
    """Free every compiled training program of this process.

    The disk cache (``SKPAIRAUC_CACHE_DIR``, by default
    ``~/.cache/skpairauc``) stays; delete that directory to clear it.

    See Also
    --------
    set_max_compiled_programs : Bound how many stay loaded.

    Examples
    --------
    >>> import skpairauc
    >>> skpairauc.clear_compiled_programs()
    """
    from . import _programs

    _programs.clear()


__all__ = [
    "PairwiseAUCClassifier",
    "logistic_pairwise_loss",
    "squared_hinge_pairwise_loss",
    "hinge_pairwise_loss",
    "square_pairwise_loss",
    "set_max_compiled_programs",
    "clear_compiled_programs",
    "__version__",
]
