"""CPU seconds of the processes a benchmark involves, read from Linux's /proc.

A throughput figure alone cannot say whether the machine was the limit. These readers
give the CPU every process spent (handlers, PostgreSQL backends, the search server, the
latency proxies), how long a process was runnable but waiting for a core (the run
queue), and how busy the whole machine was, other users included.

- ``/proc/<pid>/stat`` fields utime + stime: CPU of the process, its ended threads
  included, in clock ticks (10 ms at the usual 100 Hz, so only sums over seconds are
  precise).
- ``/proc/<pid>/task/<tid>/schedstat``: nanoseconds on a CPU and nanoseconds waiting
  on a run queue, per live thread.
- ``/proc/stat``: the machine's busy and idle ticks over all cores.

Outside Linux, or for a process of another user without the right to read it, the
readers return None: the caller reports "not measured" instead of a wrong zero.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process so far, ended threads included."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces.
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # fields 14 and 15 of stat


@dataclass(frozen=True)
class Schedule:
    """Seconds a process's live threads spent on a CPU and waiting for one."""

    on_cpu: float
    run_queue: float

    def __sub__(self, other: Schedule) -> Schedule:
        return Schedule(self.on_cpu - other.on_cpu, self.run_queue - other.run_queue)


def schedule(pid: int | str = "self") -> Schedule | None:
    on_cpu = waiting = 0
    try:
        tasks = list((_PROC / str(pid) / "task").iterdir())
    except OSError:
        return None
    for task in tasks:
        try:
            running, queued, _ = (task / "schedstat").read_text().split()
        except (OSError, ValueError):
            continue  # the thread ended meanwhile
        on_cpu += int(running)
        waiting += int(queued)
    return Schedule(on_cpu / 1e9, waiting / 1e9)


@dataclass(frozen=True)
class MachineTime:
    """Busy and total CPU seconds of the whole machine, summed over its cores."""

    busy: float
    total: float

    def __sub__(self, other: MachineTime) -> MachineTime:
        return MachineTime(self.busy - other.busy, self.total - other.total)


def machine_time() -> MachineTime | None:
    try:
        first = (_PROC / "stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    ticks = [int(value) for value in first[1:9]]  # user nice system idle iowait irq softirq steal
    idle = ticks[3] + ticks[4]
    return MachineTime((sum(ticks) - idle) / _TICKS, sum(ticks) / _TICKS)


def load_average() -> tuple[float, float, float] | None:
    try:
        one, five, fifteen = (_PROC / "loadavg").read_text().split()[:3]
    except OSError:
        return None
    return float(one), float(five), float(fifteen)


def listening_pid(port: int) -> int | None:
    """The process listening on this local TCP port (the search server, say), if visible."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (_PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{inode}]")
    if not inodes:
        return None
    for process in _PROC.iterdir():
        if not process.name.isdigit():
            continue
        try:
            for descriptor in (process / "fd").iterdir():
                if str(descriptor.readlink()) in inodes:
                    return int(process.name)
        except OSError:
            continue
    return None


class CpuLedger:
    """The latest CPU seconds seen of each process of a group, sampled as often as needed.

    A PostgreSQL backend ends with its connection: sampling while it lives keeps all but
    the CPU after the last sample. ``spent`` is the CPU since the first sample of each
    process (a process first seen later counts from zero: it started during the run).
    """

    def __init__(self) -> None:
        self.first: dict[int, float] = {}
        self.latest: dict[int, float] = {}
        self.queued_first: dict[int, float] = {}
        self.queued_latest: dict[int, float] = {}
        self.unreadable = 0

    def sample(self, pids: list[int], *, at_start: bool = False) -> None:
        for pid in pids:
            seconds = cpu_seconds(pid)
            if seconds is None:
                self.unreadable += 1
                continue
            if pid not in self.first:
                self.first[pid] = seconds if at_start else 0.0
            self.latest[pid] = seconds
            timing = schedule(pid)
            if timing is not None:
                self.queued_first.setdefault(pid, timing.run_queue if at_start else 0.0)
                self.queued_latest[pid] = timing.run_queue

    @property
    def spent(self) -> float:
        return sum(self.latest[pid] - self.first[pid] for pid in self.latest)

    @property
    def run_queue(self) -> float:
        """Seconds the processes were runnable but waited for a core (live threads only)."""
        return sum(self.queued_latest[pid] - self.queued_first[pid] for pid in self.queued_latest)
