"""Writing an ONNX model (under TensorFlow): tf2onnx, then int8 if asked.

The model's serving function (`saved_model.flat_serving_function`: the
graph of the SavedModel's `serving_default`) is converted by tf2onnx with
a dynamic batch size, quantised by onnxruntime if asked, and given its
metadata (`keras_perceiver.export.metadata`).
"""

import os

from keras_perceiver.export import metadata
from keras_perceiver.export import saved_model

# ONNX opset 17 (onnxruntime 1.11 and later run it).
OPSET = 17


def write_onnx(model, path, quantize=None):
    """Writes `model` as an ONNX file at `path` (TensorFlow backend).

    Args:
        model: a built keras-perceiver model.
        path: str. The `.onnx` file to write.
        quantize: None, or "int8" for onnxruntime's dynamic-range
            quantisation (int8 weights; activations quantised at run time).
    """
    import tf2onnx

    function = _with_onnx_output_names(
        saved_model.flat_serving_function(model))
    float_path = path if quantize is None else path + ".float32"
    tf2onnx.convert.from_function(
        function, function.input_signature, opset=OPSET,
        custom_op_handlers={"Erfc": (_erfc_as_erf, [])},
        output_path=float_path,
    )
    if quantize is not None:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(float_path, path, weight_type=QuantType.QInt8)
        os.remove(float_path)
    metadata.with_onnx_metadata(
        path, metadata.export_metadata(model, "onnx", quantize))


def _with_onnx_output_names(function):
    """`function` returning its outputs under their ONNX names
    (`saved_model.onnx_output_name`: ONNX names every value once, so an
    output cannot take an input's name)."""
    import tensorflow as tf

    inputs = {spec.name for spec in function.input_signature}

    def serve(*tensors):
        return {saved_model.onnx_output_name(name, inputs): value
                for name, value in function(*tensors).items()}

    return tf.function(serve, autograph=False,
                       input_signature=function.input_signature)


def _erfc_as_erf(graph, node, name, args):
    """ONNX has no Erfc, which TensorFlow's exact GELU uses and tf2onnx
    does not convert: erfc(x) = 1 - erf(x)."""
    import numpy as np
    from tf2onnx import utils

    node.type = "Erf"
    one = graph.make_const(utils.make_name("one"), np.array(1, np.float32))
    complement = graph.insert_new_node_on_output(
        "Sub", node.output[0], inputs=[one.output[0], node.output[0]])
    graph.copy_shape(node.output[0], complement.output[0])
    graph.set_dtype(complement.output[0], graph.get_dtype(node.output[0]))
