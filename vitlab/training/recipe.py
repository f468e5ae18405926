"""Recipes: TOML files turned into a validated, fully typed plan before anything runs.

Layout of a recipe (every key optional unless said otherwise):

    name, description, seed, smoke, strategy, precision, log_every   top-level keys
    headline                              summary key or pattern the run lists show
    [data] [augment] [optim] [distill]    defaults for every training step
    [model]                               a single-model recipe (saved as models/final.keras)
    [[train]] name, model, drop_path_rate, [train.data] ... [train.distill]
    [[evaluate]] experiment, models, dataset, split, limit, batch_size, set = {...}
    [export] models, top_k                [smoke] epochs, limit, eval_limit
    [paths] NAME = "DIR"                  folders the evaluate steps name as {NAME} (dataset, models, set)

`--set` overrides: `seed=1`, `smoke=true`, `paths.imagenet=/data/val`, `optim.epochs=3` (every step),
`deit.optim.epochs=3` (step `deit`), `occlusion.limit=64`, `occlusion.set.levels=0,0.5`.
Values are typed by the same parser as experiment configs; errors name file and key.
"""

import dataclasses
import fnmatch
from importlib import resources
from pathlib import Path

import tomllib

from vitlab import config as config_lib
from vitlab import model_spec
from vitlab.config import ConfigError
from vitlab.errors import UserError
from vitlab.training import recipe_paths
from vitlab.training import recipe_sections as S


@dataclasses.dataclass
class TrainStep:
    name: str
    model: str
    drop_path_rate: float
    data: S.DataSection
    augment: S.AugmentSection
    optim: S.OptimSection
    distill: S.DistillSection

    @property
    def key(self):
        return f"train:{self.name}"


@dataclasses.dataclass
class EvaluateStep:
    fields: S.EvaluateFields
    config: object  # the experiment's Config dataclass, or None when the experiment is missing
    overrides: dict
    crop: object = None  # evaluation.CropOptions: `set` keys crop_pct / interpolation (None: the model's)

    @property
    def name(self):
        return self.fields.name or self.fields.experiment

    @property
    def key(self):
        return self.name


@dataclasses.dataclass
class Recipe:
    path: str
    top: S.TopLevel
    train: list
    evaluate: list
    export: S.ExportSection
    smoke: S.SmokeSection
    resolved: dict  # JSON-able, stored in run.json

    @property
    def name(self):
        return self.top.name or Path(self.path).stem

    @property
    def models(self):
        """Every model the run trains or evaluates (step names, zoo:/registry specs), each once:
        what run.json lists, so the runs list shows the models a study compares."""
        names = [t.name for t in self.train] + [m for e in self.evaluate for m in e.fields.models]
        return list(dict.fromkeys(names))


def recipe_dir():
    return resources.files("vitlab.recipes")


def list_recipes():
    """[(name, first header line)] of the shipped recipes."""
    rows = []
    for entry in sorted(recipe_dir().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            text = entry.read_text()
            first = next((ln.lstrip("# ").strip() for ln in text.splitlines() if ln.startswith("#")), "")
            rows.append((entry.name[:-5], first))
    return rows


def find(name_or_path):
    """The path of a shipped recipe name or of a TOML file (a bare name that is also a folder
    here, like the repository's zoo/, is the shipped recipe)."""
    path = Path(name_or_path)
    looks_like_path = "/" in str(name_or_path) or str(name_or_path).startswith(("~", "."))
    if path.suffix == ".toml" or path.is_file() or (path.exists() and looks_like_path):
        if not path.is_file():
            raise ConfigError(f"recipe file {path} does not exist")
        return path
    entry = recipe_dir() / f"{name_or_path}.toml"
    if not entry.is_file():
        names = ", ".join(n for n, _ in list_recipes())
        raise ConfigError(f"unknown recipe {name_or_path!r}; shipped recipes: {names} (or give a .toml path)")
    return Path(str(entry))


def load(name_or_path, overrides=(), check_data=True):
    """Read, override and validate a recipe; raises one ConfigError naming file and key."""
    path = find(name_or_path)
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    try:
        recipe = _build(path, raw, _parse_overrides(overrides))
        _check_references(recipe, check_data)
    except UserError as error:  # unknown model, experiment or dataset names too
        raise ConfigError(f"{path}: {error}") from None
    recipe.resolved["overrides"] = list(overrides)
    return recipe


def from_run(run):
    """The recipe a run was started with (file and overrides from its run.json), for --resume."""
    config = run.read_info().get("config") or {}
    if "path" not in config:
        raise ConfigError(f"{run.path}: not a recipe run (run.json has no recipe path)")
    return load(config["path"], config.get("overrides", []))


def _parse_overrides(overrides):
    """['a.b=c'] -> [(['a', 'b'], 'c')]; the text is typed later against the right dataclass."""
    parsed = []
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected section.key=value")
        key, text = item.split("=", 1)
        parsed.append(([p for p in key.strip().split(".") if p], text))
    return parsed


def _section(cls, where, values, texts):
    """config.build with the location prefixed to any error."""
    try:
        return config_lib.build(cls, values, [f"{k}={v}" for k, v in texts.items()])
    except ConfigError as error:
        text = str(error)
        if where and not text.startswith(tuple(f.name for f in dataclasses.fields(cls))):
            raise ConfigError(f"{where.rstrip('.')}: {text}") from None  # 'optim: unknown key ...'
        raise ConfigError(f"{where}{text}") from None  # 'optim.epochs: expected int ...'


def _table(raw, key, where):
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}{key}: expected a table [{key}], got {value!r}")
    return value


