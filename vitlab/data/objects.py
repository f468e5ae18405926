"""objects64: the shapes classes at 64 px, large enough (30-50% of the image) and, in the
`multi` layout, repeated (3-5 instances) so that occlusion can be survived.

In the 32-px shapes set an object spans a few 4-px patches and a 25% PatchDrop removes its
outline while its texture survives everywhere, so "robustness" to occlusion came from the
texture. Here one image holds several instances of its class; after a random drop of
8x8 patches some instance usually keeps most of its outline (measured in
tests/test_objects_occlusion.py and docs/datasets.md), as an ImageNet object seen through
occluders does.

Every class has its own texture family, half cut from photographs (photo_textures.py),
half procedural (textures.py); the background draws from a separate pool, so texture is
a cue of the foreground only. Variants, splits and determinism follow shapes.py:
  default       foreground family = the class's own with probability p, else another
  stylized      family independent of the class
  cue_conflict  shape of class a, family of class b != a (label2 = b)
"""

import dataclasses

import numpy as np

from vitlab.data import objects_layout, photo_textures, shapes, textures

CLASS_NAMES = list(shapes.SHAPE_NAMES)
NUM_CLASSES = len(CLASS_NAMES)
# (name, kind): family k is class k's own texture.
FAMILIES = [
    ("brick", "photo"),
    ("stripes", "procedural"),
    ("grass", "photo"),
    ("dots", "procedural"),
    ("gravel", "photo"),
    ("checkers", "procedural"),
    ("tissue", "photo"),
    ("zigzag", "procedural"),
    ("stars", "photo"),
    ("grid", "procedural"),
]
FAMILY_NAMES = [name for name, _ in FAMILIES]
# Backgrounds: scenes and smooth patterns no class owns, shown at lower contrast.
BACKGROUNDS = [
    ("coffee", "photo"),
    ("cat", "photo"),
    ("astronaut", "photo"),
    ("rocket", "photo"),
    ("camera", "photo"),
    ("coins", "photo"),
    ("moon", "photo"),
    ("retina", "photo"),
    ("text", "photo"),
    ("page", "photo"),
    ("waves", "procedural"),
    ("plaid", "procedural"),
]
VARIANTS = shapes.VARIANTS
SPLITS = shapes.SPLITS
LAYOUTS = objects_layout.LAYOUTS
DEFAULT_LAYOUT = "multi"  # the layout whose instances survive a 50% PatchDrop (see the module docstring)
GENERATOR_VERSION = 1  # bump when the pictures change, so caches rebuild
_PIXELS_PER_CHUNK = 1 << 21


@dataclasses.dataclass
class ObjectsSample:
    images: np.ndarray  # uint8 (N, S, S, 3)
    masks: np.ndarray  # uint8 (N, S, S) in {0, 1}: the foreground
    labels: np.ndarray  # int32 (N,) shape class
    textures: np.ndarray  # int32 (N,) foreground texture family (class k's own is k)
    instances: np.ndarray  # uint8 (N, S, S): 0 background, j + 1 instance j


def _families(rng, labels, variant, p):
    n = len(labels)
    other = ((labels + rng.integers(1, NUM_CLASSES, n)) % NUM_CLASSES).astype(np.int32)
    if variant == "default":
        return np.where(rng.random(n) < p, labels, other).astype(np.int32)
    if variant == "stylized":
        return rng.integers(0, NUM_CLASSES, n).astype(np.int32)
    return other  # cue_conflict


def _sample_plan(rng, n, variant, p, layout):
    """Every random choice for n images, drawn up front so chunking never changes the result."""
    labels = rng.permutation(np.arange(n) % NUM_CLASSES).astype(np.int32)  # balanced classes
    families = _families(rng, labels, variant, p)
    background = rng.integers(0, len(BACKGROUNDS), n).astype(np.int32)
    fg_colors = rng.uniform(0, 1, (n, 2, 3)).astype(np.float32)
    fg_colors[:, 1] = np.clip(1.0 - fg_colors[:, 0] + rng.normal(0, 0.15, (n, 3)), 0, 1)
    bg_mean = rng.uniform(0.25, 0.75, (n, 1, 3))
    bg_colors = np.clip(bg_mean + rng.uniform(-0.15, 0.15, (n, 2, 3)), 0, 1).astype(np.float32)
    # each instance a little brighter or darker, so touching instances stay apart
    gains = rng.uniform(0.75, 1.25, (n, objects_layout.MAX_INSTANCES + 1)).astype(np.float32)
    return {
        "labels": labels,
        "families": families,
        "background": background,
        "layout": objects_layout.sample(rng, labels, layout),
        "fg_colors": fg_colors,
        "bg_colors": bg_colors,
        "gains": gains,
        "fg_procedural": textures.sample_params(rng, n),
        "fg_photo": photo_textures.sample_params(rng, n),
        "bg_procedural": textures.sample_params(rng, n),
        "bg_photo": photo_textures.sample_params(rng, n),
    }


