"""A fusion barrier for the residual stream's gradient under XLA on the CPU."""

import functools

import keras


def residual_barrier(latents):
    """Returns `latents` unchanged; on JAX, materialises their gradient.

    XLA:CPU (jaxlib 0.10) fuses the backward pass's element-wise LayerNorm
    gradients of every later layer into each earlier layer's gradient
    fusions instead of computing them once: in the medium benchmark
    configuration one fusion read 276 operands, and a float32 training step
    took 6.9 s on JAX against 1.8 s on TensorFlow (benchmarks/README.md).
    `jax.lax.optimization_barrier` does not help there (XLA:CPU removes it
    before fusion). This identity has a custom gradient that passes the
    gradient through a `lax.cond` with identical branches: XLA does not fuse
    across a conditional, so the residual gradient is computed once per
    layer. Other backends return `latents` as they are.
    """
    if keras.config.backend() != "jax":
        return latents
    return _jax_barrier()(latents)


@functools.cache
def _jax_barrier():
    import jax
    import jax.numpy as jnp

    @jax.custom_vjp
    def barrier(x):
        return x

    def forward(x):
        return x, None

    def backward(_, gradient):
        keep = jnp.isfinite(jnp.ravel(gradient)[0])
        return (jax.lax.cond(keep, lambda g: g, lambda g: g * 1, gradient),)

    barrier.defvjp(forward, backward)
    return barrier

