"""All-pairs sums of any pairwise loss in O(n + K log K), scores on a lattice.

A task's loss sum ``sum_ij w_i v_j f(s_i - t_j)`` over positives ``s`` (weights
``w``) and negatives ``t`` (weights ``v``) is a convolution once the scores sit
on a lattice of spacing ``h``: each score is split between its two nearest
lattice points in proportion to its distance (linear interpolation, "cloud in
cell"), each side's weights pile up into a histogram, and the sum becomes
``sum_a P_a (N * F)_a`` with ``F_k = f(k h)``: one FFT convolution of length
about twice the number of lattice points ``K`` in the scores' range. The
gradient with respect to each score is the same convolution with ``f'``,
read back at the score by linear interpolation.

The lattice is anchored at multiples of ``h`` (not at the current minimum), so
the objective is one fixed function of the parameters between L-BFGS
iterations. Its error is that of linear interpolation, about
``h^2 / 8 * max |f''|`` per pair and side (``f'' <= 1/4`` for the
logistic loss): a few 1e-6 of the sum at the default spacing, and exact wherever ``f``
is linear (the logistic loss far from 0). Where the scores span more than
``MAX_BINS`` lattice points the spacing doubles until they fit.

Why: the logistic loss has no sort-based sum (:mod:`skpairauc._sorted`), and
evaluating every pair costs O(n_pos n_neg) per iteration, which made the
default's exact fits the bulk of its cost from a few thousand rows up (see
benchmarks/README.md, "Binned objective").
"""

import math

import numpy as np
from scipy import fft

# The lattice's spacing in score units (a power of two, so lattice points are
# exact in float64), and the most lattice points a task's range may span
# before the spacing doubles, which bounds an evaluation's FFTs when an MLP's
# scores spread wide (the coarser lattice errs only near d = 0).
SPACING = 2.0**-7
MAX_BINS = 2**13


# The number of lattice points is rounded up to a multiple of this, or of a
# quarter of its power of two when larger (four lengths per octave), so that
# an MLP's spreading scores cross few lattice lengths and the loss's spectra
# are recomputed rarely; ``KEPT_LATTICES`` of them are kept.
BIN_STEP = 256
KEPT_LATTICES = 4


def _round_bins(n_bins):
    step = max(BIN_STEP, 2 ** ((n_bins - 1).bit_length() - 3))
    return -(-n_bins // step) * step


def _lattice(lo, hi):
    """Spacing ``h``, first lattice index and number of points (see
    ``BIN_STEP``) covering ``[lo, hi]`` with at least two points."""
    h = SPACING
    while True:
        first = math.floor(lo / h)
        n_bins = _round_bins(math.floor(hi / h) - first + 2)
        if n_bins <= MAX_BINS:
            return h, first, n_bins
        h *= 2.0


def _kernels(value_and_derivative, h, n_bins, cache):
    """The FFT length and the spectra of the loss, its derivative and the
    reversed derivative at every lag ``k h``, ``|k| < n_bins``: computed once
    per lattice and kept in ``cache`` (a dict, or None; the newest
    ``KEPT_LATTICES``)."""
    key = (h, n_bins)
    if cache is not None and key in cache:
        return cache[key]
    lags = np.arange(-(n_bins - 1), n_bins) * h
    value, deriv = value_and_derivative(lags)
    # A circular convolution of this length leaves the window the sums read
    # (entries n_bins - 1 to 2 n_bins - 2 of the full one) unaliased.
    size = fft.next_fast_len(2 * n_bins - 1, real=True)
    # The loss at lag k sits at entry k mod size, so that the summed loss is
    # an inner product of spectra (Parseval), with no inverse transform.
    circular = np.zeros(size)
    circular[:n_bins] = value[n_bins - 1 :]
    circular[size - n_bins + 1 :] = value[: n_bins - 1]
    # Each rfft entry but the first (and, for an even size, the last) stands
    # for two conjugate entries of the full spectrum.
    counts = np.full(size // 2 + 1, 2.0 / size)
    counts[0] = 1.0 / size
    if size % 2 == 0:
        counts[-1] = 1.0 / size
    kernels = (
        size,
        fft.rfft(circular, size) * counts,
        fft.rfft(deriv, size),
        fft.rfft(deriv[::-1], size),
    )
    if cache is not None:
        while len(cache) >= KEPT_LATTICES:  # the scores' range drifts
            del cache[next(iter(cache))]
        cache[key] = kernels
    return kernels


def _deposit(scores, weights, h, first, n_bins):
    """Each score's lower lattice index, its share ``t`` of the upper point,
    and the histogram of the weights split between both points."""
    x = scores / h - first
    lower = np.minimum(np.floor(x).astype(np.intp), n_bins - 2)
    t = x - lower
    hist = np.bincount(lower, weights * (1.0 - t), minlength=n_bins)
    hist += np.bincount(lower + 1, weights * t, minlength=n_bins)
    return lower, t, hist


def _read(values, lower, t):
    """``values`` interpolated linearly at the deposited scores."""
    return values[lower] * (1.0 - t) + values[lower + 1] * t


def binned_pair_sums(s_pos, w_pos, s_neg, w_neg, value_and_derivative, cache=None):
    """The weighted loss sum over all pairs and its gradients with respect to
    both score vectors (float64), as
    :func:`skpairauc._losses.pair_block_sums` computes them over the pair
    matrix, to the lattice's interpolation error (see the module's
    docstring). ``value_and_derivative`` is
    :func:`skpairauc._losses.value_and_derivative`'s, with ``xp=numpy``;
    ``cache``, a dict that keeps the loss's spectra between calls with the
    same loss."""
    s_pos = np.asarray(s_pos, np.float64)
    s_neg = np.asarray(s_neg, np.float64)
    w_pos = np.asarray(w_pos, np.float64)
    w_neg = np.asarray(w_neg, np.float64)
    lo = min(s_pos.min(), s_neg.min())
    hi = max(s_pos.max(), s_neg.max())
    h, first, n_bins = _lattice(lo, hi)
    low_pos, t_pos, hist_pos = _deposit(s_pos, w_pos, h, first, n_bins)
    low_neg, t_neg, hist_neg = _deposit(s_neg, w_neg, h, first, n_bins)
    size, value, deriv, deriv_reversed = _kernels(
        value_and_derivative, h, n_bins, cache
    )

    # With lags k = a - b (positive minus negative lattice index) from
    # -(n_bins - 1): sum_b N_b f(k h) is entry a + n_bins - 1 of the full
    # convolution of N with the lag values; sum_a P_a f'(k h) is entry
    # b + n_bins - 1 of P's convolution with the reversed lag derivatives.
    spectrum_neg = fft.rfft(hist_neg, size)
    spectrum_pos = fft.rfft(hist_pos, size)
    window = slice(n_bins - 1, 2 * n_bins - 1)
    deriv_at_pos = fft.irfft(spectrum_neg * deriv, size)[window]
    deriv_at_neg = fft.irfft(spectrum_pos * deriv_reversed, size)[window]

    total = np.dot(spectrum_pos.conj() * spectrum_neg, value).real
    grad_pos = w_pos * _read(deriv_at_pos, low_pos, t_pos)
    grad_neg = -w_neg * _read(deriv_at_neg, low_neg, t_neg)
    return total, grad_pos, grad_neg
