"""A folder with one subfolder per class, read as a tf.data stream."""

import pathlib

import numpy as np

from keras_perceiver.datasets import file_inputs
from keras_perceiver.datasets.dataset import label_mapping
from keras_perceiver.datasets.streamed_dataset import StreamedDataset


def load_folder(folder, modality=None, image_size=None,
                audio_features="waveform", max_length=None, num_points=1024,
                test_fraction=0.2, skip_bad_files=False, seed=0):
    """Files sorted into one subfolder per class, streamed from disk.

    `folder/CLASS/...` holds the files of each class (in nested folders
    too); the class names are the subfolder names. With `folder/train/`
    and `folder/test/` (each with class subfolders) those are the splits;
    otherwise `test_fraction` of each class is held out for testing. The
    modality comes from the file extensions: images (.png, .jpg, .jpeg,
    .bmp, .gif), WAV audio (.wav), point clouds (.ply, .off, .xyz, .txt)
    or sequences (.csv); `.npy` files join either, and alone need
    `modality`. Every file is opened once up front, to check it and to
    choose the preprocessing (unreadable ones are refused, or left out
    with `skip_bad_files`); the examples are then decoded in parallel each
    epoch (`tf.data`), never held in memory all at once.

    Images are resized to `image_size` (default: the most common size) and
    scaled to [0, 1], grey when all files are grey, RGB otherwise. WAV
    files (16-bit PCM, one sample rate) become waveforms in [-1, 1] or
    log-mel spectrograms, cut or padded to `max_length` samples with a
    mask. Point clouds are centred and scaled into the unit sphere, then
    sampled to `num_points` points or padded with a mask. Sequences (one
    step per row) are cut or padded to `max_length` steps with a mask.

    Args:
        folder: str or path. The folder.
        modality: str or None. "image", "audio", "points" or "sequence";
            files of other modalities are then ignored. Defaults to None
            (detected).
        image_size: int, `(height, width)` or None. Defaults to None.
        audio_features: str. "waveform" or "log_mel". Defaults to
            "waveform".
        max_length: int or None. Audio samples or sequence steps. Defaults
            to None (the longest file's).
        num_points: int. Points per cloud. Defaults to 1024.
        test_fraction: float in (0, 1). Share of each class held out for
            testing when there is no `test/` folder. Defaults to 0.2.
        skip_bad_files: bool. Leave out unreadable files (listed in
            `skipped_files`) instead of raising. Defaults to False.
        seed: int. Seed of the split and of the order. Defaults to 0.

    Returns:
        A `StreamedDataset`.

    Example:

    >>> data = load_folder("photos/", image_size=64)
    >>> data.class_names
    ['cat', 'dog']
    """
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise ValueError(f"The data folder does not exist. Received: {folder}")
    splits, class_names = _split_files(folder, test_fraction, seed)
    all_paths = [path for paths, _ in splits.values() for path in paths]
    modality = file_inputs.detect_modality(all_paths, modality)
    facts, skipped = [], []
    for split, (paths, labels) in splits.items():
        *splits[split], split_facts, split_skipped = _readable_files(
            paths, labels, modality, skip_bad_files
        )
        facts += split_facts
        skipped += split_skipped
    _check_splits(splits, class_names, folder)
    preprocessing = file_inputs.preprocessing_for(
        modality, facts, image_size=image_size,
        audio_features=audio_features, max_length=max_length,
        num_points=num_points,
    )

    def read(split, start, stop, shuffle):
        return _read(splits[split], start, stop, shuffle, preprocessing,
                     seed)

    return StreamedDataset(
        name=folder.name,
        modality=file_inputs.input_modality(preprocessing),
        class_names=class_names,
        num_train_examples=len(splits["train"][1]),
        num_test_examples=len(splits["test"][1]),
        read=read,
        preprocessing=preprocessing,
        skipped_files=[str(path) for path in skipped],
    )


def _split_files(folder, test_fraction, seed):
    """`{"train": (paths, labels), "test": (paths, labels)}` and the class
    names; training files in a seeded random order."""
    rng = np.random.default_rng(seed)
    if (folder / "train").is_dir() and (folder / "test").is_dir():
        train_paths, train_labels, class_names = _class_files(folder / "train")
        test_paths, test_labels, test_names = _class_files(folder / "test")
        unknown = sorted(set(test_names) - set(class_names))
        if unknown:
            raise ValueError(
                f"Every class of {folder / 'test'} must be in "
                f"{folder / 'train'}. Received test classes {unknown}"
            )
        test_labels = label_mapping(test_names, class_names)[test_labels]
    else:
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(
                "`test_fraction` must be between 0 and 1. Received: "
                f"test_fraction={test_fraction}"
            )
        paths, labels, class_names = _class_files(folder)
        is_test = np.zeros(len(labels), bool)
        for label in range(len(class_names)):
            members = rng.permutation(np.flatnonzero(labels == label))
            is_test[members[: int(round(len(members) * test_fraction))]] = True
        train_paths, train_labels = paths[~is_test], labels[~is_test]
        test_paths, test_labels = paths[is_test], labels[is_test]
    order = rng.permutation(len(train_labels))
    splits = {"train": (train_paths[order], train_labels[order]),
              "test": (test_paths, test_labels)}
    return splits, class_names


def _readable_files(paths, labels, modality, skip_bad_files):
    """The split's readable files of `modality`: `(paths, labels, facts,
    skipped_paths)`."""
    of_modality = np.isin(paths, file_inputs.files_of(modality, paths))
    paths, labels = paths[of_modality], labels[of_modality]
    readable, facts, skipped = file_inputs.inspect_files(
        list(paths), modality, skip_bad_files
    )
    keep = np.isin(paths, readable)
    return paths[keep], labels[keep], facts, skipped


def _class_files(folder):
    """Data files under each class subfolder: `(paths, labels, names)`."""
    class_names, paths, labels = [], [], []
    for subfolder in sorted(folder.iterdir()):
        if not subfolder.is_dir() or subfolder.name.startswith("."):
            continue
        files = sorted(
            str(path) for path in subfolder.rglob("*")
            if path.is_file() and file_inputs.has_data_extension(path)
        )
        if files:
            paths += files
            labels += [len(class_names)] * len(files)
            class_names.append(subfolder.name)
    if not paths:
        raise ValueError(
            "The data folder must hold one subfolder of data files per "
            f"class. Received: {folder} with no such subfolders"
        )
    return np.array(paths), np.array(labels, "int64"), class_names


def _check_splits(splits, class_names, folder):
    trained = sorted({class_names[label] for label in splits["train"][1]})
    if len(trained) < 2:
        raise ValueError(
            "A classifier needs at least two classes (subfolders). "
            f"Received: {folder} with {trained or 'no'} class"
        )
    for split, (_, labels) in splits.items():
        if len(labels) == 0:
            raise ValueError(
                f"The {split} split of {folder} holds no files. Received: "
                "too few files to split"
            )


def _read(split_files, start, stop, shuffle, preprocessing, seed):
    """The stream of a split's examples `start` to `stop`: files that
    `inspect_files` decoded whole, so its length is known (no step count
    is unknown to Keras) and no decoder meets a bad file."""
    import tensorflow as tf

    paths, labels = split_files
    stream = tf.data.Dataset.from_tensor_slices(
        (paths[start:stop], labels[start:stop])
    )
    if shuffle:
        stream = stream.shuffle(stop - start, seed=seed)
    return stream.map(
        lambda path, label: (
            file_inputs.inputs_from_file(path, preprocessing), label
        ),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
