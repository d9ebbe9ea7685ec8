"""`torch.compile` on each repeated block of a model, not on the whole step.

Keras' `jit_compile=True` on the torch backend compiles the whole training
step, and dynamo unrolls every block repeat and every self-attend into one
graph: compile time grows with depth (438 s for the medium benchmark
model). `compile_repeated_blocks` compiles the layers that repeat instead,
`SelfAttention` and `CrossAttention`: each distinct code path compiles
once and every other self-attend, block repeat and weight-shared
cross-attend reuses it, its weights passed to the compiled graph as
inputs. The training step stays eager (Keras' loop, the optimizer); the
backward pass runs through the compiled regions (AOTAutograd). The batch
dimension is symbolic (unbacked), so an epoch's shorter last batch does
not compile again.

This is the torch backend's own code, in one place (beside the recipes
that use it): the layers stay `keras.ops` only. On JAX and TensorFlow,
`jit_compile=True` (XLA) compiles the whole step (`backend_differences`'
`compiles_repeated_blocks`).

Example:

>>> model = keras_perceiver.Perceiver(num_classes=10)  # doctest: +SKIP
>>> compile_repeated_blocks(model)  # doctest: +SKIP
8
>>> model.compile("adam", "sparse_categorical_crossentropy")  # doctest: +SKIP
"""

import functools

import keras

from keras_perceiver import backend_differences
from keras_perceiver.layers.cross_attention import CrossAttention
from keras_perceiver.layers.self_attention import SelfAttention

# The layers compiled: one compiled function per class, shared by its
# instances.
REPEATED_BLOCKS = (SelfAttention, CrossAttention)
# The attributes by which Keras opens a layer's name scope: they differ from
# one self-attend to the next ("dropout_13", ".../self_attention_2").
NAME_SCOPE_ATTRIBUTES = (".name", "._parent_path")
# Dynamo's name for the one symbolic batch size of a block's tensors.
BATCH_SHAPE_ID = "batch"


def compile_repeated_blocks(model):
    """Compiles every `SelfAttention` and `CrossAttention` in `model` with
    `torch.compile`, once per class and code path.

    The weights, config and saved files are unchanged: only the layers'
    calls run compiled, training and inference (the first call of each
    code path compiles it, in seconds). Compile the training step itself
    without `jit_compile`: `step_jit_compile` does both.

    Args:
        model: a Keras layer or model holding the blocks, e.g. a
            `keras_perceiver.Perceiver`.

    Returns:
        int. How many layers now run compiled.

    Raises:
        ValueError: on a backend other than torch, or for a `model` that
            is not a Keras layer or holds no such block.

    Example:

    >>> compile_repeated_blocks(model)  # doctest: +SKIP
    6
    """
    if not backend_differences.current().compiles_repeated_blocks:
        raise ValueError(
            "`compile_repeated_blocks` needs the torch backend "
            "(KERAS_BACKEND=torch); on JAX and TensorFlow compile the "
            "training step with `jit_compile=True`. Received: "
            f"backend={keras.config.backend()!r}"
        )
    layers = _repeated_blocks(model)
    import torch

    compiled = {
        block: torch.compile(
            block.call, options={"guard_filter_fn": _without_name_scopes}
        )
        for block in REPEATED_BLOCKS
    }
    for layer in layers:
        layer.call = functools.partial(
            _compiled_call, compiled[type(layer)], layer
        )
    return len(layers)


def step_jit_compile(model, jit_compile):
    """`model.compile`'s `jit_compile` for a step compiled or not as asked.

    On torch, a compiled step (True) is `compile_repeated_blocks(model)`
    and an eager step: each block's kernels fused, for a fraction of the
    whole step's compile time. Elsewhere, and for False or "auto",
    `jit_compile` as it is.

    Args:
        model: the model about to be compiled.
        jit_compile: bool or "auto". Whether to compile the training step.

    Returns:
        bool or "auto": what to pass to `model.compile`.

    Example:

    >>> model.compile("adam", jit_compile=step_jit_compile(model, True))
    ... # doctest: +SKIP
    """
    if jit_compile is True and (
            backend_differences.current().compiles_repeated_blocks):
        compile_repeated_blocks(model)
        return False
    return jit_compile


def _repeated_blocks(model):
    if not isinstance(model, keras.layers.Layer):
        raise ValueError(
            "`model` must be a Keras model or layer, such as a "
            f"keras_perceiver.Perceiver. Received: model={model!r}"
        )
    layers = [layer for layer in model._flatten_layers()
              if type(layer) in REPEATED_BLOCKS]
    if not layers:
        raise ValueError(
            "`model` must hold SelfAttention or CrossAttention layers (a "
            "keras-perceiver model) for `compile_repeated_blocks` to "
            f"compile. Received: model={model.name!r}, which holds none"
        )
    return layers


def _compiled_call(compiled, layer, *args, **kwargs):
    """`compiled(layer, ...)` on contiguous tensors with an unbacked batch
    dimension; eager for the symbolic calls by which Keras infers shapes
    (tensors on the "meta" device)."""
    import torch

    # The first cross-attend's latents are the learned array broadcast over
    # the batch (stride 0): contiguous, they share the other calls' graph.
    args, kwargs = torch.utils._pytree.tree_map_only(
        torch.Tensor, torch.Tensor.contiguous, (args, kwargs))
    tensors = [value for value in torch.utils._pytree.tree_leaves(
        (args, kwargs)) if isinstance(value, torch.Tensor)]
    if any(tensor.device.type == "meta" for tensor in tensors):
        return type(layer).call(layer, *args, **kwargs)
    batch_size = args[0].shape[0]
    for tensor in tensors:
        # The latents' batch, and the inputs', masks' and keys' that share
        # it (a causal mask `(N, N)` has none), one symbol for all. Unbacked,
        # not merely dynamic: inductor's CPU kernels would otherwise guard
        # on it (a weight's gradient summed over more than 4096 elements
        # takes another accumulation), and a shorter last batch across such
        # a bound would compile again. A batch of 1 compiles on its own
        # (unbacked sizes are never 0 or 1).
        if batch_size > 1 and tensor.ndim and tensor.shape[0] == batch_size:
            torch._dynamo.decorators.mark_unbacked(
                tensor, 0, shape_id=BATCH_SHAPE_ID)
    return compiled(layer, *args, **kwargs)


def _without_name_scopes(guard_entries):
    """Keeps every guard but those on the names of the layers' name scopes.

    Keras reads each sub-layer's `name` and `_parent_path` (where it sits in
    the model) when it opens its name scope; guarding them would make every
    instance compile its own copy of the same graph. They only name the
    variables a layer creates, and built blocks create none.
    """
    return [not entry.name.endswith(NAME_SCOPE_ATTRIBUTES)
            for entry in guard_entries]
