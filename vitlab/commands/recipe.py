"""`vitlab recipe` (being built)."""

import typer

app = typer.Typer(help="recipe commands.", no_args_is_help=True)
