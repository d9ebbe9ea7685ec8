"""Tests of ByteTokenizer: bytes plus six, special tokens, padding."""

import pytest

import keras_perceiver as kp


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
