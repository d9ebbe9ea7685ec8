"""Seeds, the float32 policy and the test markers.

Markers (registered in pyproject.toml):

- `backend_independent`: the test's behaviour does not depend on the Keras
  backend (argument handling of a command, plotting, data loaders, the
  tokenizer, tuner bookkeeping); it runs only under `ONE_BACKEND` and is
  skipped, with that reason, under the others.
- `slow`: takes several seconds or more (a subprocess, a compiled model, a
  search); `pytest -m "not slow"` is the quick run. CI runs every test.
"""

import keras
import pytest

# The backend that runs the backend-independent tests: the fastest of the
# three on CPU.
ONE_BACKEND = "torch"


def pytest_collection_modifyitems(config, items):
    backend = keras.config.backend()
    if backend == ONE_BACKEND:
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
