"""Tests of PerceiverCausalLM (Perceiver AR): causality, the key/value cache
of `generate`, its samplers, and its refusals of bad input."""

import collections

import keras
import numpy as np
import pytest

import keras_perceiver as kp
from keras_perceiver.export.saved_model import serving_function
from bad_input import assert_refused, assert_value_error, unchanged
from command_line import run_in_process
from layer_harness import run_task_test
from support import to_numpy

CONTEXT, LATENTS = 16, 4
TINY = dict(max_context=CONTEXT, num_latents=LATENTS, latent_dim=8,
            num_self_attends=1, num_cross_heads=1, num_self_heads=2,
            widening_factor=1)
IDS = np.random.default_rng(0).integers(6, 262, (2, CONTEXT)).astype("int32")


@pytest.fixture(scope="module")
def model():
    """The tiny model, counting the Python runs of its cached steps."""
    model = kp.PerceiverCausalLM(**TINY)
    model(IDS)
    for name in ("_prefill", "_extend"):
        setattr(model, name, counting(getattr(model, name), name))
    return model


# The Python runs of the model's cached steps: one trace each, once
# compiled.
STEP_RUNS = collections.Counter()


def counting(function, name):
    def run(*args):
        STEP_RUNS[name] += 1
        return function(*args)

    return run


def logits(model, ids):
    return to_numpy(model(ids))


def test_task_checks(tmp_path):
    targets = np.roll(IDS, -1, axis=1)[:, -LATENTS:]
    run_task_test(
        kp.PerceiverCausalLM, TINY, IDS, tmp_path,
        config_kwargs=dict(TINY, dropout=0.1, num_self_attends=2),
        expected_output_shape=(2, LATENTS, 262),
        targets=targets,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )


@pytest.mark.parametrize(
    "position, first_changed",
    # A prefix byte reaches every latent; the second latent's byte
    # (position 13) reaches it and the later ones only.
    [(3, 0), (CONTEXT - LATENTS + 1, 1)],
)
def test_a_byte_changes_the_logits_at_and_after_its_position_only(
        model, position, first_changed):
    changed = IDS.copy()
    changed[:, position] = 7 if IDS[0, position] != 7 else 8
    before, after = logits(model, IDS), logits(model, changed)
    np.testing.assert_array_equal(after[:, :first_changed],
                                  before[:, :first_changed])
    assert np.abs(after[:, first_changed:] - before[:, first_changed:]).min(
        axis=-1).max() > 0


@pytest.mark.one_backend("tensorflow")
def test_left_padding_changes_no_logit(model):
    """(The padding mask goes through the attention that the causal masks
    above go through on every backend; JAX would compile two more input
    shapes for it.)"""
    short = IDS[:, 6:]
    padded = np.concatenate([np.zeros((2, 6), "int32"), short], axis=1)
    np.testing.assert_allclose(logits(model, padded), logits(model, short),
                               atol=1e-5)


# Every generation below has these sizes (a prefix of 2 bytes before the
# 4 prompt latents, 9 latents in the end), so that JAX compiles each
# step's operations once.
PROMPT, NEW_BYTES = b"import", 9


@pytest.mark.parametrize("sampler", ["greedy", "top_k", "top_p"])
def test_cached_generation_gives_the_uncached_bytes(model, sampler):
    kwargs = dict(max_new_tokens=NEW_BYTES, sampler=sampler, top_k=50,
                  top_p=0.95, seed=1, temperature=2.0)
    cached = model.generate(PROMPT, use_cache=True, **kwargs)
    assert cached == model.generate(PROMPT, use_cache=False, **kwargs)
    assert len(cached) == NEW_BYTES


@pytest.mark.skipif(keras.config.backend() == "torch",
                    reason="PyTorch runs the steps eagerly, as Keras does")
def test_the_cached_steps_compile_once_and_read_the_current_weights(model):
    """Traced once for every prompt and length; the weights are read at
    each call (on JAX they are passed in, not baked into the trace)."""
    model.generate(b"x", max_new_tokens=2)
    model.generate(PROMPT + b"s.p", max_new_tokens=3)
    assert STEP_RUNS == {"_prefill": 1, "_extend": 1}
    bias = model.output_dense.bias
    before = to_numpy(bias)
    bias.assign(np.random.default_rng(2).normal(0, 5, before.shape))
    try:
        cached = model.generate(PROMPT, max_new_tokens=NEW_BYTES)
        assert cached == model.generate(PROMPT, max_new_tokens=NEW_BYTES,
                                        use_cache=False)
    finally:
        bias.assign(before)
    assert STEP_RUNS == {"_prefill": 1, "_extend": 1}


@pytest.mark.one_backend("tensorflow")
def test_a_prompt_shorter_than_the_latents_generates(model):
    """(The cache's bookkeeping is the same Python on every backend.)"""
    text = model.generate("x", max_new_tokens=3)
    assert text == model.generate("x", max_new_tokens=3, use_cache=False)
    assert isinstance(text, str)


