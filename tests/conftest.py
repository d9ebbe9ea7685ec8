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
  tables, checkpoint and tuner bookkeeping, fault injection). Such a test
  runs under `ONE_BACKEND` only and is skipped, with that reason, under
  the other two.
- `one_backend(name)`: a case of a behaviour that every backend runs in
  the same way but that is worth one backend each, such as a data set of
  each modality streamed through a training run (or the GPU script's
  smoke run, which starts processes of its own): the cases are spread
  over the backends (`support.spread_over_backends`), each runs under its one.
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


def pytest_configure(config):
    """Under TensorFlow, graphs run as traced, without Grappler's rewrites.

    Grappler optimises each traced function before its first run; for the
    tests' tiny models that costs more than it saves (12 % of a TensorFlow
    test file's CPU time, 7 December 2026). The tests check what the
    graphs compute, which Grappler must not change. Only this process:
    the commands the tests start run as users run them.
    """
    if keras.config.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.optimizer.set_experimental_options(
            {"disable_meta_optimizer": True})


def pytest_collection_modifyitems(config, items):
    backend = keras.config.backend()
    for item in items:
        one_backend = item.get_closest_marker("one_backend")
        if one_backend and one_backend.args[0] != backend:
            item.add_marker(pytest.mark.skip(
                reason=f"runs under KERAS_BACKEND={one_backend.args[0]}"))
        elif (item.get_closest_marker("backend_independent")
              and backend != ONE_BACKEND):
            item.add_marker(pytest.mark.skip(
                reason="backend-independent: runs under "
                       f"KERAS_BACKEND={ONE_BACKEND}"))


@pytest.fixture(autouse=True)
def fixed_seed_and_float32():
    """Every test starts from the same seed and the float32 policy."""
    keras.utils.set_random_seed(1234)
    keras.config.set_dtype_policy("float32")
    yield
    keras.config.set_dtype_policy("float32")
