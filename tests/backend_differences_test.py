"""The one place that says what differs per backend."""

import keras
import pytest

from keras_perceiver import backend_differences


def test_current_is_the_running_backend():
    differences = backend_differences.current()
    assert differences.name == keras.config.backend()
    # Only TensorFlow writes a SavedModel in-process; only JAX splits
    # weights and trains a jit-compiled model on several devices.
    assert differences.exports_in_process == (differences.name == "tensorflow")
    assert differences.model_parallel == (differences.name == "jax")
    assert differences.trains_jit_compiled_on_devices == (differences.name == "jax")


@pytest.mark.backend_independent
def test_each_backend_names_its_launcher_and_engine():
    assert sorted(backend_differences.BACKENDS) == ["jax", "tensorflow",
                                                    "torch"]
    for differences in backend_differences.BACKENDS.values():
        assert differences.engine and differences.launcher
    torch = backend_differences.BACKENDS["torch"]
    assert torch.relaunches_for_devices and not torch.trains_with_keras_fit


@pytest.mark.backend_independent
@pytest.mark.parametrize("backend, variables", [
    ("torch", {"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0"}),
    ("tensorflow", {"TF_CONFIG": '{"cluster": {}}'}),
    ("jax", {"KERAS_DISTRIBUTION_JOB_ADDRESSES": "10.0.0.1:1234"}),
])
def test_a_launcher_is_recognised_by_its_variables(backend, variables,
                                                   monkeypatch):
    launched = backend_differences.BACKENDS[backend].launched
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "TF_CONFIG",
                 "KERAS_DISTRIBUTION_JOB_ADDRESSES"):
        monkeypatch.delenv(name, raising=False)
    assert not launched()
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert launched()


def test_require_names_the_backend_that_is_needed():
    others = [d for d in backend_differences.BACKENDS.values()
              if d.name != keras.config.backend()]
    backend_differences.current().require("something")  # no error
    with pytest.raises(ValueError, match=(
            rf"`something` needs the {others[0].title} backend "
            rf"\(KERAS_BACKEND={others[0].name}\)\. Received: "
            rf"backend='{keras.config.backend()}'")):
        others[0].require("something")


@pytest.mark.backend_independent
def test_an_unsupported_backend_is_a_value_error(monkeypatch):
    monkeypatch.setattr(keras.config, "backend", lambda: "numpy")
    with pytest.raises(ValueError, match="Received: backend='numpy'"):
        backend_differences.current()


@pytest.mark.backend_independent
@pytest.mark.parametrize("cpuinfo, native", [
    ("flags\t\t: fpu sse4_2 avx2 avx512f avx512_bf16\n", True),
    ("flags\t\t: fpu avx2 amx_bf16 amx_tile\n", True),
    ("flags\t\t: fpu sse4_2 avx2 fma\n", False),
    ("Features\t: fp asimd bf16 i8mm\n", True),
    ("Features\t: fp asimd evtstrm\n", False),
    ("processor\t: 0\n", True),  # no flags: nothing known, no warning
])
def test_native_bfloat16_is_read_from_the_cpu_flags(cpuinfo, native,
                                                    tmp_path):
    path = tmp_path / "cpuinfo"
    path.write_text(cpuinfo)
    assert backend_differences.cpu_has_native_bfloat16(path) == native


def test_mixed_bfloat16_is_slow_only_on_a_cpu_that_emulates_it(tmp_path):
    emulating = tmp_path / "cpuinfo"
    emulating.write_text("flags\t\t: fpu sse4_2 avx2\n")
    on_cpu = not backend_differences.current().accelerated()
    assert backend_differences.mixed_bfloat16_is_slow(emulating) == on_cpu
    assert not backend_differences.mixed_bfloat16_is_slow(tmp_path / "none")
