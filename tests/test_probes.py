"""Probes and few-shot episodes against known answers; the feature experiments end to end."""

import numpy as np
import pytest

from vitlab.config import ConfigError
from vitlab.features import batched_probes, few_shot, probes


def separable(rows=120, dim=16, classes=4, seed=0):
    """Classes on well separated centres: every linear probe must score 100%."""
    rng = np.random.default_rng(seed)
    labels = np.arange(rows) % classes
    centres = np.eye(classes, dim) * 10.0
    return (centres[labels] + rng.normal(scale=0.3, size=(rows, dim))).astype("float32"), labels


def test_linearly_separable_features_are_probed_perfectly():
    x_train, y_train = separable(seed=0)
    x_test, y_test = separable(seed=1)
    logistic = probes.logistic_probe(x_train, y_train, x_test, y_test, c_grid=[0.1, 1.0], cv_folds=3)
    assert logistic.accuracy == 1.0 and logistic.detail["C"] in (0.1, 1.0)
    x_more, y_more = separable(rows=800, seed=2)  # 10 epochs of 50 steps: the paper's protocol has data
    (linear,) = batched_probes.linear_layer_probes(
        [x_more], y_more, [x_test], y_test, [(0,)], 4, epochs=10, batch_size=16
    )
    assert linear.accuracy == 1.0
    assert probes.knn_probe(x_train, y_train, x_test, y_test, k=5).accuracy == 1.0


def _noisy_parts(rows, widths, classes=4, seed=0):
    """Features with a weak class signal: probes land between chance and 100%, so a probe that
    trained differently would score differently."""
    rng = np.random.default_rng(seed)
    labels = np.arange(rows) % classes
    return [
        (np.eye(classes, width)[labels] * 1.5 + rng.normal(size=(rows, width))).astype("float32") for width in widths
    ], labels


def _assert_batched_equals_reference(rows, sets, epochs):
    parts, labels = _noisy_parts(rows + 200, [8, 12, 8, 8])  # two widths
    train, test = [x[:rows] for x in parts], [x[rows:] for x in parts]
    batched = batched_probes.linear_layer_probes(
        train, labels[:rows], test, labels[rows:], sets, 4, epochs=epochs, batch_size=64, keep_weights=True
    )
    for parts_of, got in zip(sets, batched):
        expected = probes.linear_layer_probe(
            np.concatenate([train[p] for p in parts_of], axis=1),
            labels[:rows],
            np.concatenate([test[p] for p in parts_of], axis=1),
            labels[rows:],
            4,
            epochs=epochs,
            batch_size=64,
            keep_weights=True,
        )
        assert got.detail["per epoch"] == expected.detail["per epoch"]
        assert (got.accuracy, got.detail["best epoch"], got.detail["last epoch top1"]) == (
            expected.accuracy,
            expected.detail["best epoch"],
            expected.detail["last epoch top1"],
        )
        for mine, reference in zip(got.detail["weights"], expected.detail["weights"]):
            assert mine.shape == reference.shape
            np.testing.assert_allclose(mine, reference, rtol=0, atol=1e-6)
    assert len({tuple(score.detail["per epoch"]) for score in batched}) == len(sets)  # the probes differ
    assert max(score.accuracy for score in batched) < 1.0  # nothing trivially perfect: a slip would show


def test_batched_probes_equal_the_per_probe_reference():
    # 600 rows: 9 batches of 64 per epoch, 24 dropped; part 2 is only read inside concatenations
    _assert_batched_equals_reference(600, [(0, 2), (1,), (3,), (0,), (2, 3, 1)], epochs=3)


def test_batched_probes_on_fewer_rows_than_a_batch_take_them_all_as_one():
    _assert_batched_equals_reference(40, [(1,), (0, 2)], epochs=2)


def test_batched_probe_bank_refuses_an_empty_set():
    parts, labels = _noisy_parts(10, [4])
    with pytest.raises(ValueError, match="at least one part"):
        batched_probes.linear_layer_probes(parts, labels, parts, labels, [(0,), ()], 4, epochs=1)


def test_knn_votes_by_cosine_not_distance():
    # the query lies far from class 1's point in distance but on its direction
    train = np.array([[1.0, 0.0], [0.0, 1.0]], "float32")
    score = probes.knn_probe(train, np.array([0, 1]), np.array([[0.1, 5.0]], "float32"), np.array([1]), k=1)
    assert score.accuracy == 1.0


def test_interval_of_identical_episodes_has_width_zero_and_known_value_otherwise():
    assert few_shot.mean_interval([0.6] * 10) == (0.6, 0.0)
    mean, half = few_shot.mean_interval([0.0, 1.0])
    assert mean == 0.5
    assert half == pytest.approx(12.7062 * np.sqrt(0.5) / np.sqrt(2), rel=1e-4)  # t(0.975, 1) * s / sqrt(n)


