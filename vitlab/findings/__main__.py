"""`python -m vitlab.findings study` (train + report), `python -m vitlab.findings report RUN...` and
`python -m vitlab.findings long` (the ViT checks on the long-trained ViTs, vitlab.findings.long_vit)."""

import argparse
import sys

from vitlab.errors import UserError


def _parser():
    parser = argparse.ArgumentParser(prog="python -m vitlab.findings",
                                     description="Re-test the paper's claims: run the findings recipe per seed, "
                                                 "aggregate, write docs/findings.md.")
    commands = parser.add_subparsers(dest="command", required=True)
    study = commands.add_parser("study", help="run the recipe for every seed (resuming), then write the report")
    study.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    study.add_argument("--runs", default="runs/findings", help="folder of the per-seed runs (seed-N)")
    study.add_argument("--recipe", default="findings", help="recipe name or .toml path")
    study.add_argument("--set", dest="overrides", action="append", default=[], help="recipe override; repeatable")
    study.add_argument("--smoke", action="store_true", help="smoke sizes (implies --runs runs/findings-smoke)")
    study.add_argument("-o", "--output", default="docs/findings.md")
    study.add_argument("-q", "--quiet", action="store_true")
    report = commands.add_parser("report", help="aggregate existing runs (one per seed) into the report")
    report.add_argument("runs", nargs="+", help="run directories")
    report.add_argument("-o", "--output", default="docs/findings.md")
    long = commands.add_parser("long", help="re-measure the checks that involve the ViT roles on their "
                                             "long-trained models (recipe findings_long, one seed), write "
                                             "docs/findings_vit_long.md")
    long.add_argument("--runs", default="runs/findings-long", help="folder of its run (seed-0; resumed)")
    long.add_argument("--study", default="state/findings",
                      help="folder of the three-seed study's runs (seed-N), for their status; skipped when absent")
    long.add_argument("--smoke", action="store_true", help="smoke sizes (implies --runs runs/findings-long-smoke)")
    long.add_argument("-o", "--output", default="docs/findings_vit_long.md")
    long.add_argument("-q", "--quiet", action="store_true")
    return parser


def _long(args):
    import json
    from pathlib import Path

    from vitlab.findings import long_vit, study

    runs = "runs/findings-long-smoke" if args.smoke and args.runs == "runs/findings-long" else args.runs
    run, _ = study.run_seed(runs, 0, ["smoke=true"] if args.smoke else [], long_vit.RECIPE, args.quiet)
    seeds = sorted(Path(args.study).glob("seed-*")) if Path(args.study).is_dir() else []
    info = json.loads((Path(run) / "run.json").read_text())
    seconds = float(info.get("duration_s") or 0)  # resumes included (vitlab.results.store)
    header = [f"Evaluation wall time {seconds / 60:.1f} min on {info.get('finished', '?')[:10]}; run `{run}`.", ""]
    return long_vit.write(run, args.output, [str(s) for s in seeds if (s / "run.json").exists()], header)


def _seeds(text):
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise UserError(f"--seeds {text!r}: expected comma-separated integers like 0,1,2") from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise UserError(f"--seeds {text!r}: expected distinct integers like 0,1,2")
    return seeds


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        if args.command == "study":
            overrides = list(args.overrides) + (["smoke=true"] if args.smoke else [])
            runs = "runs/findings-smoke" if args.smoke and args.runs == "runs/findings" else args.runs
            from vitlab.findings import study

            output, _ = study.run_study(runs, _seeds(args.seeds), args.output, overrides, args.recipe, args.quiet)
        elif args.command == "long":
            output = _long(args)
        else:
            from vitlab.findings import aggregate, write

            output = write.write(aggregate.evaluate(aggregate.load_runs(args.runs)), args.output)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C or a stop passed on by the seed's run: the runs resume
        print("interrupted", file=sys.stderr)
        return 130
    print(f"findings: {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
