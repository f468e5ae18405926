"""Learning curves of candidate study configurations: clean test accuracy against training
steps and against CPU-seconds, measured through vitlab's own recipe path.

Each candidate is one `vitlab recipe run` of a one-step recipe (written next to its run)
with validation every `--points`-th of the schedule on 1,000 `shapes` test images. The
trainer logs the CPU-seconds of training with every metric, resumes included
(vitlab.training.trainer). They are not load-free either: a resnet_nano zoo step alone used
1.32x the CPU-seconds it used beside test runs (seed 1 vs seed 0, README), so compare curves
measured under similar load. Runs live in ~/.cache/vitlab/curves/<candidate>; a finished candidate is read
back, an interrupted one resumes (`--resume` is the default behaviour of this script).

The budget line is the zoo's: 8 minutes on a day when vit_nano trains at 500 img/s, i.e.
240,000 vit_nano images; at the 300 images per CPU-second that bench_throughput measured for
vit_nano (benchmarks/results/bench_throughput.json) that is 800 CPU-seconds.

    .venv/bin/python benchmarks/learning_curves.py [--only NAME,NAME] [--plot-only]

The plot also carries the zoo's own training curves (every role of ~/.cache/vitlab/zoo/runs/
seed-0, which validates each epoch on 1,000 test images and logs CPU-seconds) and the short
screening runs of benchmarks/screen_configs.py (results/screen_configs.json), which chose the
candidates. Writes benchmarks/results/learning_curves.json and learning_curves.png.
"""

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
CACHE = Path(os.environ.get("VITLAB_CACHE") or Path.home() / ".cache" / "vitlab") / "curves"
BUDGET_CPU_S = 800.0
ZOO_RUN = CACHE.parent / "zoo" / "runs" / "seed-0"


def _taught_by(teacher):
    """Recipe lines of a DeiT distilled (hard) from a shipped zoo model, as recipes/zoo.toml does it."""
    return f'distill.teacher = "{ROOT.parent / "zoo" / teacher}"\ndistill.kind = "hard"'


