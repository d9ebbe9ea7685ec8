import keras
import numpy as np
import pytest

import keras_perceiver as kp
from keras_perceiver import layers
from layer_harness import run_layer_test
from support import assert_config_round_trip
from support import assert_keras_file_round_trip
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


# Decoder


def test_decoder_gives_one_output_per_query():
    decoder = layers.PerceiverDecoder(num_output_channels=5, num_heads=2)
    outputs = decoder(
        keras.random.normal((2, 11, 12)), keras.random.normal((2, 8, 16))
    )
    assert tuple(outputs.shape) == (2, 11, 5)


def test_decoder_without_projection_keeps_the_query_width():
    decoder = layers.PerceiverDecoder(use_query_residual=False)
    outputs = decoder(
        keras.random.normal((2, 11, 12)), keras.random.normal((2, 8, 16))
    )
    assert tuple(outputs.shape) == (2, 11, 12)
    assert decoder.output_projection is None


def test_decoder_outputs_do_not_depend_on_other_queries():
    decoder = layers.PerceiverDecoder(num_output_channels=3)
    queries = keras.random.normal((2, 10, 12))
    latents = keras.random.normal((2, 8, 16))
    together = to_numpy(decoder(queries, latents))
    alone = to_numpy(decoder(queries[:, 3:4], latents))
    np.testing.assert_allclose(alone[:, 0], together[:, 3], atol=1e-5)


def test_decoder_without_query_residual_is_attention_then_mlp():
    decoder = layers.PerceiverDecoder(use_query_residual=False)
    queries = keras.random.normal((2, 5, 12))
    latents = keras.random.normal((2, 8, 16))
    outputs = to_numpy(decoder(queries, latents))
    cross = decoder.cross_attention
    attended = cross.attention(
        cross.latent_norm(queries), cross.input_norm(latents)
    )
    expected = attended + cross.mlp(cross.mlp_norm(attended))
    np.testing.assert_allclose(outputs, to_numpy(expected), atol=1e-5)


def test_decoder_queries_of_the_wrong_width_raise():
    decoder = layers.PerceiverDecoder(num_output_channels=3)
    decoder(keras.random.normal((2, 5, 12)), keras.random.normal((2, 8, 16)))
    with pytest.raises(ValueError, match="`queries` must have width 12"):
        decoder(keras.random.normal((2, 5, 10)),
                keras.random.normal((2, 8, 16)))


def test_decoder_config_round_trip():
    assert_config_round_trip(
        layers.PerceiverDecoder(num_output_channels=3, num_heads=2,
                                qk_channels=8, use_query_residual=False)
    )


# Output queries


def test_learned_queries_are_shared_by_every_example():
    queries = to_numpy(layers.LearnedQueries(4, 10)(BYTE_ARRAY))
    assert queries.shape == (3, 4, 10)
    np.testing.assert_array_equal(queries[0], queries[2])


def test_fourier_queries_are_the_input_grids_position_features():
    adapter = kp.adapters.ImageAdapter(num_bands=4)
    byte_array, _ = adapter(IMAGES)
    queries = layers.FourierQueries((6, 6), num_bands=4)(byte_array)
    np.testing.assert_allclose(
        to_numpy(queries), to_numpy(byte_array)[..., 1:], atol=1e-6
    )


def test_input_queries_take_the_adapters_position_channels():
    adapter = kp.adapters.PointCloudAdapter(num_bands=4)
    points = np.random.RandomState(2).uniform(-1, 1, (2, 9, 5))
    byte_array, _ = adapter(points.astype("float32"))
    queries = layers.InputQueries(
        num_position_channels=adapter.num_position_channels
    )(byte_array)
    assert adapter.num_position_channels == 3 * 9
    np.testing.assert_array_equal(
        to_numpy(queries), to_numpy(byte_array)[..., 2:]
    )


def test_task_embedding_is_concatenated_to_every_query():
    layer = layers.FourierQueries((6,), num_bands=2, task_embedding_channels=3)
    queries = to_numpy(layer(BYTE_ARRAY))
    assert queries.shape == (3, 6, 5 + 3)
    embedding = to_numpy(layer.task_embedding)
    np.testing.assert_array_equal(queries[:, :, 5:],
                                  np.broadcast_to(embedding, (3, 6, 3)))


@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda: layers.LearnedQueries(0, 4), "num_queries"),
        (lambda: layers.LearnedQueries(4, 4, index_shape=(3, 2)),
         "index_shape"),
        (lambda: layers.FourierQueries((6, 0)), "index_shape"),
        (lambda: layers.FourierQueries((6, 6), max_resolution=(6,)),
         "max_resolution"),
        (lambda: layers.InputQueries(task_embedding_channels=-1),
         "task_embedding_channels"),
    ],
)
def test_bad_query_arguments_raise(make, argument):
    with pytest.raises(ValueError, match=f"`{argument}`.*Received"):
        make()


def test_input_queries_wider_than_the_byte_array_raise():
    with pytest.raises(ValueError, match="`num_position_channels`"):
        layers.InputQueries(num_position_channels=8)(BYTE_ARRAY)


def test_query_configs_round_trip():
    assert_config_round_trip(layers.LearnedQueries(4, 10, index_shape=(2, 2)))
    assert_config_round_trip(
        layers.FourierQueries((6, 6), num_bands=4, task_embedding_channels=2)
    )
    assert_config_round_trip(layers.InputQueries(num_position_channels=3))


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


def test_several_outputs_round_trip_through_config_and_file(tmp_path):
    model = kp.PerceiverIO(
        tiny_encoder(),
        output_queries={
            "class_name": layers.LearnedQueries(1, 10),
            "pixels": layers.LearnedQueries(36, 10, index_shape=(6, 6)),
        },
        decoder=layers.PerceiverDecoder(num_output_channels=3),
    )
    outputs = model(IMAGES)
    assert tuple(outputs["pixels"].shape) == (3, 6, 6, 3)
    assert_config_round_trip(model)
    restored = keras.saving.load_model(_saved(model, tmp_path))
    np.testing.assert_allclose(
        to_numpy(restored(IMAGES)["class_name"]),
        to_numpy(outputs["class_name"]),
        atol=1e-6,
    )


def _saved(model, tmp_path):
    path = str(tmp_path / "model.keras")
    model.save(path)
    return path


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
    run_layer_test(dense_model, {}, (IMAGES,), tmp_path,
                   expected_output_shape=(3, 6, 6, 2),
                   make_model=lambda model: model, mixed_precision="float32")


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


def test_classifier_gives_logits_and_trains():
    model = kp.PerceiverIOClassifier(tiny_encoder(), num_classes=4)
    assert tuple(model(IMAGES).shape) == (3, 4)
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    history = model.fit(IMAGES, np.array([0, 1, 2]), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_classifier_keeps_its_class_names(tmp_path):
    names = ["cat", "dog", "fish"]
    model = kp.PerceiverIOClassifier(
        tiny_encoder(), num_classes=3, class_names=names
    )
    model(IMAGES)
    assert_config_round_trip(model)
    restored = assert_keras_file_round_trip(model, IMAGES, tmp_path)
    assert restored.class_names == names


def test_classifier_class_names_of_the_wrong_length_raise():
    with pytest.raises(ValueError, match="`class_names` must be 3 strings.*Received"):
        kp.PerceiverIOClassifier(tiny_encoder(), 3, class_names=["a", "b"])
