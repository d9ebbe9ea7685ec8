"""Presets: a model's folder of config and weights, as keras-hub has them.

`save_to_preset(folder)` writes, as keras-hub does:

- `config.json` and `model.weights.h5`: the encoder (the backbone), its
  config (`keras.saving.serialize_keras_object`, with the shape it was
  built for) and its weights;
- for a task, `task.json`: the whole model's config (the encoder's, the
  head's, the class names and the preprocessor), and `task.weights.h5`:
  the weights outside the encoder, in the model's order;
- `preprocessor.json`: the task's preprocessor (as in `task.json`), when it
  has one;
- `metadata.json`: the keras-perceiver and Keras versions, the model's
  class and parameter count, the date.

`from_preset(preset)` reads such a folder back; other handles (Hugging
Face checkpoints, the published presets' names) go to the reader that
`keras_perceiver.pretrained` sets with `set_checkpoint_reader`.
"""

import datetime
import json
import os

import h5py
import keras
import numpy as np

from keras_perceiver import __version__
from keras_perceiver.models import saved_folder
from keras_perceiver.models.perceiver_encoder import PerceiverEncoder
from keras_perceiver.models.perceiver_encoder import encoder_of

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
TASK_CONFIG_FILE = "task.json"
TASK_WEIGHTS_FILE = "task.weights.h5"
PREPROCESSOR_FILE = "preprocessor.json"
METADATA_FILE = "metadata.json"

# Reads the handles that are not preset folders: set by
# `keras_perceiver.pretrained` (a lower wing cannot import it).
_checkpoint_reader = None


def set_checkpoint_reader(reader):
    """Sets what `from_preset` calls for a handle that is not a preset
    folder: `reader(preset, image_size)` returns a model or raises a
    `ValueError`.

    Example:

    >>> set_checkpoint_reader(lambda preset, image_size: ...)
    """
    global _checkpoint_reader
    _checkpoint_reader = reader


def is_preset(folder):
    """Whether `folder` is a preset that `save_to_preset` wrote.

    Example:

    >>> is_preset("my_preset")
    True
    """
    return saved_folder.written_by_keras_perceiver(folder, METADATA_FILE)


def save_preset(model, folder, overwrite=False):
    """Writes a built task or encoder to a preset folder.

    Args:
        model: a built `PerceiverTask` or `PerceiverEncoder`.
        folder: str or path-like. The folder to create.
        overwrite: bool. Whether to replace a preset written before.
            Defaults to False.

    Returns:
        The absolute path of the folder, as a str.

    Example:

    >>> save_preset(model, "my_preset")
    """
    if not model.built:
        raise ValueError(
            "Only a built model can be saved as a preset: call it on data "
            f"or `build()` it first. Received: an unbuilt {model.name}"
        )
    encoder = encoder_of(model)

    def write(staging):
        _write_model(staging, encoder, CONFIG_FILE, WEIGHTS_FILE)
        if model is not encoder:
            _write_model(staging, model, TASK_CONFIG_FILE, None)
            _write_arrays(os.path.join(staging, TASK_WEIGHTS_FILE),
                          _head_weights(model))
            preprocessor = model.get_config()["preprocessor"]
            if preprocessor is not None:
                saved_folder.write_json(staging, PREPROCESSOR_FILE,
                                        preprocessor)
        saved_folder.write_json(staging, METADATA_FILE, {
            saved_folder.VERSION_KEY: __version__,
            "keras_version": keras.__version__,
            "class_name": type(model).__name__,
            "parameter_count": model.count_params(),
            "date_saved": datetime.datetime.now().strftime(
                "%Y-%m-%d@%H:%M:%S"),
        })

    return saved_folder.write_folder(folder, write, METADATA_FILE, overwrite)


