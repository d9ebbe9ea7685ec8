"""`perceiver_layout_map`: how ModelParallel shards a Perceiver's weights."""

import keras

# (regex over `variable.path`, which mesh dimension of the variable gets the
# model axis). Paths look like `perceiver/cross_attention_0/attention/query/
# kernel` and `perceiver/latent_transformer_0/self_attention_1/mlp/hidden/
# kernel` (see `[v.path for v in model.weights]`).
_SHARDED_VARIABLES = (
    # The latent array (N, D): each device holds a slice of the channels.
    (r"(.*/)?latents", 1),
    # Attention projections (Megatron style): queries, keys and values split
    # along their output channels, i.e. by heads ...
    (r".*/attention/(query|key|value)/kernel", 1),
    (r".*/attention/(query|key|value)/bias", 0),
    # ... and the output projection along its input channels, so attention
    # needs one reduction at the end.
    (r".*/attention/output/kernel", 0),
    # The MLP: the hidden layer along its output, the second along its input.
    (r".*/mlp/hidden/kernel", 1),
    (r".*/mlp/hidden/bias", 0),
    (r".*/mlp/output/kernel", 0),
)


def perceiver_layout_map(device_mesh, model_axis="model"):
    """A `keras.distribution.LayoutMap` that shards a `Perceiver` over devices.

    Model parallelism in the Megatron style, for
    `keras.distribution.ModelParallel` (JAX backend): along the `model_axis`
    of `device_mesh`,

    - the latent array `(N, D)` is split along `D`;
    - the query, key and value kernels (and biases) of every cross- and
      self-attention are split along their output channels (by heads when
      the head count is a multiple of the axis size), the attention output
      kernel along its input channels;
    - the first Dense layer of every MLP is split along its output channels,
      the second along its input channels.

    Everything else (layer norms, output biases, the classifier head, input
    adapters) is replicated. Data are split along the other mesh axes (the
    batch). A sharded dimension must be a multiple of the model-axis size;
    `EvenShardingModelParallel` (or `jax_distribution("model", ...)`)
    replicates the variables where it is not, for instance the
    cross-attention widths, which default to the input's channel count.

    Args:
        device_mesh: `keras.distribution.DeviceMesh` with an axis named
            `model_axis`.
        model_axis: str. The mesh axis that splits the weights. Defaults to
            `"model"`.

    Returns:
        A `keras.distribution.LayoutMap` keyed by regular expressions over
        the variable paths.

    Example:

    ```python
    devices = keras.distribution.list_devices()  # e.g. 8 GPUs
    mesh = keras.distribution.DeviceMesh(
        (2, 4), axis_names=("batch", "model"), devices=devices)
    keras.distribution.set_distribution(keras.distribution.ModelParallel(
        layout_map=perceiver_layout_map(mesh), batch_dim_name="batch"))
    model = keras_perceiver.Perceiver(num_classes=10, ...)
    ```
    """
    if not isinstance(device_mesh, keras.distribution.DeviceMesh):
        raise ValueError(
            "`device_mesh` must be a `keras.distribution.DeviceMesh`. "
            f"Received: device_mesh={device_mesh!r}"
        )
    if model_axis not in device_mesh.axis_names:
        raise ValueError(
            "`model_axis` must be one of the mesh's axis names "
            f"{list(device_mesh.axis_names)}. Received: "
            f"model_axis={model_axis!r}"
        )
    layout_map = keras.distribution.LayoutMap(device_mesh)
    for pattern, dimension in _SHARDED_VARIABLES:
        rank = 1 if pattern.endswith("bias") else 2
        axes = [None] * rank
        axes[dimension] = model_axis
        layout_map[pattern] = tuple(axes)
    return layout_map
