"""Point clouds: x, y, z points, read from `.npy`, `.ply`, `.off`, `.xyz`
and `.txt` files.

Clouds are centred, scaled into the unit sphere, then sampled (a fixed
sample per cloud size) or padded with a mask to one number of points. The
adapter is a `PointCloudAdapter` with the paper's ModelNet40 settings
(Fourier features up to resolution 1120, random scaling and jitter in
training); attention colours the points in 3-D.
"""

import functools
import pathlib

import numpy as np

from keras_perceiver import adapters, argument_checks
from keras_perceiver.modalities import inputs
from keras_perceiver.modalities.modality import Modality
from keras_perceiver.modalities.registry import register

POINT_CLOUD_EXTENSIONS = (".npy", ".ply", ".off", ".xyz", ".txt")
POINT_CLOUD_MAX_RESOLUTION = 1120  # the paper's ModelNet40 setting
# Training-time point cloud augmentation: random scaling of each axis and
# jitter of the coordinates.
POINT_CLOUD_AUGMENTATION = dict(scale_range=(0.8, 1.25), jitter_stddev=0.01)
POINT_SAMPLING_SEED = 0
PLY_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}


def read_point_cloud(path):
    """The x, y, z coordinates of the points in a file, float32 `(n, 3)`.

    `.npy`: an array `(n, 3)` or wider (the first three columns are x, y,
    z). `.xyz` / `.txt`: one point per line, coordinates separated by
    spaces or commas (further columns are ignored). `.off`: the vertices of
    an Object File Format mesh. `.ply`: the vertices of an ASCII or binary
    PLY file.

    Args:
        path: str or path. The file.

    Returns:
        float32 array `(n, 3)` with n >= 1.

    Raises:
        ValueError: the file cannot be read as a point cloud (the message
            says why).

    Example:

    >>> pathlib.Path("cloud.xyz").write_text("0 0 0\\n1 0 0\\n0 1 0\\n")
    >>> read_point_cloud("cloud.xyz").shape
    (3, 3)
    """
    path = pathlib.Path(path)
    readers = {".npy": _read_npy, ".ply": _read_ply, ".off": _read_off,
               ".xyz": _read_text, ".txt": _read_text}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise ValueError(
            f"Point clouds must be {', '.join(POINT_CLOUD_EXTENSIONS)} files. "
            f"Received: {path}"
        )
    try:
        points = reader(path)
    except (OSError, ValueError, IndexError, UnicodeDecodeError) as error:
        raise ValueError(
            f"{path} is not a readable point cloud ({error}). Received: {path}"
        ) from None
    points = np.asarray(points, "float32")
    if points.ndim != 2 or points.shape[1] < 3 or len(points) == 0:
        raise ValueError(
            f"{path} must hold at least one point with x, y and z. "
            f"Received an array of shape {points.shape}"
        )
    if not np.isfinite(points[:, :3]).all():
        raise ValueError(f"{path} holds NaN or infinite coordinates. "
                         f"Received: {path}")
    return points[:, :3]


def _read_npy(path):
    return np.load(path, allow_pickle=False)


def _read_text(path):
    text = path.read_text().replace(",", " ")
    return np.loadtxt(text.splitlines(), ndmin=2)


def _read_off(path):
    words = _strip_comments(path.read_text()).split()
    if not words or not words[0].upper().endswith("OFF"):
        raise ValueError("no OFF header")
    header = words[0]
    # "OFF" may be followed on the same line by the counts ("OFF8 6 0").
    counts_start = 1 if header.upper() in ("OFF", "COFF", "NOFF") else 0
    if counts_start == 0:
        words[0] = header[3:]
    num_vertices = int(words[counts_start])
    first = counts_start + 3
    coordinates = np.array(words[first:first + 3 * num_vertices], "float64")
    return coordinates.reshape(num_vertices, 3)


