"""`vitlab features` (being built)."""

import typer

app = typer.Typer(help="features commands.", no_args_is_help=True)
