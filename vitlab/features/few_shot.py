"""N-way K-shot episodes on frozen features, and the 95% interval over episodes.

Episodes are drawn from one split (the test split) with a seeded generator, so reruns draw
the same ones; each episode picks N classes, K support and Q query images per class.
"""

import dataclasses

import numpy as np

from vitlab.errors import UserError


class EpisodeError(UserError):
    """An episode request the data cannot satisfy (too few classes or images per class)."""


@dataclasses.dataclass
class Episode:
    support: np.ndarray  # row indices, (N*K,)
    support_labels: np.ndarray  # 0..N-1
    query: np.ndarray  # (N*Q,)
    query_labels: np.ndarray


def draw_episodes(labels, n_way, k_shot, n_query, num_episodes, seed=0):
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    usable = classes[counts >= k_shot + n_query]
    if len(usable) < n_way:
        raise EpisodeError(
            f"few-shot: {n_way}-way {k_shot}-shot with {n_query} queries needs {n_way} classes "
            f"with >= {k_shot + n_query} images each; the data has {len(usable)} such classes (largest class: "
            f"{counts.max() if len(counts) else 0} images; raise --limit or lower n_query/k_shot)"
        )
    rng = np.random.default_rng(seed)
    by_class = {c: np.flatnonzero(labels == c) for c in usable}
    episodes = []
    for _ in range(num_episodes):
        chosen = rng.choice(usable, size=n_way, replace=False)
        support, query = [], []
        for c in chosen:
            rows = rng.choice(by_class[c], size=k_shot + n_query, replace=False)
            support.append(rows[:k_shot])
            query.append(rows[k_shot:])
        episodes.append(
            Episode(
                np.concatenate(support),
                np.repeat(np.arange(n_way), k_shot),
                np.concatenate(query),
                np.repeat(np.arange(n_way), n_query),
            )
        )
    return episodes


def _unit_rows(x):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def nearest_centroid_accuracy(features, episode):
    """Cosine nearest class mean of L2-normalized features."""
    support = _unit_rows(features[episode.support])
    query = _unit_rows(features[episode.query])
    n_way = int(episode.support_labels.max()) + 1
    centroids = np.stack([support[episode.support_labels == c].mean(axis=0) for c in range(n_way)])
    predictions = np.argmax(query @ _unit_rows(centroids).T, axis=1)
    return float(np.mean(predictions == episode.query_labels))


def logistic_accuracy(features, episode, c=1.0):
    """Logistic regression fitted on the support set of L2-normalized features."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=200)
    model.fit(_unit_rows(features[episode.support]), episode.support_labels)
    predictions = model.predict(_unit_rows(features[episode.query]))
    return float(np.mean(predictions == episode.query_labels))


HEADS = {"centroid": nearest_centroid_accuracy, "logistic": logistic_accuracy}


def episode_accuracies(head, features, episodes):
    """One head's accuracy on every episode. BLAS runs single-threaded (tiny fits: threads only
    add overhead) and scikit-learn skips re-checking the head's fixed parameters, both set once
    for all episodes: entered per episode, threadpoolctl rescans the process's libraries each
    time, which cost more than the fit (5-way 5-shot logistic head with TensorFlow loaded: 8.6
    ms per episode entered each time, 3.0 ms entered once; benchmarks/bench_probe.py)."""
    import sklearn
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"), sklearn.config_context(skip_parameter_validation=True):
        return [HEADS[head](features, episode) for episode in episodes]


def mean_interval(accuracies, confidence=0.95):
    """(mean, half-width) of the Student-t interval; half-width nan for a single episode."""
    from scipy import stats

    values = np.asarray(accuracies, dtype=np.float64)
    if np.ptp(values) == 0.0:  # identical episodes: exactly that value, no spread (no rounding noise)
        return float(values[0]), (0.0 if len(values) > 1 else float("nan"))
    mean = float(values.mean())
    spread = float(values.std(ddof=1))
    t = stats.t.ppf(0.5 + confidence / 2, df=len(values) - 1)
    return mean, float(t * spread / np.sqrt(len(values)))
