"""Perceiver building blocks, usable on their own."""

from keras_perceiver.layers.cross_attention import CrossAttention
from keras_perceiver.layers.feed_forward import FeedForward
from keras_perceiver.layers.fourier_position_encoding import (
    FourierPositionEncoding,
)
from keras_perceiver.layers.latent_transformer import LatentTransformer
from keras_perceiver.layers.perceiver_attention import PerceiverAttention
from keras_perceiver.layers.self_attention import SelfAttention
