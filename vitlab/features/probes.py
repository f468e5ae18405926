"""Classifiers on frozen features: the paper's linear layer (AdamW, best of 10 epochs; the
default), logistic regression (CV-chosen C, scikit-learn) and cosine k-NN. Each returns
top-1 accuracy on the test features.

BLAS runs single-threaded here: on a busy machine a multi-threaded OpenBLAS spins and made
a 3,000-row fit 60x slower (15 s instead of 0.23 s); parallelism comes from the CV folds.
"""

import dataclasses

import numpy as np
from threadpoolctl import threadpool_limits

from vitlab.protocol import probe as probe_protocol


@dataclasses.dataclass
class ProbeScore:
    accuracy: float
    detail: dict = dataclasses.field(default_factory=dict)  # e.g. {"C": 0.1}


def standardize(train, test):
    """Zero mean, unit variance with the training statistics (constant columns left at 0)."""
    mean = train.mean(axis=0, dtype=np.float64).astype("float32")
    std = train.std(axis=0, dtype=np.float64).astype("float32")
    std[std < 1e-8] = 1.0
    return (train - mean) / std, (test - mean) / std


def _cv_subsample(labels, max_rows, seed):
    """Stratified subset of at most max_rows rows for choosing C (the final fit uses all)."""
    if max_rows is None or len(labels) <= max_rows:
        return np.arange(len(labels))
    from sklearn.model_selection import train_test_split

    chosen, _ = train_test_split(np.arange(len(labels)), train_size=max_rows, stratify=labels, random_state=seed)
    return np.sort(chosen)


def logistic_probe(
    x_train,
    y_train,
    x_test,
    y_test,
    c_grid=(0.01, 0.1, 1.0),
    cv_folds=3,
    cv_max_rows=10000,
    max_iter=200,
    n_jobs=2,
    seed=0,
):
    """scikit-learn logistic regression on standardized features; C by k-fold CV on train."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _logistic_probe(x_train, y_train, x_test, y_test, c_grid, cv_folds, cv_max_rows, max_iter, n_jobs, seed)


def _logistic_probe(x_train, y_train, x_test, y_test, c_grid, cv_folds, cv_max_rows, max_iter, n_jobs, seed):
    import warnings

    from joblib import parallel_backend
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    x_train, x_test = standardize(np.asarray(x_train, "float32"), np.asarray(x_test, "float32"))
    best_c = float(c_grid[0])
    _, counts = np.unique(y_train, return_counts=True)
    folds = min(cv_folds, int(counts.min()))
    if len(c_grid) > 1 and folds >= 2:
        rows = _cv_subsample(y_train, cv_max_rows, seed)
        search = GridSearchCV(
            LogisticRegression(max_iter=max_iter, tol=1e-3),
            {"C": list(c_grid)},
            cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
            n_jobs=n_jobs,
        )
        with parallel_backend("threading", n_jobs=n_jobs), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            search.fit(x_train[rows], y_train[rows])
        best_c = float(search.best_params_["C"])
    model = LogisticRegression(C=best_c, max_iter=max_iter, tol=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x_train, y_train)
    accuracy = float(np.mean(model.predict(x_test) == y_test))
    return ProbeScore(accuracy, {"C": best_c})


def linear_layer_probe(
    x_train,
    y_train,
    x_test,
    y_test,
    num_classes,
    epochs=probe_protocol.PROBE_EPOCHS,
    batch_size=probe_protocol.PROBE_BATCH_SIZE,
    learning_rate=probe_protocol.PROBE_LEARNING_RATE,
    weight_decay=probe_protocol.PROBE_WEIGHT_DECAY,
    seed=0,
    standardize_features=False,
    keep_weights=False,
):
    """The paper's probe (vitlab/protocol/probe.py): one Dense layer on the frozen features,
    AdamW (lr 5e-4, weight decay 0.05, none on the bias), batch 256 with the last partial batch
    dropped, 10 epochs, test top-1 after every epoch. accuracy is the best epoch's (what the
    paper reports); detail has the best epoch and the last epoch's top-1 (with keep_weights, also
    the final (kernel, bias) under "weights").

    One probe per call: batched_probes.linear_layer_probes trains many at once with the same
    arithmetic, and is what the experiments use; this is its reference."""
    import keras

    x_train, x_test = np.asarray(x_train, "float32"), np.asarray(x_test, "float32")
    if standardize_features:
        x_train, x_test = standardize(x_train, x_test)
    y_train = np.asarray(y_train)
    keras.utils.set_random_seed(seed)
    layer = keras.layers.Dense(
        num_classes, kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02), bias_initializer="zeros"
    )  # timm's _init_weights for a ViT head
    model = keras.Sequential([keras.Input((x_train.shape[1],)), layer])
    optimizer = keras.optimizers.AdamW(
        learning_rate, weight_decay=weight_decay, epsilon=probe_protocol.PROBE_ADAM_EPSILON
    )
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(seed)
    # drop_last as the official DataLoader; a training set smaller than one batch is one batch
    steps_rows = max(len(x_train) // batch_size * batch_size, min(len(x_train), batch_size))
    per_epoch = []
    for _ in range(int(epochs)):
        order = rng.permutation(len(x_train))[:steps_rows]
        model.fit(x_train[order], y_train[order], epochs=1, batch_size=batch_size, shuffle=False, verbose=0)
        logits = np.concatenate(
            [
                keras.ops.convert_to_numpy(model(x_test[i : i + 4096], training=False))
                for i in range(0, len(x_test), 4096)
            ]
        )
        per_epoch.append(float(np.mean(np.argmax(logits, axis=1) == y_test)))
    best = int(np.argmax(per_epoch))
    detail = {"epochs": int(epochs), "best epoch": best + 1, "last epoch top1": per_epoch[-1], "per epoch": per_epoch}
    if keep_weights:
        detail["weights"] = tuple(keras.ops.convert_to_numpy(w) for w in (layer.kernel, layer.bias))
    return ProbeScore(per_epoch[best], detail)


def knn_probe(x_train, y_train, x_test, y_test, k=20, batch_rows=256):
    """Cosine k-NN, majority vote (ties go to the larger summed similarity); no training."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _knn_probe(x_train, y_train, x_test, y_test, k, batch_rows)


def _knn_probe(x_train, y_train, x_test, y_test, k, batch_rows):
    train = _unit_rows(np.asarray(x_train, "float32"))
    test = _unit_rows(np.asarray(x_test, "float32"))
    y_train = np.asarray(y_train)
    num_classes = int(max(y_train.max(), np.max(y_test)) + 1)
    k = min(k, len(train))
    predictions = np.empty(len(test), dtype=np.int64)
    for start in range(0, len(test), batch_rows):
        similarity = test[start : start + batch_rows] @ train.T
        nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        near_labels = y_train[nearest]
        near_sims = np.take_along_axis(similarity, nearest, axis=1)
        votes = np.zeros((len(nearest), num_classes))
        rows = np.arange(len(nearest))[:, None]
        np.add.at(votes, (rows, near_labels), 1.0 + 1e-3 * near_sims)
        predictions[start : start + batch_rows] = votes.argmax(axis=1)
    return ProbeScore(float(np.mean(predictions == y_test)), {"k": k})


def _unit_rows(x):
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)
