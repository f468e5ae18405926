"""`vitlab data list|show|prepare`: the known sources, a look at the samples, building sets."""

import typer

from vitlab.commands.data_corruptions import prepare_corruptions_command

app = typer.Typer(
    help="Datasets: list sources, look at samples, prepare generated/corrupted/stylized sets.", no_args_is_help=True
)
prepare_app = typer.Typer(
    help="Build a dataset on disk (shapes cache, corruption sets, stylized sets).", no_args_is_help=True
)
app.add_typer(prepare_app, name="prepare")
prepare_app.command("corruptions")(prepare_corruptions_command)


@app.command("list")
def list_command():
    """The dataset names vitlab understands."""
    from vitlab.data import known_sources

    rows = known_sources()
    width = max(len(name) for name, _ in rows)
    for name, description in rows:
        typer.echo(f"{name:<{width}}  {description}")


@app.command("show")
def show_command(
    dataset: str = typer.Argument(..., help="Dataset name: shapes[:variant], fashion_mnist, tfds:NAME, or a folder."),
    out: str = typer.Option("grid.png", "--out", "-o", help="PNG file to write."),
    split: str = typer.Option("test", "--split", help="Split to show."),
    count: int = typer.Option(24, "--count", "-n", help="Number of samples."),
    image_size: int = typer.Option(32, "--image-size", help="Image size the samples are loaded at."),
    shuffle: bool = typer.Option(False, "--shuffle", help="Show a seeded random sample instead of the first ones."),
    seed: int = typer.Option(0, "--seed", help="Shuffle seed."),
    data_dir: str = typer.Option(None, "--data-dir", help="Data directory (TFDS, Fashion-MNIST)."),
):
    """Write a labelled grid of samples (masks and both labels for cue_conflict) to a PNG."""
    from vitlab import data
    from vitlab.data.preview import save_grid

    if count < 1:
        raise data.DatasetError(f"--count must be >= 1, got {count}")
    loaded = data.load(
        dataset,
        split=split,
        image_size=image_size,
        batch_size=min(count, 64),
        limit=None if shuffle else count,
        seed=seed,
        shuffle=shuffle,
        data_dir=data_dir,
    )
    shown = save_grid(loaded, out, count=count)
    typer.echo(f"wrote {out}: {shown} samples of {loaded.name} [{loaded.split}]")
    if loaded.skipped_files:
        typer.echo(f"skipped {len(loaded.skipped_files)} unreadable files: {', '.join(loaded.skipped_files)}", err=True)


@prepare_app.command("shapes")
def prepare_shapes_command(
    variant: str = typer.Option("all", "--variant", help="default, stylized, cue_conflict or all."),
    image_size: int = typer.Option(32, "--image-size", help="Image size (>= 16)."),
    train_size: int = typer.Option(10000, "--train-size", help="Images in the train split."),
    test_size: int = typer.Option(2000, "--test-size", help="Images in the test split."),
    p: float = typer.Option(0.8, "--p", help="Probability that the texture agrees with the class (default variant)."),
    seed: int = typer.Option(0, "--seed", help="Generation seed."),
):
    """Generate the shapes set into the cache ($VITLAB_CACHE or ~/.cache/vitlab)."""
    import time

    from vitlab.data import DatasetError, shapes
    from vitlab.data.shapes_cache import ShapesOptions, cache_path, load_or_build

    variants = shapes.VARIANTS if variant == "all" else (variant,)
    if variant != "all" and variant not in shapes.VARIANTS:
        raise DatasetError(f"unknown shapes variant {variant!r}; known: all, {', '.join(shapes.VARIANTS)}")
    if image_size < 16:
        raise DatasetError(f"--image-size must be >= 16, got {image_size}")
    try:
        options = ShapesOptions(train_size=train_size, test_size=test_size, p=p, seed=seed).validate()
    except ValueError as error:
        raise DatasetError(str(error)) from None
    for name in variants:
        for split in shapes.SPLITS:
            started = time.perf_counter()
            path = cache_path(name, split, image_size, options)
            cached = path.exists()
            load_or_build(name, split, image_size, options)
            seconds = time.perf_counter() - started
            state = "cached" if cached else f"built in {seconds:.1f}s"
            typer.echo(f"{name:<12} {split:<5} {options.size(split):>6} images  {state}  {path}")


@prepare_app.command("stylized")
def prepare_stylized_command(
    dataset: str = typer.Option(..., "--dataset", "-d", help="Dataset to stylize (any vitlab.data name)."),
    styles: str = typer.Option(..., "--styles", help="Folder of style images."),
    encoder: str = typer.Option(
        None,
        "--encoder",
        help="VGG-19 encoder weights (Keras .h5 / .weights.h5); "
        "without it the encoder is random (for trying the tool only).",
    ),
    decoder: str = typer.Option(..., "--decoder", help="Decoder weights (.weights.h5) trained with train_decoder."),
    out: str = typer.Option(..., "--out", "-o", help="Output folder (an image-folder tree, loadable by path)."),
    split: str = typer.Option("test", "--split", help="Split to stylize."),
    image_size: int = typer.Option(224, "--image-size", help="Image size to stylize at."),
    alpha: float = typer.Option(1.0, "--alpha", help="Style strength in [0, 1]."),
    limit: int = typer.Option(None, "--limit", help="Stylize only the first N images."),
    seed: int = typer.Option(0, "--seed", help="Seed of the style choice per image."),
    data_dir: str = typer.Option(None, "--data-dir", help="Data directory (TFDS, Fashion-MNIST)."),
):
    """Stylize a dataset with AdaIN (Geirhos et al.'s Stylized-ImageNet recipe) into OUT/<split>/<class>/."""
    from vitlab.data_prep.stylize_dataset import stylize_dataset

    written = stylize_dataset(
        dataset,
        styles,
        out,
        encoder_weights=encoder,
        decoder_weights=decoder,
        split=split,
        image_size=image_size,
        alpha=alpha,
        limit=limit,
        seed=seed,
        data_dir=data_dir,
        progress=lambda done, total: typer.echo(f"\r{done}/{total}", nl=False),
    )
    typer.echo(f"\nwrote {written} stylized images to {out}")
