"""keras_perceiver.datasets.load_source: folders of files, TFDS data sets,
.npz and .csv, streamed or in memory, and what they refuse."""

import keras
import numpy as np
import pytest

from data_source_files import (
    class_folder,
    prepare_tfds_images,
    prepare_tfds_videos,
    write_image,
    write_point_cloud,
    write_wav,
)
from keras_perceiver import adapters, datasets
from keras_perceiver.datasets import StreamedDataset
from keras_perceiver.modalities.point_cloud import read_point_cloud
from keras_perceiver.models import perceiver_for_dataset
from support import spread_over_backends

TINY_MODEL = dict(num_bands=4, num_latents=8, latent_dim=16, num_blocks=1,
                  num_self_attends_per_block=1, num_self_heads=2)
independent = pytest.mark.backend_independent


def fitted_model(data):
    model = perceiver_for_dataset(data, **TINY_MODEL)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(
        from_logits=True), metrics=["accuracy"])
    # The few examples of each split in one batch: a step function is
    # compiled once per split, not again for a last, smaller batch.
    history = model.fit(**data.fit_data(16, validation_split=0.25),
                        epochs=1, verbose=0)
    assert set(history.history) >= {"loss", "val_loss"}
    return model


# Streaming is tf.data whatever the backend, and every backend trains on a
# stream here: each case runs under one backend (`spread_over_backends`).
@pytest.mark.parametrize(
    "modality, options, input_shape",
    spread_over_backends(
        ("image", {}, (8, 8, 3)),  # the most common of 8x8 and 6x10
        ("image", {"image_size": (5, 7)}, (5, 7, 3)),
        ("audio", {}, {"inputs": (384,), "mask": (384,)}),
        # The longest clip, 384 samples, rounded up to whole 4x4 patches.
        ("audio", {"audio_features": "log_mel"},
         {"inputs": (8, 64), "mask": (8,)}),
        ("points", {"num_points": 12}, {"inputs": (12, 3), "mask": (12,)}),
        ("sequence", {}, {"inputs": (7, 2), "mask": (7,)}),
    ),
)
def test_a_class_folder_of_each_modality_streams_and_trains(
        tmp_path, modality, options, input_shape):
    data = datasets.load_source(class_folder(tmp_path, modality), **options)
    assert isinstance(data, StreamedDataset)
    assert data.class_names == ["cat", "dog"]
    assert (data.num_train_examples, data.num_test_examples) == (8, 2)
    assert data.input_shape == input_shape
    model = fitted_model(data)
    loss, accuracy = model.evaluate(**data.test_data(2), verbose=0)
    assert np.isfinite(loss) and 0 <= accuracy <= 1
    assert model.class_names == ["cat", "dog"]
    assert model.input_preprocessing == data.preprocessing


@independent
def test_masks_cover_the_real_samples_points_and_steps(tmp_path):
    write_point_cloud(class_folder(tmp_path / "p", "points") / "cat" / "x.npy",
                      30, np.random.default_rng(0))
    points = datasets.load_source(tmp_path / "p", num_points=12)
    inputs = points.in_memory().x_train
    counts = inputs["mask"].sum(axis=1)
    assert set(counts) <= set(range(10, 13)) and 12 in counts
    norms = np.linalg.norm(inputs["inputs"], axis=-1)[inputs["mask"]]
    assert norms.max() == pytest.approx(1.0, abs=1e-5)  # in the unit sphere
    sequences = datasets.load_source(class_folder(tmp_path / "s", "sequence"))
    in_memory = sequences.in_memory()
    masks = np.concatenate([in_memory.x_train["mask"],
                            in_memory.x_test["mask"]])
    # Two classes of sequences of 3..7 steps, padded to the longest.
    assert sorted(masks.sum(axis=1)) == sorted([3, 4, 5, 6, 7] * 2)
    assert not in_memory.x_train["inputs"][~in_memory.x_train["mask"]].any()


@independent
def test_point_cloud_formats_read_the_same_points(tmp_path):
    points = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
    rows = "\n".join(" ".join(f"{v:.7f}" for v in p) for p in points)
    np.save(tmp_path / "a.npy", points)
    (tmp_path / "a.xyz").write_text(rows)
    (tmp_path / "a.txt").write_text(rows.replace(" ", ","))
    (tmp_path / "a.off").write_text(f"OFF\n5 1 0\n{rows}\n3 0 1 2\n")
    header = ("ply\nformat {}\nelement vertex 5\nproperty float x\n"
              "property float y\nproperty float z\nelement face 1\n"
              "property list uchar int vertex_indices\nend_header\n")
    (tmp_path / "a.ply").write_text(header.format("ascii 1.0") + rows)
    (tmp_path / "b.ply").write_bytes(
        header.format("binary_little_endian 1.0").encode()
        + points.astype("<f4").tobytes()
    )
    for path in sorted(tmp_path.iterdir()):
        np.testing.assert_allclose(read_point_cloud(path), points, atol=1e-6,
                                   err_msg=path.name)


