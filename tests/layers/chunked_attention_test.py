"""Cross-attention over chunks of the inputs equals the unchunked attention.

Forward pass and gradients (with respect to the latents, the inputs and
every weight), with and without masks, eagerly and compiled (JAX `jit`,
TensorFlow XLA; PyTorch runs eagerly), at M = 37 inputs in chunks of 8
(the last chunk overlaps the one before). Also: the chunk-size rule, bad
arguments, configs, a training step through the Keras trainer, mixed
bfloat16, the shared input projections of cross-attends 2..B, and what the
backward pass keeps (on JAX the compiled scratch memory, on PyTorch the
saved tensors).
"""

import keras
import numpy as np
import pytest
from keras import ops

import keras_perceiver as kp
from keras_perceiver.layers import CrossAttention, PerceiverAttention
from keras_perceiver.layers.perceiver_attention import AUTO_CHUNK_SIZE
from layer_harness import assert_config_round_trip
from support import to_numpy

BACKEND = keras.config.backend()
rng = np.random.default_rng(0)
LATENTS = rng.normal(size=(3, 6, 16)).astype("float32")
INPUTS = rng.normal(size=(3, 37, 7)).astype("float32")
MASKS = {
    "no_mask": None,
    "random_mask": rng.random((3, 37)) > 0.4,
    # The last example has no input at all: its attention gives zeros.
    "fully_masked_example": np.concatenate(
        [rng.random((2, 37)) > 0.4, np.zeros((1, 37), bool)]
    ),
}
LAYER_CONFIGS = {
    "one_head": dict(num_heads=1),
    # Value width != query/key width: the explicit (unfused) path.
    "two_heads_narrow_values": dict(num_heads=2, qk_channels=8, v_channels=4),
}
ATOL = 1e-5


def twin_cross_attends(chunk_size, **config):
    """A chunked and an unchunked `CrossAttention` with the same weights."""
    chunked = CrossAttention(input_chunk_size=chunk_size, **config)
    whole = CrossAttention(input_chunk_size=INPUTS.shape[1], **config)
    for layer in (chunked, whole):
        layer(LATENTS, INPUTS)
    whole.set_weights(chunked.get_weights())
    return chunked, whole


def output_and_gradients(function, variables, tensors, compiled):
    """`function(*tensors)` and the gradients of a scalar loss of it.

    The gradients are with respect to `variables` (Keras variables) and
    then `tensors`, as NumPy arrays.
    """

    def loss(output):
        return ops.sum(output * ops.cos(3.0 * output))

    if BACKEND == "jax":
        import jax

        def stateless(values, tensors):
            mapping = list(zip(variables, values))
            with keras.StatelessScope(state_mapping=mapping):
                output = function(*tensors)
            return loss(output), output

        gradient = jax.grad(stateless, argnums=(0, 1), has_aux=True)
        if compiled:
            gradient = jax.jit(gradient)
        tensors = [jax.numpy.asarray(t) for t in tensors]
        (weights, inputs), output = gradient(
            [v.value for v in variables], tensors
        )
        gradients = list(weights) + list(inputs)
    elif BACKEND == "tensorflow":
        import tensorflow as tf

        def run(tensors):
            with tf.GradientTape() as tape:
                tape.watch(tensors)
                output = function(*tensors)
                value = loss(output)
            sources = [v.value for v in variables] + list(tensors)
            return output, tape.gradient(value, sources)

        if compiled:
            run = tf.function(run, jit_compile=True)
        output, gradients = run([tf.constant(t) for t in tensors])
    else:
        import torch

        tensors = [torch.tensor(t, requires_grad=True) for t in tensors]
        output = function(*tensors)
        sources = [v.value for v in variables] + tensors
        gradients = torch.autograd.grad(loss(output), sources)
    return to_numpy(output), [to_numpy(g) for g in gradients]


def assert_same_output_and_gradients(chunked, whole, mask, compiled):
    def call(layer):
        return lambda latents, inputs: layer(latents, inputs, mask=mask)

    expected, expected_gradients = output_and_gradients(
        call(whole), whole.trainable_variables, [LATENTS, INPUTS], compiled
    )
    output, gradients = output_and_gradients(
        call(chunked), chunked.trainable_variables, [LATENTS, INPUTS],
        compiled,
    )
    np.testing.assert_allclose(output, expected, rtol=0, atol=ATOL)
    assert len(gradients) == len(chunked.trainable_variables) + 2
    for gradient, expected_gradient in zip(gradients, expected_gradients):
        assert_close_to_scale(gradient, expected_gradient)
    return output


