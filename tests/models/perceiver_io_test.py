import keras
import numpy as np
import pytest

import keras_perceiver as kp
from keras_perceiver import layers
from layer_harness import run_task_test
from support import to_numpy

IMAGES = np.random.RandomState(0).uniform(size=(3, 6, 6, 1)).astype("float32")
BYTE_ARRAY = np.random.RandomState(1).normal(size=(3, 20, 7)).astype(
    "float32"
)


def tiny_encoder(**overrides):
    config = dict(
        num_latents=8, latent_dim=16, num_blocks=2,
        num_self_attends_per_block=1, num_self_heads=2, num_bands=4,
        block_scheme="perceiver_io",
    )
    return kp.PerceiverEncoder(**{**config, **overrides})


def dense_model(**decoder_overrides):
    """Per-pixel outputs for 6x6 images from Fourier queries of the grid."""
    decoder = dict(num_output_channels=2, use_query_residual=False)
    return kp.PerceiverIO(
        tiny_encoder(),
        output_queries=layers.FourierQueries((6, 6), num_bands=4),
        decoder=layers.PerceiverDecoder(**{**decoder, **decoder_overrides}),
    )


# PerceiverIO


def test_dense_outputs_come_on_the_query_grid():
    outputs = dense_model()(IMAGES)
    assert tuple(outputs.shape) == (3, 6, 6, 2)


def test_per_element_outputs_follow_the_byte_array():
    model = kp.PerceiverIO(
        tiny_encoder(),
        output_queries=layers.InputQueries(),
        decoder=layers.PerceiverDecoder(num_output_channels=4),
    )
    mask = np.ones((3, 20), bool)
    mask[0, 12:] = False
    outputs = to_numpy(model({"inputs": BYTE_ARRAY, "mask": mask}))
    assert outputs.shape == (3, 20, 4)
    # Masked elements are ignored by the encoder: the real elements'
    # outputs equal those of the unpadded input.
    unpadded = to_numpy(model(BYTE_ARRAY[:1, :12]))
    np.testing.assert_allclose(outputs[:1, :12], unpadded, atol=1e-5)
    assert tuple(model.compute_output_shape((None, 10, 7))) == (None, 10, 4)


def test_several_outputs_from_one_model():
    model = kp.PerceiverIO(
        tiny_encoder(),
        output_queries={
            "label": layers.LearnedQueries(1, 18, task_embedding_channels=4),
            "pixels": layers.FourierQueries(
                (6, 6), num_bands=4, task_embedding_channels=4
            ),
        },
        decoder=layers.PerceiverDecoder(num_output_channels=3),
    )
    outputs = model(IMAGES)
    assert tuple(outputs["label"].shape) == (3, 1, 3)
    assert tuple(outputs["pixels"].shape) == (3, 6, 6, 3)
    model.compile(optimizer="adam", loss={"label": "mse", "pixels": "mse"})
    history = model.fit(
        IMAGES,
        {"label": np.zeros((3, 1, 3)), "pixels": np.zeros((3, 6, 6, 3))},
        epochs=2,
        verbose=0,
    )
    assert np.isfinite(history.history["loss"]).all()


def several_outputs_model():
    return kp.PerceiverIO(
        tiny_encoder(),
        output_queries={
            "class_name": layers.LearnedQueries(1, 10),
            "pixels": layers.LearnedQueries(36, 10, index_shape=(6, 6)),
        },
        decoder=layers.PerceiverDecoder(num_output_channels=3),
    )


def test_several_outputs_model_checks(tmp_path):
    run_task_test(
        several_outputs_model, {}, IMAGES, tmp_path,
        expected_output_shape={"class_name": (3, 1, 3),
                               "pixels": (3, 6, 6, 3)},
    )