@independent
def test_train_and_test_subfolders_are_the_splits(tmp_path):
    class_folder(tmp_path / "train", "image", per_class=3)
    class_folder(tmp_path / "test", "image", per_class=2, classes=["dog"])
    data = datasets.load_source(tmp_path)
    assert (data.num_train_examples, data.num_test_examples) == (6, 2)
    _, labels = data.first_examples(2, split="test")
    assert list(labels) == [1, 1]  # "dog" is class 1 of the training data


@independent
def test_grey_images_stay_grey_and_the_size_can_be_set(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        for index in range(3):
            write_image(tmp_path / name / f"{index}.png", (9, 9), rng, "L")
    data = datasets.load_source(tmp_path, image_size=4)
    assert data.preprocessing == {"modality": "image", "image_size": [4, 4],
                                  "channels": 1}
    images, _ = data.first_examples(3)
    assert images.shape == (3, 4, 4, 1) and 0 <= images.min() <= images.max() <= 1


@pytest.mark.one_backend("torch")
def test_a_saved_model_reads_files_as_training_did(tmp_path):
    data = datasets.load_source(class_folder(tmp_path / "d", "audio"),
                                audio_features="log_mel")
    model = fitted_model(data)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert loaded.class_names == ["cat", "dog"]
    paths = sorted(str(p) for p in (tmp_path / "d").rglob("*.wav"))
    from_files = next(iter(
        datasets.read_files(paths, loaded.input_preprocessing).batch(10)
    ))
    np.testing.assert_allclose(loaded.predict(from_files, verbose=0),
                               model.predict(from_files, verbose=0),
                               atol=1e-5)
    assert from_files["inputs"].shape == (10, 8, 64)


@pytest.mark.one_backend("torch")
def test_tfds_data_set_streams_from_a_local_data_dir(tmp_path):
    pytest.importorskip("tensorflow_datasets")
    prepare_tfds_images(tmp_path)
    data = datasets.load_source("tfds:tiny_shapes", data_dir=str(tmp_path))
    assert data.class_names == ["a", "b"]
    assert (data.num_train_examples, data.num_test_examples) == (10, 4)
    assert data.preprocessing == {"modality": "image", "image_size": [8, 8],
                                  "channels": 3}
    fitted_model(data)
    held_out = datasets.load_source("tfds:tiny_shapes", data_dir=str(tmp_path),
                                    train_split="test", test_fraction=0.5)
    assert (held_out.num_train_examples, held_out.num_test_examples) == (2, 2)


@pytest.mark.one_backend("torch")  # trains: eagerly there, nothing traced
def test_tfds_videos_stream_masked_over_frames_and_train(tmp_path):
    pytest.importorskip("tensorflow_datasets")
    prepare_tfds_videos(tmp_path)
    data = datasets.load_source("tfds:tiny_videos", data_dir=str(tmp_path))
    assert data.modality == "video" and data.class_names == ["a", "b"]
    assert (data.num_train_examples, data.num_test_examples) == (10, 4)
    # The longest of 3 to 5 frames, rounded up to whole 2-frame patches.
    assert data.preprocessing == {"modality": "video", "image_size": [16, 16],
                                  "channels": 3, "max_length": 6}
    assert data.input_shape == {"inputs": (6, 16, 16, 3), "mask": (6,)}
    videos, labels = data.in_memory().first_examples(10)
    assert sorted(videos["mask"].sum(axis=1)) == sorted([3, 4, 5] * 3 + [3])
    assert not videos["inputs"][~videos["mask"]].any()
    assert 0 <= videos["inputs"].min() < videos["inputs"].max() <= 1
    assert sorted(labels) == [0] * 5 + [1] * 5
    model = fitted_model(data)
    assert isinstance(model.input_adapter, adapters.VideoAdapter)
    assert model.input_adapter.patch_size == (2, 8, 8)
    assert model.input_preprocessing == data.preprocessing


@independent
def test_tfds_video_frames_can_be_resized_and_cut(tmp_path):
    pytest.importorskip("tensorflow_datasets")
    prepare_tfds_videos(tmp_path)
    data = datasets.load_source("tfds:tiny_videos", data_dir=str(tmp_path),
                                image_size=8, max_length=4)
    videos, _ = data.first_examples(10, split="test")
    assert videos["inputs"].shape == (4, 4, 8, 8, 3)
    # Test videos of 3, 4, 5 and 3 frames, cut to 4.
    assert sorted(videos["mask"].sum(axis=1)) == [3, 3, 4, 4]


@independent
def test_npz_and_csv_sources_load_into_memory(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "images.npz",
             x_train=rng.integers(0, 256, (10, 6, 6), dtype=np.uint8),
             y_train=np.array(["cat", "dog"] * 5))
    images = datasets.load_source(tmp_path / "images.npz", test_fraction=0.2)
    assert images.modality == "image" and images.class_names == ["cat", "dog"]
    assert images.x_train.shape == (8, 6, 6, 1) and images.x_train.max() <= 1
    assert len(images.y_test) == 2
    rows = ["a,b,species"] + [f"{i},{i * 2},{'xy'[i % 2]}" for i in range(10)]
    (tmp_path / "table.csv").write_text("\n".join(rows))
    table = datasets.load_source(tmp_path / "table.csv",
                                 label_column="species")
    assert table.modality == "sequence" and table.class_names == ["x", "y"]
    assert table.x_train.shape == (8, 2, 1)


@independent
@pytest.mark.parametrize(
    "make, options, message",
    [
        (lambda root: root, {}, "one subfolder of data files per class"),
        (lambda root: class_folder(root, "image", classes=["cat"]), {},
         "at least two classes"),
        (lambda root: class_folder(class_folder(root, "image"), "audio",
                                   classes=["bird"]), {},
         "one modality"),
        (lambda root: class_folder(root, "points") and _npy_only(root), {},
         "point clouds or sequences"),
        (lambda root: _corrupt(class_folder(root, "image")), {},
         "dog/bad.png is not a readable image"),
        (lambda root: root / "missing", {}, "must be a folder"),
        (lambda root: _csv(root, "a,b\n1,2\n3,4"), {},
         "no label column 'label'"),
        (lambda root: root, {"colour": True}, "Unknown option for folders"),
    ],
)
def test_bad_sources_are_value_errors_that_say_why(tmp_path, make, options,
                                                   message):
    with pytest.raises(ValueError, match=message):
        datasets.load_source(make(tmp_path), **options)


def _npy_only(root):
    for path in root.rglob("*.xyz"):
        np.save(path.with_suffix(".npy"), np.loadtxt(path))
        path.unlink()
    return root


def _corrupt(root):
    (root / "dog" / "bad.png").write_bytes(b"not an image")
    return root


def _csv(root, text):
    (root / "table.csv").write_text(text)
    return root / "table.csv"


@independent
def test_bad_files_can_be_skipped_and_are_counted(tmp_path):
    root = class_folder(tmp_path, "audio")
    write_wav(root / "cat" / "short.wav", 10, np.random.default_rng(0))
    (root / "cat" / "empty.wav").write_bytes(b"")
    (root / "dog" / "bad.wav").write_bytes(b"RIFF and nothing else")
    data = datasets.load_source(root, skip_bad_files=True)
    assert sorted(data.skipped_files) == [str(root / "cat" / "empty.wav"),
                                          str(root / "dog" / "bad.wav")]
    assert data.num_train_examples + data.num_test_examples == 11


@independent
def test_tfds_names_that_are_unknown_or_not_prepared_are_value_errors(
        tmp_path):
    pytest.importorskip("tensorflow_datasets")
    with pytest.raises(ValueError, match="has no data set 'no_such_data'"):
        datasets.load_source("tfds:no_such_data", data_dir=str(tmp_path))
    with pytest.raises(ValueError, match="mnist is not prepared in"):
        datasets.load_source("tfds:mnist", data_dir=str(tmp_path))


@independent
def test_labels_a_model_never_saw_are_a_value_error(tmp_path):
    data = datasets.load_source(class_folder(tmp_path, "image",
                                             classes=["cat", "cow"]))
    relabeled = data.relabeled(["cow", "cat", "dog"])
    _, labels = relabeled.in_memory().first_examples(8)
    assert set(labels) == {0, 1}
    with pytest.raises(ValueError, match=r"never saw: \['cow'\]"):
        data.relabeled(["cat", "dog"])
