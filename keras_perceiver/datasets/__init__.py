"""Real data sets, ready for `model.fit`.

`load(name, data_dir=None, **options)` returns a `Dataset` of a built-in
data set. Each loader reads a local copy when given `data_dir`, or the
usual public source otherwise.

`affine_flow_pairs(images, num_pairs)` makes optical-flow frame pairs with
exact ground truth from still images; `moving_digit_videos` and
`load_audio_visual_digits` make moving-digit videos paired with spoken
digits, for multimodal autoencoding.

`load_stdlib_bytes()` is a byte corpus that ships with Python, the
standard library's source, split by file; `byte_windows` cuts it into
windows of token ids for a causal language model.

`load_source(source, **options)` reads the user's own data: a folder with
one subfolder per class, `tfds:NAME` for a TensorFlow Datasets data set, an
`.npz` file or a `.csv` table.
"""

import inspect
import pathlib

from keras_perceiver.datasets.affine_flow import affine_flow_pairs
from keras_perceiver.datasets.audio_visual_digits import (
    load_audio_visual_digits,
    moving_digit_videos,
)
from keras_perceiver.datasets.array_sources import (
    load_csv_source,
    load_npz_source,
)
from keras_perceiver.datasets.dataset import Dataset
from keras_perceiver.datasets.file_inputs import read_files
from keras_perceiver.datasets.folder_source import load_folder
from keras_perceiver.datasets.streamed_dataset import StreamedDataset
from keras_perceiver.datasets.tfds_source import load_tfds
from keras_perceiver.datasets.cifar10 import load_cifar10
from keras_perceiver.datasets.digits import load_digits
from keras_perceiver.datasets.fsdd import load_fsdd
from keras_perceiver.datasets.mnist import load_mnist
from keras_perceiver.datasets.mnist_fsdd import load_mnist_fsdd
from keras_perceiver.datasets.modelnet40 import load_modelnet40
from keras_perceiver.datasets.msr_action3d import load_msr_action3d
from keras_perceiver.datasets.stdlib_bytes import byte_windows
from keras_perceiver.datasets.stdlib_bytes import load_stdlib_bytes

__all__ = [
    "Dataset",
    "LOADERS",
    "StreamedDataset",
    "affine_flow_pairs",
    "byte_windows",
    "load",
    "load_audio_visual_digits",
    "load_cifar10",
    "load_csv_source",
    "load_digits",
    "load_folder",
    "load_fsdd",
    "load_mnist",
    "load_mnist_fsdd",
    "load_modelnet40",
    "load_msr_action3d",
    "load_npz_source",
    "load_source",
    "load_stdlib_bytes",
    "load_tfds",
    "moving_digit_videos",
    "read_files",
    "source_options",
]

LOADERS = {
    "digits": load_digits,
    "mnist": load_mnist,
    "cifar10": load_cifar10,
    "fsdd": load_fsdd,
    "modelnet40": load_modelnet40,
    "msr_action3d": load_msr_action3d,
    "mnist_fsdd": load_mnist_fsdd,
}
"""The built-in data sets: name -> loader. `load(name)` calls the loader."""


def load(name, data_dir=None, **options):
    """Loads the data set called `name` (see `LOADERS` for the names).

    Args:
        name: str. One of `keras_perceiver.datasets.LOADERS`.
        data_dir: str or None. Folder holding a local copy.
        **options: the loader's other arguments, e.g.
            `audio_features="log_mel"` for "fsdd" and "mnist_fsdd".

    Returns:
        A `Dataset` whose training examples are in a fixed random order
        (seed 0), so that `validation_split` holds out every class.

    Example:

    >>> data = keras_perceiver.datasets.load("digits")
    >>> data.modality, len(data.class_names)
    ('image', 10)
    """
    if name not in LOADERS:
        raise ValueError(
            f"Unknown data set. Expected one of {sorted(LOADERS)}. "
            f"Received: name={name!r}"
        )
    loader = LOADERS[name]
    _check_options(loader, options, f"the {name} data set", {"data_dir"})
    dataset = loader(data_dir=data_dir, **options)
    return dataset.with_shuffled_training_data()


def load_source(source, **options):
    """Loads the user's own data: a folder, a TFDS data set, NPZ or CSV.

    Folders and TFDS data sets are streamed from disk (a
    `StreamedDataset`: data larger than memory trains in constant memory);
    `.npz` and `.csv` files are read into memory (a `Dataset`). Both have
    the same `fit_data`, `test_data`, `class_names` and `preprocessing`.

    Args:
        source: str. One of
            - a folder with one subfolder of files per class (images, WAV
              audio, point clouds or sequences): see `load_folder`;
            - "tfds:NAME", a prepared TensorFlow Datasets data set: see
              `load_tfds`;
            - an `.npz` file (`x_train`, `y_train`, optional `x_test`,
              `y_test`): see `load_npz_source`;
            - a `.csv` table, one example per row: see `load_csv_source`.
        **options: the chosen loader's arguments (e.g. `image_size=64` for
            a folder of images, `data_dir=` for TFDS, `label_column=` for
            CSV).

    Returns:
        A `StreamedDataset` (folders, TFDS) or a `Dataset` (NPZ, CSV).

    Example:

    >>> data = keras_perceiver.datasets.load_source("photos/", image_size=64)
    >>> model = keras_perceiver.models.perceiver_for_dataset(data)
    >>> model.fit(**data.fit_data(batch_size=32, validation_split=0.1))
    """
    loader, target, what = _source_loader(source)
    first_argument = next(iter(inspect.signature(loader).parameters))
    _check_options(loader, options, what, {first_argument})
    dataset = loader(target, **options)
    if isinstance(dataset, Dataset):
        return dataset.with_shuffled_training_data()
    return dataset


def source_options(source):
    """The names of the options `load_source` takes for `source`.

    Args:
        source: str. A data source as `load_source` takes it.

    Returns:
        A list of option names.

    Example:

    >>> sorted(source_options("table.csv"))
    ['label_column', 'seed', 'test_fraction']
    """
    loader, _, _ = _source_loader(source)
    return list(inspect.signature(loader).parameters)[1:]


def _source_loader(source):
    """The loader of `source`, what it reads, and the kind for messages."""
    source = str(source)
    if source.startswith("tfds:"):
        return load_tfds, source[len("tfds:"):], "tfds:"
    if source.lower().endswith(".npz"):
        return load_npz_source, source, ".npz files"
    if source.lower().endswith(".csv"):
        return load_csv_source, source, ".csv files"
    if pathlib.Path(source).is_dir():
        return load_folder, source, "folders"
    raise ValueError(
        "The data source must be a folder, an .npz or .csv file, or "
        f"tfds:NAME. Received: {source!r}"
    )


def _check_options(loader, options, what, positional):
    accepted = set(inspect.signature(loader).parameters) - positional
    unknown = sorted(set(options) - accepted)
    if unknown:
        expected = ", ".join(sorted(accepted)) or "none"
        raise ValueError(
            f"Unknown option for {what}. Expected options: "
            f"{expected}. Received: {', '.join(unknown)}"
        )
