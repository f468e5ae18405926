"""A run's report: one PNG per curve (matplotlib) and report/index.md with every table.

Generic over experiments: it draws the Curves and Tables that results carry.
"""

import sys
from pathlib import Path

from vitlab.results.result import Curve, Result, Table


FIGSIZE, DPI = (6.4, 4.2), 110


def _safe(text):
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text).strip("_")[:80]


def plot_curve(curve: Curve, path: Path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGSIZE, dpi=DPI)  # no pyplot: nothing global, safe from worker threads
    draw_curve(curve, fig.subplots())
    fig.savefig(path)


def new_figure(scale=(1, 1)):
    """A Figure of the report's size (times `scale` columns, rows).

    When pyplot is in use (a notebook, a script) the figure joins it, so it shows inline;
    otherwise it is a standalone Figure that needs no display.
    """
    size = (FIGSIZE[0] * scale[0], FIGSIZE[1] * scale[1])
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        return plt.figure(figsize=size, dpi=DPI)
    from matplotlib.figure import Figure

    return Figure(figsize=size, dpi=DPI)


def curve_figure(curve: Curve):
    """The report's drawing of one curve as a new matplotlib Figure (what Result.plot returns)."""
    fig = new_figure()
    draw_curve(curve, fig.subplots())
    return fig


def draw_curve(curve: Curve, ax):
    """Draw one Curve (line or bar, error bars, categorical ticks) on a matplotlib Axes."""
    fig = ax.figure
    labels = list(curve.series)
    if curve.kind == "bar":
        count = max(len(labels), 1)
        width = 0.8 / count
        positions = range(len(curve.x))
        for index, label in enumerate(labels):
            offsets = [p + (index - (count - 1) / 2) * width for p in positions]
            values = [float("nan") if v is None else v for v in curve.series[label]]
            ax.bar(offsets, values, width=width, label=label, yerr=curve.errors.get(label))
        ax.set_xticks(list(positions))
        ax.set_xticklabels(curve.x_ticks or [str(x) for x in curve.x], rotation=30, ha="right")
    else:
        for label in labels:
            values = [float("nan") if v is None else v for v in curve.series[label]]
            errors = curve.errors.get(label)
            x = list(range(len(curve.x))) if curve.x_ticks else curve.x
            if errors:
                ax.errorbar(x, values, yerr=errors, marker="o", markersize=3, capsize=2, label=label)
            else:
                ax.plot(x, values, marker="o", markersize=3, label=label)
        if curve.x_ticks:
            ax.set_xticks(list(range(len(curve.x))))
            ax.set_xticklabels(curve.x_ticks, rotation=30, ha="right")
    ax.set_title(curve.title)
    ax.set_xlabel(curve.x_label)
    ax.set_ylabel(curve.y_label)
    ax.grid(alpha=0.3)
    if labels:
        ax.legend(fontsize=8)
    fig.tight_layout()


def render_result(key: str, result: Result, report_dir: Path):
    """Markdown for one result, writing its PNGs into report_dir."""
    lines = [f"## {key}", ""]
    if result.models:
        lines.append(f"Models: {', '.join(result.models)}")
        lines.append("")
    for index, curve in enumerate(result.curves):
        filename = f"{_safe(key)}-{index}-{_safe(curve.title)}.png"
        plot_curve(curve, report_dir / filename)
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
        rows.append([name, entry.get("model", ""), entry.get("dataset", ""), entry.get("teacher") or "-",
                     entry.get("epochs", ""), round(entry.get("seconds") or 0),
                     *[float(entry[k]) if isinstance(entry.get(k), (int, float)) else "-"
                       for k in ("accuracy", "val_accuracy")]])
    return Table("trained models", columns, rows)


def write_report(run):
    """(Re)write run/report/index.md and its PNGs from results.h5; returns the index path."""
    info = run.read_info()
    report_dir = run.subdir("report")
    lines = [f"# {info.get('name', run.id)}", "", f"Run `{run.id}` ({info.get('kind', '')}), seed {info.get('seed')}, "
             f"dataset `{info.get('dataset')}`.", ""]
    training = info.get("training")
    if training:
        lines += ["## training", "", training_table(training).to_markdown(), ""]
    for key, result in run.results().items():
        lines += render_result(key, result, report_dir)
    index = report_dir / "index.md"
    index.write_text("\n".join(lines) + "\n")
    return index
