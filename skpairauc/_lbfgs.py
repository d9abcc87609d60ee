"""A small L-BFGS on the host (NumPy), driving a compiled value-and-gradient.

Why not SciPy's L-BFGS-B: its bookkeeping calls BLAS on tiny matrices, which a
multi-threaded OpenBLAS runs far slower than one thread; the two-loop
recursion below costs a few vector operations per iteration, so a small exact
fit spends its time in the objective. Why not optax's L-BFGS inside a compiled
loop: compiling the loop and its line search takes longer than most small fits
run (see benchmarks/README.md).
"""

from typing import NamedTuple

import numpy as np


def _dot(a, b):
    # Not ``a @ b``: a multi-threaded BLAS dot product can stall for seconds on
    # a busy machine (see benchmarks/README.md); an elementwise product and
    # NumPy's own sum never wait on threads. ``np.add.reduce`` is ``np.sum``
    # without its Python wrapper overhead.
    return float(np.add.reduce(a * b))


class LBFGSResult(NamedTuple):
    """``x``: the best point evaluated (never worse than ``x0``); ``value``:
    its objective; ``n_iter``: iterations; ``curve``: the objective at ``x0``
    and after each iteration; ``status``: "gradient" (max |g| <= gtol),
    "objective" (decrease <= ftol), "max_iter", "line search" (no decrease
    found along the search direction) or "non-finite" (the objective was
    non-finite where the line search had to look)."""

    x: np.ndarray
    value: float
    n_iter: int
    curve: list
    status: str


def minimize(fun, x0, max_iter, gtol, ftol, memory=10, max_backtracks=30):
    """Minimise ``fun(x) -> (value, gradient)`` from ``x0`` (float64 vectors).

    The direction is the L-BFGS two-loop recursion over the last ``memory``
    pairs; the step is backtracked from 1 (from ``1 / |g|`` while there is
    no pair: such a step never ends the fit on ``ftol``) until the Armijo
    condition holds. A pair whose curvature
    ``s @ y`` is not positive is skipped, so the inverse Hessian estimate
    stays positive definite.
    """
    x = np.asarray(x0, dtype=np.float64).copy()
    value, grad = fun(x)
    if not np.isfinite(value):
        return LBFGSResult(x, value, 0, [value], "non-finite")
    curve, s_list, y_list, rho_list = [value], [], [], []
    status, non_finite = "max_iter", False
    for iteration in range(1, max_iter + 1):
        if np.max(np.abs(grad)) <= gtol:
            status = "gradient"
            iteration -= 1
            break
        # Two-loop recursion: direction = -H g.
        q = grad.copy()
        alphas = []
        for s, y, rho in zip(reversed(s_list), reversed(y_list), reversed(rho_list)):
            a = rho * _dot(s, q)
            alphas.append(a)
            q -= a * y
        if s_list:
            q *= _dot(s_list[-1], y_list[-1]) / _dot(y_list[-1], y_list[-1])
        for (s, y, rho), a in zip(zip(s_list, y_list, rho_list), reversed(alphas)):
            q += (a - rho * _dot(y, q)) * s
        direction = -q
        slope = _dot(grad, direction)
        if not slope < 0:  # not a descent direction: restart from the gradient
            s_list, y_list, rho_list = [], [], []
            direction, slope = -grad, -_dot(grad, grad)
        # Without pairs the step is along the gradient, scaled down to
        # 1 / |g|_1 and only ever backtracked: its decrease says nothing of
        # convergence (from a warm start it is often below ftol), so it never
        # ends the fit on ftol.
        gradient_step = not s_list
        step = 1.0 if s_list else min(1.0, 1.0 / max(np.sum(np.abs(grad)), 1e-12))
        for _ in range(max_backtracks):
            candidate = x + step * direction
            new_value, new_grad = fun(candidate)
            if np.isfinite(new_value) and new_value <= value + 1e-4 * step * slope:
                break
            non_finite = non_finite or not np.isfinite(new_value)
            step *= 0.5
        else:
            status = "non-finite" if non_finite else "line search"
            iteration -= 1
            break
        s, y = candidate - x, new_grad - grad
        curvature = _dot(s, y)
        if curvature > 1e-10 * np.sqrt(_dot(s, s) * _dot(y, y)):
            s_list.append(s)
            y_list.append(y)
            rho_list.append(1.0 / curvature)
            if len(s_list) > memory:
                del s_list[0], y_list[0], rho_list[0]
        decrease = value - new_value
        x, value, grad = candidate, new_value, new_grad
        curve.append(value)
        if (
            decrease <= ftol * max(abs(value), abs(curve[-2]), 1.0)
            and not gradient_step
        ):
            status = "objective"
            break
    return LBFGSResult(x, value, iteration, curve, status)
