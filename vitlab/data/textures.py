"""Procedural texture families for the generated shapes set, vectorized over images.

Each family maps per-image parameters (frequency, phase, orientation, a free shape
parameter) and a coordinate grid in [-1, 1] to a pattern in [0, 1] of shape (n, S, S).
Frequencies are in cycles per image width, so a texture looks the same at 32 and 224 px.
"""

import numpy as np

TEXTURE_NAMES = [
    "stripes",
    "dots",
    "checkers",
    "waves",
    "rings",
    "grid",
    "zigzag",
    "spiral",
    "sunburst",
    "plaid",
]
NUM_TEXTURES = len(TEXTURE_NAMES)


def _rotated(u, v, angle):
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    return u * cos + v * sin, -u * sin + v * cos


def _square_wave(x):
    return (np.sin(x) > 0).astype(np.float32)


def _fract(x):
    return x - np.floor(x)


def _stripes(x, y, f, phase, extra):
    return _square_wave(np.pi * f * x + phase)


def _dots(x, y, f, phase, extra):
    cell_x, cell_y = _fract(f * x / 2 + phase / 6.3) - 0.5, _fract(f * y / 2) - 0.5
    radius = 0.22 + 0.12 * extra
    return (cell_x**2 + cell_y**2 < radius**2).astype(np.float32)


def _checkers(x, y, f, phase, extra):
    return ((np.sin(np.pi * f * x / 2 + phase) * np.sin(np.pi * f * y / 2)) > 0).astype(np.float32)


def _waves(x, y, f, phase, extra):
    return 0.5 + 0.5 * np.sin(np.pi * f * x + (1.0 + 1.5 * extra) * np.sin(np.pi * 1.5 * y) + phase)


def _rings(x, y, f, phase, extra):
    return _square_wave(np.pi * f * np.sqrt(x * x + y * y) + phase)


def _grid(x, y, f, phase, extra):
    width = 0.12 + 0.08 * extra
    line_x = np.abs(_fract(f * x / 2 + phase / 6.3) - 0.5) < width
    line_y = np.abs(_fract(f * y / 2) - 0.5) < width
    return (line_x | line_y).astype(np.float32)


def _zigzag(x, y, f, phase, extra):
    tooth = np.abs(_fract(y * f / 4) - 0.5) * (2.0 + extra) / f
    return _square_wave(np.pi * f * (x + tooth) + phase)


def _spiral(x, y, f, phase, extra):
    return _square_wave(np.pi * f * np.sqrt(x * x + y * y) + 3.0 * np.arctan2(y, x) + phase)


def _sunburst(x, y, f, phase, extra):
    spokes = np.round(4 + 4 * extra)
    return _square_wave(spokes * np.arctan2(y, x) + phase)


def _plaid(x, y, f, phase, extra):
    return 0.25 * (2 + np.sin(np.pi * f * x + phase) + np.sin(np.pi * f * y))


_FAMILIES = [_stripes, _dots, _checkers, _waves, _rings, _grid, _zigzag, _spiral, _sunburst, _plaid]


def sample_params(rng, n):
    """Per-image texture parameters: frequency, phase, angle, centre offset, a free parameter."""
    return {
        "frequency": rng.uniform(4.0, 7.0, n).astype(np.float32),
        "phase": rng.uniform(0, 2 * np.pi, n).astype(np.float32),
        "angle": rng.uniform(0, np.pi, n).astype(np.float32),
        "centre": rng.uniform(-0.3, 0.3, (n, 2)).astype(np.float32),
        "extra": rng.uniform(0, 1, n).astype(np.float32),
    }


def render(family, params, u, v):
    """Pattern in [0, 1], (n, S, S), for n images of one family; u, v are (S, S) grids."""
    centre = params["centre"]
    du = u[None] - centre[:, 0, None, None]
    dv = v[None] - centre[:, 1, None, None]
    x, y = _rotated(du, dv, params["angle"])
    f = params["frequency"][:, None, None]
    phase = params["phase"][:, None, None]
    extra = params["extra"][:, None, None]
    return np.clip(_FAMILIES[family](x, y, f, phase, extra), 0.0, 1.0).astype(np.float32)
