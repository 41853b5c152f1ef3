#!/usr/bin/python3
"""Coefficients of plugins/Ops.Core/Kernels/VectorErf.cs.

erf(x) = x * A(x^2)            for |x| < 1     (A of degree 5)
erf(x) = 1 - exp(B(|x|))        for 1 <= |x| <= 3.92, B ~ ln erfc (degree 8)

Both fits minimise the largest error on Chebyshev-distributed points by Lawson's reweighted least squares, with mpmath
as the reference. Rerun with Debian's interpreter (python3-numpy, python3-mpmath):  /usr/bin/python3 tools/fits/vector_erf_fit.py
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 30
CUT, ONE = 1.0, 3.92


def chebyshev_points(lo, hi, n):
    return np.cos(np.linspace(0, np.pi, n)) * (hi - lo) / 2 + (hi + lo) / 2


def lawson(points, target, basis, rounds=60):
    """Weighted least squares whose weights grow where the error is large: converges towards the minimax fit."""
    design = np.array([basis(p) for p in points])
    values = np.array([target(p) for p in points])
    weights = np.full(len(points), 1.0 / len(points))
    for _ in range(rounds):
        root = np.sqrt(weights)
        coefficients, *_ = np.linalg.lstsq(design * root[:, None], values * root, rcond=None)
        error = np.abs(design @ coefficients - values)
        weights = weights * error
        weights /= weights.sum()
    return coefficients, design, values


near_points = chebyshev_points(0, CUT, 800)
near_points = near_points[near_points > 1e-4]
near, design, _ = lawson(near_points, lambda x: float(mp.erf(x)) / x, lambda x: [x ** (2 * k) for k in range(6)])
near_error = np.max(np.abs(near_points * (design @ near) - np.array([float(mp.erf(x)) for x in near_points])))

far_points = chebyshev_points(CUT, ONE, 1200)
far, design, _ = lawson(far_points, lambda x: float(mp.log(mp.erfc(x))), lambda x: [x ** k for k in range(9)])
far_error = np.max(np.abs(np.exp(design @ far) - np.array([float(mp.erfc(x)) for x in far_points])))

print(f"A (x^0, x^2, ... x^10), |erf error| <= {near_error:.2e}:")
print("  " + ", ".join(repr(c) for c in near))
print(f"B (|x|^0 ... |x|^8), |erf error| <= {far_error:.2e}:")
print("  " + ", ".join(repr(c) for c in far))
