"""The generation service: cached models and continuous batching, off the event loop.

Each loaded model gets an engine: one background thread stepping a
:class:`model_store.BatchSampler`. Requests join the running batch between steps, so
concurrent ``/generate`` calls on the same model share one matmul per character. The thread
publishes each request's text at most every ``PUBLISH_INTERVAL`` seconds (and when it ends),
all of a step's updates in one call into the event loop; with many requests in the batch,
less often, so that the event loop wakes at most about ``UPDATES_PER_SECOND`` times a second
for them. Between steps the thread lets the event loop take the GIL.

Models are loaded in a thread and kept in an LRU cache keyed by path and checksum (a path is
a key of :mod:`bot.model_files`, made a folder on this machine by ``resolve`` first). The cache
never evicts an engine that has requests in flight (it may hold more than ``cache_size``
engines while they are all busy, and shrinks back when they go idle). Every request ends:
with its text, its own error, or :class:`ModelUnavailable` when its engine is closed (the model
was deleted, the bot is shutting down, or the engine's thread died).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from model_store import Generator, ModelStoreError, SampleOptions, load_artifact
from model_store.sampling import Row

from .i18n import Message

log = logging.getLogger(__name__)

PUBLISH_INTERVAL = 0.05
UPDATES_PER_SECOND = 200  # (a reply is edited at most every max(1 s, n / 25 s): 8x as often)
APPLY_CHUNK = 8  # requests woken per loop iteration (each may then edit its reply)
_ACQUIRE_TRIES = 5


class ModelUnavailable(ModelStoreError):
    """The model's engine closed while a request needed it; ``reason`` is for the user."""

    def __init__(self, reason: Message):
        super().__init__(str(reason))
        self.reason = reason


SHUTTING_DOWN = Message("model.shutting_down")


@dataclass(frozen=True)
class Generated:
    """A request's progress: the continuation so far, and the seed characters skipped."""

    text: str
    done: bool
    unknown: tuple[str, ...] = ()


@dataclass(eq=False)
class _Request:
    seed: str
    options: SampleOptions
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    text: str = ""
    done: bool = False
    error: BaseException | None = None
    unknown: tuple[str, ...] = ()
    published_at: float = 0.0

    def apply(self, text: str, done: bool, error: BaseException | None) -> None:
        """On the event loop: take the engine's news about this request (news older than
        what it has, from a chunk applied late, is ignored: the text only grows)."""
        if self.done or (not done and error is None and len(text) < len(self.text)):
            return
        self.text, self.done, self.error = text, done, error
        self.changed.set()


