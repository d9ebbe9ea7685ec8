"""Compiling an inference function of a model, as Keras compiles `predict`.

The backend-specific part of `PerceiverCausalLM.generate`'s compiled
steps, in one place.
"""

import keras


def compile_inference(model, function):
    """`function` compiled once and reused, the way each backend's Keras
    trainer compiles `model.predict`'s step.

    - JAX: `jax.jit`, with the values of the model's variables passed in
      (through a `keras.StatelessScope`), so that every call reads the
      weights of that moment, not those of the first trace.
    - TensorFlow: `tf.function(jit_compile=model.jit_compile)` (Keras'
      "auto": XLA on a GPU or TPU, a graph on the CPU), which reads the
      variables themselves.
    - PyTorch: eager, without gradients (Keras' "auto" does not
      `torch.compile`, and PyTorch needs no compiling per shape).

    With `model.run_eagerly` (or `jit_compile=False` on JAX) `function`
    runs eagerly on every backend. Give it the same shapes and dtypes on
    every call (integers as tensors, not Python ints) so that JAX and
    TensorFlow trace it once.

    Args:
        model: a built `keras.Model` whose variables `function` reads.
        function: a function of tensors (or nested structures of them)
            returning tensors, for inference (no variable updates).

    Returns:
        A function taking and returning what `function` does.

    Example:

    >>> model = keras.Sequential([keras.layers.Dense(2)])
    >>> model.build((None, 3))
    >>> double = compile_inference(model, lambda x: 2 * model(x))
    >>> tuple(double(keras.ops.ones((4, 3))).shape)
    (4, 2)
    """
    backend = keras.config.backend()
    if backend == "torch":
        return _without_gradients(function)
    if model.run_eagerly or (backend == "jax" and not model.jit_compile):
        return function
    if backend == "jax":
        return _jax_jit(model, function)
    import tensorflow as tf

    return tf.function(function, jit_compile=model.jit_compile,
                       reduce_retracing=True)


def _without_gradients(function):
    import torch

    def run(*args):
        with torch.no_grad():
            return function(*args)

    return run


def _jax_jit(model, function):
    import jax

    @jax.jit
    def stateless(values, *args):
        with keras.StatelessScope(state_mapping=zip(model.variables, values)):
            return function(*args)

    def run(*args):
        return stateless([variable.value for variable in model.variables],
                         *args)

    return run
