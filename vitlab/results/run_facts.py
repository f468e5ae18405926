"""What a run is at a glance, read from its run.json alone: every model it touched and its
headline number. `vitlab runs list` and the dashboard both show these, so they agree.

Pure Python on purpose: the dashboard calls it for hundreds of runs and never loads
TensorFlow, Keras or even NumPy for it.
"""

import fnmatch


def _names(value):
    """A list of model names from a run.json field (a list, one name, or nothing)."""
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value if item not in (None, "")]
    return []


def models_of(info):
    """Every model a run trained or evaluated, in order, each once.

    run.json's `models` holds them for runs recorded today; a recipe run from before that
    recorded only its training steps, so its resolved recipe (`config`) fills in the models
    its evaluate steps named (zoo:vit, registry names, step names)."""
    models = _names(info.get("models"))
    config = info.get("config")
    if info.get("kind") == "recipe" and isinstance(config, dict):
        for step in config.get("train") or []:
            if isinstance(step, dict):
                models += _names(step.get("name"))
        for step in config.get("evaluate") or []:
            if isinstance(step, dict):
                models += _names(step.get("models"))
    return list(dict.fromkeys(models))


def headline_pattern(info):
    """The summary key (or fnmatch pattern) a run names as its headline, '' when none."""
    pattern = info.get("headline")
    if not pattern and isinstance(info.get("config"), dict):
        pattern = info["config"].get("headline")  # a recipe's resolved top-level key
    return pattern if isinstance(pattern, str) else ""


def pick_headline(summary, pattern=""):
    """(key, value) of the headline: the first summary key matching `pattern` (a key or an
    fnmatch pattern such as 'occlusion/top1_random_*/vit'); without a pattern, the first
    entry. None when there is no such entry (yet: the step that writes it has not run)."""
    if not isinstance(summary, dict) or not summary:
        return None
    if not pattern:
        key = next(iter(summary))
        return key, summary[key]
    if pattern in summary:
        return pattern, summary[pattern]
    for key, value in summary.items():
        if fnmatch.fnmatchcase(str(key), pattern):
            return key, value
    return None


def headline(info):
    """The headline (key, value) of a run.json dict, or None."""
    return pick_headline(info.get("summary"), headline_pattern(info))
