"""Glyphs: rendered locally, cached with a checksum, Omniglot-sized."""

import unicodedata

import pytest
import torch

from mtml_lib.data import glyphs


def fake_generate(calls):
    def generate(*, seed=0, **_):
        calls.append(seed)
        images = torch.full((3, 20, 28, 28), seed, dtype=torch.uint8)
        return {
            "images": images,
            "alphabets": ["a", "b", "c"],
            "characters": ["x", "y", "z"],
            "codepoints": [1, 2, 3],
        }

    return generate


def test_glyphs_cache_is_verified_and_regenerated(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(glyphs, "generate_glyphs", fake_generate(calls))
    first = glyphs.load_glyphs(cache_dir=tmp_path, seed=7)
    assert calls == [7] and first.num_classes == 3
    path = glyphs.cache_path(cache_dir=tmp_path, seed=7)
    assert path.exists() and path.with_name(path.name + ".sha256").exists()
    glyphs.load_glyphs(cache_dir=tmp_path, seed=7)
    assert calls == [7]  # served from the cache
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # corrupt one byte
    path.write_bytes(bytes(raw))
    glyphs.load_glyphs(cache_dir=tmp_path, seed=7)
    assert calls == [7, 7]
    path.write_bytes(path.read_bytes()[:100])  # truncated
    glyphs.load_glyphs(cache_dir=tmp_path, seed=7)
    assert calls == [7, 7, 7]
    path.unlink()
    glyphs.load_glyphs(cache_dir=tmp_path, seed=7)
    assert calls == [7, 7, 7, 7]
    # A cache written with other fonts (or another version) is stale.
    monkeypatch.setattr(glyphs, "_fonts_fingerprint", lambda: [("OtherFont.ttf", 1)])
    glyphs.load_glyphs(cache_dir=tmp_path, seed=7)
    assert len(calls) == 5


def test_glyphs_cache_dir_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setattr(glyphs, "generate_glyphs", fake_generate([]))
    monkeypatch.setenv("MTML_CACHE_DIR", str(tmp_path / "elsewhere"))
    glyphs.load_glyphs(seed=1)
    assert glyphs.cache_path(seed=1).parent == tmp_path / "elsewhere"
    assert glyphs.cache_path(seed=1).exists()


@pytest.mark.slow
def test_glyphs_is_omniglot_sized_and_deterministic(tmp_path):
    data = glyphs.load_glyphs(cache_dir=tmp_path, seed=0)
    assert data.num_classes >= 1200 and len(data.alphabet_names) >= 25
    assert data.images.shape[1:] == (20, 28, 28)
    assert data.images.min() >= 0 and data.images.max() <= 1
    assert all(not unicodedata.decomposition(c) for c in data.characters)  # no accented forms
    # Latin A, Greek Alpha, Cyrillic A: one class
    assert sum(c in data.characters for c in ("A", "\u0391", "\u0410")) <= 1
    assert "o" not in data.characters or "O" not in data.characters  # twins once scaled to the box
    # Every class has ink, and its 20 instances differ (fonts and jitter).
    peak = data.images.amax(dim=(2, 3))  # (classes, 20)
    # light glyphs such as the shade pattern stay grey
    assert (peak > 0.3).all() and peak.mean() > 0.95
    assert (data.images.std(dim=1).mean(dim=(1, 2)) > 0.01).all()
    fresh = glyphs.generate_glyphs(seed=0)
    assert torch.equal(fresh["images"].float() / 255, data.images)
