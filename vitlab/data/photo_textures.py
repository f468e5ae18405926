"""Natural, non-periodic textures cut from the photographs scikit-image ships (no download).

A procedural family repeats one motif; a photograph does not. Each image takes its own
crop of a photograph: a random centre, scale (how much of the photo one image width
spans), rotation and mirror, sampled bilinearly, so two images rarely share pixels and
no crop is a repeated tile. The photo is reduced to luminance and locally equalized
(CLAHE), so that a family is told apart by its structure; the colour comes from the
per-image tint the caller applies, as for the procedural families in textures.py.

Every photo named here loads from the scikit-image wheel itself (skimage.data's bundled
files); the ones that need pooch and a network (e.g. `lily`, `eagle`) are not used.
"""

import functools

import numpy as np

# name -> (skimage.data function, usable box (top, left, bottom, right) as fractions).
# The box keeps crops off borders that carry no texture (the retina's black surround).
PHOTOS = {
    "brick": ("brick", (0, 0, 1, 1)),
    "grass": ("grass", (0, 0, 1, 1)),
    "gravel": ("gravel", (0, 0, 1, 1)),
    "tissue": ("immunohistochemistry", (0, 0, 1, 1)),
    "stars": ("hubble_deep_field", (0, 0, 1, 1)),
    "coffee": ("coffee", (0, 0, 1, 1)),
    "cat": ("chelsea", (0, 0, 1, 1)),
    "astronaut": ("astronaut", (0, 0, 1, 1)),
    "rocket": ("rocket", (0, 0, 1, 1)),
    "camera": ("camera", (0, 0, 1, 1)),
    "coins": ("coins", (0, 0, 1, 1)),
    "moon": ("moon", (0, 0, 1, 1)),
    "retina": ("retina", (0.2, 0.2, 0.8, 0.8)),
    "text": ("text", (0, 0, 1, 1)),
    "page": ("page", (0, 0, 1, 1)),
}
WORKING_SIDE = 256  # the photo's short side after an anti-aliased resize: a 64-px image spans 64-128 of it
EXTENT = (0.25, 0.5)  # one image width covers this fraction of the working short side


@functools.cache
def photo(name):
    """The named photo as float32 luminance in [0, 1], short side WORKING_SIDE, CLAHE-equalized."""
    import skimage.data
    from skimage import color, exposure, transform

    loader, (top, left, bottom, right) = PHOTOS[name]
    image = getattr(skimage.data, loader)()
    if image.ndim == 3:
        image = color.rgb2gray(image[..., :3])
    image = np.asarray(image, np.float64)
    if image.max() > 1.0:
        image = image / 255.0
    height, width = image.shape
    image = image[int(top * height) : int(bottom * height), int(left * width) : int(right * width)]
    scale = WORKING_SIDE / min(image.shape)
    image = transform.rescale(image, scale, anti_aliasing=True, order=1)
    image = exposure.equalize_adapthist(np.clip(image, 0, 1), clip_limit=0.02)
    return np.ascontiguousarray(image, dtype=np.float32)


def check_all():
    """Load every photo once (fails loudly if an installed scikit-image lacks one); the shapes."""
    return {name: photo(name).shape for name in PHOTOS}


def sample_params(rng, n):
    """Per-image crop parameters: extent, centre (fractions of the free range), angle, mirror."""
    return {
        "extent": rng.uniform(*EXTENT, n).astype(np.float32),
        "centre": rng.uniform(0, 1, (n, 2)).astype(np.float32),
        "angle": rng.uniform(0, 2 * np.pi, n).astype(np.float32),
        "mirror": np.where(rng.random(n) < 0.5, -1.0, 1.0).astype(np.float32),
    }


def _bilinear(image, rows, cols):
    height, width = image.shape
    rows = np.clip(rows, 0, height - 1.001)
    cols = np.clip(cols, 0, width - 1.001)
    r0, c0 = rows.astype(np.int32), cols.astype(np.int32)
    fr, fc = rows - r0, cols - c0
    flat = image.ravel()
    top_left = r0 * width + c0
    top = flat[top_left] * (1 - fc) + flat[top_left + 1] * fc
    bottom = flat[top_left + width] * (1 - fc) + flat[top_left + width + 1] * fc
    return top * (1 - fr) + bottom * fr


def render(name, params, u, v):
    """Pattern in [0, 1], (n, S, S): n crops of one photo; u, v are (S, S) grids in [-1, 1]."""
    image = photo(name)
    height, width = image.shape
    half = params["extent"][:, None, None] * min(height, width) / 2  # source pixels per unit of u
    reach = half[:, 0, 0] * np.sqrt(2.0)  # a rotated crop's half-diagonal stays inside the photo
    centre_row = reach + params["centre"][:, 0] * np.maximum(height - 1 - 2 * reach, 0)
    centre_col = reach + params["centre"][:, 1] * np.maximum(width - 1 - 2 * reach, 0)
    cos = np.cos(params["angle"])[:, None, None]
    sin = np.sin(params["angle"])[:, None, None]
    x = u[None] * params["mirror"][:, None, None]
    y = v[None]
    rows = centre_row[:, None, None] + (x * sin + y * cos) * half
    cols = centre_col[:, None, None] + (x * cos - y * sin) * half
    return _bilinear(image, rows, cols).astype(np.float32)
