"""k-NN (cosine) on frozen per-block features: the no-training check of the linear probe.

Training-split features are the memory, test features the queries; same cache, same
feature sets (each block and kind, and the concatenations) as linear-probe.
"""

import dataclasses

from vitlab.config import ConfigError
from vitlab.experiments.base import FROZEN_FEATURE_METRICS, Experiment, Requires
from vitlab.features import shared
from vitlab.features.summary import Score, block_curves, headline, model_tables, score_arrays
from vitlab.results import Result


@dataclasses.dataclass
class Config(shared.FeatureOptions):
    k: int = 20

    def validate(self):
        super().validate()
        if self.k < 1:
            raise ConfigError(f"k: must be at least 1, got {self.k}")


def run(adapters, data, config, context):
    from vitlab.features.probes import knn_probe

    train_data = shared.load_train_data(data, config, context.seed)
    scores = {}
    metric = f"knn{config.k}"
    for adapter in adapters:
        train, test = shared.train_test_features(adapter, data, train_data, config, context)
        train_y, test_y = train.labels(), test.labels()
        sets = shared.feature_sets(adapter, config)
        rows = []
        for done, (label, block, parts) in enumerate(sets):
            train_x = train.read_concat(parts)
            score = knn_probe(train_x, train_y, test.read_concat(parts), test_y, k=config.k)
            context.metric(f"{metric} top1", score.accuracy, model=adapter.name, feature=label)
            rows.append(Score(label, block, parts[0][1], int(train_x.shape[1]), {metric: score.accuracy}))
            context.progress(done + 1, len(sets), model=adapter.name)
        scores[adapter.name] = rows
    titles = {metric: f"{config.k}-NN (cosine) top-1"}
    return Result(
        experiment="knn",
        config={},
        models=[a.name for a in adapters],
        arrays=score_arrays(scores, [metric]),
        curves=[dataclasses.replace(c, title=f"k-NN: {c.title} per block") for c in block_curves(scores, titles)],
        tables=model_tables(scores, titles),
        summary=headline(scores, metric),
        notes=[f"memory: {data.name}/{config.train_split}, queries: {data.name}/{data.split}"],
    )


EXPERIMENT = Experiment(
    name="knn",
    description="k-NN (cosine) on frozen per-block features.",
    Config=Config,
    run=run,
    requires=Requires(every=("block_features",)),
    metrics=FROZEN_FEATURE_METRICS,
    smoke=dict(train_split="holdout", blocks="last", k=3),
)
