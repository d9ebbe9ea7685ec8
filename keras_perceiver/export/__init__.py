"""Exporting a model as a TensorFlow SavedModel for serving.

`export_saved_model` writes a SavedModel with two signatures: `serve`
(the model's own inputs, sizes fixed) and `serve_raw` (raw images or
waveforms of any size, prepared as training prepared them). It needs
TensorFlow installed, whatever the Keras backend.
"""

from keras_perceiver.export.raw_serving import raw_input_spec
from keras_perceiver.export.saved_model import check_export_target
from keras_perceiver.export.saved_model import export_saved_model
from keras_perceiver.export.saved_model import serving_input_specs

__all__ = [
    "check_export_target",
    "export_saved_model",
    "raw_input_spec",
    "serving_input_specs",
]
