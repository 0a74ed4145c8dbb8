"""Settling a command's group in a second process while the command records the next one.

A command of the command line records batches and settles them a group at a time
(`grouping.SettleGroups`). Recording (parsing, deciding events, storing them) and settling
(folding the events, rendering and writing documents) are both Python work, and a Python
process runs it on one core. A `ProcessSettler` hands a full group's settle to a process of
its own, built from the same configuration, and the command records the next group
meanwhile: on two cores the two halves overlap. The event store is the only thing they
share: the settle folds from the projection's tracking position whatever is recorded, so
it needs nothing from the recording process but the word to start. On SQLite the
projection's tables live in a file of their own so that the fold and the intake do not wait
for each other's write lock (docs/adr/0028-the-projection-in-its-own-sqlite-file.md); see
docs/adr/0029-settling-in-a-second-process.md.

>>> settler = ProcessSettler(partial(build_app, settings))
>>> settler.begin(50_000, pipeline.handing_over())  # returns at once
>>> ...                                   # record the next group
>>> settler.finish().documents_written    # waits; raises what the settle raised
>>> settler.close()

The same process builds one slice of a rebuild beside the command's own slice when a
bootstrap builds a fresh store's documents once (`begin_slice`, `finish_slice`; see
docs/adr/0030-a-fresh-bootstrap-builds-its-documents-once.md).
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import queue
import signal
import threading
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any, Protocol

from infrastructure.heap import frozen_while_running
from infrastructure.services.write_pipeline import PipelineReport, WritePipeline

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from domain.kinds import TableKind
    from infrastructure.services.bootstrap import BootstrapReport
    from infrastructure.services.rebuild import Rebuild, RebuildReport
    from projections.documents import DocumentKind

logger = logging.getLogger(__name__)

# Scan pages a bootstrap may hand over before the first of them is recorded: the process
# receives the next while it records one, so it never waits for the command to hand over.
PAGES_AT_ONCE = 2

# How long closing waits for a settle under way to finish before stopping its process.
_CLOSE_SECONDS = 120.0


class SettlingApp(Protocol):
    """What the second process builds: a write pipeline, and what to close after it."""

    @property
    def pipeline(self) -> WritePipeline: ...

    def rebuild(self, **options: Any) -> Rebuild: ...

    def close(self) -> None: ...


class BackgroundSettleFailed(RuntimeError):
    """The second process failed in a way that could not be handed back as it was."""


def can_start_processes() -> bool:
    """Whether this process may start one (a daemonic process of multiprocessing may not)."""
    import multiprocessing

    return not multiprocessing.current_process().daemon


class ProcessSettler:
    """One settle at a time in a process of its own, started by `prepare` or the first `begin`.

    ``build`` makes the process's `SettlingApp`; it is pickled to the process (a function
    at a module's top level, or a `functools.partial` of one, with picklable arguments).
    """

    def __init__(self, build: Callable[[], SettlingApp]) -> None:
        self._build = build
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None
        self._asked = 0  # tasks sent whose answer has not been received
        self._used = False  # whether the process was ever asked to settle

    @property
    def under_way(self) -> bool:
        """Whether a settle (or other work) has begun and not been finished."""
        return self._asked > 0

    @property
    def running(self) -> bool:
        """Whether the process has started and been handed work: it is ready, or nearly
        (one only readied by `prepare` may still be importing)."""
        return self._connection is not None and self._used

    @property
    def pages_asked(self) -> int:
        """Pages handed over (`begin_page`) whose report has not been collected."""
        return self._asked

    def begin(
        self, events_at_once: int, recorded: tuple[int, int] | None, render: bool = True
    ) -> None:
        """Start settling what is recorded; returns at once.

        ``recorded``: the positions the command recorded since its last settle
        (`WritePipeline.handing_over`); the settle folds that far, as the command's own
        would have, and writes what it rendered from memory when it folded all of them.
        Without ``render`` it only folds, leaving the documents to a later settle.
        """
        self._ask(("settle", events_at_once, recorded, render))

    def begin_render(self, kinds: Collection[DocumentKind]) -> None:
        """Start rendering and writing what folds left to render of ``kinds``
        (`WritePipeline.render_left`); returns at once. A command's end renders the other
        kinds meanwhile (`SettleGroups.settle`)."""
        self._ask(("render", tuple(kind.value for kind in kinds)))

    def begin_slice(self, index: int, count: int) -> None:
        """Start building slice ``index`` of ``count`` of a rebuild of every kind; returns
        at once. The command builds another slice meanwhile (`FirstBuild`)."""
        self._ask(("slice", index, count))

    def begin_page(self, kind: TableKind, page: list[dict[str, Any]]) -> None:
        """Start recording one Scan page of a bootstrap, settling nothing; returns at once.

        Up to `PAGES_AT_ONCE` pages may be handed over before the first is finished: the
        process receives the next while it records one, so it never waits for the command.
        """
        self._ask(("page", kind, page), at_most=PAGES_AT_ONCE)

    def _ask(self, task: tuple[Any, ...], at_most: int = 1) -> None:
        if self._asked >= at_most:
            raise RuntimeError("finish the work under way before beginning more")
        try:
            self._connection_to_worker().send(task)
            self._used = True
        except OSError:
            code = self._stop(wait=0.0)
            raise BackgroundSettleFailed(
                f"the settling process stopped (exit code {code}) before it was handed its work"
            ) from None
        self._asked += 1

    def prepare(self) -> None:
        """Start the process now, so that it is ready when the first group is full."""
        self._connection_to_worker()

    def done(self) -> bool:
        """Whether the settle under way has ended (or its process is gone)."""
        if not self._asked or self._connection is None:
            return False
        try:
            return self._connection.poll()
        except (EOFError, OSError):
            return True  # `finish` reports it

    def finish(self) -> PipelineReport:
        """Wait for the settle under way; its report, or the error it raised."""
        report: PipelineReport = self._answer()
        return report

    def finish_slice(self) -> RebuildReport:
        """Wait for the slice under way (`begin_slice`); its report, or the error it raised."""
        report: RebuildReport = self._answer()
        return report

    def finish_page(self) -> BootstrapReport:
        """Wait for the page under way (`begin_page`); what recording it did."""
        report: BootstrapReport = self._answer()
        return report

    def _answer(self) -> Any:
        if not self._asked:
            raise RuntimeError("no work is under way")
        self._asked -= 1
        assert self._connection is not None
        try:
            outcome, value = self._connection.recv()
        except (EOFError, OSError):
            code = self._stop(wait=0.0)
            raise BackgroundSettleFailed(
                f"the settling process stopped (exit code {code}) before it reported"
            ) from None
        if outcome == "error":
            raise value
        return value

    def abandon(self) -> None:
        """Stop the process now, whatever it is doing (what it committed stays)."""
        self._asked = 0
        self._used = False  # nothing of it needs to end cleanly: ended at once
        self._stop(wait=0.0)

    def close(self) -> None:
        """Stop the process, once the settle under way (if any) has ended."""
        self._asked = 0
        self._stop(wait=_CLOSE_SECONDS)

    def _connection_to_worker(self) -> Connection:
        if self._connection is None:
            import multiprocessing  # here: a Lambda container never starts one

            # A fresh interpreter, not a fork: the recording process holds SQLite
            # connections, tantivy's threads and pools that a fork would copy mid-use.
            context = multiprocessing.get_context("spawn")
            ours, theirs = context.Pipe()
            process = context.Process(
                target=_serve, args=(self._build, theirs), name="streamfold-settle", daemon=True
            )
            process.start()
            theirs.close()
            self._process, self._connection = process, ours
            self._used = False
        return self._connection

    def _stop(self, wait: float) -> int | None:
        process, connection = self._process, self._connection
        self._process = self._connection = None
        if process is None or connection is None:
            return None
        with contextlib.suppress(OSError):  # the process is gone already
            connection.send(None)  # after the settle under way, if any
        if not self._used:
            # Still importing, never asked to settle: nothing of it needs to end cleanly.
            process.terminate()
        process.join(wait)
        if process.is_alive():
            logger.warning("the settling process did not stop within %.0f s; ending it", wait)
            process.terminate()
            process.join()
        connection.close()
        return process.exitcode


def _serve(build: Callable[[], SettlingApp], connection: Connection) -> None:
    """The second process: settle whenever asked, until told to stop or orphaned."""
    # Ctrl-C reaches every process of the terminal's group: the command decides what to
    # do (it closes the settler, which lets a settle under way end), not this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    app: SettlingApp | None = None
    tasks = _received(connection)
    try:
        while True:
            asked = tasks.get()
            if asked is None:  # told to stop, or the command is gone
                return
            try:
                if app is None:
                    app = build()
                # As the command itself holds it while it runs: the collector's passes
                # leave out the interpreter's and the app's objects (infrastructure.heap).
                with frozen_while_running():
                    done = _do(app, asked)
                connection.send(("ok", done))
            except Exception as error:  # noqa: BLE001 - handed back: the command raises it
                connection.send(("error", _portable(error)))
    finally:
        if app is not None:
            app.close()


def _received(connection: Connection) -> queue.SimpleQueue[tuple[Any, ...] | None]:
    """Tasks as they arrive, read by a thread of their own: a task sent while another is
    under way (a Scan page, hundreds of kilobytes) is taken off the pipe at once, so the
    command that sends it does not wait for the pipe's buffer to drain."""
    tasks: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()

    def receive() -> None:
        while True:
            try:
                task = connection.recv()
            except (EOFError, OSError):  # the command is gone
                task = None
            tasks.put(task)
            if task is None:
                return

    threading.Thread(target=receive, name="streamfold-tasks", daemon=True).start()
    return tasks


