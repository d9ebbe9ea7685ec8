"""Every code block of README.md and docs/**/*.md runs as written.

A page's ```python blocks run in order in this process, in one namespace
(later blocks use earlier names), and its ```bash/```sh/```console blocks
in a shell with this Python's environment first on PATH, all in one working
folder per page. The pages ask for tiny sizes through environment variables
that show in the blocks (`"${EPOCHS:-20}"`, `os.environ.get("EPOCHS",
...)`); the test sets them. What a user would bring is made in the working
folder: `photos/` (a folder of images in two classes), `cat.jpg` and
`dog.png`, and a Hugging Face cache holding tiny random-weight
`deepmind/*` checkpoints (transformers' own `save_pretrained` files), read
offline. Blocks in other fences (```text: installs, several GPUs or hosts,
a TF Serving server, output) are not run; `test_every_block_is_run_or_text`
counts them per page. The command-line page is generated from argparse.

In the shell, `keras-perceiver` runs the command's `main` in this process
(`run_in_process`: the same parsing, run and exit status), not a new
process that would spend seconds importing Keras and its backend: a shell
function sends its arguments and working folder to this process over a
pipe and waits for the exit status. A command with `--backend` (another
backend, its environment prefix) starts its own process as written.
"""

import os
import pathlib
import re
import select
import subprocess
import sys
import tempfile
import time

import keras
import numpy as np
import pytest
from command_line import run_in_process

from keras_perceiver.modalities import registry


ROOT = pathlib.Path(__file__).resolve().parents[2]
GENERATED = {"docs/guides/command-line.md"}
RUN = {"python", "bash", "sh", "console"}
NOT_RUN = {"text"}