def _strip_comments(text):
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def _read_ply(path):
    data = path.read_bytes()
    end = data.find(b"end_header")
    if not data.startswith(b"ply") or end < 0:
        raise ValueError("no PLY header")
    file_format, properties, count = _ply_vertices(
        data[:end].decode("ascii").splitlines()
    )
    body_start = data.index(b"\n", end) + 1
    names = [name for name, _ in properties]
    columns = [names.index(axis) for axis in ("x", "y", "z")]
    if file_format == "ascii":
        lines = data[body_start:].decode("ascii").splitlines()
        return np.loadtxt(lines[:count], ndmin=2)[:, columns]
    order = "<" if file_format == "binary_little_endian" else ">"
    dtype = np.dtype([(name, order + kind) for name, kind in properties])
    rows = np.frombuffer(data, dtype, count=count, offset=body_start)
    return np.stack([rows[axis] for axis in ("x", "y", "z")], 1)


def _ply_vertices(header):
    """The format, vertex properties `[(name, dtype)]` and vertex count of
    a PLY header whose first element is `vertex`."""
    file_format, elements = None, []
    for line in header[1:]:
        words = line.split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        if words[0] == "format":
            file_format = words[1]
        elif words[0] == "element":
            elements.append((words[1], int(words[2]), []))
        elif words[0] == "property" and elements:
            elements[-1][2].append((words[-1], PLY_TYPES.get(words[1])))
    if not elements or elements[0][0] != "vertex":
        raise ValueError("the first PLY element must be vertex")
    _, count, properties = elements[0]
    if any(kind is None for _, kind in properties):
        raise ValueError("vertex properties must be scalars")
    return file_format, properties, count


def _preprocessing(facts, num_points=1024, **_):
    """Clouds sampled or padded to `num_points` points."""
    return {"modality": "points",
            "num_points": argument_checks.check_positive_int("num_points",
                                                             num_points)}


def _read(path, preprocessing):
    return inputs.numpy_inputs(_points, path, preprocessing,
                               (preprocessing["num_points"], 3))


def _points(path, preprocessing):
    """A cloud centred, scaled into the unit sphere, sampled without
    replacement to `num_points` points (a fixed sample per cloud size) or
    padded with a mask."""
    points = read_point_cloud(path)
    points = points - points.mean(axis=0)
    points /= max(float(np.linalg.norm(points, axis=1).max()), 1e-12)
    count = preprocessing["num_points"]
    if len(points) > count:
        rng = np.random.default_rng(POINT_SAMPLING_SEED)
        points = points[np.sort(rng.choice(len(points), count, False))]
    return inputs.padded_rows(points.astype("float32"), count)


def point_cloud_drawer(example, adapter, num_elements):
    """Point clouds in 3-D, coloured by height or by attention.

    The adapter keeps a cloud's first `num_elements` points at inference,
    so those are drawn. Arguments and result as
    `keras_perceiver.modalities.attention_drawing` describes.

    Example:

    >>> projection, draw = point_cloud_drawer(points[:1],
    ...                                       model.input_adapter, 1024)
    >>> projection
    '3d'
    """
    x, y, z = np.asarray(example[0, :num_elements, :3]).T

    def draw(axis, attention):
        colours = z if attention is None else attention
        cmap = "gray" if attention is None else "viridis"
        axis.scatter(x, y, z, c=colours, cmap=cmap, s=2)

    return "3d", draw


POINTS = register(Modality(
    name="points",
    plural="point clouds",
    adapter_factory=functools.partial(
        adapters.PointCloudAdapter,
        max_resolution=POINT_CLOUD_MAX_RESOLUTION,
        **POINT_CLOUD_AUGMENTATION,
    ),
    adapter_options=(),
    attention_drawer=point_cloud_drawer,
    extensions=POINT_CLOUD_EXTENSIONS,
    inspect=lambda path: len(read_point_cloud(path)),
    preprocessing=_preprocessing,
    read=_read,
))