def assert_close_to_scale(actual, expected, tolerance=ATOL):
    """Equal to `tolerance` times the larger of 1 and the largest |entry|.

    Gradients of a sum over many outputs reach about 10 here, where float32
    rounding alone differs by a few 1e-6 between summation orders.
    """
    scale = max(1.0, float(np.abs(expected).max()))
    assert np.abs(expected).max() > 0
    np.testing.assert_allclose(actual, expected, rtol=0,
                               atol=tolerance * scale)


def compiled_cases():
    """Every mask on the explicit (unfused) path, and the fused path with a
    mask: each compiled case costs an XLA compilation."""
    cases = [("two_heads_narrow_values", mask_name) for mask_name in MASKS]
    return cases + [("one_head", "random_mask")]


@pytest.mark.parametrize(
    "config_name, mask_name, compiled",
    [pytest.param(config_name, mask_name, False,
                  id=f"{config_name}-{mask_name}-eager")
     for config_name in LAYER_CONFIGS for mask_name in MASKS]
    + [pytest.param(config_name, mask_name, True,
                    id=f"{config_name}-{mask_name}-compiled",
                    marks=pytest.mark.slow)
       for config_name, mask_name in compiled_cases()],
)
def test_chunks_equal_the_whole_attention(config_name, mask_name, compiled):
    if compiled and BACKEND == "torch":
        pytest.skip("the torch backend runs eagerly")
    chunked, whole = twin_cross_attends(8, **LAYER_CONFIGS[config_name])
    assert chunked.uses_chunks(6, 37) and not whole.uses_chunks(6, 37)
    output = assert_same_output_and_gradients(
        chunked, whole, MASKS[mask_name], compiled
    )
    assert np.isfinite(output).all()


@pytest.mark.skipif(BACKEND != "tensorflow", reason="TensorFlow graphs")
def test_tensorflow_graph_with_unknown_input_length_attends_whole():
    import tensorflow as tf

    chunked, whole = twin_cross_attends(8, num_heads=1)
    call = tf.function(
        lambda latents, inputs: chunked(latents, inputs),
        input_signature=[tf.TensorSpec((None, 6, 16)),
                         tf.TensorSpec((None, None, 7))],
    )
    np.testing.assert_allclose(
        to_numpy(call(LATENTS, INPUTS)), to_numpy(whole(LATENTS, INPUTS)),
        atol=ATOL,
    )


@pytest.mark.parametrize("chunk_size", [1, 5, 36])
def test_any_chunk_size_gives_the_same_result(chunk_size):
    chunked, whole = twin_cross_attends(chunk_size, num_heads=1)
    assert_same_output_and_gradients(
        chunked, whole, MASKS["random_mask"], compiled=False
    )


def test_fully_masked_example_gives_a_zero_attention_residual():
    attention = PerceiverAttention(
        qk_channels=8, output_channels=16, input_chunk_size=8
    )
    mask = MASKS["fully_masked_example"]
    output = to_numpy(attention(LATENTS, INPUTS, mask=mask))
    np.testing.assert_array_equal(output[2], 0.0)
    alone = to_numpy(attention(LATENTS[:1], INPUTS[:1], mask=mask[:1]))
    np.testing.assert_allclose(output[:1], alone, atol=ATOL)


@pytest.mark.backend_independent
def test_chunk_size_rule():
    attention = PerceiverAttention(qk_channels=8, output_channels=8)
    # The whole axis up to 2**22 logits per example, then chunks of 4096.
    assert attention.chunk_size_for(128, 32768) is None
    assert attention.chunk_size_for(128, 32769) == AUTO_CHUNK_SIZE == 4096
    assert attention.chunk_size_for(512, 8192) is None
    assert attention.chunk_size_for(512, 8193) == 4096
    assert attention.chunk_size_for(128, None) is None
    two_heads = PerceiverAttention(
        num_heads=2, qk_channels=8, output_channels=8
    )
    assert two_heads.chunk_size_for(128, 32768) == 4096
    fixed = PerceiverAttention(
        qk_channels=8, output_channels=8, input_chunk_size=8
    )
    assert fixed.chunk_size_for(6, 8) is None
    assert fixed.chunk_size_for(6, 9) == 8
    assert fixed.chunk_size_for(6, 10**6) == 8


@pytest.mark.backend_independent
@pytest.mark.parametrize("value", [0, -8, 2.5, True, "8", [8]])
@pytest.mark.parametrize(
    "make",
    [
        lambda size: PerceiverAttention(
            qk_channels=8, output_channels=8, input_chunk_size=size
        ),
        lambda size: CrossAttention(input_chunk_size=size),
        lambda size: kp.PerceiverEncoder(input_chunk_size=size),
        lambda size: kp.Perceiver(num_classes=2, input_chunk_size=size),
    ],
    ids=["PerceiverAttention", "CrossAttention", "PerceiverEncoder",
         "Perceiver"],
)
def test_bad_chunk_size_raises(make, value):
    with pytest.raises(ValueError, match="input_chunk_size.*Received"):
        make(value)


