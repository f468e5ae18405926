"""Results as tidy tables: one row per number, the long format pandas, seaborn and R expect.

Generic over experiments, like the report: rows come from a Result's curves (every point
of every series) and its summary (the headline numbers). A series label "MODEL/HEAD" names
a model and a head, the convention experiments follow; a label that is not a model (a bar
chart's single series, a "50% dropped" level) takes the model from the x tick or the
curve's title and stays in the `series` column. pandas is imported only by `to_frame`.
"""

import json
import math
from pathlib import Path

from vitlab.errors import UserError

COLUMNS = ("experiment", "model", "head", "x_name", "x", "metric", "value", "error", "series", "curve")
FORMATS = ("csv", "parquet", "json")


class MissingExtraError(UserError):
    """An optional dependency is missing; the message names the extra that installs it."""


def require_pandas():
    """pandas, or a one-line error naming the `frames` extra."""
    try:
        import pandas
    except ImportError:
        raise MissingExtraError("tables need pandas: pip install 'vitlab[frames]'") from None
    return pandas


def split_label(label, models):
    """(model, head) for a series label: "vit" -> ("vit", ""), "deit/dist" -> ("deit", "dist")."""
    text = str(label)
    if text in models:
        return text, ""
    for model in sorted(models, key=len, reverse=True):
        if text.startswith(model + "/"):
            return model, text[len(model) + 1 :]
    return None, ""


def _number(value):
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def curve_rows(result, curve):
    """One dict per point of one curve."""
    models = [str(m) for m in result.models]
    in_title = [m for m in models if m in curve.title]
    rows = []
    for label, values in curve.series.items():
        model, head = split_label(label, models)
        errors = curve.errors.get(label) or []
        for index, value in enumerate(values):
            tick = curve.x_ticks[index] if curve.x_ticks and index < len(curve.x_ticks) else None
            point_model, point_head = model, head
            if point_model is None and tick is not None:
                point_model, point_head = split_label(tick, models)
            if point_model is None:
                point_model = in_title[0] if len(in_title) == 1 else (models[0] if len(models) == 1 else "")
            rows.append(
                {
                    "experiment": result.experiment,
                    "model": point_model,
                    "head": point_head,
                    "x_name": curve.x_label,
                    "x": tick if tick is not None else curve.x[index],
                    "metric": curve.y_label,
                    "value": _number(value),
                    "error": _number(errors[index]) if index < len(errors) else math.nan,
                    "series": str(label),
                    "curve": curve.title,
                }
            )
    return rows


HEADS = ("class", "dist", "average")  # DeiT heads, as experiments name them


def split_summary_key(key, models):
    """(metric, model, head) of a summary key in the forms experiments use:
    "metric/MODEL[/HEAD]", "MODEL[/HEAD]/metric" (the metric may hold "/": "fgsm@8/255"),
    "MODEL metric words"; a key naming no model keeps model and head empty."""
    for model in sorted(models, key=len, reverse=True):
        if key.startswith(model + "/") or key.startswith(model + " "):
            tail = key[len(model) + 1 :]
            head, sep, rest = tail.partition("/")
            return (rest, model, head) if sep and head in HEADS else (tail, model, "")
        for head in ("", *HEADS):
            suffix = f"/{model}/{head}" if head else f"/{model}"
            if key.endswith(suffix) and len(key) > len(suffix):
                return key[: -len(suffix)], model, head
    return key, "", ""


def summary_rows(result):
    """One dict per headline number, its key split into metric, model and head."""
    models = [str(m) for m in result.models]
    rows = []
    for key, value in result.summary.items():
        metric, model, head = split_summary_key(key, models)
        rows.append(
            {
                "experiment": result.experiment,
                "model": model,
                "head": head,
                "x_name": "",
                "x": None,
                "metric": metric,
                "value": _number(value),
                "error": math.nan,
                "series": "",
                "curve": "summary",
            }
        )
    return rows


def result_rows(result, summary=True):
    rows = [row for curve in result.curves for row in curve_rows(result, curve)]
    return rows + (summary_rows(result) if summary else [])


def to_frame(result, summary=True, **columns):
    """A pandas DataFrame of a Result; extra keyword columns (run=..., key=...) go first."""
    pandas = require_pandas()
    rows = [{**columns, **row} for row in result_rows(result, summary=summary)]
    frame = pandas.DataFrame(rows, columns=[*columns, *COLUMNS])
    numeric = all(isinstance(x, (int, float)) for x in frame["x"] if x is not None)
    frame["x"] = frame["x"].astype(float if numeric else object)  # tick labels ("2x2") keep x as text
    return frame


def export_run(run, fmt, out_dir):
    """Write every result of a run as a tidy table (one file per result) plus `all`; returns the paths."""
    if fmt not in FORMATS:
        raise UserError(f"--format {fmt!r}: choose from {', '.join(FORMATS)}")
    results = run.results()
    if not results:
        raise UserError(f"{run.path}: no results to export yet")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written, frames = [], []
    for key, result in results.items():
        frame = to_frame(result, run=run.id, key=key)
        frames.append(frame)
        written.append(_write(frame, out_dir / f"{_safe(key)}.{fmt}", fmt))
    pandas = require_pandas()
    written.append(_write(pandas.concat(frames, ignore_index=True), out_dir / f"all.{fmt}", fmt))
    return written


def _safe(text):
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(text)) or "result"


def _write(frame, path, fmt):
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "json":
        records = [
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in frame.to_dict(orient="records")
        ]
        path.write_text(json.dumps(records, indent=1) + "\n")
    else:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise MissingExtraError("parquet needs pyarrow: pip install 'vitlab[frames]'") from None
        table = frame.copy()
        if table["x"].dtype == object:  # parquet wants one type per column
            table["x"] = table["x"].map(lambda v: None if v is None or v != v else str(v))
        table.to_parquet(path, index=False)
    return path
