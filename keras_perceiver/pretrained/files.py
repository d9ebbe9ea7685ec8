"""Reading checkpoints in the Hugging Face layout, without transformers.

A checkpoint folder holds `config.json` and the weights as
`model.safetensors` (or shards listed in `model.safetensors.index.json`),
or as PyTorch's `pytorch_model.bin`; `preprocessor_config.json` is
optional. A Hub id such as `deepmind/vision-perceiver-fourier` is fetched
with `huggingface_hub` (the `checkpoints` extra) into its local cache.
"""

import json
import math
import os
import re

import numpy as np

CONFIG_FILE = "config.json"
PREPROCESSOR_FILE = "preprocessor_config.json"
SAFETENSORS_FILE = "model.safetensors"
SAFETENSORS_INDEX_FILE = "model.safetensors.index.json"
PYTORCH_FILE = "pytorch_model.bin"
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
# JSON files larger than this are refused (a real config.json, with 21,843
# class names, is under 2 MiB).
MAX_JSON_BYTES = 16 * 2**20
# safetensors' own limit on the JSON header.
MAX_HEADER_BYTES = 100 * 2**20
SAFETENSORS_DTYPE_SIZES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8,
}
# The first torch whose torch.load(weights_only=True) has no published way
# to run code from a file: CVE-2025-32434 was fixed in 2.6,
# CVE-2026-24747 (GHSA-63cw-57p8-fm3p) in 2.10.
MIN_TORCH_VERSION = (2, 10)
CONVERT_ADVICE = (
    "convert it to model.safetensors where torch >= 2.10 is installed: "
    "safetensors.torch.save_file(torch.load('pytorch_model.bin', "
    "weights_only=True), 'model.safetensors')"
)


def resolve_checkpoint(checkpoint):
    """The local folder of a checkpoint: the folder itself or a Hub download.

    Args:
        checkpoint: str or path-like. A local folder in the Hugging Face
            layout, or a Hub id such as `"deepmind/vision-perceiver-conv"`.

    Returns:
        The path of a local folder holding `config.json` and the weights.
    """
    path = os.fspath(checkpoint)
    if os.path.isdir(path):
        check_folder(path)
        return path
    if not isinstance(path, str) or not HUB_ID.match(path) or (
        os.path.exists(path)
    ):
        raise ValueError(
            "`checkpoint` must be a folder holding config.json and "
            "model.safetensors (or pytorch_model.bin), or a Hugging Face Hub "
            f"id such as 'deepmind/vision-perceiver-fourier'. "
            f"Received: checkpoint={path!r}"
        )
    return check_folder(download(path))


def download(repo_id):
    """Fetches a checkpoint's files from the Hub (or its local cache)."""
    try:
        import huggingface_hub
    except ImportError:
        raise ValueError(
            f"The model {repo_id!r} could not be fetched: downloading from "
            "the Hugging Face Hub needs huggingface_hub (pip install "
            "'keras-perceiver[checkpoints]'); or pass a local folder. "
            f"Received: checkpoint={repo_id!r}"
        ) from None
    patterns = [CONFIG_FILE, PREPROCESSOR_FILE, SAFETENSORS_INDEX_FILE]
    try:
        folder = huggingface_hub.snapshot_download(
            repo_id, allow_patterns=patterns + ["*.safetensors"]
        )
        if not has_weights(folder):
            folder = huggingface_hub.snapshot_download(
                repo_id, allow_patterns=patterns + [PYTORCH_FILE]
            )
    except Exception as error:  # Offline, unknown id, no access, ...
        raise ValueError(
            f"The model {repo_id!r} could not be fetched from the Hugging "
            f"Face Hub ({_first_line(error)}); pass a local folder with "
            "config.json and model.safetensors instead. "
            f"Received: checkpoint={repo_id!r}"
        ) from None
    return folder


def has_weights(folder):
    """Whether a folder holds a checkpoint's weights (any of their files)."""
    return any(
        os.path.isfile(os.path.join(folder, name))
        for name in (SAFETENSORS_FILE, SAFETENSORS_INDEX_FILE, PYTORCH_FILE)
    )


def check_folder(folder):
    """Raises unless a folder holds a config and weights; returns it."""
    missing = []
    if not os.path.isfile(os.path.join(folder, CONFIG_FILE)):
        missing.append(CONFIG_FILE)
    if not has_weights(folder):
        missing.append(f"{SAFETENSORS_FILE} or {PYTORCH_FILE}")
    if missing:
        try:
            holding = f"holding {sorted(os.listdir(folder))}"
        except OSError as error:
            holding = f"which cannot be listed ({_first_line(error)})"
        raise ValueError(
            f"The checkpoint folder lacks {' and '.join(missing)}. "
            f"Received: checkpoint={folder!r} {holding}"
        )
    return folder


