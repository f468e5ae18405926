"""`vitlab export`: a SavedModel for TF Serving from a .keras model or a run."""

import typer


def export_command(
    run_or_model: str = typer.Argument(..., help="A .keras model, a run directory, or RUN_DIR:NAME."),
    output: str = typer.Option(..., "--output", "-o", help="Directory to write the SavedModel into (must be new)."),
    top_k: int = typer.Option(5, "--top-k", help="How many top classes the signature returns."),
):
    """Export a model as a SavedModel: uint8 images of any size in, probabilities and top-k classes out."""
    from vitlab.errors import UserError
    from vitlab.export import check_target, export_saved_model, export_source

    if top_k < 1:
        raise UserError(f"--top-k: expected 1 or more, got {top_k}")
    check_target(output)  # before loading anything
    model, class_names = export_source(run_or_model)
    path = export_saved_model(model, output, class_names=class_names, top_k=top_k)
    typer.echo(f"SavedModel: {path} (signature serving_default: images uint8 [N,H,W,3])")
