import pathlib
import re

import numpy as np
import pytest

from keras_perceiver import datasets

SHARED_DATA = pathlib.Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
needs_shared_data = pytest.mark.skipif(
    not SHARED_DATA.is_dir(), reason="../shared/data is not beside the repo"
)


@pytest.mark.backend_independent
def test_digits_needs_no_download():
    dataset = datasets.load("digits")
    assert dataset.x_train.shape[1:] == (8, 8, 1)
    assert len(dataset.y_train) + len(dataset.y_test) == 1797
    assert 0.0 <= dataset.x_train.min() and dataset.x_train.max() <= 1.0
    assert set(np.unique(dataset.y_test)) == set(range(10))


@pytest.mark.backend_independent
@needs_shared_data
@pytest.mark.parametrize(
    "name, folder, input_shape, num_train, num_test, num_classes",
    [
        ("mnist", "mnist", (28, 28, 1), 60000, 10000, 10),
        ("cifar10", "cifar10", (32, 32, 3), 10000, 10000, 10),
        ("modelnet40", "modelnet40", (1024, 3), 9843, 2468, 40),
    ],
)
def test_array_data_sets_from_local_copies(name, folder, input_shape,
                                           num_train, num_test, num_classes):
    dataset = datasets.load(name, data_dir=SHARED_DATA / folder)
    assert dataset.input_shape == input_shape
    assert (len(dataset.y_train), len(dataset.y_test)) == (num_train, num_test)
    assert dataset.num_classes == num_classes
    assert dataset.x_train.dtype == np.float32


@pytest.mark.backend_independent
@needs_shared_data
def test_fsdd_pads_and_masks_waveforms_with_the_official_split():
    dataset = datasets.load("fsdd", data_dir=SHARED_DATA / "fsdd")
    assert (len(dataset.y_train), len(dataset.y_test)) == (2700, 300)
    waveforms, mask = dataset.x_train["inputs"], dataset.x_train["mask"]
    assert waveforms.shape == mask.shape == (2700, 8192)
    assert mask.dtype == bool and not mask.all() and mask[:, 0].all()
    np.testing.assert_array_equal(waveforms[~mask], 0.0)
    assert np.abs(waveforms).max() <= 1.0


# The whole data set's log-mel spectrograms, on one backend (each backend
# computes them: test_log_mel_spectrograms_find_a_tone_in_its_mel_band).
@pytest.mark.one_backend("tensorflow")
@needs_shared_data
def test_fsdd_as_log_mel_spectrograms_masked_over_frames():
    waveforms = datasets.load("fsdd", data_dir=SHARED_DATA / "fsdd")
    dataset = datasets.load("fsdd", data_dir=SHARED_DATA / "fsdd",
                            audio_features="log_mel")
    assert dataset.modality == "spectrogram"
    np.testing.assert_array_equal(dataset.y_train, waveforms.y_train)
    spectrograms, mask = dataset.x_test["inputs"], dataset.x_test["mask"]
    assert spectrograms.shape == (300, 128, 64) and mask.shape == (300, 128)
    # A frame is real when its centre sample is.
    np.testing.assert_array_equal(
        mask, waveforms.x_test["mask"][:, ::64])
    np.testing.assert_array_equal(spectrograms[~mask], 0.0)
    first = spectrograms[0][mask[0]]
    assert abs(first.mean()) < 1e-4 and abs(first.std() - 1.0) < 1e-3


def test_log_mel_spectrograms_find_a_tone_in_its_mel_band():
    from keras_perceiver.modalities.audio import log_mel_spectrograms

    time = np.arange(8192) / 8000.0
    low, high = (np.sin(2 * np.pi * hz * time).astype("float32")
                 for hz in (300.0, 3000.0))
    spectrograms, _ = log_mel_spectrograms(
        np.stack([low, high]), np.ones((2, 8192), bool), sample_rate=8000)
    peak_bands = spectrograms.mean(axis=1).argmax(axis=-1)
    assert peak_bands[0] < 20 < 40 < peak_bands[1]


@pytest.mark.backend_independent
def test_an_option_a_loader_lacks_is_named():
    with pytest.raises(ValueError, match="audio_features"):
        datasets.load("digits", audio_features="log_mel")
    with pytest.raises(ValueError, match="audio_features"):
        datasets.load_fsdd(data_dir="unused", audio_features="mfcc")


