"""Input adapters: layers that turn raw modality data into a byte array.

Each adapter's call returns `(byte_array, mask)`, with the mask None where
the modality has no padding; pass one to `keras_perceiver.Perceiver` as
`input_adapter`. Padded inputs take their mask as the dict
`{"inputs": padded, "mask": mask}` (the form for `model.fit`) or as the
`mask=` call argument; `MultimodalAdapter` takes a dict keyed by modality
whose entries are what each modality's adapter takes.
"""

from keras_perceiver.adapters.audio_adapter import AudioAdapter
from keras_perceiver.adapters.conv_stem_image_adapter import (
    ConvStemImageAdapter,
)
from keras_perceiver.adapters.flow_adapter import FlowAdapter
from keras_perceiver.adapters.grid_adapter import GridAdapter
from keras_perceiver.adapters.image_adapter import ImageAdapter
from keras_perceiver.adapters.input_adapter import InputAdapter
from keras_perceiver.adapters.learned_position_image_adapter import (
    LearnedPositionImageAdapter,
)
from keras_perceiver.adapters.multimodal_adapter import MultimodalAdapter
from keras_perceiver.adapters.multimodal_autoencoding_adapter import (
    MultimodalAutoencodingAdapter,
)
from keras_perceiver.adapters.point_cloud_adapter import PointCloudAdapter
from keras_perceiver.adapters.sequence_adapter import SequenceAdapter
from keras_perceiver.adapters.spectrogram_adapter import SpectrogramAdapter
from keras_perceiver.adapters.text_adapter import TextAdapter
from keras_perceiver.adapters.video_adapter import VideoAdapter

__all__ = [
    "AudioAdapter",
    "ConvStemImageAdapter",
    "FlowAdapter",
    "GridAdapter",
    "ImageAdapter",
    "InputAdapter",
    "LearnedPositionImageAdapter",
    "MultimodalAdapter",
    "MultimodalAutoencodingAdapter",
    "PointCloudAdapter",
    "SequenceAdapter",
    "SpectrogramAdapter",
    "TextAdapter",
    "VideoAdapter",
]
