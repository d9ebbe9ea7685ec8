"""The modality registry: each modality's adapter, options and drawing."""

import numpy as np
import pytest

from keras_perceiver import adapters, modalities
from keras_perceiver.modalities import attention_drawing, video

# The registry holds the same objects under every backend.
pytestmark = pytest.mark.backend_independent


def test_each_modality_builds_its_adapter_with_its_defaults():
    made = {name: modality.make_adapter(num_bands=3)
            for name, modality in modalities.MODALITIES.items()}
    assert {name: type(adapter) for name, adapter in made.items()} == {
        "image": adapters.ImageAdapter,
        "audio": adapters.AudioAdapter,
        "spectrogram": adapters.SpectrogramAdapter,
        "points": adapters.PointCloudAdapter,
        "sequence": adapters.SequenceAdapter,
        "video": adapters.VideoAdapter,
    }
    assert all(adapter.num_bands == 3 for adapter in made.values())
    assert made["image"].patch_size == 1 and made["image"].crop_size is None
    assert made["audio"].patch_size == 128
    assert made["spectrogram"].patch_size == (4, 4)
    assert made["sequence"].patch_size == 1
    assert made["video"].patch_size == (2, 8, 8)
    points = made["points"]
    assert points.max_resolution == 1120
    assert (points.scale_range, points.jitter_stddev) == ((0.8, 1.25), 0.01)


def test_options_reach_the_modalities_that_take_them():
    image = modalities.get("image").make_adapter(3, patch_size=2,
                                                 crop_size=4)
    assert (image.patch_size, image.crop_size) == (2, 4)
    spectrogram = modalities.get("spectrogram").make_adapter(
        3, patch_size=(2, 1))
    assert spectrogram.patch_size == (2, 1)
    video = modalities.get("video").make_adapter(3, patch_size=(1, 4, 4))
    assert video.patch_size == (1, 4, 4)
    audio = modalities.get("audio").make_adapter(3, patch_size=2)
    assert audio.patch_size == 128
    assert [m.name for m in modalities.taking("patch_size")] == [
        "image", "spectrogram", "video"]
    assert [m.name for m in modalities.taking("crop_size")] == ["image"]


def test_an_unknown_modality_raises():
    with pytest.raises(ValueError) as error:
        modalities.get("smell")
    assert str(error.value) == (
        "`modality` must be one of image, audio, spectrogram, points, "
        "sequence or video. Received: modality='smell'"
    )
    with pytest.raises(ValueError, match="Received: modality='multimodal'"):
        modalities.get(modalities.MULTIMODAL)


def test_a_new_modality_is_one_entry():
    smell = modalities.Modality(
        name="smell", plural="smell recordings",
        adapter_factory=adapters.SequenceAdapter, adapter_options=(),
        attention_drawer=attention_drawing.signal_drawer)
    adapter = smell.make_adapter(num_bands=2, patch_size=5)
    byte_array, _ = adapter(np.ones((2, 6, 4), "float32"))
    assert tuple(byte_array.shape) == (2, 6, 4 + 5)
    with pytest.raises(ValueError, match="adapter_options"):
        modalities.Modality("smell", "smells", adapters.SequenceAdapter,
                            ("stride",), attention_drawing.signal_drawer)


def test_each_modality_draws_an_example_and_its_attention():
    from matplotlib.figure import Figure

    examples = {
        "image": (np.ones((1, 4, 6, 1)), (None, 4, 6, 1)),
        "audio": (np.ones((1, 256)), (None, 256)),
        "spectrogram": ({"inputs": np.ones((1, 8, 8)),
                         "mask": np.ones((1, 8), bool)}, (None, 8, 8)),
        "points": (np.ones((1, 10, 3)), (None, 10, 3)),
        "sequence": (np.ones((1, 5, 2)), (None, 5, 2)),
        "video": ({"inputs": np.ones((1, 4, 16, 16, 3)),
                   "mask": np.ones((1, 4), bool)}, (None, 4, 16, 16, 3)),
    }
    for name, modality in modalities.MODALITIES.items():
        example, input_shape = examples[name]
        adapter = modality.make_adapter(num_bands=2)
        adapter.build(input_shape)
        (_, num_elements, _), _ = adapter.compute_output_shape(input_shape)
        projection, draw = modality.attention_drawer(example, adapter,
                                                     num_elements)
        figure = Figure()
        for column, attention in enumerate(
                (None, np.linspace(0, 1, num_elements))):
            axis = figure.add_subplot(1, 2, column + 1,
                                      projection=projection)
            draw(axis, attention)
            drawn = axis.images or axis.lines or axis.collections
            assert len(drawn) == 1, (name, column)


def test_videos_are_drawn_as_a_strip_of_frames_and_their_patch_grids():
    from matplotlib.figure import Figure

    # 20 frames of 2 x 3 pixels, frame f filled with f; 10 time patches.
    frames = np.broadcast_to(np.arange(20.0)[:, None, None, None],
                             (20, 2, 3, 1))
    adapter = adapters.VideoAdapter(patch_size=(2, 1, 3), num_bands=2)
    adapter.build((None, 20, 2, 3, 1))
    assert adapter.element_grid == (10, 2, 1)
    _, draw = video.video_drawer(frames[None], adapter, 20)
    axis = Figure().add_subplot()
    draw(axis, None)
    draw(axis, np.arange(20.0))
    strip, attention = (image.get_array() for image in axis.images)
    # The first frame of time patches 0, 3, 6 and 9, side by side.
    np.testing.assert_array_equal(strip, np.repeat([0, 6, 12, 18], 3)[None]
                                  .repeat(2, axis=0))
    np.testing.assert_array_equal(attention, [[0, 6, 12, 18],
                                              [1, 7, 13, 19]])


def test_listed_words():
    assert modalities.listed(["a"], "or") == "a"
    assert modalities.listed(["a", "b", "c"], "or") == "a, b or c"


def test_the_file_modalities_and_their_extensions():
    from keras_perceiver.datasets import file_inputs

    assert [m.name for m in modalities.with_files()] == [
        "image", "audio", "points", "sequence"]
    assert file_inputs.files_of("audio", ["a.WAV", "b.png", "c.wav"]) == [
        "a.WAV", "c.wav"]
    assert file_inputs.detect_modality(["x/1.npy", "x/2.ply"]) == "points"


def test_preprocessing_for_takes_each_modality_its_own_options():
    from keras_perceiver.datasets import file_inputs

    assert file_inputs.preprocessing_for(
        "video", [(5, 8, 6, "RGB"), (3, 8, 6, "RGB")], image_size=4
    ) == {"modality": "video", "image_size": [4, 4], "channels": 3,
          "max_length": 6}
    assert file_inputs.preprocessing_for(
        "audio", [(8000, 300)], audio_features="log_mel", image_size=4
    ) == {"modality": "audio", "sample_rate": 8000, "max_length": 512,
          "audio_features": "log_mel"}
    assert file_inputs.preprocessing_for("sequence", [(7, 2), (9, 2)]) == {
        "modality": "sequence", "num_features": 2, "max_length": 9}
    with pytest.raises(ValueError, match="Received: modality='smell'"):
        file_inputs.preprocessing_for("smell", [])