def _take(plan, rows):
    return {key: _take(value, rows) if isinstance(value, dict) else value[rows] for key, value in plan.items()}


def _field(pool, index, procedural, photo, colors, u, v):
    """Colored texture (n, S, S, 3): image i shows pool[index[i]], tinted by its two colours."""
    n, size = len(index), u.shape[0]
    out = np.empty((n, size, size, 3), np.float32)
    for family in np.unique(index):
        rows = np.nonzero(index == family)[0]
        name, kind = pool[family]
        if kind == "photo":
            pattern = photo_textures.render(name, _take(photo, rows), u, v)
        else:
            pattern = textures.render(textures.TEXTURE_NAMES.index(name), _take(procedural, rows), u, v)
        c0, c1 = colors[rows, 0, None, None, :], colors[rows, 1, None, None, :]
        out[rows] = c0 + pattern[..., None] * (c1 - c0)
    return out


def _render(plan, size):
    axis = (np.arange(size, dtype=np.float32) + 0.5) / size * 2 - 1
    v, u = np.meshgrid(axis, axis, indexing="ij")  # v: rows (down), u: columns (right)
    instances = objects_layout.render(plan["labels"], plan["layout"], u, v)
    fg = _field(FAMILIES, plan["families"], plan["fg_procedural"], plan["fg_photo"], plan["fg_colors"], u, v)
    bg = _field(BACKGROUNDS, plan["background"], plan["bg_procedural"], plan["bg_photo"], plan["bg_colors"], u, v)
    gain = np.take_along_axis(plan["gains"], instances.reshape(len(instances), -1), axis=1)
    images = np.where(instances[..., None] > 0, fg * gain.reshape(instances.shape)[..., None], bg)
    return (np.clip(images, 0, 1) * 255 + 0.5).astype(np.uint8), instances


def _stream_seed(seed, variant, split, layout):
    return [int(seed), VARIANTS.index(variant), SPLITS.index(split), LAYOUTS.index(layout), 64, GENERATOR_VERSION]


def check_arguments(variant, split, image_size, p, layout):
    """ValueError with one line for anything generate() cannot make."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown objects64 variant {variant!r}; known: {', '.join(VARIANTS)}")
    if split not in SPLITS:
        raise ValueError(f"unknown objects64 split {split!r}; known: {', '.join(SPLITS)}")
    if layout not in LAYOUTS:
        raise ValueError(f"unknown objects64 layout {layout!r}; known: {', '.join(LAYOUTS)}")
    if image_size < 32:
        raise ValueError(f"objects64 image_size must be >= 32, got {image_size}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"objects64 p must be in [0, 1], got {p}")


def generate(n, variant="default", split="train", image_size=64, seed=0, p=0.8, layout=DEFAULT_LAYOUT):
    """n images of one variant, split and layout; the same arguments give the same bytes."""
    check_arguments(variant, split, image_size, p, layout)
    rng = np.random.default_rng(_stream_seed(seed, variant, split, layout))
    plan = _sample_plan(rng, int(n), variant, float(p), layout)
    images = np.empty((n, image_size, image_size, 3), np.uint8)
    instances = np.empty((n, image_size, image_size), np.uint8)
    chunk = max(1, _PIXELS_PER_CHUNK // (image_size * image_size))
    for start in range(0, n, chunk):
        rows = np.arange(start, min(n, start + chunk))
        images[rows], instances[rows] = _render(_take(plan, rows), image_size)
    return ObjectsSample(images, (instances > 0).astype(np.uint8), plan["labels"], plan["families"], instances)
