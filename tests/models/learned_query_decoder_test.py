"""The decoder arguments of the models that build their own decoder.

`PerceiverIOClassifier` and `PerceiverMaskedLM` pass their `decoder_*`
keyword arguments (and `dropout`) to the `PerceiverDecoder` through one
function, `learned_queries_and_decoder`; the rest go to the base model.
"""

import pytest

import keras_perceiver as kp
from support import assert_config_round_trip

DECODER = dict(decoder_num_heads=2, decoder_qk_channels=8,
               decoder_v_channels=4, decoder_widening_factor=3, dropout=0.25)


def encoder(**overrides):
    return kp.PerceiverEncoder(
        num_latents=4, latent_dim=8, num_blocks=1,
        num_self_attends_per_block=1, num_self_heads=2,
        block_scheme="perceiver_io", **overrides)


def text_encoder():
    return encoder(
        input_adapter=kp.adapters.TextAdapter(max_length=8, embedding_dim=6))


def model(kind, **arguments):
    if kind == "classifier":
        return kp.PerceiverIOClassifier(encoder(), num_classes=3, **arguments)
    return kp.PerceiverMaskedLM(text_encoder(), **arguments)


@pytest.mark.parametrize("kind", ["classifier", "masked_lm"])
def test_decoder_arguments_reach_the_decoder_and_the_rest_the_model(kind):
    task = model(kind, **DECODER, name="task")
    decoder = task.decoder
    assert (decoder.num_heads, decoder.qk_channels, decoder.v_channels,
            decoder.widening_factor, decoder.dropout) == (2, 8, 4, 3, 0.25)
    assert task.name == "task"
    assert {name: task.get_config()[name] for name in DECODER} == DECODER
    assert_config_round_trip(task)


def test_defaults_are_one_classifier_head_and_eight_masked_lm_heads():
    assert model("classifier").decoder.num_heads == 1
    assert model("masked_lm").decoder.num_heads == 8


@pytest.mark.parametrize("kind", ["classifier", "masked_lm"])
def test_a_misspelt_decoder_argument_is_refused(kind):
    with pytest.raises(ValueError, match="decoder_heads"):
        model(kind, decoder_heads=2)
