"""The benchmarks' baselines compute what they claim (the
speed itself is measured by `make bench`).
"""

import numpy as np
import pytest

from benchmarks.distributed import CONFIGS, config_text
from benchmarks.episodes import FileSampler, PythonSampler, write_pngs
from mtml_lib.runs import load_config


def test_file_and_array_baselines_make_the_same_homework_episodes(tmp_path):
    # exact in 8-bit PNGs
    images = (np.random.RandomState(0).rand(6, 4, 28, 28) > 0.5).astype(np.float32)
    files = FileSampler(
        write_pngs(images, tmp_path), n_way=3, k_shot=2, batch_size=5, seed=1
    ).sample()
    memory = PythonSampler(images, n_way=3, k_shot=2, batch_size=5, seed=1).sample()
    assert files[0].shape == (5, 3, 3, 784) and files[1].shape == (5, 3, 3, 3)
    np.testing.assert_allclose(files[0], memory[0], atol=1e-6)
    np.testing.assert_array_equal(files[1], memory[1])
    # The support rows keep label order; the query row is shuffled but still holds every label once.
    assert (files[1][:, :-1].argmax(-1) == np.arange(3)).all()
    assert (np.sort(files[1][:, -1].argmax(-1), axis=1) == np.arange(3)).all()


@pytest.mark.parametrize("name", list(CONFIGS))
def test_distributed_benchmark_configs_are_valid(tmp_path, name):
    path = tmp_path / "config.toml"
    path.write_text(config_text(CONFIGS[name], device="cpu", autocast=True), encoding="utf-8")
    config = load_config(path)  # checked completely, as `mtml train` checks it
    assert config.checkpoint_every == 100000 and config.device == "cpu"
