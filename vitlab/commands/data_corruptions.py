"""`vitlab data prepare corruptions`: write ImageNet-C style corruption sets to disk."""

import typer


def prepare_corruptions_command(
    dataset: str = typer.Option("shapes", "--dataset", "-d", help="Dataset to corrupt."),
    out: str = typer.Option(..., "--out", "-o", help="Output directory (rerun with the same one to resume)."),
    split: str = typer.Option("test", help="Dataset split."),
    limit: int = typer.Option(None, help="Use at most this many images."),
    image_size: int = typer.Option(32, help="Resize (shorter side + centre crop) to this size before corrupting."),
    corruptions: str = typer.Option(
        "all", help="Comma-separated names or groups: all, common, extra, noise, blur, weather, digital."
    ),
    severities: str = typer.Option("1,2,3,4,5", help="Comma-separated severities in 1..5."),
    workers: int = typer.Option(2, help="Worker processes (1 = no pool)."),
    seed: int = typer.Option(0, help="Seed of the random corruptions (per image)."),
    data_dir: str = typer.Option(None, help="TFDS data_dir for tfds: datasets."),
):
    """Write ImageNet-C style corruption sets (15 + 4 corruptions x 5 severities)."""
    from vitlab.data_prep.corruption_set import prepare_corruptions
    from vitlab.perturb.corruptions import check_corruptions, check_severities

    names = check_corruptions(corruptions)
    levels = check_severities([part for part in severities.split(",") if part.strip()])
    manifest = prepare_corruptions(
        dataset=dataset,
        out=out,
        split=split,
        limit=limit,
        image_size=image_size,
        corruptions=names,
        severities=levels,
        workers=workers,
        seed=seed,
        data_dir=data_dir,
    )
    typer.echo(
        f"{len(manifest['pairs'])} (corruption, severity) sets of {manifest['num_images']} images in {out} "
        f"({manifest['seconds_last_run']:.1f} s this run)"
    )
