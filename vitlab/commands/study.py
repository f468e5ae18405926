"""`vitlab study`: train the study's cells (resumable, packable across machines) and see where they stand."""

import typer

app = typer.Typer(
    help="The study's models: train its cells per seed, resumably; show their state.", no_args_is_help=True
)


@app.command("train")
def train_command(
    cells: str = typer.Option(
        "vit_deit,resnet_basic,vit_basic,resnet_deit",
        "--cells",
        help="Comma-separated cells (vitlab.study.design.CELLS); teachers train first.",
    ),
    seed: int = typer.Option(0, "--seed", help="The seed to train."),
    pack_to: str = typer.Option(
        None,
        "--pack-to",
        help="Pack each cell's resume state here every 10 minutes and restore from it into an empty cache.",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No training progress on the terminal."),
    jobs: int = typer.Option(
        1,
        "--jobs",
        "-j",
        min=1,
        help="Cells trained at a time, each with its share of the cores (two on 2 cores: 1.2-1.3x the images/s).",
    ),
    smoke: bool = typer.Option(
        False, "--smoke", help="A seconds-long schedule (2 epochs of 3 steps), to check the path."
    ),
):
    """Train the cells for one seed in the cache, measuring every epoch's snapshot; a rerun resumes."""
    from vitlab.study import design, runner

    schedule = design.SMOKE if smoke else design.SCHEDULE
    runner.train(
        [c.strip() for c in cells.split(",") if c.strip()],
        seed,
        pack_to=pack_to,
        quiet=quiet,
        schedule=schedule,
        jobs=jobs,
    )


@app.command("status")
def status_command(seed: int = typer.Option(0, "--seed", help="The seed to show.")):
    """Each cell's state in the cache: status, latest validation accuracy and step, snapshots measured."""
    from vitlab.study import runner

    for row in runner.summary(seed):
        accuracy = "-" if row["val_accuracy"] is None else f"{row['val_accuracy']:.3f} at step {row['steps']}"
        line = f"{row['cell']:<24} {row['status']:<12} {accuracy:<24} snapshots measured: {row['snapshots']}"
        if row["status"] == "running" and row["done"] is not None and row["total"]:
            line += f"  step {row['done']:,}/{row['total']:,}"
            if row["s_per_step"]:
                left = (row["total"] - row["done"]) * row["s_per_step"] / 3600
                line += f", {row['s_per_step']:.2f} s/step, about {left:.1f} h left at that pace"
        typer.echo(line)


@app.command("controls")
def controls_command(
    seed: int = typer.Option(0, "--seed", help="The seed whose cells are measured."),
    cells: str = typer.Option("vit_deit,resnet_basic,vit_basic,resnet_deit", "--cells", help="Comma-separated cells."),
    limit: int = typer.Option(1000, "--limit", min=1, help="Test images (the first N, the same for every model)."),
):
    """Occlusion controls on each cell's newest model: fill (black, mean, noise), grid offset, foreground vs background."""
    from vitlab.study import controls, design, runner

    for name in [c.strip() for c in cells.split(",") if c.strip()]:
        if name not in design.CELLS:
            raise typer.BadParameter(f"unknown study cell {name!r}; cells: {', '.join(design.CELLS)}")
        measured = controls.measure_cell(runner.cell_dir(seed, name), limit)
        typer.echo(f"{name:<24} {', '.join(measured) or 'no model yet'}")


@app.command("report")
def report_command(
    seeds: str = typer.Option("0,1,2", "--seeds", help="Comma-separated seeds."),
    packs: str = typer.Option(
        "state/study", "--packs", help="Where cells the cache lacks are read from (their packs)."
    ),
    output: str = typer.Option(
        "docs/study_results.md", "-o", "--output", help="The markdown to write (and a .png beside it)."
    ),
):
    """Learning curves, retention per cell and the architecture x recipe interaction, from the cells' records."""
    from vitlab.commands.arguments import parse_seeds
    from vitlab.study import report

    chosen = parse_seeds(seeds)
    command = f"vitlab study report --seeds {','.join(map(str, chosen))}"
    typer.echo(str(report.write(chosen, output, packs, command)))


@app.command("claims")
def claims_command(
    seeds: str = typer.Option("0", "--seeds", help="Comma-separated seeds whose cells are measured."),
    cells: str = typer.Option(
        "", "--cells", help="Comma-separated cells; default: every cell with a final model, once resnet_basic has one."
    ),
    pack_to: str = typer.Option(
        None, "--pack-to", help="Restore cells the cache lacks from here, and pack each measured cell here."
    ),
    smoke: bool = typer.Option(False, "--smoke", help="64 images per experiment, to check the path."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress on the terminal."),
):
    """The paper's other claims (correlation, shuffle, shape bias, tokens, segmentation, mCE, PGD, probes)
    on each trained cell's final model; one resumable run per cell, measured once."""
    from vitlab.commands.arguments import parse_seeds
    from vitlab.study import claims, design, runner

    chosen = [c.strip() for c in cells.split(",") if c.strip()]
    for seed in parse_seeds(seeds):
        if pack_to:
            for name in design.CELLS:
                runner.unpack(name, seed, pack_to)
        if not chosen and not runner.model_file(seed, claims.BASELINE).exists():
            typer.echo(
                f"seed {seed}: nothing measured: {claims.BASELINE}, every cell's mCE baseline, is not trained yet"
            )
            continue
        for name in chosen or claims.cells_ready(seed):
            if claims.is_done(claims.run_dir(seed, name)):
                typer.echo(f"seed {seed}, {name:<24} measured already: {claims.run_dir(seed, name)}")
                continue
            target = claims.measure_cell(seed, name, smoke=smoke, quiet=quiet)
            if pack_to:
                runner.pack(name, seed, pack_to)
            typer.echo(f"seed {seed}, {name:<24} {target}")


@app.command("findings")
def findings_command(
    seeds: str = typer.Option("0,1,2", "--seeds", help="Comma-separated seeds."),
    packs: str = typer.Option("state/study", "--packs", help="Where cells the cache lacks are read from."),
    output: str = typer.Option("docs/findings.md", "-o", "--output", help="The markdown to write."),
):
    """The paper's claims re-tested on the measured cells: the paper's comparison beside the same-recipe pairs."""
    from vitlab.commands.arguments import parse_seeds
    from vitlab.study import claims_report

    chosen = parse_seeds(seeds)
    command = f"vitlab study findings --seeds {','.join(map(str, chosen))}"
    typer.echo(str(claims_report.write(chosen, output, packs, command)))


@app.command("publish")
def publish_command(
    seed: int = typer.Option(0, "--seed", help="The seed whose cells are published."),
    cells: str = typer.Option(..., "--cells", help="Comma-separated finished cells."),
    to: str = typer.Option(..., "--to", help="The folder that receives CELL.keras and its card CELL.json."),
):
    """Copy finished cells' final models with their cards (training, accuracy, target reached, sha256)."""
    from vitlab.study import publish

    for card in publish.publish(seed, [c.strip() for c in cells.split(",") if c.strip()], to):
        reached = "reached" if card["target_reached"] else "missed"
        typer.echo(f"{card['role']:<24} val top-1 {card['clean_accuracy']:.3f}, target {card['target']} {reached}")
