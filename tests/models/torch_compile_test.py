"""Training under `torch.compile` (`jit_compile=True` on the torch backend).

Keras' torch backend compiles the training step with `torch.compile` when
the model is compiled with `jit_compile=True`; in mixed bfloat16 that is the
fastest way to train on a CPU (benchmarks/README.md, finding 5). This test
trains the same Perceiver eager and compiled from the same weights, in
float32, and the two must agree.
"""

import keras
import numpy as np
import pytest

from support import tiny_perceiver

pytestmark = [
    pytest.mark.skipif(keras.config.backend() != "torch",
                       reason="torch.compile is the torch backend's"),
    pytest.mark.slow,
]

IMAGES = np.random.default_rng(0).uniform(size=(4, 6, 6, 3)).astype("float32")
LABELS = np.array([0, 1, 2, 3])
# Compiling takes about a minute even for this model: keep it small (a
# second block took a third more CPU time to compile on a machine with no
# compile cache, as CI's is).
MODEL = dict(num_blocks=1, num_self_attends_per_block=1)


def trained(jit_compile, weights):
    """Losses of three SGD steps from `weights`, and the weights after.
    (A learning rate of 0.01 raised this model's loss: too large a step.)"""
    model = tiny_perceiver(**MODEL)
    model(IMAGES)
    model.set_weights(weights)
    model.compile(
        optimizer=keras.optimizers.SGD(0.001),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=jit_compile,
    )
    # Keras turns jit_compile off where it cannot compile: then this test
    # would compare eager with eager.
    assert model.jit_compile == jit_compile
    losses = [float(model.train_on_batch(IMAGES, LABELS)) for _ in range(3)]
    return losses, model.get_weights()


def test_compiled_training_equals_eager():
    keras.utils.set_random_seed(0)
    start = tiny_perceiver(**MODEL)
    start(IMAGES)
    weights = start.get_weights()
    eager_losses, eager_weights = trained(False, weights)
    compiled_losses, compiled_weights = trained(True, weights)
    # The compiled step fuses operators, which changes float rounding.
    np.testing.assert_allclose(compiled_losses, eager_losses, rtol=1e-5)
    assert eager_losses[-1] < eager_losses[0]
    for compiled, eager in zip(compiled_weights, eager_weights):
        np.testing.assert_allclose(compiled, eager, atol=1e-5)
