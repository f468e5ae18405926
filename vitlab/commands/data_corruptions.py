"""`vitlab data prepare corruptions` (being built by the corruptions owner)."""

import typer


def prepare_corruptions_command(
    dataset: str = typer.Option("shapes", "--dataset", "-d", help="Dataset to corrupt."),
    out: str = typer.Option(..., "--out", "-o", help="Output directory."),
):
    """Write ImageNet-C style corruption sets (15 + 4 corruptions x 5 severities)."""
    raise typer.Exit(1)
