"""The causal LM recipe: next-byte cross-entropy in nats, read in bits."""

import math

import numpy as np

import keras_perceiver as kp
from support import to_numpy


def test_bits_per_byte_is_the_loss_in_bits():
    assert math.isclose(kp.training.bits_per_byte(math.log(256)), 8.0)
    assert kp.training.bits_per_byte(0.0) == 0.0


def test_the_loss_is_the_next_bytes_cross_entropy_in_nats():
    model = kp.PerceiverCausalLM(max_context=12, num_latents=4,
                                 latent_dim=8, num_self_heads=2)
    windows = np.random.default_rng(0).integers(6, 262, (3, 13))
    inputs, targets = windows[:, :-1], windows[:, -4:]
    kp.training.compile_for_causal_lm(model, learning_rate=1e-3)
    loss = model.evaluate(inputs, targets, verbose=0)
    logits = to_numpy(model(inputs)).astype("float64")
    log_probabilities = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -np.take_along_axis(log_probabilities, targets[..., None],
                                   axis=-1).mean()
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    history = model.fit(inputs, targets, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
