"""The `serve_raw` signature: a classifier served on what a client has.

`export_saved_model` adds it beside `serving_default` for classifiers
(`Perceiver`, `PerceiverIOClassifier`) on images of 1 or 3 channels or on
audio waveforms. It takes uint8 images of any size and number of channels
(resized to the model's size and scaled to [0, 1] as `train` does for
image files) or float32 waveforms of any length (cut, or padded and
masked, to the model's length), and returns the logits with the
probabilities and the class names. The graph runs under TensorFlow: these
functions are traced by the export, never called in a model. A classifier
whose preprocessor is a checkpoint's `ImagePreprocessor` (central crop and
normalisation, which this graph would skip) gets no `serve_raw`.
"""

import keras

from keras_perceiver.adapters.audio_adapter import AudioAdapter
from keras_perceiver.models.perceiver import Perceiver
from keras_perceiver.models.perceiver_encoder import encoder_of
from keras_perceiver.models.perceiver_io_classifier import (
    PerceiverIOClassifier,
)
from keras_perceiver.preprocessing.file_preprocessor import FilePreprocessor

ENDPOINT_NAME = "serve_raw"
IMAGE_CHANNELS = (1, 3)  # What `prepare_image` makes of any image.


def raw_input_spec(model):
    """The input of a model's `serve_raw` signature, or None if it has none.

    Args:
        model: a built keras-perceiver model.

    Returns:
        `keras.InputSpec` `images` uint8 `(None, None, None, None)` for an
        image classifier built on 1 or 3 channels, `waveforms` float32
        `(None, None)` for an audio classifier on waveforms without a
        channel axis; None for any other model, and for a model whose
        `preprocessor` is not a `FilePreprocessor` (a checkpoint's
        `ImagePreprocessor`: its crop and normalisation are not this
        graph's).

    Example:

    >>> model = keras_perceiver.Perceiver(num_classes=3, num_bands=4)
    >>> model.build((None, 8, 8, 3))
    >>> spec = raw_input_spec(model)
    >>> spec.name, spec.dtype, spec.shape
    ('images', 'uint8', (None, None, None, None))
    """
    if not isinstance(model, (Perceiver, PerceiverIOClassifier)):
        return None
    if model.preprocessor is not None and not isinstance(
        model.preprocessor, FilePreprocessor
    ):
        return None
    adapter = encoder_of(model).input_adapter
    if isinstance(adapter, AudioAdapter):
        if len(_data_shape(model)) == 2:
            return keras.InputSpec(shape=(None, None), dtype="float32",
                                   name="waveforms")
    elif getattr(adapter, "input_name", None) == "images":
        if _data_shape(model)[-1] in IMAGE_CHANNELS:
            return keras.InputSpec(shape=(None,) * 4, dtype="uint8",
                                   name="images")
    return None


def raw_outputs(model, raw):
    """The `serve_raw` outputs of `model` for a batch `raw` (TensorFlow).

    Args:
        model: a model for which `raw_input_spec` is not None.
        raw: the batch, as `raw_input_spec` describes it.

    Returns:
        A dict: `logits` float32 `(batch, num_classes)`, `probabilities`
        (their softmax), `predicted_class` string `(batch,)` (the name of
        the most probable class) and `class_names` string
        `(batch, num_classes)` (the name of each column).
    """
    import tensorflow as tf

    from keras_perceiver.modalities.image import prepare_image

    if isinstance(encoder_of(model).input_adapter, AudioAdapter):
        inputs = _cut_or_padded(raw, _data_shape(model)[1])
    else:
        height, width, channels = _data_shape(model)[1:]
        inputs = prepare_image(
            raw, {"channels": channels, "image_size": (height, width)}
        )
    logits = keras.ops.cast(model(inputs, training=False), "float32")
    names = tf.constant(
        model.class_names or [str(index) for index in range(model.num_classes)]
    )
    return {
        "logits": logits,
        "probabilities": keras.ops.softmax(logits),
        "predicted_class": tf.gather(names, tf.argmax(logits, axis=-1)),
        "class_names": tf.tile(names[None], [tf.shape(logits)[0], 1]),
    }


def _data_shape(model):
    shape = model.get_build_config()["input_shape"]
    return tuple(shape["inputs"] if isinstance(shape, dict) else shape)


def _cut_or_padded(waveforms, length):
    """`{"inputs", "mask"}`: `waveforms` `(batch, samples)` cut or padded
    with zeros to `length` samples, True where a sample is real."""
    import tensorflow as tf

    from keras_perceiver.modalities.inputs import cut_or_padded

    clip = cut_or_padded(tf.transpose(waveforms), length)  # Samples first.
    inputs = tf.transpose(clip["inputs"])
    return {"inputs": inputs,
            "mask": tf.broadcast_to(clip["mask"][None], tf.shape(inputs))}
