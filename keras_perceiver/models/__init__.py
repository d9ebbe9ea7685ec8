from keras_perceiver.models.perceiver import Perceiver
