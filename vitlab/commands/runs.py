"""`vitlab runs`: what is in the runs root (reads run.json only; never imports TensorFlow)."""

import typer

app = typer.Typer(help="List and inspect runs.", no_args_is_help=True)


def _headline(info):
    """The metric the run names as its headline (recipe key `headline`), else its first one."""
    from vitlab.results.run_facts import headline

    picked = headline(info)
    if picked is None:
        return ""
    key, value = picked
    return f"{key}={value:.4f}" if isinstance(value, float) else f"{key}={value}"


@app.command("list")
def list_command(
    runs_root: str = typer.Option("runs", "--runs", help="Runs root directory (default: runs/ in the current folder)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON array instead of a table."),
):
    """Every run, newest first; unreadable runs are listed with the reason."""
    import json

    from vitlab.results import RunStore

    rows = []
    for run, info, error in RunStore(runs_root).list():
        if info is None:
            rows.append({"id": run.id, "path": str(run.path), "status": "unreadable", "error": error})
            continue
        rows.append(
            {
                "id": run.id,
                "path": str(run.path),
                "status": run.status(),
                "name": info.get("name"),
                "kind": info.get("kind"),
                "created": info.get("created"),
                "headline": _headline(info),
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        from pathlib import Path

        where = Path(runs_root).resolve()
        state = "no run folders in it" if where.is_dir() else "no such folder"
        typer.echo(f"no runs in {where} ({state}); `--runs DIR` looks in another runs folder")
        return
    for row in rows:
        detail = row.get("error") or f"{row['kind']:<7} {row['name']}  {row['headline']}"
        typer.echo(f"{row['id']:<40} {row['status']:<11} {detail}")


@app.command("show")
def show_command(
    run_dir: str = typer.Argument(..., help="A run directory."),
    as_json: bool = typer.Option(False, "--json", help="Print run.json as stored."),
):
    """A run's status, steps, training numbers and results."""
    import json

    from vitlab.results import Run, RunStoreError

    run = Run(run_dir)
    info = run.read_info()
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    typer.echo(f"run:      {run.path}")
    typer.echo(f"name:     {info.get('name')} ({info.get('kind')}), seed {info.get('seed')}")
    typer.echo(f"status:   {run.status()}" + (f" ({info['error']})" if info.get("error") else ""))
    typer.echo(f"created:  {info.get('created')}" + (f", took {info['duration_s']} s" if "duration_s" in info else ""))
    for step, state in (info.get("steps") or {}).items():
        typer.echo(f"step      {step}: {state}")
    for name, numbers in (info.get("training") or {}).items():
        shown = {k: v for k, v in numbers.items() if k != "class_names"}
        typer.echo(f"trained   {name}: {json.dumps(shown)}")
    try:
        results = run.results()
    except RunStoreError as error:
        typer.echo(f"results:  {error}")
        results = {}
    for key, result in results.items():
        numbers = ", ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.summary.items())
        typer.echo(f"result    {key}: {numbers}")
    report = run.path / "report" / "index.md"
    if report.exists():
        typer.echo(f"report:   {report}")


@app.command("export")
def export_command(
    run_dir: str = typer.Argument(..., help="A run directory."),
    fmt: str = typer.Option("csv", "--format", "-f", help="csv, parquet or json."),
    out: str = typer.Option(None, "-o", "--out", help="Directory to write into (default: RUN/tables)."),
):
    """Write every result of a run as tidy tables (one file per result, plus all.FORMAT)."""
    from pathlib import Path

    from vitlab.errors import UserError
    from vitlab.results import RunStore
    from vitlab.results.frames import FORMATS, export_run

    if fmt not in FORMATS:
        raise UserError(f"--format {fmt!r}: choose from {', '.join(FORMATS)}")
    run = RunStore().open(run_dir)
    for path in export_run(run, fmt, Path(out) if out else run.path / "tables"):
        typer.echo(f"wrote {path}")
