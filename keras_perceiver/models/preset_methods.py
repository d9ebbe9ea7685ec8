"""`from_preset` and `save_to_preset`, keras-hub's API, on the models."""


class PresetMethods:
    """keras-hub's preset API, for `PerceiverTask` and `PerceiverEncoder`.

    `Class.from_preset(preset)` reads a model; `model.save_to_preset(folder)`
    writes one (see `keras_perceiver.models.presets` for the files). As in
    keras-hub, `PerceiverTask.from_preset` gives whatever task the preset
    holds, a task subclass's `from_preset` checks that the preset holds
    that class, and `PerceiverEncoder.from_preset` gives the encoder (the
    backbone) alone.

    Example:

    >>> model = keras_perceiver.PerceiverTask.from_preset(
    ...     "hf://deepmind/vision-perceiver-conv")
    >>> model.save_to_preset("my_preset")
    """

    @classmethod
    def from_preset(cls, preset, image_size=None):
        """A model, built and loaded, from a preset.

        Args:
            preset: str or path-like. One of
                - a published preset's name, as `pretrained.list_presets()`
                  lists them (`"vision-perceiver-conv"`);
                - a Hugging Face handle, `"hf://deepmind/vision-perceiver-
                  fourier"`: a Hub repository in the transformers layout
                  (downloaded once into the Hugging Face cache; offline,
                  one that is not there is a `ValueError` saying so);
                - a local folder in the transformers layout (`config.json`
                  and `model.safetensors`);
                - a folder that `save_to_preset` wrote.
            image_size: int, pair of ints or None. The image size to build a
                Hugging Face image checkpoint for, as in
                `pretrained.load_checkpoint`. Defaults to None.

        Returns:
            On `PerceiverEncoder`, the preset's encoder; on `PerceiverTask`,
            the preset's task (a `PerceiverIOClassifier`,
            `PerceiverMaskedLM`, ...); on a task subclass, the preset's
            model, which must be of that class.

        Raises:
            ValueError: for an unknown preset, a folder that is neither a
                preset nor a checkpoint, a preset of another class, or a
                Hub handle that cannot be fetched.

        Example:

        >>> encoder = keras_perceiver.PerceiverEncoder.from_preset(
        ...     "vision-perceiver-fourier")
        >>> classifier = keras_perceiver.PerceiverIOClassifier.from_preset(
        ...     "my_preset")
        """
        from keras_perceiver.models import presets

        return presets.load_preset(cls, preset, image_size)

    def save_to_preset(self, folder, overwrite=False):
        """Writes this built model to a preset folder.

        The folder gets `config.json` and `model.weights.h5` (the encoder),
        for a task `task.json` and `task.weights.h5` (the whole model's
        config, class names and preprocessor included, and the weights
        outside the encoder) and `preprocessor.json`, and `metadata.json`.
        It is written under a temporary name and renamed into place once
        complete.

        Args:
            folder: str or path-like. The folder to create; it must not
                exist or be empty.
            overwrite: bool. Whether to replace a preset that
                `save_to_preset` wrote before (never another folder).
                Defaults to False.

        Returns:
            The absolute path of the folder, as a str.

        Example:

        >>> model.save_to_preset("my_preset")
        >>> restored = keras_perceiver.PerceiverTask.from_preset("my_preset")
        """
        from keras_perceiver.models import presets

        return presets.save_preset(self, folder, overwrite)
