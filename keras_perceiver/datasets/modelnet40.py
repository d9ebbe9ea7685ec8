from keras_perceiver.datasets.dataset import Dataset
from keras_perceiver.datasets.local_files import find_file, load_npz

TRAIN_FILE = "modelnet40_train_1024pts_float16.npz"
TEST_FILE = "modelnet40_test_1024pts_float16.npz"


def load_modelnet40(data_dir=None):
    """ModelNet40 3-D shapes as point clouds of 1,024 points, 40 classes.

    Args:
        data_dir: str. A folder holding `modelnet40_train_1024pts_float16.npz`
            and `modelnet40_test_1024pts_float16.npz` (`points` (n, 1024, 3)
            in the unit sphere, `labels`, `classes`). ModelNet40 has no
            download in keras.datasets or tensorflow-datasets, so a folder is
            required.

    Returns:
        A `Dataset` of float32 points `(n, 1024, 3)` (the official 9,843 /
        2,468 split), modality "points".

    Example:

    >>> data = load_modelnet40("../shared/data/modelnet40")
    >>> model = keras_perceiver.models.perceiver_for_dataset(data)
    >>> model.fit(**data.fit_data(batch_size=32, validation_split=0.1))
    """
    if data_dir is None:
        raise ValueError(
            "ModelNet40 needs a data directory holding "
            f"{TRAIN_FILE} and {TEST_FILE}. Received: data_dir=None"
        )
    keys = ("points", "labels", "classes")
    train = load_npz(find_file(data_dir, TRAIN_FILE, "ModelNet40"), keys,
                     "ModelNet40")
    test = load_npz(find_file(data_dir, TEST_FILE, "ModelNet40"), keys,
                    "ModelNet40")
    return Dataset(
        name="modelnet40",
        x_train=train["points"].astype("float32"),
        y_train=train["labels"].astype("int64"),
        x_test=test["points"].astype("float32"),
        y_test=test["labels"].astype("int64"),
        class_names=[str(name) for name in train["classes"]],
        modality="points",
    )
