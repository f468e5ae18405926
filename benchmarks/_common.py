"""What every benchmark script shares: the machine's name and facts, versions, result files."""

import json
import os
import platform
import re
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown cpu"


def machine_name():
    """A stable file name for this kind of machine: $VITLAB_MACHINE, else cpu model + cores."""
    if os.environ.get("VITLAB_MACHINE"):
        return os.environ["VITLAB_MACHINE"]
    model = re.sub(r"\(R\)|\(TM\)|CPU|Processor|@.*", "", cpu_model())
    model = re.sub(r"[^a-z0-9]+", "-", model.lower()).strip("-")
    return f"{model}-{os.cpu_count()}cores"


def machine_info():
    return {
        "name": machine_name(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "system": platform.platform(),
        "python": platform.python_version(),
    }


def versions():
    from vitlab.results.store import stack_versions

    return stack_versions()


def write_result(bench, payload, summary):
    """benchmarks/results/<bench>.json with the common header; prints the one-line summary."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {
        "bench": bench,
        "summary": summary,
        "machine": machine_info(),
        "versions": versions(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        **payload,
    }
    path = RESULTS / f"{bench}.json"
    path.write_text(json.dumps(record, indent=2, default=float))
    print(f"[{bench}] {summary}")
    return path


def limit_threads(threads=2):
    """Intra-op threads for TensorFlow (and XLA/Eigen) before TensorFlow starts."""
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(threads))
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
