"""Input adapters: layers that turn raw modality data into a byte array.

Each adapter's call returns `(byte_array, mask)`, with the mask None where
the modality has no padding; pass one to `keras_perceiver.Perceiver` as
`input_adapter`.
"""

from keras_perceiver.adapters.image_adapter import ImageAdapter
