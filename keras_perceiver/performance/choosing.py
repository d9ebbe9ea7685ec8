"""`choose`: the fastest backend, precision and compilation, measured.

The rules: a candidate is chosen only if it was measured (within the
budget); bfloat16 only on a GPU or a CPU with native bfloat16; and
nothing slower than float32 eager torch (`FLOOR`), the path known to be
reasonable everywhere: another candidate must be predicted at least
`MARGIN` faster than the floor to be chosen over it, so that a difference
within the noise of a short measurement does not decide.
"""

import datetime
import math
import numbers

from keras_perceiver.performance import machine as machines
from keras_perceiver.performance import measurement_cache
from keras_perceiver.performance.candidate import CANDIDATES
from keras_perceiver.performance.candidate import FLOOR
from keras_perceiver.performance.candidate import PRECISIONS
from keras_perceiver.performance.choice import Choice
from keras_perceiver.performance.measurement import Measurement
from keras_perceiver.performance.measuring import measure
from keras_perceiver.performance.workload import MODEL_WORKLOAD

BUDGET_S = 60.0
# The run length when neither `steps` nor the data set's size is known.
DEFAULT_STEPS = 1000
MARGIN = 0.05
AUTO = "auto"
NOT_A_CANDIDATE = "not a candidate: bfloat16 is emulated on this CPU"


def choose(model, input_shape, batch_size, steps=DEFAULT_STEPS,
           budget_s=BUDGET_S, cache=True, refresh=False, backend=AUTO,
           precision=AUTO, jit_compile=AUTO):
    """Measures how fast `model` trains on each backend, precision and
    compilation here, and picks the fastest for a run of `steps` steps.

    Each installed backend's candidates are measured in a new process
    (start-up, the first training step, then steps on random inputs of
    `input_shape`), all within `budget_s` seconds. The table is cached
    per machine, model, input shape, batch size and library versions, so
    a second call measures nothing.

    Args:
        model: a Keras classifier (logits out), or its config as
            `keras.saving.serialize_keras_object` gives it.
        input_shape: tuple of int. One example's shape (no batch axis).
        batch_size: int. Examples per training step.
        steps: int. Training steps of the run to predict. Defaults to
            1000.
        budget_s: float. Seconds of wall time for measuring. Defaults to
            60.
        cache: bool. Read and write the cache. Defaults to True.
        refresh: bool. Measure again even if the cache has the table.
            Defaults to False.
        backend: str. A backend to keep fixed, or "auto". Defaults to
            "auto".
        precision: str. "float32" or "mixed_bfloat16" to keep fixed, or
            "auto". Defaults to "auto".
        jit_compile: bool or "auto". Keep compiling fixed. Defaults to
            "auto".

    Returns:
        A `Choice`: `.backend`, `.precision`, `.jit_compile`, `.table`,
        `.from_cache`.

    Example:

    >>> model = keras_perceiver.Perceiver(num_classes=10, num_latents=8,
    ...                                   latent_dim=16, num_blocks=1)
    >>> model.build((None, 8, 8, 1))
    >>> choice = choose(model, (8, 8, 1), batch_size=64, steps=200)
    >>> print(choice.reason())
    """
    if not isinstance(model, dict):
        import keras

        model = keras.saving.serialize_keras_object(model)
    workload = {"build": MODEL_WORKLOAD,
                "arguments": {"model": model,
                              "input_shape": [int(n) for n in input_shape]},
                "batch_size": batch_size}
    return choose_for_workload(workload, steps=steps, budget_s=budget_s,
                               cache=cache, refresh=refresh, backend=backend,
                               precision=precision, jit_compile=jit_compile)


