"""Tiny random-weight transformers Perceivers, for the checkpoint tests.

Import only after `pytest.importorskip("transformers")`: this module needs
torch and transformers (test-only dependencies).
"""

import numpy as np
import pytest
import torch
import transformers

# Small enough to convert and run in about a second; two blocks of two
# self-attends so that the shared latent Transformer is applied twice.
TINY = dict(
    num_latents=4,
    d_latents=16,
    num_blocks=2,
    num_self_attends_per_block=2,
    num_self_attention_heads=2,
    num_cross_attention_heads=1,
)

# Architecture -> (config overrides, input kind, image size, text length or
# frame size).
TINY_CHECKPOINTS = {
    "PerceiverForImageClassificationFourier": (
        dict(d_model=3 + 2 * (2 * 64 + 1), num_labels=5), "image", 12
    ),
    "PerceiverForImageClassificationLearned": (
        dict(d_model=256 + 256, num_labels=5, image_size=8), "image", 8
    ),
    "PerceiverForImageClassificationConvProcessing": (
        dict(d_model=64 + 2 * (2 * 64 + 1), num_labels=5), "image", 20
    ),
    "PerceiverForSequenceClassification": (
        dict(d_model=16, num_labels=3, max_position_embeddings=12),
        "text", 10,
    ),
    "PerceiverForMaskedLM": (
        dict(d_model=16, qk_channels=8, v_channels=16,
             num_cross_attention_heads=2, max_position_embeddings=12),
        "text", 10,
    ),
    "PerceiverForOpticalFlow": (dict(train_size=[6, 8]), "flow", (6, 8)),
}

# transformers' settings for DeepMind's published checkpoints (its
# conversion script, convert_perceiver_haiku_to_pytorch.py).
IMAGENET = dict(
    num_latents=512, d_latents=1024, num_blocks=8,
    num_self_attends_per_block=6, num_cross_attention_heads=1,
    num_self_attention_heads=8, qk_channels=None, v_channels=None,
    num_labels=1000,
)
PUBLISHED = {
    "PerceiverForImageClassificationFourier": dict(IMAGENET, d_model=261),
    "PerceiverForImageClassificationLearned": dict(
        IMAGENET, d_model=512, image_size=224
    ),
    "PerceiverForImageClassificationConvProcessing": dict(
        IMAGENET, d_model=322
    ),
    "PerceiverForMaskedLM": dict(qk_channels=8 * 32, v_channels=1280),
    # deepmind/optical-flow-perceiver's config.json.
    "PerceiverForOpticalFlow": dict(
        num_latents=2048, d_latents=512, d_model=322, num_blocks=1,
        num_self_attends_per_block=24, num_self_attention_heads=16,
        num_cross_attention_heads=1, qk_channels=None, v_channels=None,
        train_size=[368, 496],
    ),
    # transformers' conversion script for deepmind/multimodal-perceiver
    # (its other settings are PerceiverConfig's defaults: 16 frames of
    # 224 x 224, 1,920 audio samples per frame).
    "PerceiverForMultimodalAutoencoding": dict(
        num_latents=28 * 28, d_latents=512, d_model=704, num_blocks=1,
        num_self_attends_per_block=8, num_self_attention_heads=8,
        num_cross_attention_heads=1, num_labels=700,
    ),
}


def tiny_hf_model(architecture, seed=0, **overrides):
    """A tiny transformers Perceiver with unit-scale random weights.

    transformers' own initialisation leaves biases at 0 and LayerNorms at
    the identity, which would hide a misplaced bias, and its 0.02-scaled
    weights give logits near 0, which hides everything else; here Linear
    and conv weights are N(0, 1/fan_in), embeddings N(0, 1), biases and
    norms perturbed, so activations and logits are of order 1.
    """
    config_overrides, _, _ = TINY_CHECKPOINTS[architecture]
    config = transformers.PerceiverConfig(
        **{**TINY, **config_overrides, **overrides}
    )
    torch.manual_seed(seed)
    return unit_scale(getattr(transformers, architecture)(config).eval())


