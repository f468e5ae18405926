"""`vitlab findings`: re-test the paper's claims: run the findings recipe per seed, aggregate,
write docs/findings_32px.md (vitlab.findings). Errors and Ctrl-C go through vitlab.cli's boundary."""

import typer

from vitlab.commands.arguments import parse_seeds

app = typer.Typer(
    help="Re-test the paper's claims: run the findings recipe per seed, aggregate, write docs/findings_32px.md.",
    no_args_is_help=True,
)

SMOKE = ["smoke=true"]


@app.command("study")
def study_command(
    seeds: str = typer.Option("0,1,2", "--seeds", help="Comma-separated seeds."),
    runs: str = typer.Option(
        None,
        "--runs",
        help="Folder of the per-seed runs, seed-N (default runs/findings; runs/findings-smoke with --smoke).",
    ),
    recipe: str = typer.Option("findings", "--recipe", help="Recipe name or .toml path."),
    set_: list[str] = typer.Option([], "--set", help="Recipe override; repeatable."),
    smoke: bool = typer.Option(False, "--smoke", help="Smoke sizes."),
    output: str = typer.Option("docs/findings_32px.md", "--output", "-o"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No training progress on the terminal."),
):
    """Run the recipe for every seed (resuming each seed's run), then write the report."""
    from vitlab.findings import study

    chosen = parse_seeds(seeds)
    runs = runs or ("runs/findings-smoke" if smoke else "runs/findings")
    written, _ = study.run_study(runs, chosen, output, [*set_, *(SMOKE if smoke else [])], recipe, quiet)
    typer.echo(f"findings: {written}")


@app.command("report")
def report_command(
    runs: list[str] = typer.Argument(..., help="Run directories, one per seed."),
    output: str = typer.Option("docs/findings_32px.md", "--output", "-o"),
):
    """Aggregate existing runs (one per seed) into the report."""
    from vitlab.findings import aggregate, write

    written = write.write(aggregate.evaluate(aggregate.load_runs(runs)), output)
    typer.echo(f"findings: {written}")


@app.command("long")
def long_command(
    runs: str = typer.Option(
        None,
        "--runs",
        help="Folder of its run, seed-0, resumed (default runs/findings-long; runs/findings-long-smoke with --smoke).",
    ),
    study_runs: str = typer.Option(
        "state/findings",
        "--study",
        help="Folder of the three-seed study's runs (seed-N), for their status; skipped when absent.",
    ),
    smoke: bool = typer.Option(False, "--smoke", help="Smoke sizes."),
    output: str = typer.Option("docs/findings_vit_long.md", "--output", "-o"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress on the terminal."),
):
    """Re-measure the ViT roles' checks on long-trained models (recipe findings_long): findings_vit_long.md."""
    from vitlab.findings import study

    runs = runs or ("runs/findings-long-smoke" if smoke else "runs/findings-long")
    written = study.run_long(runs, output, study_runs, SMOKE if smoke else [], quiet)
    typer.echo(f"findings: {written}")
