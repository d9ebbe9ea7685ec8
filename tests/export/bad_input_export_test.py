"""Bad input to `keras-perceiver export` and `export_saved_model`.

Each case is refused in one line (exit status 2, or a ValueError) before
any work, and nothing in the test's folder changes: `--overwrite` replaces
only an earlier export (one with the export's marker file), never the
working directory, a folder above it, a file or anyone else's folder. The
export process not running a `keras.py` of the working directory, and a
refused wrong-size input in the exported graph, are checked on real
exports in `export_test.py`; here, the adapter's part of the latter.
"""

import os

import keras
import pytest

import keras_perceiver as kp
from keras_perceiver.export import saved_model
from bad_input import assert_refused, assert_value_error, unchanged
from command_line import run_in_process
from support import tiny_perceiver


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    model = tiny_perceiver()
    model.build((None, 8, 8, 3))
    path = tmp_path_factory.mktemp("model") / "model.keras"
    model.save(path)
    return path


def write_files(folder, *names):
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("someone's data")


def earlier_export(folder):
    write_files(folder, "saved_model.pb", saved_model.MARKER_FILE)
    return folder


def working_directory(tmp_path):
    write_files(tmp_path / "work", "notes.txt")
    return "."


def parent_of_working_directory(tmp_path):
    write_files(tmp_path / "work", "notes.txt")
    return ".."


def foreign_folder(tmp_path):
    write_files(tmp_path / "work" / "photos", "cat.png")
    return "photos"


def saved_model_without_marker(tmp_path):
    write_files(tmp_path / "work" / "served", "saved_model.pb", "keep.txt")
    return "served"


def marker_is_a_link(tmp_path):
    served = tmp_path / "work" / "served"
    write_files(served, "saved_model.pb", "keep.txt")
    write_files(tmp_path, "elsewhere.json")
    (served / saved_model.MARKER_FILE).parent.mkdir()
    (served / saved_model.MARKER_FILE).symlink_to(tmp_path / "elsewhere.json")
    return "served"


def link_to_an_earlier_export(tmp_path):
    earlier_export(tmp_path / "exports" / "v1")
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "served").symlink_to(tmp_path / "exports" / "v1")
    return "served"


def a_file(tmp_path):
    write_files(tmp_path / "work", "results.csv")
    return "results.csv"


def under_a_file(tmp_path):
    write_files(tmp_path / "work", "results.csv")
    return os.path.join("results.csv", "served")


# Targets `--overwrite` refuses: each makes it under tmp_path (the command
# runs in tmp_path / "work") and returns the OUTPUT_DIR argument.
REFUSED_TARGETS = {
    working_directory: "working directory",
    parent_of_working_directory: "working directory",
    foreign_folder: "replaces only a SavedModel written by",
    saved_model_without_marker: "replaces only a SavedModel written by",
    marker_is_a_link: "replaces only a SavedModel written by",
    link_to_an_earlier_export: "replaces only a SavedModel written by",
    a_file: "replaces only a SavedModel written by",
    under_a_file: "under the file",
}


@pytest.mark.parametrize(
    "make_target", REFUSED_TARGETS, ids=lambda make: make.__name__
)
def test_overwrite_refuses_what_export_did_not_write(
    make_target, model_file, tmp_path, monkeypatch
):
    output_dir = make_target(tmp_path)
    monkeypatch.chdir(tmp_path / "work")
    with unchanged(tmp_path, model_file):
        result = run_in_process("export", model_file, output_dir,
                                "--overwrite")
    assert_refused(result, REFUSED_TARGETS[make_target],
                   os.path.abspath(output_dir))


def test_an_earlier_export_is_kept_without_overwrite(model_file, tmp_path):
    served = earlier_export(tmp_path / "served")
    with unchanged(tmp_path):
        result = run_in_process("export", model_file, served)
    assert_refused(result, "--overwrite", str(served))


def test_the_model_file_itself_is_not_overwritten(model_file, tmp_path):
    with unchanged(model_file):
        result = run_in_process("export", model_file, model_file,
                                "--overwrite")
    assert_refused(result, "replaces only a SavedModel", str(model_file))


@pytest.mark.parametrize(
    "contents, message",
    [(None, "model file not found"),
     ("not a zip", "not a .keras file"),
     ("", "not a .keras file")],
    ids=["missing", "text", "empty"],
)
def test_a_model_file_that_is_not_a_keras_file_is_refused(
    contents, message, tmp_path
):
    model_path = tmp_path / "model.keras"
    if contents is not None:
        model_path.write_text(contents)
    with unchanged(tmp_path):
        result = run_in_process("export", model_path, tmp_path / "served")
    assert_refused(result, message, str(model_path))


def test_export_saved_model_refuses_the_working_directory(
    tmp_path, monkeypatch
):
    model = tiny_perceiver()
    model.build((None, 8, 8, 3))
    write_files(tmp_path, "notes.txt")
    monkeypatch.chdir(tmp_path)
    with unchanged(tmp_path):
        assert_value_error(
            lambda: kp.export_saved_model(model, ".", overwrite=True),
            "working directory", "Received: path",
        )


@pytest.mark.skipif(
    keras.config.backend() != "tensorflow",
    reason="a graph with a dynamic batch size: what a SavedModel runs",
)
@pytest.mark.parametrize("patch_size", [1, 2])
def test_a_larger_grid_in_a_graph_is_not_read_as_more_examples(patch_size):
    import tensorflow as tf

    adapter = kp.adapters.ImageAdapter(num_bands=2, patch_size=patch_size)
    adapter.build((None, 8, 8, 3))

    @tf.function(input_signature=[tf.TensorSpec((None, None, None, 3))])
    def byte_array(images):
        # As a SavedModel's signature does: the graph is traced for 8 x 8
        # images, and nothing checks what it is called with.
        images.set_shape((None, 8, 8, 3))
        return adapter(images)[0]

    assert byte_array(tf.zeros((2, 8, 8, 3))).shape[0] == 2
    with pytest.raises(tf.errors.InvalidArgumentError):
        byte_array(tf.zeros((1, 16, 16, 3)))  # Four images' worth.
