"""`vitlab tui`: the terminal dashboard (Textual; never imports TensorFlow)."""

import typer


def tui_command(runs: str = typer.Option("runs", "--runs", help="Runs root directory.")):
    """Open the terminal dashboard: browse, launch, follow, compare and cancel runs."""
    import sys

    if sys.__stdout__ is not None and sys.__stdout__.isatty():
        import textual_image.widget  # noqa: F401  (asks the terminal for graphics support before Textual starts)
    from vitlab.tui.app import create_app

    create_app(runs).run()