# name: (family, model, dataset, batch, total training images, learning rate, extra recipe lines)
# Image counts: each candidate's share of the budget at its own cost per image (ResNets cost
# about twice vit_nano per image in training, bench_throughput).
CANDIDATES = {
    "resnet_nano_b128": ("resnet", "resnet_nano_32", "shapes", 128, 120_000, 2e-3, ""),
    "resnet_nano_b64": ("resnet", "resnet_nano_32", "shapes", 64, 120_000, 1e-3, ""),
    "resnet_micro_b128": ("resnet", "resnet_micro_32", "shapes", 128, 60_000, 2e-3, ""),
    "vit_nano_b128": ("vit", "vit_nano_patch4_32", "shapes", 128, 240_000, 1e-3, ""),
    "vit_nano_b64": ("vit", "vit_nano_patch4_32", "shapes", 64, 240_000, 1e-3, ""),
    "vit_mini_b128": ("vit", "vit_mini_patch4_32", "shapes", 128, 240_000, 1e-3, ""),
    # four times the budget: where the zoo's ViT recipe would reach its 0.85 (an upper
    # bound on the budget it needs: a schedule that ends earlier does better at that point).
    # Measured 2026-12-02: 0.787 at the end, 10,184 CPU-s; 0.85 not reached.
    "vit_nano_b64_x4": ("vit", "vit_nano_patch4_32", "shapes", 64, 960_000, 1e-3, ""),
    # twelve times: a power law through the zoo ViT's and x4's end points puts 0.85 at about
    # 2.4M images; this schedule ends past that so the crossing is measured, not extrapolated.
    # About 45,000 steps, longer than a session: it resumes from state/curves (--pack-to).
    "vit_nano_b64_x12": ("vit", "vit_nano_patch4_32", "shapes", 64, 2_880_000, 1e-3, ""),
    # Measured 2026-12-03: 0.852 at 20,625 steps (6,259 CPU-s), 0.954 at the end; shipped as zoo:vit_long.
    # The other ViT roles' budgets, six times the zoo's images (22,500 steps): vit_nopos (target
    # 0.75) and deit_sin (the plain ViT on shapes:stylized, target 0.70 on the stylized test).
    "vit_nopos_b64_x6": ("vit", "vit_nano_nopos_patch4_32", "shapes", 64, 1_440_000, 1e-3, ""),
    "deit_sin_b64_x6": ("vit", "vit_nano_patch4_32", "shapes:stylized", 64, 1_440_000, 1e-3, ""),
    # deit_shape: the DeiT taught by the shipped shape-biased teacher, as recipes/zoo.toml
    # trains it (its steps cost 1.2-2.0x a ViT step: the teacher runs in each).
    "deit_shape_b64_x6": (
        "vit",
        "deit_nano_distilled_patch4_32",
        "shapes",
        64,
        1_440_000,
        1e-3,
        _taught_by("resnet_sin.keras"),
    ),
    # deit_tex: the same DeiT taught by the texture-biased teacher (zoo/resnet.keras).
    "deit_tex_b64_x6": (
        "vit",
        "deit_nano_distilled_patch4_32",
        "shapes",
        64,
        1_440_000,
        1e-3,
        _taught_by("resnet.keras"),
    ),
    # Measured 2026-12-05: deit_shape first >= 0.85 at 20,625 steps, deit_tex ends at 0.810 (its
    # rate decayed), so deit_tex's budget needs the longer schedule, x12 as the ViT's. It spans
    # sessions: it resumes from state/curves (--pack-to). Over two sessions: first >= 0.85 at
    # 28,125 steps (0.879, 7,907 CPU-s), 0.916 at the end (12,037 CPU-s).
    "deit_tex_b64_x12": (
        "vit",
        "deit_nano_distilled_patch4_32",
        "shapes",
        64,
        2_880_000,
        1e-3,
        _taught_by("resnet.keras"),
    ),
}
POINTS = {
    "vit_nano_b64_x12": 24,
    "vit_nopos_b64_x6": 12,
    "deit_sin_b64_x6": 12,
    "deit_shape_b64_x6": 12,
    "deit_tex_b64_x6": 12,
    "deit_tex_b64_x12": 24,
}  # evaluations along a schedule, where not --points
# Distinct training images, where fewer than the schedule's: the shapes set is generated into
# memory and then copied into a tensor (uint8, 4.1 KB an image with its mask), so 2.88M fresh
# images would need 24 GB, the whole machine. x12 sees each of x4's 960,000 images 3 times.
TRAIN_SIZE = {
    "vit_nano_b64_x12": 960_000,
    "vit_nopos_b64_x6": 960_000,
    "deit_sin_b64_x6": 480_000,
    "deit_shape_b64_x6": 960_000,
    "deit_tex_b64_x6": 960_000,
    "deit_tex_b64_x12": 960_000,
}
PACK_EVERY_S = 600  # how often a --pack-to run copies its resume state into the repository


