"""Raw audio: what closes the gap to log-mel spectrograms on FSDD.

The Free Spoken Digit Dataset (2,700 training and 300 test recordings, 8
kHz, padded to 8,192 samples and masked) in patches of samples, as the
paper's AudioSet model reads raw audio (128-sample patches), against the
same Perceiver on log-mel spectrograms. Raw waveforms started at 47 %
against 97 % (benchmarks/training). The variants add, one at a time:
- loudness normalisation (each clip divided by the root mean square of
  its real samples, in training and at test time);
- augmentation in training: a random delay of the clip inside its window
  (up to `max_shift` samples, shifting its mask along) and a random gain;
- dropout;
- smaller patches and more latents.

    python -m benchmarks.paper raw_audio
"""

import math

import keras
from keras import ops

from benchmarks.paper import experiment
from keras_perceiver import datasets
from keras_perceiver.models import perceiver_for_dataset
from keras_perceiver.adapters.audio_adapter import AudioAdapter
from keras_perceiver import Perceiver
from keras_perceiver.reports.tables import markdown_table

DESCRIPTION = ("Raw audio against log-mel spectrograms: FSDD spoken digits "
               "(the paper's AudioSet finding)")
MODEL = dict(num_latents=64, latent_dim=128, num_blocks=2,
             num_self_attends_per_block=2, num_self_heads=4)
AUGMENTED = dict(normalise=True, max_shift=2048, gain_range=(0.7, 1.4))
VARIANTS = {
    "log-mel spectrograms, 4x4 patches, dropout 0.1 (reference)": dict(
        features="log_mel", dropout=0.1),
    "raw, 128-sample patches (the paper's)": {},
    "raw, normalised": dict(normalise=True),
    "raw, normalised, shifted and gained": AUGMENTED,
    "raw, normalised, shifted and gained, dropout 0.1": dict(
        AUGMENTED, dropout=0.1),
    "raw, the same with 64-sample patches": dict(
        AUGMENTED, dropout=0.1, patch_size=64),
    "raw, the same with 128 latents": dict(
        AUGMENTED, dropout=0.1, num_latents=128),
}
SETTINGS = {
    "full": dict(variants=list(VARIANTS), epochs=30, batch_size=32,
                 num_bands=32, model=MODEL, max_train_examples=None,
                 data_dir=str(experiment.DATA_DIR / "fsdd")),
    "quick": dict(variants=list(VARIANTS)[:2] + list(VARIANTS)[3:4],
                  epochs=1, batch_size=32, num_bands=4,
                  model=dict(num_latents=8, latent_dim=16, num_blocks=1,
                             num_self_attends_per_block=1, num_self_heads=2),
                  max_train_examples=64,
                  data_dir=str(experiment.DATA_DIR / "fsdd")),
}


