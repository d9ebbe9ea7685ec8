from keras_perceiver.models.perceiver import Perceiver
from keras_perceiver.models.perceiver_encoder import PerceiverEncoder
from keras_perceiver.models.perceiver_for_dataset import perceiver_for_dataset
from keras_perceiver.models.perceiver_io import PerceiverIO
from keras_perceiver.models.perceiver_io_classifier import (
    PerceiverIOClassifier,
)
from keras_perceiver.models.perceiver_masked_lm import PerceiverMaskedLM
