"""Real Omniglot read from a folder on disk, in either layout."""

import numpy as np
import pytest

from mtml_lib.data.omniglot import load_omniglot


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
