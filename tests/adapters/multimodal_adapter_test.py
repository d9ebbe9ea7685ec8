import keras
import numpy as np
import pytest

from keras_perceiver.adapters import AudioAdapter
from keras_perceiver.adapters import MultimodalAdapter
from keras_perceiver.adapters import VideoAdapter
from layer_harness import run_adapter_test
from support import (
    adapter_outputs,
    adapter_perceiver,
    assert_fit_runs,
    pad_along_first_axis,
    to_numpy,
)

rng = np.random.default_rng(0)
NUM_SAMPLES = 8
AUDIO = rng.normal(size=(NUM_SAMPLES, 32)).astype("float32")
VIDEO = rng.uniform(size=(NUM_SAMPLES, 2, 4, 4, 3)).astype("float32")
INPUTS = {"audio": AUDIO, "video": VIDEO}
LABELS = np.arange(NUM_SAMPLES) % 3
# Audio: 4 patches of 8 samples, 8 + (2 * 2 + 1) = 13 channels.
# Video: 2 x 2 x 2 patches of 1 x 2 x 2 x 3 values, 12 + 3 * 5 = 27.
AUDIO_ELEMENTS, AUDIO_CHANNELS = 4, 13
VIDEO_ELEMENTS, VIDEO_CHANNELS = 8, 27


def audio_video(**kwargs):
    return MultimodalAdapter(
        {
            "audio": AudioAdapter(patch_size=8, num_bands=2),
            "video": VideoAdapter(patch_size=(1, 2, 2), num_bands=2),
        },
        **kwargs,
    )


def test_modalities_are_padded_embedded_and_concatenated():
    adapter = audio_video(modality_embedding_dim=3)
    byte_array, mask = adapter_outputs(adapter, INPUTS)
    assert byte_array.shape == (
        NUM_SAMPLES, AUDIO_ELEMENTS + VIDEO_ELEMENTS, VIDEO_CHANNELS + 3
    )
    assert mask.all()
    audio, _ = adapter_outputs(adapter.adapters["audio"], AUDIO)
    video, _ = adapter_outputs(adapter.adapters["video"], VIDEO)
    audio_part = byte_array[:, :AUDIO_ELEMENTS]
    video_part = byte_array[:, AUDIO_ELEMENTS:]
    np.testing.assert_allclose(audio_part[..., :AUDIO_CHANNELS], audio)
    np.testing.assert_array_equal(
        audio_part[..., AUDIO_CHANNELS:VIDEO_CHANNELS], 0.0
    )
    np.testing.assert_allclose(video_part[..., :VIDEO_CHANNELS], video)
    embeddings = to_numpy(adapter.modality_embeddings)
    np.testing.assert_allclose(
        audio_part[..., VIDEO_CHANNELS:],
        np.broadcast_to(embeddings[0], (NUM_SAMPLES, AUDIO_ELEMENTS, 3)),
    )
    np.testing.assert_allclose(
        video_part[..., VIDEO_CHANNELS:],
        np.broadcast_to(embeddings[1], (NUM_SAMPLES, VIDEO_ELEMENTS, 3)),
    )
    assert not np.allclose(embeddings[0], embeddings[1])


def test_common_channel_count_may_be_set():
    byte_array, _ = adapter_outputs(audio_video(num_channels=32), INPUTS)
    assert byte_array.shape[-1] == 32 + 4
    with pytest.raises(ValueError, match="num_channels"):
        audio_video(num_channels=20)(INPUTS)


def test_a_missing_optional_modality_is_zeros_and_fully_masked():
    adapter = audio_video(optional_modalities=["video"])
    full, _ = adapter_outputs(adapter, INPUTS)
    byte_array, mask = adapter_outputs(adapter, {"audio": AUDIO})
    assert byte_array.shape == full.shape
    np.testing.assert_allclose(
        byte_array[:, :AUDIO_ELEMENTS], full[:, :AUDIO_ELEMENTS]
    )
    assert mask[:, :AUDIO_ELEMENTS].all()
    assert not mask[:, AUDIO_ELEMENTS:].any()
    np.testing.assert_array_equal(
        byte_array[:, AUDIO_ELEMENTS:, :VIDEO_CHANNELS], 0.0
    )


