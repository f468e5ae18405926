"""`vitlab zoo`: the study's trained models: build (train, card, publish), list, show."""

import json

import typer

from vitlab.commands.arguments import parse_seeds

app = typer.Typer(help="The study's trained models (zoo:ROLE, zoo:ROLE@SEED): build, list, show.", no_args_is_help=True)


@app.command("build")
def build_command(
    seeds: str = typer.Option("0,1,2", "--seeds", help="Comma-separated seeds to build."),
    out: str = typer.Option(None, "--out", help="Publish into this folder (default: the cache's zoo/seed-N)."),
    set_: list[str] = typer.Option([], "--set", help="Override of the zoo recipe (as `recipe run --set`)."),
    eval_limit: int = typer.Option(
        None, "--eval-limit", help="Cards measure accuracy on this many test images (default: the whole test split)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No training progress on the terminal."),
    pack_to: str = typer.Option(
        None,
        "--pack-to",
        help="Pack each seed's finished roles into this folder as they finish (`vitlab zoo pack`), to carry the build.",
    ),
):
    """Train the study's seven models per seed (resumable after a kill), then card and publish them."""
    from vitlab.zoo import build

    chosen = parse_seeds(seeds)
    if out and len(chosen) > 1:
        from vitlab.errors import UserError

        raise UserError("--out publishes one seed; give --seeds with a single seed")
    build.build(chosen, out=out, overrides=set_, quiet=quiet, say=typer.echo, eval_limit=eval_limit, pack_to=pack_to)


@app.command("publish")
def publish_command(
    seed: int = typer.Option(0, "--seed", help="The seed whose finished models to publish."),
    out: str = typer.Option(None, "--out", help="Publish into this folder (default: the cache's zoo/seed-N)."),
    eval_limit: int = typer.Option(None, "--eval-limit", help="Cards measure accuracy on this many test images."),
):
    """Card and publish the models of a (partly) built seed that have finished training."""
    from vitlab.zoo import build

    destination, roles = build.publish_finished(seed, out=out, say=typer.echo, eval_limit=eval_limit)
    typer.echo(f"zoo seed {seed}: {len(roles)} of 7 roles published in {destination}: {', '.join(roles)}")


@app.command("pack")
def pack_command(
    seed: int = typer.Option(..., "--seed", help="The seed whose build to pack."),
    out: str = typer.Option(..., "--out", "-o", help="Folder to write SEED's pack into (as OUT/seed-N)."),
):
    """Copy a build's finished models and run record (no checkpoints) to carry it to another machine."""
    from vitlab.zoo import pack

    target, roles = pack.pack(seed, out)
    typer.echo(
        f"zoo seed {seed}: packed {len(roles)} of 7 finished roles into {target}"
        + (f": {', '.join(roles)}" if roles else "")
    )


@app.command("unpack")
def unpack_command(
    source: str = typer.Argument(..., help="A pack folder (OUT/seed-N of `vitlab zoo pack`), or OUT with --seed."),
    seed: int = typer.Option(None, "--seed", help="Which seed of OUT to unpack."),
):
    """Restore a packed build into the cache; `vitlab zoo build` then trains only the roles left."""
    from vitlab.zoo import pack

    packed, roles = pack.unpack(source, seed)
    typer.echo(
        f"zoo seed {packed}: unpacked {len(roles)} finished roles into the cache"
        + (f" ({', '.join(roles)})" if roles else "")
        + f"; `vitlab zoo build --seeds {packed}` trains the rest"
    )


@app.command("list")
def list_command(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")):
    """Every zoo model present: spec, architecture, clean accuracy."""
    from vitlab import zoo

    rows = zoo.entries()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo(f"no zoo models yet: none shipped in {zoo.shipped_dir()}; `vitlab zoo build` trains them")
        return
    width = max(len(r["spec"]) for r in rows)
    for row in rows:
        typer.echo(
            f"{row['spec']:<{width}}  {row['architecture']:<30}  top-1 {row['clean_accuracy']:.3f} "
            f"({row['eval_dataset']})"
        )


@app.command("show")
def show_command(spec: str = typer.Argument(..., help="zoo:ROLE or zoo:ROLE@SEED")):
    """A zoo model's card."""
    from vitlab import zoo

    path = zoo.model_path(spec if zoo.is_zoo_spec(spec) else zoo.PREFIX + spec)
    typer.echo(json.dumps({**(zoo.read_card(path) or {}), "path": str(path)}, indent=2))
