"""N-way K-shot episodes on frozen features of the evaluated split, with 95% intervals.

Episodes are seeded (context seed), so every model, block and head sees the same
episodes; heads: nearest centroid (cosine) and logistic regression on the support set.
"""

import dataclasses

import numpy as np

from vitlab.config import ConfigError
from vitlab.experiments.base import FROZEN_FEATURE_METRICS, Experiment, Requires
from vitlab.features import blocks as blocks_lib
from vitlab.features import few_shot as episode_lib
from vitlab.features import shared
from vitlab.features.summary import Score, block_curves, headline, model_tables, score_arrays
from vitlab.results import Result


@dataclasses.dataclass
class Config:
    blocks: str = "all"
    kinds: list[str] = dataclasses.field(default_factory=list)
    n_way: int = 5
    k_shot: list[int] = dataclasses.field(default_factory=lambda: [1, 5])
    n_query: int = 15
    episodes: int = 600
    heads: list[str] = dataclasses.field(default_factory=lambda: ["centroid", "logistic"])
    cache_dir: str | None = None
    chunk_rows: int = 1024
    token_norm: bool = True  # tokens after the final LayerNorm, as the official off-the-shelf features

    def validate(self):
        blocks_lib.parse_blocks(self.blocks, 10_000)
        unknown = [h for h in self.heads if h not in episode_lib.HEADS]
        if unknown or not self.heads:
            raise ConfigError(
                f"heads: {unknown[0] if unknown else 'empty'!r} is not one of {', '.join(episode_lib.HEADS)}"
            )
        if self.n_way < 2 or self.n_query < 1 or self.episodes < 1 or not self.k_shot or min(self.k_shot) < 1:
            raise ConfigError("n_way >= 2, n_query >= 1, episodes >= 1 and k_shot values >= 1 are required")


def run(adapters, data, config, context):
    files = [shared.extract_split(adapter, data, config, context) for adapter in adapters]
    labels = files[0].labels()  # every file holds the rows in the data's order
    episodes = {
        k: episode_lib.draw_episodes(labels, config.n_way, k, config.n_query, config.episodes, seed=context.seed)
        for k in config.k_shot
    }
    metrics = [f"{head} {k}-shot" for k in config.k_shot for head in config.heads]
    scores = {}
    for adapter, file in zip(adapters, files):
        features = shared.Features(file)
        sets = shared.feature_sets(adapter, config)
        rows = []
        for done, (label, block, parts) in enumerate(sets):
            x = features.read_concat(parts)
            values, details = {}, {}
            for k, drawn in episodes.items():
                for head in config.heads:
                    accuracies = episode_lib.episode_accuracies(head, x, drawn)
                    mean, half_width = episode_lib.mean_interval(accuracies)
                    name = f"{head} {k}-shot"
                    values[name], details[f"{name} ci95"] = mean, half_width
                    context.metric(f"{name} accuracy", mean, model=adapter.name, feature=label, ci95=half_width)
            rows.append(Score(label, block, parts[0][1], int(x.shape[1]), values, details))
            context.progress(done + 1, len(sets), model=adapter.name)
        scores[adapter.name] = rows
    titles = {m: f"{config.n_way}-way {m} accuracy" for m in metrics}
    arrays = score_arrays(scores, metrics)
    for model, rows in scores.items():
        for metric in metrics:
            arrays[f"{model}/{metric}/ci95"] = np.array([s.details[f"{metric} ci95"] for s in rows])
    return Result(
        experiment="few-shot",
        config={},
        models=[a.name for a in adapters],
        arrays=arrays,
        curves=[dataclasses.replace(c, title=f"Few-shot: {c.title} per block") for c in block_curves(scores, titles)],
        tables=model_tables(scores, titles, [f"{m} ci95" for m in metrics]),
        summary=headline(scores, metrics[-1]),
        notes=[
            f"{config.episodes} episodes per setting from {data.name}/{data.split} (seed {context.seed}); "
            "ci95: half-width of the Student-t 95% interval over episodes"
        ],
    )


EXPERIMENT = Experiment(
    name="few-shot",
    description="N-way K-shot episodes on frozen features, with 95% intervals.",
    Config=Config,
    run=run,
    requires=Requires(every=("block_features",)),
    metrics=FROZEN_FEATURE_METRICS,
    smoke=dict(blocks="last", n_way=2, k_shot=[1], n_query=2, episodes=3),
)
