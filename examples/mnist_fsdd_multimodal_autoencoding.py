"""Perceiver IO multimodal autoencoding on audio-visual digits.

DeepMind's multimodal autoencoder (`PerceiverMultimodalAutoencoder`: video,
audio and label through one latent array, every pixel, every audio patch
and the label decoded by one shared decoder), small enough for a CPU,
trained from scratch on real data: MNIST digits moving across 4 frames (a
known random shift of up to 4 pixels per frame) paired with a Free Spoken
Digit recording of the same digit, averaged down to 2,048 samples (2 kHz)
(`keras_perceiver.datasets.load_audio_visual_digits`), and the digit's
label, hidden by its mask token half of the time in training, as DeepMind
trains.

It trains in three phases (`PHASES`), each compiled afresh with its own
warm-up and cosine decay: the audio alone, then the audio and the video,
then all three. Trained on all three from the start, the latents learn
the label and the video and never attend to the audio, which stays at
silence's PSNR whatever its loss weight (1, 10 or 100) or scale; once the
audio is reconstructed, its loss keeps it there while the others learn.

Prints, on the 300 test examples with the label left out (DeepMind's test
setting: the label is predicted from the video and the audio), the
reconstruction PSNR of the video and of the audio against a trivial
baseline each (the mean training frame; silence), and the label accuracy
against the majority class; writes them, with the machine, to
`--output-dir` as `mnist_fsdd_multimodal_autoencoding_metrics.json`.

    KERAS_BACKEND=torch python examples/mnist_fsdd_multimodal_autoencoding.py \\
        --mixed-precision --output-dir benchmarks/training
"""

import json
import pathlib
import time

import keras
import numpy as np
from common import parse_args, provenance

import keras_perceiver as kp

NUM_FRAMES = 4
AUDIO_SAMPLES_PER_FRAME = 512
NAME = "mnist_fsdd_multimodal_autoencoding"
# (loss weights, share of the epochs): each phase adds a task.
PHASES = (
    ({"video": 0.0, "audio": 1.0, "label": 0.0}, 1 / 6),
    ({"video": 1.0, "audio": 1.0, "label": 0.0}, 1 / 3),
    ({"video": 1.0, "audio": 1.0, "label": 0.1}, 1 / 2),
)


def add_arguments(parser):
    parser.add_argument("--train-examples", type=int, default=None,
                        help="train on N pairs drawn at random (default: "
                        "all)")
    parser.add_argument("--test-examples", type=int, default=None,
                        help="test on N pairs drawn at random (default: "
                        "all)")


def build_model():
    adapter = kp.adapters.MultimodalAutoencodingAdapter(
        num_frames=NUM_FRAMES, frame_size=28,
        audio_samples_per_frame=AUDIO_SAMPLES_PER_FRAME, num_labels=10,
        num_channels=1, samples_per_patch=16, video_patch_size=4,
        audio_num_bands=16, video_num_bands=16, mask_probs={"label": 0.5},
        seed=0,
    )
    encoder = kp.PerceiverEncoder(
        num_latents=64, latent_dim=128, num_blocks=1,
        num_self_attends_per_block=2, num_self_heads=4,
        block_scheme="perceiver_io", input_adapter=adapter,
    )
    return kp.PerceiverMultimodalAutoencoder(
        encoder, output_num_channels=32, label_query_channels=32,
    )


def subset(split, count):
    """`count` examples drawn at random (the splits are sorted by digit)."""
    chosen = np.random.default_rng(0).permutation(len(split["label"]))
    return {name: values[chosen[:count]] for name, values in split.items()}


def train_in_phases(model, inputs, targets, args):
    """Fits `model` phase by phase (`PHASES`), each with its loss weights,
    its share of `args.epochs` and a new optimizer and schedule."""
    steps_per_epoch = -(-len(targets["label"]) // args.batch_size)
    for loss_weights, share in PHASES:
        epochs = max(1, round(args.epochs * share))
        kp.training.compile_for_multimodal_autoencoding(
            model, kp.training.warmup_cosine_decay(
                args.learning_rate, steps_per_epoch * epochs),
            loss_weights=loss_weights)
        model.fit(inputs, targets, batch_size=args.batch_size,
                  epochs=epochs)


def main():
    args = parse_args(__doc__, "", epochs=30, batch_size=32,
                      add_arguments=add_arguments)
    data = kp.datasets.load_audio_visual_digits(
        args.data_dir, num_frames=NUM_FRAMES,
        audio_samples_per_frame=AUDIO_SAMPLES_PER_FRAME, seed=0)
    train = subset(data["train"], args.train_examples)
    test = subset(data["test"], args.test_examples)
    model = build_model()
    inputs = {name: train[name] for name in ("video", "audio")}
    inputs["label"] = np.eye(10, dtype="float32")[train["label"]]
    targets = {name: train[name] for name in ("video", "audio", "label")}
    started = time.perf_counter()
    train_in_phases(model, inputs, targets, args)
    seconds = time.perf_counter() - started
    # The label left out: its mask token stands in, as DeepMind tests.
    predicted = model.predict(
        {"video": test["video"], "audio": test["audio"]}, batch_size=50,
        verbose=0)
    mean_frame = np.broadcast_to(train["video"].mean(axis=(0, 1)),
                                 test["video"].shape)
    majority = np.bincount(train["label"]).argmax()
    psnr = kp.training.psnr
    results = {
        "test_video_psnr_db": psnr(test["video"], predicted["video"], 1.0),
        "test_video_psnr_db_mean_frame": psnr(test["video"], mean_frame,
                                              1.0),
        "test_audio_psnr_db": psnr(test["audio"], predicted["audio"], 2.0),
        "test_audio_psnr_db_silence": psnr(
            test["audio"], np.zeros_like(test["audio"]), 2.0),
        "test_label_accuracy": float(np.mean(
            predicted["label"].argmax(axis=-1) == test["label"])),
        "test_label_accuracy_majority_class": float(np.mean(
            test["label"] == majority)),
        "train_examples": len(train["label"]),
        "test_examples": len(test["label"]),
        "epochs": args.epochs,
        "training_seconds": round(seconds),
        "parameters": model.count_params(),
        "backend": keras.config.backend(),
        "dtype_policy": keras.config.dtype_policy().name,
        **provenance(),
    }
    print(json.dumps({key: value for key, value in results.items()
                      if key not in ("machine", "lscpu_flags")}))
    output = pathlib.Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    (output / f"{NAME}_metrics.json").write_text(
        json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
