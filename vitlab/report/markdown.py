"""A run's report: report/index.md with every table, and one PNG per curve (vitlab.report.plots).

Generic over experiments: it renders the Curves and Tables that results carry.
"""

from pathlib import Path

from vitlab import atomic
from vitlab.report.plots import save_curve
from vitlab.results.result import Result, Table


def _safe(text):
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text).strip("_")[:80]


def render_result(key: str, result: Result, report_dir: Path):
    """Markdown for one result, writing its PNGs into report_dir."""
    lines = [f"## {key}", ""]
    if result.models:
        lines.append(f"Models: {', '.join(result.models)}")
        lines.append("")
    for index, curve in enumerate(result.curves):
        filename = f"{_safe(key)}-{index}-{_safe(curve.title)}.png"
        save_curve(curve, report_dir / filename)
        lines += [f"![{curve.title}]({filename})", ""]
    for table in result.tables:
        lines += [f"**{table.title}**", "", table.to_markdown(), ""]
    if result.summary:
        lines += ["| metric | value |", "|---|---|"]
        lines += [f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in result.summary.items()]
        lines.append("")
    for image in result.images:
        lines += [f"![{Path(image).stem}](../{image})", ""]
    for note in result.notes:
        lines += [f"> {note}", ""]
    return lines


def training_table(training):
    """One row per trained model: what it was trained on and how far it got."""
    columns = ["model", "architecture", "dataset", "teacher", "epochs", "seconds", "accuracy", "val_accuracy"]
    rows = []
    for name, entry in training.items():
        rows.append(
            [
                name,
                entry.get("model", ""),
                entry.get("dataset", ""),
                entry.get("teacher") or "-",
                entry.get("epochs", ""),
                round(entry.get("seconds") or 0),
                *[
                    float(entry[k]) if isinstance(entry.get(k), (int, float)) else "-"
                    for k in ("accuracy", "val_accuracy")
                ],
            ]
        )
    return Table("trained models", columns, rows)


def write_report(run):
    """(Re)write run/report/index.md and its PNGs from results.h5; returns the index path."""
    info = run.read_info()
    report_dir = run.subdir("report")
    lines = [
        f"# {info.get('name', run.id)}",
        "",
        f"Run `{run.id}` ({info.get('kind', '')}), seed {info.get('seed')}, dataset `{info.get('dataset')}`.",
        "",
    ]
    training = info.get("training")
    if training:
        lines += ["## training", "", training_table(training).to_markdown(), ""]
    for key, result in run.results().items():
        lines += render_result(key, result, report_dir)
    index = report_dir / "index.md"
    atomic.write_text(index, "\n".join(lines) + "\n")
    return index
