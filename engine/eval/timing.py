"""Speed and memory of pipeline stages: wall time per stage, real-time factor, peak resident memory."""

import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TOTAL = "total"
_PROC_STATUS = Path("/proc/self/status")
_PROC_CLEAR_REFS = Path("/proc/self/clear_refs")


class StageTimer:
    """Accumulates wall time per named stage; a stage may be entered many times (e.g. once per turn).

    Example:
        timer = StageTimer()
        with timer.stage("codec.encode"):
            codes = codec.encode(wav)
        timer.rtf(audio_seconds=len(wav) / sr)  # {"codec.encode": 0.05, "total": 0.05}
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the enclosed block and add it to stage `name` (also when the block raises)."""
        if name == TOTAL:
            raise ValueError(f"'{TOTAL}' is reserved for the sum of all stages; name the stage otherwise.")
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
            self.calls[name] = self.calls.get(name, 0) + 1

    @property
    def total_seconds(self) -> float:
        """Sum of all stages' wall time (nested stages are counted twice: do not nest)."""
        return sum(self.seconds.values())

    def rtf(self, audio_seconds: float) -> dict[str, float]:
        """Real-time factor (wall time / audio duration) of every stage and of their sum.

        Args:
            audio_seconds: duration of the audio the stages produced or consumed.

        Returns:
            {stage name: rtf, ..., "total": rtf of the sum}, stages in the order first entered.
            Below 1 is faster than real time.
        """
        if audio_seconds <= 0:
            raise ValueError(
                f"audio_seconds must be positive to give a real-time factor, got {audio_seconds}."
            )
        out = {name: sec / audio_seconds for name, sec in self.seconds.items()}
        out[TOTAL] = self.total_seconds / audio_seconds
        return out


def peak_memory_mb() -> float:
    """Peak resident memory (RSS high-water mark) of this process in MiB, torch and native code included.

    Reads VmHWM from /proc/self/status, which `reset_peak_memory()` can reset so that one stage's peak can
    be measured; falls back to getrusage's ru_maxrss (never reset; since process start) off Linux.
    """
    try:
        for line in _PROC_STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    # ru_maxrss is in KiB on Linux (the only platform this project runs on).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def reset_peak_memory() -> bool:
    """Reset the RSS high-water mark to the current RSS, so the next `peak_memory_mb()` covers what follows.

    Returns:
        True when the kernel supports the reset (Linux /proc/self/clear_refs); False otherwise, in which
        case `peak_memory_mb()` stays the peak since process start.
    """
    try:
        _PROC_CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False
