"""FLOPs of a Perceiver counted from its architecture.

FLOPs are 2 x multiply-adds, the convention of the paper (about 707 GFLOPs
for the ImageNet model's forward pass). Only the matrix products are counted:
the Dense projections, the attention logits `Q K^T` and the attention-weighted
sum of the values. LayerNorm, GELU, softmax, the residual additions and the
Fourier features add well under 1 % and are left out, as is usual.

A training step is taken as 3 x the forward pass (the backward pass computes
the gradients with respect to both the activations and the weights, each
about as costly as the forward pass), the usual convention.
"""

TRAINING_STEP_MULTIPLIER = 3


def dense_flops(rows, in_channels, out_channels):
    """FLOPs of `rows` vectors through a Dense layer `in -> out`."""
    return 2 * rows * in_channels * out_channels


def attention_flops(num_queries, num_keys, query_channels, key_channels,
                    qk_channels, v_channels, output_channels):
    """FLOPs of one multi-head attention with its four projections.

    Heads split the `qk_channels` and `v_channels`, so the head count does
    not change the total.
    """
    return (
        dense_flops(num_queries, query_channels, qk_channels)
        + dense_flops(num_keys, key_channels, qk_channels)
        + dense_flops(num_keys, key_channels, v_channels)
        + 2 * num_queries * num_keys * qk_channels
        + 2 * num_queries * num_keys * v_channels
        + dense_flops(num_queries, v_channels, output_channels)
    )


def mlp_flops(rows, channels, widening_factor):
    """FLOPs of the Perceiver MLP `channels -> w * channels -> channels`."""
    hidden = channels * widening_factor
    return dense_flops(rows, channels, hidden) + dense_flops(
        rows, hidden, channels
    )


def cross_attend_flops(num_latents, latent_dim, num_inputs, input_channels,
                       qk_channels=None, v_channels=None, widening_factor=1):
    """FLOPs of one `CrossAttention` for one sample."""
    qk_channels = qk_channels or input_channels
    v_channels = v_channels or qk_channels
    return attention_flops(
        num_latents, num_inputs, latent_dim, input_channels, qk_channels,
        v_channels, latent_dim,
    ) + mlp_flops(num_latents, latent_dim, widening_factor)


def self_attend_flops(num_latents, latent_dim, qk_channels=None,
                      v_channels=None, widening_factor=1):
    """FLOPs of one `SelfAttention` layer for one sample: a cross-attend of
    the latents to themselves."""
    return cross_attend_flops(
        num_latents, latent_dim, num_latents, latent_dim, qk_channels,
        v_channels, widening_factor,
    )


def perceiver_forward_flops(model, input_shape=None):
    """FLOPs of one forward pass of a `Perceiver` for one sample.

    Weight sharing does not change the count: a shared layer is applied as
    often as an unshared one.

    Args:
        model: a `keras_perceiver.Perceiver`. If it is not built yet, it is
            built for `input_shape` (no forward pass is run).
        input_shape: tuple. Shape of one sample, without the batch axis,
            e.g. `(224, 224, 3)`. Defaults to None: the shape the model is
            built for.

    Returns:
        The FLOPs (2 x multiply-adds) as an int.

    Example:

    >>> import keras_perceiver as kp
    >>> model = kp.Perceiver(num_classes=1000)  # the paper's ImageNet model
    >>> round(perceiver_forward_flops(model, (224, 224, 3)) / 1e9)
    707
    """
    if not model.built:
        if input_shape is None:
            raise ValueError(
                "`input_shape` is needed for a model that is not built. "
                "Received: input_shape=None"
            )
        model.build((None,) + tuple(input_shape))
    encoder = model.encoder
    num_inputs, input_channels = encoder.byte_array_shape[-2:]
    if num_inputs is None:
        raise ValueError(
            "The number of inputs M must be known to count FLOPs. "
            f"Received: byte array shape {encoder.byte_array_shape}"
        )
    n, d = encoder.num_latents, encoder.latent_dim
    cross = cross_attend_flops(
        n, d, num_inputs, input_channels,
        qk_channels=encoder.cross_qk_channels,
        v_channels=encoder.cross_v_channels,
        widening_factor=encoder.cross_widening_factor,
    )
    latent = encoder.num_self_attends_per_block * self_attend_flops(
        n, d,
        qk_channels=encoder.self_qk_channels,
        v_channels=encoder.self_v_channels,
        widening_factor=encoder.self_widening_factor,
    )
    head = dense_flops(1, d, model.num_classes)
    return encoder.num_blocks * (cross + latent) + head


def training_step_flops(forward_flops, batch_size=1):
    """FLOPs of a training step: forward + backward, 3 x the forward pass.

    Args:
        forward_flops: int. FLOPs of one example's forward pass
            (`perceiver_forward_flops`).
        batch_size: int. Examples per step. Defaults to 1.

    Returns:
        int.

    Example:

    >>> training_step_flops(1_000_000, batch_size=32)
    96000000
    """
    return TRAINING_STEP_MULTIPLIER * forward_flops * batch_size


def causal_lm_forward_flops(model, num_inputs=None):
    """FLOPs of one forward pass of a `PerceiverCausalLM` for one sample.

    The cross-attend of the N latents to the M inputs (the key/value
    projections over all M, the attention of N queries), the L causal
    self-attends of the N latents (a causal mask skips no product here:
    the masked logits are computed too) and the output layer over the N
    latents. With `num_latents == max_context` the model is a plain causal
    Transformer of L + 1 layers.

    Args:
        model: a `keras_perceiver.PerceiverCausalLM`.
        num_inputs: int or None. The input length M. Defaults to None,
            meaning `model.max_context`.

    Returns:
        The FLOPs (2 x multiply-adds) as an int.

    Example:

    >>> import keras_perceiver as kp
    >>> model = kp.PerceiverCausalLM(max_context=1024, num_latents=256,
    ...                              latent_dim=128, num_self_attends=3)
    >>> round(causal_lm_forward_flops(model) / 1e6)
    705
    """
    num_inputs = num_inputs or model.max_context
    n, d = min(model.num_latents, num_inputs), model.latent_dim
    widening = model.latent_transformer.widening_factor
    cross = cross_attend_flops(n, d, num_inputs, d, widening_factor=widening)
    latent = model.latent_transformer.num_layers * self_attend_flops(
        n, d, widening_factor=widening
    )
    return cross + latent + dense_flops(n, d, model.output_dense.units)
