"""Where the objects of an objects64 image go: one large instance, or several smaller ones.

Sizes are set from a target coverage (the fraction of the image the foreground covers)
and each class's silhouette area, measured once from shapes.shape_mask, so a thin ring
and a full disc cover the same share of the image. Instances stay inside the image; in
the `multi` layout their places are the best of CANDIDATES random draws (the one whose
closest pair of instances overlaps least, each instance taken as a circle between its
equal-area and its bounding radius), a vectorized stand-in for rejection sampling. The result is an instance map: 0 background, j + 1 instance j (a later
instance covers an earlier one where they overlap).
"""

import functools

import numpy as np

from vitlab.data import shapes

LAYOUTS = ("single", "multi")
MAX_INSTANCES = 5
COUNTS = (3, 4, 5)  # instances per `multi` image
COVERAGE = (0.30, 0.50)  # target foreground share of a `single` image
# `multi` aims higher, since overlaps and the size caps take back about 0.03-0.05 of it
MULTI_COVERAGE = (0.33, 0.55)
CANDIDATES = 64
_MARGIN = 0.97  # instances stay inside this fraction of the half-width [-1, 1]
_MULTI_RADIUS = {3: 0.52, 4: 0.47, 5: 0.43}  # largest spacing radius per count: keeps overlaps small
_BLOCK = 2048  # images placed per draw, bounding the candidate arrays' memory


@functools.cache
def geometry():
    """(area, radius) per class: silhouette area at scale 1 (image area = 4) and its farthest pixel."""
    axis = np.linspace(-1.3, 1.3, 521, dtype=np.float32)
    y, x = np.meshgrid(axis, axis, indexing="ij")
    step = float(axis[1] - axis[0])
    areas, radii = [], []
    for shape in range(shapes.NUM_CLASSES):
        inside = shapes.shape_mask(shape, x[None], y[None])[0]
        areas.append(inside.sum() * step * step)
        radii.append(float(np.sqrt(x[inside] ** 2 + y[inside] ** 2).max()) + step)
    return np.array(areas, np.float32), np.array(radii, np.float32)


def _single(rng, labels):
    n = len(labels)
    area, radius = (g[labels] for g in geometry())
    coverage = rng.uniform(*COVERAGE, n)
    scale = np.minimum(np.sqrt(coverage * 4.0 / area), _MARGIN / radius)
    reach = _MARGIN - scale * radius
    centre = rng.uniform(-1, 1, (n, 2)) * reach[:, None]
    return scale[:, None], centre[:, None, :], np.ones(n, np.int32)


def _multi_block(rng, labels):
    n = len(labels)
    area, radius = (g[labels] for g in geometry())
    count = rng.choice(COUNTS, n).astype(np.int32)
    coverage = rng.uniform(*MULTI_COVERAGE, n)
    jitter = rng.uniform(0.85, 1.15, (n, MAX_INSTANCES))
    live = np.arange(MAX_INSTANCES)[None] < count[:, None]
    jitter = np.where(live, jitter, 0.0)
    jitter /= np.sqrt((jitter**2).sum(1, keepdims=True) / count[:, None])  # equal total area
    scale = np.sqrt(coverage * 4.0 / (count * area))[:, None] * jitter
    spacing = (np.sqrt(area / np.pi) + radius) / 2  # between the equal-area and the bounding radius
    cap = np.array([_MULTI_RADIUS[int(k)] for k in count]) / spacing
    scale = np.minimum(scale, cap[:, None])
    reach = np.maximum(_MARGIN - scale * radius[:, None], 0.0)  # whole silhouettes stay inside
    rho = scale * spacing[:, None]  # the radius two instances keep apart by, 0 for unused slots
    centres = rng.uniform(-1, 1, (n, CANDIDATES, MAX_INSTANCES, 2)) * reach[:, None, :, None]
    gap = np.linalg.norm(centres[:, :, :, None] - centres[:, :, None, :], axis=-1)
    gap -= rho[:, None, :, None] + rho[:, None, None, :]
    pair = live[:, :, None] & live[:, None, :] & ~np.eye(MAX_INSTANCES, dtype=bool)[None]
    worst = np.where(pair[:, None], gap, np.inf).min(axis=(2, 3))  # (n, CANDIDATES)
    best = worst.argmax(axis=1)
    return scale, centres[np.arange(n), best], count


def _multi(rng, labels):
    parts = [_multi_block(rng, labels[start : start + _BLOCK]) for start in range(0, len(labels), _BLOCK)]
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))


def sample(rng, labels, layout):
    """Per-image instance parameters: scale (n, k), centre (n, k, 2), rotation (n, k), count (n,)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
    scale, centre, count = (_single if layout == "single" else _multi)(rng, labels)
    rotation = rng.uniform(0, 2 * np.pi, scale.shape)
    return {
        "scale": scale.astype(np.float32),
        "centre": centre.astype(np.float32),
        "rotation": rotation.astype(np.float32),
        "count": count,
    }


def render(labels, layout_plan, u, v):
    """Instance map uint8 (n, S, S) for n images; u, v are (S, S) grids in [-1, 1]."""
    n, size = len(labels), u.shape[0]
    out = np.zeros((n, size, size), np.uint8)
    for shape in np.unique(labels):
        rows = np.nonzero(labels == shape)[0]
        for slot in range(layout_plan["scale"].shape[1]):
            live = rows[layout_plan["count"][rows] > slot]
            if not len(live):
                continue
            scale = layout_plan["scale"][live, slot, None, None]
            du = (u[None] - layout_plan["centre"][live, slot, 0, None, None]) / scale
            dv = (v[None] - layout_plan["centre"][live, slot, 1, None, None]) / scale
            cos = np.cos(layout_plan["rotation"][live, slot])[:, None, None]
            sin = np.sin(layout_plan["rotation"][live, slot])[:, None, None]
            inside = shapes.shape_mask(int(shape), du * cos + dv * sin, -du * sin + dv * cos)
            out[live] = np.where(inside, np.uint8(slot + 1), out[live])
    return out


def survival(instances, drop, patch=8, trials=4, seed=0):
    """Share of (image, trial) pairs in which, after dropping `drop` of the patch x patch cells
    at random, at least one instance keeps >= half of its visible pixels; also >= 3/4."""
    n, size = instances.shape[:2]
    grid = size // patch
    cells = grid * grid
    rng = np.random.default_rng(seed)
    cell_of = (np.arange(size)[:, None] // patch) * grid + np.arange(size)[None] // patch  # (S, S)
    labels = instances.reshape(n, -1).astype(np.int64)
    totals = np.stack([np.bincount(row, minlength=MAX_INSTANCES + 1) for row in labels])[:, 1:]
    present = totals > 0
    hits = {0.5: 0, 0.75: 0}
    for _ in range(trials):
        order = rng.random((n, cells)).argsort(axis=1)
        kept_cells = order >= round(drop * cells)  # the first `drop` cells of a random order go
        kept = np.take_along_axis(kept_cells, np.broadcast_to(cell_of.ravel(), (n, size * size)), axis=1)
        counts = np.stack([np.bincount(row, minlength=MAX_INSTANCES + 1) for row in labels * kept])[:, 1:]
        fraction = np.where(present, counts / np.maximum(totals, 1), 0.0)
        for threshold in hits:
            hits[threshold] += int((fraction >= threshold).any(axis=1).sum())
    return {threshold: count / (n * trials) for threshold, count in hits.items()}
