"""TUI start-up and 500-run figures: time to first paint, time until 500 runs are listed,
one filter redraw, and one quiet polling tick. Writes benchmarks/results/tui.json.

    .venv/bin/python benchmarks/bench_tui.py [--runs 500]

Each figure comes from a fresh interpreter (so imports count), median of --repeats.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROBE = r"""
import time
t0 = time.perf_counter()
import asyncio, sys
from vitlab.tui.app import create_app
imported = time.perf_counter() - t0

async def main():
    app = create_app(sys.argv[1], poll_interval=3600)
    async with app.run_test(size=(140, 40)) as pilot:
        first_paint = time.perf_counter() - t0
        table = app.runs_screen.table
        while table.row_count < int(sys.argv[2]):
            await pilot.pause(0.01)
        listed = time.perf_counter() - t0
        t = time.perf_counter(); table.set_filter("fashion"); await pilot.pause(0); filter_s = time.perf_counter() - t
        t = time.perf_counter(); app.index.refresh(); tick_s = time.perf_counter() - t
        print(imported, first_paint, listed, filter_s, tick_s, "tensorflow" in sys.modules)

asyncio.run(main())
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "tui.json"))
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from sample_runs import make_runs  # synthetic runs live with the tests

    root = Path(tempfile.mkdtemp(prefix="vitlab-bench-tui-")) / "runs"
    started = time.perf_counter()
    make_runs(root, args.runs, results_every=25)
    made_s = time.perf_counter() - started
    samples = []
    for _ in range(args.repeats):
        done = subprocess.run(
            [sys.executable, "-c", PROBE, str(root), str(args.runs)], capture_output=True, text=True, check=True
        )
        samples.append(done.stdout.split())
    columns = list(zip(*samples))
    median = lambda i: round(statistics.median(float(v) for v in columns[i]), 4)  # noqa: E731
    result = {
        "runs": args.runs,
        "repeats": args.repeats,
        "create_runs_s": round(made_s, 2),
        "import_s": median(0),
        "first_paint_s": median(1),
        "runs_listed_s": median(2),
        "filter_redraw_s": median(3),
        "quiet_tick_s": median(4),
        "tensorflow_imported": any(s[5] == "True" for s in samples),
        "first_paint_under_1s": median(1) < 1.0,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(
        f"tui: first paint {result['first_paint_s']:.3f}s, {args.runs} runs listed {result['runs_listed_s']:.3f}s, "
        f"filter {result['filter_redraw_s'] * 1000:.0f}ms, quiet tick {result['quiet_tick_s'] * 1000:.1f}ms "
        f"(median of {args.repeats}) -> {args.out}"
    )


if __name__ == "__main__":
    main()
