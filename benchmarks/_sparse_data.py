"""Sparse and categorical data of the sparse benchmarks; nothing is downloaded.

* :func:`tfidf_like`: a bag-of-words matrix as ``TfidfVectorizer`` would give
  it (CSR, float64, rows of unit L2 norm): Zipf-like term frequencies,
  document lengths that vary (negative binomial), raw term counts times a
  smoothed idf, then L2 row normalisation; the label depends on a sparse set
  of informative terms plus noise. Built from index arrays only: no dense
  matrix of the data's shape ever exists.
* :func:`onehot_table`: a table with one high-cardinality categorical column
  (skewed level frequencies, effects for a subset of levels) and a few
  numeric columns, and :func:`onehot_pipeline`, the one-hot + standardise
  pipeline that feeds it to an estimator (the encoder's default sparse
  output).
* :func:`csr_megabytes`: the size of a CSR/CSC matrix (data + indices +
  indptr); :func:`reset_peak_rss`: restart the process's peak-RSS count, so
  that ``ru_maxrss`` after a fit is the fit's peak, not the data
  generation's.

Every generator is deterministic given its ``seed``. Positive class = ``1``;
the number of positives is exactly ``round(pos_fraction * n_rows)`` (at least
2).
"""

from __future__ import annotations

import numpy as np

MB = 1024.0 * 1024.0

#: Zipf exponent of the term frequencies (natural text is near 1).
ZIPF_EXPONENT = 1.05
#: Shift of the Zipf ranks (Zipf-Mandelbrot), which flattens the head a little.
ZIPF_SHIFT = 2.7
#: Dispersion of the document lengths (negative binomial: var = m + m^2 / r).
LENGTH_DISPERSION = 4.0
#: Informative terms: how many, and the popularity ranks they are drawn from
#: (mid-frequency terms: neither stop words nor hapaxes).
N_INFORMATIVE = 300
INFORMATIVE_RANKS = (30, 30_000)
#: Standard deviation of the label noise, relative to the standardised signal.
#: At 250,000 x 100,000 (1% positives, 50,000 rows held out) it puts
#: LogisticRegression(class_weight="balanced")'s test ROC AUC near 0.89
#: (0.9 at noise 1.5, 0.83 at 2.0).
LABEL_NOISE = 1.6

#: :func:`onehot_table`'s column names.
CAT_COLUMN = "category"


def n_positives(n_rows: int, pos_fraction: float) -> int:
    """Positives of an ``n_rows`` sample: ``round(pos_fraction * n_rows)``, >= 2."""
    return max(2, int(round(pos_fraction * n_rows)))


def _top_k_labels(latent: np.ndarray, k: int) -> np.ndarray:
    """``1`` for the ``k`` largest values of ``latent``, else ``0`` (int64)."""
    y = np.zeros(latent.shape[0], dtype=np.int64)
    y[np.argpartition(latent, -k)[-k:]] = 1
    return y


def _zipf_cdf(n_features: int) -> np.ndarray:
    """Cumulative probabilities of the terms by popularity rank."""
    ranks = np.arange(1, n_features + 1, dtype=np.float64)
    weights = (ranks + ZIPF_SHIFT) ** -ZIPF_EXPONENT
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    return cdf


def _expected_distinct(mean_tokens: float, probabilities: np.ndarray) -> float:
    """Expected distinct terms of a document of ``mean_tokens`` draws."""
    return float(np.sum(-np.expm1(mean_tokens * np.log1p(-probabilities))))


def _tokens_for_distinct(nnz_per_row: float, probabilities: np.ndarray) -> float:
    """Mean tokens per document whose expected distinct terms are ``nnz_per_row``.

    Repeated terms (counts above 1) make a document's distinct terms fewer
    than its tokens; bisection on the Poissonised expectation.
    """
    low, high = nnz_per_row, nnz_per_row * 20.0
    for _ in range(60):
        mid = 0.5 * (low + high)
        if _expected_distinct(mid, probabilities) < nnz_per_row:
            low = mid
        else:
            high = mid
    return 0.5 * (low + high)