@pytest.mark.parametrize("chunk_size", [8, 37])
def test_mask_that_does_not_match_the_inputs_raises(chunk_size):
    cross = CrossAttention(input_chunk_size=chunk_size)
    for mask in (np.ones((3, 36), bool), np.ones((3, 37, 1), bool),
                 np.ones((2, 37), bool)):
        with pytest.raises(ValueError, match="`mask`.*Received"):
            cross(LATENTS, INPUTS, mask=mask)


def test_configs_carry_the_chunk_size():
    layers = [
        PerceiverAttention(qk_channels=8, output_channels=8,
                           input_chunk_size=8),
        CrossAttention(input_chunk_size=16),
        kp.PerceiverEncoder(num_latents=4, latent_dim=8, num_blocks=2,
                            num_self_attends_per_block=1, num_self_heads=2,
                            input_chunk_size=32),
    ]
    for layer in layers:
        assert_config_round_trip(layer)
        assert layer.get_config()["input_chunk_size"] == (
            layer.input_chunk_size
        )


def test_configs_without_a_chunk_size_still_load():
    for layer in (CrossAttention(), kp.Perceiver(num_classes=2)):
        config = layer.get_config()
        del config["input_chunk_size"]
        restored = layer.__class__.from_config(config)
        assert getattr(restored, "encoder", restored).input_chunk_size is None


def tiny_perceiver(chunk_size):
    return kp.Perceiver(
        num_classes=3, num_latents=6, latent_dim=16, num_blocks=2,
        num_self_attends_per_block=1, num_self_heads=2,
        input_chunk_size=chunk_size,
    )


@pytest.mark.parametrize("mask_name", ["no_mask", "fully_masked_example"])
def test_training_step_is_the_same_with_chunks(mask_name, tmp_path):
    mask = MASKS[mask_name]
    inputs = INPUTS if mask is None else {"inputs": INPUTS, "mask": mask}
    labels = np.array([0, 1, 2])
    models = [tiny_perceiver(8), tiny_perceiver(37)]
    for model in models:
        model(inputs)
        model.compile(optimizer=keras.optimizers.SGD(0.1),
                      loss=keras.losses.SparseCategoricalCrossentropy(
                          from_logits=True))
    models[1].set_weights(models[0].get_weights())
    losses = [float(model.train_on_batch(inputs, labels)) for model in models]
    np.testing.assert_allclose(losses[0], losses[1], atol=ATOL)
    for chunked, whole in zip(models[0].get_weights(),
                              models[1].get_weights()):
        assert_close_to_scale(chunked, whole)
    assert_close_to_scale(
        models[0].predict_on_batch(inputs), models[1].predict_on_batch(inputs)
    )
    path = tmp_path / "chunked.keras"
    models[0].save(path)
    restored = keras.saving.load_model(path)
    assert restored.encoder.input_chunk_size == 8
    np.testing.assert_allclose(
        to_numpy(restored(inputs)), to_numpy(models[0](inputs)), atol=1e-6
    )


def test_mixed_bfloat16_is_close_to_float32():
    chunked32, _ = twin_cross_attends(8, num_heads=1)
    expected = to_numpy(chunked32(LATENTS, INPUTS, mask=MASKS["random_mask"]))
    keras.config.set_dtype_policy("mixed_bfloat16")
    chunked, whole = twin_cross_attends(8, num_heads=1)
    chunked.set_weights(chunked32.get_weights())
    whole.set_weights(chunked32.get_weights())
    outputs = [
        layer(LATENTS, INPUTS, mask=MASKS["random_mask"])
        for layer in (chunked, whole)
    ]
    assert all(keras.backend.standardize_dtype(o.dtype) == "bfloat16"
               for o in outputs)
    outputs = [to_numpy(ops.cast(o, "float32")) for o in outputs]
    scale = np.abs(expected).max()
    np.testing.assert_allclose(outputs[0], expected, atol=0.02 * scale)
    np.testing.assert_allclose(outputs[0], outputs[1], atol=0.02 * scale)
    model = tiny_perceiver(8)
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(
                      from_logits=True))
    loss = model.train_on_batch(INPUTS, np.array([0, 1, 2]))
    assert np.isfinite(loss)