def unit_scale(model):
    """`model` with the unit-scale random weights of `tiny_hf_model`."""
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("bias"):
                parameter.normal_(0.0, 0.1)
            elif "layernorm" in name or "batchnorm" in name:
                parameter.normal_(1.0, 0.1)
            elif parameter.ndim >= 2 and "embedding" not in name and (
                "latents" not in name
            ):
                parameter.normal_(0.0, parameter[0].numel() ** -0.5)
            else:
                parameter.normal_(0.0, 1.0)
        for name, buffer in model.named_buffers():
            if name.endswith("running_mean"):
                buffer.normal_(0.0, 0.1)
            elif name.endswith("running_var"):
                buffer.uniform_(0.5, 1.5)
    return model


def tiny_inputs(architecture, batch_size, seed=0):
    """Channels-last images, frame pairs or token ids (with a mask padding
    the last)."""
    _, kind, size = TINY_CHECKPOINTS[architecture]
    rng = np.random.default_rng(seed)
    if kind == "flow":
        frames = rng.normal(size=(batch_size, 2) + size + (3,))
        return frames.astype("float32"), None
    if kind == "image":
        images = rng.normal(size=(batch_size, size, size, 3))
        return images.astype("float32"), None
    ids = rng.integers(0, 262, size=(batch_size, size))
    mask = np.ones((batch_size, size), bool)
    mask[-1, size // 2 + 1:] = False  # the last sequence is padded
    return ids, mask


def hf_outputs(model, inputs, mask=None):
    """transformers' logits and encoder latents (NumPy), for keras inputs."""
    if inputs.ndim == 5:
        inputs = flow_patches(inputs)
    tensor = torch.from_numpy(inputs)
    if tensor.ndim == 5:
        tensor = tensor.permute(0, 1, 4, 2, 3)  # (batch, 2, 27, H, W)
    if tensor.ndim == 4:
        tensor = tensor.permute(0, 3, 1, 2)  # transformers is channels-first
    attention_mask = None
    if mask is not None:
        attention_mask = torch.from_numpy(mask.astype("int64"))
    with torch.no_grad():
        logits = model(inputs=tensor, attention_mask=attention_mask).logits
        latents = model.perceiver(
            inputs=tensor, attention_mask=attention_mask
        ).last_hidden_state
    logits = logits.numpy()
    if logits.ndim == 3:
        logits = logits[:, : inputs.shape[1]]  # the MLM's 2,048 positions
    return logits, latents.numpy()


def flow_patches(frames):
    """The 3 x 3 patches transformers' flow model takes, made in NumPy as
    DeepMind's `patches_for_flow` makes them: zero padding, each pixel's
    patch in (row, column, channel) order. `(batch, 2, H, W, 27)`."""
    height, width = frames.shape[2:4]
    padded = np.pad(frames, [(0, 0), (0, 0), (1, 1), (1, 1), (0, 0)])
    return np.concatenate(
        [padded[:, :, row:row + height, column:column + width]
         for row in range(3) for column in range(3)],
        axis=-1,
    )


def save_tiny_checkpoint(architecture, folder, seed=0, **overrides):
    """`save_pretrained` of a tiny model into `folder`; returns the model."""
    model = tiny_hf_model(architecture, seed=seed, **overrides)
    model.save_pretrained(str(folder))
    return model


def save_tiny_hub_checkpoint(cache, repo_id, architecture):
    """A tiny checkpoint in the Hugging Face cache `cache` (a path, what
    HF_HUB_CACHE names) as the Hub id `repo_id`; returns the model."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    commit = "0" * 40
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    return save_tiny_checkpoint(architecture, repo / "snapshots" / commit)


def hub_offline(monkeypatch, cache):
    """huggingface_hub offline, reading the cache `cache`, in this process.

    huggingface_hub reads HF_HUB_CACHE and HF_HUB_OFFLINE when imported, so
    they are set on its constants.
    """
    constants = pytest.importorskip("huggingface_hub.constants")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))


def hf_image_processor(size=224):
    """transformers' PIL image processor (its only one before 5.0), with the
    published crop ratio (224 of 256) for `size`."""
    processor_class = getattr(
        transformers, "PerceiverImageProcessorPil",
        transformers.PerceiverImageProcessor,
    )
    crop = round(size * 256 / 224)
    return processor_class(
        size={"height": size, "width": size},
        crop_size={"height": crop, "width": crop},
    )
