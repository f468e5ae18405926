"""`make bench`: runs every benchmarks/bench_*.py, then collects their JSON into one file.

Each script writes its own JSON under benchmarks/results/ and prints a one-line summary;
this runner gives each a time limit, records failures instead of stopping, and writes
benchmarks/results/<machine>.json plus the markdown table benchmarks/results/<machine>.md
that the README links to. The default is the CPU set in well under 15 minutes (each
script's --quick setting); --full runs each script's own default sizes.

    .venv/bin/python benchmarks/run_all.py [--full] [--only throughput,scaling] [--timeout 900]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _common  # noqa: E402

# Measured first: the timm venv (made once) and the headline figure.
ORDER = ["bench_throughput.py"]


def scripts(only=None):
    found = sorted(HERE.glob("bench_*.py"), key=lambda p: (p.name not in ORDER, p.name))
    if only:
        wanted = {f"bench_{name.removeprefix('bench_').removesuffix('.py')}.py" for name in only.split(",")}
        found = [p for p in found if p.name in wanted]
    return found


def run_script(path, full, timeout):
    args = [sys.executable, str(path)]
    if not full and "--quick" in path.read_text():
        args.append("--quick")
    start = time.perf_counter()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env, cwd=HERE.parent)
        status = "ok" if done.returncode == 0 else f"failed (exit {done.returncode})"
        output, errors = done.stdout, done.stderr
    except subprocess.TimeoutExpired as expired:
        status, output, errors = f"timed out after {timeout} s", expired.stdout or "", expired.stderr or ""
        output = output.decode() if isinstance(output, bytes) else output
        errors = errors.decode() if isinstance(errors, bytes) else errors
    lines = [line for line in output.splitlines() if line.strip()]
    return {
        "script": path.name,
        "status": status,
        "seconds": round(time.perf_counter() - start, 1),
        "args": args[2:],
        "last_line": lines[-1].replace(f"{HERE.parent}/", "") if lines else "",
        "stderr_tail": "" if status == "ok" else errors[-2000:],
    }


def collect(started):
    """Results written during this run, by file (each script chooses its own names)."""
    results = {}
    for path in sorted(_common.RESULTS.glob("*.json")):
        if path.stat().st_mtime >= started and not path.name.startswith(_common.machine_name()):
            try:
                results[path.stem] = json.loads(path.read_text())
            except json.JSONDecodeError:
                results[path.stem] = {"error": "unreadable JSON"}
    return results


def summary_of(result):
    for key in ("summary", "one_line", "headline"):
        if isinstance(result.get(key), str):
            return result[key]
    return ""


def markdown(machine, runs, results, total_s):
    lines = [
        f"# vitlab benchmarks on {machine['name']}",
        "",
        f"{machine['cpu']}, {machine['cores']} cores; made by `make bench` "
        f"(`.venv/bin/python benchmarks/run_all.py`) in {total_s / 60:.1f} min on {time.strftime('%Y-%m-%d')}. "
        "Each figure's baseline was measured in the same run.",
        "",
        "| script | status | seconds | result |",
        "|---|---|---|---|",
    ]
    for run in runs:
        lines.append(
            f"| {run['script']} | {run['status']} | {run['seconds']:.0f} | {run['last_line'].replace('|', '/')[:300]} |"
        )
    for name, result in results.items():
        if result.get("table") or summary_of(result):
            lines += ["", f"## {name}", "", summary_of(result), ""]
            if isinstance(result.get("notes"), str):
                lines += [result["notes"], ""]
            if result.get("table"):
                lines.append(result["table"])
            if result.get("plot"):
                lines += ["", f"![{name}]({result['plot']})"]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="each script's default sizes, not --quick")
    parser.add_argument("--only", default=None, help="comma-separated subset, e.g. throughput,scaling")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per script")
    args = parser.parse_args(argv)
    started = time.time()
    _common.RESULTS.mkdir(parents=True, exist_ok=True)
    runs = []
    for path in scripts(args.only):
        print(f"== {path.name}", flush=True)
        runs.append(run_script(path, args.full, args.timeout))
        print(f"   {runs[-1]['status']} in {runs[-1]['seconds']:.0f} s: {runs[-1]['last_line']}", flush=True)
    total = time.time() - started
    machine = _common.machine_info()
    results = collect(started)
    record = {
        "machine": machine,
        "versions": _common.versions(),
        "total_s": total,
        "runs": runs,
        "results": results,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    out = _common.RESULTS / f"{machine['name']}.json"
    out.write_text(json.dumps(record, indent=2, default=float))
    out.with_suffix(".md").write_text(markdown(machine, runs, results, total))
    failed = [run["script"] for run in runs if run["status"] != "ok"]
    print(
        f"wrote {out} and {out.with_suffix('.md')} ({total / 60:.1f} min)"
        + (f"; not ok: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
