"""A new modality is one entry: `TOY`, defined and registered in this file
alone (its files, their reading, its adapter and its drawing), is read
from a folder of its files, trained through the command line and
predicted on. In process (`run_in_process`): the registry is this
process's."""

import dataclasses

import numpy as np
import pytest
from bad_input import assert_value_error
from command_line import run_in_process

from keras_perceiver import adapters, modalities
from keras_perceiver.modalities import attention_drawing, inputs

TINY_MODEL = ["--num-latents", "8", "--latent-dim", "16", "--num-blocks",
              "1", "--num-self-attends-per-block", "1", "--num-self-heads",
              "2", "--num-bands", "4"]


def read_toy(path):
    """A `.toy` file's readings: numbers, one per line."""
    try:
        return np.loadtxt(path, ndmin=1, dtype="float32")
    except ValueError as error:
        raise ValueError(f"{path} is not a readable toy file ({error}).") from None


def toy_preprocessing(facts, max_length=None, **_):
    return {"modality": "toy",
            "max_length": inputs.chosen_length(max_length, facts)}


def toy_steps(path, preprocessing):
    length = preprocessing["max_length"]
    return inputs.padded_rows(read_toy(path)[:length, None], length)


def read_toy_inputs(path, preprocessing):
    return inputs.numpy_inputs(toy_steps, path, preprocessing,
                               (preprocessing["max_length"], 1))


TOY = modalities.Modality(
    name="toy",
    plural="toy readings",
    adapter_factory=adapters.SequenceAdapter,
    adapter_options=(),
    attention_drawer=attention_drawing.signal_drawer,
    extensions=(".toy",),
    inspect=lambda path: len(read_toy(path)),
    preprocessing=toy_preprocessing,
    read=read_toy_inputs,
)


@pytest.fixture
def toy_modality():
    """`TOY` registered for the test, and no longer after it."""
    modalities.register(TOY)
    yield TOY
    del modalities.MODALITIES[TOY.name]


def toy_folder(root):
    """`root/low/` and `root/high/`: 5 toy files each, of 3 to 7 readings."""
    rng = np.random.default_rng(0)
    for name, level in (("low", 0.0), ("high", 1.0)):
        (root / name).mkdir(parents=True)
        for index in range(5):
            np.savetxt(root / name / f"{index}.toy",
                       level + rng.uniform(size=3 + index))
    return root


# Registering, reading and drawing a modality do not depend on the backend;
# cli_test.py and data_sources_test.py train through each backend.
@pytest.mark.backend_independent
def test_a_toy_modality_trains_and_predicts_through_the_command_line(
        toy_modality, tmp_path):
    folder = toy_folder(tmp_path / "toys")
    run = tmp_path / "run"
    result = run_in_process("train", "--data", folder, "--epochs", "1",
                            "--batch-size", "4", "--output-dir", run,
                            *TINY_MODEL)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "toys (toy, 8 training examples, 2 classes)" in result.stdout
    assert (run / "attention_maps.png").is_file()

    result = run_in_process("predict", "--model", run / "model.keras",
                            folder / "high", "--top-k", "2")
    assert result.returncode == 0, result.stderr[-2000:]
    for index in range(5):
        assert f"{folder / 'high' / f'{index}.toy'}:\n  1. " in result.stdout


@pytest.mark.backend_independent
@pytest.mark.parametrize("fields, fragment", [
    (dict(extensions=(".toy",), read=None), "without read"),
    (dict(extensions=(".toy",), inspect=None, preprocessing=None),
     "without inspect, preprocessing"),
    (dict(extensions=(".TOY",)), "lower case"),
    (dict(extensions=("toy",)), "starting with '.'"),
    (dict(adapter_options=("stride",)), "adapter_options"),
])
def test_a_modality_missing_what_its_files_need_is_refused(fields, fragment):
    assert_value_error(lambda: dataclasses.replace(TOY, **fields), fragment,
                       "Received")


@pytest.mark.backend_independent
@pytest.mark.parametrize("name", ["image", "multimodal"])
def test_a_modality_name_already_taken_is_refused(name):
    assert_value_error(
        lambda: modalities.register(dataclasses.replace(TOY, name=name)),
        "a name no modality has", f"name={name!r}")
    assert modalities.get("image").extensions[0] == ".png"


@pytest.mark.backend_independent
def test_files_of_an_unregistered_modality_are_not_data():
    from keras_perceiver.datasets import file_inputs

    assert not file_inputs.has_data_extension("a.toy")
    assert file_inputs.file_extensions("toy") == ()
