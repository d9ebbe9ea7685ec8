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
  script). Such a test runs under `ONE_BACKEND` only and is skipped, with
  that reason, under the other two.
- `slow`: takes several seconds or more (a new process, a training run, a
  search, an export); `pytest -m "not slow"` is the quick run, CI runs every
  test. Most slow tests are backend-independent, so run on one backend.
"""

import keras
import pytest

# The backend that runs the backend-independent tests. Torch trains tiny
# models eagerly, with no step function to trace and compile, and its own
# tests are the quickest: in one CI run (23:33 UTC, 6 December 2026) that
# gave torch only the slowest backend-independent files and spread the
# other 342 tests over TensorFlow and JAX, torch finished in 17:49 while
# those two, compiling their own tests, were at 73% and 58%. So they all
# go to torch.
ONE_BACKEND = "torch"


def pytest_collection_modifyitems(config, items):
    if keras.config.backend() == ONE_BACKEND:
        return
    skip = pytest.mark.skip(
        reason=f"backend-independent: runs under KERAS_BACKEND={ONE_BACKEND}"
    )
    for item in items:
        if item.get_closest_marker("backend_independent"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def fixed_seed_and_float32():
    """Every test starts from the same seed and the float32 policy."""
    keras.utils.set_random_seed(1234)
    keras.config.set_dtype_policy("float32")
    yield
    keras.config.set_dtype_policy("float32")
