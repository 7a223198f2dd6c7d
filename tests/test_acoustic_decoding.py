"""Parallel decoders: determinism, fill-once semantics, trace consistency, padding, and a learnable toy task."""

import itertools
import math

import pytest
import torch

from engine.acoustic.data import sample_batch, synthetic_corpus
from engine.acoustic.decoding import DECODERS, decode_group, decode_soundstorm, decode_spans, pad_turns
from engine.acoustic.layout import TokenLayout
from engine.acoustic.masking import make_mask
from engine.acoustic.model import AcousticConfig, AcousticModel
from engine.acoustic.objective import masked_prediction_loss
from engine.acoustic.trace import UNKNOWN
from engine.errors import UserInputError

LAYOUT = TokenLayout((16, 32, 32), ((0,), (1, 2)))
SEM_VOCAB = 12


pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_model(seed=0, prompt_mode="cross", n_layers=2):
    torch.manual_seed(seed)
    cfg = AcousticConfig(
        LAYOUT.codebook_sizes,
        LAYOUT.groups,
        (SEM_VOCAB,),
        d_model=48,
        n_layers=n_layers,
        n_heads=4,
        conv_kernel=5,
        dropout=0.0,
        prompt_layers=1,
        prompt_mode=prompt_mode,
    )
    return AcousticModel(cfg)


@pytest.fixture(scope="module")
def corpus():
    return synthetic_corpus(
        LAYOUT, semantic_vocab=SEM_VOCAB, n_speakers=2, utts_per_speaker=6, frames=(30, 60)
    )


@pytest.fixture(scope="module")
def trained(corpus):
    """A tiny model trained on the toy task with all three masking schemes mixed (about 3 s)."""
    model = tiny_model(n_layers=1)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3)
    gen = torch.Generator().manual_seed(0)
    idx = list(range(len(corpus)))
    for step in range(100):
        b = sample_batch(corpus, idx, 12, 40, 24, gen)
        scheme = ("soundstorm", "group", "spans")[step % 3]
        mask = make_mask(scheme, b.frame_mask, LAYOUT, gen, drop_prob=0.1)
        out = masked_prediction_loss(model, b.tokens, b.semantic, b.frame_mask, b.prompt, b.prompt_mask, mask)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
    return model.eval()


def _inputs(seed=0, lengths=(23, 17, 9)):
    g = torch.Generator().manual_seed(seed)
    t = max(lengths)
    semantic = torch.randint(0, SEM_VOCAB, (len(lengths), t), generator=g)
    prompt = torch.stack(
        [torch.randint(0, k, (len(lengths), 7), generator=g) for k in LAYOUT.codebook_sizes], 1
    )
    return semantic, torch.tensor(lengths), prompt, torch.tensor([7, 5, 6])


@pytest.mark.parametrize(
    "name,mode", [(n, "cross") for n in DECODERS] + [("soundstorm", "prefix"), ("spans", "prefix")]
)
def test_decoder_fills_each_real_position_once_and_respects_padding(name, mode):
    model = tiny_model(prompt_mode=mode)
    semantic, lengths, prompt, plen = _inputs()
    encoder_runs = []
    if mode == "cross":
        model.prompt_blocks[0].register_forward_hook(lambda *a: encoder_runs.append(1))
    calls = []
    res = DECODERS[name](
        model, semantic, lengths, prompt, plen, seed=3, callback=lambda i, n: calls.append((i, n))
    )
    tr = res.trace
    valid = (torch.arange(semantic.shape[1])[None] < lengths[:, None])[:, None, :].expand_as(res.tokens)
    fixed_times = torch.stack([s.fixed for s in tr.steps]).sum(0)
    assert torch.equal(fixed_times, valid.long()), "each real position fixed exactly once, padding never"
    assert bool((res.tokens[~valid] == UNKNOWN).all()) and bool((res.tokens[valid] >= 0).all())
    sizes = torch.tensor(LAYOUT.codebook_sizes)[None, :, None].expand_as(res.tokens)
    assert bool((res.tokens[valid] < sizes[valid]).all())
    # Once fixed, a token never changes; before, it is UNKNOWN.
    order = tr.fill_order()
    for i, s in enumerate(tr.steps):
        done = (order <= i) & (order >= 0)
        assert torch.equal(s.tokens[done].long(), res.tokens[done])
        assert bool((s.tokens[~done] == UNKNOWN).all())
        assert bool(((s.confidence >= 0) & (s.confidence <= 1)).all())
        assert bool((s.confidence[~valid] == 0).all())
        assert set(s.fixed.nonzero()[:, 1].tolist()) <= set(s.levels)
    assert calls == [(i + 1, len(tr)) for i in range(len(tr))]
    if mode == "cross":
        assert encoder_runs == [1], "the prompt is encoded once per decode, not once per iteration"


