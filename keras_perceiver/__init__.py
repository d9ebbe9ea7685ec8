"""keras-perceiver: the Perceiver (Jaegle et al., 2021) for Keras 3.

Runs on the TensorFlow, JAX and PyTorch backends; choose one with the
`KERAS_BACKEND` environment variable before importing keras.
"""

from keras_perceiver import adapters
from keras_perceiver import checkpoints
from keras_perceiver import datasets
from keras_perceiver import distribution
from keras_perceiver import layers
from keras_perceiver import models
from keras_perceiver import schedules
from keras_perceiver import training
from keras_perceiver.byte_tokenizer import ByteTokenizer
from keras_perceiver.export import export_saved_model
from keras_perceiver.models.perceiver import Perceiver
from keras_perceiver.models.perceiver_encoder import PerceiverEncoder
from keras_perceiver.models.perceiver_io import PerceiverIO
from keras_perceiver.models.perceiver_io_classifier import (
    PerceiverIOClassifier,
)
from keras_perceiver.models.perceiver_masked_lm import PerceiverMaskedLM

__version__ = "0.1.0"
