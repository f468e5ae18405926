"""The `vitlab` command.

Start-up stays light: this module and the command modules import only Typer; each
command imports TensorFlow/Keras inside its body, so `vitlab --help` answers at once.
"""

import os
import sys

import typer

from vitlab.commands import data, eval as eval_cmd, export, features, models, recipe, runs, tui, weights, zoo

app = typer.Typer(
    name="vitlab",
    help="Study how vision transformers behave: models, experiments, training recipes, a terminal UI.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(models.app, name="models")
app.add_typer(weights.app, name="weights")
app.add_typer(data.app, name="data")
app.add_typer(eval_cmd.app, name="eval")
app.add_typer(features.app, name="features")
app.add_typer(recipe.app, name="recipe")
app.add_typer(runs.app, name="runs")
app.add_typer(zoo.app, name="zoo")
app.command("export")(export.export_command)
app.command("tui")(tui.tui_command)


@app.callback()
def _root(version: bool = typer.Option(False, "--version", help="Print the version and exit.")):
    if version:
        from vitlab import __version__

        typer.echo(__version__)
        raise typer.Exit()


def main(argv=None):
    """Entry point: a UserError becomes one line on stderr and exit code 2."""
    from vitlab.errors import UserError

    from vitlab import console

    argv = console.setup(argv)  # TensorFlow's C++ lines and library warnings only with --verbose
    try:
        app(args=argv, prog_name="vitlab")  # standalone: usage errors print and exit 2 themselves
    except UserError as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(2)
    except FileNotFoundError as error:
        typer.echo(f"error: {error.filename or error}: no such file", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)

if __name__ == "__main__":
    main()
