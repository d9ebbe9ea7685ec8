"""Bad inputs of the multimodal autoencoder: one `ValueError` that names
what was expected and what was received, never a wrong answer.

The checks are the adapter's and the loader's own, before any backend
computation: they run in torch's process only.
"""

import numpy as np
import pytest

import keras_perceiver as kp
from bad_input import assert_value_error
from perceiver_multimodal_autoencoder_test import INPUTS
from perceiver_multimodal_autoencoder_test import tiny_autoencoder

pytestmark = pytest.mark.backend_independent


@pytest.fixture(scope="module")
def model():
    model = tiny_autoencoder()  # No mask token: every modality required.
    model(INPUTS)
    return model


def changed(**entries):
    inputs = dict(INPUTS, **entries)
    return {name: value for name, value in inputs.items() if value is not None}


@pytest.mark.parametrize(
    "inputs, fragments",
    [
        (changed(video=np.zeros((2, 3, 8, 8, 1), "float32")),
         ["`video` must have shape", "2 frames of 8 x 8", "(2, 3, 8, 8, 1)"]),
        (changed(video=np.zeros((2, 2, 8, 4, 1), "float32")),
         ["`video` must have shape", "(2, 2, 8, 4, 1)"]),
        (changed(audio=np.zeros((2, 48), "float32")),
         ["2 frames x 16 samples per frame = 32 samples",
          "audio.shape=(2, 48)"]),
        (changed(label=np.zeros((2, 9), "float32")),
         ["one-hot vector of 10 classes", "label.shape=(2, 9)"]),
        (changed(audio=None), ["Missing: ['audio']", "Received keys"]),
        (changed(label=None), ["Missing: ['label']", "mask token"]),
        (changed(text=np.zeros((2, 4), "float32")),
         ["unknown: ['text']", "Received keys"]),
        (changed(audio=np.zeros((3, 32), "float32")),
         ["same batch size", "Received batch sizes"]),
        (INPUTS["video"], ["must be a dict", "Received: inputs of type"]),
    ],
    ids=["wrong_frame_count", "wrong_frame_size", "audio_not_matching_the_"
         "frames", "wrong_label_width", "missing_audio",
         "missing_label_without_a_mask_token", "unknown_modality",
         "mismatched_batch_sizes", "not_a_dict"],
)
def test_bad_inputs_are_refused(model, inputs, fragments):
    assert_value_error(lambda: model(inputs), *fragments, "Received")


@pytest.mark.parametrize(
    "points",
    [{"label": np.arange(1)}, {"video": np.zeros((2, 3), "int32")}],
    ids=["label", "two_dimensional"],
)
def test_bad_subsampled_points_are_refused(model, points):
    assert_value_error(
        lambda: model(INPUTS, subsampled_output_points=points),
        "`subsampled_points` must be a dict mapping 'audio' and/or 'video'",
        "Received",
    )


@pytest.mark.parametrize(
    "arguments, fragments",
    [
        (dict(frame_size=10), ["`frame_size` must be divisible", "10"]),
        (dict(audio_samples_per_frame=10),
         ["must be divisible by `samples_per_patch`", "20"]),
        (dict(mask_probs={"label": 1.5}), ["`mask_probs['label']`", "1.5"]),
        (dict(mask_probs={"image": 0.5}), ["`mask_probs` must be a dict",
                                           "image"]),
    ],
    ids=["frames_not_in_patches", "audio_not_in_patches", "rate_above_1",
         "unknown_masked_modality"],
)
def test_bad_adapter_arguments_are_refused(arguments, fragments):
    settings = dict(num_frames=2, frame_size=8, audio_samples_per_frame=16,
                    num_labels=10, samples_per_patch=8)
    settings.update(arguments)
    assert_value_error(
        lambda: kp.adapters.MultimodalAutoencodingAdapter(**settings),
        *fragments, "Received",
    )


def test_an_encoder_without_the_multimodal_adapter_is_refused():
    encoder = kp.PerceiverEncoder(num_latents=4, latent_dim=8, num_blocks=1)
    assert_value_error(
        lambda: kp.PerceiverMultimodalAutoencoder(encoder),
        "MultimodalAutoencodingAdapter", "Received: input_adapter",
    )


@pytest.mark.parametrize("output_shape", [
    [1, 3, 8, 8],  # Another frame count than num_frames.
    [1, 2, 8, 10],  # Not whole 4 x 4 patches.
    [1, 2, 8],
])
def test_a_checkpoint_decoding_another_video_is_refused(output_shape):
    """(`image_size` is the Fourier features' resolution, not the frames':
    the published model has 56 for 224 x 224 frames.)"""
    from keras_perceiver.pretrained import conversion

    config = {"architectures": [conversion.MULTIMODAL], "num_frames": 2,
              "image_size": 8, "output_shape": output_shape}
    assert_value_error(
        lambda: conversion.build_model(conversion.MULTIMODAL, config),
        "`output_shape` must be [batch, num_frames, height, width] with "
        "num_frames 2", f"Received: output_shape={output_shape!r}",
    )


@pytest.mark.parametrize(
    "training_points",
    [{}, {"label": 1}, {"video": 0}, {"video": 129}, {"audio": 5},
     {"audio": 1.5}, {"video": True}, [("video", 4)]],
)
def test_bad_training_points_are_refused(training_points):
    assert_value_error(
        lambda: tiny_autoencoder(training_points=training_points),
        "`training_points` must be None or a dict mapping 'audio' and/or "
        "'video' to a number of points in [1, 4] audio patches and "
        "[1, 128] video pixels",
        f"Received: training_points={training_points!r}",
    )
