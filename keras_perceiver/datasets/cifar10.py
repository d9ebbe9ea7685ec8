import io

import numpy as np

from keras_perceiver.datasets.dataset import Dataset
from keras_perceiver.datasets.local_files import find_file, load_npz
from keras_perceiver.optional_dependencies import import_optional

LOCAL_FILE = "cifar10_jpeg_bytes_train1000pc.npz"
CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog",
               "frog", "horse", "ship", "truck"]


def load_cifar10(data_dir=None):
    """CIFAR-10, 32x32 RGB images of 10 object classes.

    Args:
        data_dir: str or None. A folder holding
            `cifar10_jpeg_bytes_train1000pc.npz` (JPEG bytes cut by
            `offsets_train` / `offsets_test`, labels `y_train` / `y_test`:
            1,000 training images per class and the full test set). None
            downloads the full data set with `keras.datasets.cifar10`.

    Returns:
        A `Dataset` of float32 images `(n, 32, 32, 3)` in [0, 1].

    Example:

    >>> data = load_cifar10("../shared/data/cifar10")
    >>> model = keras_perceiver.models.perceiver_for_dataset(data)
    >>> model.fit(**data.fit_data(batch_size=32, validation_split=0.1))
    """
    if data_dir is None:
        import keras

        (x_train, y_train), (x_test, y_test) = (
            keras.datasets.cifar10.load_data()
        )
    else:
        path = find_file(data_dir, LOCAL_FILE, "CIFAR-10")
        keys = ("jpeg_train", "offsets_train", "y_train", "jpeg_test",
                "offsets_test", "y_test")
        data = load_npz(path, keys, "CIFAR-10")
        x_train = decode_jpegs(data["jpeg_train"], data["offsets_train"])
        x_test = decode_jpegs(data["jpeg_test"], data["offsets_test"])
        y_train, y_test = data["y_train"], data["y_test"]
    return Dataset(
        name="cifar10",
        x_train=(x_train / 255.0).astype("float32"),
        y_train=np.asarray(y_train).reshape(-1).astype("int64"),
        x_test=(x_test / 255.0).astype("float32"),
        y_test=np.asarray(y_test).reshape(-1).astype("int64"),
        class_names=CLASS_NAMES,
        modality="image",
    )


def decode_jpegs(jpeg_bytes, offsets):
    """Decodes images stored back to back in one byte array (Pillow)."""
    Image = import_optional("PIL.Image", "The CIFAR-10 loader")
    images = [
        np.asarray(Image.open(io.BytesIO(jpeg_bytes[start:end].tobytes())))
        for start, end in zip(offsets[:-1], offsets[1:])
    ]
    return np.stack(images)
