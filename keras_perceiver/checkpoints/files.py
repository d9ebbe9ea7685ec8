"""Reading checkpoints in the Hugging Face layout, without transformers.

A checkpoint folder holds `config.json` and the weights as
`model.safetensors` (or shards listed in `model.safetensors.index.json`),
or as PyTorch's `pytorch_model.bin`; `preprocessor_config.json` is
optional. A Hub id such as `deepmind/vision-perceiver-fourier` is fetched
with `huggingface_hub` (the `checkpoints` extra) into its local cache.
"""

import json
import os
import re

import numpy as np

CONFIG_FILE = "config.json"
PREPROCESSOR_FILE = "preprocessor_config.json"
SAFETENSORS_FILE = "model.safetensors"
SAFETENSORS_INDEX_FILE = "model.safetensors.index.json"
PYTORCH_FILE = "pytorch_model.bin"
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


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
        if not _has_weights(folder):
            folder = huggingface_hub.snapshot_download(
                repo_id, allow_patterns=patterns + [PYTORCH_FILE]
            )
    except Exception as error:  # Offline, unknown id, no access, ...
        reason = str(error).strip().splitlines()[0] if str(error) else (
            type(error).__name__
        )
        raise ValueError(
            f"The model {repo_id!r} could not be fetched from the Hugging "
            f"Face Hub ({reason}); pass a local folder with config.json and "
            f"model.safetensors instead. Received: checkpoint={repo_id!r}"
        ) from None
    return folder


def _has_weights(folder):
    return any(
        os.path.isfile(os.path.join(folder, name))
        for name in (SAFETENSORS_FILE, SAFETENSORS_INDEX_FILE, PYTORCH_FILE)
    )


def check_folder(folder):
    """Raises unless a folder holds a config and weights; returns it."""
    missing = []
    if not os.path.isfile(os.path.join(folder, CONFIG_FILE)):
        missing.append(CONFIG_FILE)
    if not _has_weights(folder):
        missing.append(f"{SAFETENSORS_FILE} or {PYTORCH_FILE}")
    if missing:
        raise ValueError(
            f"The checkpoint folder lacks {' and '.join(missing)}. "
            f"Received: checkpoint={folder!r} holding "
            f"{sorted(os.listdir(folder))}"
        )
    return folder


def read_json(folder, name):
    """A JSON file of the folder as a dict, or None if it is absent."""
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except (OSError, ValueError) as error:
        raise ValueError(
            f"{name} could not be read as JSON ({error}). "
            f"Received: {path!r}"
        ) from None


def read_config(folder):
    """The checkpoint's `config.json` as a dict."""
    return read_json(check_folder(folder), CONFIG_FILE)


def read_weights(folder):
    """The checkpoint's tensors as a dict of name -> NumPy array.

    Reads `model.safetensors` (or its shards) with safetensors' NumPy API;
    otherwise `pytorch_model.bin` with `torch.load(weights_only=True)`,
    which needs PyTorch.
    """
    check_folder(folder)
    index = read_json(folder, SAFETENSORS_INDEX_FILE)
    if index is not None:
        shards = sorted(set(index.get("weight_map", {}).values()))
        return _read_safetensors([os.path.join(folder, s) for s in shards])
    path = os.path.join(folder, SAFETENSORS_FILE)
    if os.path.isfile(path):
        return _read_safetensors([path])
    return _read_pytorch(os.path.join(folder, PYTORCH_FILE))


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
        try:
            weights.update(load_file(path))
        except Exception as error:
            raise ValueError(
                f"The weights could not be read ({error}). Received: {path!r}"
            ) from None
    return weights


def _read_pytorch(path):
    try:
        import torch
    except ImportError:
        raise ValueError(
            "This checkpoint stores its weights as pytorch_model.bin, which "
            "only PyTorch can read: install torch, or convert the file to "
            f"model.safetensors. Received: {path!r}"
        ) from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(
            f"The weights could not be read ({error}). Received: {path!r}"
        ) from None
    return {
        name: tensor.detach().cpu().float().numpy()
        if tensor.is_floating_point()
        else tensor.detach().cpu().numpy()
        for name, tensor in state.items()
    }


def as_float32(weights):
    """Floating-point tensors as float32 NumPy arrays (others unchanged)."""
    return {
        name: value.astype("float32")
        if np.issubdtype(value.dtype, np.floating)
        else value
        for name, value in weights.items()
    }
