"""One module per command group; each imports only Typer at module level."""
