"""Bad Hugging Face checkpoint folders: refused at once, in one line.

Each case damages one file of a tiny `save_pretrained` checkpoint (or
writes one by hand) and checks that `load_checkpoint` raises a
`ValueError` naming the file or setting and what was expected, before it
builds anything, and that the folder is unchanged; a few go through
`keras-perceiver predict/train --checkpoint` (one line, exit 2). Reading
files does not depend on the backend.
"""

import functools
import json
import os
import pathlib
import resource
import struct
import time

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch  # noqa: E402
from bad_input import assert_refused  # noqa: E402
from bad_input import assert_value_error  # noqa: E402
from bad_input import unchanged  # noqa: E402
from checkpoint_support import save_tiny_checkpoint  # noqa: E402
from checkpoint_support import tiny_hf_model  # noqa: E402
from command_line import run_in_process  # noqa: E402
from packaging.requirements import Requirement  # noqa: E402
from PIL import Image  # noqa: E402

from keras_perceiver import pretrained  # noqa: E402
from keras_perceiver.pretrained import files  # noqa: E402

pytestmark = pytest.mark.backend_independent

LEARNED = "PerceiverForImageClassificationLearned"
INDEX = "model.safetensors.index.json"


@pytest.fixture
def folder(tmp_path):
    """A tiny learned-position image checkpoint (8 x 8 images, 5 classes)."""
    folder = tmp_path / "checkpoint"
    save_tiny_checkpoint(LEARNED, folder)
    return folder


def edit_config(folder, **changes):
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    (folder / "config.json").write_text(json.dumps(config))


def write_safetensors(path, header, data=b""):
    """A safetensors file: the header's length, the header, the data."""
    encoded = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + data)


def refused(folder, *fragments):
    """`load_checkpoint(folder)` raises a ValueError holding `fragments`
    and leaves the folder as it was."""
    with unchanged(folder):
        return assert_value_error(
            lambda: pretrained.load_checkpoint(str(folder)), *fragments
        )


def max_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# config.json


@pytest.mark.parametrize(
    "text, fragments",
    [
        ("[1, 2, 3]", ["config.json must hold a JSON object", "list"]),
        ('"perceiver"', ["config.json must hold a JSON object", "str"]),
        ("{not json", ["config.json could not be read as JSON"]),
        ("[" * 100_000 + "]" * 100_000, ["config.json could not be read"]),
        ("\xff\xfe", ["config.json could not be read as JSON"]),
    ],
    ids=["list", "string", "not-json", "deeply-nested", "not-utf8"],
)
def test_config_that_is_no_json_object(folder, text, fragments):
    (folder / "config.json").write_bytes(text.encode("latin-1"))
    refused(folder, *fragments)


def test_config_larger_than_the_limit(folder, monkeypatch):
    monkeypatch.setattr(files, "MAX_JSON_BYTES", 100)
    refused(folder, "config.json could not be read", "larger than")


@pytest.mark.parametrize(
    "changes, fragments",
    [
        ({"id2label": ["a", "b", "c", "d", "e"]}, ["id2label", "map class"]),
        ({"id2label": {"zero": "a"}}, ["id2label", "map class"]),
        ({"id2label": {"0": ["a"]}}, ["id2label", "map class"]),
        ({"architectures": {"0": LEARNED}}, ["architectures"]),
        ({"architectures": [[LEARNED]]}, ["architectures"]),
        ({"d_latents": "16"}, ["d_latents", "positive integer", "'16'"]),
        ({"num_latents": True}, ["num_latents", "positive integer"]),
        ({"num_latents": 4.0}, ["num_latents", "positive integer"]),
        ({"qk_channels": -1}, ["qk_channels", "positive integer or null"]),
        ({"num_labels": "5"}, ["num_labels", "positive integer"]),
        ({"use_query_residual": "yes"}, ["use_query_residual"]),
    ],
    ids=["id2label-list", "id2label-key", "id2label-value",
         "architectures-dict", "architectures-nested", "string-size",
         "bool-size", "float-size", "negative-size", "string-labels",
         "string-flag"],
)
def test_config_values_of_the_wrong_type(folder, changes, fragments):
    edit_config(folder, **changes)
    refused(folder, "config.json", *fragments)


