"""The bad-input suite for data: CSV tables, .npz files and image files
that are wrong are refused when they are loaded, with the file and the
place (line and column, array and example, image file), and the source
folder is left as it was. `--skip-bad-files` leaves bad files out quietly,
with known step counts."""

import numpy as np
import pytest
from bad_input import assert_refused, assert_value_error, unchanged
from command_line import run_in_process
from data_source_files import bomb_png, class_folder

from keras_perceiver import pretrained, datasets

TINY_MODEL = ["--num-latents", "8", "--latent-dim", "16", "--num-blocks",
              "1", "--num-self-attends-per-block", "1", "--num-self-heads",
              "2", "--num-bands", "4"]
independent = pytest.mark.backend_independent
HEADER = "a,b,label\n"
GOOD_ROWS = "1,2,x\n3,4,y\n5,6,x\n7,8,y\n"


def write_csv(folder, text):
    folder.mkdir(exist_ok=True)
    path = folder / "table.csv"
    path.write_text(text)
    return path


def write_npz(folder, **arrays):
    folder.mkdir(exist_ok=True)
    path = folder / "data.npz"
    np.savez(path, **arrays)
    return path


@independent
@pytest.mark.parametrize(
    "text, fragments",
    [
        (HEADER + "1,2,x\n3,nan,y\n" + GOOD_ROWS,
         ["table.csv, line 3, column 'b'", "finite numbers", "'nan'"]),
        (HEADER + "1,2,x\n3,-inf,y\n" + GOOD_ROWS,
         ["line 3, column 'b'", "finite numbers", "'-inf'"]),
        (HEADER + "1,2,x\n3,four,y\n" + GOOD_ROWS,
         ["line 3, column 'b'", "'four'"]),
        (HEADER + GOOD_ROWS + "9,y\n",
         ["table.csv, line 6 has 2 cells", "header has 3 columns"]),
        (HEADER + "1,2,3,x\n" + GOOD_ROWS,
         ["line 2 has 4 cells", "one value per column"]),
        (HEADER + GOOD_ROWS + "9,9, \n",
         ["line 6", "the label is empty"]),
        (HEADER, ["table.csv must hold a header and rows", "0 rows"]),
        ("label\nx\ny\n", ["at least one feature column"]),
    ],
    ids=["nan", "infinity", "word", "short-row", "long-row", "empty-label",
         "no-rows", "no-features"],
)
def test_a_bad_csv_is_refused_with_its_line_and_column(tmp_path, text,
                                                       fragments):
    path = write_csv(tmp_path / "data", text)
    with unchanged(tmp_path / "data"):
        assert_value_error(lambda: datasets.load_source(path), *fragments)


@independent
def test_a_csv_that_is_not_utf8_text_is_refused(tmp_path):
    path = tmp_path / "table.csv"
    path.write_bytes(b"a,label\n\xff\xfe,\x80\n")
    assert_value_error(lambda: datasets.load_source(path),
                       "table.csv is not a readable UTF-8 CSV file")


@independent
def test_blank_lines_are_ignored_and_equal_numeric_labels_are_one_class(
        tmp_path):
    rows = "1,2,1\n3,4,1.0\n5,6,2\n7,8,2.00\n9,1,1\n\n\n"
    data = datasets.load_source(write_csv(tmp_path, HEADER + rows))
    assert data.class_names == ["1", "2"]
    assert data.num_train_examples + data.num_test_examples == 5


@independent
def test_a_bad_csv_is_one_line_on_the_command_line(tmp_path):
    path = write_csv(tmp_path / "data", HEADER + "1,2,x\n3,inf,y\n"
                     + GOOD_ROWS)
    with unchanged(tmp_path / "data"):
        result = run_in_process("train", "--data", path, "--output-dir",
                                tmp_path / "run", *TINY_MODEL)
    assert_refused(result, "table.csv, line 3, column 'b'", "'inf'")
    assert not (tmp_path / "run" / "model.keras").exists()


X = np.arange(40, dtype="float32").reshape(10, 4)
LABELS = np.arange(10) % 2


