"""The occlusion grid an experiment drops cells of, chosen the same way everywhere."""

from vitlab.config import ConfigError


def resolve_grid(text, adapters, height, width):
    """(rows, cols): "" = a function of the image size alone (vitlab.protocol.occlusion.default_grid:
    14x14 at 224, the paper's 16 px cells), never of the other models in the run; "RxC"; or "pixel"."""
    from vitlab.perturb import patch_drop
    from vitlab.protocol import occlusion as occlusion_protocol

    if not text:
        return occlusion_protocol.default_grid(height), occlusion_protocol.default_grid(width)
    try:
        return patch_drop.parse_grid(text, height, width)
    except ValueError as error:
        raise ConfigError(f"grid: {error}") from None
