"""`vitlab models list|show`: the registry, with configs and parameter counts."""

import json

import typer

app = typer.Typer(help="List and inspect the registered models.", no_args_is_help=True)


@app.command("list")
def list_command(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")):
    """The trained zoo models (zoo:ROLE), then every registered name (randomly initialised)."""
    from vitlab import zoo
    from vitlab.models import registry

    trained = [{"name": e["spec"], "family": "zoo", "image_size": e["image_size"], "timm": None, "trained": True,
                "description": f"{e['architecture']}, {e['description']}; top-1 {e['clean_accuracy']:.3f} on "
                               f"{e['eval_dataset']}"} for e in zoo.entries()]
    rows = []
    for name in registry.list_models():
        spec = registry.get_spec(name)
        rows.append({"name": name, "family": spec.family, "image_size": spec.image_size,
                     "timm": spec.timm_name, "trained": False, "description": spec.description})
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


@app.command("show")
def show_command(
    name: str = typer.Argument(..., help="Registry name, e.g. deit_small_distilled_patch16_224."),
    num_classes: int = typer.Option(None, help="Override the number of classes."),
    image_size: int = typer.Option(None, help="Override the input size."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
):
    """The resolved config and the parameter count (counted as timm counts them)."""
    from vitlab import models

    spec = models.get_spec(name)
    model = models.create(name, num_classes=num_classes, image_size=image_size)
    info = {
        "name": name,
        "family": spec.family,
        "timm_name": spec.timm_name,
        "parameters": models.parameter_count(model),
        "config": model.get_config(),
        "preprocessing": {"mean": list(model.mean), "std": list(model.std), "crop_pct": spec.crop_pct,
                          "interpolation": spec.interpolation, "image_size": model.image_size},
    }
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    typer.echo(f"{name}  ({spec.description})")
    typer.echo(f"parameters: {info['parameters']:,}")
    for key, value in info["config"].items():
        typer.echo(f"  {key}: {value}")
    typer.echo(f"preprocessing: {info['preprocessing']}")
