"""`vitlab export` (being built)."""

import typer


def export_command(run_or_model: str = typer.Argument(..., help="A .keras model or a run directory.")):
    """Export a model as a SavedModel for TF Serving."""
    raise typer.Exit(1)