@pytest.mark.one_backend("torch")
def test_seeded_sampling_repeats_and_top_k_one_is_greedy(model):
    """(The draws are NumPy's on every backend; the logits they come from
    are checked on each by the cache test above.)"""
    def generate(**kwargs):
        return model.generate(PROMPT, max_new_tokens=NEW_BYTES, **kwargs)

    assert generate(sampler="top_k", seed=3) == generate(
        sampler="top_k", seed=3)
    assert generate(sampler="top_k", top_k=1, seed=3) == generate()
    assert generate(sampler="top_p", top_p=1e-6, seed=3) == generate()


@pytest.mark.backend_independent
@pytest.mark.parametrize("sampler, kept", [
    ("top_k", {110, 111}),  # the two likeliest
    ("top_p", {110}),  # 0.5 of the mass is in the likeliest alone
])
def test_samplers_draw_from_the_likeliest_bytes_only(sampler, kept):
    from keras_perceiver.models.byte_sampling import next_token

    logits = np.zeros(262)
    logits[[110, 111, 112]] = [9.0, 8.0, 7.0]
    logits[0] = 100.0  # a special token is never drawn
    rng = np.random.default_rng(0)
    drawn = {next_token(logits, rng, sampler, 1.0, 2, 0.5)
             for _ in range(200)}
    assert drawn == kept


@pytest.mark.backend_independent
def test_stdlib_corpus_splits_by_file(tmp_path):
    for index in range(10):
        (tmp_path / f"m{index}.py").write_bytes(b"x%d\n" % index)
    corpus = kp.datasets.load_stdlib_bytes(0.2, folder=tmp_path)
    assert corpus["validation_files"] == ["m4.py", "m9.py"]
    assert set(corpus["train_files"]).isdisjoint(corpus["validation_files"])
    assert bytes(corpus["validation"]) == b"x4\nx9\n"
    windows = kp.datasets.byte_windows(corpus["train"], 5, 3, seed=0)
    assert windows.shape == (3, 5) and windows.min() >= 6
    np.testing.assert_array_equal(
        windows, kp.datasets.byte_windows(corpus["train"], 5, 3, seed=0))


# Bad input: each a one-line ValueError naming what was expected and got.

@pytest.mark.parametrize("prompt, max_new_tokens, fragments", [
    (b"x" * (CONTEXT + 1), 1, ["17 bytes", "max_context=16"]),
    (b"x" * 10, 7, ["10 bytes", "(7)", "max_context=16"]),
    (b"", 1, ["at least one byte"]),
    (["a list"], 1, ["str or bytes", "list"]),
    (b"x", 0, ["max_new_tokens", "positive"]),
])
def test_generate_refuses_a_prompt_that_does_not_fit(
        model, prompt, max_new_tokens, fragments):
    assert_value_error(
        lambda: model.generate(prompt, max_new_tokens=max_new_tokens),
        *fragments)


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(sampler="beam"), "sampler"),
    (dict(temperature=0.0), "temperature"),
    (dict(top_k=0), "top_k"),
    (dict(top_p=1.5), "top_p"),
    (dict(use_cache="yes"), "use_cache"),
])
def test_generate_refuses_bad_sampling_arguments(model, kwargs, fragment):
    assert_value_error(lambda: model.generate("x", max_new_tokens=1, **kwargs),
                       fragment, "Received")


def test_call_refuses_more_tokens_than_the_context(model):
    ids = np.full((1, CONTEXT + 1), 7, "int32")
    assert_value_error(lambda: model(ids), "max_context=16", "17 tokens")


@pytest.mark.backend_independent
def test_export_refuses_an_unbuilt_model(tmp_path):
    unbuilt = tmp_path / "unbuilt.keras"
    kp.PerceiverCausalLM(**TINY).save(unbuilt)
    with unchanged(tmp_path):
        assert_value_error(
            lambda: kp.export_model(kp.PerceiverCausalLM(**TINY),
                                    tmp_path / "served"),
            "must be built", "Received: model")
        assert_refused(run_in_process("export", unbuilt, tmp_path / "cli"),
                       "must be built")


@pytest.mark.one_backend("tensorflow")
@pytest.mark.parametrize("length", [CONTEXT - 1, CONTEXT + 1])
def test_the_served_graph_refuses_another_context_length(model, length):
    """Token ids of the whole context, left-padded: a client's other
    length is refused, not read as another context (the SavedModel's
    `serving_default` runs this function)."""
    import tensorflow as tf

    serve = serving_function(model)
    assert serve(IDS)["logits"].shape == (2, LATENTS, 262)
    with pytest.raises(tf.errors.InvalidArgumentError, match="16"):
        serve(np.full((1, length), 7, "int32"))


@pytest.mark.backend_independent
def test_more_latents_than_context_is_refused():
    assert_value_error(
        lambda: kp.PerceiverCausalLM(**dict(TINY, num_latents=CONTEXT + 1)),
        "num_latents", "max_context", "17")


@pytest.mark.backend_independent
@pytest.mark.parametrize("call, fragment", [
    (lambda folder: kp.datasets.load_stdlib_bytes(1.0, folder=folder),
     "validation_fraction"),
    (lambda folder: kp.datasets.load_stdlib_bytes(0.5, folder=folder / "no"),
     "at least two"),
    (lambda folder: kp.datasets.byte_windows(np.zeros(3, "uint8"), 4, 1),
     "at most the 3 bytes"),
])
def test_corpus_refuses_bad_arguments(tmp_path, call, fragment):
    assert_value_error(lambda: call(tmp_path), fragment, "Received")
