"""`vitlab tui` (being built)."""

import typer


def tui_command(runs: str = typer.Option("runs", "--runs", help="Runs root directory.")):
    """Open the terminal dashboard."""
    raise typer.Exit(1)
