"""What differs between the Keras backends, in one place.

The package runs the same code on TensorFlow, JAX and PyTorch except for
what is listed here: how a launcher marks the processes of a multi-process
run, which multi-device engine trains, whether the weights can be split
over devices, whether a compiled step trains on several devices, whether it
compiles the repeated blocks or the whole step, how
a TensorFlow SavedModel is written and how to tell whether it computes
on a GPU or TPU. Code that needs
one of these asks `current()` instead of testing the backend's name. The
module imports Keras only when asked about the running backend, so the
command line reads the CPU's flags before Keras loads. How an inference
function is compiled (`jax.jit`, `tf.function`, PyTorch eager, as Keras
compiles `predict`) is `models/compiled_inference.py`'s.

Performance workarounds stay beside the code they fix, each guarded where
it applies: `layers/residual_barrier.py` (a JAX fusion barrier),
`layers/perceiver_attention.py` (torch's bfloat16 attention backward) and
`layers/chunked_attention.py` (the loop over input chunks). Torch's
compilation of the repeated blocks is `training/regional_compile.py`.

Example:

>>> differences = current()  # e.g. on JAX:
>>> differences.model_parallel, differences.exports_in_process
(True, False)
"""

import dataclasses
import os
import pathlib
from typing import Callable

TORCHRUN_VARIABLES = ("WORLD_SIZE", "RANK", "LOCAL_RANK")
TF_CONFIG_VARIABLE = "TF_CONFIG"
JAX_JOB_ADDRESSES_VARIABLE = "KERAS_DISTRIBUTION_JOB_ADDRESSES"
# CPU flags of native bfloat16 arithmetic in /proc/cpuinfo: x86's
# AVX512-BF16 and AMX, ARM's BF16 (its "Features" line).
NATIVE_BFLOAT16_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})


def under_torchrun():
    """Whether torchrun started this process (it sets `WORLD_SIZE`, `RANK`
    and `LOCAL_RANK`)."""
    return all(name in os.environ for name in TORCHRUN_VARIABLES)


def _variable_set(name):
    return lambda: bool(os.environ.get(name))


def _jax_accelerated():
    import jax

    return jax.default_backend() != "cpu"


def _tensorflow_accelerated():
    import tensorflow as tf

    return any(tf.config.list_physical_devices(kind)
               for kind in ("GPU", "TPU"))


def _torch_accelerated():
    import torch

    return torch.cuda.is_available() or torch.backends.mps.is_available()


@dataclasses.dataclass(frozen=True)
class BackendDifferences:
    """What one Keras backend does its own way.

    Args:
        name: str. The backend's name, as `keras.config.backend()` says it.
        title: str. Its name in messages, e.g. "JAX".
        engine: str. The multi-device engine `DistributedTraining` uses.
        launcher: str. What marks the processes of a multi-process run.
        launched: callable returning bool. Whether a launcher set up this
            process as one of several.
        model_parallel: bool. Whether weights can be split over devices
            (`DistributedTraining(strategy="model")`).
        relaunches_for_devices: bool. Whether `train --devices N` outside a
            launcher starts the command again under one (torchrun).
        trains_with_keras_fit: bool. Whether the engine trains through
            `model.fit` (so a multi-device run on one host can resume from
            its checkpoints), rather than a loop of its own.
        exports_in_process: bool. Whether `export_saved_model` writes the
            SavedModel in this process; otherwise the model is saved and
            rebuilt under TensorFlow in a new process.
        trains_jit_compiled_on_devices: bool. Whether a model compiled
            with `jit_compile=True` trains on several devices. Not under
            tf.distribute (XLA's step cannot read the replicas' variables
            on other devices), nor in fit_ddp's loop, which does not use
            Keras' compiled step.
        accelerated: callable returning bool. Whether the backend computes
            on a GPU or TPU in this process (rather than on the CPU).
        compiles_repeated_blocks: bool. Whether a compiled training step
            (`jit_compile=True` in the recipes, `--jit-compile`) compiles
            the model's repeated blocks once each and runs the step eagerly
            (`training.compile_repeated_blocks`, torch) rather than
            compiling the whole step (XLA on JAX and TensorFlow).
    """

    name: str
    title: str
    engine: str
    launcher: str
    launched: Callable
    model_parallel: bool
    relaunches_for_devices: bool
    trains_with_keras_fit: bool
    exports_in_process: bool
    trains_jit_compiled_on_devices: bool
    accelerated: Callable
    compiles_repeated_blocks: bool

    def require(self, what):
        """Raises a `ValueError` unless `what` runs on this backend.

        Args:
            what: str. The function or feature that needs this backend,
                named in the message.
        """
        import keras

        if keras.config.backend() != self.name:
            raise ValueError(
                f"`{what}` needs the {self.title} backend "
                f"(KERAS_BACKEND={self.name}). Received: "
                f"backend={keras.config.backend()!r}"
            )


