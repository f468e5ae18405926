"""Evaluate a zoo model under PatchDrop occlusion and plot accuracy against information loss.

    python examples/occlusion_zoo.py                                  # zoo:vit, 256 shapes test images
    python examples/occlusion_zoo.py --model zoo:deit_shape --model zoo:resnet --limit 512
    python examples/occlusion_zoo.py --model runs/<run>:vit --out mine.png

The zoo's seed-0 models ship in the repository's zoo/ folder; `vitlab zoo build` makes them.
"""

import argparse

import vitlab


def main(argv=None):
    parser = argparse.ArgumentParser(description="PatchDrop accuracy of zoo models, as a table and a figure.")
    parser.add_argument(
        "--model",
        action="append",
        help="zoo:ROLE, a .keras file, RUN:NAME or a registry name (repeatable; default zoo:vit)",
    )
    parser.add_argument("--dataset", default="shapes")
    parser.add_argument("--limit", type=int, default=256)
    parser.add_argument("--levels", default="0,0.25,0.5,0.75", help="fractions of patches dropped")
    parser.add_argument("--out", default="occlusion.png", help="where to write the figure")
    args = parser.parse_args(argv)

    result = vitlab.evaluate(
        "occlusion",
        models=args.model or ["zoo:vit"],
        dataset=args.dataset,
        limit=args.limit,
        modes=["random"],
        levels=[float(v) for v in args.levels.split(",")],
        repeats=1,
    )
    frame = result.to_frame()
    curve = result.curves[0]  # "PatchDrop random: top-1 accuracy"
    table = frame[frame.curve == curve.title].pivot_table(index="x", columns="model", values="value")
    print(f"{curve.title} (rows: {curve.x_label})")
    print(table.to_string(float_format="%.3f"))
    result.plot(curve.title).savefig(args.out)
    print(f"wrote {args.out}")
    return table


if __name__ == "__main__":
    main()