def load_preset(cls, preset, image_size=None):
    """The model of a preset, as `cls.from_preset` gives it.

    Args:
        cls: the class `from_preset` was called on: `PerceiverEncoder` (the
            encoder alone), `PerceiverTask` (any task) or a task subclass
            (which the preset's model must be).
        preset: a folder that `save_to_preset` wrote, or what the checkpoint
            reader takes (see `set_checkpoint_reader`).
        image_size: int, pair of ints or None. For Hugging Face image
            checkpoints only. Defaults to None.

    Returns:
        The built model (or encoder), its weights loaded.

    Example:

    >>> load_preset(PerceiverTask, "my_preset")
    """
    wants_encoder = issubclass(cls, PerceiverEncoder)
    if _is_folder(preset) and is_preset(preset):
        if image_size is not None:
            raise ValueError(
                "`image_size` applies to Hugging Face image checkpoints; a "
                "preset keeps the size it was saved with. "
                f"Received: image_size={image_size!r}, preset={preset!r}"
            )
        model = _read_preset(os.fspath(preset), wants_encoder)
    elif _checkpoint_reader is None:
        raise ValueError(
            "Reading a Hugging Face checkpoint or a published preset needs "
            "keras_perceiver.pretrained: import it first. "
            f"Received: preset={preset!r}"
        )
    else:
        model = _checkpoint_reader(preset, image_size)
    if wants_encoder:
        return encoder_of(model)
    if not isinstance(model, cls):
        raise ValueError(
            f"The preset holds a {type(model).__name__}, which is not a "
            f"{cls.__name__}: call {type(model).__name__}.from_preset or "
            f"PerceiverTask.from_preset. Received: preset={preset!r}"
        )
    return model


def _is_folder(preset):
    return isinstance(preset, (str, os.PathLike)) and os.path.isdir(preset)


def _write_model(folder, model, config_file, weights_file):
    saved_folder.write_json(folder, config_file,
                            keras.saving.serialize_keras_object(model))
    if weights_file is not None:
        model.save_weights(os.path.join(folder, weights_file))


def _read_preset(folder, wants_encoder):
    config_file = CONFIG_FILE if wants_encoder else TASK_CONFIG_FILE
    if not os.path.isfile(os.path.join(folder, config_file)):
        raise ValueError(
            "This preset holds an encoder alone (PerceiverEncoder."
            "save_to_preset): read it with PerceiverEncoder.from_preset. "
            f"Received: preset={folder!r}, without {config_file}"
        )
    try:
        model = _read_model(folder, config_file)
        encoder_of(model).load_weights(os.path.join(folder, WEIGHTS_FILE))
        if not wants_encoder:
            _assign(_head_weights(model),
                    _read_arrays(os.path.join(folder, TASK_WEIGHTS_FILE)))
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise ValueError(
            f"The preset could not be read ({type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else ''}). "
            f"Received: preset={folder!r}"
        ) from None
    return model


def _read_model(folder, config_file):
    with open(os.path.join(folder, config_file), encoding="utf-8") as file:
        config = json.load(file)
    return keras.saving.deserialize_keras_object(config)


def _head_weights(model):
    """The task's weights outside its encoder, in the model's order."""
    inside = {id(weight) for weight in model.encoder.weights}
    return [weight for weight in model.weights if id(weight) not in inside]


def _write_arrays(path, weights):
    with h5py.File(path, "w") as file:
        for index, weight in enumerate(weights):
            file.create_dataset(
                str(index), data=keras.ops.convert_to_numpy(weight))


def _read_arrays(path):
    with h5py.File(path, "r") as file:
        return [np.asarray(file[str(index)]) for index in range(len(file))]


def _assign(weights, arrays):
    shapes = [tuple(weight.shape) for weight in weights]
    if shapes != [array.shape for array in arrays]:
        raise ValueError(
            f"{TASK_WEIGHTS_FILE} does not match {TASK_CONFIG_FILE}: the "
            f"model has {len(shapes)} weights outside its encoder, the "
            f"file {len(arrays)} (or their shapes differ). "
            f"Received: shapes {[array.shape for array in arrays][:5]}"
        )
    for weight, array in zip(weights, arrays):
        weight.assign(array)
