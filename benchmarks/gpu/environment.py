"""What every stage worker of `benchmarks/gpu/run.sh` shares: the device
the backend runs on, its peak memory, out-of-memory errors, the worker's
command line and its JSON file (rewritten after each measurement, so that
a stage stopped by its timeout keeps what it measured). Keras is imported
where it is used: `KERAS_BACKEND` picks the backend, and comparing saved
results needs none."""

import argparse
import gc
import importlib.metadata
import json
import platform
import sys
from pathlib import Path

from benchmarks.timing import peak_rss_bytes

_freeze_after_release = False  # set by `prepare_smoke`


def parse_args(description, **extra):
    """`--out FILE`, `--smoke` and `extra` flags (name: `add_argument`'s
    keyword arguments)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes (the CPU check of the script)")
    for name, options in extra.items():
        parser.add_argument(f"--{name}", **options)
    args = parser.parse_args()
    if args.smoke:
        prepare_smoke()
    return args


def prepare_smoke():
    """Makes `import tensorflow` fail in this process, as on the GPU
    machine, whose image has no TensorFlow (`--smoke` runs where it is
    installed, and `keras.utils.set_random_seed` imports it there, 5
    CPU-seconds, only to seed it), and has `release_memory` leave what
    survives its garbage collection out of the later ones (`gc.freeze`):
    a collection over all that the libraries hold takes a quarter of a
    CPU-second."""
    global _freeze_after_release
    sys.modules["tensorflow"] = None
    _freeze_after_release = True


def write_json(path, data):
    """Writes `data` to `path` whole or not at all."""
    path = Path(path)
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(json.dumps(data, indent=1))
    partial.replace(path)


def on_gpu():
    """Whether the Keras backend computes on a GPU."""
    import keras

    if keras.config.backend() == "torch":
        import torch

        return torch.cuda.is_available()
    import jax

    return jax.default_backend() == "gpu"


def describe():
    """The backend, its device and the versions that matter."""
    import keras

    backend = keras.config.backend()
    info = {"backend": backend, "on_gpu": on_gpu(),
            "python": platform.python_version(),
            "keras": keras.__version__,
            "keras_perceiver": _version("keras-perceiver")}
    if backend == "torch":
        import torch

        info.update(torch=torch.__version__, cuda=torch.version.cuda)
        if info["on_gpu"]:
            info.update(device=torch.cuda.get_device_name(),
                        cudnn=torch.backends.cudnn.version())
    else:
        import jax

        info.update(jax=jax.__version__, jaxlib=_version("jaxlib"),
                    device=jax.devices()[0].device_kind)
    info.setdefault("device", platform.processor() or "cpu")
    return info


def _version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def reset_peak_memory():
    """Starts a new peak on torch's GPU (JAX's peak cannot be reset: its
    stages measure in increasing sizes)."""
    import keras

    if keras.config.backend() == "torch" and on_gpu():
        import torch

        torch.cuda.reset_peak_memory_stats()


def peak_memory():
    """`{"bytes", "measure"}`: the peak GPU memory, or the process's peak
    resident memory on the CPU."""
    import keras

    if not on_gpu():
        return {"bytes": peak_rss_bytes(), "measure": "peak RSS (CPU)"}
    if keras.config.backend() == "torch":
        import torch

        return {"bytes": torch.cuda.max_memory_allocated(),
                "measure": "torch.cuda.max_memory_allocated"}
    import jax

    stats = jax.devices()[0].memory_stats()
    return {"bytes": stats["peak_bytes_in_use"],
            "measure": "jax memory_stats peak_bytes_in_use"}


def is_out_of_memory(error):
    from benchmarks.large_inputs import OOM_SIGNS

    return any(sign in str(error) for sign in OOM_SIGNS)


def release_memory():
    """Frees what the last measurement left, on the GPU too (Keras'
    `clear_session` collects the garbage)."""
    import keras

    keras.backend.clear_session()
    if _freeze_after_release:
        gc.freeze()
    if keras.config.backend() == "torch" and on_gpu():
        import torch

        torch.cuda.empty_cache()