def test_shared_cross_attends_project_the_inputs_once(monkeypatch):
    # Paper sharing with 4 blocks: cross-attend 0 has its own weights,
    # cross-attends 1..3 share one layer.
    encoder = kp.PerceiverEncoder(
        num_latents=6, latent_dim=16, num_blocks=4,
        num_self_attends_per_block=1, num_self_heads=2,
    )
    encoder(INPUTS)
    shared = encoder.cross_attend_for_block(1)
    assert shared is encoder.cross_attend_for_block(3)
    calls = []
    for layer in encoder.cross_attends:
        for dense in (layer.attention.key_dense, layer.attention.value_dense):
            original = dense.call

            def counting(inputs, _original=original, _name=dense.path):
                calls.append(_name)
                return _original(inputs)

            monkeypatch.setattr(dense, "call", counting)
    mask = MASKS["random_mask"]
    naive = kp.PerceiverEncoder.from_config(encoder.get_config())
    naive(INPUTS)
    naive.set_weights(encoder.get_weights())
    naive._share_projected_inputs = False

    output = to_numpy(encoder(INPUTS, mask=mask))
    # Keys and values once for cross-attend 0, once for 1..3.
    assert len(calls) == 4, calls
    np.testing.assert_array_equal(output, to_numpy(naive(INPUTS, mask=mask)))

    def run(model):
        return lambda inputs: model(inputs, mask=mask)

    expected, expected_gradients = output_and_gradients(
        run(naive), naive.trainable_variables, [INPUTS], compiled=False
    )
    output, gradients = output_and_gradients(
        run(encoder), encoder.trainable_variables, [INPUTS], compiled=False
    )
    np.testing.assert_allclose(output, expected, rtol=0, atol=1e-6)
    # Summed over blocks before or after the projections' backward pass:
    # float32 rounding, relative to the largest gradient entry (a few
    # entries, such as the input LayerNorm's offset before the keys, are
    # sums of large terms that cancel to about 1e-5).
    scale = max(float(np.abs(g).max()) for g in expected_gradients)
    for gradient, expected_gradient in zip(gradients, expected_gradients):
        np.testing.assert_allclose(
            gradient, expected_gradient, rtol=0, atol=1e-6 * scale
        )


def test_chunked_cross_attends_do_not_share_projections():
    encoder = kp.PerceiverEncoder(
        num_latents=6, latent_dim=16, num_blocks=4,
        num_self_attends_per_block=1, num_self_heads=2, input_chunk_size=8,
    )
    encoder(INPUTS)
    byte_array = ops.convert_to_tensor(INPUTS)
    assert encoder._shared_projected_inputs(byte_array) == {}
    unchunked = kp.PerceiverEncoder.from_config(
        {**encoder.get_config(), "input_chunk_size": None}
    )
    unchunked(INPUTS)
    shared = unchunked._shared_projected_inputs(byte_array)
    assert list(shared) == [id(unchunked.cross_attend_for_block(1))]


@pytest.mark.skipif(BACKEND != "jax", reason="XLA memory analysis of JAX")
def test_backward_pass_keeps_no_logit_matrix():
    """The compiled gradient's scratch memory does not grow with M x N."""
    import jax

    num_inputs, num_latents = 16384, 64
    latents = np.zeros((2, num_latents, 32), "float32")
    inputs = np.zeros((2, num_inputs, 8), "float32")
    logit_bytes = 4 * latents.shape[0] * num_latents * num_inputs

    def scratch_bytes(chunk_size):
        layer = CrossAttention(input_chunk_size=chunk_size)
        layer(latents, inputs[:, :8])
        variables = layer.trainable_variables

        def loss(values):
            mapping = list(zip(variables, values))
            with keras.StatelessScope(state_mapping=mapping):
                return ops.sum(layer(latents, inputs) ** 2)

        compiled = jax.jit(jax.grad(loss)).lower(
            [v.value for v in variables]
        ).compile()
        return compiled.memory_analysis().temp_size_in_bytes

    whole, chunked = scratch_bytes(num_inputs), scratch_bytes(1024)
    # Unchunked: at least three logit-sized arrays (the logits, the
    # probabilities, their gradient).
    assert whole > 3 * logit_bytes, (whole, logit_bytes)
    # Chunked: a chunk's worth (1/16 of the logits) and the statistics.
    assert chunked < logit_bytes / 2, (chunked, logit_bytes)


@pytest.mark.skipif(BACKEND != "torch", reason="PyTorch's own backward pass")
def test_torch_backward_pass_keeps_nothing_per_chunk():
    """What a chunked cross-attend keeps for its backward pass does not
    grow with the number of chunks: the output and one log-sum-exp per
    query, not statistics per chunk (which fragmented glibc's heap)."""
    import torch

    latents = torch.tensor(LATENTS, requires_grad=True)

    def saved_bytes(chunk_size):
        layer = CrossAttention(input_chunk_size=chunk_size)
        layer(LATENTS, INPUTS)
        saved = []

        def pack(tensor):
            saved.append(tensor.numel() * tensor.element_size())
            return tensor

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            layer(latents, INPUTS)
        return sum(saved)

    assert saved_bytes(4) == saved_bytes(16)
