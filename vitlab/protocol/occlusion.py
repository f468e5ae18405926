"""PatchDrop's grid and offset: what the paper's occlusion sweep drops, for any image size.

The official random drop (evaluate.py lines 96-129) cuts the 224 x 224 image into a 14 x 14
grid (--shuffle_size 14, utils.py line 114: 16 px cells) and drops drop_count = k * 196 // 10
cells for k = 0..9 (lines 232-236); the offset variant (--random_offset_drop) shifts the
dropped mask 8 px right and down (lines 126-129, mask_off_set = 8).

vitlab's rule for the default grid depends on the image size alone, never on the models in
the run: 14 cells per side when 14 divides the side (224 -> 16 px cells, the paper's),
otherwise the largest count below 14 that divides it, so cells are whole pixels
(32 -> 8 x 8 of 4 px, 384 -> 12 x 12 of 32 px).
"""

PAPER_GRID = 14  # utils.py line 114: --shuffle_size default 14
PAPER_GRID_OFFSET = (8, 8)  # evaluate.py line 127: mask_off_set = 8 (pixels, at 224)
PAPER_DROP_FRACTIONS = tuple(k / 10 for k in range(10))  # evaluate.py lines 232-236
# Patch shuffle (scripts/evaluate_shuffle.sh: --shuffle_h 2 2 4 4 8 14 16, --shuffle_w 2 4 4 8 8 14 16),
# one random permutation per image (evaluate.py line 113; --exp_count 1, utils.py line 120).
PAPER_SHUFFLE_GRIDS = ("2x2", "2x4", "4x4", "4x8", "8x8", "14x14", "16x16")
PAPER_SHUFFLE_REPEATS = 1


def default_grid(image_size):
    """Cells per side of the default PatchDrop grid for a square image of this size."""
    size = int(image_size)
    if size < 1:
        raise ValueError(f"image size must be positive, got {image_size}")
    return next(n for n in range(min(PAPER_GRID, size), 0, -1) if size % n == 0)


def paper_drop_counts(cells=PAPER_GRID * PAPER_GRID):
    """The official drop counts: k * cells // 10 for k = 0..9 (0, 19, 39, ..., 176 at 196 cells)."""
    return [k * cells // 10 for k in range(10)]
