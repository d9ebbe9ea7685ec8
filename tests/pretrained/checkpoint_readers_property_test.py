"""Property-based tests of the checkpoint readers (config.json, safetensors).

Random corruptions of a tiny valid checkpoint (truncations, byte flips,
random JSON in each setting the loader reads, random safetensors headers)
must give a loaded model or a one-line `ValueError`: no other exception,
no example over 10 s, no memory growth over 1 GiB (the largest resident
size before and after). Examples are derandomized, so CI runs the same
ones every time. Reading files does not depend on the backend.
"""

import contextlib
import json
import resource
import shutil
import struct
import tempfile

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from checkpoint_support import save_tiny_checkpoint  # noqa: E402
from hypothesis import HealthCheck  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from keras_perceiver import pretrained  # noqa: E402
from keras_perceiver.pretrained import files  # noqa: E402

pytestmark = pytest.mark.backend_independent

SETTINGS = settings(
    max_examples=25,
    deadline=10_000,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# The config.json settings the loader reads.
CONFIG_KEYS = [
    "architectures", "model_type", "id2label", "num_labels", "num_latents",
    "d_latents", "d_model", "num_blocks", "num_self_attends_per_block",
    "num_self_attention_heads", "num_cross_attention_heads", "qk_channels",
    "v_channels", "cross_attention_shape_for_attention",
    "self_attention_widening_factor", "cross_attention_widening_factor",
    "hidden_act", "use_query_residual", "vocab_size",
    "max_position_embeddings", "image_size",
]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.text(max_size=8)
    | st.integers(min_value=-(2**70), max_value=2**70),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=4), children, max_size=4),
    max_leaves=10,
)


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    """A tiny checkpoint folder: config.json and model.safetensors."""
    folder = tmp_path_factory.mktemp("valid")
    save_tiny_checkpoint("PerceiverForImageClassificationLearned", folder)
    return folder


@contextlib.contextmanager
def bounded_memory():
    """Asserts that the largest resident size grows by less than 1 GiB."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    yield
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert growth * 1024 < 2**30, f"{growth / 2**20:.1f} GiB more"


@contextlib.contextmanager
def checkpoint_copy(valid, name, content):
    """A copy of the valid checkpoint with the file `name` replaced."""
    with tempfile.TemporaryDirectory() as folder:
        for path in valid.iterdir():
            shutil.copy(path, folder)
        with open(f"{folder}/{name}", "wb") as file:
            file.write(content)
        yield folder


def loaded_or_refused(call):
    """`call()`'s result, or None when it raised a one-line ValueError."""
    try:
        return call()
    except ValueError as error:
        assert "\n" not in str(error), str(error)
        return None


def mutate(data, cut, flips):
    """`data` cut to `cut` bytes (if given), bytes at `flips` xor-ed."""
    data = bytearray(data[:cut] if cut is not None else data)
    for position, mask in flips:
        if data:
            data[position % len(data)] ^= mask
    return bytes(data)


FLIPS = st.lists(
    st.tuples(st.integers(min_value=0), st.integers(1, 255)), max_size=4
)


def test_random_json_in_each_config_setting(valid):
    config = json.loads((valid / "config.json").read_text())

    @SETTINGS
    @given(key=st.sampled_from(CONFIG_KEYS), value=JSON_VALUES)
    def check(key, value):
        text = json.dumps({**config, key: value}).encode()
        with checkpoint_copy(valid, "config.json", text) as folder:
            loaded_or_refused(lambda: pretrained.load_checkpoint(folder))

    with bounded_memory():
        check()


def test_random_config_files(valid):
    text = (valid / "config.json").read_bytes()

    @SETTINGS
    @given(
        content=st.one_of(
            st.builds(mutate, st.just(text),
                      st.none() | st.integers(0, len(text)), FLIPS),
            JSON_VALUES.map(lambda value: json.dumps(value).encode()),
            st.binary(max_size=64),
        )
    )
    def check(content):
        with checkpoint_copy(valid, "config.json", content) as folder:
            loaded_or_refused(lambda: pretrained.load_checkpoint(folder))

    with bounded_memory():
        check()


def read_both(folder):
    """What the loader reads of the weights: shapes, then tensors."""
    files.read_shapes(folder)
    return files.read_weights(folder)


def test_truncated_and_flipped_safetensors(valid):
    data = (valid / "model.safetensors").read_bytes()
    length = 8 + int.from_bytes(data[:8], "little")

    @SETTINGS
    @given(
        cut=st.none() | st.integers(0, len(data)),
        # Flips in the length and the header (the data's bytes are any
        # float32s).
        flips=st.lists(
            st.tuples(st.integers(0, length - 1), st.integers(1, 255)),
            max_size=4,
        ),
    )
    def check(cut, flips):
        content = mutate(data, cut, flips)
        with checkpoint_copy(valid, "model.safetensors", content) as folder:
            loaded_or_refused(lambda: read_both(folder))

    with bounded_memory():
        check()


SIZES = st.integers(min_value=-2, max_value=2**64)
HEADER_ENTRIES = st.fixed_dictionaries(
    {},
    optional={
        "dtype": st.sampled_from(["F32", "F16", "I64", "BOOL", "X"])
        | JSON_VALUES,
        "shape": st.lists(SIZES, max_size=3) | JSON_VALUES,
        "data_offsets": st.lists(SIZES, min_size=2, max_size=2)
        | JSON_VALUES,
    },
)


@pytest.mark.parametrize("length", ["true", "random"])
def test_random_safetensors_headers(valid, length):
    @SETTINGS
    @given(
        header=st.dictionaries(st.text(max_size=8), HEADER_ENTRIES,
                               max_size=3) | JSON_VALUES,
        claimed=st.integers(0, 2**64 - 1),
        data=st.binary(max_size=64),
    )
    def check(header, claimed, data):
        encoded = json.dumps(header).encode()
        size = len(encoded) if length == "true" else claimed
        content = struct.pack("<Q", size) + encoded + data
        with checkpoint_copy(valid, "model.safetensors", content) as folder:
            loaded_or_refused(lambda: read_both(folder))

    with bounded_memory():
        check()
