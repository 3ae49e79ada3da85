"""Few-shot datasets and their disjoint splits."""

import pytest
import torch
from testkit.episodes import id_dataset, ids

from mtml_lib.data.episodes import EpisodeSampler
from mtml_lib.data.fewshot import FewShotDataset


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
