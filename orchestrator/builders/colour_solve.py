"""Colour solved, not searched: the base colour that renders as the reference's, from the renders made.

Under a fixed camera and a fixed light a diffuse surface's rendered linear RGB is close to affine
in its base colour, per channel: rgb_k = g_k·c_k + o_k (g: how much light reaches the camera, o:
what does not depend on the colour, such as a white specular sheen or another material in the
subject's mean). The residuals give the subject's mean colour only relative to the reference's,
ΔLab = Lab(render) − Lab(reference), so each view's fit has the reference's Lab ℓ as unknowns
beside g and o: the evaluation at c predicts Lab(g·c + o) − ℓ, fitted to every measured ΔLab.
Lab's cube root makes the level identifiable from how far a probe moves the colour, and a weak
prior keeps o small while the renders do not say otherwise. The base colour that renders as ℓ is
then (lin(ℓ) − o) / g per channel, least squares over the views. One step lands within a few
ΔE of the reference although the search's Jacobian, linear in Lab, would need many (Lab is far
from linear over a change from grey to blue); the next solve, with that far point among the
evaluations, pins g and o down.

Which `# param` values are colours: by their shape, a 3-tuple with range 0..1 (`colour_dims`).
The shape is known before anything is rendered, while telling colours apart empirically needs
renders that move one parameter at a time, which are the search's first differences anyway; a
triple that turns out not to move the colour (its fitted gain ≈ 0, say a position in 0..1)
is then left to the search, so a misnamed triple costs nothing but the fit.

Limits: the renders are AgX-tone-mapped, which is affine only away from the highlights, and the
measured colour is the mean of whatever the subject mask holds; a view the model does not explain
(RMS misfit above MAX_MISFIT) is left out. On the lamp, whose mask mixes the shade with the dark
pole, base and shadow, the shade gets from ΔE 17 to 5–8, not to 3.

`solve` is a pure function of the evaluations it is given, so the search that calls it
(least_squares.next_point's `jump`) stays a pure function of the recorded evaluations and
`colossus resume` proposes what an uninterrupted run would.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from functools import lru_cache

import numpy as np
from scipy.optimize import least_squares

from orchestrator.params import Param

__all__ = ["ColourObservation", "colour_dims", "solve", "lab_to_linear", "linear_to_lab", "lab_jacobian"]

Point = tuple[float, ...]
ColourObservation = Mapping[str, tuple[float, float, float]]
"""Per view, the subject's mean colour render − reference (ΔL, Δa, Δb); views without a subject left out."""

MIN_GAIN = 0.02  # below this a channel does not move the rendered colour: not a colour, or unlit
CLOSE_ENOUGH = 3.0  # mean ΔLab over the views at which `at`'s colour is left to the search
MIN_JUMP = 0.02  # of the unit range: a smaller change is the search's to make (it is within ~ΔE 1–2)
MAX_MISFIT = 2.0  # Lab units (RMS): a view the affine model explains worse says nothing reliable about the colour
OFFSET_PRIOR = 20.0  # Lab units per unit of offset: an offset of 0.05 weighs like ΔE 1

_M = np.array([[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]])
_WHITE = _M.sum(axis=1)  # D65 white of sRGB, as OpenCV's conversion (the vision server's) uses it


_KNEE = 0.008856  # where CIELAB's f turns from linear to a cube root


def _xyz(rgb: np.ndarray) -> np.ndarray:
    return np.clip(rgb, 0.0, None) @ _M.T / _WHITE


def _lab_of_f(f: np.ndarray, lightness_offset: float) -> np.ndarray:
    """Lab from f(X), f(Y), f(Z) on the last axis: with offset 16 the colour, with 0 its derivative."""
    return np.stack([116 * f[..., 1] - lightness_offset, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])],
                    axis=-1)


