#!/usr/bin/env python3
"""Fit the degree-5 polynomial of cascade's hardware exp: p(f) ~= 2^f on [0, 1].

The hardware exp (sim/functional/number_format.h, `hardware_exp`) computes
exp(x) = 2^i * 2^f with t = x*log2(e), i = floor(t), f = t - i in [0, 1), and 2^f by a
degree-5 polynomial in Horner form. This script finds the coefficients that minimise the
maximum *relative* error |p(f)/2^f - 1| on [0, 1] (minimax, Remez exchange), starting from
a weighted least-squares fit on Chebyshev nodes, and prints them as C++ constants together
with the error measured on a dense grid with Horner evaluation in float64 (the arithmetic
of the fp64 datapath).

Minimax with 7 equioscillation points puts the error extremes at f = 0 and f = 1 with the
same sign, so p(1) = 2 p(0) up to rounding: the approximation is continuous across the
integer boundaries of t and exp stays monotone there.

Run: /usr/bin/python3 experiments/hardware_exp_fit.py   (numpy only)
"""
import numpy as np

DEGREE = 5
N_ALT = DEGREE + 2  # alternation points of the minimax solution


def rel_error(c, f):
    """Relative error of the Horner polynomial with coefficients c[0..DEGREE]."""
    p = np.full_like(f, c[DEGREE])
    for k in range(DEGREE - 1, -1, -1):
        p = p * f + c[k]
    return p / np.exp2(f) - 1.0


def weighted_least_squares_on_chebyshev_nodes(n_nodes=64):
    k = np.arange(n_nodes)
    f = 0.5 - 0.5 * np.cos((2 * k + 1) * np.pi / (2 * n_nodes))  # Chebyshev nodes on [0,1]
    w = 1.0 / np.exp2(f)  # relative error weighting
    a = np.vander(f, DEGREE + 1, increasing=True) * w[:, None]
    c, *_ = np.linalg.lstsq(a, np.ones_like(f), rcond=None)
    return c


def local_extrema(c, grid):
    """Alternation set: one point of largest |error| per run of constant error sign."""
    e = rel_error(c, grid)
    s = np.sign(e)
    points = []
    start = 0
    for j in range(1, len(grid) + 1):
        if j == len(grid) or s[j] != s[start]:
            seg = slice(start, j)
            points.append(start + int(np.argmax(np.abs(e[seg]))))
            start = j
    points = np.array(points)
    # Keep N_ALT alternating points with the largest errors (drop the smallest at the ends).
    while len(points) > N_ALT:
        if abs(e[points[0]]) < abs(e[points[-1]]):
            points = points[1:]
        else:
            points = points[:-1]
    return grid[points]


def remez(c, iterations=30):
    grid = np.linspace(0.0, 1.0, 200001)
    x = local_extrema(c, grid)
    if len(x) != N_ALT:  # least squares start has too few sign runs: use Chebyshev extrema
        x = 0.5 - 0.5 * np.cos(np.pi * np.arange(N_ALT) / (N_ALT - 1))
    for _ in range(iterations):
        # p(x_j) - 2^x_j = (-1)^j E 2^x_j
        a = np.zeros((N_ALT, N_ALT))
        a[:, : DEGREE + 1] = np.vander(x, DEGREE + 1, increasing=True)
        a[:, DEGREE + 1] = -((-1.0) ** np.arange(N_ALT)) * np.exp2(x)
        sol = np.linalg.solve(a, np.exp2(x))
        c = sol[: DEGREE + 1]
        x_new = local_extrema(c, grid)
        if len(x_new) != N_ALT:
            break
        if np.max(np.abs(x_new - x)) < 1e-12:
            x = x_new
            break
        x = x_new
    return c, x


def round_to_float32(c):
    return np.array(c, dtype=np.float32).astype(np.float64)


def main():
    c_ls = weighted_least_squares_on_chebyshev_nodes()
    dense = np.linspace(0.0, 1.0, 4_000_001)
    print(f"least squares (Chebyshev nodes): max rel error {np.max(np.abs(rel_error(c_ls, dense))):.6e}")
    c, alt = remez(c_ls)
    err = rel_error(c, dense)
    print(f"minimax (Remez):                 max rel error {np.max(np.abs(err)):.6e}")
    print("alternation points:", " ".join(f"{v:.6f}" for v in alt))
    print("error at f=0, f=1:", f"{err[0]:+.6e} {err[-1]:+.6e}")
    print(f"with coefficients rounded to fp32: max rel error "
          f"{np.max(np.abs(rel_error(round_to_float32(c), dense))):.6e}")
    print()
    print("// C++ (c0..c5, 2^f ~= c0 + f*(c1 + f*(c2 + f*(c3 + f*(c4 + f*c5))))):")
    for k, v in enumerate(c):
        print(f"inline constexpr double kExp2C{k} = {v!r};")


if __name__ == "__main__":
    main()