def read_json(folder, name):
    """A JSON file of the folder as a dict, or None if it is absent.

    Raises a `ValueError` naming the file unless it holds a JSON object of at
    most `MAX_JSON_BYTES`.
    """
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        return None
    try:
        if os.path.getsize(path) > MAX_JSON_BYTES:
            raise ValueError(
                f"it is larger than {MAX_JSON_BYTES // 2**20} MiB"
            )
        with open(path, encoding="utf-8") as file:
            value = json.load(file)
    except (OSError, ValueError, RecursionError) as error:
        raise ValueError(
            f"{name} could not be read as JSON ({_first_line(error)}). "
            f"Received: {path!r}"
        ) from None
    if not isinstance(value, dict):
        raise ValueError(
            f"{name} must hold a JSON object ({{...}}). "
            f"Received: {type(value).__name__} in {path!r}"
        )
    return value


def read_config(folder):
    """The checkpoint's `config.json` as a dict."""
    return read_json(check_folder(folder), CONFIG_FILE)


def read_shapes(folder):
    """The shape of each of the checkpoint's tensors, without their data.

    Safetensors files are checked against their own headers (every
    tensor's data inside the file) and only the headers are read;
    `pytorch_model.bin` is read whole (see `read_weights`).

    Args:
        folder: str. A checkpoint folder.

    Returns:
        A dict of tensor name -> shape (a tuple of ints).
    """
    paths = _safetensors_paths(folder)
    if paths is None:
        state = _read_pytorch(os.path.join(folder, PYTORCH_FILE))
        return {name: tuple(tensor.shape) for name, tensor in state.items()}
    shapes = {}
    for path in paths:
        header = read_safetensors_header(path)
        shapes.update(
            {name: tuple(entry["shape"]) for name, entry in header.items()}
        )
    return shapes


def read_weights(folder):
    """The checkpoint's tensors as a dict of name -> NumPy array.

    Reads `model.safetensors` (or its shards) with safetensors' NumPy API,
    after checking each header; otherwise `pytorch_model.bin` with
    `torch.load(weights_only=True)`, which needs PyTorch
    `MIN_TORCH_VERSION` or newer.
    """
    paths = _safetensors_paths(folder)
    if paths is None:
        state = _read_pytorch(os.path.join(folder, PYTORCH_FILE))
        return {
            name: tensor.detach().cpu().float().numpy()
            if tensor.is_floating_point()
            else tensor.detach().cpu().numpy()
            for name, tensor in state.items()
        }
    return _read_safetensors(paths)


def _safetensors_paths(folder):
    """The safetensors files of a checkpoint (shards inside the folder
    only), or None when it has only `pytorch_model.bin`."""
    check_folder(folder)
    index = read_json(folder, SAFETENSORS_INDEX_FILE)
    if index is not None:
        return [
            _shard_path(folder, shard) for shard in _shard_names(folder, index)
        ]
    path = os.path.join(folder, SAFETENSORS_FILE)
    return [path] if os.path.isfile(path) else None


def _shard_names(folder, index):
    weight_map = index.get("weight_map")
    if not isinstance(weight_map, dict) or not weight_map or not all(
        isinstance(shard, str) for shard in weight_map.values()
    ):
        raise ValueError(
            f"{SAFETENSORS_INDEX_FILE} must map tensor names to shard file "
            "names under `weight_map`. Received: weight_map of type "
            f"{type(weight_map).__name__} in "
            f"{os.path.join(folder, SAFETENSORS_INDEX_FILE)!r}"
        )
    return sorted(set(weight_map.values()))


def _shard_path(folder, shard):
    """A shard's path; raises unless the name stays inside the folder."""
    parts = re.split(r"[\\/]", shard)
    if os.path.isabs(shard) or shard.startswith(("/", "\\")) or (
        ".." in parts or ":" in shard or not shard
    ):
        raise ValueError(
            f"{SAFETENSORS_INDEX_FILE} may only name shard files inside the "
            f"checkpoint folder. Received: shard {shard!r} in "
            f"{os.path.join(folder, SAFETENSORS_INDEX_FILE)!r}"
        )
    path = os.path.join(folder, shard)
    if not os.path.isfile(path):
        raise ValueError(
            f"{SAFETENSORS_INDEX_FILE} names a shard that is not in the "
            f"folder. Received: shard {shard!r} in {folder!r}"
        )
    return path


