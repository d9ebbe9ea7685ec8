"""The Perceiver models. Importing this package also imports the layers
and adapters, which registers every class a saved model can hold with
Keras (`keras.saving.load_model` needs them)."""

from keras_perceiver import adapters  # noqa: F401
from keras_perceiver import layers  # noqa: F401
from keras_perceiver.models.perceiver import Perceiver
from keras_perceiver.models.perceiver_causal_lm import PerceiverCausalLM
from keras_perceiver.models.perceiver_encoder import PerceiverEncoder
from keras_perceiver.models.perceiver_encoder import encoder_of
from keras_perceiver.models.perceiver_for_dataset import perceiver_for_dataset
from keras_perceiver.models.perceiver_io import PerceiverIO
from keras_perceiver.models.perceiver_io_classifier import (
    PerceiverIOClassifier,
)
from keras_perceiver.models.perceiver_masked_lm import PerceiverMaskedLM
from keras_perceiver.models.perceiver_multimodal_autoencoder import (
    PerceiverMultimodalAutoencoder,
)
from keras_perceiver.models.perceiver_optical_flow import (
    PerceiverOpticalFlow,
)
from keras_perceiver.models.perceiver_task import PerceiverTask

__all__ = [
    "Perceiver",
    "PerceiverCausalLM",
    "PerceiverEncoder",
    "PerceiverIO",
    "PerceiverIOClassifier",
    "PerceiverMaskedLM",
    "PerceiverMultimodalAutoencoder",
    "PerceiverOpticalFlow",
    "PerceiverTask",
    "encoder_of",
    "perceiver_for_dataset",
]