def test_huge_sizes_are_refused_before_anything_is_allocated(folder):
    # 1e6 x 1e5 latents are 400 GB of float32 (1.6 TB with Adam's state).
    edit_config(folder, num_latents=10**6, d_latents=10**5)
    before = max_rss_bytes()
    refused(folder, "`num_latents`", "num_latents=1000000", "(4, 16)")
    assert max_rss_bytes() - before < 2**30


def test_a_million_self_attends_are_refused_at_once(folder):
    edit_config(folder, num_self_attends_per_block=10**6)
    start = time.monotonic()
    refused(folder, "num_self_attends_per_block=1000000", "holding 2")
    assert time.monotonic() - start < 10


@pytest.mark.parametrize(
    "changes, fragments",
    [
        ({"d_model": 100}, ["`d_model`", "d_model=100", "(512,)"]),
        ({"self_attention_widening_factor": 4},
         ["self_attention_widening_factor=4", "(16, 16)"]),
        ({"qk_channels": 8}, ["`qk_channels`", "qk_channels=8"]),
        ({"image_size": 16}, ["`image_size`", "(64, 256)"]),
        ({"id2label": {str(index): "x" for index in range(7)}},
         ["`id2label`", "7 classes", "(5, "]),
    ],
    ids=["d_model", "widening", "qk_channels", "image_size", "classes"],
)
def test_sizes_that_the_weights_do_not_have(folder, changes, fragments):
    edit_config(folder, **changes)
    refused(folder, "config.json", "does not match the weights", *fragments)


def test_folder_that_cannot_be_listed(tmp_path, monkeypatch):
    def refuse(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "listdir", refuse)
    refused(tmp_path, "lacks config.json", "cannot be listed",
            "Permission denied")


# model.safetensors and its index


def shard_folder(folder, shard):
    """The checkpoint with an index naming `shard` for every tensor."""
    shapes = files.read_shapes(str(folder))
    (folder / INDEX).write_text(
        json.dumps({"weight_map": {name: shard for name in shapes}})
    )
    return folder


@pytest.mark.parametrize(
    "shard",
    ["../outside.safetensors", "/etc/passwd", "shards/../../x.safetensors",
     "..\\outside.safetensors", "C:model.safetensors"],
    ids=["parent", "absolute", "nested-parent", "backslash", "drive"],
)
def test_index_shards_stay_inside_the_folder(folder, shard):
    # The outside file exists and is a valid safetensors file.
    outside = folder.parent / "outside.safetensors"
    outside.write_bytes((folder / "model.safetensors").read_bytes())
    shard_folder(folder, shard)
    refused(folder, INDEX, "inside the checkpoint folder", repr(shard))


@pytest.mark.parametrize(
    "index, fragment",
    [
        ({"weight_map": ["model.safetensors"]}, "weight_map"),
        ({"weight_map": {"a": 1}}, "weight_map"),
        ({"metadata": {}}, "weight_map"),
        ({"weight_map": {"a": "missing.safetensors"}}, "not in the folder"),
    ],
    ids=["list", "not-names", "absent", "missing-shard"],
)
def test_bad_index(folder, index, fragment):
    (folder / INDEX).write_text(json.dumps(index))
    refused(folder, INDEX, fragment)


def test_truncated_safetensors(folder):
    path = folder / "model.safetensors"
    path.write_bytes(path.read_bytes()[:-100])
    refused(folder, "model.safetensors", "data_offsets")


@pytest.mark.parametrize(
    "raw, fragments",
    [
        (struct.pack("<Q", 2**62) + b"{}", ["header claims"]),
        (struct.pack("<Q", 10**6) + b"{}" * 10, ["header claims"]),
        (b"\x01\x02", ["header claims"]),
        (struct.pack("<Q", 2) + b"[]", ["header must be a JSON object"]),
        (struct.pack("<Q", 2) + b"{x", ["not a valid safetensors file"]),
    ],
    ids=["huge-length", "length-past-the-end", "shorter-than-a-length",
         "list-header", "not-json"],
)
def test_bad_safetensors_headers(folder, raw, fragments):
    (folder / "model.safetensors").write_bytes(raw)
    refused(folder, "model.safetensors", *fragments)


