"""PNG plots of training curves and cross-attention maps (matplotlib)."""

import csv

import numpy as np

from keras_perceiver import modalities
from keras_perceiver.models.perceiver_encoder import encoder_of
from keras_perceiver.reports import tables


def read_history(csv_path):
    """Reads a `keras.callbacks.CSVLogger` file into `{column: [values]}`.

    A run that was interrupted and resumed may log an epoch twice; the last
    row of each epoch wins. Missing values (empty, or CSVLogger's "NA")
    read as NaN, and a column with no value at all (validation metrics of
    a run without validation data) is left out.

    Args:
        csv_path: str or `pathlib.Path`. A `history.csv` written by
            `keras.callbacks.CSVLogger`.

    Returns:
        dict, column name -> list of floats, one per epoch.

    Example:

    >>> history = read_history("runs/digits/latest/history.csv")
    >>> history["loss"][-1] < history["loss"][0]
    True
    """
    rows_by_epoch = {}
    with open(csv_path, newline="") as file:
        for row in csv.DictReader(file):
            rows_by_epoch[int(row["epoch"])] = row
    epochs = sorted(rows_by_epoch)
    columns = [c for c in rows_by_epoch[epochs[0]] if c != "epoch"]
    history = {"epoch": [epoch + 1 for epoch in epochs]}
    for column in columns:
        values = [_number(rows_by_epoch[e][column]) for e in epochs]
        if not np.isnan(values).all():
            history[column] = values
    return history


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):  # "", "NA", or a missing cell (None)
        return float("nan")


def plot_training_curves(csv_path, png_path):
    """Plots loss and accuracy per epoch (training and validation).

    Args:
        csv_path: str or `pathlib.Path`. A `history.csv` (`read_history`).
        png_path: str or `pathlib.Path`. The PNG file to write.

    Example:

    >>> plot_training_curves("runs/digits/latest/history.csv", "curves.png")
    """
    history = read_history(csv_path)
    metrics = [m for m in ("loss", "accuracy") if m in history]
    figure = tables.new_figure(5 * len(metrics), 4, "Plotting")
    axes = figure.subplots(1, len(metrics))
    for axis, metric in zip(np.atleast_1d(axes), metrics):
        axis.plot(history["epoch"], history[metric], label="training")
        if f"val_{metric}" in history:
            axis.plot(
                history["epoch"], history[f"val_{metric}"], label="validation"
            )
        axis.set_xlabel("epoch")
        axis.set_ylabel(metric)
        axis.legend()
    tables.save_figure(figure, png_path)


def plot_attention_maps(model, dataset, png_path, num_latents=8):
    """Plots where the first cross-attend's latents look in one example.

    For images each panel is one latent's attention over the pixel (or
    patch) grid, as in the paper's figure, and for spectrograms over the
    time-frequency patches, for videos over the patch grids of a few
    frames side by side; for point clouds it colours the points in
    3-D by attention; for other inputs it is the attention over the input
    index (time, patches). Each modality draws its own
    (`Modality.attention_drawer`, see
    `keras_perceiver.modalities.attention_drawing`).

    Args:
        model: a trained Perceiver or Perceiver IO model (or encoder); its
            maps are computed chunk by chunk of the inputs
            (`mean_cross_attention_maps`), so that large inputs can be
            drawn.
        dataset: the `Dataset` or `StreamedDataset` it was trained on; its
            first test example is drawn.
        png_path: str or `pathlib.Path`. The PNG file to write.
        num_latents: int. How many latents' maps to draw. Defaults to 8.

    Example:

    >>> data = keras_perceiver.datasets.load("digits")
    >>> model = keras_perceiver.models.perceiver_for_dataset(data)
    >>> plot_attention_maps(model, data, "attention.png")
    """
    example, label = dataset.first_examples(1, split="test")
    encoder = encoder_of(model)
    total = encoder.num_latents
    shown = np.linspace(0, total - 1, min(num_latents, total)).astype(int)
    # Chunk by chunk: never the whole (heads, N, M) matrix of a large input.
    weights = encoder.mean_cross_attention_maps(example, shown.tolist())[0]
    panels = [(f"input (label {label[0]})", None)] + [
        (f"latent {latent}", attention)
        for latent, attention in zip(shown, weights)
    ]
    drawer = modalities.attention_drawer(dataset.modality)
    projection, draw = drawer(example, encoder.input_adapter,
                              weights.shape[-1])
    figure = tables.new_figure(2.2 * len(panels), 2.6, "Plotting")
    for column, (title, attention) in enumerate(panels):
        axis = figure.add_subplot(
            1, len(panels), column + 1, projection=projection
        )
        draw(axis, attention)
        axis.set_title(title, fontsize=8)
        axis.set_xticks([])
        axis.set_yticks([])
        if projection == "3d":
            axis.set_zticks([])
    figure.suptitle("first cross-attend: attention of latents over the input")
    tables.save_figure(figure, png_path)

