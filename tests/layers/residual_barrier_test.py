import keras
import numpy as np
from keras import ops

from keras_perceiver.layers.residual_barrier import residual_barrier
from support import to_numpy


def test_identity_in_the_forward_pass():
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    np.testing.assert_array_equal(to_numpy(residual_barrier(ops.array(x))), x)


def test_gradient_is_unchanged():
    if keras.config.backend() != "jax":
        return  # The barrier is the identity function elsewhere.
    import jax
    import jax.numpy as jnp

    x = jnp.asarray(np.random.default_rng(0).normal(size=(2, 3, 4)),
                    "float32")

    def loss(x, barrier):
        y = jnp.tanh(x) * 2.0
        y = residual_barrier(y) if barrier else y
        return jnp.sum(jnp.sin(y) * x)

    expected = jax.grad(lambda x: loss(x, False))(x)
    for function in (jax.grad, lambda f: jax.jit(jax.grad(f))):
        np.testing.assert_allclose(
            function(lambda x: loss(x, True))(x), expected, rtol=1e-6
        )
