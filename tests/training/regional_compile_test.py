"""`compile_repeated_blocks`: `torch.compile` on each repeated block.

torch.compile on a CPU calls g++, so the module compiles once: a
module-scoped fixture trains the same tiny Perceiver from the same weights
eagerly and with the recipe's `jit_compile=True` (its blocks compiled, the
step eager), a batch of 4 and then one of 3, and counts the graphs dynamo
compiles; the tests read that record. The bad-input cases compile nothing.
"""

import keras
import numpy as np
import pytest

from bad_input import assert_value_error
from keras_perceiver.training import compile_repeated_blocks
from keras_perceiver.training.recipe import compile_for_classification
from support import tiny_perceiver

torch_only = pytest.mark.skipif(keras.config.backend() != "torch",
                                reason="compile_repeated_blocks is torch's")

IMAGES = np.random.default_rng(0).uniform(size=(4, 6, 6, 3)).astype(
    "float32")
LABELS = np.array([0, 1, 2, 3])
# Two blocks of two self-attends with the paper's weight sharing: two
# cross-attend layers and two self-attends, called twice each.
MODEL = dict(num_blocks=2, num_self_attends_per_block=2)
# One graph for both cross-attends and one for the four self-attend calls
# (dynamo's count of forward graphs; AOTAutograd derives each backward).
DISTINCT_BLOCKS = 2
BATCH_SIZES = (4, 3)


@pytest.fixture(scope="module")
def training(tmp_path_factory):
    """Losses, weights, graphs compiled and graph breaks (counted from
    here: other tests in this process compile too), eager beside blocks
    compiled; and the compiled model saved and loaded again."""
    import torch
    from torch._dynamo.utils import counters

    # Dynamo's caches start empty, whatever compiled before in this process.
    torch._dynamo.reset()
    keras.utils.set_random_seed(0)
    eager, compiled = tiny_perceiver(**MODEL), tiny_perceiver(**MODEL)
    for model in (eager, compiled):
        model(IMAGES[:1])
    compiled.set_weights(eager.get_weights())
    compile_for_classification(eager, jit_compile=False)
    compile_for_classification(compiled, jit_compile=True)
    graphs_before = counters["stats"]["unique_graphs"]
    breaks_before = sum(counters["graph_break"].values())
    record = {"step_jit_compile": compiled.jit_compile, "graphs": []}
    for batch in BATCH_SIZES:
        record[batch] = [
            model.train_on_batch(IMAGES[:batch], LABELS[:batch],
                                 return_dict=True)["loss"]
            for model in (eager, compiled)
        ]
        record["graphs"].append(
            counters["stats"]["unique_graphs"] - graphs_before)
    record["graph_breaks"] = (sum(counters["graph_break"].values())
                              - breaks_before)
    record["weights"] = [model.get_weights() for model in (eager, compiled)]
    path = tmp_path_factory.mktemp("regional") / "model.keras"
    compiled.save(path)
    record["loaded"] = keras.saving.load_model(path, compile=False)
    record["configs"] = [model.get_config() for model in (eager, compiled)]
    record["eager"] = eager
    return record


@torch_only
@pytest.mark.slow
def test_training_equals_eager(training):
    for batch in BATCH_SIZES:
        eager_loss, compiled_loss = training[batch]
        # Compiled kernels fuse operators, which changes float rounding.
        np.testing.assert_allclose(compiled_loss, eager_loss, rtol=1e-5)
    for eager, compiled in zip(*training["weights"]):
        np.testing.assert_allclose(compiled, eager, atol=1e-4)


@torch_only
@pytest.mark.slow
def test_step_stays_eager(training):
    assert training["step_jit_compile"] is False


@torch_only
@pytest.mark.slow
def test_compiles_once_per_distinct_block(training):
    assert training["graphs"][0] == DISTINCT_BLOCKS
    assert training["graph_breaks"] == 0


@torch_only
@pytest.mark.slow
def test_shorter_batch_does_not_recompile(training):
    assert training["graphs"][1] == training["graphs"][0]


@torch_only
@pytest.mark.slow
def test_saved_model_is_unchanged(training):
    eager_config, compiled_config = training["configs"]
    assert compiled_config.keys() == eager_config.keys()
    loaded, eager = training["loaded"], training["eager"]
    np.testing.assert_allclose(
        loaded.predict(IMAGES, verbose=0), eager.predict(IMAGES, verbose=0),
        atol=1e-4)


@pytest.mark.skipif(keras.config.backend() == "torch",
                    reason="the other backends refuse")
def test_refused_on_other_backends():
    assert_value_error(
        lambda: compile_repeated_blocks(keras.layers.Dense(2)),
        "needs the torch backend", f"backend='{keras.config.backend()}'")


@torch_only
@pytest.mark.parametrize("model, fragments", [
    ("model.keras", ["must be a Keras model or layer",
                     "Received: model='model.keras'"]),
    (keras.layers.Dense(2, name="dense"),
     ["must hold SelfAttention or CrossAttention layers",
      "model='dense', which holds none"]),
], ids=["not_a_layer", "no_blocks"])
def test_refused_model(model, fragments):
    assert_value_error(lambda: compile_repeated_blocks(model), *fragments)
