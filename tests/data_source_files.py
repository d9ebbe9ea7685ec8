"""Tiny data files of every kind the data sources read, for the tests."""

import functools
import struct
import wave
import zlib

import numpy as np

CLASSES = ("cat", "dog")


def write_image(path, size, rng, mode="RGB"):
    from PIL import Image

    channels = {"RGB": 3, "L": 1}[mode]
    pixels = rng.integers(0, 256, (*size, channels), dtype=np.uint8)
    Image.fromarray(pixels.squeeze(-1) if channels == 1 else pixels).save(path)


def bomb_png(path, side=30000):
    """A PNG whose header claims `side` x `side` grey pixels (a
    decompression bomb's header; Pillow refuses it from the header)."""

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def write_wav(path, num_samples, rng, sample_rate=8000):
    samples = (rng.normal(size=num_samples) * 3000).astype("<i2")
    with wave.open(str(path), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(sample_rate)
        file.writeframes(samples.tobytes())


def write_point_cloud(path, num_points, rng):
    np.save(path, rng.normal(size=(num_points, 3)).astype("float32"))


def write_sequence(path, num_steps, rng):
    np.savetxt(path, rng.normal(size=(num_steps, 2)), delimiter=",",
               header="x,y", comments="")


WRITERS = {
    "image": (".png", lambda path, i, rng: write_image(
        path, (8, 8) if i else (6, 10), rng)),
    "audio": (".wav", lambda path, i, rng: write_wav(path, 256 + 32 * i,
                                                     rng)),
    "points": (".xyz", lambda path, i, rng: np.savetxt(
        path, rng.normal(size=(10 + i, 3)))),
    "sequence": (".csv", lambda path, i, rng: write_sequence(path, 3 + i,
                                                             rng)),
}


def class_folder(root, modality, per_class=5, classes=CLASSES, seed=0):
    """`root/CLASS/i.EXT` files of `modality`; returns `root`."""
    rng = np.random.default_rng(seed)
    extension, write = WRITERS[modality]
    for name in classes:
        (root / name).mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            write(root / name / f"{index}{extension}", index, rng)
    return root


def prepare_tfds_images(data_dir):
    """Prepares `tiny_shapes`, a TFDS image data set (8x8 RGB, classes "a"
    and "b"; 10 training and 4 test examples), in `data_dir`, offline."""
    return _prepare_tiny_tfds("tiny_shapes", data_dir)


def prepare_tfds_videos(data_dir):
    """Prepares `tiny_videos`, a TFDS video data set (3, 4 or 5 frames of
    16x16 RGB; classes "a" and "b"; 10 training and 4 test examples), in
    `data_dir`, offline."""
    return _prepare_tiny_tfds("tiny_videos", data_dir)


# name: (input feature name, the feature, one input from (rng, index)).
TINY_TFDS = {
    "tiny_shapes": ("image", lambda tfds: tfds.features.Image(
        shape=(8, 8, 3)), lambda rng, index: rng.integers(
            0, 256, (8, 8, 3), dtype=np.uint8)),
    "tiny_videos": ("video", lambda tfds: tfds.features.Video(
        shape=(None, 16, 16, 3)), lambda rng, index: rng.integers(
            0, 256, (3 + index % 3, 16, 16, 3), dtype=np.uint8)),
}


def _prepare_tiny_tfds(name, data_dir):
    tiny_tfds_builder(name)(data_dir=str(data_dir)).download_and_prepare()
    return data_dir


@functools.cache
def tiny_tfds_builder(dataset_name):
    """The builder class of `TINY_TFDS[dataset_name]`, defined once (TFDS
    registers it by name)."""
    import tensorflow_datasets as tfds

    input_name, feature, make_input = TINY_TFDS[dataset_name]

    class TinyBuilder(tfds.core.GeneratorBasedBuilder):
        name = dataset_name
        VERSION = tfds.core.Version("1.0.0")

        def _info(self):
            return tfds.core.DatasetInfo(
                builder=self,
                features=tfds.features.FeaturesDict({
                    input_name: feature(tfds),
                    "label": tfds.features.ClassLabel(names=["a", "b"]),
                }),
            )

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples(10),
                    "test": self._generate_examples(4)}

        def _generate_examples(self, count):
            rng = np.random.default_rng(count)
            for index in range(count):
                yield index, {input_name: make_input(rng, index),
                              "label": index % 2}

    return TinyBuilder
