"""The generated shapes set: shape silhouettes (the class) filled with procedural textures.

Shape and texture are separate, controllable cues, so shape-vs-texture bias, salient
PatchDrop and segmentation all have ground truth without a download. Everything is
vectorized over images with NumPy and deterministic from (seed, variant, split).

Variants:
  default       texture family = the class's own family with probability p, else another
  stylized      texture family independent of the class (the Stylized-ImageNet analogue)
  cue_conflict  shape of class a, texture family of class b != a (label2 = b)
Class k's own texture family is family k (see textures.TEXTURE_NAMES).
"""

import dataclasses

import numpy as np

from vitlab.data import textures

SHAPE_NAMES = [
    "circle",
    "square",
    "triangle",
    "star",
    "cross",
    "hexagon",
    "ring",
    "crescent",
    "ellipse",
    "heart",
]
NUM_CLASSES = len(SHAPE_NAMES)
VARIANTS = ("default", "stylized", "cue_conflict")
SPLITS = ("train", "test")
GENERATOR_VERSION = 2  # bump when the pictures change, so caches rebuild
_PIXELS_PER_CHUNK = 1 << 21


@dataclasses.dataclass
class ShapesSample:
    images: np.ndarray  # uint8 (N, S, S, 3)
    masks: np.ndarray  # uint8 (N, S, S) in {0, 1}
    labels: np.ndarray  # int32 (N,) shape class
    textures: np.ndarray  # int32 (N,) foreground texture family


def _regular_polygon(r, theta, sides, radius):
    sector = 2 * np.pi / sides
    local = np.mod(theta, sector) - sector / 2
    return r * np.cos(local) < radius * np.cos(np.pi / sides)


def _star(r, theta):
    sector = 2 * np.pi / 5
    t = np.abs(np.mod(theta + np.pi / 2, sector) / sector - 0.5) * 2  # 0 at a point, 1 between
    return r < 1.0 - 0.55 * t


def shape_mask(shape, x, y):
    """Boolean (n, S, S) silhouette of one shape class in local coordinates (unit size ~1)."""
    r = np.sqrt(x * x + y * y)
    theta = np.arctan2(y, x) if shape in (2, 3, 5) else None  # only polygons and the star need the angle
    if shape == 0:
        return r < 0.95
    if shape == 1:
        return np.maximum(np.abs(x), np.abs(y)) < 0.7
    if shape == 2:
        return _regular_polygon(r, theta + np.pi / 2, 3, 1.0)
    if shape == 3:
        return _star(r, theta)
    if shape == 4:
        return ((np.abs(x) < 0.3) & (np.abs(y) < 0.95)) | ((np.abs(y) < 0.3) & (np.abs(x) < 0.95))
    if shape == 5:
        return _regular_polygon(r, theta, 6, 0.95)
    if shape == 6:
        return (r < 0.95) & (r > 0.55)
    if shape == 7:
        return (r < 0.95) & ((x - 0.45) ** 2 + y**2 > 0.75**2)
    if shape == 8:
        return x * x + (y / 0.45) ** 2 < 0.95**2
    if shape == 9:
        hx, hy = x * 1.25, -y * 1.25 + 0.25
        return (hx * hx + hy * hy - 1) ** 3 - hx * hx * hy**3 < 0
    raise ValueError(f"unknown shape {shape}")


def _texture_families(rng, labels, variant, p):
    n = len(labels)
    if variant == "default":
        other = (labels + rng.integers(1, NUM_CLASSES, n)) % NUM_CLASSES
        return np.where(rng.random(n) < p, labels, other).astype(np.int32)
    if variant == "stylized":
        return rng.integers(0, textures.NUM_TEXTURES, n).astype(np.int32)
    if variant == "cue_conflict":
        return ((labels + rng.integers(1, NUM_CLASSES, n)) % NUM_CLASSES).astype(np.int32)
    raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")


