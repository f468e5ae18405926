"""Run an experiment inside a run directory: the one path shared by `vitlab eval`, recipes
and the TUI's launches (which call `vitlab eval` as a subprocess).

It resolves models, loads the dataset, records the step in run.json and events.jsonl,
stores the result in results.h5 and refreshes the report.
"""

import dataclasses
import time

from vitlab import config as config_lib
from vitlab import experiments
from vitlab.experiments.run_context import Context


def resolve_model(spec, num_classes=None, image_size=None, loaded=None):
    """A ModelAdapter for a model spec (vitlab.model_spec: registry name, .keras, RUN_DIR[:NAME]).

    `loaded`, a dict a recipe run keeps, loads each saved model once per run (the demo names
    one zoo model in up to eight steps) and hands every step its own adapter around it.
    Registry names are built afresh each time: they stand for new random weights."""
    from vitlab import model_spec
    from vitlab.models.adapter import resolve

    if loaded is None or model_spec.expand(spec).kind == "registry":
        return resolve(spec, num_classes=num_classes, image_size=image_size)
    key = str(spec)  # a file or run model: num_classes and image_size do not change what is loaded
    if key not in loaded:
        loaded[key] = resolve(spec, num_classes=num_classes, image_size=image_size)
    return dataclasses.replace(loaded[key])


def already_done(run, step):
    """The stored result of a step that a resumed run has finished (saying so), else None:
    checked before any model or data is loaded for it."""
    if run is not None and run.step_done(step):
        run.event("step", step=step, message=f"{step}: already done, skipped")
        return run.result(step)
    return None


def unique_names(adapters):
    """Give every adapter a distinct name (results are keyed by model name)."""
    seen = {}
    for adapter in adapters:
        base = adapter.name
        count = seen.get(base, 0)
        seen[base] = count + 1
        if count:
            adapter.name = f"{base}#{count + 1}"
    return adapters


def execute(experiment_name, adapters, data, config, context=None):
    """Validate, check requirements (one clear error, before any work), run; the Result."""
    experiment = experiments.get(experiment_name)
    context = context or Context()
    experiment.verify(adapters, data, config)
    result = experiment.run(adapters, data, config, context)
    result.config = {**dataclasses.asdict(config), **(result.config or {})}
    return result


def run_step(run, step, experiment_name, adapters, data, config, seed=0, quiet=False):
    """Run one experiment as a step of `run`; skip it when a resumed run already has it."""
    done = already_done(run, step)
    if done is not None:
        return done
    experiment = experiments.get(experiment_name)
    experiment.verify(adapters, data, config)
    context = Context(run=run, seed=seed, step=step, quiet=quiet)
    if run is not None:
        run.mark_step(step, "running")
        run.event(
            "step", step=step, message=f"{step}: started", experiment=experiment.name, models=[a.name for a in adapters]
        )
    started = time.time()
    result = experiment.run(adapters, data, config, context)
    result.config = {**dataclasses.asdict(config), **(result.config or {})}
    elapsed = time.time() - started
    if run is not None:
        run.write_result(result, key=step)
        run.mark_step(step, "done")
        run.event(
            "step",
            step=step,
            message=f"{step}: done in {elapsed:.1f}s",
            elapsed_s=round(elapsed, 3),
            summary=result.summary,
        )
    return result


def build_config(experiment_name, values=None, overrides=()):
    """The experiment's Config from recipe values and `key=value` overrides, validated."""
    experiment = experiments.get(experiment_name)
    try:
        return config_lib.build(experiment.Config, values, overrides)
    except config_lib.ConfigError as error:
        raise config_lib.ConfigError(f"{experiment.name}: {error}") from None
