"""The first touch of the command: `--help`, `--version`, argument errors
before any library loads, defaults in the help, one `predict` syntax, and
relaunches that import nothing from the working directory.

The checks of what a fresh process imports, and of the relaunches, need a
new process (this one has Keras loaded); the rest run here.
"""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from command_line import run_in_process
from support import other_backends, tiny_image_model_file

import keras_perceiver as kp
from keras_perceiver.cli import backend_choice, main
from keras_perceiver.distribution.torchrun_command import torchrun_command

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]
HEAVY = ("keras", "tensorflow", "jax", "torch", "numpy")
# Runs the `keras-perceiver` script (keras_perceiver_command) as the
# console script does, then lists the heavy libraries loaded.
PARSE_AND_LIST = (
    "import sys\n"
    "import keras_perceiver_command\n"
    "try:\n"
    "    status = keras_perceiver_command.main()\n"
    "except SystemExit as exit:\n"
    "    status = exit.code\n"
    f"print(status, *[m for m in {HEAVY!r} if m in sys.modules])\n"
)


def in_fresh_python(*arguments, cwd=None, env=None):
    """Runs `python arguments...` with this checkout first on PYTHONPATH."""
    env = dict(os.environ if env is None else env, PYTHONPATH=str(REPOSITORY))
    return subprocess.run([sys.executable, *arguments], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=300)


@pytest.mark.backend_independent
@pytest.mark.parametrize("arguments, status", [
    (["--help"], 0), (["train", "--help"], 0), (["--version"], 0),
    (["train", "--epochs", "x"], 2), (["trian"], 2),
    (["predict", "model.keras"], 2),
    (["--backend", "auto", "train", "--help"], 0),
], ids=["help", "train_help", "version", "argument_error",
        "unknown_command", "predict_syntax", "auto_train_help"])
def test_help_version_and_argument_errors_import_no_library(arguments,
                                                            status):
    result = in_fresh_python("-c", PARSE_AND_LIST, *arguments)
    assert result.stdout.splitlines()[-1] == str(status), result.stderr


@pytest.mark.backend_independent
def test_version_is_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit:
        main.main(["--version"])
    assert exit.value.code == 0
    assert capsys.readouterr().out.strip() == (
        f"keras-perceiver {main.package_version()}")
    assert main.package_version() == kp.__version__


def help_text(capsys, *arguments):
    with pytest.raises(SystemExit):
        main.main([*arguments, "--help"])
    return " ".join(capsys.readouterr().out.split())


@pytest.mark.backend_independent
def test_help_shows_the_defaults(capsys):
    text = help_text(capsys, "train")
    for default in ("passes over the training data (default: 10)",
                    "examples per training step (default: 64)",
                    "validation curves (default: 0.1)",
                    "AdamW weight decay (default: 0.0001)",
                    "(default: 0)"):
        assert default in text
    assert "examples per batch (default: 64)" in help_text(capsys,
                                                           "evaluate")
    assert "(default: 5)" in help_text(capsys, "predict")


@pytest.mark.backend_independent
def test_evaluate_help_does_not_mention_checkpoints(capsys):
    assert "checkpoint" not in help_text(capsys, "evaluate").lower()


@pytest.fixture
def image_model(tmp_path):
    return tiny_image_model_file(tmp_path)


# Parsing and printing; cli_test.py predicts through each backend.
@pytest.mark.backend_independent
def test_predict_model_then_files_with_the_alias_too(image_model, tmp_path):
    from PIL import Image

    image = tmp_path / "a.png"
    Image.fromarray(np.zeros((8, 8), "uint8")).save(image)
    positional = run_in_process("predict", image_model, image, "--top-k", 1)
    assert positional.returncode == 0, positional.stderr[-2000:]
    alias = run_in_process("predict", "--model", image_model, image,
                           "--top-k", 1)
    assert alias.stdout == positional.stdout
    assert positional.stdout.splitlines()[1].split()[1] in ("cat", "dog")


@pytest.mark.backend_independent
def test_predict_input_prints_class_names(image_model, tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((2, 8, 8, 1), "float32"))
    result = run_in_process("predict", image_model, "--input",
                            tmp_path / "x.npy")
    assert result.returncode == 0, result.stderr[-2000:]
    for line in result.stdout.splitlines():
        assert line.split()[3] in ("cat", "dog"), line


def write_marker_modules(folder, *names):
    """Modules in `folder` that leave a marker file if imported."""
    for name in names:
        path = folder / name / "__init__.py" if "/" in name else (
            folder / f"{name}.py")
        path.parent.mkdir(exist_ok=True)
        path.write_text(
            f"open({str(folder / 'imported')!r}, 'a').write({name!r})\n"
            "raise SystemExit('imported from the working directory')\n")


@pytest.mark.backend_independent
def test_restart_under_another_backend_imports_nothing_from_the_folder(
        tmp_path):
    # The restart replaces the process (exec): a new process is needed. A
    # stub stands for Keras loaded under another backend.
    write_marker_modules(tmp_path, "keras", "runpy", "keras_perceiver/")
    backend = other_backends()[0]
    result = in_fresh_python(
        "-P", "-c",
        "import sys, types; sys.modules['keras'] = types.ModuleType('k'); "
        "import keras_perceiver_command; "
        "from keras_perceiver.cli.main import main; "
        "sys.exit(main(sys.argv[1:]))",
        "--backend", backend, "predict", "missing.keras", "a.png",
        "--output", "no/such/folder/out.csv",
        cwd=tmp_path, env=dict(os.environ, KERAS_BACKEND="not-" + backend))
    assert not (tmp_path / "imported").exists()
    assert result.returncode == 2, result.stderr[-2000:]
    assert "no/such/folder does not exist" in result.stderr


@pytest.mark.backend_independent
def test_torchrun_relaunch_imports_nothing_from_the_folder(tmp_path):
    pytest.importorskip("torch")
    # torchrun starts processes: a new process is needed.
    write_marker_modules(tmp_path, "torch", "runpy", "keras_perceiver/")
    command = torchrun_command(1, ["--help"])
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=tmp_path, timeout=300,
        env=dict(os.environ, PYTHONPATH=str(REPOSITORY)))
    assert not (tmp_path / "imported").exists()
    assert result.returncode == 0, result.stderr[-2000:]
    assert "usage: keras-perceiver" in result.stdout


@pytest.mark.backend_independent
@pytest.mark.parametrize("environment, keras_json, expected", [
    ({"KERAS_BACKEND": "torch"}, {"backend": "jax"}, "torch"),
    ({}, {"backend": "jax"}, "jax"),
    ({}, None, "tensorflow"),
    ({}, ["not", "an", "object"], "tensorflow"),
], ids=["variable", "keras_json", "neither", "damaged_keras_json"])
def test_the_backend_is_read_as_keras_reads_it(environment, keras_json,
                                               expected, tmp_path,
                                               monkeypatch):
    # Before Keras loads (--help, argument errors) it is not asked.
    monkeypatch.delitem(sys.modules, "keras")
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    if keras_json is not None:
        (tmp_path / "keras.json").write_text(json.dumps(keras_json))
    assert backend_choice.configured_backend() == expected