@pytest.mark.parametrize(
    "arguments, argument",
    [
        ({"output_queries": {}}, "output_queries"),
        ({"output_queries": keras.layers.Dense(3)}, "output_queries"),
        ({"decoder": keras.layers.Dense(3)}, "decoder"),
    ],
)
def test_queries_and_decoder_of_the_wrong_kind_raise(arguments, argument):
    defaults = dict(
        output_queries=layers.LearnedQueries(1, 4),
        decoder=layers.PerceiverDecoder(3),
    )
    with pytest.raises(ValueError, match=f"`{argument}` must be.*Received"):
        kp.PerceiverIO(tiny_encoder(), **{**defaults, **arguments})


def test_a_perceiver_with_its_head_is_not_an_encoder():
    perceiver = kp.Perceiver(num_classes=3, num_latents=4, latent_dim=8,
                             num_blocks=1, num_self_attends_per_block=1,
                             num_self_heads=2)
    with pytest.raises(ValueError, match="`encoder` must be.*head"):
        kp.PerceiverIOClassifier(perceiver, num_classes=3)


def test_queries_of_different_widths_raise():
    model = kp.PerceiverIO(
        tiny_encoder(),
        output_queries={
            "label": layers.LearnedQueries(1, 10),
            "pixels": layers.FourierQueries((6, 6), num_bands=4),
        },
        decoder=layers.PerceiverDecoder(num_output_channels=3),
    )
    with pytest.raises(ValueError, match="same width.*Received: widths"):
        model(IMAGES)


def test_output_grid_that_does_not_match_the_inputs_raises():
    model = kp.PerceiverIO(
        tiny_encoder(),
        output_queries=layers.InputQueries(index_shape=(5, 5)),
        decoder=layers.PerceiverDecoder(num_output_channels=1),
    )
    with pytest.raises(ValueError, match="one point per query \\(36\\)"):
        model(IMAGES)


def test_encoder_that_is_not_an_encoder_raises():
    with pytest.raises(ValueError, match="`encoder` must be"):
        kp.PerceiverIO(
            keras.layers.Dense(3),
            output_queries=layers.LearnedQueries(1, 4),
            decoder=layers.PerceiverDecoder(3),
        )


def test_fit_learns_a_per_pixel_target():
    images = np.random.RandomState(3).uniform(size=(32, 6, 6, 1))
    images = images.astype("float32")
    targets = np.concatenate([images, 1.0 - images], axis=-1)
    model = dense_model()
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    history = model.fit(images, targets, epochs=30, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_layer_checks(tmp_path):
    # Under mixed_bfloat16 the outputs are float32.
    run_task_test(dense_model, {}, IMAGES, tmp_path,
                  expected_output_shape=(3, 6, 6, 2))


def test_mixed_bfloat16_decoder_and_queries():
    keras.config.set_dtype_policy("mixed_bfloat16")
    model = dense_model()
    model(IMAGES)
    assert model.decoder.compute_dtype == "bfloat16"
    assert model.output_queries.compute_dtype == "bfloat16"


def test_classifier_layers_follow_the_models_dtype_policy():
    model = kp.PerceiverIOClassifier(
        tiny_encoder(dtype="mixed_bfloat16"), num_classes=4,
        dtype="mixed_bfloat16",
    )
    model(IMAGES)
    assert model.decoder.compute_dtype == "bfloat16"
    assert model.output_queries.compute_dtype == "bfloat16"


# PerceiverIOClassifier


def classifier(**kwargs):
    return kp.PerceiverIOClassifier(tiny_encoder(), **kwargs)


def test_classifier_gives_logits_trains_and_keeps_its_class_names(tmp_path):
    names = ["cat", "dog", "fish", "bird"]
    _, restored = run_task_test(
        classifier, dict(num_classes=4, class_names=names), IMAGES, tmp_path,
        expected_output_shape=(3, 4), targets=np.array([0, 1, 2]),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    assert restored.class_names == names


def test_classifier_class_names_of_the_wrong_length_raise():
    with pytest.raises(ValueError, match="`class_names` must be 3 strings.*Received"):
        kp.PerceiverIOClassifier(tiny_encoder(), 3, class_names=["a", "b"])