# The sizes the blocks read from the environment, and the offline cache.
ENVIRONMENT = {"EPOCHS": "1", "TRIALS": "1", "HF_HUB_OFFLINE": "1",
               "OMP_NUM_THREADS": "1"}
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```", re.M | re.S)
# The Hugging Face checkpoints the pages name, as tiny models.
CHECKPOINTS = {
    "deepmind/vision-perceiver-fourier": "PerceiverForImageClassificationFourier",
    "deepmind/vision-perceiver-conv": "PerceiverForImageClassificationConvProcessing",
    "deepmind/optical-flow-perceiver": "PerceiverForOpticalFlow",
}


def pages():
    found = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return [str(path.relative_to(ROOT)) for path in found
            if str(path.relative_to(ROOT)) not in GENERATED
            and not str(path.relative_to(ROOT)).startswith("docs/reference/")]


def code_blocks(page):
    """(language, code) of each fenced block of a page, in order."""
    text = (ROOT / page).read_text()
    return [(match.group(1), match.group(2)) for match in FENCE.finditer(text)]


def runnable(page):
    return [block for block in code_blocks(page) if block[0] in RUN]


# The backend each page runs under, dealt by measured CPU time. Torch
# trains and runs in-process commands cheapest (eager, nothing to trace or
# compile: the four pages moved here took 11-34 CPU-seconds each under
# TensorFlow or JAX, 2-5 under torch), so every page that trains or loads
# checkpoints goes to torch. TensorFlow keeps the page that exports in
# this process (other backends start a TensorFlow process for it) and two
# pages that only build models. The page whose command starts its own JAX
# process (`--backend jax`) costs the same anywhere: it goes to torch,
# whose process ended first in CI (7 December 2026), and JAX, which also
# runs the GPU script's smoke run and the export's rebuilds, has none.
BACKEND_OF_PAGE = {
    "README.md": "torch",
    "docs/guides/modalities.md": "torch",
    "docs/guides/own-data.md": "torch",
    "docs/guides/training.md": "torch",
    "docs/guides/tuning.md": "torch",
    "docs/guides/pretrained.md": "torch",
    "docs/guides/perceiver-io.md": "torch",
    "docs/guides/perceiver-ar.md": "torch",
    "docs/guides/reliable-runs.md": "torch",
    "docs/guides/large-inputs.md": "torch",
    "docs/guides/many-devices.md": "torch",
    "docs/guides/deployment.md": "tensorflow",
    "docs/guides/backends-and-precision.md": "tensorflow",
    "docs/design.md": "tensorflow",
}
PAGES_TO_RUN = [page for page in pages() if runnable(page)]


@pytest.mark.backend_independent
def test_every_page_with_code_has_a_backend():
    assert sorted(PAGES_TO_RUN) == sorted(BACKEND_OF_PAGE)


@pytest.mark.backend_independent
def test_every_block_is_run_or_text(capsys):
    """No block escapes: its fence says run it, or it is text (counted)."""
    counts = []
    for page in pages():
        languages = [language for language, _ in code_blocks(page)]
        unknown = sorted(set(languages) - RUN - NOT_RUN)
        assert not unknown, f"{page}: fences {unknown} are neither run nor text"
        counts.append((page, sum(lang in RUN for lang in languages),
                       sum(lang in NOT_RUN for lang in languages)))
    with capsys.disabled():
        print("\ncode blocks run / not run (text) per page:")
        for page, run, skipped in counts:
            print(f"  {page}: {run} run, {skipped} not run")


def write_photos(folder):
    """photos/cat and photos/dog: 6 small PNGs each, told apart by colour."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for index, name in enumerate(["cat", "dog"]):
        (folder / "photos" / name).mkdir(parents=True)
        for image in range(6):
            pixels = rng.integers(0, 96, size=(20, 20, 3)) + 128 * index
            Image.fromarray(pixels.astype("uint8")).save(
                folder / "photos" / name / f"{image}.png")
    Image.fromarray(rng.integers(0, 255, (40, 30, 3)).astype("uint8")).save(
        folder / "cat.jpg")
    Image.fromarray(rng.integers(0, 255, (30, 40, 3)).astype("uint8")).save(
        folder / "dog.png")


def write_hub_cache(home, page_text):
    """The Hugging Face cache layout, offline, for each repo id named."""
    checkpoint_support = pytest.importorskip("checkpoint_support")
    for repo_id, architecture in CHECKPOINTS.items():
        if repo_id in page_text:
            checkpoint_support.save_tiny_hub_checkpoint(
                home / "hub", repo_id, architecture)


def restore_global_state(modalities):
    """What a page may change in this process: modalities it registered,
    the dtype policy."""
    registry.MODALITIES.clear()
    registry.MODALITIES.update(modalities)
    keras.config.set_dtype_policy("float32")


# `keras-perceiver` in the blocks' shell: a request (the working folder and
# the arguments, NUL-separated, then a newline) to this process, which runs
# the command and answers with its exit status; the function prints the
# command's output. With `--backend`, the command itself (a new process).
IN_PROCESS_COMMAND = r"""
keras-perceiver() {
    case " $* " in *" --backend "* | *" --backend="*)
        command keras-perceiver "$@"; return ;; esac
    printf '%s\0' "$PWD" "$@" >&"$KP_REQUESTS"; printf '\n' >&"$KP_REQUESTS"
    local status; read -r status <&"$KP_ANSWERS"
    cat "$KP_OUTPUT/stdout"; cat "$KP_OUTPUT/stderr" >&2
    return "$status"
}
"""


def run_requested_command(request, output):
    """Runs one `keras-perceiver` request of the shell in its folder; writes
    its output to `output`; returns its exit status."""
    folder, *arguments = request[:-1].decode().split("\0")
    before = os.getcwd()
    os.chdir(folder)
    try:
        result = run_in_process(*arguments)
    except SystemExit as exit:  # argparse's --help, --version and errors
        result = subprocess.CompletedProcess(
            arguments, exit.code or 0, "",
            f"argparse exited with status {exit.code} (output not kept)")
    finally:
        os.chdir(before)
    (output / "stdout").write_text(result.stdout)
    (output / "stderr").write_text(result.stderr)
    return result.returncode


def serve_commands(shell, requests, answers, output, deadline):
    """Answers the shell's `keras-perceiver` requests until it exits."""
    pending = b""
    with os.fdopen(requests, "rb", buffering=0) as incoming, \
            os.fdopen(answers, "w") as outgoing:
        while True:
            ready, _, _ = select.select([incoming], [], [],
                                        max(deadline - time.monotonic(), 0))
            if not ready:
                shell.kill()
                raise TimeoutError("a code block ran over 600 s")
            chunk = incoming.read(65536)
            if not chunk:
                return  # the shell (and what it started) closed the pipe
            pending += chunk
            while b"\n" in pending:
                request, pending = pending.split(b"\n", 1)
                outgoing.write(f"{run_requested_command(request, output)}\n")
                outgoing.flush()


def run_shell(code, folder, environment, name):
    """Runs `code` with bash in `folder`; `keras-perceiver` in this
    process (IN_PROCESS_COMMAND)."""
    request_read, request_write = os.pipe()
    answer_read, answer_write = os.pipe()
    with tempfile.TemporaryDirectory() as output, \
            tempfile.TemporaryFile("w+") as log:
        shell = subprocess.Popen(
            ["bash", "-e", "-o", "pipefail", "-c",
             IN_PROCESS_COMMAND + code],
            cwd=folder, stdout=log, stderr=subprocess.STDOUT, text=True,
            pass_fds=(request_write, answer_read),
            env=dict(environment, KP_REQUESTS=str(request_write),
                     KP_ANSWERS=str(answer_read), KP_OUTPUT=output))
        os.close(request_write)
        os.close(answer_read)
        try:
            serve_commands(shell, request_read, answer_write,
                           pathlib.Path(output), time.monotonic() + 600)
        finally:
            returncode = shell.wait()
        log.seek(0)
        assert returncode == 0, (
            f"{name} failed ({returncode}):\n{code}\n{log.read()[-6000:]}")


@pytest.mark.slow
@pytest.mark.parametrize("page", [
    pytest.param(page, marks=pytest.mark.one_backend(backend))
    for page, backend in BACKEND_OF_PAGE.items()])
def test_code_blocks_run_as_written(page, tmp_path, monkeypatch):
    write_photos(tmp_path)
    text = (ROOT / page).read_text()
    if "deepmind/" in text:
        write_hub_cache(tmp_path / "huggingface", text)
        pytest.importorskip("checkpoint_support").hub_offline(
            monkeypatch, tmp_path / "huggingface" / "hub")
    saved_environment = dict(os.environ)
    saved_modalities = dict(registry.MODALITIES)
    monkeypatch.chdir(tmp_path)
    try:
        os.environ.update(ENVIRONMENT, HF_HOME=str(tmp_path / "huggingface"))
        environment = dict(
            os.environ,
            PATH=os.path.dirname(sys.executable) + os.pathsep
            + os.environ["PATH"],
            PYTHONPATH=str(ROOT))
        namespace = {"__name__": "__main__"}
        for index, (language, code) in enumerate(runnable(page), 1):
            name = f"{page}, code block {index} ({language})"
            if language == "python":
                exec(compile(code, name, "exec"), namespace)
            else:
                run_shell(code, tmp_path, environment, name)
    finally:
        os.environ.clear()
        os.environ.update(saved_environment)
        restore_global_state(saved_modalities)
