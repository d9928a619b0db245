"""The bot's generation service: engines end every request, busy models are not evicted."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from bot.generation import GenerationService, ModelUnavailable
from model_store import ModelStore, SampleOptions

from .conftest import HOLD


@pytest.fixture
def models(tmp_path: Path, tiny_model) -> dict[str, tuple[str, str]]:
    """Five copies of the tiny model: name -> (path, checksum)."""
    store = ModelStore(tmp_path / "models")
    out = {}
    for name in ("aa", "bb", "cc", "dd", "ee"):
        path = store.save(dataclasses.replace(tiny_model.artifact, name=name))
        out[name] = (str(path), store.card(name)["checksums"]["weights.npz"])
    return out


def options(length: int = 50) -> SampleOptions:
    return SampleOptions(temperature=0.5, length=length, rng_seed=1)


async def wait_until(predicate, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_a_busy_model_is_not_evicted_and_its_request_finishes(models, gate):
    service = GenerationService(cache_size=4)
    try:
        path, checksum = models["aa"]
        held = asyncio.create_task(
            service.generate(path, checksum, "aa", HOLD, options(length=200))
        )
        await wait_until(lambda: service.in_flight == 1)
        # Four other people use four other models: more than the cache holds.
        for name in ("bb", "cc", "dd", "ee"):
            text = await service.generate(*models[name], name, "The ", options())
            assert len(text) == 50
        gate.set()
        text = await asyncio.wait_for(held, 10)
        assert len(text) == 200
        assert service.cached <= 4  # back within the cache size once nobody uses the extra
    finally:
        service.close()


async def test_deleting_a_model_ends_its_requests_with_a_clear_error(models, gate):
    service = GenerationService()
    try:
        path, checksum = models["aa"]
        held = asyncio.create_task(
            service.generate(path, checksum, "aa", HOLD, options(length=200))
        )
        await wait_until(lambda: service.in_flight == 1)
        service.evict(path)
        gate.set()
        with pytest.raises(ModelUnavailable, match="`aa` was deleted"):
            await asyncio.wait_for(held, 10)
        # A new request for the same path loads it again (e.g. a new model of that name).
        assert len(await service.generate(path, checksum, "aa", "The ", options())) == 50
    finally:
        service.close()


async def test_closing_the_service_ends_every_request(models, gate):
    service = GenerationService()
    path, checksum = models["aa"]
    held = [
        asyncio.create_task(service.generate(path, checksum, "aa", HOLD, options()))
        for _ in range(3)
    ]
    await wait_until(lambda: service.in_flight == 3)
    service.close()
    gate.set()
    for task in held:
        with pytest.raises(ModelUnavailable, match="shutting down"):
            await asyncio.wait_for(task, 10)
    with pytest.raises(ModelUnavailable):
        await asyncio.wait_for(service.generate(path, checksum, "aa", "The ", options()), 10)


async def test_an_engine_that_dies_fails_its_requests_instead_of_hanging(models, monkeypatch):
    from model_store import Generator

    def broken_sampler(self):
        raise RuntimeError("no sampler today")

    monkeypatch.setattr(Generator, "sampler", broken_sampler)
    service = GenerationService()
    try:
        path, checksum = models["aa"]
        with pytest.raises(ModelUnavailable, match="stopped working"):
            await asyncio.wait_for(service.generate(path, checksum, "aa", "The ", options()), 10)
    finally:
        service.close()


async def test_concurrent_requests_share_steps(models, gate):
    service = GenerationService()
    try:
        path, checksum = models["aa"]
        tasks = [
            asyncio.create_task(service.generate(path, checksum, "aa", HOLD, options(100)))
            for _ in range(3)
        ]
        await wait_until(lambda: service.in_flight == 3)
        gate.set()
        texts = await asyncio.wait_for(asyncio.gather(*tasks), 10)
        assert len(set(texts)) == 1  # same rng seed, same text, batched or not
        (engine,) = service.engines()
        assert engine.peak_batch == 3
        assert engine.steps < 2 * (len(HOLD) + 100)  # one step served all three
    finally:
        service.close()


async def test_the_final_text_is_never_skipped_by_a_busy_consumer(models, monkeypatch):
    """The final update can arrive while the consumer is busy (editing the reply): the stream
    must still yield it, or the reply is left one character short, "writing…" for ever."""
    from bot.generation import _Engine

    requests = []
    monkeypatch.setattr(_Engine, "submit", lambda self, request: requests.append(request))
    service = GenerationService()
    try:
        stream = service.stream(*models["aa"], "aa", "The ", options(3)).__aiter__()
        pending = asyncio.ensure_future(anext(stream))
        await wait_until(lambda: requests)
        requests[0].apply("ab", False, None)
        first = await pending
        assert (first.text, first.done) == ("ab", False)
        requests[0].apply("abc", True, None)  # while the consumer was busy with "ab"
        last = await anext(stream)
        assert (last.text, last.done) == ("abc", True)
    finally:
        service.close()


async def test_a_batch_larger_than_a_chunk_of_updates_all_ends(models, gate):
    """Updates reach the event loop in chunks: every request of a big batch still ends."""
    from bot.generation import APPLY_CHUNK

    service = GenerationService()
    try:
        path, checksum = models["aa"]
        count = 2 * APPLY_CHUNK + 1
        tasks = [
            asyncio.create_task(service.generate(path, checksum, "aa", HOLD, options(20)))
            for _ in range(count)
        ]
        await wait_until(lambda: service.in_flight == count)
        gate.set()
        texts = await asyncio.wait_for(asyncio.gather(*tasks), 30)
        assert len(texts) == count and {len(t) for t in texts} == {20}
    finally:
        service.close()
