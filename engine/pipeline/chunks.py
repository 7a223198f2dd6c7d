"""How a dialogue is cut into acoustic batches ("chunks") of consecutive turns, so that a long one is never
decoded at once: memory stays that of one chunk, the first audio comes after one short turn, and a chunk
boundary is where a long run can yield to another user or be stopped.

Measured here (shipped model, group@2, 2 threads, machine shared with a training run): decoding costs
1.6-1.8 ms per padded frame from 4 turns of 150 frames up to 32, 2.8 ms for a single 150-frame turn; so
batches beyond ~600 frames buy no speed, and CHUNK_SECONDS is set by memory and by how often a long run
gives way, not by speed. The whole 85-turn dialogue of issue 24 in one batch peaked at 5.46 GB (logits of
every turn, padded to the longest, at once); a 51-turn, 3-minute one at 2.2 GB.
"""

from __future__ import annotations

from collections.abc import Sequence

# Padded seconds of audio (turns x the longest of them) in one acoustic batch after the first.
CHUNK_SECONDS = 30.0
# Each chunk may be this many times the one before (until CHUNK_SECONDS), so the next one is ready before
# the audio already delivered has played: the first turn, then about 4x, then full chunks.
CHUNK_GROWTH = 4.0


def plan_chunks(
    frames: Sequence[int],
    frame_rate: float,
    chunk_seconds: float = CHUNK_SECONDS,
    first_small: bool = True,
    previous: int | None = None,
    offset: int = 0,
) -> list[range]:
    """Consecutive runs of turns decoded together, in dialogue order.

    Args:
        frames: each turn's length in codec frames.
        frame_rate: codec frames per second.
        chunk_seconds: the most padded audio in one chunk (a turn longer than that is a chunk of its own).
        first_small: the first chunk is the first turn alone, later ones grow by CHUNK_GROWTH up to
            `chunk_seconds` (streaming: the first audio comes soon); False: every chunk as large as allowed
            (a short dialogue is then one batch).
        previous: padded frames of the chunk decoded just before these turns (the growth goes on from it).
        offset: the dialogue's index of the first of these turns (the ranges count from it).

    Returns:
        One range of turn indices per chunk, covering every turn once.
    """
    limit = max(1, round(chunk_seconds * frame_rate))
    chunks: list[range] = []
    start = 0
    if previous is not None:
        budget = min(limit, round(previous * CHUNK_GROWTH))
    else:
        budget = int(frames[0]) if first_small and frames else limit
    while start < len(frames):
        end, longest = start + 1, int(frames[start])
        while end < len(frames) and (end - start + 1) * max(longest, int(frames[end])) <= budget:
            longest = max(longest, int(frames[end]))
            end += 1
        chunks.append(range(offset + start, offset + end))
        budget = min(limit, max(budget, round((end - start) * longest * CHUNK_GROWTH)))
        start = end
    return chunks


def chunk_seed(seed: int, first_turn: int) -> int:
    """The decoder's seed for the chunk starting at `first_turn`: the synthesis seed itself for the first
    chunk (a dialogue decoded in one batch sounds as it always did), a distinct one for every other."""
    if first_turn == 0:
        return int(seed)
    return (int(seed) + first_turn * 0x9E3779B97F4A7C15) % 2**63