def linear_to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB of linear sRGB (…, 3)."""
    xyz = _xyz(rgb)
    return _lab_of_f(np.where(xyz > _KNEE, np.cbrt(xyz), 7.787 * xyz + 16 / 116), 16)


def lab_jacobian(rgb: np.ndarray) -> np.ndarray:
    """∂Lab/∂rgb of linear_to_lab at each of `rgb` (n, 3): (n, 3 Lab, 3 rgb); zero in a clipped channel."""
    xyz = _xyz(rgb)
    df = np.where(xyz > _KNEE, 1 / (3 * np.cbrt(np.maximum(xyz, _KNEE)) ** 2), 7.787)  # f'(x), (n, 3)
    dxyz = (_M / _WHITE[:, None])[None] * (rgb > 0)[:, None, :]  # (n, 3 xyz, 3 rgb)
    dfx = df[:, :, None] * dxyz
    return _lab_of_f(dfx.swapaxes(1, 2), 0).swapaxes(1, 2)


def lab_to_linear(lab: np.ndarray) -> np.ndarray:
    """Linear sRGB of CIELAB (…, 3), the inverse of linear_to_lab inside the gamut."""
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    xyz = np.where(f > 0.206893, f**3, (f - 16 / 116) / 7.787) * _WHITE
    return xyz @ np.linalg.inv(_M).T


def colour_dims(params: Sequence[Param]) -> list[tuple[int, int, int]]:
    """The unit-cube indices of every 3-tuple `# param` with range 0..1 (its value then is its unit coordinate)."""
    out, i = [], 0
    for p in params:
        if p.dims == 3 and p.lo == 0.0 and p.hi == 1.0 and not any(p.is_int):
            out.append((i, i + 1, i + 2))
        i += p.dims
    return out


def _fit_view(colours: np.ndarray, deltas: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Gains (triples × 3), offset (3) and the reference's Lab (3) of one view, or None when it cannot be
    fitted or the fit leaves an RMS misfit above MAX_MISFIT.
    colours: (n, triples, 3) base colours; deltas: (n, 3) measured ΔLab.

    Kept by value: the search replays itself for every probe and restart of an iteration and asks the
    same fits again (a fit is tens of milliseconds; before this cache they were most of an iteration)."""
    colours, deltas = np.asarray(colours, np.float64), np.asarray(deltas, np.float64)
    return _fit_view_of(colours.shape, colours.tobytes(), deltas.tobytes())


