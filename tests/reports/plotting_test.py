"""Attention-map and training-curve plots for each kind of input."""

import numpy as np
import pytest

from keras_perceiver import adapters
from keras_perceiver.reports import plotting, tables
from keras_perceiver.datasets import Dataset
from support import adapter_perceiver, tiny_perceiver

# matplotlib draws the same figures whatever the backend.
pytestmark = pytest.mark.backend_independent

rng = np.random.default_rng(0)


@pytest.fixture
def drawn_figures(monkeypatch):
    """The figures the plotting functions save, to be checked."""
    figures = []
    save_figure = tables.save_figure

    def save_and_keep(figure, path):
        figures.append(figure)
        save_figure(figure, path)

    monkeypatch.setattr(tables, "save_figure", save_and_keep)
    return figures


def tiny_dataset(x, modality):
    return Dataset(name="tiny", x_train=x, y_train=np.array([0, 1]),
                   x_test=x, y_test=np.array([0, 1]),
                   class_names=["a", "b"], modality=modality)


@pytest.mark.parametrize("modality",
                         ["image", "points", "audio", "spectrogram", "video"])
def test_attention_maps_are_written_for_each_kind_of_input(modality,
                                                           tmp_path,
                                                           drawn_figures):
    if modality == "image":
        x = rng.uniform(size=(2, 6, 6, 1)).astype("float32")
        model = tiny_perceiver()
    elif modality == "points":
        x = rng.uniform(-1, 1, size=(2, 30, 3)).astype("float32")
        model = adapter_perceiver(
            adapters.PointCloudAdapter(num_bands=2, num_points=20)
        )
    elif modality == "spectrogram":
        x = {"inputs": rng.normal(size=(2, 8, 6)).astype("float32"),
             "mask": np.ones((2, 8), bool)}
        model = adapter_perceiver(
            adapters.SpectrogramAdapter(patch_size=2, num_bands=2)
        )
    elif modality == "video":
        x = {"inputs": rng.uniform(size=(2, 4, 8, 8, 1)).astype("float32"),
             "mask": np.array([[True] * 4, [True] * 3 + [False]])}
        model = adapter_perceiver(
            adapters.VideoAdapter(patch_size=(2, 4, 4), num_bands=2)
        )
    else:
        x = rng.normal(size=(2, 64)).astype("float32")
        model = adapter_perceiver(
            adapters.AudioAdapter(patch_size=8, num_bands=2)
        )
    model(x)
    path = tmp_path / "attention_maps.png"
    plotting.plot_attention_maps(model, tiny_dataset(x, modality), path,
                                 num_latents=3)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (figure,) = drawn_figures
    panels = figure.axes
    assert [axis.get_title() for axis in panels] == [
        "input (label 0)", "latent 0", "latent 3", "latent 7"]
    for axis in panels:  # each panel shows something of its kind
        if modality in ("image", "spectrogram", "video"):
            assert len(axis.images) == 1
        elif modality == "points":
            assert axis.name == "3d" and len(axis.collections) == 1
        else:
            assert len(axis.lines) == 1


def test_attention_maps_of_multimodal_data_with_padded_audio(tmp_path,
                                                            drawn_figures):
    from keras_perceiver.models import perceiver_for_dataset

    x = {"image": rng.uniform(size=(2, 4, 4, 1)).astype("float32"),
         "audio": {"inputs": rng.normal(size=(2, 8, 4)).astype("float32"),
                   "mask": np.ones((2, 8), bool)}}
    data = Dataset(name="tiny", x_train=x, y_train=np.array([0, 1]),
                   x_test=x, y_test=np.array([0, 1]), class_names=["a", "b"],
                   modality="multimodal",
                   modalities={"image": "image", "audio": "spectrogram"})
    model = perceiver_for_dataset(data, num_bands=2, num_latents=4,
                                  latent_dim=8, num_blocks=1,
                                  num_self_attends_per_block=1,
                                  num_self_heads=2)
    path = tmp_path / "attention_maps.png"
    plotting.plot_attention_maps(model, data, path, num_latents=2)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (figure,) = drawn_figures
    assert len(figure.axes) == 3
    assert all(len(axis.lines) == 1 for axis in figure.axes)


def test_training_curves_keep_the_last_row_of_a_repeated_epoch(
        tmp_path, drawn_figures):
    history = tmp_path / "history.csv"
    history.write_text(
        "epoch,accuracy,loss,val_accuracy,val_loss\n"
        "0,0.5,1.0,0.4,1.1\n1,0.6,0.9,0.5,1.0\n"
        "1,0.7,0.8,0.6,0.9\n"  # epoch 1 again, after a resume
    )
    assert plotting.read_history(history)["accuracy"] == [0.5, 0.7]
    plotting.plot_training_curves(history, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 0
    (figure,) = drawn_figures
    loss, accuracy = figure.axes
    assert loss.get_ylabel() == "loss" and accuracy.get_ylabel() == "accuracy"
    training, validation = accuracy.lines
    assert training.get_label() == "training"
    assert list(training.get_xydata()[:, 1]) == [0.5, 0.7]
    assert list(validation.get_xydata()[:, 1]) == [0.4, 0.6]


@pytest.mark.parametrize("missing", ["", "NA"])
def test_training_curves_without_validation_data_have_no_validation_lines(
        tmp_path, drawn_figures, missing):
    history = tmp_path / "history.csv"
    history.write_text(
        "epoch,accuracy,loss,val_accuracy,val_loss\n"
        f"0,0.5,1.0,{missing},{missing}\n1,0.6,0.9,{missing},{missing}\n"
    )
    assert "val_loss" not in plotting.read_history(history)
    plotting.plot_training_curves(history, tmp_path / "curves.png")
    (figure,) = drawn_figures
    assert [len(axis.lines) for axis in figure.axes] == [1, 1]
