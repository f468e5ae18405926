"""`vitlab models list|show`: the registry, with configs and parameter counts."""

import json

import typer

app = typer.Typer(help="List and inspect the registered models.", no_args_is_help=True)


@app.command("list")
def list_command(
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    paper: bool = typer.Option(False, "--paper", help="The paper's models: timm tags and vitlab specs."),
):
    """The trained zoo models (zoo:ROLE), then every registered name (randomly initialised)."""
    if paper:
        _paper(as_json)
        return
    from vitlab import zoo
    from vitlab.models import registry

    trained = [
        {
            "name": e["spec"],
            "family": "zoo",
            "image_size": e["image_size"],
            "timm": None,
            "trained": True,
            "description": f"{e['architecture']}, {e['description']}; top-1 {e['clean_accuracy']:.3f} on "
            f"{e['eval_dataset']}",
        }
        for e in zoo.entries()
    ]
    rows = []
    for name in registry.list_models():
        spec = registry.get_spec(name)
        rows.append(
            {
                "name": name,
                "family": spec.family,
                "image_size": spec.image_size,
                "timm": spec.timm_name,
                "trained": False,
                "description": spec.description,
            }
        )
    if as_json:
        typer.echo(json.dumps(trained + rows, indent=2))
        return
    width = max(len(r["name"]) for r in trained + rows)
    if trained:
        typer.echo("trained (the zoo; `vitlab zoo show SPEC` prints a card):")
        for row in trained:
            typer.echo(f"  {row['name']:<{width}}  {row['image_size']:>3}px  {row['description']}")
        typer.echo("untrained (registry names: random initialisation, or `vitlab weights import`):")
    for row in rows:
        typer.echo(f"{row['name']:<{width}}  {row['family']:<6}  {row['image_size']:>3}px  {row['description']}")


def _paper(as_json):
    import dataclasses

    from vitlab.protocol.models import PAPER_MODELS

    if as_json:
        typer.echo(json.dumps([dataclasses.asdict(m) for m in PAPER_MODELS], indent=2))
        return
    width = max(len(m.label) for m in PAPER_MODELS)
    spec_width = max(len(m.spec) for m in PAPER_MODELS)
    typer.echo("the paper's models (docs/protocol.md): paper name, vitlab -m, weights")
    for m in PAPER_MODELS:
        weights = m.weights.rsplit("/", 1)[-1]
        typer.echo(
            f"  {m.label:<{width}}  {m.spec or 'not built':<{spec_width}}  {weights}"
            + (f"  ({m.note})" if m.note else "")
        )


@app.command("show")
def show_command(
    name: str = typer.Argument(
        ...,
        help="Registry name or timm tag (resnet50.tv_in1k), a .keras file, a run "
        "directory (RUN_DIR[:NAME]) or zoo:ROLE.",
    ),
    num_classes: int = typer.Option(None, help="Override the number of classes (registry names)."),
    image_size: int = typer.Option(None, help="Override the input size (registry names)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
):
    """The resolved config, the parameter count (counted as timm counts them) and the preprocessing
    the model is evaluated with (stored in it, or the paper's default when it stores none)."""
    from vitlab import model_spec, models
    from vitlab.models import preprocessing

    ref = model_spec.expand(name)
    if ref.kind == "registry":
        spec = models.get_spec(ref.target)
        model = models.create(ref.target, num_classes=num_classes, image_size=image_size)
        family, timm_name, description = spec.family, spec.timm_name, spec.description
    else:
        from vitlab.models.adapter import resolve

        model = resolve(name).model
        family, timm_name, description = type(model).__name__, None, f"loaded from {ref.target}"
    info = {
        "name": name,
        "family": family,
        "timm_name": timm_name,
        "parameters": models.parameter_count(model),
        "config": model.get_config(),
        "preprocessing": preprocessing.of(model).record(),
    }
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    typer.echo(f"{name}  ({description})")
    typer.echo(f"parameters: {info['parameters']:,}")
    for key, value in info["config"].items():
        typer.echo(f"  {key}: {value}")
    typer.echo(f"preprocessing: {info['preprocessing']}")
