from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.synthetic_images import make_jpeg
from bot.media import ImageStore, process_image


@pytest.fixture
def store(tmp_path: Path) -> ImageStore:
    return ImageStore(tmp_path / "images")


def test_put_is_content_addressed_and_idempotent(store: ImageStore) -> None:
    p = process_image(make_jpeg(320, 240, seed=1))
    path = store.put(p)
    assert path == store.root / p.sha256[:2] / f"{p.sha256[2:]}.jpg"
    assert path.read_bytes() == p.data
    mtime = path.stat().st_mtime_ns
    assert store.put(p) == path
    assert path.stat().st_mtime_ns == mtime  # second put did not rewrite
    assert [f.name for f in path.parent.iterdir()] == [path.name]  # no temp files left behind


def test_same_picture_twice_stored_once(store: ImageStore) -> None:
    data = make_jpeg(320, 240, seed=2)
    a, b = process_image(data), process_image(data)
    assert a.sha256 == b.sha256
    assert store.put(a) == store.put(b)
    assert sum(len(files) for _, _, files in os.walk(store.root)) == 1


def test_get_and_contains(store: ImageStore) -> None:
    p = process_image(make_jpeg(64, 48, seed=3))
    assert store.get(p.sha256) is None
    assert p.sha256 not in store
    store.put(p)
    assert store.get(p.sha256) == p.data
    assert store.get(p.sha256.upper()) == p.data
    assert p.sha256 in store
    assert store.find(p.sha256) == store.path_for(p.sha256, "jpg")


def test_path_for_validates(store: ImageStore) -> None:
    sha = "ab" + "c" * 62
    assert store.path_for(sha, ".PNG") == store.root / "ab" / f"{'c' * 62}.png"
    with pytest.raises(ValueError):
        store.path_for("../../etc/passwd", "jpg")
    with pytest.raises(ValueError):
        store.path_for(sha, "exe")
    with pytest.raises(ValueError):
        store.get("not-a-hash")


def test_put_refuses_mismatched_hash(store: ImageStore) -> None:
    from dataclasses import replace

    p = process_image(make_jpeg(64, 48, seed=4))
    with pytest.raises(ValueError):
        store.put(replace(p, sha256="0" * 64))