def read_safetensors_header(path):
    """The header of a safetensors file, checked against the file's size.

    The file is an 8-byte little-endian header length, a JSON header
    mapping each tensor's name to its `dtype`, `shape` and `data_offsets`
    (`[begin, end)` in the data after the header), and the data. Only the
    header is read; every tensor's data must lie inside the file and match
    its shape and dtype.

    Args:
        path: str. A `.safetensors` file.

    Returns:
        A dict of tensor name -> `{"dtype", "shape", "data_offsets"}`
        (`__metadata__` left out).
    """
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as file:
            length = int.from_bytes(file.read(8), "little")
            if size < 8 or length > min(size - 8, MAX_HEADER_BYTES):
                raise ValueError(
                    f"its header claims {length} bytes, the file holds "
                    f"{max(size - 8, 0)} after the length"
                )
            header = json.loads(file.read(length).decode("utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        raise ValueError(
            "The weights are not a valid safetensors file "
            f"({_first_line(error)}). Received: {path!r}"
        ) from None
    return _checked_header(header, size - 8 - length, path)


def _checked_header(header, data_size, path):
    if not isinstance(header, dict):
        raise ValueError(
            "The safetensors header must be a JSON object. "
            f"Received: {type(header).__name__} in {path!r}"
        )
    header = {
        name: entry for name, entry in header.items()
        if name != "__metadata__"
    }
    for name, entry in header.items():
        problem = _header_entry_problem(entry, data_size)
        if problem:
            raise ValueError(
                f"The safetensors header's entry for tensor {name!r} "
                f"{problem}. Received: {str(entry)[:200]} in {path!r}"
            )
    return header


def _header_entry_problem(entry, data_size):
    """What is wrong with one tensor's header entry, or None."""
    if not isinstance(entry, dict):
        return "must be a JSON object"
    dtype, shape = entry.get("dtype"), entry.get("shape")
    offsets = entry.get("data_offsets")
    if not isinstance(dtype, str) or dtype not in SAFETENSORS_DTYPE_SIZES:
        return f"must have a dtype among {sorted(SAFETENSORS_DTYPE_SIZES)}"
    if not _ints(shape, minimum=0):
        return "must have a shape: a list of non-negative integers"
    if not _ints(offsets, minimum=0) or len(offsets) != 2 or (
        offsets[0] > offsets[1] or offsets[1] > data_size
    ):
        return (
            f"must have data_offsets [begin, end] within the file's "
            f"{data_size} bytes of data"
        )
    expected = SAFETENSORS_DTYPE_SIZES[dtype] * math.prod(shape)
    if offsets[1] - offsets[0] != expected:
        return (
            f"must hold {expected} bytes for its shape and dtype, "
            f"not {offsets[1] - offsets[0]}"
        )
    return None


def _ints(values, minimum):
    return isinstance(values, list) and all(
        isinstance(value, int) and not isinstance(value, bool)
        and value >= minimum
        for value in values
    )


def _read_safetensors(paths):
    try:
        from safetensors.numpy import load_file
    except ImportError:
        raise ValueError(
            "Reading model.safetensors needs the safetensors package (pip "
            "install 'keras-perceiver[checkpoints]'). "
            f"Received: {paths[0]!r}"
        ) from None
    weights = {}
    for path in paths:
        read_safetensors_header(path)
        try:
            weights.update(load_file(path))
        except Exception as error:
            raise ValueError(
                f"The weights could not be read ({_first_line(error)}). "
                f"Received: {path!r}"
            ) from None
    return weights


def _read_pytorch(path):
    """`pytorch_model.bin` as a dict of name -> tensor, on a torch whose
    `weights_only` loader is fixed."""
    try:
        import torch
    except ImportError:
        raise ValueError(
            "This checkpoint stores its weights as pytorch_model.bin, which "
            f"only PyTorch can read: install torch, or {CONVERT_ADVICE}. "
            f"Received: {path!r}"
        ) from None
    check_torch_version(torch.__version__, path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        raise ValueError(
            "pytorch_model.bin could not be read as tensors only (it is "
            "damaged or holds other Python objects, which are never "
            f"loaded); {CONVERT_ADVICE}. Received: {path!r}"
        ) from None
    if not isinstance(state, dict) or not all(
        isinstance(name, str) and isinstance(tensor, torch.Tensor)
        for name, tensor in state.items()
    ):
        raise ValueError(
            "pytorch_model.bin must hold a dict of tensor name -> tensor (a "
            f"state dict). Received: {_describe(state)} in {path!r}"
        )
    return state


def check_torch_version(version, path):
    """Raises unless torch `version` is one whose `weights_only` loader has
    no known way to run code from a file (`MIN_TORCH_VERSION` or newer)."""
    match = re.match(r"(\d+)\.(\d+)", version)
    if match is None or tuple(map(int, match.groups())) < MIN_TORCH_VERSION:
        minimum = ".".join(map(str, MIN_TORCH_VERSION))
        raise ValueError(
            f"pytorch_model.bin is only read with torch >= {minimum}: older "
            "versions' weights_only loader can run code from the file "
            f"(CVE-2025-32434, CVE-2026-24747). Upgrade torch, or "
            f"{CONVERT_ADVICE}. Received: torch {version} for {path!r}"
        )


def _describe(value):
    if isinstance(value, dict):
        kinds = {type(item).__name__ for item in value.values()}
        return f"a dict of {', '.join(sorted(kinds)) or 'nothing'}"
    return f"a {type(value).__name__}"


def _first_line(error):
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def as_float32(weights):
    """Floating-point tensors as float32 NumPy arrays (others unchanged)."""
    return {
        name: value.astype("float32")
        if np.issubdtype(value.dtype, np.floating)
        else value
        for name, value in weights.items()
    }
