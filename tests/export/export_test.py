"""SavedModel export, checked in a new TensorFlow process on every backend.

Each entry of `CASES` (tests/model_cases.py) builds a model and a batch
of 7 inputs. A module fixture exports the cases of `cases_to_export`
(every case under TensorFlow), `CLI_CASE` through the `keras-perceiver
export` command (run in a directory whose `keras.py` must not run), and
loads all the SavedModels with `tf.saved_model.load` in one new process
(process start-up is the cost), which compares them with the model's
outputs (its call in inference mode, what `predict` computes, without
tracing a predict function: 20 CPU-seconds of TensorFlow's 15 exports) at
batch 1 and 7, checks that an input of another shape is refused, and calls
the `serve_raw` signature of the cases in `RAW_INPUTS`.
"""

import contextlib
import io
import json
import os

import keras
import numpy as np
import pytest

import keras_perceiver as kp
from keras_perceiver.export import saved_model
from keras_perceiver.export import raw_serving
from keras_perceiver.cli.main import main
from model_cases import (
    CASES, RGB_FILES, TwoPartAdapter, images_case, nested_dict_case,
)
from support import run_under_backend, tiny_perceiver, to_numpy

BATCH_SIZES = (1, 7)
FLOAT32_TOLERANCE = 1e-4
# In bfloat16 the logits carry rounding errors of about 1 % of their size,
# and the backends round differently (even JAX's `predict` and `__call__`
# differ by that much), so off TensorFlow a mixed-precision export is
# compared with the source model at that precision. On a Xeon with AMX
# (2026-12-02), whose bfloat16 kernels PyTorch uses, the torch backend's
# model and TensorFlow's export differed by 5.8 % of the largest logit.
BFLOAT16_RELATIVE_TOLERANCE = 0.1

# The command's case carries a preprocessor and class names (`serve_raw`).
CLI_CASE = "named_rgb_classes"
# Off TensorFlow every model is rebuilt from its `.keras` file in a
# TensorFlow process, which then exports it as the TensorFlow backend does:
# the full set of cases runs under TensorFlow; off it, these cover what the
# rebuild carries (a preprocessor and class names, precision, nested
# inputs). Each is a TensorFlow process: the Perceiver IO models' files
# load under every backend as any Keras model's do, and TensorFlow exports
# them.
CASES_OFF_TENSORFLOW = (CLI_CASE, "mixed_bfloat16", "multimodal")
# Every other case serves its logits under "logits" (a dict of outputs
# under its keys).
OUTPUT_NAMES = {"perceiver_io_dense": "outputs"}


def named_outputs(name, outputs):
    """The model's outputs as NumPy arrays, named as the export names
    them."""
    if not isinstance(outputs, dict):
        outputs = {OUTPUT_NAMES.get(name, "logits"): outputs}
    return {key: to_numpy(value) for key, value in outputs.items()}


def flat_named_arrays(inputs, names=()):
    """`{"a": {"mask": x}}` -> `{"a_mask": x}`, as the signature names."""
    if not isinstance(inputs, dict):
        return {"_".join(names): inputs}
    arrays = {}
    for key, value in inputs.items():
        arrays.update(flat_named_arrays(value, names + (key,)))
    return arrays


def raw_images(images):
    """uint8 pixels of `images` (in [0, 1]) at twice their size (2 x 2
    blocks, which the bilinear resize to the model's size undoes), and
    those images as the model takes them."""
    pixels = np.round(images * 255).astype("uint8")
    return pixels.repeat(2, axis=1).repeat(2, axis=2), pixels / 255


def raw_waveforms(inputs):
    """40 samples of each waveform (of 64), and the padded and masked
    inputs the model takes."""
    short = inputs["inputs"][:, :40]
    mask = np.arange(64)[None].repeat(len(short), 0) < 40
    return short, {"inputs": np.where(mask, inputs["inputs"], 0), "mask": mask}


# Cases with a `serve_raw` signature: the raw feed's name, and what makes
# it (with the model's inputs for the same examples) of the case's inputs.
RAW_INPUTS = {
    "named_rgb_classes": ("images", raw_images),
    "masked_audio": ("waveforms", raw_waveforms),
}


def serving_feed(model, inputs):
    specs = saved_model.serving_input_specs(model)
    if isinstance(specs, dict):
        return flat_named_arrays(inputs)
    return {specs.name: inputs}


