"""The result object every experiment returns.

Storing, plotting and the TUI consume these, never experiment internals: an experiment
says what its numbers are (arrays), how to draw them (curves) and how to tabulate them
(tables), and the rest of vitlab is generic over experiments. Pure Python + NumPy, so the
TUI can read results without TensorFlow.
"""

import dataclasses
import json

import numpy as np


@dataclasses.dataclass
class Curve:
    """One plot: y against x, one series per label (usually per model), optional error bars."""

    title: str
    x_label: str
    y_label: str
    x: list
    series: dict  # label -> list of y values (same length as x)
    errors: dict = dataclasses.field(default_factory=dict)  # label -> list of +/- values
    x_ticks: list | None = None  # labels for categorical x (e.g. "2x2", "gaussian_noise")
    kind: str = "line"  # "line" or "bar"

    def to_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Table:
    title: str
    columns: list
    rows: list  # list of lists, cells are str / int / float

    def to_dict(self):
        return dataclasses.asdict(self)

    def to_markdown(self, digits=4):
        def cell(value):
            if isinstance(value, float):
                return f"{value:.{digits}f}"
            return str(value)

        lines = [f"| {' | '.join(map(str, self.columns))} |", f"|{'---|' * len(self.columns)}"]
        lines += [f"| {' | '.join(cell(v) for v in row)} |" for row in self.rows]
        return "\n".join(lines)


@dataclasses.dataclass
class Result:
    """What an experiment found.

    experiment: registry name ("occlusion"); config: the resolved config (JSON-able);
    models: model names in order; arrays: "path/inside/group" -> ndarray;
    curves / tables: what to draw; summary: headline numbers {"name": value};
    images: paths of PNGs the experiment wrote itself (attention grids), relative to the run.
    `to_frame()` gives the numbers as a tidy DataFrame, `plot()` the report's figure.
    """

    experiment: str
    config: dict
    models: list
    arrays: dict = dataclasses.field(default_factory=dict)
    curves: list = dataclasses.field(default_factory=list)
    tables: list = dataclasses.field(default_factory=list)
    summary: dict = dataclasses.field(default_factory=dict)
    images: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)
    run_path: str | None = dataclasses.field(default=None, compare=False)  # set when read from a run; not stored

    def to_frame(self, summary=True):
        """The result as a tidy pandas DataFrame, one row per number.

        Columns: experiment, model, head, x_name, x, metric, value, error (NaN when the
        experiment gives none), series (the raw series label), curve (the plot's title, or
        "summary" for the headline numbers, left out with summary=False).
        Needs pandas (`pip install 'vitlab[frames]'`).
        """
        from vitlab.results.frames import to_frame

        return to_frame(self, summary=summary)

    def plot(self, curve=None):
        """The report's figure as a matplotlib Figure: one curve (index or title), or all in a grid."""
        from vitlab.report import plots  # the report draws; it never imports results back

        if not self.curves:
            raise ValueError(f"{self.experiment}: this result has no curves to plot")
        if curve is not None or len(self.curves) == 1:
            return plots.curve_figure(self._curve(0 if curve is None else curve))
        return plots.curves_figure(self.curves)

    def _curve(self, which):
        if isinstance(which, int):
            if not -len(self.curves) <= which < len(self.curves):
                raise IndexError(f"{self.experiment}: curve {which} out of range ({len(self.curves)} curves)")
            return self.curves[which]
        for each in self.curves:
            if str(which).lower() in each.title.lower():
                return each
        titles = "; ".join(c.title for c in self.curves)
        raise KeyError(f"{self.experiment}: no curve titled {which!r}; curves: {titles}")

    def headline(self):
        """The first summary entry: what a one-line listing shows."""
        for key, value in self.summary.items():
            return key, value
        return None

    def __repr__(self):
        """What it is and its headline numbers, in a few lines: the arrays can be megabytes
        (`arrays`, `summary`, `to_frame()` give everything)."""
        models = ", ".join(map(str, self.models[:6])) + (
            f", ... ({len(self.models)} models)" if len(self.models) > 6 else ""
        )
        where = f"run {self.run_path}" if self.run_path else "in memory"
        lines = [f"Result {self.experiment} on {models or 'no models'} ({where})"]
        shown = list(self.summary.items())[:_REPR_SUMMARY_ROWS]
        width = max((len(str(key)) for key, _ in shown), default=0)
        lines += [f"  {str(key):<{width}}  {_number_text(value)}" for key, value in shown]
        if len(self.summary) > len(shown):
            lines.append(f"  ... {len(self.summary) - len(shown)} more in .summary")
        parts = [
            f"{len(self.summary)} summary numbers",
            _count(self.curves, "curve"),
            _count(self.tables, "table"),
            _count(self.arrays, "array"),
        ] + ([_count(self.images, "image")] if self.images else [])
        lines.append(f"  ({', '.join(parts)}; .to_frame() has every number)")
        return "\n".join(lines)


_REPR_SUMMARY_ROWS = 8


def _count(items, noun):
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _number_text(value):
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4f}"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def to_jsonable(value):
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def dumps(value):
    return json.dumps(to_jsonable(value))
