"""Seeds, the float32 policy, and which backend runs which test.

CI (`.ci/test`) runs the suite once per Keras backend, the three processes
side by side. The tests come in tiers (markers registered in
pyproject.toml):

- Backend-specific, unmarked: layers, adapters, models, saving and loading
  (the `.keras` files of earlier releases included), export, Hugging Face
  parity, the command's main train/evaluate/predict flow. They run under
  every backend.
- `backend_independent`: the behaviour does not depend on the Keras backend
  (the command's argument handling and run folders, data readers, plots and
  tables, checkpoint and tuner bookkeeping, fault injection, the GPU
  script). Such a test runs under one backend only, its file's
  `assigned_backend`, and is skipped, with that reason, under the other
  two. A file's tests go to one backend together (its module fixtures run
  once); files are spread over the three by a hash of their path, and the
  slowest are placed in `ASSIGNED` so that the three processes take about
  as long (the training flows on torch, the cheapest backend for them).
- `slow`: takes several seconds or more (a new process, a training run, a
  search, an export); `pytest -m "not slow"` is the quick run, CI runs every
  test. Most slow tests are backend-independent, so run on one backend.
"""

import zlib

import keras
import pytest

BACKENDS = ("jax", "tensorflow", "torch")

# The slowest files of backend-independent tests, placed by hand on torch:
# the other two backends trace and compile every model they train, which
# makes their own backend-specific tests the long poles of CI, while torch
# runs eagerly, the cheapest backend for a short fit. (The GPU script's
# smoke run starts its own torch and JAX processes.)
ASSIGNED = {
    "tests/training/fault_injection_test.py": "torch",
    "tests/cli/cli_test.py": "torch",
    "tests/cli/data_cli_test.py": "torch",
    "tests/cli/checkpoint_cli_test.py": "torch",
    "tests/tuning/tuning_test.py": "torch",
    "tests/benchmarks/gpu_script_test.py": "torch",
    "tests/optional_dependencies_test.py": "torch",
    # Collects one of its backend-independent cases off JAX only.
    "tests/distribution/distribution_test.py": "torch",
}


def assigned_backend(path):
    """The backend that runs the backend-independent tests of the test file
    `path` (relative to the repository, as in pytest's node ids).

    Args:
        path: str, e.g. `"tests/cli/cli_test.py"`.

    Returns:
        One of `BACKENDS`: `ASSIGNED`'s, else one picked by a hash of `path`
        (the same on every run and machine).

    Example:

    >>> assigned_backend("tests/training/fault_injection_test.py")
    'torch'
    """
    if path in ASSIGNED:
        return ASSIGNED[path]
    return BACKENDS[zlib.crc32(path.encode()) % len(BACKENDS)]


def pytest_collection_modifyitems(config, items):
    backend = keras.config.backend()
    for item in items:
        if not item.get_closest_marker("backend_independent"):
            continue
        assigned = assigned_backend(item.nodeid.split("::")[0])
        if assigned != backend:
            item.add_marker(pytest.mark.skip(
                reason=f"backend-independent: runs under "
                       f"KERAS_BACKEND={assigned}"))


@pytest.fixture(autouse=True)
def fixed_seed_and_float32():
    """Every test starts from the same seed and the float32 policy."""
    keras.utils.set_random_seed(1234)
    keras.config.set_dtype_policy("float32")
    yield
    keras.config.set_dtype_policy("float32")
