"""Linear probe on frozen per-block features (the paper's off-the-shelf transfer, Fig. 12).

Features come from the cache (extracted once per model, split and preprocessing). Each
block and token kind (after the final LayerNorm, as the official models/models.py), and the
concatenations of the last 4 (the paper's) / all class tokens, are scored by the official
probe (one linear layer, AdamW, best and last of 10 epochs; default; a model's probes are
trained together, features/batched_probes.py) and/or scikit-learn logistic regression (C by
cross-validation on the training split).
"""

import dataclasses

from vitlab.config import ConfigError
from vitlab.experiments.base import FROZEN_FEATURE_METRICS, Experiment, Requires
from vitlab.features import shared
from vitlab.features.summary import Score, block_curves, headline, model_tables, score_arrays
from vitlab.protocol import probe as probe_protocol
from vitlab.results import Result

METHODS = {
    "logistic": "logistic regression top-1",
    "linear": "linear layer (AdamW, best epoch) top-1",
    "linear_last": "linear layer (AdamW, last epoch) top-1",
}


@dataclasses.dataclass
class Config(shared.FeatureOptions):
    method: str = "linear"  # linear (the official probe, vitlab/protocol/probe.py) | logistic (scikit-learn) | both
    c_grid: list[float] = dataclasses.field(default_factory=lambda: [0.01, 0.1, 1.0])
    cv_folds: int = 3
    cv_max_rows: int = 10000  # C is chosen on a stratified subset this large; the final fit uses all
    max_iter: int = 200
    n_jobs: int = 2
    epochs: int = probe_protocol.PROBE_EPOCHS  # the official probe's settings: vitlab/protocol/probe.py
    learning_rate: float = probe_protocol.PROBE_LEARNING_RATE  # AdamW (none on the bias)
    weight_decay: float = probe_protocol.PROBE_WEIGHT_DECAY
    probe_batch_size: int = probe_protocol.PROBE_BATCH_SIZE  # last partial batch dropped

    def validate(self):
        super().validate()
        if self.method not in ("logistic", "linear", "both"):
            raise ConfigError(f"method: {self.method!r} is not one of logistic, linear, both")
        if not self.c_grid or min(self.c_grid) <= 0:
            raise ConfigError(f"c_grid: needs positive values, got {self.c_grid}")

    @property
    def methods(self):
        return ["logistic", "linear"] if self.method == "both" else [self.method]


def _logistic(train_x, train_y, test_x, test_y, config, seed):
    from vitlab.features import probes

    return probes.logistic_probe(
        train_x,
        train_y,
        test_x,
        test_y,
        c_grid=config.c_grid,
        cv_folds=config.cv_folds,
        cv_max_rows=config.cv_max_rows,
        max_iter=config.max_iter,
        n_jobs=config.n_jobs,
        seed=seed,
    )


def _linear_all(train, test, sets, train_y, test_y, num_classes, config, seed):
    """The official probe of every feature set, all trained together (features/batched_probes.py:
    the per-probe path's arithmetic, without its per-probe Keras overhead); each distinct
    (block, kind) is read once. Returns the scores and each set's feature width."""
    from vitlab.features import batched_probes

    parts = list(dict.fromkeys(part for _, _, set_parts in sets for part in set_parts))
    index = {part: i for i, part in enumerate(parts)}
    train_x = [train.read(*part) for part in parts]
    scores = batched_probes.linear_layer_probes(
        train_x,
        train_y,
        [test.read(*part) for part in parts],
        test_y,
        [[index[part] for part in set_parts] for _, _, set_parts in sets],
        num_classes,
        epochs=config.epochs,
        batch_size=config.probe_batch_size,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        seed=seed,
    )
    return scores, [sum(train_x[index[part]].shape[1] for part in set_parts) for _, _, set_parts in sets]


def run(adapters, data, config, context):
    train_data = shared.load_train_data(data, config, context.seed)
    scores = {}
    for adapter in adapters:
        train, test = shared.train_test_features(adapter, data, train_data, config, context)
        train_y, test_y = train.labels(), test.labels()
        num_classes = max(data.num_classes, int(max(train_y.max(), test_y.max())) + 1)
        sets = shared.feature_sets(adapter, config)
        linear, dims = (
            _linear_all(train, test, sets, train_y, test_y, num_classes, config, context.seed)
            if "linear" in config.methods
            else (None, [0] * len(sets))
        )
        rows = []
        for done, (label, block, parts) in enumerate(sets):
            metrics, details = {}, {}
            for method in config.methods:
                if method == "linear":  # the paper reports the best epoch; the last is the unbiased one
                    score = linear[done]
                    metrics["linear_last"] = score.detail["last epoch top1"]
                    details["best epoch"] = score.detail["best epoch"]
                else:
                    train_x = train.read_concat(parts)
                    score = _logistic(train_x, train_y, test.read_concat(parts), test_y, config, context.seed)
                    details.update(score.detail)
                    dims[done] = train_x.shape[1]
                metrics[method] = score.accuracy
                context.metric(f"{method} top1", score.accuracy, model=adapter.name, feature=label)
            rows.append(Score(label, block, parts[0][1], int(dims[done]), metrics, details))
            context.progress(done + 1, len(sets), model=adapter.name)
        scores[adapter.name] = rows
    metric_names = config.methods + (["linear_last"] if "linear" in config.methods else [])
    titles = {m: METHODS[m] for m in metric_names}
    return Result(
        experiment="linear-probe",
        config={},
        models=[a.name for a in adapters],
        arrays=score_arrays(scores, metric_names),
        curves=[
            dataclasses.replace(c, title=f"Linear probe: {c.title} per block") for c in block_curves(scores, titles)
        ],
        tables=model_tables(
            scores,
            titles,
            (["C"] if "logistic" in config.methods else []) + (["best epoch"] if "linear" in config.methods else []),
        ),
        summary=headline(scores, config.methods[0]),
        notes=[
            f"train: {data.name}/{config.train_split}, test: {data.name}/{data.split}; "
            f"features: {'final-norm' if config.token_norm else 'raw'} block tokens"
            + (
                "; logistic probe on features standardized with training statistics"
                if "logistic" in config.methods
                else ""
            )
            + (
                f"; linear probe: AdamW lr {config.learning_rate:g}, wd {config.weight_decay:g}, batch {config.probe_batch_size}, {config.epochs} epochs, best and last epoch"
                if "linear" in config.methods
                else ""
            )
        ],
    )


EXPERIMENT = Experiment(
    name="linear-probe",
    description="Linear probe on frozen per-block features (off-the-shelf transfer).",
    Config=Config,
    run=run,
    requires=Requires(every=("block_features",)),
    metrics=FROZEN_FEATURE_METRICS,
    smoke=dict(train_split="holdout", blocks="last", c_grid=[1.0], cv_folds=2, epochs=2),
)