def _build(path, raw, overrides):
    step_names = {t.get("name") for t in raw.get("train", []) if isinstance(t, dict)}
    step_names |= {e.get("name") or e.get("experiment") for e in raw.get("evaluate", []) if isinstance(e, dict)}
    top_texts, section_texts, step_texts = {}, {}, {}
    paths = _table(raw, "paths", "")
    for parts, text in overrides:
        if len(parts) == 1:
            top_texts[parts[0]] = text
        elif parts[0] == "paths" and len(parts) == 2:
            paths[parts[1]] = text
        elif parts[0] in S.GLOBAL_SECTIONS and len(parts) == 2:
            section_texts.setdefault(parts[0], {})[parts[1]] = text
        elif parts[0] in step_names and len(parts) >= 2:
            step_texts.setdefault(parts[0], []).append((parts[1:], text))
        else:
            raise ConfigError(
                f"--set {'.'.join(parts)}: no such key (sections: {', '.join(S.GLOBAL_SECTIONS)}; "
                f"steps: {', '.join(sorted(n for n in step_names if n)) or 'none'})"
            )

    known = {f.name for f in dataclasses.fields(S.TopLevel)} | set(S.GLOBAL_SECTIONS) | {"train", "evaluate", "paths"}
    for key in raw:
        if key not in known:
            raise ConfigError(f"unknown key {key!r}; valid keys: {', '.join(sorted(known))}")
    top_values = {
        k: v for k, v in raw.items() if k not in S.GLOBAL_SECTIONS and k not in ("train", "evaluate", "paths")
    }
    top = _section(S.TopLevel, "", top_values, top_texts)
    defaults = {name: _table(raw, name, "") for name in S.GLOBAL_SECTIONS}
    for name, cls in S.GLOBAL_SECTIONS.items():  # type-check the defaults on their own
        _section(cls, f"{name}.", defaults[name], section_texts.get(name, {}))
    smoke = _section(S.SmokeSection, "smoke.", defaults["smoke"], section_texts.get("smoke", {}))
    export = _section(S.ExportSection, "export.", defaults["export"], section_texts.get("export", {}))

    train_raw = raw.get("train", [])
    if not isinstance(train_raw, list):
        raise ConfigError("train: expected [[train]] tables")
    model = _section(S.ModelSection, "model.", defaults["model"], section_texts.get("model", {}))
    if model.name:
        if train_raw:
            raise ConfigError("model: a recipe has either [model] or [[train]] steps, not both")
        train_raw = [{"name": "final", "model": model.name, "drop_path_rate": model.drop_path_rate}]
    train = [
        _train_step(i, t, defaults, section_texts, step_texts, top.smoke and smoke) for i, t in enumerate(train_raw)
    ]
    names = [t.name for t in train]
    if len(set(names)) != len(names):
        raise ConfigError(f"train: step names must be unique, got {names}")

    evaluate_raw = raw.get("evaluate", [])
    if not isinstance(evaluate_raw, list):
        raise ConfigError("evaluate: expected [[evaluate]] tables")
    evaluate_raw = [recipe_paths.fill(e, paths) for e in evaluate_raw]
    evaluate = [_evaluate_step(i, e, step_texts, top.smoke and smoke) for i, e in enumerate(evaluate_raw)]
    for step in evaluate:  # "zoo:vit@{seed}": the recipe's own seed's model (the findings study)
        step.fields.models = [m.replace("{seed}", str(top.seed)) for m in step.fields.models]
    keys = [e.key for e in evaluate] + [t.key for t in train]
    if len(set(keys)) != len(keys):
        raise ConfigError(f"evaluate: step names must be unique; give repeated experiments a name, got {keys}")
    if not train and not evaluate:
        raise ConfigError("the recipe has no [[train]], [model] or [[evaluate]] step")
    _check_headline(top.headline, [e.key for e in evaluate])

    resolved = {
        **dataclasses.asdict(top),
        "train": [dataclasses.asdict(t) for t in train],
        "evaluate": [{**dataclasses.asdict(e.fields), "set": e.overrides} for e in evaluate],
        "export": dataclasses.asdict(export),
        "smoke_sizes": dataclasses.asdict(smoke),
        "path": str(path),
    }
    return Recipe(str(path), top, train, evaluate, export, smoke, resolved)