def test_decoders_are_deterministic_for_a_seed():
    model = tiny_model()
    semantic, lengths, prompt, plen = _inputs()
    for fn in (decode_soundstorm, decode_group, decode_spans):
        a = fn(model, semantic, lengths, prompt, plen, seed=11)
        b = fn(model, semantic, lengths, prompt, plen, seed=11)
        c = fn(model, semantic, lengths, prompt, plen, seed=12)
        assert torch.equal(a.tokens, b.tokens)
        assert all(torch.equal(x.confidence, y.confidence) for x, y in zip(a.trace.steps, b.trace.steps))
        assert not torch.equal(a.tokens, c.tokens)


def test_soundstorm_fixed_counts_follow_the_cosine_schedule():
    model = tiny_model()
    semantic, lengths, prompt, plen = _inputs()
    steps = (5, 2, 1)
    res = decode_soundstorm(model, semantic, lengths, prompt, plen, steps=steps, seed=0)
    counts = res.trace.fixed_counts()
    assert counts.shape == (sum(steps), 3) and res.trace.forward_passes == sum(steps)
    row = 0
    for n in steps:
        for b, length in enumerate(lengths.tolist()):
            remaining = length
            for i in range(n):
                target = 0 if i == n - 1 else math.floor(length * math.cos(math.pi / 2 * (i + 1) / n))
                want = min(max(remaining - target, 1), remaining)
                assert int(counts[row + i, b]) == want
                remaining -= want
        row += n


def test_group_decoder_fixes_coarse_iteratively_then_finer_levels_in_one_pass():
    model = tiny_model()
    semantic, lengths, prompt, plen = _inputs()
    res = decode_group(model, semantic, lengths, prompt, plen, steps=4, seed=0)
    levels = [s.levels for s in res.trace.steps]
    assert levels == [(0,)] * 4 + [(1,)] * 4 + [(2,)]
    last = res.trace.steps[-1].fixed
    assert torch.equal(last[:, 2].sum(1), lengths) and not bool(last[:, :2].any())


def test_span_decoder_fixes_whole_spans_and_anneals_guidance():
    model = tiny_model()
    semantic, lengths, prompt, plen = _inputs()
    res = decode_spans(model, semantic, lengths, prompt, plen, steps=6, guidance=4.0, seed=0)
    ws = [s.guidance for s in res.trace.steps]
    assert ws[0] == pytest.approx(4.0) and ws[-1] == pytest.approx(1.0)
    assert all(a >= b for a, b in itertools.pairwise(ws))
    assert res.trace.forward_passes == len(ws) + sum(w > 1 for w in ws)
    for s in res.trace.steps[:5]:
        fixed = s.fixed[:, 0]
        for b in range(3):
            chunks = fixed[b, : (int(lengths[b]) // 3) * 3].view(-1, 3)
            assert bool((chunks.all(1) | ~chunks.any(1)).all()), "spans are fixed whole"


def test_bad_inputs_raise_user_errors():
    model = tiny_model()
    semantic, lengths, prompt, plen = _inputs()
    with pytest.raises(UserInputError, match="Semantic"):
        decode_soundstorm(model, semantic + SEM_VOCAB, lengths, prompt, plen)
    with pytest.raises(UserInputError, match="steps"):
        decode_soundstorm(model, semantic, lengths, prompt, plen, steps=(4, 1))
    with pytest.raises(UserInputError, match="lengths"):
        decode_group(model, semantic, lengths + 100, prompt, plen)
    with pytest.raises(UserInputError, match="prompt"):
        decode_spans(model, semantic, lengths, prompt[:, :2], plen)


@pytest.mark.parametrize("name", list(DECODERS))
def test_trained_toy_model_is_decoded_correctly(trained, corpus, name):
    b = sample_batch(corpus, list(range(len(corpus))), 4, 60, 24, torch.Generator().manual_seed(9))
    lengths = b.frame_mask.sum(1)
    res = DECODERS[name](trained, b.semantic, lengths, b.prompt, b.prompt_mask.sum(1), seed=1)
    valid = b.frame_mask[:, None, :].expand_as(b.tokens)
    acc = (res.tokens == b.tokens)[valid].float().mean().item()
    assert acc > 0.9, f"{name}: accuracy {acc:.3f} (chance ~0.05)"


def test_pad_turns_batches_turns_and_prompts_of_different_lengths():
    model = tiny_model()
    semantic, lengths = pad_turns([torch.full((n,), 3) for n in (5, 9, 2)])
    prompt, plen = pad_turns([torch.ones(3, p, dtype=torch.long) for p in (4, 6, 6)])
    assert semantic.shape == (3, 9) and lengths.tolist() == [5, 9, 2]
    assert prompt.shape == (3, 3, 6) and plen.tolist() == [4, 6, 6] and int(prompt[0, :, 4:].sum()) == 0
    res = decode_group(model, semantic, lengths, prompt, plen, steps=2)
    assert (res.tokens >= 0).sum((1, 2)).tolist() == [15, 27, 6]
    with pytest.raises(UserInputError, match="No turns"):
        pad_turns([])
