"""The machine and libraries a measurement holds for, read without Keras.

A table measured on one machine says nothing of another, nor of other
library versions: the cache keys its tables by what `describe` and
`library_versions` return.
"""

import glob
import hashlib
import importlib.metadata
import importlib.util
import os

from keras_perceiver import backend_differences
from keras_perceiver_command import BACKEND_MODULES

# The distributions whose versions change what a measurement says.
LIBRARIES = ("keras-perceiver", "keras", "tensorflow", "tensorflow-cpu",
             "jax", "jaxlib", "torch")
NVIDIA_GPUS = "/proc/driver/nvidia/gpus/*/information"


def describe(cpuinfo="/proc/cpuinfo", gpus=NVIDIA_GPUS):
    """The CPU (model name, a hash of its flags, native bfloat16) and GPUs.

    Args:
        cpuinfo: str or path. The CPU description. Defaults to
            "/proc/cpuinfo".
        gpus: str. A glob of the NVIDIA driver's GPU descriptions.
            Defaults to those under /proc/driver/nvidia.

    Returns:
        A dict of JSON values: "cpu", "cpus", "cpu_flags" (a hash),
        "native_bfloat16" (bool) and "gpus" (a list of model names).

    Example:

    >>> describe()["native_bfloat16"]
    True
    """
    models = backend_differences.cpuinfo_values(("model name", "Hardware"),
                                                cpuinfo)
    flags = sorted(set(" ".join(backend_differences.cpuinfo_values(
        ("flags", "Features"), cpuinfo)).split()))
    return {
        "cpu": models[0] if models else "unknown CPU",
        "cpus": os.cpu_count(),
        "cpu_flags": hashlib.sha256(" ".join(flags).encode()).hexdigest()[:16],
        "native_bfloat16": backend_differences.cpu_has_native_bfloat16(
            cpuinfo),
        "gpus": _gpu_models(gpus),
    }


def _gpu_models(pattern):
    models = []
    for path in sorted(glob.glob(pattern)):
        models += backend_differences.cpuinfo_values(("Model",), path)
    return models


def bfloat16_is_a_candidate(machine):
    """Whether `mixed_bfloat16` may be chosen: on a GPU, or a CPU with
    native bfloat16. Where a CPU emulates it, it is no faster than float32
    on XLA and 20-30x slower on torch.

    Args:
        machine: dict. What `describe` returns.

    Returns:
        bool.
    """
    return bool(machine["gpus"]) or machine["native_bfloat16"]


def summary(machine, versions):
    """One line: the CPU, the GPUs and the library versions.

    Args:
        machine: dict. What `describe` returns.
        versions: dict. What `library_versions` returns.

    Returns:
        str.
    """
    bfloat16 = "yes" if machine["native_bfloat16"] else "no (emulated)"
    gpus = ", ".join(machine["gpus"]) or "none"
    libraries = ", ".join(f"{name} {version}"
                          for name, version in versions.items())
    return (f"machine: {machine['cpu']} ({machine['cpus']} CPUs, native "
            f"bfloat16: {bfloat16}), GPU: {gpus}; {libraries}")


def library_versions(names=LIBRARIES):
    """The installed versions of the distributions `names` (those
    installed).

    Args:
        names: iterable of str. Distribution names. Defaults to
            `LIBRARIES`, the ones a measurement depends on.

    Returns:
        A dict from a distribution's name to its version.

    Example:

    >>> library_versions(["keras"])
    {'keras': '3.15.1'}
    """
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return versions


def installed_backends():
    """The Keras backends whose library is installed, in `BACKEND_MODULES`'
    order.

    Returns:
        A list of str.
    """
    return [backend for backend, module in BACKEND_MODULES.items()
            if importlib.util.find_spec(module) is not None]