# The whole data set's log-mel spectrograms, on one backend (each backend
# computes them: test_log_mel_spectrograms_find_a_tone_in_its_mel_band).
@pytest.mark.one_backend("torch")
@needs_shared_data
def test_mnist_fsdd_pairs_log_mel_audio_with_images():
    dataset = datasets.load("mnist_fsdd", data_dir=SHARED_DATA,
                            audio_features="log_mel")
    assert dataset.modalities == {"image": "image", "audio": "spectrogram"}
    assert dataset.input_shape["image"] == (28, 28, 1)
    assert dataset.x_train["audio"]["inputs"].shape == (2700, 128, 64)


@pytest.mark.backend_independent
@needs_shared_data
def test_msr_action3d_cross_subject_split():
    dataset = datasets.load("msr_action3d",
                            data_dir=SHARED_DATA / "msr_action3d")
    assert dataset.x_train["inputs"].shape[1:] == (96, 60)
    assert len(dataset.y_train) + len(dataset.y_test) == 567
    assert dataset.num_classes == 20
    lengths = dataset.x_train["mask"].sum(axis=1)
    assert lengths.min() >= 13 and lengths.max() == 96


@pytest.mark.backend_independent
def test_unknown_name_raises():
    with pytest.raises(ValueError, match="Unknown data set"):
        datasets.load("imagenet")


@pytest.mark.backend_independent
def test_missing_folder_raises(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        datasets.load("mnist", data_dir=tmp_path / "nowhere")
    with pytest.raises(ValueError, match="must contain mnist.npz"):
        datasets.load("mnist", data_dir=tmp_path)


@pytest.mark.backend_independent
def test_file_in_the_wrong_format_raises(tmp_path):
    np.savez(tmp_path / "mnist.npz", images=np.zeros((2, 28, 28)))
    with pytest.raises(ValueError, match="lacks the arrays"):
        datasets.load("mnist", data_dir=tmp_path)
    (tmp_path / "msr_action3d_skeleton3d.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="not a readable .npz"):
        datasets.load("msr_action3d", data_dir=tmp_path)


@pytest.mark.backend_independent
def test_data_sets_without_a_download_need_a_folder():
    with pytest.raises(ValueError, match="data directory"):
        datasets.load("modelnet40")


@pytest.mark.backend_independent
@needs_shared_data
@pytest.mark.parametrize(
    "name, folder", [("fsdd", "fsdd"), ("msr_action3d", "msr_action3d"),
                     ("mnist_fsdd", "")],
)
def test_the_last_training_examples_hold_every_class(name, folder):
    """`validation_split` takes the last examples: they must be a sample of
    the classes (the files store FSDD and MSR Action3D class by class)."""
    dataset = datasets.load(name, data_dir=SHARED_DATA / folder)
    last_tenth = dataset.y_train[-len(dataset.y_train) // 10:]
    assert len(np.unique(last_tenth)) > dataset.num_classes // 2


@pytest.mark.backend_independent
def test_shuffling_keeps_inputs_with_their_labels():
    dataset = datasets.load_digits()
    shuffled = dataset.with_shuffled_training_data(seed=3)
    assert not np.array_equal(shuffled.y_train, dataset.y_train)
    for index in (0, 100, 1000):
        matches = np.flatnonzero(
            (dataset.x_train == shuffled.x_train[index]).all(axis=(1, 2, 3))
        )
        assert shuffled.y_train[index] in dataset.y_train[matches]
    np.testing.assert_array_equal(shuffled.x_test, dataset.x_test)


@pytest.mark.backend_independent
@pytest.mark.parametrize(
    "modality, modalities, message",
    [
        ("smell", None, "or multimodal. Received: modality='smell'"),
        ("multimodal", None, "needs `modalities`"),
        ("multimodal", {"image": "image", "nose": "smell"},
         "Received: modality='smell'"),
    ],
)
def test_a_modality_the_registry_does_not_know_is_refused(modality,
                                                          modalities, message):
    labels = np.zeros(2, "int64")
    with pytest.raises(ValueError, match=re.escape(message)):
        datasets.Dataset("made", np.zeros((2, 3)), labels, np.zeros((2, 3)),
                         labels, ["a"], modality, modalities)
    with pytest.raises(ValueError, match=re.escape(message)):
        datasets.StreamedDataset("streamed", modality, ["a"], 2, 2,
                                 read=None, modalities=modalities)
