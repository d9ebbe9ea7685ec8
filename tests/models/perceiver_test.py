import io
import zipfile

import h5py
import keras
import numpy as np
import pytest

import keras_perceiver as kp
from layer_harness import run_task_test
from support import (
    CROSS_BACKEND_PERCEIVER,
    IMAGENET_PERCEIVER,
    TINY_PERCEIVER,
    tiny_perceiver,
    to_numpy,
)


rng = np.random.default_rng(0)
IMAGES = rng.uniform(size=(3, 8, 8, 2)).astype("float32")
BYTE_ARRAY = rng.normal(size=(3, 20, 6)).astype("float32")


def quadrant_problem(num_samples=96, size=8):
    """Images with one bright 2x2 square; the label is its quadrant."""
    rng = np.random.default_rng(42)
    images = rng.uniform(0, 0.1, size=(num_samples, size, size, 1))
    labels = rng.integers(0, 4, size=num_samples)
    for image, label in zip(images, labels):
        row = rng.integers(0, size // 2 - 1) + (size // 2) * (label // 2)
        col = rng.integers(0, size // 2 - 1) + (size // 2) * (label % 2)
        image[row:row + 2, col:col + 2] = 1.0
    return images.astype("float32"), labels


@pytest.mark.backend_independent
@pytest.mark.parametrize(
    "weight_sharing, expected_millions, tolerance",
    [("paper", 44.9, 0.1), ("none", 326.2, 0.2)],
)
def test_imagenet_parameter_counts(weight_sharing, expected_millions,
                                   tolerance):
    model = kp.Perceiver(**IMAGENET_PERCEIVER, weight_sharing=weight_sharing)
    model.build((None, 224, 224, 3))
    assert model.encoder.byte_array_shape == (None, 224 * 224, 261)
    assert abs(model.count_params() / 1e6 - expected_millions) <= tolerance


def variable_ids(layer):
    return {id(variable) for variable in layer.weights}


def test_paper_sharing_uses_one_set_of_weights_for_blocks_2_to_B():
    model = tiny_perceiver(num_blocks=4)
    model(IMAGES)
    cross = [model.encoder.cross_attend_for_block(b) for b in range(4)]
    latent = [model.encoder.latent_transformer_for_block(b) for b in range(4)]
    assert cross[1] is cross[2] is cross[3]
    assert cross[0] is not cross[1]
    assert not variable_ids(cross[0]) & variable_ids(cross[1])
    assert all(layer is latent[0] for layer in latent)
    assert len(model.cross_attends) == 2
    assert len(model.latent_transformers) == 1


def test_no_sharing_gives_every_block_its_own_weights():
    model = tiny_perceiver(num_blocks=3, weight_sharing="none")
    model(IMAGES)
    layers = [model.encoder.cross_attend_for_block(b) for b in range(3)] + [
        model.encoder.latent_transformer_for_block(b) for b in range(3)
    ]
    ids = [variable_ids(layer) for layer in layers]
    assert sum(len(i) for i in ids) == len(set().union(*ids))
    shared = tiny_perceiver(num_blocks=3)
    shared(IMAGES)
    assert model.count_params() > shared.count_params()


def test_all_sharing_shares_the_first_cross_attend():
    model = tiny_perceiver(num_blocks=3, weight_sharing="all")
    model(IMAGES)
    assert model.encoder.cross_attend_for_block(0) is model.encoder.cross_attend_for_block(2)


def test_shared_weights_get_gradients_from_every_block():
    # Sharing must not just reuse layers at build time: the shared cross-
    # attend is applied once per block from 2 to B, so changing the number of
    # blocks changes the output while the parameter count stays the same.
    few = tiny_perceiver(num_blocks=2)
    many = tiny_perceiver(num_blocks=4)
    few(IMAGES)
    many(IMAGES)
    assert few.count_params() == many.count_params()
    many.set_weights(few.get_weights())
    assert not np.allclose(to_numpy(few(IMAGES)), to_numpy(many(IMAGES)))


def test_image_input_adds_fourier_features():
    model = tiny_perceiver()
    logits = model(IMAGES)
    assert tuple(logits.shape) == (3, 5)
    # 2 pixel channels + 2 * (2 * 4 + 1) position channels.
    assert model.encoder.byte_array_shape == (3, 64, 20)
    byte_array, mask = model.encoder.encode_inputs(IMAGES)
    assert mask is None
    np.testing.assert_allclose(
        to_numpy(byte_array)[:, :, :2], IMAGES.reshape(3, 64, 2)
    )


def test_permuting_inputs_with_their_positions_leaves_logits_unchanged():
    model = tiny_perceiver()
    model(IMAGES)
    byte_array, _ = model.encoder.encode_inputs(IMAGES)
    byte_array = to_numpy(byte_array)
    permuted = byte_array[:, rng.permutation(byte_array.shape[1])]
    byte_model = tiny_perceiver()
    byte_model(byte_array)
    byte_model.set_weights(model.get_weights())
    np.testing.assert_allclose(
        to_numpy(byte_model(permuted)), to_numpy(model(IMAGES)), atol=1e-5
    )


@pytest.mark.parametrize("as_dict", [False, True])
def test_masked_padding_equals_unpadded_input(as_dict):
    model = tiny_perceiver()
    unpadded = BYTE_ARRAY[:, :12]
    padding = rng.normal(size=(3, 8, 6)).astype("float32") * 100
    padded = np.concatenate([unpadded, padding], axis=1)
    mask = np.arange(20)[None, :].repeat(3, 0) < 12
    expected = to_numpy(model(unpadded))
    if as_dict:
        result = model({"inputs": padded, "mask": mask})
    else:
        result = model(padded, mask=mask)
    np.testing.assert_allclose(to_numpy(result), expected, atol=1e-5)


def test_cross_attends_at_start_use_the_same_weights_in_another_order():
    interleaved = tiny_perceiver()
    start = tiny_perceiver(cross_attend_placement="start")
    interleaved(IMAGES)
    start(IMAGES)
    assert start.count_params() == interleaved.count_params()
    start.set_weights(interleaved.get_weights())
    assert not np.allclose(
        to_numpy(start(IMAGES)), to_numpy(interleaved(IMAGES))
    )


def test_symbolic_call_builds_a_functional_model():
    inputs = keras.Input((8, 8, 2))
    outputs = tiny_perceiver()(inputs)
    assert tuple(outputs.shape) == (None, 5)
    functional = keras.Model(inputs, outputs)
    assert tuple(functional.predict(IMAGES, verbose=0).shape) == (3, 5)


def test_layer_checks(tmp_path):
    # The same model saved under each other backend loads here too
    # (tests/fixtures/cross_backend/perceiver_<backend>.keras).
    model, restored = run_task_test(
        kp.Perceiver, {**CROSS_BACKEND_PERCEIVER, "max_resolution": (10, 12)},
        IMAGES, tmp_path,
        config_kwargs={**TINY_PERCEIVER, "weight_sharing": "none",
                       "cross_attend_placement": "start", "dropout": 0.1,
                       "max_resolution": (8, 16)},
        expected_output_shape=(3, 5),
        targets=np.array([0, 1, 2]),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        cross_backend_fixture="perceiver",
    )
    assert restored.get_config() == model.get_config()


def test_layer_checks_with_dict_inputs_and_masks(tmp_path):
    mask = np.ones((3, 20), bool)
    mask[0, 5:] = False
    mask[1, 10:] = False
    run_task_test(tiny_perceiver, {}, {"inputs": BYTE_ARRAY, "mask": mask},
                  tmp_path, expected_output_shape=(3, 5))


def test_a_given_encoder_is_the_backbone(tmp_path):
    arguments = dict(TINY_PERCEIVER)
    num_classes = arguments.pop("num_classes")
    encoder = kp.PerceiverEncoder(**arguments)
    model = kp.Perceiver(num_classes=num_classes, encoder=encoder)
    logits = model(IMAGES)
    assert model.encoder is encoder
    restored = kp.Perceiver.from_config(model.get_config())
    restored(IMAGES)
    restored.set_weights(model.get_weights())
    np.testing.assert_allclose(to_numpy(restored(IMAGES)), to_numpy(logits),
                               atol=1e-6)


def test_an_encoder_and_encoder_arguments_together_raise():
    with pytest.raises(ValueError, match="either an `encoder`.*num_latents"):
        kp.Perceiver(num_classes=5, num_latents=8,
                     encoder=kp.PerceiverEncoder(num_latents=8))
    with pytest.raises(ValueError, match="must be a keras_perceiver"):
        kp.Perceiver(num_classes=5, encoder=keras.layers.Dense(3))


def test_files_keep_the_layout_of_the_perceiver_before_it_held_an_encoder(
    tmp_path,
):
    # Before issue 32 a Perceiver was an encoder with a head: its files hold
    # the latent array at the top and the encoder's layers beside the head.
    # Files written now keep that layout, so either release reads the
    # other's (tests/models/saved_file_compatibility_test.py loads old ones).
    model = tiny_perceiver()
    model(IMAGES)
    path = tmp_path / "model.keras"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        weights = h5py.File(io.BytesIO(archive.read("model.weights.h5")))
        top = set(weights)
        root = set(weights["vars"]) if "vars" in weights else set()
    assert {"cross_attends", "head", "input_adapter",
            "latent_transformers"} <= top
    assert "encoder" not in top and "layers" not in top
    assert root == {"0"}  # the latent array


def test_fit_lowers_the_loss_on_a_learnable_problem():
    images, labels = quadrant_problem()
    model = tiny_perceiver(num_classes=4, num_latents=8, latent_dim=32)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    before = model.evaluate(images, labels, verbose=0)[0]
    history = model.fit(images, labels, epochs=20, batch_size=16, verbose=0)
    after = history.history["loss"][-1]
    assert after < 0.5 * before
    assert history.history["accuracy"][-1] > 0.6


def test_mixed_bfloat16():
    keras.config.set_dtype_policy("mixed_bfloat16")
    model = tiny_perceiver()
    logits = model(IMAGES)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    assert model.compute_dtype == "bfloat16"
    assert model.cross_attends[0].attention.compute_dtype == "bfloat16"
    assert all(
        keras.backend.standardize_dtype(w.dtype) == "float32"
        for w in model.weights
    )
    byte_array, _ = model.encoder.encode_inputs(IMAGES)
    assert keras.backend.standardize_dtype(byte_array.dtype) == "bfloat16"
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(IMAGES, np.zeros((3, 5)), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


@pytest.mark.skipif(
    keras.config.backend() == "torch",
    reason="XLA compilation is a TensorFlow and JAX feature",
)
def test_jit_compiled_training():
    images, labels = quadrant_problem(num_samples=32)
    model = tiny_perceiver(num_classes=4)
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=True,
    )
    history = model.fit(images, labels, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize(
    "overrides, argument",
    [
        ({"weight_sharing": "some"}, "weight_sharing"),
        ({"cross_attend_placement": "end"}, "cross_attend_placement"),
        ({"num_latents": 0}, "num_latents"),
        ({"latent_dim": -3}, "latent_dim"),
        ({"num_blocks": 0}, "num_blocks"),
        ({"num_self_attends_per_block": 0}, "num_self_attends_per_block"),
        ({"num_classes": 0}, "num_classes"),
        ({"num_bands": 0}, "num_bands"),
        ({"dropout": -0.1}, "dropout"),
        ({"num_self_heads": 3}, "num_self_heads"),
        ({"num_self_heads": 4, "self_v_channels": 6}, "num_self_heads"),
        # The images have 2 + 2 * (2 * 4 + 1) = 20 channels.
        ({"num_cross_heads": 3}, "num_cross_heads"),
        ({"cross_qk_channels": 0}, "cross_qk_channels"),
        ({"self_v_channels": -2}, "self_v_channels"),
        ({"cross_widening_factor": 0}, "cross_widening_factor"),
        ({"self_widening_factor": 0}, "self_widening_factor"),
    ],
)
def test_bad_arguments_raise(overrides, argument):
    with pytest.raises(ValueError, match=argument):
        tiny_perceiver(**overrides)(IMAGES)


def test_wrong_input_rank_raises():
    with pytest.raises(ValueError, match="rank"):
        tiny_perceiver()(np.zeros((3, 4), "float32"))


def test_image_size_or_channels_that_do_not_match_the_model_raise():
    model = tiny_perceiver()
    model(IMAGES)
    with pytest.raises(ValueError, match="images"):
        model(np.zeros((3, 10, 8, 2), "float32"))
    with pytest.raises(ValueError, match="images"):
        model(np.zeros((3, 8, 8, 3), "float32"))


def test_byte_array_channels_that_do_not_match_the_model_raise():
    model = tiny_perceiver()
    model(BYTE_ARRAY)
    with pytest.raises(ValueError, match="channels"):
        model(BYTE_ARRAY[:, :, :4])


def test_max_resolution_with_wrong_number_of_entries_raises():
    with pytest.raises(ValueError, match="max_resolution"):
        tiny_perceiver(max_resolution=(8, 8, 8))(IMAGES)


def test_mask_of_the_wrong_shape_raises():
    model = tiny_perceiver()
    with pytest.raises(ValueError, match="mask"):
        model(BYTE_ARRAY, mask=np.ones((3, 19), bool))
    with pytest.raises(ValueError, match="mask"):
        model({"inputs": BYTE_ARRAY, "mask": np.ones((3, 20, 1), bool)})


def test_dict_input_with_unknown_keys_raises():
    with pytest.raises(ValueError, match="inputs"):
        tiny_perceiver()({"pixels": BYTE_ARRAY})
