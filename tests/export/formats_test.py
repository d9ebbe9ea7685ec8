"""ONNX and LiteRT exports, run by onnxruntime and LiteRT in a new process.

Every model family (image, audio, point cloud, multimodal, Perceiver IO
classifier, masked LM, optical flow, causal LM; masks where the family has
them) is
exported in each format once, the pairs dealt over the backends
(`EXPORTS`): off TensorFlow each export starts a TensorFlow process (which
writes every format with TensorFlow's converters, whatever the backend,
after the rebuild that tests/export/export_test.py checks under JAX), so
PyTorch writes one LiteRT file of a model with masks, and TensorFlow
(which exports in its own process) the rest, with the int8 pair. The
models are `FAMILIES`': `CASES`' with one block of 64-wide latents
(`WIDE`; a graph of a third the size converts in a third of the time, and
int8 needs weights that wide) and a tiny flow model. One new process per
module, importing only NumPy, onnxruntime and LiteRT (no Keras or
TensorFlow: what a client has), runs every file at batch 1 and 7.
"""

import json
import os

import keras
import numpy as np
import pytest

import keras_perceiver as kp
from keras_perceiver.export import formats
from bad_input import assert_refused, assert_value_error, unchanged
from command_line import run_in_process
from export.export_test import serving_feed
import model_cases
from model_cases import CASES
from support import run_under_backend, tiny_flow_model, tiny_perceiver
from support import to_numpy

FLOAT32_TOLERANCE = 1e-4
SUFFIXES = {"onnx": ".onnx", "litert": ".tflite"}
# (case, format) pairs each backend exports; together every family in
# every format.
EXPORTS = {
    "tensorflow": [("masked_audio", "onnx"), ("masked_audio", "litert"),
                   ("masked_lm", "onnx"), ("multimodal", "onnx"),
                   ("multimodal", "litert"),
                   ("named_rgb_classes", "onnx"),
                   ("named_rgb_classes", "litert"),
                   ("point_cloud", "onnx"), ("point_cloud", "litert"),
                   ("perceiver_io_classifier", "onnx"),
                   ("perceiver_io_classifier", "litert"),
                   ("optical_flow", "onnx"), ("optical_flow", "litert"),
                   ("causal_lm", "onnx"),
                   ("multimodal_autoencoder", "onnx")],
    "jax": [],
    "torch": [("masked_lm", "litert"), ("causal_lm", "litert"),
              ("multimodal_autoencoder", "litert")],
}
# The files' output names, where not `logits`, by case or (case, format):
# ONNX names every value once, so the multimodal autoencoder's outputs
# named as its inputs are `<name>_output` in its ONNX file.
OUTPUT_NAMES = {
    "optical_flow": ["outputs"],
    ("multimodal_autoencoder", "onnx"): ["audio_output", "label_output",
                                         "video_output"],
    ("multimodal_autoencoder", "litert"): ["audio", "label", "video"],
}
# Int8 dynamic-range quantisation stores weights of 1024 elements or more
# (LiteRT's threshold) as int8: a model with 64-wide latents has them.
WIDE = dict(num_latents=16, latent_dim=64, num_blocks=1,
            num_self_attends_per_block=1)
INT8_CASE = "named_rgb_classes"
# Int8 weights (one scale per tensor) and, in onnxruntime, uint8
# activations quantised at run time: each matmul's inputs carry an error
# of up to half a quantisation step (1/254 of their range), which a
# random, untrained model's few layers add up to a few percent of its
# largest logit (1.1 % in LiteRT, 1.7 % in onnxruntime, 7 December 2026).
# 10 % of it separates that from a broken graph (which gives errors of the
# logits' own size).
INT8_RELATIVE_TOLERANCE = 0.1

# Run after `FILES = <path of a JSON list of [file, feed.npz]>`: NumPy,
# onnxruntime and LiteRT only.
VERIFY_SCRIPT = """
import json
import numpy as np

with open(FILES) as file:
    files = json.load(file)
results = {}
for path, feed_path in files:
    feed = np.load(feed_path)
    if path.endswith(".onnx"):
        import onnxruntime
        session = onnxruntime.InferenceSession(path)
        names = [node.name for node in session.get_inputs()]
        outputs = [node.name for node in session.get_outputs()]
        def run(arrays):
            return dict(zip(outputs, session.run(outputs, arrays)))
    else:
        from ai_edge_litert.interpreter import Interpreter
        runner = Interpreter(path).get_signature_runner()
        names = sorted(runner.get_input_details())
        outputs = sorted(runner.get_output_details())
        def run(arrays):
            return runner(**arrays)
    results[path] = {
        "inputs": sorted(names),
        "outputs": sorted(outputs),
        "values": {str(size): {name: value.tolist() for name, value in
                               run({key: feed[key][:size]
                                    for key in feed.files}).items()}
                   for size in (1, 7)},
    }
print(json.dumps(results))
"""


