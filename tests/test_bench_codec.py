"""The codec benchmark's diagnostic settings hand the vocoder what it would get from tokens."""

import numpy as np

from engine.codec.world_features import WorldFrames, _upsample
from engine.eval.codec_quality import token_rate_pitch


def _frames(n: int, seed: int) -> WorldFrames:
    rng = np.random.default_rng(seed)
    return WorldFrames(
        log_f0=rng.uniform(4.5, 5.5, n).astype(np.float32),
        voiced=rng.random(n) > 0.3,
        envelope=rng.normal(size=(n, 40)).astype(np.float32),
        aperiodicity=rng.normal(size=(n, 4)).astype(np.float32),
    )


def test_token_rate_pitch_is_what_synthesis_upsamples_from_token_frames():
    hop, coarse = 4, _frames(25, 0)
    fine = _frames(99, 1)  # a clip's 5 ms analysis may end a few frames short of 4 x its 20 ms frames
    out = token_rate_pitch(fine, coarse, hop)
    np.testing.assert_allclose(out.log_f0, _upsample(coarse.log_f0.astype(np.float64), hop, 99), rtol=1e-6)
    assert np.array_equal(out.voiced, np.repeat(coarse.voiced, hop)[:99])
    # Envelope and aperiodicity stay the 5 ms analysis's own.
    assert np.array_equal(out.envelope, fine.envelope) and np.array_equal(out.aperiodicity, fine.aperiodicity)
