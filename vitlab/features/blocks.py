"""Which blocks and token kinds a feature request means, for any model.

Blocks are named by index (0-based, negative from the end), `last`, `last4` or `all`, so a
recipe can say "last4" without knowing the model's depth. ResNet stages count as blocks.
"""

from vitlab.config import ConfigError

BLOCK_WORDS = ("last", "last4", "all")
VIT_KINDS = ("class", "dist", "patch_mean")
CNN_KINDS = ("pooled",)


class FeatureSpecError(ConfigError):
    """A block or token-kind request that does not fit the model."""


def parse_blocks(spec, num_blocks, model_name="model"):
    """Sorted, de-duplicated 0-based block indices for 'all' | 'last' | 'last4' | '0,3,-1' | list."""
    if num_blocks <= 0:
        raise FeatureSpecError(f"{model_name}: has no blocks to take features from (a plain classifier)")
    if isinstance(spec, (list, tuple)):
        items = [str(item) for item in spec]
    else:
        items = [part for part in str(spec).replace(";", ",").split(",") if part.strip()]
    if not items:
        raise FeatureSpecError(f"blocks: empty; use an index list, {', '.join(BLOCK_WORDS)}")
    chosen = set()
    for item in items:
        word = item.strip().lower()
        if word == "all":
            chosen.update(range(num_blocks))
        elif word == "last":
            chosen.add(num_blocks - 1)
        elif word == "last4":
            chosen.update(range(max(0, num_blocks - 4), num_blocks))
        else:
            try:
                index = int(word)
            except ValueError:
                raise FeatureSpecError(
                    f"blocks: {item!r} is not a block index or one of {', '.join(BLOCK_WORDS)}"
                ) from None
            if not -num_blocks <= index < num_blocks:
                raise FeatureSpecError(
                    f"blocks: index {index} is out of range for {model_name} ({num_blocks} blocks: 0..{num_blocks - 1})"
                )
            chosen.add(index % num_blocks)
    return sorted(chosen)


def available_kinds(adapter):
    """Token kinds the model offers: class / dist / patch_mean for ViTs, pooled for CNNs."""
    if adapter.kind == "cnn":
        return list(CNN_KINDS)
    if adapter.kind == "vit":
        return [kind for kind in VIT_KINDS if kind != "dist" or adapter.has_dist_token]
    return []


def choose_kinds(adapter, requested=()):
    """The requested kinds the model has (all it has when none are requested).

    A kind no model has is an error; a kind this model lacks (dist on a plain ViT, class on a
    ResNet) is left out, so one request serves a mix of models.
    """
    offered = available_kinds(adapter)
    if not requested:
        return offered
    unknown = [kind for kind in requested if kind not in VIT_KINDS + CNN_KINDS]
    if unknown:
        raise FeatureSpecError(
            f"kinds: unknown token kind {unknown[0]!r}; choose from {', '.join(VIT_KINDS + CNN_KINDS)}"
        )
    chosen = [kind for kind in offered if kind in requested]
    if not chosen and adapter.kind == "cnn":
        return offered  # a CNN has only pooled stage features; use them for any token request
    if not chosen:
        raise FeatureSpecError(f"kinds: {adapter.name} offers {', '.join(offered)}, not {', '.join(requested)}")
    return chosen


def main_kind(adapter):
    """The kind that stands for 'the block's feature' in plots: class token, or pooled stage."""
    return "pooled" if adapter.kind == "cnn" else "class"


def dataset_name(block, kind):
    return f"block_{block:02d}/{kind}"