def test_episodes_are_seeded_and_heads_solve_separable_ones():
    features, labels = separable(rows=200, classes=8)
    first = few_shot.draw_episodes(labels, n_way=5, k_shot=3, n_query=4, num_episodes=6, seed=3)
    again = few_shot.draw_episodes(labels, n_way=5, k_shot=3, n_query=4, num_episodes=6, seed=3)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.support, b.support)
        np.testing.assert_array_equal(a.query, b.query)
    episode = first[0]
    assert len(episode.support) == 15 and len(episode.query) == 20
    assert not set(episode.support) & set(episode.query)
    assert len(set(labels[episode.support])) == 5
    for name, head in few_shot.HEADS.items():
        assert [head(features, e) for e in first] == [1.0] * 6
        assert few_shot.episode_accuracies(name, features, first) == [1.0] * 6
    with pytest.raises(few_shot.EpisodeError, match="needs 9 classes"):
        few_shot.draw_episodes(labels, n_way=9, k_shot=1, n_query=1, num_episodes=1)


def test_episode_heads_share_one_single_threaded_blas_setup(monkeypatch):
    from threadpoolctl import threadpool_info

    threads = []

    def spy(features, episode):
        threads.append(max(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"))
        return float(len(episode.query))

    monkeypatch.setitem(few_shot.HEADS, "spy", spy)
    features, labels = separable(rows=40, classes=4)
    episodes = few_shot.draw_episodes(labels, n_way=2, k_shot=1, n_query=3, num_episodes=2, seed=0)
    assert few_shot.episode_accuracies("spy", features, episodes) == [6.0, 6.0]
    assert threads == [1, 1]


def _bright_dark_data(rows=48):
    """Two classes a random network still tells apart: dark and bright images."""
    from vitlab.data.dataset import from_arrays

    rng = np.random.default_rng(0)
    labels = np.arange(rows) % 2
    images = rng.random((rows, 32, 32, 3), dtype=np.float32) * 0.2 + labels[:, None, None, None] * 0.7
    return from_arrays(images, labels, batch_size=16, num_classes=2)


def test_linear_probe_knn_and_few_shot_experiments(tmp_path):
    import keras

    from vitlab.experiments import few_shot, knn, linear_probe
    from vitlab.experiments.run_context import Context
    from vitlab.models.adapter import adapt

    keras.utils.set_random_seed(0)
    adapters = [adapt("vit_test"), adapt("resnet_test")]
    data = _bright_dark_data()
    config = linear_probe.Config(
        train_split="holdout", cache_dir=str(tmp_path), c_grid=[1.0], method="both", probe_batch_size=8
    )
    config.validate()
    result = linear_probe.run(adapters, data, config, Context())
    assert result.summary["last_2_class_concat_top1/vit_test"] == 1.0
    assert result.summary["last_4_pooled_concat_top1/resnet_test"] == 1.0
    curve = result.curves[0]
    assert curve.x == [1, 2, 3, 4] and curve.series["vit_test"][2:] == [None, None]
    assert set(curve.series) == {"vit_test", "vit_test patch_mean", "resnet_test"}
    assert [t.title for t in result.tables] == ["vit_test", "resnet_test"]
    assert result.arrays["resnet_test/linear/pooled"].shape == (4,)

    context = Context()
    knn_result = knn.run(adapters[:1], data, knn.Config(train_split="holdout", cache_dir=str(tmp_path), k=3), context)
    assert knn_result.summary["last_2_class_concat_top1/vit_test"] == 1.0
    assert all(e["message"].startswith("cache hit") for e in context.events if e["kind"] == "log")

    shots = few_shot.Config(blocks="last", n_way=2, k_shot=[1], n_query=5, episodes=4, cache_dir=str(tmp_path))
    shot_result = few_shot.run(adapters[:1], data, shots, Context())
    assert shot_result.summary["best_block_top1/vit_test"] == 1.0
    np.testing.assert_array_equal(shot_result.arrays["vit_test/logistic 1-shot/ci95"], [0.0, 0.0])


def test_bad_options_are_refused_with_the_key():
    from vitlab.experiments import runner

    with pytest.raises(ConfigError, match="method"):
        runner.build_config("linear-probe", overrides=["method=svm"])
    with pytest.raises(ConfigError, match="heads"):
        runner.build_config("few-shot", overrides=["heads=centroid,prototype"])
    with pytest.raises(ConfigError, match="k: must be at least 1"):
        runner.build_config("knn", overrides=["k=0"])
    with pytest.raises(ConfigError, match="blocks"):
        runner.build_config("linear-probe", overrides=["blocks=middle"])
