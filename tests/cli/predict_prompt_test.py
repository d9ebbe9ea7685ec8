"""`keras-perceiver predict MODEL --prompt TEXT`: a PerceiverCausalLM's
continuation of a text, and the one-line refusals of what it cannot do.

Runs in the test's process (`run_in_process`) on one backend: the command
only parses, loads and calls `generate`, whose behaviour on every backend
is tests/models/perceiver_causal_lm_test.py's.
"""

import pathlib

import pytest
from bad_input import assert_refused, unchanged
from command_line import run_in_process

import keras_perceiver as kp

pytestmark = pytest.mark.backend_independent

FIXTURES = pathlib.Path(__file__).parents[1] / "fixtures"


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """A tiny PerceiverCausalLM (context 16) saved to a .keras file."""
    model = kp.PerceiverCausalLM(max_context=16, num_latents=4,
                                 latent_dim=8, num_self_heads=2,
                                 widening_factor=1)
    path = tmp_path_factory.mktemp("ar") / "ar.keras"
    model.generate("a", max_new_tokens=1)  # builds it
    model.save(path)
    return model, path


def test_predict_fills_the_context_by_default(saved_model):
    model, path = saved_model
    result = run_in_process("predict", path, "--prompt", "import")
    assert result.returncode == 0, result.stderr
    # 16 bytes of context: 6 of prompt, 10 new.
    assert result.stdout == model.generate("import", 10) + "\n"


def test_predict_prints_the_continuation(saved_model):
    model, path = saved_model
    result = run_in_process("predict", path, "--prompt", "def ",
                            "--max-new-tokens", "5", "--sampler", "top_k",
                            "--top-k", "3", "--seed", "0")
    assert result.returncode == 0, result.stderr
    expected = model.generate("def ", max_new_tokens=5, sampler="top_k",
                              top_k=3, seed=0)
    assert result.stdout == expected + "\n"


# Bad input: one line, exit status 2, nothing written.

@pytest.mark.parametrize("arguments, fragments", [
    (["--prompt", "x" * 17], ["17 bytes", "max_context=16"]),
    (["--prompt", "x" * 10, "--max-new-tokens", "7"],
     ["10 bytes", "(7)", "max_context=16"]),
    (["--prompt", ""], ["at least one byte"]),
    (["--prompt", "x", "--temperature", "0"], ["temperature"]),
    (["extra.txt", "--prompt", "x"], ["the model alone"]),
])
def test_predict_refuses_a_prompt_it_cannot_continue(
        saved_model, tmp_path, arguments, fragments):
    with unchanged(tmp_path, saved_model[1].parent):
        result = run_in_process("predict", saved_model[1], *arguments)
    assert_refused(result, *fragments)


def test_predict_refuses_a_prompt_for_another_model():
    result = run_in_process("predict", FIXTURES / "perceiver_0_1_image.keras",
                            "--prompt", "x")
    assert_refused(result, "needs a PerceiverCausalLM", "Perceiver")
