from keras_perceiver.datasets.dataset import Dataset
from keras_perceiver.datasets.local_files import find_file, load_npz


def load_mnist(data_dir=None):
    """MNIST handwritten digits, 28x28 grey-scale, 10 classes.

    Args:
        data_dir: str or None. A folder holding `mnist.npz` in the layout of
            `keras.datasets.mnist` (`x_train`, `y_train`, `x_test`,
            `y_test`). None downloads it with `keras.datasets.mnist`.

    Returns:
        A `Dataset` of float32 images `(n, 28, 28, 1)` in [0, 1]; the
        official 60,000 / 10,000 split.

    Example:

    >>> data = load_mnist("../shared/data/mnist")
    >>> model = keras_perceiver.models.perceiver_for_dataset(data)
    >>> model.fit(**data.fit_data(batch_size=32, validation_split=0.1))
    """
    if data_dir is None:
        import keras

        (x_train, y_train), (x_test, y_test) = (
            keras.datasets.mnist.load_data()
        )
    else:
        path = find_file(data_dir, "mnist.npz", "MNIST")
        data = load_npz(path, ("x_train", "y_train", "x_test", "y_test"),
                        "MNIST")
        x_train, y_train = data["x_train"], data["y_train"]
        x_test, y_test = data["x_test"], data["y_test"]
    return Dataset(
        name="mnist",
        x_train=(x_train[..., None] / 255.0).astype("float32"),
        y_train=y_train.astype("int64"),
        x_test=(x_test[..., None] / 255.0).astype("float32"),
        y_test=y_test.astype("int64"),
        class_names=[str(digit) for digit in range(10)],
        modality="image",
    )
