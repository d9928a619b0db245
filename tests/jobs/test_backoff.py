"""One backoff everywhere: doubling, capped, jittered."""

from __future__ import annotations

from jobs.backoff import Backoff, delay


def test_delays_double_up_to_the_cap_drawn_from_the_upper_half():
    for attempt, ceiling in [(1, 10), (2, 20), (3, 40), (9, 60)]:
        draws = [delay(attempt, 10, 60) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in draws)
        assert len(set(draws)) > 1  # jitter: not in step


def test_a_backoff_counts_its_failures_and_starts_over():
    backoff = Backoff(first=1, most=4)
    assert [backoff.next() <= cap for cap in (1, 2, 4, 4)] == [True] * 4
    backoff.reset()
    assert backoff.next() <= 1


async def test_jobs_failing_together_retry_at_different_times(queue, clock):
    from jobs.reasons import Reason

    for name in ("a", "b"):
        await queue.submit(
            guild_id=7, channel_id=8, user_id=9, model_name=name, corpus=b"t", params={}
        )
    leases = [await queue.claim("w"), await queue.claim("w")]
    retried = [await queue.fail(lease, Reason("temporary"), retryable=True) for lease in leases]
    times = [job.not_before - clock.now for job in retried]
    assert all(5 <= t <= 10 for t in times) and times[0] != times[1]
