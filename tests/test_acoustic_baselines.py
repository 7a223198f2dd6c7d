"""Autoregressive baselines: the KV-cached generation equals the uncached forward; step counts; trainable."""

import pytest
import torch

from engine.acoustic.baselines import ARBaseline, ARConfig, generate_delay, generate_flattened
from engine.acoustic.data import sample_batch, synthetic_corpus
from engine.acoustic.layout import TokenLayout
from engine.acoustic.model import AcousticConfig, AcousticModel
from engine.acoustic.trace import UNKNOWN

LAYOUT = TokenLayout((16, 32, 32), ((0,), (1, 2)))


pytestmark = pytest.mark.usefixtures("one_thread")


def tiny(pattern):
    torch.manual_seed(0)
    m = ARBaseline(
        ARConfig(
            LAYOUT.codebook_sizes,
            LAYOUT.groups,
            (12,),
            pattern=pattern,
            d_model=32,
            n_layers=2,
            n_heads=2,
            dropout=0.0,
            prompt_layers=1,
        )
    )
    with torch.no_grad():
        for head in m.heads:  # sharper logits, so argmax ties cannot hide a mismatch
            head.weight.mul_(30)
    return m


@pytest.mark.parametrize("pattern,generate", [("flattened", generate_flattened), ("delay", generate_delay)])
def test_cached_generation_equals_uncached_forward(pattern, generate):
    m = tiny(pattern)
    g = torch.Generator().manual_seed(1)
    semantic = torch.randint(0, 12, (2, 11), generator=g)
    prompt = torch.stack([torch.randint(0, k, (2, 6), generator=g) for k in LAYOUT.codebook_sizes], 1)
    plen = torch.tensor([6, 4])
    res = generate(m, semantic, None, prompt, plen, temperature=0)
    t, q = 11, LAYOUT.n_q
    assert res.steps == (t * q if pattern == "flattened" else t + q - 1)
    with torch.no_grad():
        logits = m(res.tokens, semantic, prompt, torch.arange(6)[None] < plen[:, None])
    argmax = torch.stack([lg.argmax(-1) for lg in logits], 1)
    assert torch.equal(argmax, res.tokens)
    assert len(set(res.tokens.flatten().tolist())) > 3, "not a degenerate constant output"


def test_generation_is_seeded_and_padding_is_unknown():
    m = tiny("delay")
    semantic = torch.randint(0, 12, (2, 9))
    a = generate_delay(m, semantic, torch.tensor([9, 5]), seed=4)
    b = generate_delay(m, semantic, torch.tensor([9, 5]), seed=4)
    assert torch.equal(a.tokens, b.tokens)
    assert bool((a.tokens[1, :, 5:] == UNKNOWN).all()) and bool((a.tokens[1, :, :5] >= 0).all())
    with pytest.raises(ValueError):
        generate_flattened(m, semantic)


@pytest.mark.parametrize("pattern", ["flattened", "delay"])
def test_baselines_train(pattern):
    layout = TokenLayout((8, 8), ((0, 1),))
    corpus = synthetic_corpus(layout, semantic_vocab=6, n_speakers=1, utts_per_speaker=4, frames=(20, 30))
    torch.manual_seed(0)
    m = ARBaseline(
        ARConfig(
            layout.codebook_sizes,
            layout.groups,
            (6,),
            pattern=pattern,
            d_model=32,
            n_layers=1,
            n_heads=2,
            dropout=0.0,
            prompt_layers=1,
        )
    )
    opt = torch.optim.AdamW(m.parameters(), lr=1e-2)
    b = sample_batch(corpus, [0, 1, 2, 3], 4, 24, 10, torch.Generator().manual_seed(0))
    first = None
    for _ in range(25):
        loss = m.loss(b.tokens, b.semantic, b.frame_mask, b.prompt, b.prompt_mask)
        first = float(loss.detach()) if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.3 * first


def test_default_baselines_have_the_parallel_models_width_depth_and_size():
    sizes, groups = (1024,) * 8, (tuple(range(8)),)
    par = AcousticModel(AcousticConfig(sizes, groups, (80,)))
    for pattern in ("flattened", "delay"):
        ar = ARBaseline(ARConfig(sizes, groups, (80,), pattern=pattern))
        assert ar.config.d_model == par.config.d_model and ar.config.n_layers == par.config.n_layers
        assert 0.8 < ar.num_parameters() / par.num_parameters() < 1.2
