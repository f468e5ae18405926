"""The body of `vitlab eval NAME` and of `vitlab.evaluate(..., run_dir=...)`: a stored run
around the shared evaluation path (kept out of the command module so --help stays light)."""

from vitlab.experiments import evaluation
from vitlab.results import RunStore
from vitlab.results.run_status import active


def evaluate(options, model_specs, dataset, out=None, runs_root="runs", quiet=False, overrides=()):
    """Validate everything first (options, models, dataset), then create the run and execute.

    options: an evaluation.Options (the CLI builds it from `--set`); overrides: the `--set`
    texts as typed, recorded for provenance only."""
    prepared = evaluation.prepare(options, model_specs, dataset)
    store = RunStore(runs_root)
    run = store.create(
        name=options.experiment,
        kind="eval",
        seed=options.seed,
        models=[a.name for a in prepared.adapters],
        dataset=dataset,
        config={
            **prepared.record(),
            "models": [str(m) for m in model_specs],
            "dataset": dataset,
            "overrides": list(overrides),
        },
        path=out,
    )
    if not quiet:
        print(f"run: {run.path}", flush=True)
    with active(run):
        result = evaluation.execute(prepared, run=run, quiet=quiet)
    if not quiet:
        for key, value in result.summary.items():
            print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
        print(f"report: {run.path / 'report' / 'index.md'}")
    return run
