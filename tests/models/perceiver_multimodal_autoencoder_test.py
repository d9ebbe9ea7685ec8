import keras
import numpy as np
import pytest

import keras_perceiver as kp
from layer_harness import run_task_test
from support import to_numpy

RNG = np.random.default_rng(0)
# Two examples of 2 frames of 8 x 8 grey pixels with 2 x 16 audio samples.
INPUTS = {
    "audio": RNG.normal(size=(2, 32)).astype("float32"),
    "video": RNG.uniform(size=(2, 2, 8, 8, 1)).astype("float32"),
    "label": np.eye(10, dtype="float32")[[3, 7]],
}
OUTPUT_SHAPES = {"audio": (2, 32), "video": (2, 2, 8, 8, 1), "label": (2, 10)}


def tiny_autoencoder(mask_probs=None, **overrides):
    adapter = kp.adapters.MultimodalAutoencodingAdapter(
        num_frames=2, frame_size=8, audio_samples_per_frame=16,
        num_labels=10, num_channels=1, samples_per_patch=8,
        audio_num_bands=2, video_num_bands=2, mask_probs=mask_probs,
    )
    encoder = kp.PerceiverEncoder(
        num_latents=4, latent_dim=8, num_blocks=1,
        num_self_attends_per_block=1, num_self_heads=2,
        block_scheme="perceiver_io", input_adapter=adapter,
    )
    return kp.PerceiverMultimodalAutoencoder(
        encoder, output_num_channels=4, label_query_channels=4, **overrides
    )


@pytest.fixture(scope="module")
def model():
    model = tiny_autoencoder(mask_probs={"label": 1.0})
    model(INPUTS)
    # Random heads (they start at zero), so that outputs tell points apart.
    random_kernel = keras.initializers.RandomNormal(stddev=0.2, seed=0)
    for head in model.heads.values():
        head.kernel.assign(random_kernel(head.kernel.shape))
    return model


def test_an_untrained_model_predicts_silence_and_black_frames():
    # Random heads would turn the decoder's features into noise many
    # times the signal, which training takes hundreds of steps to unlearn.
    outputs = tiny_autoencoder()(INPUTS)
    for name in ("audio", "video", "label"):
        np.testing.assert_array_equal(
            to_numpy(outputs[name]), np.zeros(OUTPUT_SHAPES[name])
        )


def test_layer_checks(tmp_path):
    targets = dict(INPUTS, label=np.array([3, 7]))
    run_task_test(
        tiny_autoencoder, {"mask_probs": {"label": 1.0}}, INPUTS, tmp_path,
        expected_output_shape=OUTPUT_SHAPES, targets=targets,
        loss=kp.training.multimodal_autoencoding_losses(),
    )


def test_subsampled_decoding_equals_decoding_all_and_indexing(model):
    full = {name: to_numpy(value) for name, value in model(INPUTS).items()}
    points = {"video": np.array([0, 17, 63, 64, 127]),
              "audio": np.array([3, 0])}
    subset = model(INPUTS, subsampled_output_points=points)
    np.testing.assert_allclose(
        to_numpy(subset["video"]),
        full["video"].reshape(2, 128, 1)[:, points["video"]], atol=1e-6,
    )
    patches = full["audio"].reshape(2, 4, 8)[:, points["audio"]]
    np.testing.assert_allclose(
        to_numpy(subset["audio"]), patches.reshape(2, 16), atol=1e-6
    )
    np.testing.assert_allclose(
        to_numpy(subset["label"]), full["label"], atol=1e-6
    )


def test_training_points_decode_a_subset_and_the_loss_takes_its_targets(
        model):
    """Each training step decodes `training_points` random points, and
    the loss compares them with the targets at the same points: against
    the model's own full outputs it is zero, against other targets not."""
    config = dict(model.get_config(), seed=0,
                  training_points={"video": 5, "audio": 1})
    subsampling = kp.PerceiverMultimodalAutoencoder.from_config(config)
    subsampling(INPUTS)
    subsampling.set_weights(model.get_weights())
    full = {name: to_numpy(value) for name, value in model(INPUTS).items()}
    kp.training.compile_for_multimodal_autoencoding(
        subsampling, learning_rate=0.0,
        loss_weights={"video": 1.0, "audio": 1.0, "label": 0.0})
    outputs = subsampling(INPUTS, training=True)
    assert tuple(outputs["video"].shape) == (2, 5, 1)
    assert tuple(outputs["audio"].shape) == (2, 8)  # one patch
    own = dict(full, label=np.array([3, 7]))
    other = {"video": full["video"][::-1], "audio": full["audio"][::-1],
             "label": own["label"]}
    assert float(to_numpy(subsampling.compute_loss(
        INPUTS, own, outputs))) < 1e-10
    assert float(to_numpy(subsampling.compute_loss(
        INPUTS, other, outputs))) > 1e-4
    history = subsampling.fit(INPUTS, own, batch_size=2, epochs=2,
                              verbose=0)
    assert max(history.history["loss"]) < 1e-10
    # Inference and evaluation decode every point.
    assert {name: tuple(value.shape) for name, value in
            subsampling(INPUTS).items()} == OUTPUT_SHAPES
    assert subsampling.evaluate(INPUTS, own, verbose=0)[0] < 1e-10


def test_a_left_out_label_is_its_mask_token(model):
    without = to_numpy(model({name: INPUTS[name]
                              for name in ("audio", "video")})["label"])
    # Rate 1: the given label is masked as well; the label never shows.
    other = dict(INPUTS, label=np.eye(10, dtype="float32")[[0, 0]])
    np.testing.assert_allclose(
        to_numpy(model(other)["label"]), without, atol=1e-6
    )


def test_modalities_are_padded_and_joined_in_deepminds_order(model):
    adapter = model.encoder.input_adapter
    byte_array = to_numpy(adapter(INPUTS)[0])
    # 4 audio patches, 2 x 2 x 2 video patches, the label: one width.
    assert byte_array.shape == (2, 13, adapter.common_channels)
    audio_patch = INPUTS["audio"][:, 8:16]
    np.testing.assert_allclose(byte_array[:, 1, :8], audio_patch, atol=1e-6)
    video_patch = INPUTS["video"][:, 0, :4, 4:8, 0].reshape(2, 16)
    np.testing.assert_allclose(byte_array[:, 5, :16], video_patch, atol=1e-6)
    np.testing.assert_allclose(
        byte_array[:, 12], np.broadcast_to(
            to_numpy(adapter.mask_tokens["label"]), (2, 35)), atol=1e-6,
    )


def test_attention_maps_cover_every_element(model):
    maps = to_numpy(model.cross_attention_maps(INPUTS))
    assert maps.shape == (2, 1, 4, 13)
    np.testing.assert_allclose(maps.sum(axis=-1), 1.0, atol=1e-5)