def export_case(name, directory):
    """Saves the serving inputs, the model's outputs and the SavedModel.

    The Perceiver treats every example on its own, so the first rows of the
    batch-7 outputs are the reference for smaller served batches.

    Returns:
        What the `keras-perceiver export` command printed (`CLI_CASE`), or
        None.
    """
    model, inputs = CASES[name]()
    os.makedirs(directory)
    feed = serving_feed(model, inputs)
    np.savez(os.path.join(directory, "feed.npz"), **feed)
    np.savez(os.path.join(directory, "expected.npz"),
             **named_outputs(name, model(inputs, training=False)))
    if name in RAW_INPUTS:
        key, make_raw = RAW_INPUTS[name]
        raw, model_inputs = make_raw(inputs)
        np.savez(os.path.join(directory, "raw_feed.npz"), **{key: raw})
        np.save(os.path.join(directory, "expected_raw.npy"),
                to_numpy(model(model_inputs, training=False)))
    saved_model = os.path.join(directory, "saved_model")
    if name == CLI_CASE:
        return export_with_cli_over_an_old_export(model, saved_model)
    kp.export_saved_model(model, saved_model)
    return None


def export_with_cli_over_an_old_export(model, saved_model):
    """Runs `keras-perceiver export MODEL.keras DIR --overwrite` over an
    earlier export, in a directory holding a `keras.py` that writes
    `KERAS_PY_RAN` if it runs."""
    directory = os.path.dirname(saved_model)
    model_path = os.path.join(directory, "model.keras")
    model.save(model_path)
    write_earlier_export(saved_model)
    working = os.path.join(directory, "working")
    os.makedirs(working)
    with open(os.path.join(working, "keras.py"), "w") as file:
        file.write(f"open({KERAS_PY_RAN!r}, 'w').close()\n"
                   "raise SystemExit('keras.py in the working directory')\n")
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), working_directory(working):
        status = main(["export", model_path, saved_model, "--overwrite"])
    assert status == 0
    return stdout.getvalue()


KERAS_PY_RAN = "keras_py_ran"


def write_earlier_export(path):
    """A folder as an earlier export leaves it (graph, marker) plus
    `stale.txt`, which the new export must not keep."""
    os.makedirs(os.path.dirname(os.path.join(path, saved_model.MARKER_FILE)))
    for name in ("saved_model.pb", saved_model.MARKER_FILE, "stale.txt"):
        with open(os.path.join(path, name), "w") as file:
            file.write("old export")


@contextlib.contextmanager
def working_directory(path):
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


# Run after the lines `CASES_FILE = <path of a JSON dict: case name ->
# directory>` and `BATCH_SIZES = <tuple>`.
VERIFY_SCRIPT = """
import json
import numpy as np
import tensorflow as tf

with open(CASES_FILE) as file:
    directories = json.load(file)
results = {}
for name, directory in directories.items():
    loaded = tf.saved_model.load(directory + "/saved_model")
    signature = loaded.signatures["serving_default"]
    feed = np.load(directory + "/feed.npz")
    first = sorted(feed.files)[0]
    wrong_size = {key: feed[key][:1] for key in feed.files}
    wrong_size[first] = np.concatenate([wrong_size[first]] * 2, axis=1)
    try:
        signature(**{key: tf.constant(value)
                     for key, value in wrong_size.items()})
        wrong_size_refused = False
    except tf.errors.InvalidArgumentError:
        wrong_size_refused = True
    result = {
        "inputs": {key: spec.dtype.name for key, spec
                   in signature.structured_input_signature[1].items()},
        "dynamic_batch": all(
            spec.shape[0] is None
            for spec in signature.structured_input_signature[1].values()),
        "max_abs_difference": {},
        "wrong_size_refused": wrong_size_refused,
    }
    expected = np.load(directory + "/expected.npz")
    for batch_size in BATCH_SIZES:
        outputs = signature(**{key: tf.constant(feed[key][:batch_size])
                               for key in feed.files})
        result["output_names"] = sorted(outputs)
        result["output_dtypes"] = sorted(
            {output.dtype.name for output in outputs.values()})
        result["max_abs_difference"][batch_size] = max(
            float(np.abs(outputs[key].numpy()
                         - expected[key][:batch_size]).max())
            for key in set(expected.files) & set(outputs))
    try:
        raw_feed = np.load(directory + "/raw_feed.npz")
    except FileNotFoundError:
        raw_feed = None
    if raw_feed is not None:
        outputs = loaded.signatures["serve_raw"](
            **{key: tf.constant(raw_feed[key]) for key in raw_feed.files})
        expected = np.load(directory + "/expected_raw.npy")
        names = outputs["class_names"].numpy().astype(str)
        result["raw"] = {
            "max_abs_difference": float(
                np.abs(outputs["logits"].numpy() - expected).max()),
            "probabilities_difference": float(np.abs(
                outputs["probabilities"].numpy()
                - tf.nn.softmax(expected).numpy()).max()),
            "predicted_is_top": bool(np.all(
                outputs["predicted_class"].numpy().astype(str)
                == names[0][expected.argmax(-1)])),
            "class_names": names[0].tolist(),
        }
    results[name] = result
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Exports every case; returns what a new TensorFlow process saw."""
    keras.utils.set_random_seed(1234)
    root = tmp_path_factory.mktemp("exports")
    directories = {name: str(root / name) for name in cases_to_export()}
    printed = {name: export_case(name, directory)
               for name, directory in directories.items()}
    cases_file = root / "cases.json"
    cases_file.write_text(json.dumps(directories))
    script = (
        f"CASES_FILE = {str(cases_file)!r}\nBATCH_SIZES = {BATCH_SIZES!r}\n"
        + VERIFY_SCRIPT
    )
    stdout = run_under_backend("tensorflow", script)
    results = json.loads(stdout.strip().splitlines()[-1])
    return results, directories, printed[CLI_CASE]