class _Engine:
    """One model, one thread, one growing and shrinking batch."""

    def __init__(self, generator: Generator, name: str, loop: asyncio.AbstractEventLoop):
        self.generator = generator
        self.name = name
        self.loop = loop
        self.users = 0  # requests submitted and not yet ended (counted on the event loop)
        self.peak_batch = 0
        self.steps = 0
        self._pending: list[_Request] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed: Message | None = None  # why, once closed
        self.evicted = False  # closed by the cache (not deleted, not broken)
        self._thread = threading.Thread(target=self._run, name=f"generate-{name}", daemon=True)
        self._thread.start()

    @property
    def closed(self) -> bool:
        return self._closed is not None

    def submit(self, request: _Request) -> None:
        with self._lock:
            if self._closed is None:
                self._pending.append(request)
                request = None  # type: ignore[assignment]
        if request is not None:  # closed meanwhile: end it now
            request.apply("", True, ModelUnavailable(self._closed or SHUTTING_DOWN))
        self._wake.set()

    def close(self, reason: Message) -> None:
        """Stop the thread; every request still queued or in flight ends with ``reason``."""
        with self._lock:
            if self._closed is None:
                self._closed = reason
        self._wake.set()

    def _publish(self, updates: list[tuple[_Request, str, bool, BaseException | None]]) -> None:
        """Hand ``updates`` to the event loop, ``APPLY_CHUNK`` at a time: a batch of a thousand
        requests finishing in the same step wakes them over many loop iterations (each woken
        reply then shows its final text, about a millisecond of work), so the loop's timers
        (and other work) still run in between."""
        if not updates:
            return

        def apply(start: int) -> None:
            for req, text, done, error in updates[start : start + APPLY_CHUNK]:
                req.apply(text, done, error)
            if start + APPLY_CHUNK < len(updates):
                self.loop.call_soon(apply, start + APPLY_CHUNK)

        try:
            self.loop.call_soon_threadsafe(apply, 0)
        except RuntimeError:  # the event loop is closed: nobody is waiting any more
            pass

    def _run(self) -> None:
        active: dict[Row, _Request] = {}
        due: deque[Row] = deque()  # the active rows, in the order their progress was told
        pending: list[_Request] = []
        try:
            sampler = self.generator.sampler()
            while True:
                if not active:
                    self._wake.wait(timeout=1.0)
                self._wake.clear()
                with self._lock:
                    if self._closed is not None:
                        break
                    pending, self._pending = self._pending, []
                self._add(sampler, pending, active, due)
                pending = []
                if active:
                    sampler = self._step(sampler, active, due)
        except BaseException:
            log.exception("the generation thread of model %s died", self.name)
            with self._lock:
                self._closed = self._closed or Message("model.stopped_working", {"name": self.name})
        finally:
            with self._lock:
                pending += self._pending
                self._pending = []
            error = ModelUnavailable(self._closed or SHUTTING_DOWN)
            self._publish(
                [(req, "", True, error) for req in [*active.values(), *pending]],
            )

    def _add(
        self, sampler, pending: list[_Request], active: dict[Row, _Request], due: deque[Row]
    ) -> None:
        updates = []
        for req in pending:
            try:
                row = sampler.add(req.seed, req.options)
            except Exception as exc:  # SeedError and friends go back to the caller
                updates.append((req, "", True, exc))
                continue
            req.unknown = row.unknown
            active[row] = req
            due.append(row)
        self._publish(updates)

    def _step(self, sampler, active: dict[Row, _Request], due: deque[Row]):
        self.peak_batch = max(self.peak_batch, len(active))
        self.steps += 1
        try:
            sampler.step()
        except Exception as exc:  # a bug: fail these requests, keep serving
            log.exception("generation step failed for model %s", self.name)
            self._publish([(req, "", True, exc) for req in active.values()])
            active.clear()
            due.clear()
            return self.generator.sampler()
        now = time.monotonic()
        interval = max(PUBLISH_INTERVAL, len(active) / UPDATES_PER_SECOND)
        updates = [(active.pop(row), row.text, True, None) for row in sampler.finished]
        while due and (due[0] not in active or now - active[due[0]].published_at >= interval):
            row = due.popleft()  # (a finished row is dropped here)
            req = active.get(row)
            if req is not None:
                req.published_at = now
                updates.append((req, row.text, False, None))
                due.append(row)
        self._publish(updates)
        time.sleep(0)  # hand the GIL to the event loop if it is waiting for it
        return sampler


async def _as_folder(path: str, checksum: str, name: str) -> Path:
    return Path(path)


