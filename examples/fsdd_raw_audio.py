"""A Perceiver on raw spoken-digit waveforms (Free Spoken Digit Dataset).

Clips of different lengths are zero-padded to 8,192 samples and masked: the
data is the dict {"inputs": waveforms, "mask": real_samples}. The
AudioAdapter cuts the waveform into patches of 128 samples (the paper's
setting) with 1-D Fourier features of patch time; patches of padding are
masked out of the cross-attention.

    KERAS_BACKEND=jax python examples/fsdd_raw_audio.py --epochs 30
"""

from common import compile_fit_evaluate, parse_args

import keras_perceiver as kp

args = parse_args(__doc__, "fsdd", epochs=30, batch_size=32)
data = kp.datasets.load("fsdd", data_dir=args.data_dir)
model = kp.models.perceiver_for_dataset(
    data, num_bands=32, num_latents=64, latent_dim=128, num_blocks=2,
    num_self_attends_per_block=2, num_self_heads=4,
)
compile_fit_evaluate(model, data, args)
