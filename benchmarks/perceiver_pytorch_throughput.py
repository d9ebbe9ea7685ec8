"""Throughput of the `perceiver-pytorch` package's `Perceiver`, the reference.

    python -m benchmarks.perceiver_pytorch_throughput [--quick]

The model is configured like `kp.Perceiver` in `configs.THROUGHPUT`: the same
N, D, B (`depth`), L (`self_per_cross_attn`), heads, head widths (cross
attention: one head as wide as the input channels; self-attention: D split
over the heads), Fourier features (`num_freq_bands` = K bands spaced
linearly from 1 to `max_freq` / 2 = image size / 2, plus the raw position:
the same channels as ours) and weight tying (`weight_tie_layers=True`). It
is timed on the same images and labels, with the same optimizer (Adam) and
loss, in plain PyTorch eager mode; mixed bfloat16 uses `torch.autocast`.

Differences the package does not let us remove (its parameter count is
reported next to ours):
- its MLPs are GEGLU `D -> 2 * mult * D -> (gate) -> D` with `mult` fixed
  at 4 in its `PerceiverBlock`; `--mlp-mult 1` (the default here) replaces
  the module's `FeedForward` by one with `mult=1`, the closest to the
  paper's widening factor 1 (still 3 D^2 weights against our 2 D^2);
- weight tying shares block 2's cross-attend *and* latent Transformer with
  blocks 3..B, while the paper (and `kp.Perceiver`) share one latent
  Transformer across all B blocks, block 1 included;
- queries and keys/values have no bias, and the head has an extra
  LayerNorm.
"""

import argparse
import functools

import numpy as np
import torch

from benchmarks import configs
from benchmarks.batch import make_batch
from benchmarks.timing import emit, peak_rss_bytes, time_steps


def build_model(config, mlp_mult):
    from perceiver_pytorch import perceiver_pytorch as package

    if mlp_mult is not None:
        package.FeedForward = functools.partial(
            _ORIGINAL_FEED_FORWARD, mult=mlp_mult
        )
    height, width, channels = config["image_shape"]
    input_channels = channels + 2 * (2 * config["num_bands"] + 1)
    return package.Perceiver(
        num_freq_bands=config["num_bands"],
        max_freq=max(height, width),
        depth=config["num_blocks"],
        input_channels=channels,
        input_axis=2,
        num_latents=config["num_latents"],
        latent_dim=config["latent_dim"],
        cross_heads=config["num_cross_heads"],
        latent_heads=config["num_self_heads"],
        cross_dim_head=input_channels // config["num_cross_heads"],
        latent_dim_head=config["latent_dim"] // config["num_self_heads"],
        num_classes=config["num_classes"],
        self_per_cross_attn=config["num_self_attends_per_block"],
        weight_tie_layers=True,
    )


def _feed_forward_class():
    from perceiver_pytorch import perceiver_pytorch as package

    return package.FeedForward


_ORIGINAL_FEED_FORWARD = _feed_forward_class()


def build_steps(config, dtype, mlp_mult, device="cpu"):
    """The model and its training and inference steps on the fixed batch,
    all on `device` ("cpu" or "cuda"): `(model, train_step, infer_step)`;
    `train_step` sets training mode, `infer_step` evaluation mode."""
    torch.manual_seed(0)
    model = build_model(config, mlp_mult).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    images, labels = make_batch(config)
    images = torch.from_numpy(images).to(device)
    labels = torch.from_numpy(labels).long().to(device)
    autocast = torch.autocast(
        device, dtype=torch.bfloat16, enabled=dtype == "mixed_bfloat16"
    )

    def train_step():
        model.train()
        optimizer.zero_grad(set_to_none=True)
        with autocast:
            loss = torch.nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    def infer_step():
        model.eval()
        with torch.inference_mode(), autocast:
            return model(images).float().cpu().numpy()

    return model, train_step, infer_step


def forward_flops_per_sample(model, config):
    """FLOPs of one example's forward pass as PyTorch counts them
    (`torch.utils.flop_counter`: matrix products, 2 per multiply-add, the
    convention of `keras_perceiver.reports.flops`)."""
    from torch.utils.flop_counter import FlopCounterMode

    images, _ = make_batch(config)
    counter = FlopCounterMode(display=False)
    # Not under `torch.no_grad`: the counter's module tracker needs the
    # autograd graph.
    with counter:
        model(torch.from_numpy(images[:1]))
    return counter.get_total_flops()


def measure(name, config, dtype, timing, mlp_mult):
    model, train_step, infer_step = build_steps(config, dtype, mlp_mult)
    forward = forward_flops_per_sample(model, config)
    train = time_steps(train_step, **timing)
    infer = time_steps(infer_step, **timing)
    batch = config["batch_size"]
    return {
        "kind": "throughput",
        "model": "perceiver_pytorch",
        "backend": "torch",
        "compiled": "eager",
        "config": name,
        "dtype": dtype,
        "batch_size": batch,
        "mlp_mult": mlp_mult if mlp_mult is not None else 4,
        "params": sum(p.numel() for p in model.parameters()),
        "forward_flops_per_sample": forward,
        # Forward and backward: 3x the forward pass, as for ours.
        "train_step_flops": 3 * forward * batch,
        "train": train,
        "infer": infer,
        "train_steps_per_s": 1 / train["median_s"],
        "infer_samples_per_s": batch / infer["median_s"],
        "peak_rss_bytes": peak_rss_bytes(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--mlp-mult", type=int, default=1,
                        help="MLP multiplier; 0 keeps the package's 4")
    parser.add_argument("--configs", nargs="*", default=None)
    args = parser.parse_args()
    all_configs = configs.throughput_configs(args.quick)
    for name in args.configs or list(all_configs):
        for dtype in configs.DTYPES:
            emit(measure(name, all_configs[name], dtype,
                         configs.timing(args.quick), args.mlp_mult or None))


if __name__ == "__main__":
    np.random.seed(0)
    main()
