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
from keras_perceiver.models.perceiver_causal_lm import PerceiverCausalLM
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
_LOGIT_MODELS = (Perceiver, PerceiverIOClassifier, PerceiverMaskedLM,
                 PerceiverCausalLM)

# Run by `python -c` under the TensorFlow backend, in the staging folder.
# Arguments: the `.keras` file, the path to write, the format and the
# quantisation ("none" or "int8"; see `keras_perceiver.export.formats`),
# then the modules that define the model's classes (importing them
# registers the classes for loading).
_EXPORT_SCRIPT = """
import importlib
import sys

import keras

for module in sys.argv[5:]:
    importlib.import_module(module)
from keras_perceiver.export import formats

model = keras.saving.load_model(sys.argv[1], compile=False)
quantize = None if sys.argv[4] == "none" else sys.argv[4]
formats.write_under_tensorflow(model, sys.argv[2], sys.argv[3], quantize)
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
    `PerceiverIOClassifier`, `PerceiverMaskedLM` and `PerceiverCausalLM`
    (its forward pass: the next token's logits at each latent position;
    `generate`'s loop stays in Python), `{"outputs": ...}` for a
    `PerceiverIO`, or its dict of outputs under their own keys. An
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
        model: a built `keras_perceiver.Perceiver`, `PerceiverEncoder`,
            Perceiver IO model or `PerceiverCausalLM` (called on data,
            trained, built or loaded from a `.keras` file).
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
    return write_export(model, path, overwrite)


def write_export(model, path, overwrite=False, format="saved_model",
                 quantize=None):
    """Writes `model` to `path` in `format`, replacing it only if allowed.

    The step `export_saved_model` and `export_model` share: the export is
    written under TensorFlow (in this process or a new one) into a staging
    folder beside `path`, then moved to `path`.

    Args:
        model: a built keras-perceiver model.
        path: str or path-like. Where to write.
        overwrite: bool. Whether to replace an earlier export at `path`.
            Defaults to False.
        format: str. "saved_model", "onnx" or "litert" (see
            `keras_perceiver.export.formats`). Defaults to "saved_model".
        quantize: None or "int8". Defaults to None.

    Returns:
        The absolute path written, as a str.
    """
    serving_input_specs(model)  # Checks the model before any work.
    path = os.path.abspath(os.fspath(path))
    check_export_target(path, overwrite, format)
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".keras-perceiver-export-", dir=parent)
    try:
        staged = os.path.join(staging, "export_" + os.path.basename(path))
        if backend_differences.current().exports_in_process:
            from keras_perceiver.export import formats

            formats.write_under_tensorflow(model, staged, format, quantize)
        else:
            _write_in_tensorflow_process(model, staging, staged, format,
                                         quantize)
        _clear_target(path, overwrite, format)
        os.replace(staged, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


def check_export_target(path, overwrite=False, format="saved_model"):
    """Raises unless an export can be written to `path`.

    `export_saved_model` and `export_model` run this check; call it first
    to fail fast, e.g. before loading a model.

    Args:
        path: str or path-like. The SavedModel directory, or the ONNX or
            LiteRT file.
        overwrite: bool. Whether an existing `path` may be replaced.
            Defaults to False.
        format: str. "saved_model", "onnx" or "litert". Defaults to
            "saved_model".

    Example:

    >>> check_export_target("/tmp/new_directory")

    Raises:
        ValueError: if `path` is the working directory or one above it, or
            lies under a file.
        FileExistsError: if `path` exists and is not an empty directory,
            unless `overwrite` is True and it is an earlier export.
        ImportError: if TensorFlow is not installed.
    """
    _check_target(os.path.abspath(os.fspath(path)), overwrite, format)
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
    - dict inputs: their keys, nested keys joined by `_`;
    - a `PerceiverCausalLM`: `inputs`, int32 token ids of its whole
      context `(None, max_context)`, padded with 0 on the left (the
      padding is its mask).

    Args:
        model: a built `keras_perceiver.Perceiver`, `PerceiverEncoder`,
            Perceiver IO model or `PerceiverCausalLM`.

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
    if isinstance(model, PerceiverCausalLM):
        return input_adapter.serving_input_specs(
            (None, model.max_context), dtype="int32"
        )
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
    serve = serving_function(model)

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


def serving_output_names(model, format="saved_model"):
    """The names of the outputs the serving signature returns (and an ONNX
    or LiteRT file of the model).

    ONNX names every value of a graph once, so in an ONNX file an output
    named like an input (a multimodal autoencoder's `audio` in and `audio`
    out) is named `<name>_output`.

    Args:
        model: a built keras-perceiver model (as for
            `serving_input_specs`).
        format: str. The export's format: "saved_model", "onnx" or
            "litert". Defaults to "saved_model".

    Returns:
        A list of str: `["logits"]` for classifiers and masked or causal
        language models, the sorted keys of a model's dict of outputs (a
        multimodal autoencoder's modalities), else `["outputs"]`.

    Example:

    >>> model = keras_perceiver.Perceiver(num_classes=10, num_bands=8)
    >>> model.build((None, 8, 8, 3))
    >>> serving_output_names(model)
    ['logits']
    """
    if isinstance(model, _LOGIT_MODELS):
        return [OUTPUT_NAME]
    specs = serving_input_specs(model)
    symbolic = keras.tree.map_structure(
        lambda spec: keras.KerasTensor(spec.shape, spec.dtype), specs
    )
    outputs = model.compute_output_spec(symbolic, training=False)
    if not isinstance(outputs, dict):
        return ["outputs"]
    if format != "onnx":
        return sorted(outputs)
    inputs = {spec.name for spec in keras.tree.flatten(specs)}
    return sorted(onnx_output_name(name, inputs) for name in outputs)


def onnx_output_name(name, input_names):
    """An output's name in an ONNX file: `name`, or `<name>_output` when an
    input has that name (ONNX names every value of a graph once)."""
    return f"{name}_output" if name in input_names else name


def serving_function(model):
    """The function behind the `serving_default` signature (TensorFlow).

    The SavedModel, ONNX and LiteRT exports all trace it.

    Args:
        model: a built keras-perceiver model.

    Returns:
        A function of the inputs `serving_input_specs(model)` describes
        (a tensor, or a nested dict of them) returning a dict of float32
        outputs (`{"logits": ...}` for classifiers and masked LMs). It
        checks each input's shape against the signature's.

    Example:

    >>> serve = serving_function(model)
    >>> sorted(serve(tf.zeros((2, 8, 8, 3))))
    ['logits']
    """
    import tensorflow as tf

    specs = serving_input_specs(model)

    def serve(inputs):
        # The graph takes any size along the signature's axes: check them.
        inputs = keras.tree.map_structure(
            lambda tensor, spec: tf.ensure_shape(tensor, spec.shape),
            inputs, specs,
        )
        return _serving_outputs(model, model(inputs, training=False))

    return serve


def flat_serving_function(model):
    """`serving_function(model)` as a `tf.function` of its flat inputs.

    ONNX and LiteRT take a list of named inputs, not a nested dict: the
    function takes them in the order of
    `keras.tree.flatten(serving_input_specs(model))`, each named as its
    spec, with a dynamic batch size.

    Args:
        model: a built keras-perceiver model.

    Returns:
        A `tf.function` with an input signature.
    """
    import tensorflow as tf

    specs = serving_input_specs(model)
    serve = serving_function(model)

    def serve_flat(*tensors):
        return serve(keras.tree.pack_sequence_as(specs, tensors))

    return tf.function(serve_flat, autograph=False, input_signature=[
        _tensor_spec(spec) for spec in keras.tree.flatten(specs)])


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
    if not isinstance(model, (PerceiverEncoder, PerceiverTask,
                              PerceiverCausalLM)):
        raise ValueError(
            "`model` must be a keras_perceiver.Perceiver, PerceiverEncoder, "
            "Perceiver IO model or PerceiverCausalLM. "
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


# What each format writes, and what marks it as written by the export.
_KINDS = {
    "saved_model": ("SavedModel", MARKER_FILE),
    "onnx": (".onnx file", "its keras_perceiver metadata"),
    "litert": (".tflite file", "its keras_perceiver metadata"),
}


def _check_target(path, overwrite, format="saved_model"):
    _check_not_above_working_directory(path)
    _check_under_a_directory(path)
    if not os.path.lexists(path) or _is_empty_directory(path):
        return
    kind, marker = _KINDS[format]
    if not overwrite:
        raise FileExistsError(
            f"The {kind} path must not exist or be an empty directory; "
            "pass overwrite=True (--overwrite on the command line) to "
            "replace an earlier export. "
            f"Received: path={path!r}, which exists and is not empty"
        )
    if not _is_earlier_export(path, format):
        raise FileExistsError(
            f"overwrite=True (--overwrite) replaces only a {kind} "
            f"written by keras-perceiver export (one with {marker}); "
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


def _is_earlier_export(path, format="saved_model"):
    def regular_file(entry):
        return os.path.isfile(entry) and not os.path.islink(entry)

    if format != "saved_model":
        from keras_perceiver.export.metadata import read_metadata

        return regular_file(path) and read_metadata(path) is not None
    return (os.path.isdir(path) and not os.path.islink(path)
            and regular_file(os.path.join(path, "saved_model.pb"))
            and regular_file(os.path.join(path, MARKER_FILE)))


def _clear_target(path, overwrite, format="saved_model"):
    """Removes an empty directory or earlier export at `path`, checked
    again (it may have changed while the model was exported)."""
    _check_target(path, overwrite, format)
    if _is_empty_directory(path):
        os.rmdir(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)


def _tensorflow_is_installed():
    return importlib.util.find_spec("tensorflow") is not None


def _check_tensorflow_installed():
    if not _tensorflow_is_installed():
        raise ImportError(
            "Exporting (a SavedModel, ONNX or LiteRT) needs TensorFlow on "
            "every backend, which writes every format; "
            "install it with `pip install keras-perceiver[tensorflow]`. "
            "Received: no module named 'tensorflow'"
        )


def _write_in_tensorflow_process(model, staging, target,
                                 format="saved_model", quantize=None):
    """Saves `model` in `staging` and writes it to `target` (in `format`,
    quantised as `quantize` says) in a new TensorFlow process."""
    classes = _classes_in(keras.saving.serialize_keras_object(model))
    _check_importable(classes)
    keras_file = os.path.join(staging, "model.keras")
    model.save(keras_file)
    modules = sorted({module for module, _ in classes if module})
    command = [sys.executable, "-c", _EXPORT_SCRIPT, keras_file, target,
               format, quantize or "none"]
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
