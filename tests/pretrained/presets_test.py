"""Presets, keras-hub's API: `from_preset`, `save_to_preset`, `list_presets`.

A tiny random-weight transformers checkpoint, converted once per module,
is saved as a preset and read back (the same outputs, classes and
preprocessor, on every backend); `from_preset` is asked for tasks, task
subclasses and the encoder alone, from preset folders, Hugging Face
folders, `hf://` handles and preset names (an offline Hugging Face cache);
then the handles and folders it refuses. Skipped without torch and
transformers (test-only extras).
"""

import os
import pathlib

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from bad_input import assert_value_error  # noqa: E402
from bad_input import unchanged  # noqa: E402
from checkpoint_support import TINY_CHECKPOINTS  # noqa: E402
from checkpoint_support import hub_offline  # noqa: E402
from checkpoint_support import save_tiny_checkpoint  # noqa: E402
from checkpoint_support import save_tiny_hub_checkpoint  # noqa: E402
from checkpoint_support import tiny_inputs  # noqa: E402
from support import to_numpy  # noqa: E402

import keras_perceiver as kp  # noqa: E402
from keras_perceiver import pretrained  # noqa: E402
from keras_perceiver.models import PerceiverTask  # noqa: E402

LEARNED = "PerceiverForImageClassificationLearned"
CLASSES = {index: f"class {index}" for index in range(5)}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny learned-position checkpoint folder, with class names."""
    folder = tmp_path_factory.mktemp("checkpoint")
    save_tiny_checkpoint(LEARNED, folder, id2label=CLASSES)
    return folder


@pytest.fixture(scope="module")
def model(checkpoint):
    return PerceiverTask.from_preset(checkpoint)


@pytest.fixture(scope="module")
def preset(model, tmp_path_factory):
    return model.save_to_preset(tmp_path_factory.mktemp("saved") / "preset")


def test_a_preset_reads_back_with_the_same_outputs(model, preset):
    images, _ = tiny_inputs(LEARNED, 2)
    restored = PerceiverTask.from_preset(preset)
    assert isinstance(restored, kp.PerceiverIOClassifier)
    np.testing.assert_array_equal(to_numpy(restored(images)),
                                  to_numpy(model(images)))
    assert restored.class_names == list(CLASSES.values())
    assert restored.preprocessor.get_config() == (
        model.preprocessor.get_config())
    encoder = kp.PerceiverEncoder.from_preset(preset)
    np.testing.assert_array_equal(to_numpy(encoder(images)),
                                  to_numpy(model.encoder(images)))


@pytest.mark.backend_independent
def test_the_preset_files(preset):
    assert sorted(os.listdir(preset)) == [
        "config.json", "metadata.json", "model.weights.h5",
        "preprocessor.json", "task.json", "task.weights.h5",
    ]


@pytest.mark.backend_independent
def test_an_encoder_alone_is_a_preset(model, tmp_path):
    folder = model.encoder.save_to_preset(tmp_path / "encoder")
    assert isinstance(kp.PerceiverEncoder.from_preset(folder),
                      kp.PerceiverEncoder)
    assert_value_error(lambda: PerceiverTask.from_preset(folder),
                       "holds an encoder alone",
                       "PerceiverEncoder.from_preset")


@pytest.mark.backend_independent
def test_a_subclass_gets_its_own_class(preset, checkpoint):
    for source in (preset, checkpoint):
        assert isinstance(kp.PerceiverIOClassifier.from_preset(source),
                          kp.PerceiverIOClassifier)
        assert_value_error(
            lambda: kp.PerceiverMaskedLM.from_preset(source),
            "holds a PerceiverIOClassifier, which is not a "
            "PerceiverMaskedLM")


@pytest.mark.backend_independent
def test_hub_handles_and_names_read_the_cache(tmp_path, monkeypatch):
    hub_offline(monkeypatch, tmp_path)
    save_tiny_hub_checkpoint(tmp_path, "deepmind/vision-perceiver-learned",
                             LEARNED)
    by_handle = PerceiverTask.from_preset(
        "hf://deepmind/vision-perceiver-learned")
    by_name = kp.PerceiverEncoder.from_preset("vision-perceiver-learned")
    images, _ = tiny_inputs(LEARNED, 1)
    np.testing.assert_array_equal(to_numpy(by_name(images)),
                                  to_numpy(by_handle.encoder(images)))


@pytest.mark.backend_independent
@pytest.mark.parametrize("handle", [
    "hf://deepmind/vision-perceiver-fourier", "vision-perceiver-conv",
])
def test_offline_a_hub_handle_is_one_line(handle, tmp_path, monkeypatch):
    hub_offline(monkeypatch, tmp_path)
    message = assert_value_error(lambda: PerceiverTask.from_preset(handle),
                                 "could not be fetched", "deepmind/vision")
    assert "\n" not in message


@pytest.mark.backend_independent
def test_list_presets():
    presets = {preset["name"]: preset for preset in pretrained.list_presets()}
    assert {name: preset["imagenet_top1"] for name, preset in presets.items()
            } == {"vision-perceiver-fourier": 79.0,
                  "vision-perceiver-learned": 72.7,
                  "vision-perceiver-conv": 82.1,
                  "language-perceiver": None,
                  "optical-flow-perceiver": None,
                  "multimodal-perceiver": None}
    fourier = presets["vision-perceiver-fourier"]
    assert "not measured here" in fourier["accuracy_source"]
    assert fourier["handle"] == "hf://deepmind/vision-perceiver-fourier"
    assert fourier["parameters"] == 48_440_627
    # Each preset's architecture converts in a test of its own (the
    # multimodal autoencoder's in multimodal_autoencoding_checkpoint_test).
    assert set(TINY_CHECKPOINTS) | {"PerceiverForMultimodalAutoencoding"} >= {
        preset["architecture"] for preset in presets.values()}


# Refused handles and folders: in one line, nothing written.


@pytest.mark.backend_independent
@pytest.mark.parametrize("handle", [
    "vision-perceiver-huge", "deepmind/vision-perceiver-conv", "hf://no",
    "hf://a/b/c", 42,
])
def test_unknown_presets(handle):
    assert_value_error(lambda: PerceiverTask.from_preset(handle),
                       "Unknown preset", "vision-perceiver-fourier")


@pytest.mark.backend_independent
def test_a_folder_that_is_not_a_preset(tmp_path):
    (tmp_path / "notes.txt").write_text("not a model")
    with unchanged(tmp_path):
        assert_value_error(lambda: PerceiverTask.from_preset(tmp_path),
                           "neither a preset", "notes.txt")


@pytest.mark.backend_independent
def test_a_damaged_preset(preset, tmp_path):
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for name in os.listdir(preset):
        if name != "task.weights.h5":
            (damaged / name).write_bytes(
                pathlib.Path(preset, name).read_bytes())
    assert_value_error(lambda: PerceiverTask.from_preset(damaged),
                       "could not be read", "damaged")


@pytest.mark.backend_independent
def test_a_preset_keeps_its_image_size(preset):
    assert_value_error(
        lambda: PerceiverTask.from_preset(preset, image_size=16),
        "image_size", "keeps the size")


@pytest.mark.backend_independent
@pytest.mark.parametrize("overwrite, fragment", [
    (False, "must not exist or be empty"),
    (True, "replaces only a folder that keras-perceiver wrote"),
])
def test_another_folder_is_never_written(model, tmp_path, overwrite,
                                         fragment):
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "metadata.json").write_text("{}")
    with unchanged(tmp_path):
        assert_value_error(
            lambda: model.save_to_preset(tmp_path / "theirs",
                                         overwrite=overwrite),
            fragment, "theirs")


@pytest.mark.backend_independent
def test_a_preset_is_replaced_only_with_overwrite(model, tmp_path):
    folder = model.save_to_preset(tmp_path / "preset")
    with unchanged(tmp_path):
        assert_value_error(lambda: model.save_to_preset(folder),
                           "must not exist or be empty")
    model.save_to_preset(folder, overwrite=True)
    assert sorted(os.listdir(tmp_path)) == ["preset"]  # no staging left


@pytest.mark.backend_independent
def test_an_unbuilt_model_is_refused(tmp_path):
    encoder = kp.PerceiverEncoder(num_latents=4, latent_dim=8, num_blocks=1,
                                  num_self_attends_per_block=1,
                                  num_self_heads=2)
    with unchanged(tmp_path):
        assert_value_error(
            lambda: encoder.save_to_preset(tmp_path / "preset"),
            "Only a built model")
