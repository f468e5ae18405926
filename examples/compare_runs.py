"""Compare the headline numbers of two (or more) runs in one DataFrame.

    python examples/compare_runs.py runs/<run-a> runs/<run-b>
    python examples/compare_runs.py runs/<run-a> runs/<run-b> --csv comparison.csv

Works for any runs: `vitlab eval`, `vitlab recipe run`, vitlab.evaluate(run_dir=...) or vitlab.train.
"""

import argparse

import pandas as pd

import vitlab


def main(argv=None):
    parser = argparse.ArgumentParser(description="Headline numbers of several runs side by side.")
    parser.add_argument("runs", nargs="+", help="run directories")
    parser.add_argument("--csv", help="also write the comparison here")
    args = parser.parse_args(argv)

    runs = [vitlab.open_run(path) for path in args.runs]
    frame = pd.concat([run.to_frame() for run in runs], ignore_index=True)
    summary = frame[frame.curve == "summary"]
    table = summary.pivot_table(index=["key", "metric", "model", "head"], columns="run", values="value", sort=False)[
        [run.id for run in runs]
    ]
    if len(runs) == 2:
        table["difference"] = table[runs[1].id] - table[runs[0].id]
    print(table.to_string(float_format="%.4f"))
    if args.csv:
        table.to_csv(args.csv)
        print(f"wrote {args.csv}")
    return table


if __name__ == "__main__":
    main()
