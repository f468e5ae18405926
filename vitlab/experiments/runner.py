"""Run an experiment inside a run directory: the one path shared by `vitlab eval`, recipes
and the TUI's launches (which call `vitlab eval` as a subprocess).

It resolves models, loads the dataset, records the step in run.json and events.jsonl,
stores the result in results.h5 and refreshes the report.
"""

import dataclasses
import time
from pathlib import Path

from vitlab import config as config_lib
from vitlab import experiments
from vitlab.errors import UserError
from vitlab.experiments.context import Context


def resolve_model(spec, num_classes=None, image_size=None):
    """A ModelAdapter for a registry name, a zoo model (zoo:ROLE[@SEED]), a .keras file, or a
    model inside a run directory.

    Run directories: RUN_DIR (its only model, or the one named `final`), or RUN_DIR:NAME.
    A registry name builds a randomly initialised model (useful for tests and timing).
    """
    from vitlab import models
    from vitlab.models.adapter import ModelAdapter

    text = str(spec)
    from vitlab import zoo

    if zoo.is_zoo_spec(text):  # named by role, as the study's claims and reports name models
        return ModelAdapter(models.load(str(zoo.model_path(text))), name=zoo.parse(text)[0])
    path_text, _, member = text.partition(":") if ":" in text and not text.endswith(".keras") else (text, "", "")
    path = Path(path_text)
    if text.endswith(".keras"):
        if not path.exists():
            raise UserError(f"model file {text} does not exist")
        return ModelAdapter(models.load(text), name=path.stem)
    if path.is_dir():
        candidates = sorted((path / "models").glob("*.keras"))
        if member:
            candidates = [c for c in candidates if c.stem == member]
        elif len(candidates) > 1:
            finals = [c for c in candidates if c.stem == "final"]
            candidates = finals or candidates
        if len(candidates) != 1:
            names = ", ".join(c.stem for c in sorted((path / "models").glob("*.keras"))) or "none"
            raise UserError(f"{path}: choose a model with {path}:NAME (models there: {names})")
        return ModelAdapter(models.load(str(candidates[0])), name=f"{path.name}:{candidates[0].stem}")
    overrides = {}
    if num_classes:
        overrides["num_classes"] = num_classes
    if image_size:
        overrides["image_size"] = image_size
    return ModelAdapter(models.create(text, **overrides), name=text)


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


def run_step(run, step, experiment_name, adapters, data, config, seed=0, quiet=False):
    """Run one experiment as a step of `run`; skip it when a resumed run already has it."""
    if run is not None and run.step_done(step):
        run.event("step", step=step, message=f"{step}: already done, skipped")
        return run.result(step)
    experiments.require_backend(experiment_name)
    module = experiments.get(experiment_name)
    context = Context(run=run, seed=seed, step=step, quiet=quiet)
    if run is not None:
        run.mark_step(step, "running")
        run.event("step", step=step, message=f"{step}: started", experiment=experiment_name,
                  models=[a.name for a in adapters])
    started = time.time()
    result = module.run(adapters, data, config, context)
    result.config = {**dataclasses.asdict(config), **(result.config or {})}
    elapsed = time.time() - started
    if run is not None:
        run.write_result(result, key=step)
        run.mark_step(step, "done")
        run.event("step", step=step, message=f"{step}: done in {elapsed:.1f}s", elapsed_s=round(elapsed, 3),
                  summary=result.summary)
    return result


def build_config(experiment_name, values=None, overrides=()):
    module = experiments.get(experiment_name)
    try:
        return config_lib.build(module.Config, values, overrides)
    except config_lib.ConfigError as error:
        raise config_lib.ConfigError(f"{experiment_name}: {error}") from None
