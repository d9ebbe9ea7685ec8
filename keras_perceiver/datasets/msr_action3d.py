import numpy as np

from keras_perceiver.datasets.dataset import Dataset
from keras_perceiver.datasets.local_files import find_file, load_npz

LOCAL_FILE = "msr_action3d_skeleton3d.npz"
ACTIONS = ["high arm wave", "horizontal arm wave", "hammer", "hand catch",
           "forward punch", "high throw", "draw x", "draw tick",
           "draw circle", "hand clap", "two hand wave", "side-boxing",
           "bend", "forward kick", "side kick", "jogging", "tennis swing",
           "tennis serve", "golf swing", "pick up & throw"]


def load_msr_action3d(data_dir=None, max_frames=96):
    """MSR Action3D skeleton sequences: 20 actions, 20 joints per frame.

    Each frame becomes 60 features (x, y, z of the 20 joints, confidence
    dropped), centred on the sequence's mean joint position. Sequences
    longer than `max_frames` are subsampled evenly in time, shorter ones
    zero-padded, giving `{"inputs": (n, max_frames, 60), "mask": (n,
    max_frames)}` for `keras_perceiver.adapters.SequenceAdapter`. The usual
    cross-subject split: odd subjects train, even subjects test.

    Args:
        data_dir: str. A folder holding `msr_action3d_skeleton3d.npz`
            (`frames`, `offsets`, `lengths`, `action`, `subject`). The data
            set has no download in keras.datasets or tensorflow-datasets,
            so a folder is required.
        max_frames: int. Frames per sequence after padding or subsampling
            (96 keeps 99 % of the sequences whole). Defaults to 96.

    Returns:
        A `Dataset` with modality "sequence".

    Example:

    >>> data = load_msr_action3d("../shared/data/msr_action3d")
    >>> model = keras_perceiver.models.perceiver_for_dataset(data)
    >>> model.fit(**data.fit_data(batch_size=32, validation_split=0.1))
    """
    if data_dir is None:
        raise ValueError(
            f"MSR Action3D needs a data directory holding {LOCAL_FILE}. "
            "Received: data_dir=None"
        )
    keys = ("frames", "offsets", "lengths", "action", "subject")
    data = load_npz(find_file(data_dir, LOCAL_FILE, "MSR Action3D"), keys,
                    "MSR Action3D")
    frames = data["frames"][:, :, :3]  # read the archive member once
    sequences, mask = [], []
    for offset, length in zip(data["offsets"], data["lengths"]):
        joints = frames[offset: offset + length]
        features, valid = _fixed_length(joints, max_frames)
        sequences.append(features)
        mask.append(valid)
    sequences, mask = np.stack(sequences), np.stack(mask)
    labels = data["action"].astype("int64")
    is_train = data["subject"] % 2 == 1
    return Dataset(
        name="msr_action3d",
        x_train={"inputs": sequences[is_train], "mask": mask[is_train]},
        y_train=labels[is_train],
        x_test={"inputs": sequences[~is_train], "mask": mask[~is_train]},
        y_test=labels[~is_train],
        class_names=ACTIONS,
        modality="sequence",
    )


def _fixed_length(joints, max_frames):
    joints = joints - joints.reshape(-1, 3).mean(axis=0)
    if len(joints) > max_frames:
        keep = np.linspace(0, len(joints) - 1, max_frames).round()
        joints = joints[keep.astype(int)]
    features = np.zeros((max_frames, joints.shape[1] * 3), "float32")
    features[: len(joints)] = joints.reshape(len(joints), -1)
    valid = np.arange(max_frames) < len(joints)
    return features, valid
