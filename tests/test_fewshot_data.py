"""Glyphs, local Omniglot, splits and episodes."""

import math
import unicodedata

import numpy as np
import pytest
import torch

from mtml_lib.data import glyphs
from mtml_lib.data.episodes import EpisodeSampler
from mtml_lib.data.fewshot import FewShotDataset
from mtml_lib.data.omniglot import load_omniglot
from mtml_lib.data.sinusoids import SinusoidEpisodeSampler


def id_dataset(num_classes=12, instances=20, alphabets=None):
    """Images that carry their own class and instance number, to trace every sampled image."""
    images = torch.zeros(num_classes, instances, 28, 28)
    images[:, :, 0, 0] = torch.arange(num_classes, dtype=torch.float)[:, None] / 100
    images[:, :, 0, 1] = torch.arange(instances, dtype=torch.float)[None, :] / 100
    images[:, :, 5:20, 10] = 1.0  # an asymmetric mark, so rotations are visible
    alphabets = alphabets or [f"alphabet{c // 3}" for c in range(num_classes)]
    return FewShotDataset(images, alphabets=alphabets)


def ids(x):
    """(class, instance) numbers of images (..., 1, 28, 28) in their unrotated form."""
    return (x[..., 0, 0, 0] * 100).round().long(), (x[..., 0, 0, 1] * 100).round().long()


# --- splits ---------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["alphabet", "class"])
def test_splits_are_disjoint_and_complete(by):
    data = id_dataset(num_classes=30)
    parts = data.split(by=by, seed=3)
    class_sets = [set(ids(p.images[:, :1].unsqueeze(2))[0].flatten().tolist()) for p in parts]
    assert all(s for s in class_sets)
    assert class_sets[0].isdisjoint(class_sets[1]) and class_sets[0].isdisjoint(class_sets[2])
    assert class_sets[1].isdisjoint(class_sets[2])
    assert set().union(*class_sets) == set(range(30))
    if by == "alphabet":
        alphabet_sets = [set(p.alphabets) for p in parts]
        assert alphabet_sets[0].isdisjoint(alphabet_sets[1] | alphabet_sets[2])
        assert alphabet_sets[1].isdisjoint(alphabet_sets[2])


def test_a_sampler_on_meta_train_never_sees_meta_test_classes():
    data = id_dataset(num_classes=30)
    train, _, test = data.split(by="alphabet", seed=0)
    test_ids = set(ids(test.images[:, :1].unsqueeze(2))[0].flatten().tolist())
    sampler = EpisodeSampler(train, n_way=5, k_shot=2, n_query=3, batch_size=64, generator=0)
    seen = set()
    for _ in range(20):
        episode = sampler.sample()
        seen |= set(ids(episode.support_x)[0].flatten().tolist()) | set(
            ids(episode.query_x)[0].flatten().tolist()
        )
    assert seen and seen.isdisjoint(test_ids)


def test_split_errors():
    data = id_dataset()
    with pytest.raises(ValueError, match="`by` must be one of"):
        data.split(by="drawer")
    with pytest.raises(ValueError, match="`fractions` must be three"):
        data.split(fractions=(1, 1))
    with pytest.raises(ValueError, match="one alphabet per class"):
        FewShotDataset(torch.zeros(3, 2, 28, 28), alphabets=["a"])


# --- episodes -------------------------------------------------------------------------


def test_episodes_are_well_formed(device):
    data = id_dataset(num_classes=12)
    sampler = EpisodeSampler(
        data, n_way=4, k_shot=3, n_query=2, batch_size=50, device=device, generator=1
    )
    episode = sampler.sample()
    assert episode.support_x.shape == (50, 12, 1, 28, 28) and episode.query_x.shape == (
        50,
        8,
        1,
        28,
        28,
    )
    assert episode.support_x.device.type == device.type
    support_class, support_instance = ids(episode.support_x.cpu())
    query_class, query_instance = ids(episode.query_x.cpu())
    for b in range(50):
        labels = episode.support_y[b].cpu()
        assert sorted(labels.tolist()) == sorted(list(range(4)) * 3)
        for label in range(4):
            cls = set(support_class[b][labels == label].tolist()) | set(
                query_class[b][episode.query_y[b].cpu() == label].tolist()
            )
            assert len(cls) == 1  # one dataset class per label, in support and query alike
            drawn = (
                support_instance[b][labels == label].tolist()
                + query_instance[b][episode.query_y[b].cpu() == label].tolist()
            )
            assert len(set(drawn)) == 5  # support and query never share an image
        assert len(set(support_class[b].tolist())) == 4  # N distinct classes
    # Labels are shuffled: which dataset class gets label 0 varies across episodes.
    assert len(set(support_class[:, 0].tolist())) > 5


