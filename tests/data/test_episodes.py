"""N-way K-shot episodes sampled by index gathering, and the homework's layout."""

import pytest
import torch
from testkit.episodes import id_dataset, ids

from mtml_lib.data.episodes import EpisodeSampler


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
            # (4, 28, 28)
            images = torch.cat(
                [
                    episode.support_x[b][episode.support_y[b] == label],
                    episode.query_x[b][episode.query_y[b] == label],
                ]
            )[:, 0]
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


def test_sequence_layout():
    data = id_dataset(num_classes=8)
    episode = EpisodeSampler(
        data, n_way=3, k_shot=2, n_query=1, batch_size=30, generator=0
    ).sample()
    images, labels = episode.sequence_layout(generator=0)
    assert images.shape == (30, 3, 3, 784) and labels.shape == (30, 3, 3, 3)
    assert torch.equal(labels.sum(-1), torch.ones(30, 3, 3))  # one-hot
    # support rows in label order
    assert torch.equal(labels[:, :2].argmax(-1), torch.arange(3).expand(30, 2, 3))
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
        ).sample().sequence_layout()


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


@pytest.mark.parametrize("rotations", [False, True])
def test_sample_sequences_is_the_sequence_layout_of_an_episode(rotations):
    data = id_dataset(num_classes=9)
    images, labels = EpisodeSampler(
        data, n_way=4, k_shot=3, n_query=1, batch_size=20, generator=4, rotations=rotations
    ).sample_sequences()
    assert images.shape == (20, 4, 4, 784) and labels.shape == (20, 4, 4, 4)
    assert torch.equal(labels[:, :3].argmax(-1), torch.arange(4).expand(20, 3, 4))
    classes = ids(images.reshape(20, 4, 4, 1, 28, 28))[0] if not rotations else None
    if classes is not None:
        # every column holds one class in the support rows; the query row holds the classes its
        # labels say
        assert (classes[:, :3] == classes[:, :1]).all()
        assert torch.equal(classes[:, 3], classes[:, 0].gather(1, labels[:, 3].argmax(-1)))
