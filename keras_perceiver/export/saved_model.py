"""Export to a TensorFlow SavedModel, from any backend.

The SavedModel is always written by TensorFlow. On the TensorFlow backend
the model is exported in this process; on JAX and PyTorch it is saved as a
`.keras` file (config and weights are backend-independent), then rebuilt
and exported in a new Python process running the TensorFlow backend. Either
way the result is a plain TensorFlow graph that TensorFlow Serving and
`tf.saved_model.load` run without JAX, PyTorch or keras-perceiver.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile

import keras

from keras_perceiver import backend_differences
from keras_perceiver.export import raw_serving
from keras_perceiver.adapters import input_adapter
from keras_perceiver.models.perceiver import Perceiver
from keras_perceiver.models.perceiver_encoder import PerceiverEncoder
from keras_perceiver.models.perceiver_encoder import encoder_of
from keras_perceiver.models.perceiver_io_classifier import (
    PerceiverIOClassifier,
)
from keras_perceiver.models.perceiver_masked_lm import PerceiverMaskedLM
from keras_perceiver.models.perceiver_task import PerceiverTask
from keras_perceiver.preprocessing.preprocessor import preprocessor_of
from keras_perceiver.preprocessing.preprocessor import serialized

ENDPOINT_NAME = "serve"
OUTPUT_NAME = "logits"
# Written into every export: `overwrite=True` replaces only a folder that
# holds it (and a saved_model.pb), so it never deletes anything else.
MARKER_FILE = os.path.join("assets.extra", "keras_perceiver_export.json")
# Models whose one output is logits; other models' outputs are "outputs",
# or the keys of their dict of outputs.
_LOGIT_MODELS = (Perceiver, PerceiverIOClassifier, PerceiverMaskedLM)

# Run by `python -c` under the TensorFlow backend, in the staging folder.
# Arguments: the `.keras` file, the SavedModel directory, then the modules
# that define the model's classes (importing them registers the classes for
# loading).
_EXPORT_SCRIPT = """
import importlib
import sys

import keras

for module in sys.argv[3:]:
    importlib.import_module(module)
from keras_perceiver.export import saved_model

