"""`vitlab features extract|info`: per-block features into the HDF5 cache, and what a cache file holds."""

import typer

app = typer.Typer(
    help="Off-the-shelf features: extract per-block features to the HDF5 cache, inspect a file.", no_args_is_help=True
)


@app.command("extract")
def extract_command(
    model: str = typer.Option(
        ...,
        "--model",
        "-m",
        help="zoo:ROLE, a .keras file, a run directory (RUN_DIR[:NAME]) or a registry name (random weights).",
    ),
    dataset: str = typer.Option(
        "shapes", "--dataset", "-d", help="shapes[:variant], fashion_mnist, tfds:NAME, or a folder."
    ),
    split: str = typer.Option("test", "--split", help="Dataset split."),
    blocks: str = typer.Option(
        "last4", "--blocks", help="Block indices (0-based, negative from the end), last, last4 or all."
    ),
    kinds: str = typer.Option(
        "", "--kinds", help="Token kinds: class, dist, patch_mean (ViT), pooled (CNN); default all."
    ),
    out: str = typer.Option(
        None, "--out", "-o", help="HDF5 file to write (default: keyed file in the cache directory)."
    ),
    cache_dir: str = typer.Option(
        None, "--cache-dir", help="Cache directory (default $VITLAB_CACHE/features or ~/.cache/vitlab/features)."
    ),
    limit: int = typer.Option(None, "--limit", help="Use the first N images of the split."),
    batch_size: int = typer.Option(64, "--batch-size", help="Images per forward pass."),
    chunk_rows: int = typer.Option(
        1024, "--chunk-rows", help="Rows per HDF5 chunk; bounds memory and the work a kill loses."
    ),
    compression: str = typer.Option("lzf", "--compression", help="lzf, gzip or none."),
    seed: int = typer.Option(0, "--seed", help="Seed for a registry model's random initialisation."),
    data_dir: str = typer.Option(None, "--data-dir", help="Data directory (TFDS, Fashion-MNIST)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress on the terminal."),
):
    """Extract class / distillation / patch-mean tokens (ViT) or pooled stages (CNN) once; reruns read the cache."""
    import keras

    from vitlab import data as data_lib
    from vitlab.experiments.run_context import Context
    from vitlab.experiments.runner import resolve_model
    from vitlab.features.extract import extract

    if batch_size < 1 or chunk_rows < 1:
        raise typer.BadParameter("--batch-size and --chunk-rows must be positive")
    info = data_lib.describe(dataset, split=split, data_dir=data_dir)
    keras.utils.set_random_seed(seed)  # a registry name builds the same weights each time, so reruns hit the cache
    adapter = resolve_model(model, num_classes=info.num_classes)
    loaded = data_lib.load(
        dataset,
        split=split,
        image_size=adapter.image_size,
        batch_size=batch_size,
        limit=limit,
        seed=seed,
        data_dir=data_dir,
        **data_lib.eval_crop(adapter),
    )  # the model's stored crop
    context = Context(step="features", quiet=quiet)
    kind_list = [k.strip() for k in kinds.split(",") if k.strip()]
    features = extract(
        adapter,
        loaded,
        blocks=blocks,
        kinds=kind_list,
        cache_dir=cache_dir,
        path=out,
        chunk_rows=chunk_rows,
        compression=compression,
        context=context,
    )
    _describe(features)


@app.command("info")
def info_command(path: str = typer.Argument(..., help="A feature cache file (.h5).")):
    """What a cache file holds: model, weights, dataset, split, blocks, kinds, rows."""
    from pathlib import Path

    from vitlab.features.cache import FeatureCacheError, FeatureFile

    if not Path(path).exists():
        raise FeatureCacheError(f"{path}: no such feature cache file")
    try:
        features = FeatureFile(path)
    except OSError:
        raise FeatureCacheError(f"{path}: not a readable HDF5 file") from None
    _describe(features)


def _describe(features):
    attrs = features.attrs
    state = "complete" if features.complete else f"incomplete ({features.rows_done} rows written; rerun to resume)"
    typer.echo(f"{features.path}")
    typer.echo(
        f"  model {attrs.get('model')} (weights sha1 {str(attrs.get('weights'))[:12]}), "
        f"data {attrs.get('dataset')}/{attrs.get('split')}, {features.rows_done} rows, {state}"
    )
    typer.echo(f"  blocks {', '.join(str(b) for b in features.blocks)}; kinds {', '.join(features.kinds)}")
