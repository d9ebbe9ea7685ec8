"""Examples stored as arrays and the files named to classify
(`keras_perceiver.datasets.example_files`)."""

import numpy as np
import pytest

from bad_input import assert_value_error, unchanged
from keras_perceiver.datasets.example_files import (
    files_to_classify,
    load_examples,
)

pytestmark = pytest.mark.backend_independent


def test_npy_and_npz_examples_load(tmp_path):
    np.save(tmp_path / "x.npy", np.ones((2, 3)))
    np.savez(tmp_path / "x.npz", inputs=np.ones((2, 3)), mask=np.ones(2))
    assert load_examples(tmp_path / "x.npy").shape == (2, 3)
    assert sorted(load_examples(tmp_path / "x.npz")) == ["inputs", "mask"]


@pytest.mark.parametrize("name, content, fragments", [
    ("missing.npy", None, ["input file not found"]),
    ("text.npy", b"not an array", ["not a readable .npy or .npz"]),
    ("cut.npz", b"PK\x03\x04", ["not a readable .npy or .npz"]),
])
def test_bad_example_files_are_a_value_error(tmp_path, name, content,
                                             fragments):
    if content is not None:
        (tmp_path / name).write_bytes(content)
    with unchanged(tmp_path):
        assert_value_error(lambda: load_examples(tmp_path / name),
                           *fragments)


def test_folders_give_their_files_of_the_modality_sorted(tmp_path):
    (tmp_path / "b").mkdir()
    for name in ("b/2.png", "1.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert files_to_classify([tmp_path], "image") == [
        str(tmp_path / "1.png"), str(tmp_path / "b" / "2.png")]


@pytest.mark.parametrize("name, fragments", [
    ("missing.png", ["file not found"]),
    ("notes.txt", ["not a image file", ".png"]),
    ("empty", ["no image files in"]),
])
def test_bad_files_to_classify_are_a_value_error(tmp_path, name, fragments):
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "empty").mkdir()
    assert_value_error(lambda: files_to_classify([tmp_path / name], "image"),
                       *fragments)
