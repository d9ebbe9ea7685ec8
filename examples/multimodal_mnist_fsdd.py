"""Fusing two modalities: spoken digits paired with handwritten digits.

Each FSDD recording is paired with an MNIST image of the same digit. The
script trains three Perceivers of the same size, on the images alone, on
the audio alone and on both (a MultimodalAdapter: each modality encoded by
its adapter, padded to a common channel count, tagged with a learned
modality embedding and concatenated along the index axis, as in the
paper's audio+video model, with modality dropout), and prints the three
test accuracies.
Images come in 4 x 4 patches, the audio as log-mel spectrograms in 4 x 4
patches of frames and mel bands (`--audio-features waveform` for raw
128-sample patches).

    KERAS_BACKEND=torch python examples/multimodal_mnist_fsdd.py \
        --mixed-precision
"""

import dataclasses

from common import compile_fit_evaluate, parse_args

import keras_perceiver as kp

args = parse_args(__doc__, "", epochs=20, batch_size=32,
                  audio_features="log_mel")
pairs = kp.datasets.load("mnist_fsdd", data_dir=args.data_dir,
                         audio_features=args.audio_features)
SIZE = dict(num_bands=16, num_latents=64, latent_dim=128, num_blocks=2,
            num_self_attends_per_block=2, num_self_heads=4)
IMAGE_PATCHES = {"patch_size": 4}  # spectrograms take 4 x 4 by default
# In training the fused model loses each modality of a sample 30 % of the
# time (the paper drops 30 % of the videos), so it learns to read both
# rather than lean on the one that is easier to fit.
MODALITY_DROPOUT = {"image": 0.3, "audio": 0.3}


def single_modality(key):
    return dataclasses.replace(
        pairs, x_train=pairs.x_train[key], x_test=pairs.x_test[key],
        modality=pairs.modalities[key], modalities=None,
    )


results = {}
for name, data, options in [
    ("image only", single_modality("image"), IMAGE_PATCHES),
    ("audio only", single_modality("audio"), {}),
    ("image + audio", pairs,
     {**IMAGE_PATCHES, "modality_dropout": MODALITY_DROPOUT}),
]:
    print(f"--- {name}")
    model = kp.models.perceiver_for_dataset(data, **SIZE, **options)
    results[name] = compile_fit_evaluate(model, data, args)
for name, accuracy in results.items():
    print(f"{name:>14}: test accuracy {accuracy:.4f}")