def recipe_text(name, family, model, dataset, batch, images, lr, extra, points):
    steps = images // batch
    per_point = max(1, steps // points)
    return f"""# learning curve candidate {name} (benchmarks/learning_curves.py)
name = "curve-{name}"
seed = 0
strategy = "one_device"
log_every = 50

[data]
dataset = "{dataset},train_size={TRAIN_SIZE.get(name, images)}"
split = "train"
eval_split = "test"
eval_limit = 1000

[augment]
flip = true
label_smoothing = 0.1

[optim]
epochs = {points}
steps_per_epoch = {per_point}
batch_size = {batch}
learning_rate = {lr}
min_learning_rate = 1e-5
warmup_epochs = {max(1, points // 10)}
weight_decay = 0.05
clip_norm = 1.0

[[train]]
name = "{family}"
model = "{model}"
{extra}
"""


def run_candidate(name, points, pack_to=None):
    family, model, dataset, batch, images, lr, extra = CANDIDATES[name]
    target = CACHE / name
    CACHE.mkdir(parents=True, exist_ok=True)
    if pack_to and not (target / "run.json").exists() and (Path(pack_to) / name / "run.json").exists():
        shutil.copytree(Path(pack_to) / name, target)  # a fresh cache: go on from the last session's pack
        print(f"{name}: restored from {Path(pack_to) / name}", flush=True)
    recipe = CACHE / f"{name}.toml"
    recipe.write_text(recipe_text(name, family, model, dataset, batch, images, lr, extra, POINTS.get(name, points)))
    vitlab = [sys.executable, "-m", "vitlab.cli", "recipe", "run", "--quiet", "--runs", str(CACHE)]
    if (target / "run.json").exists():
        info = json.loads((target / "run.json").read_text())
        command = None if info.get("status") == "done" else [*vitlab, "--resume", str(target)]
    else:
        command = [*vitlab, str(recipe), "--out", str(target)]
    if command:
        from vitlab.child_process import run_child

        on_poll = (lambda: pack(name, pack_to)) if pack_to else (lambda: None)
        code = run_child(command, PACK_EVERY_S if pack_to else None, on_poll)
        if pack_to:
            pack(name, pack_to)
        if code:
            raise SystemExit(f"{name}: `{' '.join(command)}` exited with {code}; rerun to resume {target}")
    return read_curve(name, target)


def pack(name, out):
    """Copy a candidate run's resume state (run.json, events, each step's newest checkpoint)
    into OUT/NAME, replacing an older pack only once the new one is whole: the cache does not
    always outlive a session, and a 45,000-step run spans several."""
    from vitlab import atomic
    from vitlab.training import checkpoint_state as checkpoint

    source, target = CACHE / name, Path(out) / name
    if not (source / "run.json").exists():
        return
    with atomic.replacing_dir(target) as temp:
        for file in ("run.json", "events.jsonl"):
            if (source / file).exists():
                shutil.copyfile(source / file, temp / file)
        checkpoint.copy_newest(source, temp)


# Finished candidates shipped in zoo/ as extras (vitlab.zoo.EXTRAS): name -> (role, the vitlab
# commit that trained it: x12 ran from 2026-12-03 21:32 on d3c9603's vitlab/, unchanged since 9a43e03;
# deit_sin_b64_x6 from 2026-12-05 06:42 on a98b393's; deit_shape_b64_x6 from 08:14 on 51a229f's,
# resumed at 11:14 with vitlab/'s training code unchanged; deit_tex_b64_x6 from 12:05 on 26f4e9d's).
# `--ship` publishes those not yet in zoo/.
SHIPPED = {
    "vit_nano_b64_x12": ("vit_long", "d3c9603"),
    "deit_sin_b64_x6": ("deit_sin_long", "a98b393"),
    "deit_shape_b64_x6": ("deit_shape_long", "51a229f"),
    "deit_tex_b64_x6": ("deit_tex_long", "26f4e9d"),
}


def ship(name, pack_dir, zoo_dir):
    """Rebuild a finished candidate's model from its last checkpoint (as the trainer's restore
    does: the training model, compiled, its optimizer built) and publish it into `zoo_dir` with a
    card, so the model a curve ends at can be studied (`zoo:ROLE`)."""
    from vitlab import atomic, models, zoo
    from vitlab.training import checkpoint, plan, trainer
    from vitlab.training import recipe as recipe_lib
    from vitlab.zoo import cards

    role, commit = SHIPPED[name]
    family, model, dataset, batch, images, lr, extra = CANDIDATES[name]
    run = CACHE / name if (CACHE / name / "run.json").exists() else Path(pack_dir) / name
    info = json.loads((run / "run.json").read_text())
    if info.get("status") != "done":
        raise SystemExit(f"{name}: its run in {run} has not finished; resume it with --only {name}")
    recipe_file = CACHE / f"{name}.toml"
    CACHE.mkdir(parents=True, exist_ok=True)
    recipe_file.write_text(recipe_text(name, family, model, dataset, batch, images, lr, extra, POINTS.get(name, 12)))
    step = recipe_lib.load(str(recipe_file), check_data=False).train[0]
    training = info["training"][step.name]
    student = plan.build_student(step, len(training["class_names"]), models.get_spec(step.model).image_size)
    wrapper = trainer.TrainingModel(student, None, step.distill)
    wrapper.compile(optimizer=trainer.optimizer(step.optim, training["steps_per_epoch"]))
    epoch, _ = checkpoint.restore(wrapper, run / "checkpoints" / step.name)
    if epoch != training["epochs"]:
        raise SystemExit(f"{name}: the last checkpoint in {run} is epoch {epoch}, not the final {training['epochs']}")
    zoo_dir = Path(zoo_dir)
    target = zoo_dir / f"{role}.keras"
    with atomic.replacing(target, suffix=".keras") as saved:
        student.save(str(saved))
        zoo.compress(saved)
    card = cards.card_for(
        role,
        0,
        run,
        target,
        step_name=step.name,
        recipe=f"benchmarks/learning_curves.py --only {name}",
        commits=[commit],
    )
    atomic.write_json(zoo.card_path(target), card, indent=2)
    print(
        f"{name}: shipped as zoo:{role} ({target}), clean top-1 {card['clean_accuracy']:.3f} "
        f"on {card['eval_images']} images",
        flush=True,
    )


def read_curve(name, target):
    family, model, dataset, batch, images, lr, extra = CANDIDATES[name]
    from vitlab.training.trainer import cumulative_cpu_seconds

    events = [json.loads(line) for line in (target / "events.jsonl").read_text().splitlines() if line.strip()]
    points = []
    for event, cpu_s in cumulative_cpu_seconds(events, f"train:{family}"):
        if event.get("kind") == "metric" and event.get("name") == "val_accuracy":
            points.append(
                {
                    "steps": event["done"],
                    "images": event["done"] * batch,
                    "cpu_s": cpu_s,
                    "time": event["time"],
                    "val_accuracy": event["value"],
                }
            )
    start = next(json.loads(line)["time"] for line in (target / "events.jsonl").read_text().splitlines())
    for point in points:
        point["wall_s"] = round(point.pop("time") - start, 1)
    return {
        "name": name,
        "family": family,
        "model": model,
        "dataset": dataset,
        "batch": batch,
        "learning_rate": lr,
        "images": images,
        "points": points,
    }


def zoo_curves(run):
    """Per-role validation curves of a zoo training run (events.jsonl), finished or not."""
    import json as json_lib

    from vitlab.results import Run
    from vitlab.training.trainer import cumulative_cpu_seconds

    parsed, _ = Run(run).events()  # skips a line torn by a kill
    if not parsed:
        return []
    info = json_lib.loads((Path(run) / "run.json").read_text()) if (Path(run) / "run.json").exists() else {}
    steps = {s["name"]: s for s in info.get("config", {}).get("train", [])}
    curves = {}
    for key in dict.fromkeys(e["step"] for e in parsed if str(e.get("step", "")).startswith("train:")):
        role = key.split(":", 1)[1]
        batch = steps.get(role, {}).get("optim", {}).get("batch_size", 0)
        for event, cpu_s in cumulative_cpu_seconds(parsed, key):  # a resumed role's CPU-seconds continue
            if event.get("kind") == "metric" and event.get("name") == "val_accuracy":
                curves.setdefault(role, []).append(
                    {
                        "steps": event["done"],
                        "images": event["done"] * batch,
                        "cpu_s": cpu_s,
                        "val_accuracy": event["value"],
                    }
                )
    return [
        {
            "name": f"zoo:{role}",
            "family": "zoo",
            "model": steps.get(role, {}).get("model"),
            "dataset": steps.get(role, {}).get("data", {}).get("dataset"),
            "batch": steps.get(role, {}).get("optim", {}).get("batch_size"),
            "points": points,
        }
        for role, points in curves.items()
    ]


def plot(curves, path, screens=(), day_img_s=None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (by_images, by_cpu, screened) = plt.subplots(1, 3, figsize=(16, 4.6))
    colours = plt.get_cmap("tab20").colors  # more curves than the default cycle's 10 colours
    for axis in (by_images, by_cpu):
        axis.set_prop_cycle(color=colours)
        for target in (0.85, 0.75, 0.70):  # the zoo's targets: vit and deit_*, vit_nopos, *_sin
            axis.axhline(target, color="grey", lw=0.6, alpha=0.6)
    for curve in curves:
        style = dict(marker="o", ms=3, label=curve["name"], ls="-" if curve.get("family") == "zoo" else "--")
        ys = [p["val_accuracy"] for p in curve["points"]]
        by_images.plot([p["images"] for p in curve["points"]], ys, **style)
        by_cpu.plot([p["cpu_s"] for p in curve["points"]], ys, **style)
    for screen in screens:
        screened.plot(
            [p["cpu_s"] for p in screen["points"]],
            [p["val_accuracy"] for p in screen["points"]],
            marker="o",
            ms=3,
            label=f"{screen['name']} (b{screen['batch']})",
        )
    by_cpu.axvline(BUDGET_CPU_S, color="grey", ls=":", lw=1, label="budget at 500 img/s (800 CPU-s)")
    if day_img_s:  # the budget scales with the day's bench_throughput figure
        scaled = BUDGET_CPU_S * 500.0 / day_img_s
        by_cpu.axvline(scaled, color="black", ls=":", lw=1, label=f"budget at {day_img_s:g} img/s ({scaled:.0f} CPU-s)")
    for axis, label in (
        (by_images, "training images"),
        (by_cpu, "CPU-seconds of training"),
        (screened, "CPU-seconds (screening, 240 s wall each)"),
    ):
        axis.set_xlabel(label)
        axis.set_ylabel("clean top-1 (1,000 test images)")
        axis.grid(alpha=0.3)
        axis.set_ylim(0, 1)
    by_cpu.legend(fontsize=6)
    screened.legend(fontsize=6)
    by_images.set_title(
        "dashed: candidate runs; solid: the zoo (seed 0); grey lines: targets 0.85, 0.75, 0.70", fontsize=8
    )
    screened.set_title("benchmarks/screen_configs.py", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated candidate names (default: all)")
    parser.add_argument("--points", type=int, default=12, help="evaluations along each schedule")
    parser.add_argument("--plot-only", action="store_true", help="read finished runs, write JSON and plot")
    parser.add_argument(
        "--pack-to",
        default=None,
        help="copy each run's resume state here every 10 minutes and at its end, and "
        "restore it from here into an empty cache (e.g. state/curves)",
    )
    parser.add_argument(
        "--day-img-s",
        type=float,
        default=None,
        help="the day's bench_throughput vit_nano training img/s: draws the scaled budget too",
    )
    parser.add_argument(
        "--ship",
        action="store_true",
        help="publish the finished candidates of SHIPPED into zoo/ with cards (from --pack-to "
        "when the cache no longer holds them), then stop",
    )
    args = parser.parse_args()
    if args.ship:
        from vitlab import zoo

        for name, (role, _) in SHIPPED.items():
            if not (zoo.shipped_dir() / f"{role}.keras").exists() or name in args.only.split(","):
                ship(name, args.pack_to or "state/curves", zoo.shipped_dir())
        return
    names = [n for n in args.only.split(",") if n] or list(CANDIDATES)
    measured = RESULTS / "learning_curves.json"  # a candidate whose run the cache no longer holds
    earlier = {c["name"]: c for c in json.loads(measured.read_text())["curves"]} if measured.exists() else {}
    curves = []
    for name in CANDIDATES:
        target = CACHE / name
        if name in names and not args.plot_only:
            curves.append(run_candidate(name, args.points, args.pack_to))
        elif (target / "events.jsonl").exists():
            curves.append(read_curve(name, target))
        elif name in earlier:
            curves.append(earlier[name])
        if curves and curves[-1]["name"] == name:
            last = curves[-1]["points"][-1] if curves[-1]["points"] else {}
            print(f"{name}: {last}", flush=True)
    curves += zoo_curves(ZOO_RUN) or [c for name, c in earlier.items() if name.startswith("zoo:")]
    screens_file = RESULTS / "screen_configs.json"
    screens = (
        [v for k, v in json.loads(screens_file.read_text()).items() if not k.startswith("_")]
        if screens_file.exists()
        else []
    )
    RESULTS.mkdir(exist_ok=True)
    curves = [c for c in curves if c["points"]]  # a run stopped before its first evaluation says nothing
    (RESULTS / "learning_curves.json").write_text(
        json.dumps({"budget_cpu_s": BUDGET_CPU_S, "curves": curves}, indent=1)
    )
    plot(curves, RESULTS / "learning_curves.png", screens, args.day_img_s)


if __name__ == "__main__":
    main()