def cases_to_export():
    """Every case under TensorFlow; the rebuild cases under JAX; the
    command's case under torch.

    Off TensorFlow the export rebuilds the model from its `.keras` file in
    a TensorFlow process, the same code whichever backend wrote the file
    (and every backend's files load under the others:
    tests/fixtures/cross_backend): JAX checks what the rebuild carries,
    torch the command's path. (CI runs the backends side by side; this
    spreads the exports' time over them, and torch's process runs every
    backend-independent test.)
    """
    backend = keras.config.backend()
    if backend == "tensorflow":
        return sorted(CASES)
    if backend == "jax":
        return sorted(CASES_OFF_TENSORFLOW)
    return [CLI_CASE]


def tolerance(name, expected):
    if name == "mixed_bfloat16" and keras.config.backend() != "tensorflow":
        return BFLOAT16_RELATIVE_TOLERANCE * np.abs(expected["logits"]).max()
    return FLOAT32_TOLERANCE


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_saved_model_matches_the_model_in_a_new_process(exported, name):
    if name not in cases_to_export():
        pytest.skip("not exported on this backend (see cases_to_export)")
    results, directories, _ = exported
    result = results[name]
    feed = np.load(os.path.join(directories[name], "feed.npz"))
    expected = np.load(os.path.join(directories[name], "expected.npz"))
    expected_dtypes = {
        key: feed[key].dtype.name if feed[key].dtype != np.float64
        else "float32"
        for key in feed.files
    }
    assert result["inputs"] == expected_dtypes
    assert result["output_names"] == sorted(expected.files)
    assert result["dynamic_batch"]
    assert result["output_dtypes"] == ["float32"]
    assert result["wrong_size_refused"]
    for batch_size in BATCH_SIZES:
        difference = result["max_abs_difference"][str(batch_size)]
        assert difference <= tolerance(name, expected), (
            batch_size,
            difference,
        )


def test_signature_names():
    image_model, _ = images_case()
    assert saved_model.serving_input_specs(image_model).name == "images"
    specs = saved_model.serving_input_specs(nested_dict_case()[0])
    assert [spec.name for spec in keras.tree.flatten(specs)] == [
        "a_inputs",
        "a_mask",
        "b",
    ]
    assert [spec.dtype for spec in keras.tree.flatten(specs)] == [
        "float32",
        "bool",
        "float32",
    ]


@pytest.mark.parametrize("case, format, names", [
    ("images", "onnx", ["logits"]),
    ("perceiver_io_dense", "saved_model", ["outputs"]),
    ("multimodal_autoencoder", "litert", ["audio", "label", "video"]),
    # ONNX names every value once: not as the inputs.
    ("multimodal_autoencoder", "onnx",
     ["audio_output", "label_output", "video_output"]),
])
def test_output_names_are_what_the_signature_returns(case, format, names):
    """What `keras-perceiver export` prints after "->" (it printed
    `logits` for every model)."""
    model, _ = CASES[case]()
    assert saved_model.serving_output_names(model, format) == names


def test_byte_array_signature_is_the_same_however_the_model_was_built():
    built_with_tensor = tiny_perceiver()
    built_with_tensor.build((None, 20, 6))
    built_with_dict = tiny_perceiver()
    built_with_dict.build({"inputs": (None, 20, 6), "mask": (None, 20)})
    for model in (built_with_tensor, built_with_dict):
        specs = saved_model.serving_input_specs(model)
        assert sorted(specs) == ["inputs", "mask"]
        assert specs["inputs"].shape == (None, 20, 6)
        assert specs["mask"].shape == (None, 20)
        assert specs["mask"].dtype == "bool"


def test_unbuilt_model_is_refused(tmp_path):
    with pytest.raises(ValueError, match="must be built.*Received: model"):
        kp.export_saved_model(tiny_perceiver(), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_other_models_are_refused(tmp_path):
    model = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="Received: model of type"):
        kp.export_saved_model(model, tmp_path / "out")


def test_non_empty_target_is_refused_without_overwrite(tmp_path):
    model, _ = images_case()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="overwrite=True.*Received"):
        kp.export_saved_model(model, tmp_path / "out")
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