def tfidf_like(
    n_rows: int,
    n_features: int,
    nnz_per_row: float = 50,
    pos_fraction: float = 0.01,
    seed: int = 0,
    noise: float = LABEL_NOISE,
):
    """A TF-IDF-like sparse matrix and a binary label.

    Parameters
    ----------
    n_rows, n_features : int
        Shape of ``X``.
    nnz_per_row : float
        Mean number of distinct terms (stored entries) per row.
    pos_fraction : float
        Fraction of positives (exactly ``round(pos_fraction * n_rows)``).
    seed : int
        Seeds everything: vocabulary order, documents, informative terms,
        noise.
    noise : float
        Label-noise standard deviation relative to the standardised signal.

    Returns
    -------
    X : scipy.sparse.csr_matrix, float64, shape (n_rows, n_features)
        Raw term counts times ``idf = ln((1 + n) / (1 + df)) + 1`` (as
        ``TfidfVectorizer(smooth_idf=True)``), rows scaled to unit L2 norm
        (every row has at least one term); sorted indices, no duplicates.
    y : ndarray of int64, shape (n_rows,)
        ``1`` for the rows of the largest ``signal + noise``, where the signal
        is ``X`` times a weight vector that is non-zero on
        :data:`N_INFORMATIVE` mid-frequency terms (two thirds raise, one third
        lower the score).

    Notes
    -----
    Document lengths (tokens) follow a negative binomial of dispersion
    :data:`LENGTH_DISPERSION`; tokens are drawn from a Zipf-Mandelbrot law
    over the vocabulary (rank ``r`` has probability proportional to
    ``(r + 2.7) ** -1.05``), whose ranks are randomly permuted onto the
    columns. The mean token count is chosen so that the expected number of
    distinct terms per row is ``nnz_per_row``.
    """
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    cdf = _zipf_cdf(n_features)
    probabilities = np.diff(cdf, prepend=0.0)
    mean_tokens = _tokens_for_distinct(nnz_per_row, probabilities)
    # Negative binomial of mean m and dispersion r: n = r, p = r / (r + m).
    r = LENGTH_DISPERSION
    lengths = rng.negative_binomial(r, r / (r + mean_tokens), size=n_rows)
    np.maximum(lengths, 1, out=lengths)
    n_tokens = int(lengths.sum())
    # Popularity rank of each token (inverse CDF), then the rank's column.
    column_of_rank = rng.permutation(n_features).astype(np.int32)
    uniform = rng.random(n_tokens, dtype=np.float64)
    ranks = np.searchsorted(cdf, uniform, side="right")
    del uniform
    np.minimum(ranks, n_features - 1, out=ranks)
    columns = column_of_rank[ranks]
    del ranks
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    counts = sp.csr_matrix(
        (np.ones(n_tokens, dtype=np.float64), columns, indptr),
        shape=(n_rows, n_features),
    )
    del columns
    counts.sum_duplicates()  # counts per (row, term); sorts the indices
    X = counts
    if X.indptr[-1] <= np.iinfo(np.int32).max:
        X.indptr = X.indptr.astype(np.int32)
        X.indices = X.indices.astype(np.int32, copy=False)
    # Smoothed idf, as TfidfVectorizer(smooth_idf=True).
    df = np.bincount(X.indices, minlength=n_features)
    idf = np.log((1.0 + n_rows) / (1.0 + df)) + 1.0
    X.data *= idf[X.indices]
    # L2 row normalisation.
    squares = np.add.reduceat(X.data**2, X.indptr[:-1]) if X.nnz else np.zeros(0)
    row_nnz = np.diff(X.indptr)
    norms = np.ones(n_rows)
    norms[row_nnz > 0] = np.sqrt(squares[row_nnz > 0])
    X.data /= np.repeat(norms, row_nnz)

    # The label: a sparse linear signal on mid-frequency terms, plus noise.
    low, high = INFORMATIVE_RANKS
    high = min(high, n_features)
    low = min(low, max(high - N_INFORMATIVE, 0))
    informative_ranks = rng.choice(
        np.arange(low, high), size=min(N_INFORMATIVE, high - low), replace=False
    )
    weights = np.zeros(n_features)
    signs = np.where(rng.random(informative_ranks.size) < 2.0 / 3.0, 1.0, -1.0)
    weights[column_of_rank[informative_ranks]] = signs * rng.lognormal(
        0.0, 0.5, size=informative_ranks.size
    )
    signal = X @ weights
    spread = signal.std()
    signal = (signal - signal.mean()) / (spread if spread > 0 else 1.0)
    latent = signal + noise * rng.standard_normal(n_rows)
    y = _top_k_labels(latent, n_positives(n_rows, pos_fraction))
    return X, y