def wide_perceiver(**overrides):
    return tiny_perceiver(**{**WIDE, **overrides})


def optical_flow_case():
    """The flow model: its one output, the flow field, is `outputs`."""
    model = tiny_flow_model()
    model.build((None, 2, 6, 8, 3))
    return model, np.random.default_rng(0).uniform(
        size=(7, 2, 6, 8, 3)).astype("float32")


# The cases exported here: `CASES` and the flow model (not in `CASES`,
# whose every model export_test also writes as a SavedModel).
FAMILIES = {**CASES, "optical_flow": optical_flow_case}


def export_files(root):
    """This backend's exports (`EXPORTS`), and under TensorFlow the int8
    pair of `INT8_CASE`.

    Returns:
        {(case, format, quantize): (path, feed, expected outputs)}.
    """
    exports = {}
    cases = EXPORTS[keras.config.backend()]
    for name in sorted({name for name, _ in cases}):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(model_cases, "tiny_perceiver", wide_perceiver)
            model, inputs = FAMILIES[name]()
        feed = serving_feed(model, inputs)
        expected = keras.tree.map_structure(
            to_numpy, model(inputs, training=False))
        for format in (format for case, format in cases if case == name):
            for quantize in (None, "int8")[:1 + (name == INT8_CASE)]:
                path = str(root / f"{name}_{quantize}{SUFFIXES[format]}")
                kp.export_model(model, path, format=format,
                                quantize=quantize)
                exports[name, format, quantize] = (path, feed, expected)
    return exports


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Every export of this backend, run in one new process."""
    root = tmp_path_factory.mktemp("formats")
    exports = export_files(root)
    files = []
    for path, feed, _ in exports.values():
        np.savez(path + ".npz", **feed)
        files.append([path, path + ".npz"])
    (root / "files.json").write_text(json.dumps(files))
    script = f"FILES = {str(root / 'files.json')!r}\n" + VERIFY_SCRIPT
    results = json.loads(run_under_backend(keras.config.backend(), script)
                         .strip().splitlines()[-1])
    return exports, results


@pytest.mark.slow
@pytest.mark.parametrize("name, format", [
    pytest.param(name, format, marks=pytest.mark.one_backend(backend))
    for backend, pairs in EXPORTS.items() for name, format in pairs])
def test_export_matches_the_model_in_a_new_process(exported, name, format):
    exports, results = exported
    path, feed, expected = exports[name, format, None]
    result = results[path]
    assert result["inputs"] == sorted(feed)
    assert result["outputs"] == OUTPUT_NAMES.get(
        (name, format), OUTPUT_NAMES.get(name, ["logits"]))
    expected = by_name_in_file(expected, result["outputs"])
    for size in (1, 7):  # A dynamic batch size.
        for output, values in result["values"][str(size)].items():
            difference = np.array(values) - expected[output][:size]
            assert np.abs(difference).max() <= FLOAT32_TOLERANCE


def by_name_in_file(expected, names):
    """The model's outputs (one tensor, or a dict) keyed by the file's
    output names."""
    if not isinstance(expected, dict):
        (name,) = names
        return {name: expected}
    return {name: expected[name.removesuffix("_output")] for name in names}


@pytest.mark.slow
@pytest.mark.one_backend("tensorflow")
@pytest.mark.parametrize("format", sorted(SUFFIXES))
def test_int8_is_smaller_and_close(exported, format):
    exports, results = exported
    float_path, _, expected = exports[INT8_CASE, format, None]
    int8_path = exports[INT8_CASE, format, "int8"][0]
    # Smaller, not 4 times smaller: constants such as the Fourier
    # position encodings stay float32, and weigh much in a tiny model.
    assert os.path.getsize(int8_path) < os.path.getsize(float_path)
    (outputs,) = results[int8_path]["values"]["7"].values()
    outputs = np.array(outputs)
    difference = np.abs(outputs - expected).max()
    assert difference <= INT8_RELATIVE_TOLERANCE * np.abs(expected).max()
    assert difference > 0  # Quantised: not the float32 graph.
    assert kp.export.read_metadata(int8_path)["quantize"] == "int8"


@pytest.mark.slow
def test_metadata_carries_the_inputs_class_names_and_preprocessor(exported):
    exports, _ = exported
    for (name, format, quantize), (path, feed, _) in exports.items():
        record = kp.export.read_metadata(path)
        assert (record["format"], record["quantize"]) == (format, quantize)
        assert sorted(spec["name"] for spec in record["inputs"]) == sorted(
            feed)
        if name == "named_rgb_classes":
            assert record["class_names"] == ["cat", "dog", "owl", "bee",
                                             "ant"]
            assert record["preprocessor"]["class_name"] == "FilePreprocessor"


@pytest.mark.backend_independent
@pytest.mark.parametrize("name, contents", [
    ("other.onnx", b"not a model of ours"),
    ("other.tflite", b"not a model of ours"),
    ("damaged.tflite", b"\xff\xff\xff\x7fTFL3" + bytes(range(40))),
])
def test_read_metadata_of_another_file_is_none(name, contents, tmp_path):
    (tmp_path / name).write_bytes(contents)
    assert kp.export.read_metadata(tmp_path / name) is None


@pytest.mark.backend_independent
def test_read_metadata_refuses_other_file_names(tmp_path):
    assert_value_error(
        lambda: kp.export.read_metadata(tmp_path / "model.keras"),
        ".onnx or .tflite", "Received: path")


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    model = tiny_perceiver(num_blocks=1, num_self_attends_per_block=1)
    model.build((None, 8, 8, 1))
    path = tmp_path_factory.mktemp("model") / "model.keras"
    model.save(path)
    return path


# Options refused before any work: (arguments, what the message names).
REFUSED_OPTIONS = {
    "unknown_format": (["--format", "pytorch"], "invalid choice"),
    "unknown_quantize": (["--format", "onnx", "--quantize", "int4"],
                         "invalid choice"),
    "quantize_a_saved_model": (["--quantize", "int8"],
                               "onnx and litert formats"),
    "onnx_file_name": (["--format", "onnx"], "ends in .onnx"),
    "litert_file_name": (["--format", "litert"], "ends in .tflite"),
}


@pytest.mark.backend_independent
@pytest.mark.parametrize("case", sorted(REFUSED_OPTIONS))
def test_bad_options_are_refused_in_one_line(case, model_file, tmp_path):
    options, message = REFUSED_OPTIONS[case]
    with unchanged(tmp_path, model_file):
        result = run_in_process("export", model_file, tmp_path / "served",
                                *options)
    assert_refused(result, message)


@pytest.mark.backend_independent
def test_a_missing_package_names_the_extra(model_file, tmp_path,
                                           monkeypatch):
    find_spec = formats.importlib.util.find_spec
    monkeypatch.setattr(formats.importlib.util, "find_spec",
                        lambda name: None if name == "tf2onnx"
                        else find_spec(name))
    with unchanged(tmp_path, model_file):
        result = run_in_process("export", model_file,
                                tmp_path / "model.onnx", "--format", "onnx")
    assert_refused(result, "needs tf2onnx", "keras-perceiver[onnx]")


@pytest.mark.backend_independent
@pytest.mark.parametrize("format", sorted(SUFFIXES))
def test_overwrite_replaces_only_an_earlier_export(format, model_file,
                                                   tmp_path):
    target = tmp_path / f"model{SUFFIXES[format]}"
    target.write_bytes(b"someone's file")
    with unchanged(tmp_path, model_file):
        result = run_in_process("export", model_file, target, "--format",
                                format, "--overwrite")
    assert_refused(result, "replaces only a", str(target))


@pytest.mark.backend_independent
@pytest.mark.parametrize("format, quantize, message", [
    ("keras", None, "`format` must be one of"),
    ("onnx", "int4", "`quantize` must be None or one of"),
    ("saved_model", "int8", "onnx and litert formats"),
])
def test_export_model_refuses_bad_options(format, quantize, message,
                                          tmp_path):
    model = tiny_perceiver()
    model.build((None, 8, 8, 1))
    with unchanged(tmp_path):
        assert_value_error(
            lambda: kp.export_model(model, tmp_path / "model.onnx",
                                    format=format, quantize=quantize),
            message, "Received:")


@pytest.mark.slow
@pytest.mark.one_backend("tensorflow")
def test_the_flow_model_serves_as_a_saved_model(tmp_path):
    """The flow model's SavedModel (`FAMILIES`' one model not in `CASES`,
    whose SavedModels export_test checks) answers as the model does."""
    import tensorflow as tf

    model, frames = optical_flow_case()
    path = str(tmp_path / "flow")
    kp.export_model(model, path)
    serve = tf.saved_model.load(path).signatures["serving_default"]
    for size in (1, 7):  # A dynamic batch size.
        served = serve(**serving_feed(model, frames[:size]))
        np.testing.assert_allclose(
            served["outputs"].numpy(), to_numpy(model(frames[:size])),
            atol=FLOAT32_TOLERANCE)
