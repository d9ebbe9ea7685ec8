"""`keras-perceiver predict --checkpoint FLOW FRAME1 FRAME2`: the flow
between two frames under an optical-flow checkpoint, written as a
colour-coded PNG; and the one-line refusals of what it cannot do.

Runs in the test's process (`run_in_process`) on one backend: the
conversion's parity with transformers on every backend is
tests/pretrained/checkpoints_test.py's. The checkpoint is a tiny
random-weight transformers model saved in the test's folder.
"""

import numpy as np
import pytest
from bad_input import assert_refused, unchanged
from command_line import run_in_process

pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch  # noqa: E402
from checkpoint_support import flow_patches  # noqa: E402
from checkpoint_support import save_tiny_checkpoint  # noqa: E402
from PIL import Image  # noqa: E402

import keras_perceiver as kp  # noqa: E402

pytestmark = pytest.mark.backend_independent

FLOW = "PerceiverForOpticalFlow"
SIZE = (6, 8)


@pytest.fixture(scope="module")
def flow_checkpoint(tmp_path_factory):
    """A tiny flow checkpoint and two 6 x 8 frames written as PNG files."""
    folder = tmp_path_factory.mktemp("flow")
    hf_model = save_tiny_checkpoint(FLOW, folder / "checkpoint")
    frames = []
    for index in range(2):
        pixels = np.random.default_rng(index).integers(0, 256, SIZE + (3,),
                                                       np.uint8)
        Image.fromarray(pixels).save(folder / f"frame_{index}.png")
        frames.append(folder / f"frame_{index}.png")
    return folder, hf_model, frames


def test_predict_writes_the_flow_as_a_colour_picture(flow_checkpoint):
    folder, hf_model, frames = flow_checkpoint
    output = folder / "flow.png"
    result = run_in_process("predict", "--checkpoint", folder / "checkpoint",
                            *frames, "--output", output)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[-1] == f"Wrote {output}"
    pixels = np.stack([np.asarray(Image.open(frame)) for frame in frames])
    scaled = pixels[None].astype("float32") / 127.5 - 1.0
    inputs = torch.from_numpy(flow_patches(scaled)).permute(0, 1, 4, 2, 3)
    with torch.no_grad():
        expected = hf_model(inputs=inputs).logits[0].numpy()
    written = np.asarray(Image.open(output))
    np.testing.assert_array_equal(written, kp.reports.flow_to_rgb(expected))


@pytest.mark.parametrize(
    "frame_names, fragment",
    [
        (["frame_0.png"], "two frames"),
        (["frame_0.png", "frame_1.png", "frame_0.png"], "received: 3 images"),
        (["frame_0.png", "small.png"], "same size"),
    ],
    ids=["one_frame", "three_frames", "different_sizes"],
)
def test_bad_frames_are_refused(flow_checkpoint, frame_names, fragment):
    folder, _, _ = flow_checkpoint
    Image.fromarray(np.zeros((5, 8, 3), np.uint8)).save(folder / "small.png")
    with unchanged(folder):
        result = run_in_process(
            "predict", "--checkpoint", folder / "checkpoint",
            *[folder / name for name in frame_names],
            "--output", folder / "flow_out.png",
        )
    assert_refused(result, fragment)


def test_an_output_that_is_not_a_png_is_refused(flow_checkpoint):
    folder, _, frames = flow_checkpoint
    with unchanged(folder):
        result = run_in_process("predict", "--checkpoint",
                                folder / "checkpoint", *frames,
                                "--output", folder / "flow.csv")
    assert_refused(result, "give a .png file")


def test_an_unsupported_checkpoint_variant_is_refused(flow_checkpoint,
                                                      tmp_path):
    folder, _, frames = flow_checkpoint
    variant = tmp_path / "variant"
    save_tiny_checkpoint(FLOW, variant)
    config = (variant / "config.json").read_text().replace(
        FLOW, "PerceiverModel")
    (variant / "config.json").write_text(config)
    with unchanged(folder, variant):
        result = run_in_process("predict", "--checkpoint", variant, *frames,
                                "--output", tmp_path / "flow.png")
    assert_refused(result, "PerceiverModel checkpoints "
                           "cannot be converted")
