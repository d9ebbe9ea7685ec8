"""Property-based tests of the data readers (CSV tables, .npz files,
folders of images): random corruptions are read or refused with a
`ValueError` (or, in a folder under `skip_bad_files`, skipped), never
another error, never in more than 10 s, never with a memory jump over
1 GiB. Seeded (`derandomize`) and small, so the file runs in seconds."""

import contextlib
import io
import pathlib
import resource
import tempfile

import numpy as np
import pytest
from data_source_files import bomb_png, class_folder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keras_perceiver import datasets

pytestmark = pytest.mark.backend_independent
MAX_MEMORY_JUMP = 1 << 30  # bytes
PROPERTIES = settings(
    max_examples=25, deadline=10_000, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
GOOD_CSV = "a,b,label\n" + "".join(
    f"{i},{i * 2 % 7},{'xy'[i % 2]}\n" for i in range(8)
)


@contextlib.contextmanager
def readable_or_refused(refusals=(ValueError,)):
    """The block reads its data or raises one of `refusals`, nothing else,
    and the process's peak memory grows by less than `MAX_MEMORY_JUMP`."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with contextlib.suppress(*refusals):
        yield
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert (peak - before) * 1024 < MAX_MEMORY_JUMP  # ru_maxrss is in KiB


def load_file(name, content, **options):
    """Writes `content` to a file `name` in a new folder and loads it."""
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / name
        path.write_bytes(content)
        return datasets.load_source(path, **options)


def corrupted(data, draw):
    """`data` (bytes) cut short, with bytes overwritten, or replaced."""
    kind = draw(st.sampled_from(["truncate", "overwrite", "replace"]))
    if kind == "truncate":
        return data[:draw(st.integers(0, len(data)))]
    if kind == "replace":
        return draw(st.binary(max_size=2 * len(data)))
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@st.composite
def damaged_csv(draw):
    """The good CSV with a random cell, row length or bytes changed."""
    rows = [line.split(",") for line in GOOD_CSV.splitlines()]
    kind = draw(st.sampled_from(["cell", "ragged", "bytes"]))
    if kind == "bytes":
        return corrupted(GOOD_CSV.encode(), draw)
    row = draw(st.integers(0, len(rows) - 1))
    if kind == "cell":
        column = draw(st.integers(0, len(rows[row]) - 1))
        rows[row][column] = draw(st.text(max_size=8))
    else:
        rows[row] = rows[row][:draw(st.integers(0, 5))] + draw(
            st.lists(st.text("0123456789.e-", max_size=4), max_size=2))
    return "\n".join(",".join(row) for row in rows).encode()


@PROPERTIES
@given(damaged_csv())
def test_a_damaged_csv_is_read_or_refused(content):
    with readable_or_refused():
        load_file("table.csv", content)


def arrays(draw, max_dims=4):
    """A small array of a random dtype and shape."""
    dtype = draw(st.sampled_from(
        ["float32", "float64", "uint8", "int64", "bool", "complex64", "<U3",
         "object"]))
    shape = tuple(draw(st.lists(st.integers(0, 5), max_size=max_dims)))
    values = draw(st.sampled_from([0.5, np.nan, np.inf, 3, -1]))
    with np.errstate(invalid="ignore"):  # NaN and infinity as ints
        array = np.full(shape, values).astype(dtype)
    return array if array.ndim else array.reshape(())


@st.composite
def npz_contents(draw):
    """An `.npz` archive of random arrays under the source's names, or a
    good archive's bytes corrupted."""
    if draw(st.booleans()):
        good = io.BytesIO()
        np.savez(good, x_train=np.ones((6, 4), "float32"),
                 y_train=np.arange(6) % 2)
        return corrupted(good.getvalue(), draw)
    names = draw(st.lists(st.sampled_from(
        ["x_train", "y_train", "x_test", "y_test", "class_names"]),
        unique=True))
    content = io.BytesIO()
    np.savez(content, **{name: arrays(draw) for name in names})
    return content.getvalue()


@PROPERTIES
@given(npz_contents(), st.sampled_from([None, "image", "sequence"]))
def test_a_damaged_npz_is_read_or_refused(content, modality):
    with readable_or_refused():
        load_file("data.npz", content, modality=modality)


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    return class_folder(tmp_path_factory.mktemp("images"), "image")


@settings(PROPERTIES, max_examples=12)
@given(st.data(), st.booleans())
def test_a_damaged_image_is_refused_or_skipped(image_folder, data, skip):
    """A PNG damaged, or one whose header claims up to 50000 x 50000
    pixels: whatever `load_source` accepts, the pipeline then reads whole;
    under `skip_bad_files` nothing is refused."""
    target = image_folder / "dog" / "1.png"
    good = target.read_bytes()
    if data.draw(st.booleans()):
        bomb_png(target, side=data.draw(st.integers(1, 50000)))
    else:
        target.write_bytes(corrupted(good, data.draw))
    try:
        with readable_or_refused(() if skip else (ValueError,)):
            datasets.load_source(image_folder,
                                 skip_bad_files=skip).in_memory()
    finally:
        target.write_bytes(good)
