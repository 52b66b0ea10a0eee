"""Issue 11: several real bot processes on one PostgreSQL and one sandbox, killed with SIGKILL.

The scenario of ``python -m bench.cluster_bench`` at a small size: every server gets its photo of
the day and one album announcement exactly once, through random ``kill -9`` and restarts, and the
processes share one rate limit. The sandbox's global limit is lowered to 10 requests/s and the bots are
told 9 (they use 95% of it: 8.55/s together), so that two processes each pacing itself at that rate
(the old behaviour: 19 × 429 with two processes at 45/s each) would be refused many times over.
The 10% of headroom absorbs the scheduling jitter of a machine shared with other test runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cluster_bench import ClusterConfig, run_cluster
from tests.support.helpers import PG_SKIP


@pytest.mark.postgres
@pytest.mark.skipif(PG_SKIP is not None, reason=PG_SKIP or "")
async def test_two_processes_post_everything_once_through_kill_9_with_one_rate_limit(tmp_path: Path) -> None:
    cfg = ClusterConfig(
        processes=2,
        guilds=50,
        kills=2,
        db="postgres",
        rate_limit=10,
        bot_rate_limit=9,
        feed_interval=5,
        timeout=90,
        seed=3,
    )
    report = await run_cluster(cfg, tmp_path)
    assert report.errors == []
    assert report.kills == 2
    assert (report.potd_posts, report.potd_duplicates, report.potd_missing) == (50, 0, 0)
    assert (report.album_posts, report.album_duplicates, report.album_missing) == (50, 0, 0)
    assert report.rate_limited == 0
    assert report.unfinished_deliveries == 0
    # The feed is fetched once per interval however many processes run (never twice in one).
    assert report.feed_fetches >= 1 and max(report.fetches_per_interval) == 1


async def test_one_process_on_sqlite_posts_everything_once_through_kill_9(tmp_path: Path) -> None:
    cfg = ClusterConfig(
        processes=1, guilds=30, kills=2, db="sqlite", rate_limit=10, feed_interval=5, timeout=90, seed=5
    )
    report = await run_cluster(cfg, tmp_path)
    assert report.errors == []
    assert report.kills == 2
    assert (report.potd_posts, report.potd_duplicates, report.potd_missing) == (30, 0, 0)
    assert (report.album_posts, report.album_duplicates, report.album_missing) == (30, 0, 0)
    assert report.rate_limited == 0 and report.unfinished_deliveries == 0
