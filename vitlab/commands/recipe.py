"""`vitlab recipe`: list, show and run training recipes (TOML; see vitlab/training/recipe.py)."""

import typer

app = typer.Typer(help="Training recipes: train, distil, evaluate and export in one run.", no_args_is_help=True)


@app.command("list")
def list_command():
    """The shipped recipes and what each does."""
    from vitlab.training.recipe import list_recipes

    rows = list_recipes()
    width = max((len(name) for name, _ in rows), default=0)
    for name, summary in rows:
        typer.echo(f"{name:<{width}}  {summary}")


@app.command("show")
def show_command(
    name: str = typer.Argument(..., help="A shipped recipe name or a .toml path."),
    resolved: bool = typer.Option(False, "--resolved", help="Print the validated recipe as JSON instead."),
    set_: list[str] = typer.Option([], "--set", help="section.key=value override; repeatable."),
):
    """Print a recipe file (or, with --resolved, every value it resolves to)."""
    from vitlab.training import recipe as recipe_lib

    if resolved:
        import json

        typer.echo(json.dumps(recipe_lib.load(name, set_, check_data=False).resolved, indent=2))
    else:
        typer.echo(recipe_lib.find(name).read_text(), nl=False)


@app.command("run")
def run_command(
    name: str = typer.Argument(None, help="A shipped recipe name or a .toml path (optional with --resume)."),
    set_: list[str] = typer.Option([], "--set", help="Override: key=value, section.key=value or STEP.key=value."),
    resume: str = typer.Option(None, "--resume", help="Continue this run directory where it stopped."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Validate, print the plan, train a few steps on generated data."
    ),
    runs_root: str = typer.Option("runs", "--runs", help="Runs root directory."),
    out: str = typer.Option(None, "--out", help="Run directory to create (default: a new one under --runs)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress on the terminal."),
):
    """Validate a recipe, then run it: training steps, evaluation steps, exports, report."""
    from vitlab.errors import UserError
    from vitlab.training import recipe as recipe_lib

    if resume:
        from vitlab.results import RunStore

        if set_:
            raise UserError("--resume continues a run with the recipe and overrides it started with; drop --set")
        recipe = recipe_lib.from_run(RunStore(runs_root).open(resume))
    elif name is None:
        raise UserError("give a recipe name or path (vitlab recipe list), or --resume RUN_DIR")
    else:
        recipe = recipe_lib.load(name, set_, check_data=not dry_run)
    if dry_run:
        from vitlab.training.dry_run import dry_run as run_dry

        run_dry(recipe)
        return
    from vitlab.training import plan

    strategy = plan.distribution_for(recipe)  # refuses what the devices cannot run before the run exists
    run = plan.start(recipe, runs_root=runs_root, out=out, resume=resume)
    if not quiet:
        typer.echo(f"run: {run.path}")
    plan.execute(recipe, run, quiet=quiet, strategy=strategy)