def choose_for_workload(workload, steps=None, epochs=None, budget_s=BUDGET_S,
                        cache=True, refresh=False, backend=AUTO,
                        precision=AUTO, jit_compile=AUTO):
    """`choose` for a workload (see `workload.load_workload`).

    Args:
        workload: dict of JSON values. "build", "arguments", "batch_size".
        steps: int or None. Training steps of the run; None: `epochs`
            times the workload's steps per epoch, else `DEFAULT_STEPS`.
        epochs: int or None. Defaults to None.
        budget_s, cache, refresh, backend, precision, jit_compile: as in
            `choose`.

    Returns:
        A `Choice`.

    Example:

    >>> workload = {"build": "keras_perceiver.cli.auto_options:"
    ...             "train_workload", "arguments": {...}, "batch_size": 64}
    >>> choose_for_workload(workload, epochs=20).backend
    'torch'
    """
    _check_arguments(workload, budget_s, backend, precision, jit_compile)
    machine, versions = machines.describe(), machines.library_versions()
    path = measurement_cache.cache_path(machine)
    key = measurement_cache.cache_key(workload, machine, versions)
    entry = None
    if cache and not refresh:
        entry = measurement_cache.read_entry(path, key)
    from_cache = entry is not None
    if entry is None:
        entry = _measured_entry(workload, machine, budget_s)
        if cache:
            measurement_cache.write_entry(path, key, entry)
    if steps is None:
        steps = (epochs * entry["steps_per_epoch"]
                 if epochs and entry["steps_per_epoch"] else DEFAULT_STEPS)
    chosen = pick(entry["rows"], steps, backend, precision, jit_compile)
    return Choice(chosen, tuple(entry["rows"]), steps, entry["measured_at"],
                  from_cache, machines.summary(machine, versions))


def _measured_entry(workload, machine, budget_s):
    backends = machines.installed_backends()
    bfloat16 = machines.bfloat16_is_a_candidate(machine)
    rows = [Measurement(candidate, note="" if bfloat16 or
                        candidate.precision == "float32" else NOT_A_CANDIDATE)
            for candidate in CANDIDATES if candidate.backend in backends]
    measured_at = datetime.datetime.now().isoformat(timespec="seconds")
    steps_per_epoch = measure(workload, rows, budget_s)
    return {"measured_at": measured_at, "steps_per_epoch": steps_per_epoch,
            "rows": rows}


def pick(rows, steps, backend=AUTO, precision=AUTO, jit_compile=AUTO):
    """The row to run: the measured one of the smallest predicted time,
    unless the floor (float32 eager torch) is within `MARGIN` of it.

    Args:
        rows: list of `Measurement`.
        steps: int. Training steps of the run.
        backend, precision, jit_compile: values to keep fixed, or "auto"
            (see `Candidate.matches`).

    Returns:
        A `Measurement` of `rows`.

    Raises:
        ValueError: no row with those values was measured.

    Example:

    >>> pick(table, steps=300).candidate.label
    'torch, float32, eager'
    """
    fixed = {"backend": backend, "precision": precision,
             "jit_compile": jit_compile}
    eligible = [row for row in rows if row.candidate.matches(**fixed)]
    measured = [row for row in eligible if row.measured]
    if not measured:
        notes = "; ".join(f"{row.candidate.label}: {row.note}"
                          for row in eligible) or "no such candidate"
        given = ", ".join(f"{name}={value!r}" for name, value in
                          fixed.items() if value != AUTO) or "nothing fixed"
        raise ValueError(
            f"No candidate was measured to choose from ({notes}); give a "
            f"larger budget or fixed values. Received: {given}")
    best = min(measured, key=lambda row: row.predicted_s(steps))
    floor = next((row for row in measured if row.candidate == FLOOR), best)
    if best.predicted_s(steps) > (1 - MARGIN) * floor.predicted_s(steps):
        return floor
    return best


def _check_arguments(workload, budget_s, backend, precision, jit_compile):
    """Raises `ValueError` for a value `choose` cannot use."""
    real = isinstance(budget_s, numbers.Real) and not isinstance(budget_s,
                                                                 bool)
    if not (real and math.isfinite(budget_s) and budget_s > 0):
        raise ValueError(f"`budget_s` must be a positive number of seconds. "
                         f"Received: budget_s={budget_s!r}")
    batch_size = workload["batch_size"]
    if not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"`batch_size` must be a positive integer. "
                         f"Received: batch_size={batch_size!r}")
    if precision not in (AUTO, *PRECISIONS):
        raise ValueError(f"`precision` must be one of auto, "
                         f"{', '.join(PRECISIONS)}. Received: "
                         f"precision={precision!r}")
    if jit_compile not in (AUTO, True, False):
        raise ValueError(f"`jit_compile` must be True, False or 'auto'. "
                         f"Received: jit_compile={jit_compile!r}")
    installed = machines.installed_backends()
    if not installed:
        raise ValueError("No Keras backend is installed to measure; install "
                         "one with `pip install keras-perceiver[torch]` (or "
                         "[jax], [tensorflow]). Received: no backend")
    if backend != AUTO and backend not in installed:
        raise ValueError(f"`backend` must be 'auto' or an installed backend "
                         f"({', '.join(installed)}). Received: "
                         f"backend={backend!r}")
