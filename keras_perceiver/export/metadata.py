"""What an ONNX or LiteRT export records about its model, and reading it.

Each `.onnx` and `.tflite` file that `export_model` writes carries one JSON
record under the key `METADATA_KEY`: in the ONNX model's `metadata_props`,
and in a LiteRT model's own metadata table (a named buffer in the
flatbuffer, which LiteRT's interpreter ignores), so that the file needs no
companion to be used or recognised. `read_metadata` reads it back with
`onnx` or `ai_edge_litert` alone: no Keras or TensorFlow.
"""

import json
import os
import struct

METADATA_KEY = "keras_perceiver"
WRITTEN_BY = "keras_perceiver.export_model"
# The file name ending of each format's single-file export.
SUFFIXES = {"onnx": ".onnx", "litert": ".tflite"}
# A LiteRT (TFLite) flatbuffer's file identifier, at bytes 4 to 8.
LITERT_IDENTIFIER = b"TFL3"


def export_metadata(model, format, quantize):
    """The record an export of `model` carries.

    Args:
        model: a built keras-perceiver model.
        format: str. "onnx" or "litert".
        quantize: None or "int8".

    Returns:
        A JSON-serialisable dict: `written_by`, `format`, `quantize`,
        `inputs` (name, dtype and shape of each, None for a free size),
        `class_names` (None for a model without them) and `preprocessor`
        (as `keras.saving.serialize_keras_object` gives it; None without
        one): how a client turns raw files into the inputs.
    """
    import keras

    from keras_perceiver.export.saved_model import serving_input_specs
    from keras_perceiver.preprocessing.preprocessor import preprocessor_of
    from keras_perceiver.preprocessing.preprocessor import serialized

    input_specs = keras.tree.flatten(serving_input_specs(model))
    class_names = getattr(model, "class_names", None)
    return {
        "written_by": WRITTEN_BY,
        "format": format,
        "quantize": quantize,
        "inputs": [{"name": spec.name, "dtype": spec.dtype,
                    "shape": list(spec.shape)} for spec in input_specs],
        "class_names": list(class_names) if class_names else None,
        "preprocessor": serialized(preprocessor_of(model)),
    }


def read_metadata(path):
    """The record of an ONNX or LiteRT file written by `export_model`.

    Needs `onnx` for a `.onnx` file and `ai-edge-litert` for a `.tflite`
    file (the `onnx` and `litert` extras); not Keras or TensorFlow.

    Args:
        path: str or path-like. A `.onnx` or `.tflite` file.

    Returns:
        The dict `export_model` recorded (its keys: `written_by`, `format`,
        `quantize`, `inputs`, `class_names`, `preprocessor`), or None if
        the file holds no such record (another tool wrote it, or it is not
        a model of that format).

    Example:

    >>> path = export_model(model, "/tmp/model.onnx", format="onnx")
    >>> read_metadata(path)["class_names"]
    ['cat', 'dog']

    Raises:
        ValueError: if `path` ends in neither `.onnx` nor `.tflite`.
    """
    path = os.fspath(path)
    if path.endswith(SUFFIXES["onnx"]):
        record = _onnx_record(path)
    elif path.endswith(SUFFIXES["litert"]):
        record = _litert_record(path)
    else:
        raise ValueError(
            "read_metadata reads a .onnx or .tflite file. "
            f"Received: path={path!r}"
        )
    try:
        record = json.loads(record) if record is not None else None
    except ValueError:
        return None
    if isinstance(record, dict) and record.get("written_by") == WRITTEN_BY:
        return record
    return None


def _onnx_record(path):
    import onnx
    from google.protobuf.message import DecodeError

    try:
        model = onnx.load(path, load_external_data=False)
    except (DecodeError, OSError, ValueError):
        return None
    props = {prop.key: prop.value for prop in model.metadata_props}
    return props.get(METADATA_KEY)


def _litert_record(path):
    from ai_edge_litert import schema_py_generated as schema

    with open(path, "rb") as file:
        data = file.read()
    if data[4:8] != LITERT_IDENTIFIER:
        return None
    try:
        model = schema.Model.GetRootAs(data, 0)
        for index in range(model.MetadataLength()):
            entry = model.Metadata(index)
            if entry.Name() == METADATA_KEY.encode():
                buffer = model.Buffers(entry.Buffer())
                return buffer.DataAsNumpy().tobytes().decode()
    except (IndexError, struct.error, UnicodeDecodeError, AttributeError):
        return None  # A damaged flatbuffer: no record to read.
    return None


def with_onnx_metadata(path, record):
    """Adds `record` (a dict) to the ONNX file at `path`'s metadata_props."""
    import onnx

    model = onnx.load(path)
    entry = model.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(record)
    onnx.save(model, path)


def with_litert_metadata(data, record):
    """The LiteRT flatbuffer `data` (bytes) with `record` (a dict) in its
    metadata table, as bytes."""
    import flatbuffers
    import numpy as np
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(json.dumps(record).encode(), np.uint8)
    entry = schema.MetadataT()
    entry.name, entry.buffer = METADATA_KEY, len(model.buffers)
    model.buffers.append(buffer)
    model.metadata = (model.metadata or []) + [entry]
    builder = flatbuffers.Builder(len(data) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=LITERT_IDENTIFIER)
    return bytes(builder.Output())
