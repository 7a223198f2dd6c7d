"""engine/train/blend_acoustic: the weighted mean of two acoustic models' weights, exported with its parents."""

import json

import pytest
import torch

from engine.acoustic.model import load_model, save_checkpoint
from engine.errors import UserInputError
from engine.train.blend_acoustic import blend, main
from tests.test_pipeline import tiny_model


@pytest.fixture
def parents(tmp_path, codec):
    first, second = tmp_path / "a.pt", tmp_path / "b.pt"
    save_checkpoint(first, tiny_model(codec, seed=0), {"command": "train a", "steps": 10})
    save_checkpoint(
        second,
        tiny_model(codec, seed=1),
        {"command": "train b", "steps": 20, "trained_real_persons": ["asterisk-allison"]},
    )
    return first, second


def test_the_blend_is_the_weighted_mean_of_the_weights(tmp_path, parents):
    first, second = parents
    out = tmp_path / "blend" / "acoustic.pt"
    meta = blend(first, second, 0.25, out, "blend them")
    model, stored = load_model(out)
    a, b = load_model(first)[0].state_dict(), load_model(second)[0].state_dict()
    name = next(n for n, w in a.items() if w.is_floating_point() and w.numel() > 100)
    assert not torch.allclose(a[name], b[name])
    expected = 0.75 * a[name] + 0.25 * b[name]
    assert torch.allclose(model.state_dict()[name], expected, atol=2e-3)  # stored in float16
    assert stored == meta and meta["command"] == "blend them" and meta["steps"] == 20
    assert meta["blend"]["weight_of_second"] == 0.25 and meta["blend"]["first_command"] == "train a"
    assert meta["trained_real_persons"] == ["asterisk-allison"]  # a parent heard her, so the blend has
    assert json.loads(out.with_suffix(".json").read_text())["blend"]["second"] == str(second)


def test_bad_blends_are_plain_errors(tmp_path, parents, codec, capsys):
    first, second = parents
    with pytest.raises(UserInputError, match="outside 0..1"):
        blend(first, second, 1.5, tmp_path / "x.pt", "")
    other = tmp_path / "other.pt"
    save_checkpoint(other, tiny_model(codec, sizes=[16] * len(codec.codebook_sizes)))
    assert main([str(first), str(other), "--out", str(tmp_path / "x.pt")]) == 2
    assert "different shapes" in capsys.readouterr().err
    assert main([str(first), str(tmp_path / "none.pt"), "--out", str(tmp_path / "x.pt")]) == 2
    assert "does not exist" in capsys.readouterr().err
    untrained = ["--data", str(tmp_path), "--out", str(tmp_path / "x.pt")]
    assert main([str(first), str(second), *untrained]) == 2
    assert "no train_config" in capsys.readouterr().err
