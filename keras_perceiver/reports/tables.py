"""Markdown tables and PNG figures: how the package and its benchmarks report.

The tuning results, the training plots and every benchmark write their
tables and figures through these few functions, so that they all look the
same and a change of style is made once.
"""

from keras_perceiver.optional_dependencies import import_optional

DPI = 110


def format_number(value, spec=".2f", missing="–"):
    """`value` formatted with `spec`, or `missing` when it is None.

    Args:
        value: a number or None.
        spec: str. A format spec. Defaults to ".2f".
        missing: str. The text for None. Defaults to an en dash.

    Returns:
        str.

    Example:

    >>> format_number(0.12345, ".1%"), format_number(None)
    ('12.3%', '–')
    """
    return missing if value is None else format(value, spec)


def markdown_table(header, rows):
    """A Markdown table.

    Args:
        header: list of str, the column titles.
        rows: list of lists, one per row; each cell is written with `str`.

    Returns:
        str: the header line, the separator line and one line per row,
        without a final newline.

    Example:

    >>> print(markdown_table(["N", "accuracy"], [[32, "0.95"]]))
    | N | accuracy |
    |---|---|
    | 32 | 0.95 |
    """
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |"
              for row in rows]
    return "\n".join(lines)


def new_figure(width, height, purpose):
    """A matplotlib figure (without pyplot's global state) to draw on.

    Its layout is "constrained": titles and labels do not overlap.

    Args:
        width: float. Width in inches.
        height: float. Height in inches.
        purpose: str. What the figure is for, named in the error when
            matplotlib (the `plotting` extra) is not installed.

    Returns:
        A `matplotlib.figure.Figure`; add axes with `figure.subplots(...)`
        or `figure.add_subplot(...)` and write it with `save_figure`.

    Example:

    >>> figure = new_figure(5, 4, "A loss plot")
    >>> axes = figure.subplots()
    >>> _ = axes.plot([1, 2, 3], [0.9, 0.5, 0.4])
    >>> save_figure(figure, "/tmp/loss.png")
    """
    figure_module = import_optional("matplotlib.figure", purpose)
    return figure_module.Figure(figsize=(width, height), layout="constrained")


def save_figure(figure, path):
    """Writes `figure` (from `new_figure`) as a PNG file at `path`.

    Args:
        figure: a matplotlib figure from `new_figure`.
        path: str or `pathlib.Path`. The PNG file to write.

    Example:

    >>> figure = new_figure(4, 3, "Plotting")
    >>> figure.add_subplot().plot([1, 2, 3])
    >>> save_figure(figure, "line.png")
    """
    figure.savefig(path, dpi=DPI)
