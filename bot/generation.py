"""The generation service: cached models and continuous batching, off the event loop.

Each loaded model gets an engine: one background thread stepping a
:class:`model_store.BatchSampler`. Requests join the running batch between steps, so
concurrent ``/generate`` calls on the same model share one matmul per character. The thread
publishes each request's text at most every ``PUBLISH_INTERVAL`` seconds (and when it ends);
the event loop only wakes up to read it. Models are loaded in a thread and kept in an LRU
cache keyed by path and checksum.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from model_store import Generator, SampleOptions, load_artifact
from model_store.sampling import Row

log = logging.getLogger(__name__)

PUBLISH_INTERVAL = 0.05


@dataclass(eq=False)
class _Request:
    seed: str
    options: SampleOptions
    loop: asyncio.AbstractEventLoop
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    text: str = ""
    done: bool = False
    error: BaseException | None = None
    row: Row | None = None
    published_at: float = 0.0

    def publish(self, text: str, done: bool, error: BaseException | None = None) -> None:
        def apply() -> None:
            self.text, self.done, self.error = text, done, error
            self.changed.set()

        self.loop.call_soon_threadsafe(apply)


class _Engine:
    """One model, one thread, one growing and shrinking batch."""

    def __init__(self, generator: Generator, name: str):
        self.generator = generator
        self.name = name
        self._pending: list[_Request] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"generate-{name}", daemon=True)
        self._thread.start()
        self.peak_batch = 0

    def submit(self, request: _Request) -> None:
        with self._lock:
            self._pending.append(request)
        self._wake.set()

    def close(self) -> None:
        self._closed = True
        self._wake.set()

    def _run(self) -> None:
        sampler = self.generator.sampler()
        active: dict[Row, _Request] = {}
        while not self._closed:
            if not active:
                self._wake.wait(timeout=1.0)
            self._wake.clear()
            with self._lock:
                pending, self._pending = self._pending, []
            for req in pending:
                try:
                    req.row = sampler.add(req.seed, req.options)
                except Exception as exc:  # SeedError and friends go back to the caller
                    req.publish("", True, exc)
                    continue
                active[req.row] = req
            if not active:
                continue
            self.peak_batch = max(self.peak_batch, len(active))
            try:
                sampler.step()
            except Exception as exc:  # pragma: no cover - a bug; fail the requests, keep serving
                log.exception("generation step failed for model %s", self.name)
                for req in active.values():
                    req.publish("", True, exc)
                active.clear()
                sampler = self.generator.sampler()
                continue
            now = time.monotonic()
            for row, req in list(active.items()):
                if row.done:
                    req.publish(row.text, True)
                    del active[row]
                elif now - req.published_at >= PUBLISH_INTERVAL:
                    req.published_at = now
                    req.publish(row.text, False)


class GenerationService:
    def __init__(self, cache_size: int = 4):
        self.cache_size = cache_size
        self._engines: OrderedDict[tuple[str, str], _Engine] = OrderedDict()
        self._loading: dict[tuple[str, str], asyncio.Task[_Engine]] = {}

    async def engine(self, path: str | Path, checksum: str, name: str) -> _Engine:
        """The engine for the model at ``path`` (loaded in a thread on first use)."""
        key = (str(path), checksum)
        if key in self._engines:
            self._engines.move_to_end(key)
            return self._engines[key]
        if key not in self._loading:
            self._loading[key] = asyncio.ensure_future(self._load(key, name))
        try:
            return await asyncio.shield(self._loading[key])
        finally:
            self._loading.pop(key, None)

    async def _load(self, key: tuple[str, str], name: str) -> _Engine:
        started = time.perf_counter()
        artifact = await asyncio.to_thread(load_artifact, Path(key[0]), name)
        generator = await asyncio.to_thread(Generator, artifact)
        engine = _Engine(generator, name)
        self._engines[key] = engine
        while len(self._engines) > self.cache_size:
            _, old = self._engines.popitem(last=False)
            old.close()
        log.info("loaded model %s in %.0f ms", name, (time.perf_counter() - started) * 1000)
        return engine

    def evict(self, path: str | Path) -> None:
        for key in [k for k in self._engines if k[0] == str(path)]:
            self._engines.pop(key).close()

    async def charset_of(self, path: str | Path, checksum: str, name: str):
        return (await self.engine(path, checksum, name)).generator.charset

    async def stream(
        self, path: str | Path, checksum: str, name: str, seed: str, options: SampleOptions
    ) -> AsyncIterator[str]:
        """Yield the continuation so far, every time it grows; the last value is final.

        Raises :class:`model_store.SeedError` (and other model errors) from the engine."""
        engine = await self.engine(path, checksum, name)
        request = _Request(seed, options, asyncio.get_running_loop())
        engine.submit(request)
        while True:
            await request.changed.wait()
            request.changed.clear()
            if request.error is not None:
                raise request.error
            yield request.text
            if request.done:
                return

    async def generate(
        self, path: str | Path, checksum: str, name: str, seed: str, options: SampleOptions
    ) -> str:
        final = ""
        async for final in self.stream(path, checksum, name, seed, options):  # noqa: B007
            pass
        return final

    def close(self) -> None:
        for engine in self._engines.values():
            engine.close()
        self._engines.clear()
