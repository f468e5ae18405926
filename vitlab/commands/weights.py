"""`vitlab weights`: bring checkpoints in timm's layout into vitlab (.keras) and back."""

from pathlib import Path

import typer

app = typer.Typer(
    help="Import timm-layout checkpoints (.safetensors, .npz, .pth, or a name in the local Hugging Face "
    "cache) as .keras models.",
    no_args_is_help=True,
)


def _named_stats():
    from vitlab.models import registry

    return {
        "imagenet": (registry.IMAGENET_MEAN, registry.IMAGENET_STD),
        "inception": (registry.INCEPTION_MEAN, registry.INCEPTION_STD),
    }


def parse_stats(text, option):
    """'0.485,0.456,0.406', one number for all channels, or a name (imagenet, inception)."""
    from vitlab.errors import UserError

    if text is None:
        return None
    named = _named_stats()
    if text.lower() in named:
        return named[text.lower()][0 if option == "--mean" else 1]
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise UserError(f"{option} {text!r}: expected 3 numbers like 0.5,0.5,0.5 or imagenet/inception") from None
    if len(values) == 1:
        values = values * 3
    if len(values) != 3 or (option == "--std" and min(values) <= 0):
        raise UserError(f"{option} {text!r}: expected 3 numbers (std > 0), one per RGB channel")
    return values


@app.command("import")
def import_command(
    name: str = typer.Argument(
        ...,
        help="Registry name of the architecture (`vitlab models list`), ARCHITECTURE.TAG "
        "for a timm tag's preprocessing (resnet50.tv_in1k), or a timm / "
        "Hugging Face name (timm/deit_small_patch16_224.fb_in1k) found in the "
        "local Hugging Face cache when FILE is left out.",
    ),
    file: Path = typer.Argument(None, help="Checkpoint in timm's key layout: .safetensors, .npz or .pth."),
    out: Path = typer.Option(..., "-o", "--out", help="Where to write the model (.keras)."),
    num_classes: int = typer.Option(
        None, "--num-classes", help="Default: the checkpoint's. 0 drops the head; another number makes a new head."
    ),
    image_size: int = typer.Option(None, "--image-size", help="Input size; the position embedding is resampled to it."),
    mean: str = typer.Option(None, "--mean", help="Normalization mean (r,g,b or imagenet/inception)."),
    std: str = typer.Option(None, "--std", help="Normalization std (r,g,b or imagenet/inception)."),
    cache_dir: Path = typer.Option(
        None,
        "--cache-dir",
        help="Hugging Face hub cache (default: $HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub).",
    ),
    revision: str = typer.Option(None, "--revision", help="Cached revision (commit hash or ref); default main."),
):
    """Import a timm / DeiT / DINO checkpoint and save it as a .keras model."""
    from vitlab.errors import UserError

    if out.suffix != ".keras":
        raise UserError(f"-o {out}: the output must end in .keras")
    mean_values, std_values = parse_stats(mean, "--mean"), parse_stats(std, "--std")
    architecture = name
    if file is None:
        from vitlab.models import hf_cache

        if not hf_cache.looks_like_hub_name(name):
            raise UserError(
                f"give the checkpoint FILE for {name!r}, or a cached Hugging Face name such as timm/{name}.fb_in1k"
            )
        model, notes, cached = hf_cache.import_cached(
            name,
            cache_dir=cache_dir,
            revision=revision,
            num_classes=num_classes,
            image_size=image_size,
            mean=mean_values,
            std=std_values,
        )
        typer.echo(f"found {cached.repo_id} in the local cache: {cached.weights} (revision {cached.revision})")
        architecture = cached.architecture
    else:
        if not file.exists():
            raise UserError(f"{file}: no such file")
        if "/" in name:  # ORG/ARCHITECTURE.TAG: the tag (when vitlab knows it) picks the preprocessing
            from vitlab.models import hf_cache, registry

            tagged = hf_cache.parse_name(name)[0].split("/", 1)[1]
            architecture = tagged if tagged in registry.PRETRAINED else hf_cache.parse_name(name)[1]
        from vitlab.models.timm_convert import import_checkpoint

        model, notes = import_checkpoint(
            architecture, file, num_classes=num_classes, image_size=image_size, mean=mean_values, std=std_values
        )

    from vitlab import models

    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    for note in notes:
        typer.echo(f"note: {note}")
    from vitlab.models import preprocessing

    chosen = preprocessing.of(model)
    typer.echo(
        f"wrote {out}: {architecture}, {models.parameter_count(model):,} parameters, "
        f"{model.num_classes or 'no'} classes, {model.image_size}px, mean {list(model.mean)}, "
        f"std {list(model.std)}, crop_pct {chosen.crop_pct} {chosen.interpolation} ({chosen.source})"
    )


@app.command("export")
def export_command(
    model_path: Path = typer.Argument(..., help="A vitlab .keras model (ViT/DeiT or ResNet)."),
    out: Path = typer.Option(..., "-o", "--out", help="Where to write the weights (.safetensors or .npz)."),
):
    """Write a vitlab model's weights in timm's key layout (loadable by timm.create_model)."""
    from vitlab.errors import UserError

    if out.suffix not in (".safetensors", ".npz"):
        raise UserError(f"-o {out}: the output must end in .safetensors or .npz")
    if not model_path.exists():
        raise UserError(f"{model_path}: no such file")
    import numpy as np

    from vitlab import models
    from vitlab.models.timm_convert import export_timm_state

    state = export_timm_state(models.load(model_path))
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npz":
        np.savez(out, **state)
    else:
        from safetensors.numpy import save_file

        save_file(state, str(out))
    typer.echo(f"wrote {out}: {len(state)} tensors in timm layout")