def _do(app: SettlingApp, task: tuple[Any, ...]) -> object:
    kind, *arguments = task
    if kind == "page":
        from infrastructure.services.bootstrap import record_page

        table_kind, page = arguments
        return record_page(app.pipeline, table_kind, page)
    if kind == "render":
        from projections.documents import DocumentKind

        (kinds,) = arguments
        rendered = PipelineReport()
        app.pipeline.render_left(rendered, [DocumentKind(value) for value in kinds])
        return rendered
    if kind == "slice":
        from infrastructure.services.rebuilding.slices import Partition
        from projections.documents import DocumentKind

        index, count = arguments
        # The command's own slice waits for this one's fold the same way (`FirstBuild`).
        rebuild = app.rebuild(partition=Partition(index, count), poll_seconds=SLICE_POLL_SECONDS)
        return rebuild.run(list(DocumentKind))
    events_at_once, recorded, render = arguments
    report = PipelineReport()
    app.pipeline.settle(report, events_at_once=events_at_once, recorded=recorded, render=render)
    return report


# How often a slice of a command's rebuild looks whether the other slices have folded.
SLICE_POLL_SECONDS = 0.05


def _portable(error: Exception) -> Exception:
    """``error`` if it survives pickling as it is, else a plain error saying what it was."""
    # Our own pickle of our own error, between the two processes of one command.
    with contextlib.suppress(Exception):  # one that cannot be pickled is described instead
        copy: Any = pickle.loads(pickle.dumps(error))  # noqa: S301
        if type(copy) is type(error) and str(copy) == str(error):
            return error
    return BackgroundSettleFailed(f"{type(error).__name__}: {error}")
