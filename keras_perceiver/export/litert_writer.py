"""Writing a LiteRT (TFLite) model (under TensorFlow).

As Keras' own LiteRT export does: the model's serving function is written
to a SavedModel by `keras.export.ExportArchive` (a SavedModel written
otherwise keeps its weights as variables the converter cannot read), which
`tf.lite.TFLiteConverter` converts with LiteRT's built-in operators only
(no TensorFlow "flex" operators, which the plain interpreter lacks) and,
for int8, dynamic-range quantisation. The file then gets its metadata
(`keras_perceiver.export.metadata`).
"""

import tempfile

import keras

from keras_perceiver.export import metadata
from keras_perceiver.export import saved_model


def write_litert(model, path, quantize=None):
    """Writes `model` as a LiteRT file at `path` (TensorFlow backend).

    Args:
        model: a built keras-perceiver model.
        path: str. The `.tflite` file to write.
        quantize: None, or "int8" for dynamic-range quantisation (int8
            weights; activations quantised at run time).
    """
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as folder:
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint(saved_model.ENDPOINT_NAME,
                             saved_model.flat_serving_function(model))
        archive.write_out(folder, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(folder)
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.TFLITE_BUILTINS]
        if quantize is not None:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converted = converter.convert()
    record = metadata.export_metadata(model, "litert", quantize)
    with open(path, "wb") as file:
        file.write(metadata.with_litert_metadata(converted, record))