def _check_headline(headline, step_keys):
    """Summary keys are STEP/METRIC/MODEL and only evaluate steps write them: a headline whose
    first part names no evaluate step would never show (a typo), so it is refused here."""
    if not headline:
        return
    step = headline.split("/", 1)[0]
    if not any(fnmatch.fnmatchcase(key, step) for key in step_keys):
        raise ConfigError(
            f"headline: {headline!r} names no evaluate step (summary keys are STEP/METRIC/MODEL; "
            f"evaluate steps: {', '.join(step_keys) or 'none'})"
        )


def _train_step(index, raw, defaults, section_texts, step_texts, smoke):
    if not isinstance(raw, dict):
        raise ConfigError(f"train[{index}]: expected a table")
    where = f"train[{index}]"
    name = raw.get("name", "")
    where = f"train.{name}." if name else f"{where}."
    texts = step_texts.get(name, [])
    scalar = {k: v for k, v in raw.items() if k not in S.TRAIN_SECTIONS}
    fields = _section(S.TrainFields, where, scalar, {p[0]: t for p, t in texts if len(p) == 1})
    built = {}
    for section, cls in S.TRAIN_SECTIONS.items():
        values = {**defaults[section], **_table(raw, section, where)}
        section_overrides = {
            **section_texts.get(section, {}),
            **{p[1]: t for p, t in texts if len(p) == 2 and p[0] == section},
        }
        built[section] = _section(cls, f"{where}{section}.", values, section_overrides)
    for parts, _ in texts:
        if len(parts) > 2 or (len(parts) == 2 and parts[0] not in S.TRAIN_SECTIONS):
            raise ConfigError(f"--set {name}.{'.'.join(parts)}: no such key in a training step")
    if built["optim"].batch_size % built["augment"].repeats:
        raise ConfigError(
            f"{where}augment.repeats: {built['augment'].repeats} does not divide "
            f"optim.batch_size {built['optim'].batch_size} (each batch repeats its images that often)"
        )
    if smoke:
        built["optim"].epochs = min(built["optim"].epochs, smoke.epochs)
        built["optim"].warmup_epochs = min(built["optim"].warmup_epochs, built["optim"].epochs / 2)
        built["data"].limit = min(built["data"].limit or smoke.limit, smoke.limit)
        built["data"].eval_limit = min(built["data"].eval_limit or smoke.eval_limit, smoke.eval_limit)
        built["data"].dataset = _smoke_dataset(built["data"].dataset, smoke.limit)
        if built["optim"].steps_per_epoch:
            built["optim"].steps_per_epoch = min(
                built["optim"].steps_per_epoch, max(1, smoke.limit // built["optim"].batch_size)
            )
    return TrainStep(fields.name, fields.model, fields.drop_path_rate, **built)


def _smoke_dataset(name, limit):
    """A generated set asked for at a large train_size is generated at the smoke limit instead,
    so a smoke run never spends its time making images it will not read."""
    if not name.startswith(("shapes", "objects64")):
        return name
    head, *pairs = name.split(",")
    shrunk = []
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key.strip() == "train_size" and value.strip().isdigit() and int(value) > limit:
            pair = f"train_size={limit}"
        shrunk.append(pair)
    return ",".join([head, *shrunk])


def _evaluate_step(index, raw, step_texts, smoke):
    from vitlab.experiments import evaluation

    if not isinstance(raw, dict):
        raise ConfigError(f"evaluate[{index}]: expected a table")
    name = raw.get("name") or raw.get("experiment", "")
    where = f"evaluate.{name}." if name else f"evaluate[{index}]."
    texts = step_texts.get(name, [])
    values = {k: v for k, v in raw.items() if k != "set"}
    fields = _section(S.EvaluateFields, where, values, {p[0]: t for p, t in texts if len(p) == 1})
    experiment_values = raw.get("set", {})
    if not isinstance(experiment_values, dict):
        raise ConfigError(f"{where}set: expected a table of experiment settings, got {experiment_values!r}")
    set_texts = [f"{p[1]}={t}" for p, t in texts if len(p) == 2 and p[0] == "set"]
    if any(len(p) > 2 or (len(p) == 2 and p[0] != "set") for p, _ in texts):
        raise ConfigError(f"--set {name}: evaluate steps take {name}.KEY or {name}.set.KEY")
    if smoke:
        fields.limit = min(fields.limit or smoke.eval_limit, smoke.eval_limit)
    try:  # crop_pct / interpolation override the models' stored crop; the rest is the experiment's
        options = evaluation.options(fields.experiment, values=experiment_values, overrides=set_texts)
    except ConfigError as error:
        raise ConfigError(f"{where}set: {error}") from None
    return EvaluateStep(
        fields, options.config, {**experiment_values, **dict(s.split("=", 1) for s in set_texts)}, crop=options.crop
    )


def _check_references(recipe, check_data):
    """Model names, teachers and datasets exist; teachers come from earlier steps."""
    from vitlab.models import get_spec

    earlier = []
    for step in recipe.train:
        get_spec(step.model)
        teacher = step.distill.teacher
        if teacher and teacher not in earlier and not teacher.endswith(".keras"):
            if teacher in [t.name for t in recipe.train]:
                raise ConfigError(f"train.{step.name}.distill.teacher: step {teacher!r} must come before {step.name!r}")
            get_spec(teacher)
        if teacher.endswith(".keras") and check_data and not Path(teacher).is_file():
            raise ConfigError(f"train.{step.name}.distill.teacher: file {teacher} does not exist")
        earlier.append(step.name)
    if check_data:
        recipe_paths.check_unset(recipe.evaluate)
    for step in recipe.evaluate:
        for model in step.fields.models:
            if model in earlier:
                continue
            # without data checks (validation only) a prefix spec (zoo:ROLE) need not be built yet
            ref = model_spec.expand(model) if check_data else model_spec.parse(model)
            if ref.kind == "registry":
                get_spec(model)
    for name in recipe.export.models:
        if name not in earlier:
            raise ConfigError(f"export.models: {name!r} is not a training step (steps: {', '.join(earlier)})")
    if check_data:  # the run path: refuse now what would fail after training
        _check_datasets(recipe)


def _check_datasets(recipe):
    from vitlab import data as data_lib

    describe = getattr(data_lib, "describe", None)
    if describe is None:
        return
    for step in recipe.train:
        for split in filter(None, (step.data.split, step.data.eval_split)):
            info = describe(step.data.dataset, split=split, data_dir=step.data.data_dir or None)
            classes = step.data.num_classes or getattr(info, "num_classes", 2)
            if split == step.data.split and classes is not None and classes < 2:
                names = ", ".join(map(str, getattr(info, "class_names", None) or [])) or "none"
                raise ConfigError(
                    f"train.{step.name}.data.dataset: {step.data.dataset} has {classes} class "
                    f"({names}); training a classifier needs two or more"
                )
    for step in recipe.evaluate:
        describe(step.fields.dataset, split=step.fields.split, data_dir=step.fields.data_dir or None)
