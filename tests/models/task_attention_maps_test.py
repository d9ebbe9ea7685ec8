"""Every Perceiver task gives its attention maps through its encoder.

`cross_attention_maps` used to exist on `Perceiver` (which is an encoder)
only, so callers probed for it; the Perceiver IO tasks now answer it from
their encoder, and the attention plot draws any of them.
"""

import numpy as np
import pytest

import keras_perceiver as kp
from keras_perceiver import layers
from keras_perceiver.datasets import Dataset
from keras_perceiver.models.perceiver_encoder import encoder_of
from keras_perceiver.reports import plotting
from support import tiny_perceiver
from support import to_numpy

IMAGES = np.random.RandomState(0).uniform(size=(2, 6, 6, 1)).astype("float32")


def tiny_encoder(**overrides):
    config = dict(
        num_latents=4, latent_dim=8, num_blocks=1,
        num_self_attends_per_block=1, num_cross_heads=2, num_self_heads=2,
        cross_qk_channels=8, num_bands=2, block_scheme="perceiver_io",
    )
    return kp.PerceiverEncoder(**{**config, **overrides})


def dense_model():
    return kp.PerceiverIO(
        tiny_encoder(),
        output_queries=layers.FourierQueries((6, 6), num_bands=2),
        decoder=layers.PerceiverDecoder(num_output_channels=1,
                                        use_query_residual=False),
    )


def image_tasks():
    return {
        "perceiver": tiny_perceiver(num_cross_heads=2, cross_qk_channels=8,
                                     num_latents=4),
        "perceiver_io": dense_model(),
        "perceiver_io_classifier": kp.PerceiverIOClassifier(
            tiny_encoder(), num_classes=2, class_names=["a", "b"]),
    }


@pytest.mark.parametrize("task", sorted(image_tasks()))
def test_every_image_task_gives_the_attention_maps_of_its_encoder(task):
    model = image_tasks()[task]
    model(IMAGES)
    maps = to_numpy(model.cross_attention_maps(IMAGES))
    assert maps.shape == (2, 2, 4, 36)  # (batch, heads, latents, pixels)
    np.testing.assert_allclose(maps.sum(axis=-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(
        maps, to_numpy(encoder_of(model).cross_attention_maps(IMAGES)))


def test_masked_lm_attention_maps_leave_padding_out():
    encoder = tiny_encoder(
        input_adapter=kp.adapters.TextAdapter(max_length=16, embedding_dim=6))
    model = kp.PerceiverMaskedLM(encoder, decoder_num_heads=2)
    ids, mask = kp.ByteTokenizer().encode(["a [MASK] b", "bytes"], length=12)
    inputs = {"inputs": ids, "mask": mask}
    model(inputs)
    maps = to_numpy(model.cross_attention_maps(inputs))
    assert maps.shape == (2, 2, 4, 12)
    padding = ~np.asarray(mask)[:, None, None, :]
    assert padding.any()
    np.testing.assert_array_equal(np.where(padding, maps, 0.0), 0.0)


def test_encoder_of_a_task_is_its_encoder_and_of_an_encoder_itself():
    model = tiny_perceiver()
    assert encoder_of(model) is model.encoder
    io_model = dense_model()
    assert encoder_of(io_model) is io_model.encoder
    assert encoder_of(model.encoder) is model.encoder


@pytest.mark.backend_independent
def test_attention_maps_plot_for_a_perceiver_io_classifier(tmp_path):
    model = image_tasks()["perceiver_io_classifier"]
    model(IMAGES)
    data = Dataset(name="tiny", x_train=IMAGES, y_train=np.array([0, 1]),
                   x_test=IMAGES, y_test=np.array([0, 1]),
                   class_names=["a", "b"], modality="image")
    path = tmp_path / "attention_maps.png"
    plotting.plot_attention_maps(model, data, path, num_latents=2)
    assert path.read_bytes().startswith(b"\x89PNG")
