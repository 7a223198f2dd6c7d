"""How busy the machine was with other work while the benchmark ran: the CPU time all processes used (from
/proc/stat) minus this process's and its finished children's (os.times), over the wall time."""

from __future__ import annotations

import os
import time
from pathlib import Path


def _all_busy_s() -> float:
    """Seconds of CPU time every process has used since boot (the first line of /proc/stat, idle and iowait
    left out)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_s() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class OtherLoad:
    """Started when made; `cores()` is the mean number of cores other processes kept busy since."""

    def __init__(self) -> None:
        self.start = (time.monotonic(), _all_busy_s(), _own_s())

    def cores(self) -> float:
        wall, busy, own = self.start
        return max(0.0, (_all_busy_s() - busy) - (_own_s() - own)) / max(time.monotonic() - wall, 1e-9)
