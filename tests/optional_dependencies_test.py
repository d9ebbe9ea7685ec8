"""The extras: a feature without its package names the extra to install.

(That the command line prints no TensorFlow log lines off TensorFlow is
checked on the command's two-device runs under JAX and torch, started as
README's command starts: tests/distribution/distribution_test.py.)"""

import importlib
import sys

import pytest

from keras_perceiver import datasets
from keras_perceiver.reports import plotting
from keras_perceiver.cli import main as cli_main
from keras_perceiver.optional_dependencies import MissingExtraError
from keras_perceiver.optional_dependencies import import_optional

pytestmark = pytest.mark.backend_independent


def hide(monkeypatch, package):
    """Makes `import package` (and its submodules) fail, as if absent."""
    for name in list(sys.modules):
        if name == package or name.startswith(package + "."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, package, None)


@pytest.mark.parametrize(
    "module, extra",
    [("matplotlib.pyplot", "plotting"), ("sklearn.datasets", "data"),
     ("keras_tuner", "tuning")],
)
def test_a_missing_package_names_its_extra(module, extra, monkeypatch):
    hide(monkeypatch, module.split(".")[0])
    with pytest.raises(
        ImportError,
        match=rf"^Plotting needs .*`pip install keras-perceiver\[{extra}\]`\. "
              r"Received: no module named",
    ):
        import_optional(module, "Plotting")


def test_an_installed_package_is_imported():
    assert import_optional("sklearn.datasets", "Digits").load_digits


def test_digits_without_scikit_learn(monkeypatch):
    hide(monkeypatch, "sklearn")
    with pytest.raises(MissingExtraError, match=r"keras-perceiver\[data\]"):
        datasets.load("digits")


def test_plots_without_matplotlib(monkeypatch, tmp_path):
    hide(monkeypatch, "matplotlib")
    history = tmp_path / "history.csv"
    history.write_text("epoch,loss\n0,1.0\n")
    with pytest.raises(MissingExtraError,
                       match=r"keras-perceiver\[plotting\]"):
        plotting.plot_training_curves(history, tmp_path / "curves.png")


def test_tuning_without_keras_tuner(monkeypatch):
    hide(monkeypatch, "keras_tuner")
    for name in list(sys.modules):  # imported again below
        if name.startswith("keras_perceiver.tuning"):
            monkeypatch.delitem(sys.modules, name)
    with pytest.raises(MissingExtraError, match=r"keras-perceiver\[tuning\]"):
        importlib.import_module("keras_perceiver.tuning")


@pytest.mark.parametrize(
    "arguments, package, extra",
    [
        (["train", "--dataset", "digits"], "matplotlib", "plotting"),
        (["tune", "--dataset", "digits"], "keras_tuner", "tuning"),
        (["train", "--dataset", "digits"], "sklearn", "data"),
    ],
)
def test_commands_without_an_extra_exit_with_one_line(
    arguments, package, extra, monkeypatch, capsys, tmp_path
):
    hide(monkeypatch, package)
    output = ["--output-dir", str(tmp_path)]
    assert cli_main.main(arguments + output) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("keras-perceiver: error:")
    assert f"pip install keras-perceiver[{extra}]" in lines[0]
