"""A description of the machine a benchmark ran on, for the results."""

import os
import platform
import re
import subprocess

from keras_perceiver.performance.machine import library_versions

LIBRARIES = ("keras", "jax", "jaxlib", "tensorflow-cpu", "tensorflow",
             "torch", "numpy", "perceiver-pytorch", "einops", "matplotlib")
FLAG_PATTERN = re.compile(r"^(avx512\w*|amx\w*|avx2|avx_vnni|fma)$")


def _lscpu():
    try:
        output = subprocess.run(["lscpu"], capture_output=True, text=True,
                                check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    fields = {}
    for line in output.splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def meminfo_bytes(field="MemTotal"):
    """A `/proc/meminfo` field (`MemTotal`, `MemAvailable`...) in bytes."""
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return None


def _versions():
    return {"python": platform.python_version(),
            **library_versions(LIBRARIES)}


def lscpu_flags():
    """Every CPU flag `lscpu` lists (what the CPU kernels may use)."""
    return _lscpu().get("Flags", "").split()


def load_average():
    """The 1-, 5- and 15-minute load averages."""
    return list(os.getloadavg())


def describe():
    """CPU model, vector and matrix extensions, cores, memory, versions."""
    lscpu = _lscpu()
    flags = lscpu.get("Flags", "").split()
    return {
        "cpu_model": lscpu.get("Model name", platform.processor()),
        "architecture": lscpu.get("Architecture", platform.machine()),
        "cpus": os.cpu_count(),
        "threads_per_core": lscpu.get("Thread(s) per core"),
        "l2_cache": lscpu.get("L2 cache"),
        "l3_cache": lscpu.get("L3 cache"),
        "simd_flags": sorted(f for f in flags if FLAG_PATTERN.match(f)),
        "has_amx": any(f.startswith("amx") for f in flags),
        "memory_bytes": meminfo_bytes(),
        "kernel": platform.release(),
        "versions": _versions(),
    }
