"""Audio codecs: waveform <-> discrete tokens [n_q, T]. The default is the WORLD-feature group-RVQ codec."""

from engine.codec.base import Codec, load_codec
from engine.codec.group_codec import GroupCodecConfig, GroupRVQCodec, GroupSpec
from engine.codec.world_features import WorldConfig

__all__ = ["Codec", "GroupCodecConfig", "GroupRVQCodec", "GroupSpec", "WorldConfig", "load_codec"]
