"""One snapshot's clean and occluded top-1 on the study's test and stylized sets:
`python -m vitlab.study.snapshot_eval MODEL.keras OUT.json [LIMIT]` (a process of its own, so a training
run beside it keeps its memory and a crash here loses no training).

Random PatchDrop at the levels the study's primary endpoint uses, on the same images for every
snapshot (seed 0), so that retention can be drawn against clean accuracy along training.
"""

import sys

LEVELS = (0.0, 0.25, 0.5)
SETS = {"test": "objects64", "stylized": "objects64:stylized"}
LIMIT = 1000


def occlusion_top1(model_path, dataset, limit, levels=LEVELS, **options):
    """{level: top-1} of one model under one occlusion setting (one mode; options as
    vitlab.experiments.occlusion.Config takes them), one repeat, the first `limit` images."""
    import vitlab

    options.setdefault("modes", ["random"])
    result = vitlab.evaluate(
        "occlusion", models=[str(model_path)], dataset=dataset, limit=limit, levels=list(levels), repeats=1, **options
    )
    frame = result.to_frame()
    rows = frame[(frame.metric == "top-1 accuracy") & frame.x.notna()]
    return {f"{float(x):.2f}": round(float(v), 5) for x, v in zip(rows.x, rows.value)}


def measure(model_path, limit=LIMIT, sets=SETS):
    return {key: occlusion_top1(model_path, dataset, limit) for key, dataset in sets.items()}


def main(argv=None):
    args = argv or sys.argv[1:]
    model_path, out_path = args[:2]
    limit = int(args[2]) if len(args) > 2 else LIMIT
    from vitlab import atomic

    atomic.write_json(out_path, measure(model_path, limit), indent=1)


if __name__ == "__main__":
    main()
