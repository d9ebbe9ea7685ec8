import keras
import numpy as np
import pytest

import keras_perceiver as kp
from support import assert_config_round_trip
from support import assert_keras_file_round_trip
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


@pytest.mark.backend_independent
def test_tokenizer_uses_bytes_plus_six_with_special_tokens():
    tokenizer = kp.ByteTokenizer()
    ids, mask = tokenizer.encode(["é[MASK]!"])
    assert ids.tolist() == [[4, 0xC3 + 6, 0xA9 + 6, 3, ord("!") + 6, 5]]
    assert mask.all()
    assert tokenizer.decode(ids[0]) == "é!"
    assert tokenizer.vocabulary_size == 262


@pytest.mark.backend_independent
def test_tokenizer_matches_transformers():
    transformers = pytest.importorskip("transformers")
    reference = transformers.PerceiverTokenizer()
    texts = ["This is an [MASK] sentence.", "héllo", "[CLS]x"]
    ids, mask = kp.ByteTokenizer().encode(texts)
    expected = reference(texts, padding=True)
    assert ids.tolist() == expected["input_ids"]
    assert mask.astype(int).tolist() == expected["attention_mask"]


@pytest.mark.backend_independent
def test_tokenizer_pads_to_a_length_and_rejects_a_shorter_one():
    ids, mask = kp.ByteTokenizer().encode(["ab", "abcd"], length=8)
    assert ids.shape == (2, 8)
    assert mask.sum(axis=1).tolist() == [4, 6]
    with pytest.raises(ValueError, match="`length` must hold"):
        kp.ByteTokenizer().encode(["abcd"], length=3)


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


def test_config_and_file_round_trip(tmp_path):
    model = tiny_masked_lm()
    inputs = encoded()
    model(inputs)
    assert_config_round_trip(model)
    assert_keras_file_round_trip(model, inputs, tmp_path)


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


def test_text_adapter_adds_position_embeddings():
    adapter = kp.adapters.TextAdapter(max_length=8, embedding_dim=4)
    ids = np.array([[5, 5, 7]])
    byte_array, mask = adapter(ids)
    assert mask is None
    expected = (
        to_numpy(adapter.token_embeddings)[ids[0]]
        + to_numpy(adapter.position_embeddings)[:3]
    )
    np.testing.assert_allclose(to_numpy(byte_array)[0], expected, atol=1e-6)
    assert_config_round_trip(adapter)
