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
    series = {
        m: [round(max(0.0, 0.9 - shift - (0.5 + 0.3 * i) * x ** (1.5 - i * 0.4)), 4) for x in loss]
        for i, m in enumerate(models)
    }
    return Result(
        experiment="occlusion",
        config={"drop": "random", "levels": loss},
        models=list(models),
        curves=[Curve("Random PatchDrop", "information loss", "top-1 accuracy", loss, series)],
        tables=[Table("accuracy at 50% loss", ["model", "top-1"], [[m, series[m][3]] for m in models])],
        summary={f"acc@0.5/{models[0]}": series[models[0]][3]},
    )


def shuffle_result(models, shift=0.0):
    grids = ["1x1", "2x2", "4x4", "8x8"]
    series = {m: [round(0.85 - shift - 0.18 * g * (1 + i), 4) for g in range(4)] for i, m in enumerate(models)}
    return Result(
        experiment="shuffle",
        config={"grids": [1, 2, 4, 8]},
        models=list(models),
        curves=[Curve("Patch shuffle", "shuffle grid", "top-1 accuracy", [1, 2, 4, 8], series, x_ticks=grids)],
        tables=[Table("accuracy per grid", ["model", *grids], [[m, *series[m]] for m in models])],
        summary={f"acc@8x8/{models[0]}": series[models[0]][-1]},
    )


def corruption_result(models, shift=0.0):
    names = ["gaussian_noise", "motion_blur", "fog", "jpeg"]
    series = {m: [round(0.3 + shift + 0.1 * j + 0.05 * i, 4) for j in range(4)] for i, m in enumerate(models)}
    return Result(
        experiment="corruption",
        config={"severities": [1, 2, 3, 4, 5]},
        models=list(models),
        curves=[Curve("Error per corruption", "corruption", "top-1 error", names, series, x_ticks=names, kind="bar")],
        tables=[Table("mean corruption error", ["model", "mCE"], [[m, round(sum(series[m]) / 4, 4)] for m in models])],
        summary={f"mCE/{models[0]}": round(sum(series[models[0]]) / 4, 4)},
    )


def probe_result(models, shift=0.0):
    blocks = list(range(1, 13))
    series = {m: [round(0.2 + 0.05 * b - shift - 0.02 * i, 4) for b in blocks] for i, m in enumerate(models)}
    return Result(
        experiment="linear-probe",
        config={"blocks": blocks},
        models=list(models),
        curves=[Curve("Linear probe per block", "block", "accuracy", blocks, series)],
        tables=[Table("best block", ["model", "block", "accuracy"], [[m, 12, series[m][-1]] for m in models])],
        summary={f"best/{models[0]}": series[models[0]][-1]},
    )


RESULTS = {
    "occlusion": occlusion_result,
    "shuffle": shuffle_result,
    "corruption": corruption_result,
    "linear-probe": probe_result,
}


def make_run(
    root, index, experiment="occlusion", models=MODELS[0], dataset="shapes", status="done", with_result=True, shift=0.0
):
    """One finished (or failed/interrupted) run with fixed times, id and numbers."""
    day, minute = divmod(index, 600)
    stamp = f"2024{1 + day % 12:02d}{1 + day % 28:02d}-{minute // 60 + 8:02d}{minute % 60:02d}00"
    store = RunStore(root)
    run = store.create(
        name=experiment,
        kind="eval",
        config={"experiment": experiment, "models": list(models), "dataset": dataset, "split": "test", "limit": 512},
        models=models,
        dataset=dataset,
        path=Path(root) / f"{stamp}-{experiment}-{index:06x}",
    )
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
        runs.append(
            make_run(
                root,
                index,
                experiment=EXPERIMENTS[index % len(EXPERIMENTS)],
                models=MODELS[index % len(MODELS)],
                dataset=DATASETS[index % len(DATASETS)],
                status=statuses[index % len(statuses)],
                with_result=index % results_every == 0,
                shift=0.01 * (index % 7),
            )
        )
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


DEMO_ZOO = [
    "zoo:vit",
    "zoo:vit_nopos",
    "zoo:resnet",
    "zoo:resnet_sin",
    "zoo:deit_shape",
    "zoo:deit_tex",
    "zoo:deit_sin",
]
DEMO_MODELS = ["brief_vit", *DEMO_ZOO]
DEMO_HEADLINE = "occlusion/top1_random_0.50/vit"
DEMO_REPORT_PNGS = ["report/adversarial-0-FGSM_accuracy_vs_epsilon.png", "report/occlusion-0-PatchDrop_random.png"]
DEMO_ATTENTION_PNG = "attention/vit-image3-clean.png"


def _png(path, colour):
    import numpy as np
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 12, 3), colour, dtype=np.uint8)).save(path)


def make_demo_run(root, headline=DEMO_HEADLINE, path_name="20250101-090000-demo-aaaaaa"):
    """A finished run laid out as `vitlab recipe run demo` leaves it: 8 models (a trained step
    and seven zoo models), a named headline, results whose summaries sort 'adversarial' first
    (run.json is written with sorted keys), two report plots and one attention grid."""
    root = Path(root)
    config = {
        "name": "demo",
        "headline": headline,
        "train": [{"name": "brief_vit", "model": "vit_nano_patch4_32"}],
        "evaluate": [
            {"experiment": "occlusion", "models": DEMO_ZOO[:3]},
            {"experiment": "shape-bias", "models": DEMO_ZOO},
        ],
    }
    run = RunStore(root).create(
        name="demo",
        kind="recipe",
        config=config,
        models=DEMO_MODELS,
        dataset="shapes",
        path=root / path_name,
        headline=headline,
    )
    run.event("step", step="occlusion", message="occlusion started")
    run.write_result(
        Result("adversarial", {}, ["vit", "resnet"], summary={"fgsm@4_255/resnet": 0.11, "fgsm@4_255/vit": 0.05})
    )
    run.write_result(
        Result(
            "occlusion",
            {},
            ["vit", "resnet"],
            summary={"top1_random_0.50/resnet": 0.31, "top1_random_0.50/vit": 0.8125},
        )
    )
    run.write_result(Result("attention", {}, ["vit"], images=[DEMO_ATTENTION_PNG]))
    for index, relative in enumerate(DEMO_REPORT_PNGS + [DEMO_ATTENTION_PNG]):
        _png(run.path / relative, 60 * (index + 1))
    _png(run.path / "checkpoints" / "brief_vit" / "not-a-picture-to-list.png", 0)
    run.event("done", message="finished")
    day = path_name[:8]
    run.update(status="done", duration_s=312.0, created=f"{day[:4]}-{day[4:6]}-{day[6:]}T09:00:00+00:00")
    return run
