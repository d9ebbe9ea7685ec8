"""`FlowAdapter`'s refusals: what is not a pair of frames of one size."""

import numpy as np
import pytest

import keras_perceiver as kp
from bad_input import assert_value_error

pytestmark = pytest.mark.backend_independent


@pytest.mark.parametrize(
    "shape, fragment",
    [
        ((1, 3, 6, 8, 3), "2 frames along axis 1"),
        ((1, 1, 6, 8, 3), "2 frames along axis 1"),
        ((1, 6, 8, 3), "rank"),
    ],
    ids=["three_frames", "one_frame", "a_single_image"],
)
def test_what_is_not_a_pair_of_frames_is_refused(shape, fragment):
    adapter = kp.adapters.FlowAdapter(num_channels=4, num_bands=2)
    assert_value_error(lambda: adapter.build(shape), fragment)


def test_frames_of_another_size_than_built_are_refused():
    adapter = kp.adapters.FlowAdapter(num_channels=4, num_bands=2)
    adapter.build((None, 2, 6, 8, 3))
    frames = np.zeros((1, 2, 6, 9, 3), "float32")
    assert_value_error(lambda: adapter(frames), "(None, 2, 6, 8, 3)")


def test_a_mask_is_refused():
    adapter = kp.adapters.FlowAdapter(num_channels=4, num_bands=2)
    frames = np.zeros((1, 2, 6, 8, 3), "float32")
    mask = np.ones((1, 2), bool)
    assert_value_error(lambda: adapter({"inputs": frames, "mask": mask}),
                       "take no mask")


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"num_channels": 0}, "num_channels"),
        ({"concat_pos": "yes"}, "concat_pos"),
    ],
)
def test_bad_adapter_arguments(kwargs, fragment):
    assert_value_error(lambda: kp.adapters.FlowAdapter(**kwargs), fragment)


@pytest.mark.parametrize(
    "make, fragment",
    [
        (lambda: kp.layers.PerceiverDecoder(query_chunk_size=0),
         "query_chunk_size"),
        (lambda: kp.PerceiverOpticalFlow(
            kp.PerceiverEncoder(num_latents=4, latent_dim=8, num_blocks=1,
                                num_self_attends_per_block=1,
                                num_self_heads=2)), "FlowAdapter"),
        (lambda: kp.PerceiverOpticalFlow(
            kp.PerceiverEncoder(num_latents=4, latent_dim=8, num_blocks=1,
                                num_self_attends_per_block=1,
                                num_self_heads=2,
                                input_adapter=kp.adapters.FlowAdapter()),
            rescale_factor=0), "rescale_factor"),
    ],
    ids=["decoder_chunk", "encoder_without_flow_adapter", "rescale_factor"],
)
def test_bad_model_arguments(make, fragment):
    assert_value_error(make, fragment)