def test_same_seed_same_episodes():
    data = id_dataset()
    a = EpisodeSampler(data, n_way=3, k_shot=1, n_query=1, batch_size=8, generator=5).sample()
    b = EpisodeSampler(data, n_way=3, k_shot=1, n_query=1, batch_size=8, generator=5).sample()
    assert torch.equal(a.support_x, b.support_x) and torch.equal(a.query_y, b.query_y)


def test_rotations_turn_whole_classes():
    data = id_dataset(num_classes=6)
    episode = EpisodeSampler(
        data, n_way=6, k_shot=2, n_query=2, batch_size=40, generator=2, rotations=True
    ).sample()
    seen_turns = set()
    for b in range(40):
        for label in range(6):
            images = torch.cat(
                [
                    episode.support_x[b][episode.support_y[b] == label],
                    episode.query_x[b][episode.query_y[b] == label],
                ]
            )[:, 0]  # (4, 28, 28)
            turns = set()
            for image in images:
                matches = [
                    k
                    for k in range(4)
                    if torch.equal(image.rot90(-k, (0, 1))[5:20, 10], torch.ones(15))
                ]
                turns.add(matches[0])
            assert len(turns) == 1  # one angle per class
            seen_turns |= turns
    assert seen_turns == {0, 1, 2, 3}


def test_homework_layout():
    data = id_dataset(num_classes=8)
    episode = EpisodeSampler(
        data, n_way=3, k_shot=2, n_query=1, batch_size=30, generator=0
    ).sample()
    images, labels = episode.homework_layout(generator=0)
    assert images.shape == (30, 3, 3, 784) and labels.shape == (30, 3, 3, 3)
    assert torch.equal(labels.sum(-1), torch.ones(30, 3, 3))  # one-hot
    assert torch.equal(
        labels[:, :2].argmax(-1), torch.arange(3).expand(30, 2, 3)
    )  # support rows in label order
    query = labels[:, 2].argmax(-1)
    assert all(sorted(q.tolist()) == [0, 1, 2] for q in query)
    assert (query != torch.arange(3)).any()  # the query row is shuffled
    # the query images belong to the classes their labels say
    support_class = ids(images[:, 0].reshape(30, 3, 1, 28, 28))[0]
    query_class = ids(images[:, 2].reshape(30, 3, 1, 28, 28))[0]
    assert torch.equal(query_class, support_class.gather(1, query))
    with pytest.raises(ValueError, match="`n_query` must be 1; got 2"):
        EpisodeSampler(
            data, n_way=3, k_shot=1, n_query=2, batch_size=2, generator=0
        ).sample().homework_layout()


def test_impossible_requests():
    data = id_dataset(num_classes=5, instances=6)
    with pytest.raises(
        ValueError, match=r"`n_way` must be at most the number of classes .* \(5\); got 6"
    ):
        EpisodeSampler(data, n_way=6, k_shot=1, n_query=1, batch_size=1)
    assert (
        EpisodeSampler(data, n_way=6, k_shot=1, n_query=1, batch_size=1, rotations=True).num_classes
        == 20
    )
    with pytest.raises(
        ValueError, match=r"`k_shot \+ n_query` must be at most the 6 instances .*; got 5 \+ 2"
    ):
        EpisodeSampler(data, n_way=2, k_shot=5, n_query=2, batch_size=1)
    with pytest.raises(ValueError, match="`batch_size` must be an integer >= 1; got 0"):
        EpisodeSampler(data, n_way=2, k_shot=1, n_query=1, batch_size=0)
    with pytest.raises(TypeError, match="`dataset` must be a FewShotDataset"):
        EpisodeSampler(torch.zeros(3), n_way=2, k_shot=1, n_query=1, batch_size=1)


