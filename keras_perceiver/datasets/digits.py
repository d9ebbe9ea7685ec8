import numpy as np

from keras_perceiver.datasets.dataset import Dataset
from keras_perceiver.optional_dependencies import import_optional


def load_digits(data_dir=None, test_fraction=0.2, seed=0):
    """scikit-learn's bundled 8x8 handwritten digits: real data, no download.

    1,797 grey-scale 8x8 images of the digits 0-9, scaled to [0, 1], split
    into training and test sets by a fixed stratified shuffle.

    Args:
        data_dir: must be None: the data ships inside scikit-learn.
        test_fraction: float. Share of each class held out for testing.
            Defaults to 0.2.
        seed: int. Seed of the split. Defaults to 0.

    Returns:
        A `Dataset` with images of shape `(n, 8, 8, 1)`, float32.

    Example:

    >>> data = load_digits()
    >>> data.x_train.shape, data.class_names[:3]
    ((1438, 8, 8, 1), ['0', '1', '2'])
    """
    if data_dir is not None:
        raise ValueError(
            "The digits data set ships inside scikit-learn and takes no "
            f"data directory. Received: data_dir={data_dir!r}"
        )
    sklearn_datasets = import_optional("sklearn.datasets",
                                       "The digits data set")
    bunch = sklearn_datasets.load_digits()
    images = (bunch.images / 16.0).astype("float32")[..., None]
    labels = bunch.target.astype("int64")
    rng = np.random.default_rng(seed)
    test_indices = []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        test_indices.extend(members[: round(len(members) * test_fraction)])
    is_test = np.zeros(len(labels), bool)
    is_test[test_indices] = True
    return Dataset(
        name="digits",
        x_train=images[~is_test],
        y_train=labels[~is_test],
        x_test=images[is_test],
        y_test=labels[is_test],
        class_names=[str(digit) for digit in range(10)],
        modality="image",
    )
