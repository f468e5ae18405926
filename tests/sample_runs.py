"""Synthetic runs with fixed contents, for tests, the start-up benchmark and screenshots.

They go through the real RunStore and Run.write_result, so the TUI reads them exactly as it
reads runs made by `vitlab eval`; no TensorFlow needed.
"""

from pathlib import Path

from vitlab.results import Curve, Result, RunStore, Table

MODELS = (["deit_tiny_patch16_224", "resnet50"], ["deit_small_patch16_224"], ["vit_test", "resnet_test"])
DATASETS = ("shapes", "fashion_mnist", "tfds:imagenet2012")
EXPERIMENTS = ("occlusion", "shuffle", "corruption", "linear-probe")


def occlusion_result(models, shift=0.0):
    loss = [0.0, 0.1, 0.3, 0.5, 0.7, 0.9]
    series = {m: [round(max(0.0, 0.9 - shift - (0.5 + 0.3 * i) * x ** (1.5 - i * 0.4)), 4) for x in loss]
              for i, m in enumerate(models)}
    return Result(
        experiment="occlusion", config={"drop": "random", "levels": loss}, models=list(models),
        curves=[Curve("Random PatchDrop", "information loss", "top-1 accuracy", loss, series)],
        tables=[Table("accuracy at 50% loss", ["model", "top-1"], [[m, series[m][3]] for m in models])],
        summary={f"acc@0.5/{models[0]}": series[models[0]][3]},
    )


def shuffle_result(models, shift=0.0):
    grids = ["1x1", "2x2", "4x4", "8x8"]
    series = {m: [round(0.85 - shift - 0.18 * g * (1 + i), 4) for g in range(4)] for i, m in enumerate(models)}
    return Result(
        experiment="shuffle", config={"grids": [1, 2, 4, 8]}, models=list(models),
        curves=[Curve("Patch shuffle", "shuffle grid", "top-1 accuracy", [1, 2, 4, 8], series, x_ticks=grids)],
        tables=[Table("accuracy per grid", ["model", *grids], [[m, *series[m]] for m in models])],
        summary={f"acc@8x8/{models[0]}": series[models[0]][-1]},
    )


def corruption_result(models, shift=0.0):
    names = ["gaussian_noise", "motion_blur", "fog", "jpeg"]
    series = {m: [round(0.3 + shift + 0.1 * j + 0.05 * i, 4) for j in range(4)] for i, m in enumerate(models)}
    return Result(
        experiment="corruption", config={"severities": [1, 2, 3, 4, 5]}, models=list(models),
        curves=[Curve("Error per corruption", "corruption", "top-1 error", names, series, x_ticks=names, kind="bar")],
        tables=[Table("mean corruption error", ["model", "mCE"], [[m, round(sum(series[m]) / 4, 4)] for m in models])],
        summary={f"mCE/{models[0]}": round(sum(series[models[0]]) / 4, 4)},
    )


def probe_result(models, shift=0.0):
    blocks = list(range(1, 13))
    series = {m: [round(0.2 + 0.05 * b - shift - 0.02 * i, 4) for b in blocks] for i, m in enumerate(models)}
    return Result(
        experiment="linear-probe", config={"blocks": blocks}, models=list(models),
        curves=[Curve("Linear probe per block", "block", "accuracy", blocks, series)],
        tables=[Table("best block", ["model", "block", "accuracy"], [[m, 12, series[m][-1]] for m in models])],
        summary={f"best/{models[0]}": series[models[0]][-1]},
    )


RESULTS = {"occlusion": occlusion_result, "shuffle": shuffle_result, "corruption": corruption_result,
           "linear-probe": probe_result}


def make_run(root, index, experiment="occlusion", models=MODELS[0], dataset="shapes", status="done",
             with_result=True, shift=0.0):
    """One finished (or failed/interrupted) run with fixed times, id and numbers."""
    day, minute = divmod(index, 600)
    stamp = f"2024{1 + day % 12:02d}{1 + day % 28:02d}-{minute // 60 + 8:02d}{minute % 60:02d}00"
    store = RunStore(root)
    run = store.create(name=experiment, kind="eval", config={"experiment": experiment, "models": list(models),
                       "dataset": dataset, "split": "test", "limit": 512}, models=models, dataset=dataset,
                       path=Path(root) / f"{stamp}-{experiment}-{index:06x}")
    created = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:00+00:00"
    fields = dict(created=created, status=status, duration_s=30.0 + index % 500, host="sample-host", pid=None)
    if status == "failed":
        fields["error"] = "unknown dataset 'tfds:nope'"
    run.update(**fields)
    if with_result and status == "done":
        run.write_result(RESULTS[experiment](list(models), shift=shift))
    return run


def make_runs(root, count, results_every=1):
    """`count` runs cycling through experiments, models, datasets and statuses."""
    runs = []
    statuses = ("done", "done", "done", "failed", "interrupted")
    for index in range(count):
        runs.append(make_run(root, index, experiment=EXPERIMENTS[index % len(EXPERIMENTS)],
                             models=MODELS[index % len(MODELS)], dataset=DATASETS[index % len(DATASETS)],
                             status=statuses[index % len(statuses)], with_result=index % results_every == 0,
                             shift=0.01 * (index % 7)))
    return runs


def make_broken_runs(root):
    """A half-written run (no run.json), one from another version, one with corrupt JSON."""
    root = Path(root)
    (root / "20240101-000000-half-written-000001").mkdir(parents=True)
    other = root / "20240101-000100-from-the-future-000002"
    other.mkdir()
    (other / "run.json").write_text('{"format_version": 99, "status": "done"}')
    corrupt = root / "20240101-000200-corrupt-000003"
    corrupt.mkdir()
    (corrupt / "run.json").write_text('{"format_version": 1, "status": "do')
