"""The report's drawing: a Curve (vitlab.results.result) as a matplotlib line or bar chart.

Results are the core: Result.plot calls into this module, which never imports vitlab.results
(a curve is read by its attributes), so results and report import each other in no circle.
"""

import sys

FIGSIZE, DPI = (6.4, 4.2), 110


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


def save_curve(curve, path):
    """One curve as a PNG file."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGSIZE, dpi=DPI)  # no pyplot: nothing global, safe from worker threads
    draw_curve(curve, fig.subplots())
    fig.savefig(path)


def curve_figure(curve):
    """The report's drawing of one curve as a new matplotlib Figure."""
    fig = new_figure()
    draw_curve(curve, fig.subplots())
    return fig


def curves_figure(curves):
    """Several curves in a grid of two columns, as one new Figure."""
    columns = min(2, len(curves))
    rows = -(-len(curves) // columns)
    fig = new_figure(scale=(columns, rows))
    for ax, each in zip(fig.subplots(rows, columns, squeeze=False).ravel(), curves):
        draw_curve(each, ax)
    for ax in fig.axes[len(curves) :]:
        ax.set_visible(False)
    return fig


def draw_curve(curve, ax):
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