def _sample_plan(rng, n, variant, p):
    """Every random choice for n images, drawn up front so chunking never changes the result."""
    labels = rng.integers(0, NUM_CLASSES, n).astype(np.int32)
    families = _texture_families(rng, labels, variant, p)
    background = ((families + rng.integers(1, textures.NUM_TEXTURES, n)) % textures.NUM_TEXTURES).astype(np.int32)
    scale = rng.uniform(0.5, 0.8, n).astype(np.float32)
    reach = 0.95 - scale
    centre = (rng.uniform(-1, 1, (n, 2)) * reach[:, None]).astype(np.float32)
    rotation = rng.uniform(0, 2 * np.pi, n).astype(np.float32)
    fg_colors = rng.uniform(0, 1, (n, 2, 3)).astype(np.float32)
    fg_colors[:, 1] = np.clip(1.0 - fg_colors[:, 0] + rng.normal(0, 0.15, (n, 3)), 0, 1)
    bg_mean = rng.uniform(0.25, 0.75, (n, 1, 3))
    bg_colors = np.clip(bg_mean + rng.uniform(-0.12, 0.12, (n, 2, 3)), 0, 1).astype(np.float32)
    return {
        "labels": labels,
        "families": families,
        "background": background,
        "scale": scale,
        "centre": centre,
        "rotation": rotation,
        "fg_colors": fg_colors,
        "bg_colors": bg_colors,
        "fg_params": textures.sample_params(rng, n),
        "bg_params": textures.sample_params(rng, n),
    }


def _take(plan, rows):
    out = {}
    for key, value in plan.items():
        out[key] = _take(value, rows) if isinstance(value, dict) else value[rows]
    return out


def _render_textures(families, params, colors, u, v):
    n, size = len(families), u.shape[0]
    out = np.empty((n, size, size, 3), np.float32)
    for family in np.unique(families):
        rows = np.nonzero(families == family)[0]
        pattern = textures.render(int(family), _take(params, rows), u, v)[..., None]
        c0, c1 = colors[rows, 0, None, None, :], colors[rows, 1, None, None, :]
        out[rows] = c0 + pattern * (c1 - c0)
    return out


def _render(plan, size):
    n = len(plan["labels"])
    axis = (np.arange(size, dtype=np.float32) + 0.5) / size * 2 - 1
    v, u = np.meshgrid(axis, axis, indexing="ij")  # v: rows (down), u: columns (right)
    masks = np.zeros((n, size, size), bool)
    for shape in np.unique(plan["labels"]):
        rows = np.nonzero(plan["labels"] == shape)[0]
        du = (u[None] - plan["centre"][rows, 0, None, None]) / plan["scale"][rows, None, None]
        dv = (v[None] - plan["centre"][rows, 1, None, None]) / plan["scale"][rows, None, None]
        cos = np.cos(plan["rotation"][rows])[:, None, None]
        sin = np.sin(plan["rotation"][rows])[:, None, None]
        masks[rows] = shape_mask(int(shape), du * cos + dv * sin, -du * sin + dv * cos)
    fg = _render_textures(plan["families"], plan["fg_params"], plan["fg_colors"], u, v)
    bg = _render_textures(plan["background"], plan["bg_params"], plan["bg_colors"], u, v)
    images = np.where(masks[..., None], fg, bg)
    return (images * 255 + 0.5).astype(np.uint8), masks.astype(np.uint8)


def _stream_seed(seed, variant, split):
    return [int(seed), VARIANTS.index(variant), SPLITS.index(split), GENERATOR_VERSION]


def generate(n, variant="default", split="train", image_size=32, seed=0, p=0.8):
    """n images of one variant and split; the same arguments give the same bytes."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown shapes variant {variant!r}; known: {', '.join(VARIANTS)}")
    if split not in SPLITS:
        raise ValueError(f"unknown shapes split {split!r}; known: {', '.join(SPLITS)}")
    if image_size < 16:
        raise ValueError(f"shapes image_size must be >= 16, got {image_size}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"shapes p must be in [0, 1], got {p}")
    rng = np.random.default_rng(_stream_seed(seed, variant, split))
    plan = _sample_plan(rng, int(n), variant, float(p))
    images = np.empty((n, image_size, image_size, 3), np.uint8)
    masks = np.empty((n, image_size, image_size), np.uint8)
    chunk = max(1, _PIXELS_PER_CHUNK // (image_size * image_size))
    for start in range(0, n, chunk):
        rows = np.arange(start, min(n, start + chunk))
        images[rows], masks[rows] = _render(_take(plan, rows), image_size)
    return ShapesSample(images, masks, plan["labels"], plan["families"])
