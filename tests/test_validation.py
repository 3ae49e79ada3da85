import pytest
import torch

from mtml_lib._validation import check_choice, check_float, check_int, check_tensor, lookup


def test_check_int_accepts_and_names_the_parameter():
    assert check_int("n", 3, minimum=1) == 3
    with pytest.raises(ValueError, match=r"`n` must be an integer >= 1; got 0\."):
        check_int("n", 0, minimum=1)
    with pytest.raises(TypeError, match="`n` must be an integer; got True"):
        check_int("n", True)
    with pytest.raises(TypeError, match="got 2.5"):
        check_int("n", 2.5)
    with pytest.raises(ValueError, match=r"in \[1, 4\]; got 5"):
        check_int("k", 5, minimum=1, maximum=4)


def test_check_float_rejects_nan_and_out_of_range():
    assert check_float("lr", 0.1, minimum=0, strict_minimum=True) == 0.1
    with pytest.raises(ValueError, match="`lr` must be a number > 0"):
        check_float("lr", 0.0, minimum=0, strict_minimum=True)
    with pytest.raises(ValueError, match="finite"):
        check_float("lr", float("nan"))
    with pytest.raises(TypeError):
        check_float("lr", "0.1")


def test_check_choice_and_tensor_messages():
    assert check_choice("split", "train", ["train", "test"]) == "train"
    with pytest.raises(ValueError, match=r"`split` must be one of \['train', 'test'\]; got 'val'"):
        check_choice("split", "val", ["train", "test"])
    with pytest.raises(ValueError, match=r"`x` must have shape \(\*, 3\); got shape \(2, 4\)"):
        check_tensor("x", torch.zeros(2, 4), shape=(None, 3))
    with pytest.raises(TypeError, match="`x.dtype` must be torch.int64"):
        check_tensor("x", torch.zeros(2), dtype=torch.long)
    with pytest.raises(TypeError, match="must be a torch.Tensor; got 'list'"):
        check_tensor("x", [1, 2])


def test_lookup_lists_names_and_suggests_the_nearest():
    registry = {"multihead": 1, "shared": 2}
    assert lookup(registry, "shared") == 2
    with pytest.raises(
        ValueError,
        match=r"one of \['multihead', 'shared'\]; got 'multihed'\. Did you mean 'multihead'\?",
    ):
        lookup(registry, "multihed")
    with pytest.raises(TypeError):
        lookup(registry, 3)