def test_sinusoid_episodes(device):
    sampler = SinusoidEpisodeSampler(
        k_shot=5, n_query=10, batch_size=100, device=device, generator=0
    )
    episode = sampler.sample()
    assert episode.support_x.shape == (100, 5, 1) and episode.query_y.shape == (100, 10, 1)
    x = torch.cat([episode.support_x, episode.query_x], 1)
    y = torch.cat([episode.support_y, episode.query_y], 1)
    assert torch.allclose(
        y, episode.amplitude[:, None, None] * torch.sin(x - episode.phase[:, None, None])
    )
    assert (
        x.min() >= -5
        and x.max() <= 5
        and episode.amplitude.min() >= 0.1
        and episode.phase.max() <= math.pi
    )


# --- Glyphs ---------------------------------------------------------------------------


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
    assert (
        sum(c in data.characters for c in ("A", "\u0391", "\u0410")) <= 1
    )  # Latin A, Greek Alpha, Cyrillic A: one class
    assert "o" not in data.characters or "O" not in data.characters  # twins once scaled to the box
    # Every class has ink, and its 20 instances differ (fonts and jitter).
    peak = data.images.amax(dim=(2, 3))  # (classes, 20)
    assert (
        peak > 0.3
    ).all() and peak.mean() > 0.95  # light glyphs such as the shade pattern stay grey
    assert (data.images.std(dim=1).mean(dim=(1, 2)) > 0.01).all()
    fresh = glyphs.generate_glyphs(seed=0)
    assert torch.equal(fresh["images"].float() / 255, data.images)


# --- Omniglot -------------------------------------------------------------------------


def write_omniglot(root, layout):
    import matplotlib.image

    for a, alphabet in enumerate(["Alpha", "Beta"]):
        for c in range(3):
            folder = (
                root / layout / alphabet if layout else root / alphabet
            ) / f"character{c + 1:02d}"
            folder.mkdir(parents=True)
            for d in range(4 if c else 5):
                image = np.ones((105, 105))
                image[20:80, 40 + c * 5 : 50 + c * 5] = 0.0  # a dark stroke on white
                matplotlib.image.imsave(
                    folder / f"{a}{c}_{d:02d}.png", image, cmap="gray", vmin=0, vmax=1
                )


@pytest.mark.parametrize("layout", ["images_background", ""])
def test_omniglot_layouts(tmp_path, layout):
    write_omniglot(tmp_path, layout)
    data = load_omniglot(tmp_path)
    assert data.num_classes == 6 and data.instances == 4  # the smallest count
    assert data.images.shape == (6, 4, 28, 28)
    assert data.alphabet_names == ["Alpha", "Beta"]
    assert (data.images.amax(dim=(2, 3)) > 0.8).all()  # the dark stroke became ink = 1
    assert data.images[:, :, :3, :3].max() < 0.05  # the white background became 0


def test_omniglot_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_omniglot(tmp_path / "missing")
    with pytest.raises(ValueError, match="found no PNG drawings"):
        load_omniglot(tmp_path)


@pytest.mark.parametrize("rotations", [False, True])
def test_sample_homework_is_the_homework_layout_of_an_episode(rotations):
    data = id_dataset(num_classes=9)
    images, labels = EpisodeSampler(
        data, n_way=4, k_shot=3, n_query=1, batch_size=20, generator=4, rotations=rotations
    ).sample_homework()
    assert images.shape == (20, 4, 4, 784) and labels.shape == (20, 4, 4, 4)
    assert torch.equal(labels[:, :3].argmax(-1), torch.arange(4).expand(20, 3, 4))
    classes = ids(images.reshape(20, 4, 4, 1, 28, 28))[0] if not rotations else None
    if classes is not None:
        # every column holds one class in the support rows; the query row holds the classes its
        # labels say
        assert (classes[:, :3] == classes[:, :1]).all()
        assert torch.equal(classes[:, 3], classes[:, 0].gather(1, labels[:, 3].argmax(-1)))
