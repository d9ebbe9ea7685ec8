"""Real data sets, ready for `model.fit`.

`load(name, data_dir=None)` returns a `Dataset`. Each loader reads a local
copy when given `data_dir`, or the usual public source otherwise.
"""

from keras_perceiver.datasets.dataset import Dataset
from keras_perceiver.datasets.digits import load_digits

LOADERS = {
    "digits": load_digits,
}


def load(name, data_dir=None):
    """Loads the data set called `name` (see `LOADERS` for the names).

    Args:
        name: str. One of `keras_perceiver.datasets.LOADERS`.
        data_dir: str or None. Folder holding a local copy.

    Returns:
        A `Dataset`.
    """
    if name not in LOADERS:
        raise ValueError(
            f"Unknown data set. Expected one of {sorted(LOADERS)}. "
            f"Received: name={name!r}"
        )
    return LOADERS[name](data_dir=data_dir)