class GenerationService:
    def __init__(
        self,
        cache_size: int = 4,
        on_load_error: Callable[[str, str, ModelStoreError], None] | None = None,
        resolve: Callable[[str, str, str], Awaitable[Path]] | None = None,
    ):
        self.cache_size = cache_size
        self.on_load_error = on_load_error  # (path, checksum, error): e.g. mark it broken
        # (path, checksum, name) -> the model's folder here (bot.model_files.ModelFiles)
        self.resolve = resolve or _as_folder
        self._engines: OrderedDict[tuple[str, str], _Engine] = OrderedDict()
        self._loading: dict[tuple[str, str], asyncio.Task[_Engine]] = {}
        self._closed = False

    @property
    def in_flight(self) -> int:
        """Requests submitted and not yet ended, over all engines."""
        return sum(e.users for e in self._engines.values())

    @property
    def cached(self) -> int:
        return len(self._engines)

    def engines(self) -> list[_Engine]:
        return list(self._engines.values())

    async def engine(self, path: str | Path, checksum: str, name: str) -> _Engine:
        """The engine for the model at ``path`` (loaded in a thread on first use)."""
        if self._closed:
            raise ModelUnavailable(SHUTTING_DOWN)
        key = (str(path), checksum)
        cached = self._engines.get(key)
        if cached is not None and cached.closed:  # its thread died: start a new one
            del self._engines[key]
        elif cached is not None:
            self._engines.move_to_end(key)
            return cached
        if key not in self._loading:
            self._loading[key] = asyncio.ensure_future(self._load(key, name))
        try:
            return await asyncio.shield(self._loading[key])
        finally:
            self._loading.pop(key, None)

    async def _load(self, key: tuple[str, str], name: str) -> _Engine:
        started = time.perf_counter()
        try:
            folder = await self.resolve(key[0], key[1], name)
            artifact = await asyncio.to_thread(load_artifact, folder, name)
            generator = await asyncio.to_thread(Generator, artifact)
        except ModelStoreError as exc:
            if self.on_load_error is not None:
                self.on_load_error(key[0], key[1], exc)
            raise
        if self._closed:
            raise ModelUnavailable(SHUTTING_DOWN)
        engine = _Engine(generator, name, asyncio.get_running_loop())
        self._engines[key] = engine
        self._trim(keep=engine)
        log.info("loaded model %s in %.0f ms", name, (time.perf_counter() - started) * 1000)
        return engine

    def _trim(self, keep: _Engine | None = None) -> None:
        """Close least recently used idle engines while there are more than ``cache_size``."""
        for key, engine in list(self._engines.items()):
            if len(self._engines) <= self.cache_size:
                return
            if engine.users == 0 and engine is not keep:
                del self._engines[key]
                engine.evicted = True
                engine.close(Message("model.busy", {"name": engine.name}))

    async def _acquire(self, path: str | Path, checksum: str, name: str) -> _Engine:
        """The model's engine with one more user; one the cache evicted meanwhile is reloaded.

        An engine closed for another reason is returned as it is: submitting to it ends the
        request at once with that reason."""
        for _ in range(_ACQUIRE_TRIES):
            engine = await self.engine(path, checksum, name)
            if not engine.evicted:  # no await between this check and taking it
                engine.users += 1
                return engine
        raise ModelUnavailable(Message("model.busy", {"name": name}))

    def _release(self, engine: _Engine) -> None:
        engine.users -= 1
        if engine.users == 0:
            self._trim()

    def loaded_paths(self) -> list[str]:
        """The model paths with an engine loaded."""
        return sorted({key[0] for key in self._engines})

    def evict(self, path: str | Path, reason: Message | None = None) -> None:
        """Close the engines of the model at ``path`` (it is being deleted)."""
        for key in [k for k in self._engines if k[0] == str(path)]:
            engine = self._engines.pop(key)
            engine.close(reason or Message("model.deleted_while_writing", {"name": engine.name}))

    async def stream(
        self, path: str | Path, checksum: str, name: str, seed: str, options: SampleOptions
    ) -> AsyncIterator[Generated]:
        """Yield the continuation so far, every time it grows; the last one is ``done``.

        Raises :class:`model_store.SeedError` (and other model errors) from the engine, and
        :class:`ModelUnavailable` when the engine closes before the request ends."""
        engine = await self._acquire(path, checksum, name)
        try:
            request = _Request(seed, options)
            engine.submit(request)
            while True:
                await request.changed.wait()
                request.changed.clear()
                if request.error is not None:
                    raise request.error
                # A snapshot: the final update may land while the consumer handles this one,
                # and must then still be yielded.
                progress = Generated(request.text, request.done, request.unknown)
                yield progress
                if progress.done:
                    return
        finally:
            self._release(engine)

    async def generate(
        self, path: str | Path, checksum: str, name: str, seed: str, options: SampleOptions
    ) -> str:
        final = ""
        async for progress in self.stream(path, checksum, name, seed, options):
            final = progress.text
        return final

    def close(self) -> None:
        self._closed = True
        for engine in self._engines.values():
            engine.close(SHUTTING_DOWN)
        self._engines.clear()