def test_a_missing_modality_equals_a_fully_masked_one():
    model = adapter_perceiver(audio_video(modality_dropout={"video": 0.3}))
    audio, video = AUDIO[:2], VIDEO[:2]
    masked_video = {"inputs": video, "mask": np.zeros((2, 2), bool)}
    masked = model({"audio": audio, "video": masked_video})
    missing = model({"audio": audio})
    np.testing.assert_allclose(to_numpy(missing), to_numpy(masked), atol=1e-5)
    full = model({"audio": audio, "video": video})
    assert not np.allclose(to_numpy(full), to_numpy(missing))


def test_trains_with_modality_dropout_and_predicts_with_one_missing():
    model = adapter_perceiver(
        audio_video(modality_dropout={"audio": 0.1, "video": 0.3}, seed=1,
                    optional_modalities=["video"])
    )
    # The dropout must trace: XLA on JAX, a graph on TensorFlow (XLA there
    # only adds compile time; the image tests cover random ops under it).
    jit_compile = keras.config.backend() == "jax"
    assert_fit_runs(model, INPUTS, LABELS, epochs=3, batch_size=4,
                    jit_compile=jit_compile)
    logits = model.predict({"audio": AUDIO}, verbose=0)
    assert logits.shape == (NUM_SAMPLES, 5)
    assert np.isfinite(logits).all()


def test_padded_and_masked_audio_equals_the_unpadded_audio():
    audio, video = AUDIO[:2, :16], VIDEO[:2]
    padded, mask = pad_along_first_axis(list(audio), 32, value=7.0)
    model = adapter_perceiver(audio_video())
    result = model({"audio": {"inputs": padded, "mask": mask}, "video": video})
    expected = to_numpy(model({"audio": audio, "video": video}))
    np.testing.assert_allclose(to_numpy(result), expected, atol=1e-5)
    # The mask may also come as a dict keyed by modality.
    result = model({"audio": padded, "video": video}, mask={"audio": mask})
    np.testing.assert_allclose(to_numpy(result), expected, atol=1e-5)


def test_modality_dropout_masks_whole_modalities_in_training_only():
    adapter = audio_video(modality_dropout={"video": 0.3}, seed=3)
    audio = np.zeros((400, 32), "float32")
    video = np.zeros((400, 2, 4, 4, 3), "float32")
    inputs = {"audio": audio, "video": video}
    _, mask = adapter_outputs(adapter, inputs)
    assert mask.all()
    _, mask = adapter_outputs(adapter, inputs, training=True)
    assert mask[:, :AUDIO_ELEMENTS].all()
    video_mask = mask[:, AUDIO_ELEMENTS:]
    # Every sample keeps or drops all its video elements.
    assert (video_mask.all(axis=1) | ~video_mask.any(axis=1)).all()
    assert 0.2 < 1 - video_mask.all(axis=1).mean() < 0.4
    _, again = adapter_outputs(adapter, inputs, training=True)
    assert not np.array_equal(mask, again)


def test_a_missing_required_modality_raises():
    adapter = audio_video(modality_dropout={"video": 0.3})
    adapter(INPUTS)
    with pytest.raises(ValueError, match="'audio' is required"):
        adapter({"video": VIDEO})
    adapter = audio_video()
    adapter(INPUTS)
    with pytest.raises(ValueError, match="'video' is required"):
        adapter({"audio": AUDIO})


def test_a_model_without_a_required_modality_raises():
    model = adapter_perceiver(audio_video(modality_dropout={"video": 0.3}))
    model(INPUTS)
    with pytest.raises(ValueError, match="'audio' is required"):
        model({"video": VIDEO})