@lru_cache(maxsize=512)
def _fit_view_of(shape: tuple[int, ...], colour_bytes: bytes, delta_bytes: bytes
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    colours = np.frombuffer(colour_bytes, np.float64).reshape(shape)
    deltas = np.frombuffer(delta_bytes, np.float64).reshape(shape[0], 3)
    n, t, _ = colours.shape
    if n < 2:
        return None

    def unpack(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return x[: 3 * t].reshape(t, 3), x[3 * t: 3 * t + 3], x[3 * t + 3:]

    def predicted_rgb(g: np.ndarray, o: np.ndarray) -> np.ndarray:
        return np.einsum("ntk,tk->nk", colours, g) + o

    def residuals(x: np.ndarray) -> np.ndarray:
        g, o, ref = unpack(x)
        fit = linear_to_lab(predicted_rgb(g, o)) - ref - deltas
        return np.concatenate([fit.ravel(), OFFSET_PRIOR * o])

    def jacobian(x: np.ndarray) -> np.ndarray:
        """The residuals' derivatives in closed form: a fit's cost was mostly finite differences (3t + 6
        residual evaluations per step)."""
        g, o, _ = unpack(x)
        lab_rgb = lab_jacobian(predicted_rgb(g, o))  # (n, 3 Lab, 3 rgb)
        jac = np.zeros((3 * n + 3, x.size))
        rows = jac[: 3 * n].reshape(n, 3, x.size)
        rows[:, :, : 3 * t] = (lab_rgb[:, :, None, :] * colours[:, None, :, :]).reshape(n, 3, 3 * t)  # ∂/∂g_tk
        rows[:, :, 3 * t: 3 * t + 3] = lab_rgb  # ∂/∂o_k
        rows[:, :, 3 * t + 3:] = -np.eye(3)  # ∂/∂ref
        jac[3 * n:, 3 * t: 3 * t + 3] = OFFSET_PRIOR * np.eye(3)
        return jac

    g0, o0 = np.full((t, 3), 0.8), np.zeros(3)
    ref0 = (linear_to_lab(predicted_rgb(g0, o0)) - deltas).mean(axis=0)
    lo = np.concatenate([np.zeros(3 * t), np.full(3, -0.3), [0.0, -128.0, -128.0]])
    hi = np.concatenate([np.full(3 * t, 5.0), np.full(3, 1.0), [100.0, 128.0, 128.0]])
    x0 = np.clip(np.concatenate([g0.ravel(), o0, ref0]), lo + 1e-9, hi - 1e-9)
    fit = least_squares(residuals, x0, jac=jacobian, bounds=(lo, hi), method="trf", x_scale="jac", max_nfev=200)
    misfit = float(np.sqrt(np.mean(fit.fun[: 3 * n] ** 2)))
    if misfit > MAX_MISFIT or not 0.5 < fit.x[3 * t + 3] < 99.5:  # a mixture, a shadow, a clipped level:
        return None  # not a view this model explains
    fit.x.setflags(write=False)  # shared by every caller of the cache
    return unpack(fit.x)


def solve(triples: Sequence[tuple[int, int, int]], observed: Mapping[Point, ColourObservation], at: Point,
          canon: Callable[[Sequence[float]], Point], known: Collection[Point] = ()) -> Point | None:
    """`at` with its colour triples replaced by the base colours that render as the reference's.

    Fitted to the renders in `observed` (unit point → per-view ΔLab) that share `at`'s other dimensions
    (its geometry: under a fixed camera and light only the colour then moves the measurement). None
    when the renders cannot say (a channel never varied, no view fits), when `at`'s colour measures
    within CLOSE_ENOUGH already, or when the solved colours are within MIN_JUMP of `at`'s. A `known`
    point (evaluated) within MIN_JUMP of the answer is returned instead: a solve refitted
    with one more evaluation does not ask for a render of nearly the same colour."""
    if not triples or not observed:
        return None
    here = observed.get(at)
    if here and float(np.mean([np.linalg.norm(d) for d in here.values()])) <= CLOSE_ENOUGH:
        return None  # a render is worth more to the geometry now
    idx = np.asarray(triples)  # (triples, 3)
    colour = set(idx.ravel().tolist())
    same_shape = [p for p in observed if all(p[i] == at[i] for i in range(len(at)) if i not in colour)]
    points = sorted(same_shape)  # renders of `at`'s geometry only; a fixed order: the fit is a function of the set
    if not points:
        return None
    values = np.asarray(points, float)[:, idx]  # (n, triples, 3)
    varied = np.ptp(values, axis=0) > 1e-6  # (triples, 3)
    if not varied.all():
        return None
    rows: list[np.ndarray] = []  # per view and channel: gains over the triples' channel k, target
    targets: list[float] = []
    for view in sorted({v for p in points for v in observed[p]}):
        have = [i for i, p in enumerate(points) if view in observed[p]]
        fitted = _fit_view(values[have], np.asarray([observed[points[i]][view] for i in have], float))
        if fitted is None:
            continue
        g, o, ref = fitted
        want = lab_to_linear(ref)
        for k in range(3):
            row = np.zeros(idx.size)
            row[k::3] = g[:, k]
            rows.append(row)
            targets.append(float(want[k] - o[k]))
    if not rows:
        return None
    a, b = np.asarray(rows), np.asarray(targets)
    live = np.abs(a).max(axis=0) >= MIN_GAIN  # entries whose channel moves the colour somewhere
    if not live.any():
        return None
    current = np.asarray(at, float)[idx.ravel()]
    step = np.zeros(idx.size)
    step[live] = np.linalg.lstsq(a[:, live], b - a @ current, rcond=None)[0]  # least change that fits every view
    solved = np.clip(current + step, 0.0, 1.0)
    if np.abs(solved - current).max() < MIN_JUMP:
        return None
    out = list(at)
    for i, v in zip(idx.ravel(), solved):
        out[int(i)] = float(v)
    near = [k for k in known if len(k) == len(out) and max(abs(a - b) for a, b in zip(k, out)) < MIN_JUMP
            and all(k[i] == at[i] for i in range(len(at)) if i not in colour)]
    return min(near) if near else canon(out)