def csr_megabytes(X) -> float:
    """Megabytes of a CSR/CSC matrix: ``data + indices + indptr``."""
    return (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / MB


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS (``ru_maxrss``) to its current RSS.

    Linux's ``/proc/self/clear_refs`` (``5``). Returns whether it worked;
    without it, a peak measured after a fit may be an earlier one (here: the
    data generation's temporaries).
    """
    import resource

    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
    except (OSError, ValueError, IndexError):
        return False
    import os

    current = pages * os.sysconf("SC_PAGE_SIZE") / MB
    return usage <= current + 16.0


def stratified_split(X, y, test_size, seed: int = 0):
    """``X_train, X_test, y_train, y_test``: one stratified split (rows of a
    sparse ``X`` are gathered, never densified)."""
    from sklearn.model_selection import train_test_split

    return train_test_split(X, y, test_size=test_size, stratify=y, random_state=seed)


# --------------------------------------------------------------------------- #
# A one-hot table
# --------------------------------------------------------------------------- #
#: Share of the categorical levels that carry an effect on the label, and the
#: standard deviation of those effects (log-odds scale).
ACTIVE_LEVEL_SHARE = 0.3
LEVEL_EFFECT_SD = 1.5
#: Numeric columns: coefficients of the informative ones (log-odds per SD);
#: the rest carry no signal.
NUMERIC_EFFECTS = (0.8, -0.6, 0.5)
#: Scale of the label noise (logistic, as a Bernoulli draw would add). With
#: these settings, seed 0, 20,000 rows and 2% positives, 3-fold CV ROC AUC of
#: LogisticRegression(class_weight="balanced") on the one-hot + standardised
#: encoding is about 0.80 (other seeds: 0.82-0.87).
TABLE_NOISE = 0.7


def numeric_columns(n_numeric: int) -> list[str]:
    """Names of :func:`onehot_table`'s numeric columns."""
    return [f"num{j}" for j in range(n_numeric)]


def onehot_table(
    n_rows: int = 20_000,
    n_levels: int = 300,
    n_numeric: int = 5,
    pos_fraction: float = 0.02,
    seed: int = 0,
):
    """A table of one categorical and ``n_numeric`` numeric columns, and a label.

    Level frequencies are Zipf-like (the most common level has about 10% of
    the rows at 300 levels, the rarest a handful); a random
    :data:`ACTIVE_LEVEL_SHARE` of the levels shift the log-odds by a normal
    effect of SD :data:`LEVEL_EFFECT_SD`; the first numeric columns have the
    effects :data:`NUMERIC_EFFECTS` (one of them through a square, so a linear
    model sees only part of it), the others none. Positives are the
    ``round(pos_fraction * n_rows)`` rows of the largest log-odds plus
    logistic noise.

    Returns
    -------
    frame : pandas.DataFrame
        ``category`` (strings ``"L000"``...) and ``num0``... (float64).
    y : ndarray of int64
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    ranks = np.arange(1, n_levels + 1, dtype=np.float64)
    level_p = (ranks + 1.0) ** -1.0
    level_p /= level_p.sum()
    level_of_rank = rng.permutation(n_levels)
    levels = level_of_rank[rng.choice(n_levels, size=n_rows, p=level_p)]
    effects = np.zeros(n_levels)
    active = rng.random(n_levels) < ACTIVE_LEVEL_SHARE
    effects[active] = rng.normal(0.0, LEVEL_EFFECT_SD, size=int(active.sum()))
    numeric = rng.standard_normal((n_rows, n_numeric))
    # Different scales and offsets, so the standardisation matters.
    scales = np.exp(rng.uniform(-2.0, 3.0, size=n_numeric))
    offsets = rng.normal(0.0, 10.0, size=n_numeric)
    logit = effects[levels]
    for j, coef in enumerate(NUMERIC_EFFECTS[:n_numeric]):
        # The second informative column acts through its square.
        term = numeric[:, j] if j != 1 else (numeric[:, j] ** 2 - 1.0) / np.sqrt(2)
        logit = logit + coef * term
    uniform = rng.random(n_rows)
    latent = logit + TABLE_NOISE * np.log(uniform / (1.0 - uniform))
    y = _top_k_labels(latent, n_positives(n_rows, pos_fraction))
    names = np.array([f"L{k:03d}" for k in range(n_levels)], dtype=object)
    frame = pd.DataFrame({CAT_COLUMN: names[levels]})
    for j, name in enumerate(numeric_columns(n_numeric)):
        frame[name] = numeric[:, j] * scales[j] + offsets[j]
    return frame, y


def onehot_pipeline(estimator, n_numeric: int = 5):
    """One-hot the categorical column, standardise the numeric ones, then
    ``estimator``: the encoder's default (sparse) output, so the estimator
    receives a sparse matrix."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    encode = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), [CAT_COLUMN]),
            ("num", StandardScaler(), numeric_columns(n_numeric)),
        ]
    )
    return make_pipeline(encode, estimator)
