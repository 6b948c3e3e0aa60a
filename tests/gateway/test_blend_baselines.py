"""A task's .blend becomes a pool baseline id: content-addressed, copied whole, refused for remote workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.workers.blend_baselines import import_blend
from gateway.config import PoolConfig
from gateway.errors import BadRequest
from gateway.workers.pool import Pool
from gateway.workers.ports import free_ports


async def started(config: PoolConfig) -> Pool:
    pool = Pool(config)
    pool.start()
    return pool


async def test_the_same_bytes_get_the_same_id_and_other_bytes_another(tmp_path: Path):
    pool = await started(PoolConfig(workers=0, workdir=tmp_path / "pool"))
    try:
        (tmp_path / "a.blend").write_bytes(b"BLENDER-v500" + b"a" * 100_000)
        (tmp_path / "copy.blend").write_bytes((tmp_path / "a.blend").read_bytes())
        (tmp_path / "b.blend").write_bytes(b"BLENDER-v500" + b"b" * 100_000)
        first, again, other = [await import_blend(pool, tmp_path / n) for n in ("a.blend", "copy.blend", "b.blend")]
        assert first == again != other and first.startswith("task-") and len(first) == len("task-") + 16
        assert (pool.baselines_dir / f"{first}.blend").read_bytes() == (tmp_path / "a.blend").read_bytes()
        assert sorted(p.name for p in pool.baselines_dir.iterdir()) == sorted([f"{first}.blend", f"{other}.blend"])
    finally:
        await pool.stop()


async def test_a_pool_with_remote_workers_refuses_a_blend_it_cannot_share(tmp_path: Path):
    (port,) = free_ports(20000, 1, "127.0.0.1")  # nobody listens: the remote worker stays down
    pool = await started(PoolConfig(workers=0, remote=[f"http://127.0.0.1:{port}/mcp"], workdir=tmp_path / "pool",
                                    backoff_initial_s=5))
    try:
        (tmp_path / "a.blend").write_bytes(b"BLENDER-v500")
        with pytest.raises(BadRequest, match=r"\[BAD_REQUEST\] a .blend baseline \(a.blend\) needs local workers: "
                                             r"the remote workers r0 do not share"):
            await import_blend(pool, tmp_path / "a.blend")
        assert list(pool.baselines_dir.iterdir()) == []
    finally:
        await pool.stop()