def test_missing_tensorflow_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(saved_model, "_tensorflow_is_installed", lambda: False)
    model, _ = images_case()
    with pytest.raises(ImportError, match="needs TensorFlow.*pip install"):
        kp.export_saved_model(model, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(
    keras.config.backend() == "tensorflow",
    reason="TensorFlow exports in this process: __main__ classes work",
)
def test_classes_from_main_are_refused_off_tensorflow(tmp_path):
    adapter_class = type("MainAdapter", (TwoPartAdapter,),
                         {"__module__": "__main__"})
    model = tiny_perceiver(input_adapter=adapter_class())
    model.build({"a": {"inputs": (None, 3, 6), "mask": (None, 3)},
                 "b": (None, 2, 6)})
    with pytest.raises(ValueError, match="Received: MainAdapter defined"):
        kp.export_saved_model(model, tmp_path / "out")


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RAW_INPUTS))
def test_serve_raw_resizes_and_names_the_classes(exported, name):
    if name not in cases_to_export():
        pytest.skip("not exported on this backend (see cases_to_export)")
    results, directories, _ = exported
    raw = results[name]["raw"]
    model, _ = CASES[name]()
    assert raw["max_abs_difference"] <= FLOAT32_TOLERANCE
    assert raw["probabilities_difference"] <= FLOAT32_TOLERANCE
    assert raw["predicted_is_top"]
    assert raw["class_names"] == (
        model.class_names or [str(index) for index in range(5)])


def test_serve_raw_is_offered_to_image_and_audio_classifiers_only():
    offered = {}
    for name in ("named_rgb_classes", "masked_audio", "images",
                 "perceiver_io_dense", "masked_lm", "sequence"):
        spec = raw_serving.raw_input_spec(CASES[name]()[0])
        offered[name] = spec and (spec.name, spec.dtype, spec.shape)
    assert offered == {
        "named_rgb_classes": ("images", "uint8", (None, None, None, None)),
        "masked_audio": ("waveforms", "float32", (None, None)),
        "images": None,  # Two channels: no standard conversion.
        "perceiver_io_dense": None,
        "masked_lm": None,
        "sequence": None,
    }


def test_serve_raw_is_not_offered_with_a_checkpoint_image_preprocessor():
    # Its central crop and normalisation are not in the serve_raw graph.
    model = tiny_perceiver(
        preprocessor=kp.preprocessing.ImagePreprocessor(size=8))
    model.build((None, 8, 8, 3))
    assert raw_serving.raw_input_spec(model) is None


@pytest.mark.slow
def test_the_export_records_the_model_preprocessor(exported):
    name = "named_rgb_classes"
    if name not in cases_to_export():
        pytest.skip("not exported on this backend (see cases_to_export)")
    _, directories, _ = exported
    marker = os.path.join(directories[name], "saved_model",
                          saved_model.MARKER_FILE)
    with open(marker) as file:
        recorded = json.load(file)["preprocessor"]
    assert recorded["class_name"] == "FilePreprocessor"
    assert recorded["config"] == RGB_FILES


@pytest.mark.slow
def test_cli_export_replaced_the_old_export(exported):
    _, directories, printed = exported
    directory = directories[CLI_CASE]
    assert sorted(os.listdir(directory)) == [
        "expected.npz", "expected_raw.npy", "feed.npz", "model.keras",
        "raw_feed.npz", "saved_model", "working",
    ]  # No staging directory left behind.
    assert not os.path.exists(os.path.join(directory, "saved_model",
                                           "stale.txt"))
    assert "images float32 (None, 8, 8, 3) -> logits float32" in printed
    # The export process did not import the working directory's keras.py.
    assert not os.path.exists(os.path.join(directory, "working",
                                           KERAS_PY_RAN))


def test_cli_errors_are_one_line(tmp_path, capsys, monkeypatch):
    model, _ = images_case()
    model_path = tmp_path / "model.keras"
    model.save(model_path)
    output = tmp_path / "served"
    output.mkdir()
    (output / "keep.txt").write_text("mine")
    unbuilt_path = tmp_path / "unbuilt.keras"
    tiny_perceiver().save(unbuilt_path)
    cases = [
        (["export", str(model_path), str(output)], "--overwrite"),
        (["export", str(tmp_path / "missing.keras"), str(tmp_path / "new")],
         "model file not found"),
        (["export", str(unbuilt_path), str(tmp_path / "new")],
         "must be built"),
    ]
    capsys.readouterr()  # Drops the warning about saving an unbuilt model.
    for argv, message in cases:
        assert main(argv) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(
            "keras-perceiver: error:"
        ), lines
        assert message in lines[0]
    monkeypatch.setattr(saved_model, "_tensorflow_is_installed", lambda: False)
    assert main(["export", str(model_path), str(tmp_path / "new")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "needs TensorFlow" in lines[0]
