"""The body of `vitlab eval NAME` (kept out of the command module so --help stays light)."""

from vitlab.experiments import runner
from vitlab.results import RunStore
from vitlab.results.run_status import active


def evaluate(name, model_specs, dataset, split="test", limit=None, batch_size=64, seed=0, overrides=(),
             out=None, runs_root="runs", data_dir=None, quiet=False):
    """Validate everything first (config, models, dataset), then create the run and execute."""
    import keras

    from vitlab import data as data_lib
    from vitlab import experiments

    config = runner.build_config(name, overrides=overrides)
    keras.utils.set_random_seed(seed)  # registry names build the same random weights on every run
    dataset_info = data_lib.describe(dataset, split=split, data_dir=data_dir)
    adapters = [runner.resolve_model(spec, num_classes=dataset_info.num_classes) for spec in model_specs]
    runner.unique_names(adapters)
    data = data_lib.load(dataset, split=split, image_size=adapters[0].image_size, batch_size=batch_size,
                         limit=limit, seed=seed, data_dir=data_dir, **data_lib.eval_crop(adapters[0]))
    experiments.get(name).verify(adapters, data, config)  # refuse before a run directory exists
    store = RunStore(runs_root)
    run = store.create(
        name=name, kind="eval", seed=seed, models=[a.name for a in adapters], dataset=dataset,
        config={"experiment": name, "models": list(model_specs), "dataset": dataset, "split": split,
                "limit": limit, "batch_size": batch_size, "overrides": list(overrides), "data_dir": data_dir,
                "preprocessing": data.preprocessing},
        path=out,
    )
    if not quiet:
        print(f"run: {run.path}", flush=True)
    with active(run):
        result = runner.run_step(run, name, name, adapters, data, config, seed=seed, quiet=quiet)
        skipped = getattr(data, "skipped_files", None)
        if skipped:
            run.event("log", message=f"{len(skipped)} unreadable files skipped: {', '.join(map(str, skipped[:10]))}")
    if not quiet:
        for key, value in result.summary.items():
            print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
        print(f"report: {run.path / 'report' / 'index.md'}")
    return run