@pytest.mark.parametrize(
    "entry, data, fragment",
    [
        # 1e6 x 1e5 floats claimed, 16 bytes present.
        ({"dtype": "F32", "shape": [10**6, 10**5], "data_offsets": [0, 16]},
         16, "must hold 400000000000 bytes"),
        ({"dtype": "F32", "shape": [4], "data_offsets": [0, 4 * 10**12]},
         16, "within the file"),
        ({"dtype": "F32", "shape": [4], "data_offsets": [16, 0]}, 16,
         "within the file"),
        ({"dtype": "OBJECT", "shape": [4], "data_offsets": [0, 16]}, 16,
         "dtype"),
        ({"dtype": ["F32"], "shape": [4], "data_offsets": [0, 16]}, 16,
         "dtype"),
        ({"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}, 16,
         "shape"),
        ({"dtype": "F32", "shape": "4", "data_offsets": [0, 16]}, 16,
         "shape"),
        (["F32", [4]], 16, "must be a JSON object"),
    ],
    ids=["huge-shape", "huge-offsets", "reversed-offsets", "unknown-dtype",
         "list-dtype", "negative-shape", "string-shape", "list-entry"],
)
def test_bad_safetensors_entries(folder, entry, data, fragment):
    write_safetensors(folder / "model.safetensors",
                      {"perceiver.embeddings.latents": entry}, b"\0" * data)
    before = max_rss_bytes()
    refused(folder, "model.safetensors", "perceiver.embeddings.latents",
            fragment)
    assert max_rss_bytes() - before < 2**30


# pytorch_model.bin


def bin_folder(folder, state):
    """The checkpoint with `state` saved as pytorch_model.bin instead."""
    os.remove(folder / "model.safetensors")
    torch.save(state, str(folder / "pytorch_model.bin"))
    return folder


@pytest.mark.parametrize(
    "state, fragment",
    [
        ([torch.zeros(2)], "a list"),
        ({"perceiver.embeddings.latents": 3}, "a dict of int"),
        ({"perceiver.embeddings.latents": [1.0, 2.0]}, "a dict of list"),
        ({1: torch.zeros(2)}, "a dict of Tensor"),
    ],
    ids=["list", "ints", "lists", "int-keys"],
)
def test_bin_that_is_no_state_dict(folder, state, fragment):
    bin_folder(folder, state)
    refused(folder, "pytorch_model.bin", "state dict", fragment)


class Payload:
    """An object torch.load(weights_only=True) refuses to rebuild."""

    def __reduce__(self):
        return (functools.partial, (print, "the payload ran"))


def test_bin_with_python_objects_names_safetensors(folder, capsys):
    bin_folder(folder, {"perceiver.embeddings.latents": Payload()})
    message = refused(folder, "pytorch_model.bin", "never loaded",
                      "convert it to model.safetensors",
                      "safetensors.torch.save_file")
    assert "weights_only=False" not in message
    assert "the payload ran" not in capsys.readouterr().out


def test_damaged_bin(folder):
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(b"PK\x03\x04 not a zip")
    refused(folder, "pytorch_model.bin", "convert it to model.safetensors")


@pytest.mark.parametrize("version", ["2.5.1", "2.9.1+cu121", "1.13.0",
                                     "unknown"])
def test_bin_needs_a_torch_with_a_fixed_loader(folder, version, monkeypatch):
    bin_folder(folder, tiny_hf_model(LEARNED).state_dict())
    monkeypatch.setattr(torch, "__version__", version)
    refused(folder, "torch >= 2.10", f"torch {version}", "CVE-2025-32434",
            "convert it to model.safetensors")


def test_safetensors_is_read_when_a_bin_is_there_too(folder):
    (folder / "pytorch_model.bin").write_bytes(b"never read")
    model = pretrained.load_checkpoint(str(folder))
    assert model.encoder.num_latents == 4


# preprocessor_config.json


def test_preprocessor_config_that_is_a_list(folder):
    (folder / "preprocessor_config.json").write_text("[224]")
    with unchanged(folder):
        assert_value_error(
            lambda: pretrained.load_image_preprocessor(str(folder)),
            "preprocessor_config.json must hold a JSON object", "list",
        )


# The command line: one line, exit 2, the folder unchanged.


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "image.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(path)
    return path


def corrupt_config_list(folder):
    (folder / "config.json").write_text("[]")


def corrupt_sizes(folder):
    edit_config(folder, num_latents=10**6, d_latents=10**5)


def corrupt_index(folder):
    shard_folder(folder, "../outside.safetensors")


def corrupt_bin(folder):
    bin_folder(folder, [1, 2])


def corrupt_header(folder):
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", 2**62))


@pytest.mark.parametrize(
    "corrupt, fragment",
    [
        (corrupt_config_list, "config.json must hold a JSON object"),
        (corrupt_sizes, "config.json `num_latents` does not match"),
        (corrupt_index, "inside the checkpoint folder"),
        (corrupt_bin, "pytorch_model.bin must hold a dict"),
        (corrupt_header, "header claims"),
    ],
    ids=["config-list", "sizes", "index", "bin-list", "header"],
)
def test_predict_refuses_in_one_line(folder, image, corrupt, fragment):
    corrupt(folder)
    with unchanged(folder):
        result = run_in_process("predict", "--checkpoint", folder, image)
    assert_refused(result, fragment)


@pytest.mark.slow
def test_train_refuses_in_one_line(folder, tmp_path):
    corrupt_sizes(folder)
    with unchanged(folder):
        result = run_in_process(
            "train", "--dataset", "digits", "--checkpoint", folder,
            "--epochs", "1", "--output-dir", tmp_path / "run",
        )
    assert_refused(result, "config.json `num_latents` does not match")



# The dependency floors: what the loaders rely on (torch's weights_only
# loader, Keras' safe_mode) has no published bypass in the versions allowed.


@pytest.mark.parametrize(
    "python, package, vulnerable, fixed",
    [
        ("3.10", "keras", ["3.10.0", "3.11.3", "3.12.3"], "3.12.4"),
        ("3.12", "keras", ["3.11.3", "3.13.1", "3.14.0", "3.15.0"], "3.15.1"),
        ("3.12", "torch", ["2.2.0", "2.5.1", "2.9.1"], "2.10.0"),
    ],
)
def test_dependency_floors_exclude_vulnerable_loaders(
    python, package, vulnerable, fixed
):
    tomllib = pytest.importorskip("tomllib")
    pyproject = pathlib.Path(__file__).parents[2] / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text())["project"]
    lines = project["dependencies"] + [
        line for extra in project["optional-dependencies"].values()
        for line in extra
    ]
    requirements = [Requirement(line) for line in lines]
    specifiers = [
        requirement.specifier for requirement in requirements
        if requirement.name == package and (
            requirement.marker is None
            or requirement.marker.evaluate({"python_version": python})
        )
    ]
    assert specifiers, package
    for version in vulnerable:
        assert any(version not in specifier for specifier in specifiers), (
            package, version
        )
    assert all(fixed in specifier for specifier in specifiers)


@pytest.mark.parametrize("size", [100000, {"height": 224, "width": 10**6},
                                  [5000, 5000]])
def test_preprocessor_config_sizes_beyond_the_bound(tmp_path, size):
    folder = tmp_path / "fourier"
    save_tiny_checkpoint("PerceiverForImageClassificationFourier", folder)
    (folder / "preprocessor_config.json").write_text(
        json.dumps({"size": size}))
    started = time.monotonic()
    refused(folder, "preprocessor_config.json asks for images of",
            "at most 1024 per side", "image_size")
    with unchanged(folder):
        assert_value_error(
            lambda: pretrained.load_image_preprocessor(str(folder)),
            "at most 1024 per side")
    assert time.monotonic() - started < 10


def test_a_billion_weight_shared_blocks_are_refused_at_once(folder):
    edit_config(folder, num_blocks=10**9)
    started = time.monotonic()
    refused(folder, "num_blocks", "at most 64", "Received: num_blocks="
            "1000000000")
    assert time.monotonic() - started < 10
