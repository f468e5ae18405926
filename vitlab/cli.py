"""The `vitlab` command.

Start-up stays light: this module and the command modules import only Typer; each
command imports TensorFlow/Keras inside its body, so `vitlab --help` answers at once.
"""

import os
import sys

import typer

from vitlab.commands import data, export, features, findings, models, recipe, runs, study, tui, weights, zoo
from vitlab.commands import eval as eval_cmd

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
app.add_typer(findings.app, name="findings")
app.add_typer(study.app, name="study")
app.command("export")(export.export_command)
app.command("tui")(tui.tui_command)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback of an error (or VITLAB_DEBUG=1)."),
):
    if debug:
        os.environ["VITLAB_DEBUG"] = "1"
    if version:
        from vitlab import __version__

        typer.echo(__version__)
        raise typer.Exit()


def main(argv=None):
    """Entry point and the one error boundary: every failure becomes one line on stderr and a
    non-zero exit (2: bad input or environment, 1: a bug, 130: interrupted); --debug or
    VITLAB_DEBUG=1 adds the traceback."""
    from vitlab import console, errors

    debug_before = os.environ.get("VITLAB_DEBUG")
    own_process = argv is None  # the `vitlab` command itself, not a call from Python or a test
    argv = console.setup(argv)  # TensorFlow's C++ lines and library warnings only with --verbose
    try:
        app(args=argv, prog_name="vitlab")  # standalone: usage errors print and exit 2 themselves
    except KeyboardInterrupt:
        _interrupted(own_process)
    except SystemExit as done:  # Click turns a KeyboardInterrupt inside a command into exit 130
        if done.code == errors.EXIT_INTERRUPTED:
            _interrupted(own_process)
        raise
    except Exception as error:  # noqa: BLE001 - the boundary: nothing below prints a traceback
        code, message = errors.describe(error)
        if errors.debug_enabled():
            import traceback

            traceback.print_exc()
        typer.echo(f"error: {message}", err=True)
        sys.exit(code)
    finally:  # --verbose / --debug hold for this command (and its children), not the next in-process call
        if debug_before is None:
            os.environ.pop("VITLAB_DEBUG", None)
        else:
            os.environ["VITLAB_DEBUG"] = debug_before


def _interrupted(own_process):
    """Ctrl-C or SIGTERM (run_status turns it into KeyboardInterrupt): the run has recorded its
    status and its checkpoints are on disk by now. A process of its own ends at once: the
    normal interpreter exit destroys the training pipeline's tf.data iterator, which waits for
    its worker threads, measured at 6-64 s after a SIGTERM mid-epoch."""
    from vitlab import errors

    typer.echo("interrupted", err=True)
    if own_process:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(errors.EXIT_INTERRUPTED)
    sys.exit(errors.EXIT_INTERRUPTED)


if __name__ == "__main__":
    main()
