import keras
import numpy as np
import pytest

import keras_perceiver as kp
from layer_harness import run_task_test
from support import to_numpy

TEXTS = ["Perceivers read bytes.", "héllo"]


def tiny_masked_lm(**overrides):
    encoder = kp.PerceiverEncoder(
        num_latents=8,
        latent_dim=16,
        num_blocks=1,
        num_self_attends_per_block=2,
        num_cross_heads=2,
        num_self_heads=2,
        block_scheme="perceiver_io",
        input_adapter=kp.adapters.TextAdapter(max_length=32, embedding_dim=12),
    )
    return kp.PerceiverMaskedLM(encoder, decoder_num_heads=2, **overrides)


def encoded(texts=TEXTS, length=None):
    ids, mask = kp.ByteTokenizer().encode(texts, length=length)
    return {"inputs": ids, "mask": mask}


def test_logits_per_token_over_the_vocabulary():
    model = tiny_masked_lm()
    inputs = encoded()
    logits = model(inputs)
    assert tuple(logits.shape) == inputs["inputs"].shape + (262,)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"


def test_logits_are_tied_to_the_input_embeddings():
    model = tiny_masked_lm()
    inputs = encoded()
    model(inputs)
    adapter = model.encoder.input_adapter
    assert model.decoder.output_projection is None
    byte_array, mask = model.encoder.encode_inputs(inputs)
    latents = model.encoder.attend(byte_array, mask=mask)
    queries = model.output_queries(byte_array)[:, : byte_array.shape[1]]
    decoded = to_numpy(model.decoder(queries, latents))
    expected = decoded @ to_numpy(adapter.token_embeddings).T + to_numpy(
        model.output_bias
    )
    np.testing.assert_allclose(to_numpy(model(inputs)), expected, atol=1e-4)


def test_symbolic_call_takes_any_length():
    model = tiny_masked_lm()
    model(encoded())
    ids = keras.Input((10,), dtype="int32")
    assert model.compute_output_shape({"inputs": (None, 10)}) == (
        None, 10, 262,
    )
    assert tuple(model(ids).shape) == (None, 10, 262)


def test_padding_does_not_change_the_real_tokens_logits():
    model = tiny_masked_lm()
    short = encoded(["abc"])
    padded = encoded(["abc"], length=12)
    expected = to_numpy(model(short))
    logits = to_numpy(model(padded))
    np.testing.assert_allclose(logits[:, :5], expected, atol=1e-5)


def test_fit_learns_to_copy_the_input():
    model = tiny_masked_lm()
    inputs = encoded(["abcabc", "cbacba", "aabbcc"])
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    history = model.fit(
        inputs, inputs["inputs"], epochs=30, batch_size=3, verbose=0
    )
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_layer_checks(tmp_path):
    inputs = encoded()
    run_task_test(
        tiny_masked_lm, {}, inputs, tmp_path,
        expected_output_shape=inputs["inputs"].shape + (262,),
        targets=inputs["inputs"],
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )


def test_text_longer_than_the_position_embeddings_raises():
    model = tiny_masked_lm()
    with pytest.raises(ValueError, match="at most `max_length` \\(32\\)"):
        model(encoded(["x" * 40]))


def test_encoder_without_a_text_adapter_raises():
    encoder = kp.PerceiverEncoder(num_latents=4, latent_dim=8, num_blocks=1,
                                  num_self_attends_per_block=1,
                                  num_self_heads=2)
    with pytest.raises(ValueError, match="TextAdapter"):
        kp.PerceiverMaskedLM(encoder)
