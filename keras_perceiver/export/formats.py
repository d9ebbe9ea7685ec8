"""`export_model`: a Perceiver as a SavedModel, an ONNX or a LiteRT file.

Every format is written by TensorFlow from the graph of the SavedModel's
`serving_default` signature (`saved_model.serving_function`), on every
backend: on JAX and PyTorch the model is rebuilt under TensorFlow in a new
process, as for the SavedModel. Keras' own `model.export(format="onnx" or
"litert")` does not serve here on any backend (Keras 3.15): on TensorFlow
its ONNX file holds an Erfc node (the exact GELU) that tf2onnx cannot
convert and onnxruntime refuses; on PyTorch its ONNX exporter fails on a
dynamic batch size and its LiteRT export needs litert-torch, with a fixed
batch size; on JAX its ONNX export needs jax2onnx and it has no LiteRT
export. The graph written here has a dynamic batch size in every format.
"""

import importlib.util
import os

from keras_perceiver.export import metadata
from keras_perceiver.export import saved_model
from keras_perceiver.optional_dependencies import MissingExtraError

FORMATS = ("saved_model", "onnx", "litert")
QUANTIZATIONS = ("int8",)
# The modules each format needs beside TensorFlow: (module, pip package).
# The `onnx` and `litert` extras install them.
_PACKAGES = {
    "saved_model": (),
    "onnx": (("tf2onnx", "tf2onnx"), ("onnx", "onnx"),
             ("onnxruntime", "onnxruntime")),
    "litert": (("ai_edge_litert", "ai-edge-litert"),),
}


def export_model(model, path, format="saved_model", quantize=None,
                 overwrite=False):
    """Writes a Perceiver model for serving: SavedModel, ONNX or LiteRT.

    Works on every backend (the export runs under TensorFlow: in this
    process on TensorFlow, in a new process on JAX and PyTorch). Every
    format takes the inputs of `serving_input_specs(model)` by name
    (float32; bool masks; int32 token ids) with a dynamic batch size, and
    returns float32 outputs named as the SavedModel's `serving_default`
    names them (`logits` for classifiers and masked language models).

    - "saved_model": `export_saved_model` (a directory; with `serve_raw`
      for image and audio classifiers).
    - "onnx": one `.onnx` file (opset 17, converted by tf2onnx), for
      onnxruntime.
    - "litert": one `.tflite` file (LiteRT's built-in operators only), for
      the LiteRT interpreter (`ai_edge_litert`).

    The ONNX and LiteRT files record the model's class names and
    preprocessor (how raw files become inputs) in their own metadata:
    `read_metadata(path)` gives them back without Keras or TensorFlow.

    Args:
        model: a built keras-perceiver model (as for `export_saved_model`).
        path: str or path-like. The SavedModel directory, or the file to
            write (ending in `.onnx` or `.tflite`).
        format: str. One of "saved_model", "onnx", "litert". Defaults to
            "saved_model".
        quantize: None or "int8": dynamic-range quantisation (weights
            stored as int8, activations quantised at run time) for "onnx"
            (onnxruntime's `quantize_dynamic`) and "litert" (the
            converter's default optimisation). Defaults to None (float32).
        overwrite: bool. Whether to replace an earlier export at `path`
            (one written by this package); anything else is refused.
            Defaults to False.

    Returns:
        The absolute path written, as a str.

    Example:

    >>> model = keras_perceiver.Perceiver(num_classes=2, num_bands=4,
    ...     class_names=["cat", "dog"])
    >>> model.build((None, 8, 8, 1))
    >>> path = export_model(model, "/tmp/model.onnx", format="onnx")
    >>> import onnxruntime
    >>> session = onnxruntime.InferenceSession(path)
    >>> session.run(None, {"images": np.zeros((3, 8, 8, 1), "float32")}
    ...             )[0].shape
    (3, 2)

    Raises:
        ValueError: if `format` or `quantize` is not one of the above, if
            `quantize` is given with "saved_model", if the file name does
            not end as the format's does, or as `export_saved_model`.
        FileExistsError: if `path` exists, unless `overwrite` is True and
            it is an earlier export in the same format.
        ImportError: if TensorFlow or the format's packages are missing.
        RuntimeError: if the export process (JAX and PyTorch) fails.
    """
    check_export_options(path, format, quantize)
    return saved_model.write_export(model, path, overwrite, format, quantize)


def check_export_options(path, format="saved_model", quantize=None):
    """Raises unless `format` and `quantize` go together and with `path`,
    and the format's packages are installed.

    Args:
        path: str or path-like. Where the export is to go.
        format: str. Defaults to "saved_model".
        quantize: None or str. Defaults to None.

    Example:

    >>> check_export_options("model.tflite", "litert", "int8")

    Raises:
        ValueError: if `format` or `quantize` is unknown, if `quantize` is
            given with "saved_model", or if `path` does not end in the
            format's suffix (`.onnx`, `.tflite`).
        ImportError: if a package the format needs is missing.
    """
    if format not in FORMATS:
        raise ValueError(
            f"`format` must be one of {', '.join(FORMATS)}. "
            f"Received: format={format!r}"
        )
    if quantize is not None and quantize not in QUANTIZATIONS:
        raise ValueError(
            f"`quantize` must be None or one of {', '.join(QUANTIZATIONS)}. "
            f"Received: quantize={quantize!r}"
        )
    if quantize is not None and format == "saved_model":
        raise ValueError(
            "int8 quantisation is for the onnx and litert formats; a "
            "SavedModel is written in float32. "
            f"Received: format='saved_model', quantize={quantize!r}"
        )
    suffix = metadata.SUFFIXES.get(format)
    if suffix and not os.fspath(path).endswith(suffix):
        raise ValueError(
            f"A {format} export is one file whose name ends in {suffix}. "
            f"Received: path={os.fspath(path)!r}"
        )
    for module, package in _PACKAGES[format]:
        if importlib.util.find_spec(module) is None:
            raise MissingExtraError(
                f"The {format} export needs {package}; install it with "
                f"`pip install keras-perceiver[{format}]`. "
                f"Received: no module named {module!r}"
            )


def write_under_tensorflow(model, path, format, quantize=None):
    """Writes the export in this process (TensorFlow backend only).

    `export_model` is the function to use: it checks its arguments and
    works on every backend. This is the step it runs under TensorFlow.

    Args:
        model: a built keras-perceiver model.
        path: str. Where to write.
        format: str. One of `FORMATS`.
        quantize: None or "int8".
    """
    if format == "saved_model":
        saved_model._write_saved_model(model, path)
    elif format == "onnx":
        from keras_perceiver.export.onnx_writer import write_onnx

        write_onnx(model, path, quantize)
    else:
        from keras_perceiver.export.litert_writer import write_litert

        write_litert(model, path, quantize)
