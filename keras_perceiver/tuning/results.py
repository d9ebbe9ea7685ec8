"""The results table of a search: rows, CSV, Markdown and a plot."""

import csv
import math
import os

from keras_tuner.engine.trial import TrialStatus

from keras_perceiver.reports import tables

# Hyperparameters shown first, with the letters of the paper.
LEADING_HYPERPARAMETERS = {
    "num_latents": "N",
    "num_self_attends_per_block": "L",
}


def results_table(tuner):
    """One row per trial of a search, in the order the trials started.

    A row is a dict with the same keys for every trial: `trial`, `status`,
    every hyperparameter (`num_latents` and `num_self_attends_per_block`
    first), the objective (named after it, e.g. `val_accuracy`; the trial's
    best value), `num_params`, `time_per_step_ms` and `note` (the error that
    ended a failed trial). A value a trial does not have is None. A trial
    that a stopped search left running has the status `"INTERRUPTED"`; it
    runs again when the search resumes.

    Args:
        tuner: a `keras_tuner.Tuner` whose trials were recorded by a
            `PerceiverHyperModel` (or any hypermodel reporting the metrics
            `num_params` and `time_per_step`).

    Returns:
        A list of dicts.

    Example:

    >>> rows = results_table(tuner)  # doctest: +SKIP
    >>> rows[0]["num_latents"], rows[0]["val_accuracy"]  # doctest: +SKIP
    (32, 0.91)
    """
    trials = sorted(tuner.oracle.trials.values(), key=lambda t: t.trial_id)
    names = _hyperparameter_names(trials)
    objective = tuner.oracle.objective.name
    return [_row(trial, names, objective) for trial in trials]


def write_results(tuner, directory, basename="results"):
    """Writes the results table as CSV and Markdown, and plots it.

    Args:
        tuner: a `keras_tuner.Tuner`, as for `results_table`.
        directory: str. Folder for the files (created if missing).
        basename: str. File name without extension. Defaults to `"results"`.

    Returns:
        A dict with the paths written under `"csv"`, `"markdown"` and
        `"plot"`.

    Example:

    >>> write_results(tuner, "runs/tune-digits")  # doctest: +SKIP
    {'csv': 'runs/tune-digits/results.csv', ...}
    """
    os.makedirs(directory, exist_ok=True)
    rows = results_table(tuner)
    objective = tuner.oracle.objective
    paths = {
        key: os.path.join(directory, f"{basename}.{extension}")
        for key, extension in (("csv", "csv"), ("markdown", "md"),
                               ("plot", "png"))
    }
    write_csv(rows, paths["csv"])
    write_markdown(rows, paths["markdown"])
    plot_results(rows, objective.name, objective.direction, paths["plot"])
    return paths


def write_csv(rows, path):
    """Writes `rows` (from `results_table`) as CSV, values unrounded.

    Args:
        rows: list of dicts with the same keys.
        path: str. The file to write.
    """
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=_columns(rows))
        writer.writeheader()
        writer.writerows(rows)


def write_markdown(rows, path):
    """Writes `rows` (from `results_table`) as a Markdown table.

    Numbers are rounded to four significant digits.

    Args:
        rows: list of dicts with the same keys.
        path: str. The file to write.
    """
    with open(path, "w") as file:
        file.write(markdown_table(rows))


def markdown_table(rows):
    """Returns `rows` (from `results_table`) as a Markdown table string.

    Args:
        rows: list of dicts with the same keys.

    Returns:
        str, one line per row plus the header and separator lines.
    """
    columns = _columns(rows)
    return tables.markdown_table(
        [_column_label(column) for column in columns],
        [[_format(row[column]) for column in columns] for row in rows],
    ) + "\n"


def plot_results(rows, metric, direction, path):
    """Plots the metric against the number of latents N and the depth L.

    Left: the metric against N, one line per L; right: against L, one line
    per N. Every finished trial is a dot; a line joins the best trial of
    each (N, L) pair.

    Args:
        rows: list of dicts from `results_table`.
        metric: str. The column to plot, e.g. `"val_accuracy"`.
        direction: str. `"max"` or `"min"`: which value is best.
        path: str. The PNG file to write.
    """
    points = [
        (row["num_latents"], row["num_self_attends_per_block"], row[metric])
        for row in rows
        if row.get(metric) is not None
    ]
    figure = tables.new_figure(10, 4, "The results plot")
    left, right = figure.subplots(1, 2, sharey=True)
    _plot_panel(left, points, direction, x_axis=0, x_label="N (latents)")
    _plot_panel(right, points, direction, x_axis=1, x_label="L (depth)")
    left.set_ylabel(metric)
    tables.save_figure(figure, path)


def _plot_panel(axes, points, direction, x_axis, x_label):
    line_axis = 1 - x_axis
    line_name = "NL"[line_axis]
    pick = max if direction == "max" else min
    for group in sorted({point[line_axis] for point in points}):
        members = [point for point in points if point[line_axis] == group]
        xs = sorted({point[x_axis] for point in members})
        best = [
            pick(point[2] for point in members if point[x_axis] == x)
            for x in xs
        ]
        (line,) = axes.plot(xs, best, marker="o", label=f"{line_name}={group}")
        axes.scatter(
            [point[x_axis] for point in members],
            [point[2] for point in members],
            color=line.get_color(),
            alpha=0.4,
            s=12,
        )
    if x_axis == 0:
        axes.set_xscale("log", base=2)
    ticks = sorted({point[x_axis] for point in points})
    axes.set_xticks(ticks, [str(tick) for tick in ticks])
    axes.minorticks_off()
    axes.set_xlabel(x_label)
    axes.grid(alpha=0.3)
    if points:
        axes.legend(fontsize="small")


def _hyperparameter_names(trials):
    names = list(LEADING_HYPERPARAMETERS)
    for trial in trials:
        names += [
            name for name in trial.hyperparameters.values if name not in names
        ]
    return names


def _row(trial, names, objective):
    values = trial.hyperparameters.values
    row = {"trial": trial.trial_id, "status": _status(trial)}
    row.update({name: values.get(name) for name in names})
    row[objective] = trial.score if _finished(trial) else None
    row["num_params"] = _metric(trial, "num_params", int)
    row["time_per_step_ms"] = _metric(
        trial, "time_per_step", lambda seconds: 1000.0 * seconds
    )
    row["note"] = _failure_note(trial.message) if trial.message else None
    return row


def _status(trial):
    if trial.status == TrialStatus.RUNNING:
        return "INTERRUPTED"
    return trial.status


def _finished(trial):
    return trial.status == TrialStatus.COMPLETED and trial.score is not None


def _metric(trial, name, convert):
    if not _finished(trial) or not trial.metrics.exists(name):
        return None
    return convert(trial.metrics.get_last_value(name))


def _failure_note(message):
    """The last line of a trial's traceback, without the error's module."""
    lines = message.strip().splitlines()
    if not lines:
        return None
    error, separator, text = lines[-1].strip().partition(": ")
    if " " in error:  # not "module.ErrorName: text"
        return lines[-1].strip()
    return error.rpartition(".")[2] + separator + text


def _columns(rows):
    return list(rows[0]) if rows else ["trial", "status"]


def _column_label(column):
    letter = LEADING_HYPERPARAMETERS.get(column)
    return f"{letter} ({column})" if letter else column


def _format(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value).replace("|", "\\|")