@independent
@pytest.mark.parametrize(
    "arrays, fragments",
    [
        (dict(x_train=X, y_train=LABELS[:9]),
         ["y_train must hold one label per example",
          "x_train of 10 examples and y_train of shape (9,)"]),
        (dict(x_train=X, y_train=np.arange(11) % 2),
         ["x_train of 10 examples and y_train of shape (11,)"]),
        (dict(x_train=X, y_train=np.eye(2)[LABELS]),
         ["one label per example", "shape (10, 2)"]),
        (dict(x_train=X, y_train=np.arange(10) % 3,
              class_names=np.array(["cat", "dog"])),
         ["y_train[2] is 2", "not a class of class_names", "indices 0 to 1"]),
        (dict(x_train=X, y_train=np.array(["cat", "dog", "cow"] * 3 + ["cat"]),
              class_names=np.array(["cat", "dog"])),
         ["y_train[2] is 'cow'", "['cat', 'dog']"]),
        (dict(x_train=X, y_train=LABELS, x_test=X[:2],
              y_test=np.array([0, 7]), class_names=np.array(["a", "b"])),
         ["y_test[1] is 7"]),
        (dict(x_train=np.where(X == 13, np.nan, X), y_train=LABELS),
         ["data.npz's x_train[3]", "nan", "finite numbers"]),
        (dict(x_train=X, y_train=LABELS, x_test=X[:2]),
         ["must hold both x_test and y_test"]),
        (dict(x_train=X.astype(str), y_train=LABELS),
         ["x_train must hold numbers", "dtype <U"]),
        (dict(x_train=X, y_train=LABELS, class_names=np.array([["a", "b"]])),
         ["class_names must be a list of names", "shape (1, 2)"]),
        (dict(x_train=X, y_train=LABELS, x_test=X[:2, :3],
              y_test=np.array([0, 1])),
         ["x_test's examples must have x_train's shape"]),
        (dict(x_train=X, y_train=LABELS, x_test=X[:2],
              y_test=np.array(["a", "b"])),
         ["y_train and y_test must both hold ints or both strings"]),
    ],
    ids=["y-shorter", "y-longer", "one-hot", "label-beyond-names",
         "name-not-in-names", "test-label-beyond-names", "nan", "no-y-test",
         "strings-as-features", "class-names-2d", "test-shape",
         "mixed-label-kinds"],
)
def test_a_bad_npz_is_refused_with_the_array_and_example(tmp_path, arrays,
                                                         fragments):
    path = write_npz(tmp_path / "data", **arrays)
    with unchanged(tmp_path / "data"):
        assert_value_error(lambda: datasets.load_source(path), *fragments)


@independent
def test_a_bad_npz_is_one_line_on_the_command_line(tmp_path):
    path = write_npz(tmp_path / "data", x_train=X, y_train=LABELS[:9])
    with unchanged(tmp_path / "data"):
        result = run_in_process("train", "--data", path, "--output-dir",
                                tmp_path / "run", *TINY_MODEL)
    assert_refused(result, "data.npz", "x_train of 10 examples",
                   "shape (9,)")


@independent
def test_a_decompression_bomb_in_a_folder_is_refused_or_skipped(tmp_path):
    folder = class_folder(tmp_path / "data", "image")
    bomb = bomb_png(folder / "dog" / "bomb.png")
    with unchanged(folder):
        assert_value_error(lambda: datasets.load_source(folder),
                           "dog/bomb.png is too large to read safely",
                           "900000000 pixels", "--skip-bad-files")
        data = datasets.load_source(folder, skip_bad_files=True)
    assert data.skipped_files == [str(bomb)]


@independent
def test_a_decompression_bomb_is_one_line_on_the_command_line(tmp_path):
    folder = class_folder(tmp_path / "data", "image")
    bomb_png(folder / "cat" / "bomb.png")
    with unchanged(folder):
        result = run_in_process("train", "--data", folder, "--output-dir",
                                tmp_path / "run", *TINY_MODEL)
    assert_refused(result, "cat/bomb.png is too large to read safely",
                   "--skip-bad-files")


@independent
def test_a_decompression_bomb_is_refused_by_the_checkpoint_preprocessor(
        tmp_path):
    bomb = bomb_png(tmp_path / "bomb.png")
    preprocessor = pretrained.ImagePreprocessor(size=8, crop_size=8)
    assert_value_error(lambda: preprocessor(str(bomb)),
                       "bomb.png is too large to read safely")


@independent
def test_an_image_over_the_pixel_limit_is_refused_not_warned(tmp_path,
                                                             monkeypatch):
    """Between Pillow's limit and twice it, Pillow only warns."""
    from PIL import Image

    path = tmp_path / "big.png"
    Image.new("L", (40, 40)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    preprocessor = pretrained.ImagePreprocessor(size=8, crop_size=8)
    assert_value_error(lambda: preprocessor(str(path)),
                       "big.png is too large to read safely")


@independent
def test_a_16_bit_png_keeps_its_grey_levels_under_a_checkpoint(tmp_path):
    from PIL import Image

    levels = np.linspace(0, 65535, 16).astype("uint16")
    path = tmp_path / "gradient.png"
    Image.fromarray(np.tile(levels, (16, 1))).save(path)
    preprocessor = pretrained.ImagePreprocessor(
        size=16, crop_size=16, do_normalize=False
    )
    row = preprocessor(str(path))[0, 0, :, 0]
    np.testing.assert_allclose(row, levels / 65535, atol=1 / 255)


@independent
@pytest.mark.slow
def test_skipped_files_leave_training_quiet_with_known_steps(tmp_path,
                                                             capfd):
    """A truncated JPEG (a header TensorFlow's decoder logs about) and a
    file that is no image: skipped before the pipeline is built."""
    folder = class_folder(tmp_path / "data", "image")
    (folder / "cat" / "bad.png").write_bytes(b"not an image")
    cut = folder / "dog" / "cut.jpg"
    Image = pytest.importorskip("PIL.Image")
    Image.new("RGB", (32, 32), "red").save(cut, quality=50)
    cut.write_bytes(cut.read_bytes()[:300])
    with unchanged(folder):
        result = run_in_process("train", "--data", folder, "--skip-bad-files",
                                "--epochs", "1", "--batch-size", "4",
                                "--output-dir", tmp_path / "run",
                                *TINY_MODEL)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Skipped 2 unreadable files" in result.stdout
    captured = capfd.readouterr()
    seen = result.stdout + result.stderr + captured.out + captured.err
    for noise in ("Unknown", "ran out of data", "JPEG data", "PNG data"):
        assert noise not in seen, noise
    assert "2/2" in result.stdout