model = keras.saving.load_model(sys.argv[1], compile=False)
saved_model._write_saved_model(model, sys.argv[2])
"""


def export_saved_model(model, path, overwrite=False):
    """Writes a Perceiver model as a TensorFlow SavedModel for serving.

    Works on every backend: on TensorFlow the model is exported in this
    process; on JAX and PyTorch it is rebuilt from its config and weights
    under TensorFlow in a new process, giving a plain TensorFlow graph.
    The SavedModel's `"serving_default"` signature (also available as the
    `serve` method of the loaded object) takes the named inputs of
    `serving_input_specs(model)`, float32 (bool for masks, int32 for
    token ids) with a dynamic batch dimension, and returns float32 outputs,
    also for mixed-precision models: `{"logits": ...}` for `Perceiver`,
    `PerceiverIOClassifier` and `PerceiverMaskedLM`, `{"outputs": ...}`
    for a `PerceiverIO`, or its dict of outputs under their own keys. An
    input of another shape fails (InvalidArgumentError) rather than being
    read as other examples.

    Classifiers on images (1 or 3 channels) or waveforms also get a
    `"serve_raw"` signature that takes what a client has: uint8 `images`
    of any size and number of channels (resized to the model's size,
    scaled to [0, 1]) or float32 `waveforms` of any length (cut, or padded
    and masked), and returns `logits`, `probabilities`, `predicted_class`
    (a class name) and `class_names` (each column's name); see
    `keras_perceiver.export.raw_serving`.

    The export holds a marker file (`MARKER_FILE`, under `assets.extra`):
    `overwrite=True` replaces only a directory that holds it. It also
    records, under "preprocessor", the model's preprocessor (as
    `keras.saving.serialize_keras_object` gives it; None without one), how
    a client turns raw files into the inputs of `serving_default`.

    Args:
        model: a built `keras_perceiver.Perceiver`, `PerceiverEncoder` or
            Perceiver IO model (called on data, trained, built or loaded
            from a `.keras` file).
        path: str or path-like. The SavedModel directory to create. It must
            not exist or be an empty directory, unless `overwrite` is True;
            it may not be the working directory or one above it.
        overwrite: bool. Whether to replace an earlier export at `path`
            (written by this function). The old export is removed only once
            the new SavedModel is written. Defaults to False.

    Returns:
        The absolute path of the SavedModel directory, as a str.

    Example:

    >>> model = keras_perceiver.Perceiver(num_classes=10, num_latents=32,
    ...     latent_dim=64, num_blocks=2, num_self_attends_per_block=2,
    ...     num_self_heads=4, num_bands=8)
    >>> model.build((None, 28, 28, 1))
    >>> path = export_saved_model(model, "/tmp/perceiver_savedmodel")
    >>> import tensorflow as tf
    >>> serve = tf.saved_model.load(path).signatures["serving_default"]
    >>> serve(images=tf.zeros((3, 28, 28, 1)))["logits"].shape
    TensorShape([3, 10])

    Raises:
        ValueError: if `model` is not a built Perceiver, was built with
            inputs that make no signature, or (off TensorFlow) uses classes
            defined in `__main__`, which a new process cannot import.
        FileExistsError: if `path` exists and is not an empty directory,
            unless `overwrite` is True and it is an earlier export.
        ImportError: if TensorFlow is not installed.
        RuntimeError: if the export process (JAX and PyTorch) fails.
    """
    serving_input_specs(model)  # Checks the model before any work.
    path = os.path.abspath(os.fspath(path))
    check_export_target(path, overwrite)
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".keras-perceiver-export-", dir=parent)
    try:
        saved_model = os.path.join(staging, "saved_model")
        if backend_differences.current().exports_in_process:
            _write_saved_model(model, saved_model)
        else:
            _write_in_tensorflow_process(model, staging, saved_model)
        _clear_target(path, overwrite)
        os.replace(saved_model, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


def check_export_target(path, overwrite=False):
    """Raises unless a SavedModel can be written to `path`.

    `export_saved_model` runs this check; call it first to fail fast, e.g.
    before loading a model.

    Args:
        path: str or path-like. The SavedModel directory.
        overwrite: bool. Whether an existing `path` may be replaced.
            Defaults to False.

    Example:

    >>> check_export_target("/tmp/new_directory")

    Raises:
        ValueError: if `path` is the working directory or one above it, or
            lies under a file.
        FileExistsError: if `path` exists and is not an empty directory,
            unless `overwrite` is True and it is an earlier export.
        ImportError: if TensorFlow is not installed.
    """
    _check_target(os.path.abspath(os.fspath(path)), overwrite)
    _check_tensorflow_installed()


def serving_input_specs(model):
    """The inputs of a Perceiver model's serving signature.

    They mirror what the model was built with, with a dynamic batch
    dimension. Each input is float32 (int32 for the token ids of a
    `TextAdapter`) and named as follows, except masks (names `mask` or
    ending in `_mask`), which are bool:
    - images: `images`;
    - byte arrays, with or without a mask: `inputs` and `mask` (an all-True
      mask serves unpadded byte arrays);
    - an `input_adapter` that takes one tensor: the adapter's `input_name`
      (`points`, `waveforms`, ...; see
      `InputAdapter.serving_input_specs`);
    - dict inputs: their keys, nested keys joined by `_`.

    Args:
        model: a built `keras_perceiver.Perceiver`, `PerceiverEncoder` or
            Perceiver IO model.

    Returns:
        A `keras.InputSpec`, or a (nested) dict of them for dict inputs.

    Example:

    >>> model = keras_perceiver.Perceiver(num_classes=10, num_bands=8)
    >>> model.build((None, 20, 6))  # Byte arrays: the signature adds a mask.
    >>> specs = serving_input_specs(model)
    >>> specs["inputs"].shape, specs["mask"].shape, specs["mask"].dtype
    ((None, 20, 6), (None, 20), 'bool')

    Raises:
        ValueError: if `model` is not a built Perceiver, or was built with
            something other than one shape or a dict of shapes.
    """
    _check_model(model)
    adapter = encoder_of(model).input_adapter
    input_shape = model.get_build_config()["input_shape"]
    if isinstance(adapter, input_adapter.InputAdapter):
        specs = adapter.serving_input_specs(input_shape)
    elif adapter is None:
        specs = input_adapter.serving_input_specs(
            _byte_array_and_mask_shapes(input_shape)
        )
    else:  # A plain Keras layer as the adapter.
        specs = input_adapter.serving_input_specs(input_shape)
    _check_unique_names(keras.tree.flatten(specs))
    return specs


def _write_saved_model(model, path):
    """Writes the SavedModel with the TensorFlow backend, in this process.

    `export_saved_model` is the function to use: it checks its arguments
    and works on every backend. This is the step it runs under TensorFlow.

    Args:
        model: a built `keras_perceiver.Perceiver`.
        path: str. The SavedModel directory.

    Raises:
        ValueError: if `model` is not a built Perceiver.
    """
    import tensorflow as tf

    specs = serving_input_specs(model)
    raw_spec = raw_serving.raw_input_spec(model)

    def serve(inputs):
        # The graph takes any size along the signature's axes: check them.
        inputs = keras.tree.map_structure(
            lambda tensor, spec: tf.ensure_shape(tensor, spec.shape),
            inputs, specs,
        )
        return _serving_outputs(model, model(inputs, training=False))

    def serve_raw(raw):
        return raw_serving.raw_outputs(model, raw)

    # `tf.saved_model.save` traces each endpoint once, in its save context.
    # (`keras.export.ExportArchive` traces each one before saving too, to
    # find the variables it uses, and TensorFlow traces it again when it
    # saves: a Perceiver has no other resources, so its variables are all
    # it needs, and one trace halves the export time.)
    module = tf.__internal__.tracking.AutoTrackable()
    module.variables = list(model.variables)
    module.trainable_variables = list(model.trainable_variables)
    module.non_trainable_variables = list(model.non_trainable_variables)
    endpoints = {ENDPOINT_NAME: (serve, specs)}
    if raw_spec is not None:
        endpoints[raw_serving.ENDPOINT_NAME] = (serve_raw, raw_spec)
    for name, (function, input_spec) in endpoints.items():
        setattr(module, name, tf.function(
            function, autograph=False,
            input_signature=[keras.tree.map_structure(_tensor_spec,
                                                      input_spec)]))
    signatures = {name: getattr(module, name) for name in endpoints}
    signatures["serving_default"] = signatures[ENDPOINT_NAME]
    tf.saved_model.save(module, path, signatures=signatures)
    _write_marker(path, preprocessor_of(model))


def _tensor_spec(spec):
    import tensorflow as tf

    return tf.TensorSpec(spec.shape, spec.dtype, name=spec.name)


def _write_marker(path, preprocessor):
    marker = os.path.join(path, MARKER_FILE)
    os.makedirs(os.path.dirname(marker), exist_ok=True)
    with open(marker, "w") as file:
        json.dump({"written_by": "keras_perceiver.export_saved_model",
                   "preprocessor": serialized(preprocessor)}, file)


def _serving_outputs(model, outputs):
    if isinstance(outputs, dict):
        named = outputs
    elif isinstance(model, _LOGIT_MODELS):
        named = {OUTPUT_NAME: outputs}
    else:
        named = {"outputs": outputs}
    return {
        name: keras.ops.cast(output, "float32")
        for name, output in named.items()
    }


def _check_model(model):
    if not isinstance(model, (PerceiverEncoder, PerceiverTask)):
        raise ValueError(
            "`model` must be a keras_perceiver.Perceiver, PerceiverEncoder "
            "or Perceiver IO model. "
            f"Received: model of type {type(model).__name__}"
        )
    if not model.built:
        raise ValueError(
            "`model` must be built before it is exported: call it on a "
            "batch of data, train it or `build()` it first. "
            f"Received: model {model.name!r} with model.built=False"
        )


def _byte_array_and_mask_shapes(input_shape):
    if isinstance(input_shape, dict):
        input_shape = input_shape["inputs"]
    return {"inputs": input_shape, "mask": tuple(input_shape)[:2]}


def _check_unique_names(specs):
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise ValueError(
            "The model's inputs must have distinct names once nested dict "
            f"keys are joined with '_'. Received: names {names}"
        )


def _check_target(path, overwrite):
    _check_not_above_working_directory(path)
    _check_under_a_directory(path)
    if not os.path.lexists(path) or _is_empty_directory(path):
        return
    if not overwrite:
        raise FileExistsError(
            "The SavedModel path must not exist or be an empty directory; "
            "pass overwrite=True (--overwrite on the command line) to "
            "replace an earlier export. "
            f"Received: path={path!r}, which exists and is not empty"
        )
    if not _is_earlier_export(path):
        raise FileExistsError(
            "overwrite=True (--overwrite) replaces only a SavedModel "
            f"written by keras-perceiver export (one with {MARKER_FILE}); "
            "choose another path, or remove it yourself. "
            f"Received: path={path!r}, which is not one"
        )


def _check_not_above_working_directory(path):
    real, working = os.path.realpath(path), os.path.realpath(os.getcwd())
    if os.path.commonpath([real, working]) == real:
        raise ValueError(
            "The SavedModel path must not be the working directory or one "
            f"above it. Received: path={path!r}"
        )


def _check_under_a_directory(path):
    parent = os.path.dirname(path)
    while not os.path.lexists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise ValueError(
            "The SavedModel path must lie in a directory. "
            f"Received: path={path!r}, under the file {parent!r}"
        )


def _is_empty_directory(path):
    return (os.path.isdir(path) and not os.path.islink(path)
            and not os.listdir(path))


def _is_earlier_export(path):
    def regular_file(name):
        entry = os.path.join(path, name)
        return os.path.isfile(entry) and not os.path.islink(entry)

    return (os.path.isdir(path) and not os.path.islink(path)
            and regular_file("saved_model.pb") and regular_file(MARKER_FILE))


def _clear_target(path, overwrite):
    """Removes an empty directory or earlier export at `path`, checked
    again (it may have changed while the model was exported)."""
    _check_target(path, overwrite)
    if _is_empty_directory(path):
        os.rmdir(path)
    elif os.path.lexists(path):
        shutil.rmtree(path)


def _tensorflow_is_installed():
    return importlib.util.find_spec("tensorflow") is not None


def _check_tensorflow_installed():
    if not _tensorflow_is_installed():
        raise ImportError(
            "Exporting a SavedModel needs TensorFlow on every backend; "
            "install it with `pip install keras-perceiver[tensorflow]`. "
            "Received: no module named 'tensorflow'"
        )


def _write_in_tensorflow_process(model, staging, saved_model):
    classes = _classes_in(keras.saving.serialize_keras_object(model))
    _check_importable(classes)
    keras_file = os.path.join(staging, "model.keras")
    model.save(keras_file)
    modules = sorted({module for module, _ in classes if module})
    command = [sys.executable, "-c", _EXPORT_SCRIPT, keras_file, saved_model]
    # The new process imports from where this one does: this process's
    # path, never the working directory (`python -c` puts its directory
    # first on the path, so a `keras.py` there would run): it starts in the
    # staging directory, which holds only the model file.
    env = dict(
        os.environ,
        KERAS_BACKEND="tensorflow",
        PYTHONPATH=os.pathsep.join(
            os.path.abspath(entry) for entry in sys.path if entry
        ),
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    result = subprocess.run(
        command + modules,
        cwd=staging,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or ["no error output"]
        raise RuntimeError(
            "Rebuilding and exporting the model under TensorFlow in a new "
            f"process failed. Received: {lines[-1]}"
        )


def _classes_in(config):
    """The `(module, class name)` pairs in a serialized Keras object."""
    classes = set()
    if isinstance(config, dict):
        if "module" in config and "class_name" in config:
            classes.add((config["module"], config["class_name"]))
        values = config.values()
    elif isinstance(config, (list, tuple)):
        values = config
    else:
        values = ()
    for value in values:
        classes |= _classes_in(value)
    return classes


def _check_importable(classes):
    # Keras records classes defined in `__main__` with the module None.
    in_main = sorted(name for module, name in classes if module is None)
    if in_main:
        raise ValueError(
            f"On the {keras.config.backend()} backend the model is rebuilt "
            "under TensorFlow in a new process, which cannot import classes "
            "defined in `__main__`: move them into an importable module. "
            f"Received: {', '.join(in_main)} defined in __main__"
        )