BACKENDS = {
    backend.name: backend for backend in (
        BackendDifferences(
            name="jax", title="JAX",
            engine="keras.distribution (DataParallel, ModelParallel)",
            launcher=f"{JAX_JOB_ADDRESSES_VARIABLE} (with "
                     "KERAS_DISTRIBUTION_NUM_PROCESSES and "
                     "KERAS_DISTRIBUTION_PROCESS_ID)",
            launched=_variable_set(JAX_JOB_ADDRESSES_VARIABLE),
            model_parallel=True, relaunches_for_devices=False,
            trains_with_keras_fit=True, exports_in_process=False,
            trains_jit_compiled_on_devices=True,
            accelerated=_jax_accelerated, compiles_repeated_blocks=False,
        ),
        BackendDifferences(
            name="tensorflow", title="TensorFlow",
            engine="tf.distribute (MirroredStrategy, "
                   "MultiWorkerMirroredStrategy)",
            launcher=TF_CONFIG_VARIABLE,
            launched=_variable_set(TF_CONFIG_VARIABLE),
            model_parallel=False, relaunches_for_devices=False,
            trains_with_keras_fit=True, exports_in_process=True,
            trains_jit_compiled_on_devices=False,
            accelerated=_tensorflow_accelerated,
            compiles_repeated_blocks=False,
        ),
        BackendDifferences(
            name="torch", title="torch",
            engine="torch DistributedDataParallel (fit_ddp)",
            launcher="torchrun (" + ", ".join(TORCHRUN_VARIABLES) + ")",
            launched=under_torchrun,
            model_parallel=False, relaunches_for_devices=True,
            trains_with_keras_fit=False, exports_in_process=False,
            trains_jit_compiled_on_devices=False,
            accelerated=_torch_accelerated, compiles_repeated_blocks=True,
        ),
    )
}


def current():
    """The `BackendDifferences` of the backend Keras runs on.

    Raises:
        ValueError: for a backend the package does not support.
    """
    import keras

    backend = keras.config.backend()
    if backend not in BACKENDS:
        raise ValueError(
            f"The backend must be one of {sorted(BACKENDS)}. Received: "
            f"backend={backend!r}"
        )
    return BACKENDS[backend]


def cpu_has_native_bfloat16(cpuinfo="/proc/cpuinfo"):
    """Whether the CPU computes bfloat16 natively, by the flags `cpuinfo`
    lists (x86 `avx512_bf16` or `amx_bf16`, ARM `bf16`).

    Without such a file, or flags in it (not Linux), nothing is known and
    the answer is True: no warning without evidence.

    Args:
        cpuinfo: str or path. The CPU description. Defaults to
            "/proc/cpuinfo".
    """
    flags = set(" ".join(cpuinfo_values(("flags", "Features"),
                                        cpuinfo)).split())
    return not flags or bool(flags & NATIVE_BFLOAT16_FLAGS)


def cpuinfo_values(keys, cpuinfo="/proc/cpuinfo"):
    """The values of the lines of `cpuinfo` whose key is one of `keys`.

    Args:
        keys: tuple of str. The keys, e.g. `("flags", "Features")`.
        cpuinfo: str or path. The CPU description. Defaults to
            "/proc/cpuinfo".

    Returns:
        A list of str, in the file's order; empty without the file.

    Example:

    >>> cpuinfo_values(("model name",))[:1]
    ['AMD EPYC 9R14 96-Core Processor']
    """
    try:
        text = pathlib.Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return []
    values = []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in keys:
            values.append(value.strip())
    return values


def mixed_bfloat16_is_slow(cpuinfo="/proc/cpuinfo"):
    """Whether `mixed_bfloat16` trains slower than float32 here: on the CPU
    (no GPU or TPU) of a machine without native bfloat16 arithmetic, where
    bfloat16 is emulated (torch: 20-30x slower than float32).

    Args:
        cpuinfo: str or path. The CPU description. Defaults to
            "/proc/cpuinfo".
    """
    return (not current().accelerated()
            and not cpu_has_native_bfloat16(cpuinfo))