def test_symbolic_nested_inputs_give_a_functional_model():
    inputs = {
        "audio": {"inputs": keras.Input((32,)),
                  "mask": keras.Input((32,), dtype="bool")},
        "video": keras.Input((2, 4, 4, 3)),
    }
    outputs = adapter_perceiver(audio_video())(inputs)
    assert tuple(outputs.shape) == (None, 5)
    assert isinstance(keras.Model(inputs, outputs), keras.Model)


def test_every_modality_is_needed_to_build():
    adapter = audio_video(optional_modalities=["video"])
    with pytest.raises(ValueError, match="built"):
        adapter.build({"audio": AUDIO.shape})


@pytest.mark.parametrize(
    "inputs, match",
    [
        ({"audio": AUDIO, "video": VIDEO, "text": AUDIO}, "text"),
        (AUDIO, "dict"),
        ({"audio": {"inputs": AUDIO, "mask": np.ones((8, 31), bool)},
          "video": VIDEO}, "mask"),
        ({"audio": AUDIO[:, :30], "video": VIDEO}, "patch_size"),
        ({"audio": AUDIO, "video": VIDEO[..., 0]}, "rank"),
    ],
)
def test_bad_inputs_raise(inputs, match):
    with pytest.raises(ValueError, match=match):
        audio_video()(inputs)


def test_a_mask_that_is_not_a_dict_raises():
    adapter = audio_video()
    with pytest.raises(ValueError, match="mask"):
        adapter(INPUTS, mask=np.ones((8, 12), bool))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"adapters": {}}, "adapters"),
        ({"adapters": [AudioAdapter()]}, "adapters"),
        ({"modality_dropout": {"text": 0.1}}, "modality_dropout"),
        ({"modality_dropout": {"video": 1.0}}, "modality_dropout"),
        ({"modality_dropout": ["video"]}, "modality_dropout.*dict"),
        ({"optional_modalities": ["text"]}, "optional_modalities"),
        ({"optional_modalities": "video"}, "optional_modalities"),
        ({"modality_embedding_dim": 0}, "modality_embedding_dim"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    kwargs = {"adapters": {"audio": AudioAdapter(), "video": VideoAdapter()},
              **kwargs}
    with pytest.raises(ValueError, match=match):
        MultimodalAdapter(**kwargs)


def test_layer_checks(tmp_path):
    audio_mask = np.arange(32)[None].repeat(2, 0) < 24
    inputs = {
        "audio": {"inputs": AUDIO[:2], "mask": audio_mask},
        "video": VIDEO[:2],
    }
    model, restored = run_adapter_test(
        audio_video, {"modality_dropout": {"video": 0.3}}, inputs,
        tmp_path,
        config_kwargs=dict(num_channels=40, modality_embedding_dim=2,
                           modality_dropout={"video": 0.3},
                           optional_modalities=["audio", "video"], seed=5),
        expected_output_shape=(
            (2, AUDIO_ELEMENTS + VIDEO_ELEMENTS, VIDEO_CHANNELS + 4),
            (2, AUDIO_ELEMENTS + VIDEO_ELEMENTS),
        ),
        mixed_precision="finite",
    )
    np.testing.assert_allclose(
        to_numpy(restored({"audio": AUDIO[:2]})),
        to_numpy(model({"audio": AUDIO[:2]})),
        atol=1e-6,
    )


def test_config_restores_the_modality_adapters():
    adapter = audio_video(num_channels=40, seed=5)
    restored = MultimodalAdapter.from_config(adapter.get_config())
    assert isinstance(restored.adapters["video"], VideoAdapter)
    assert restored.adapters["video"].patch_size == (1, 2, 2)


def test_mixed_bfloat16_with_a_missing_modality():
    keras.config.set_dtype_policy("mixed_bfloat16")
    adapter = audio_video(optional_modalities=["video"])
    adapter(INPUTS)
    byte_array, mask = adapter({"audio": AUDIO})
    assert keras.backend.standardize_dtype(byte_array.dtype) == "bfloat16"
    assert keras.backend.standardize_dtype(mask.dtype) == "bool"
