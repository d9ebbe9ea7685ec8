"""Perceiver IO optical flow on CIFAR-10 frame pairs with exact ground truth.

DeepMind's flow architecture (`PerceiverOpticalFlow`: the 3x3 patches of
both frames around every pixel, one query per pixel), small enough for a
CPU, trained from scratch on the end-point error. The pairs are real
CIFAR-10 photos moved by known random affine motions
(`keras_perceiver.datasets.affine_flow_pairs`: rotations up to 10 degrees,
scalings up to 10 %, shifts up to 2 pixels; bilinear warping), so every
pixel's true flow is exact: training pairs from the training images, test
pairs from the test images. Prints the test end-point error (EPE, pixels)
of the model, of predicting no motion, and of OpenCV's Farneback (the
classical dense method; needs `opencv-python-headless`) on the same test
pairs, and writes them to `--output-dir`.

    KERAS_BACKEND=jax python examples/cifar10_affine_flow.py
"""

import json
import pathlib
import time

import keras
import numpy as np
from common import parse_args, provenance

import keras_perceiver as kp


def add_arguments(parser):
    parser.add_argument("--train-pairs", type=int, default=6_000)
    parser.add_argument("--test-pairs", type=int, default=1_000)


def build_model():
    encoder = kp.PerceiverEncoder(
        num_latents=64, latent_dim=128, num_blocks=1,
        num_self_attends_per_block=4, num_self_heads=4,
        block_scheme="perceiver_io",
        input_adapter=kp.adapters.FlowAdapter(num_channels=32, num_bands=8),
    )
    # Trained from scratch: no rescaling of the decoder's outputs (DeepMind's
    # factor of 100 suits its checkpoint, not a fresh output layer).
    return kp.PerceiverOpticalFlow(encoder, rescale_factor=1.0,
                                   decoder_query_chunk_size=4096)


def farneback_flow(frames):
    """OpenCV's Farneback flow of each pair, or None without OpenCV."""
    try:
        import cv2
    except ImportError:
        return None
    grey = np.round(frames.mean(axis=-1) * 255).astype(np.uint8)
    return np.stack([
        cv2.calcOpticalFlowFarneback(
            first, second, None, pyr_scale=0.5, levels=2, winsize=7,
            iterations=5, poly_n=5, poly_sigma=1.1, flags=0)
        for first, second in grey
    ])


def mean_epe(flow, true_flow):
    return float(np.mean(kp.training.end_point_error(true_flow, flow)))


def main():
    args = parse_args(__doc__, "cifar10", epochs=6, batch_size=32,
                      add_arguments=add_arguments)
    data = kp.datasets.load("cifar10", data_dir=args.data_dir)
    train_frames, train_flow = kp.datasets.affine_flow_pairs(
        data.x_train, args.train_pairs, seed=0)
    test_frames, test_flow = kp.datasets.affine_flow_pairs(
        data.x_test, args.test_pairs, seed=1)
    model = build_model()
    steps = -(-args.train_pairs // args.batch_size) * args.epochs
    kp.training.compile_for_flow(
        model, kp.training.warmup_cosine_decay(args.learning_rate, steps))
    started = time.perf_counter()
    # Frames in [-1, 1], as DeepMind's flow model reads them.
    model.fit(train_frames * 2 - 1, train_flow, batch_size=args.batch_size,
              epochs=args.epochs)
    seconds = time.perf_counter() - started
    predicted = model.predict(test_frames * 2 - 1, batch_size=64, verbose=0)
    farneback = farneback_flow(test_frames)
    results = {
        "test_epe_perceiver_io": mean_epe(predicted, test_flow),
        "test_epe_zero_flow": mean_epe(np.zeros_like(test_flow), test_flow),
        "test_epe_farneback": (None if farneback is None
                               else mean_epe(farneback, test_flow)),
        "train_pairs": args.train_pairs,
        "test_pairs": args.test_pairs,
        "epochs": args.epochs,
        "training_seconds": round(seconds),
        "parameters": model.count_params(),
        "backend": keras.config.backend(),
        "dtype_policy": keras.config.dtype_policy().name,
        **provenance(),
    }
    if farneback is None:
        print("Farneback skipped: pip install opencv-python-headless")
    print(json.dumps({key: value for key, value in results.items()
                      if key not in ("machine", "lscpu_flags")}))
    output = pathlib.Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    (output / "cifar10_affine_flow_metrics.json").write_text(
        json.dumps(results, indent=2) + "\n")
    kp.reports.save_flow_image(predicted[0], output / "cifar10_flow.png",
                               max_magnitude=np.abs(test_flow[0]).max())


if __name__ == "__main__":
    main()
