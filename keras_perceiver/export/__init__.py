"""Exporting a model for serving: SavedModel, ONNX and LiteRT.

`export_saved_model` writes a SavedModel with two signatures: `serve`
(the model's own inputs, sizes fixed) and `serve_raw` (raw images or
waveforms of any size, prepared as training prepared them).
`export_model` writes that, or one ONNX or LiteRT file (float32 or int8)
of the same graph, with the class names and preprocessor in its metadata
(`read_metadata`). Every format needs TensorFlow installed, whatever the
Keras backend.
"""

from keras_perceiver.export.formats import export_model
from keras_perceiver.export.metadata import read_metadata
from keras_perceiver.export.raw_serving import raw_input_spec
from keras_perceiver.export.saved_model import check_export_target
from keras_perceiver.export.saved_model import export_saved_model
from keras_perceiver.export.saved_model import serving_input_specs
from keras_perceiver.export.saved_model import serving_output_names

__all__ = [
    "check_export_target",
    "export_model",
    "export_saved_model",
    "raw_input_spec",
    "read_metadata",
    "serving_input_specs",
    "serving_output_names",
]