@keras.saving.register_keras_serializable(package="benchmarks_paper")
class WaveformAugmentation(keras.layers.Layer):
    """Loudness normalisation, and a random delay and gain in training.

    Takes and returns the dict `{"inputs": (batch, T), "mask": (batch, T)}`
    of padded, masked waveforms.

    Args:
        normalise: bool. Divide each clip by the root mean square of its
            real samples (always, not only in training).
        max_shift: int. In training, delay each clip by a random number of
            samples in [0, max_shift]: it and its mask move later in the
            window, zeros (masked) come in at the start and what passes the
            window's end is cut.
        gain_range: pair of floats or None. In training, multiply each clip
            by a random factor between the two, drawn on a log scale.
        seed: int or None. Seed of the random draws.
        **kwargs: Base layer keyword arguments.
    """

    def __init__(self, normalise=False, max_shift=0, gain_range=None,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        self.normalise = bool(normalise)
        self.max_shift = int(max_shift)
        self.gain_range = None if gain_range is None else tuple(
            float(g) for g in gain_range)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        waveforms = inputs["inputs"]
        mask = ops.cast(inputs["mask"], waveforms.dtype)
        if self.normalise:
            power = ops.sum(waveforms ** 2 * mask, axis=1, keepdims=True) / (
                ops.maximum(ops.sum(mask, axis=1, keepdims=True), 1.0))
            waveforms = waveforms / ops.sqrt(power + 1e-8)
        if training and self.max_shift:
            waveforms, mask = self._delay(waveforms, mask)
        if training and self.gain_range is not None:
            low, high = (math.log(g) for g in self.gain_range)
            gain = ops.exp(keras.random.uniform(
                (ops.shape(waveforms)[0], 1), low, high,
                seed=self.seed_generator))
            waveforms = waveforms * ops.cast(gain, waveforms.dtype)
        return {"inputs": waveforms * mask, "mask": mask > 0}

    def _delay(self, waveforms, mask):
        batch, length = ops.shape(waveforms)[0], waveforms.shape[1]
        shift = keras.random.randint((batch, 1), 0, self.max_shift + 1,
                                     seed=self.seed_generator)
        source = ops.arange(length, dtype="int32")[None, :] - shift
        inside = ops.cast(source >= 0, waveforms.dtype)
        source = ops.maximum(source, 0)
        return (ops.take_along_axis(waveforms, source, axis=1) * inside,
                ops.take_along_axis(mask, source, axis=1) * inside)

    def compute_output_spec(self, inputs, training=None):
        return {"inputs": keras.KerasTensor(inputs["inputs"].shape,
                                            inputs["inputs"].dtype),
                "mask": keras.KerasTensor(inputs["mask"].shape, "bool")}

    def get_config(self):
        config = super().get_config()
        config.update(normalise=self.normalise, max_shift=self.max_shift,
                      gain_range=self.gain_range, seed=self.seed)
        return config


def build(variant, data, settings):
    """The variant's model: a Perceiver, behind a `WaveformAugmentation`
    when the variant asks for one."""
    model_arguments = {**settings["model"], "dropout": variant.get(
        "dropout", 0.0)}
    if "num_latents" in variant:
        model_arguments["num_latents"] = variant["num_latents"]
    if variant.get("features") == "log_mel":
        return perceiver_for_dataset(data, num_bands=settings["num_bands"],
                                     **model_arguments)
    perceiver = Perceiver(
        num_classes=data.num_classes,
        input_adapter=AudioAdapter(patch_size=variant.get("patch_size", 128),
                                   num_bands=settings["num_bands"]),
        **model_arguments,
    )
    augmentation_arguments = {key: variant[key] for key in (
        "normalise", "max_shift", "gain_range") if key in variant}
    if not augmentation_arguments:
        return perceiver
    length = data.x_train["inputs"].shape[1]
    inputs = {"inputs": keras.Input((length,), name="inputs"),
              "mask": keras.Input((length,), dtype="bool", name="mask")}
    augmented = WaveformAugmentation(seed=0, **augmentation_arguments)(inputs)
    return keras.Model(inputs, perceiver(augmented))


def run(settings, runs):
    loaded = {}
    results = {}
    for name in settings["variants"]:
        variant = VARIANTS[name]
        features = variant.get("features", "waveform")
        if features not in loaded:
            data = datasets.load("fsdd", data_dir=settings["data_dir"],
                                 audio_features=features)
            loaded[features] = data, experiment.subset(
                data.x_train, data.y_train, settings["max_train_examples"])
        data, train = loaded[features]
        results[name] = runs.get_or_run(
            f"fsdd/{name}",
            lambda checkpoints, variant=variant, data=data, train=train:
                experiment.fit_and_test(
                    lambda: build(variant, data, settings), train,
                    (data.x_test, data.y_test), settings["epochs"],
                    batch_size=settings["batch_size"],
                    checkpoint_directory=checkpoints))
    return results


def render(results):
    rows = [[name, f"{r['parameters']:,}",
             experiment.percent(r["test_accuracy"]),
             experiment.percent(r["train_accuracy"][-1]),
             f"{r['train_seconds'] / 60:.1f}"]
            for name, r in results.items()]
    return markdown_table(
        ["variant", "parameters", "test accuracy",
         "training accuracy, last epoch", "training (min)"], rows)


def plot(results, figure):
    axis = figure.subplots()
    names = list(results)
    axis.barh(range(len(names)), [100 * results[n]["test_accuracy"]
                                  for n in names])
    axis.set_yticks(range(len(names)), names, fontsize=7)
    axis.invert_yaxis()
    axis.set_xlabel("test accuracy (%)")
    axis.set_title("FSDD: raw waveforms against log-mel spectrograms")
