"""The occlusion grid an experiment drops cells of, chosen the same way everywhere."""

from vitlab.config import ConfigError

PAPER_GRID = 14  # the paper's 14x14 patch grid of a 224px, patch-16 ViT


def resolve_grid(text, adapters, height, width):
    """(rows, cols): "" = the first ViT's patch grid (else 14x14), "RxC", or "pixel"."""
    from vitlab.perturb import patch_drop

    if not text:
        vits = [a for a in adapters if a.is_transformer]
        return vits[0].patch_grid if vits else (min(PAPER_GRID, height), min(PAPER_GRID, width))
    try:
        return patch_drop.parse_grid(text, height, width)
    except ValueError as error:
        raise ConfigError(f"grid: {error}") from None
