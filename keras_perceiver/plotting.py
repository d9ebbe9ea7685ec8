"""PNG plots of training curves and cross-attention maps (matplotlib)."""

import csv

import numpy as np

from keras_perceiver import reporting


def read_history(csv_path):
    """Reads a `keras.callbacks.CSVLogger` file into `{column: [values]}`.

    A run that was interrupted and resumed may log an epoch twice; the last
    row of each epoch wins. Missing values (empty, or CSVLogger's "NA")
    read as NaN, and a column with no value at all (validation metrics of
    a run without validation data) is left out.
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
    """Plots loss and accuracy per epoch (training and validation)."""
    history = read_history(csv_path)
    metrics = [m for m in ("loss", "accuracy") if m in history]
    figure = reporting.new_figure(5 * len(metrics), 4, "Plotting")
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
    reporting.save_figure(figure, png_path)


def plot_attention_maps(model, dataset, png_path, num_latents=8):
    """Plots where the first cross-attend's latents look in one example.

    For images each panel is one latent's attention over the pixel (or
    patch) grid, as in the paper's figure, and for spectrograms over the
    time-frequency patches; for point clouds it colours the points in
    3-D by attention; for other inputs it is the attention over the input
    index (time, patches).
    """
    import keras

    example, label = dataset.first_examples(1, split="test")
    weights = keras.ops.convert_to_numpy(model.cross_attention_maps(example))
    weights = weights[0].mean(axis=0)  # (N, M), averaged over heads
    shown = np.linspace(0, len(weights) - 1, min(num_latents, len(weights)))
    panels = [(f"input (label {label[0]})", None)] + [
        (f"latent {latent}", weights[latent]) for latent in shown.astype(int)
    ]
    projection, draw = _panel_drawer(model, dataset, example,
                                     weights.shape[-1])
    figure = reporting.new_figure(2.2 * len(panels), 2.6, "Plotting")
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
    reporting.save_figure(figure, png_path)


def _panel_drawer(model, dataset, example, num_elements):
    """`(projection, draw(axis, attention or None for the input))`."""
    grid = _patch_grid(model, num_elements)
    if grid is not None and dataset.modality == "image":
        # The attention covers the central crop when the model crops.
        image = _central_crop(np.asarray(example[0]),
                              getattr(model.input_adapter, "crop_shape", None))
        image = np.squeeze(image)

        def draw_image(axis, attention):
            if attention is None:
                axis.imshow(image, cmap="gray")
            else:
                axis.imshow(attention.reshape(grid), cmap="viridis")

        return None, draw_image
    if grid is not None and dataset.modality == "spectrogram":
        # Time runs left to right, frequency upwards.
        spectrogram = np.asarray(example["inputs"][0])
        if spectrogram.ndim == 3:  # channels (e.g. log-mel and deltas)
            spectrogram = spectrogram.mean(axis=-1)

        def draw_spectrogram(axis, attention):
            picture = spectrogram if attention is None else (
                attention.reshape(grid))
            axis.imshow(picture.T, origin="lower", aspect="auto",
                        cmap="magma" if attention is None else "viridis")

        return None, draw_spectrogram
    if dataset.modality == "points":
        # The adapter keeps the first `num_elements` points at inference.
        x, y, z = np.asarray(example[0, :num_elements, :3]).T

        def draw_points(axis, attention):
            colours = z if attention is None else attention
            cmap = "gray" if attention is None else "viridis"
            axis.scatter(x, y, z, c=colours, cmap=cmap, s=2)

        return "3d", draw_points
    signal = _flat_signal(example)

    def draw_line(axis, attention):
        axis.plot(signal if attention is None else attention)

    return None, draw_line


def _central_crop(image, crop_shape):
    if crop_shape is None:
        return image
    top = (image.shape[0] - crop_shape[0]) // 2
    left = (image.shape[1] - crop_shape[1]) // 2
    return image[top:top + crop_shape[0], left:left + crop_shape[1]]


def _patch_grid(model, num_elements):
    """The 2-D grid of input elements (pixels or patches), if there is one."""
    grid = getattr(model.input_adapter, "patch_grid", None)
    if grid is None or len(grid) != 2 or np.prod(grid) != num_elements:
        return None
    return grid


def _flat_signal(example):
    while isinstance(example, dict):
        example = next(iter(example.values()))
    signal = np.asarray(example[0], dtype="float32")
    return signal.reshape(signal.shape[0], -1).mean(axis=-1)
