"""`vitlab eval NAME`: run one experiment on one or more models and store a run."""

import typer

from vitlab import experiments

app = typer.Typer(help="Run an experiment: " + ", ".join(experiments.names()) + ".", no_args_is_help=True)

MODEL_HELP = (
    "zoo:ROLE (a trained zoo model: `vitlab models list`), a .keras file, a run directory (RUN_DIR or "
    "RUN_DIR:NAME) or a registry name (random weights); repeat for several."
)


def _make_command(name):
    def command(
        model: list[str] = typer.Option(..., "--model", "-m", help=MODEL_HELP),
        dataset: str = typer.Option(
            "shapes",
            "--dataset",
            "-d",
            help="shapes[:variant], objects64[:variant], fashion_mnist, tfds:NAME, voc:PATH, or a folder.",
        ),
        split: str = typer.Option("test", help="Dataset split."),
        limit: int = typer.Option(None, help="Use at most this many images."),
        batch_size: int = typer.Option(64, help="Batch size."),
        seed: int = typer.Option(0, help="Seed for every random choice (recorded in run.json)."),
        set_: list[str] = typer.Option([], "--set", help="Experiment option key=value; repeatable."),
        out: str = typer.Option(None, "--out", help="Run directory to create (default: a new one under --runs)."),
        runs_root: str = typer.Option("runs", "--runs", help="Runs root directory."),
        data_dir: str = typer.Option(None, help="TFDS data_dir for tfds: datasets."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress on the terminal."),
    ):
        from vitlab.experiments import precheck

        precheck.check(name, model, dataset, overrides=set_)  # in milliseconds, before TensorFlow loads

        from vitlab.experiments import evaluation
        from vitlab.experiments.eval_command import evaluate

        options = evaluation.options(
            name, overrides=set_, split=split, limit=limit, batch_size=batch_size, seed=seed, data_dir=data_dir
        )
        evaluate(options, model, dataset, out=out, runs_root=runs_root, quiet=quiet, overrides=set_)

    command.__doc__ = f"{experiments.describe(name)}"
    return command


def _options_epilog(name):
    """The experiment's --set keys with defaults, from the shipped schema (no Keras import)."""
    from vitlab.experiments.options import shipped

    entry = shipped().get(name)
    if not entry:
        return None
    from vitlab.experiments.option_help import help_for

    def row(option_name, default, type_text, help_text):
        text = f"{option_name}={default}  ({type_text})" + (f": {help_text}" if help_text else "")
        return text.replace("[", "\\[")  # not Rich markup

    rows = []
    for option in entry["options"]:
        default = option["default"]
        if isinstance(default, list):
            default = ",".join(map(str, default))
        rows.append(row(option["name"], default, option["type"], option.get("help", "")))
    rows += [
        row(key, "(the model's)", text, help_for(name, key))
        for key, text in (("crop_pct", "float | None"), ("interpolation", "str | None"))
    ]
    return "Options for --set (defaults = the paper's protocol):\n\n" + "\n\n".join(rows)


for _name in experiments.names():
    app.command(_name, epilog=_options_epilog(_name))(_make_command(_name))
