"""A Result Curve drawn in the terminal with textual-plotext, generically for every experiment.

Lines for numeric x, bars or categorical ticks for named x (shuffle grids, corruption
names); several Curves overlay for the compare screen, each series labelled.
"""

from textual_plotext import PlotextPlot


def _numeric(values):
    try:
        [float(v) for v in values]
        return True
    except (TypeError, ValueError):
        return False


class CurvePlot(PlotextPlot):
    """Draws [(prefix, Curve)]: a single curve, or the same curve from several runs."""

    DEFAULT_CSS = "CurvePlot { height: 18; min-width: 40; }"

    def __init__(self, curves, **kwargs):
        super().__init__(**kwargs)
        self.curves = curves

    def on_mount(self):
        self.draw()

    def draw(self):
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        if not self.curves:
            plt.title("no data")
            return
        first = self.curves[0][1]
        plt.title(first.title)
        plt.xlabel(first.x_label)
        plt.ylabel(first.y_label)
        ticks = first.x_ticks or ([str(v) for v in first.x] if not _numeric(first.x) else None)
        positions = list(range(len(first.x))) if ticks else [float(v) for v in first.x]
        if first.kind == "bar" and len(self.curves) == 1 and ticks:
            labels = list(first.series)
            plt.multiple_bar(ticks, [self._clean(first.series[label]) for label in labels], labels=labels)
        else:
            for prefix, curve in self.curves:
                x = list(range(len(curve.x))) if ticks else [float(v) for v in curve.x]
                for label, values in curve.series.items():
                    name = f"{prefix}{label}" if prefix else label
                    plt.plot(x[: len(values)], self._clean(values), label=name, marker="braille")
            if ticks:
                plt.xticks(positions, ticks)
        self.refresh()

    @staticmethod
    def _clean(values):
        return [float("nan") if v is None else float(v) for v in values]
