"""`vitlab weights` (being built)."""

import typer

app = typer.Typer(help="weights commands.", no_args_is_help=True)
