"""Training masks: the structure each decoder relies on, padding excluded, loss only on masked tokens."""

import pytest
import torch

from engine.acoustic.layout import TokenLayout
from engine.acoustic.masking import apply_mask, group_mask, soundstorm_mask, span_mask
from engine.errors import UserInputError

LAYOUT = TokenLayout((16, 32, 32, 32), ((0,), (1, 2, 3)))
PLAIN = TokenLayout.plain(4, 8)


pytestmark = pytest.mark.usefixtures("one_thread")


def _frame_mask(lengths, t):
    return torch.arange(t)[None] < torch.tensor(lengths)[:, None]


def _check_common(m, fm):
    pad = ~fm[:, None, :].expand_as(m.masked)
    assert bool(m.masked[pad].all()), "padded frames must be masked"
    assert not bool(m.loss[pad].any()), "padded frames must carry no loss"
    assert not bool((m.loss & ~m.masked).any()), "loss only on masked tokens"
    assert bool(m.loss.flatten(1).any(1).all()), "every example scores at least one token"


def test_soundstorm_mask_levels_after_q_masked_before_given():
    fm = _frame_mask([50, 37, 12, 50] * 8, 50)
    m = soundstorm_mask(fm, LAYOUT, torch.Generator().manual_seed(0))
    _check_common(m, fm)
    order = LAYOUT.level_order
    seen = set()
    for b in range(fm.shape[0]):
        valid = fm[b]
        levels = [q for q in range(LAYOUT.n_q) if bool(m.loss[b, q].any())]
        assert len(levels) == 1, "the loss sits on a single level"
        q = levels[0]
        seen.add(q)
        r = order.index(q)
        for later in order[r + 1 :]:
            assert bool(m.masked[b, later].all())
        for earlier in order[:r]:
            assert not bool(m.masked[b, earlier][valid].any())
        assert torch.equal(m.loss[b, q], m.masked[b, q] & valid)
    assert len(seen) > 2, "the level is drawn per example"


def test_group_mask_conditions_on_earlier_groups_and_scores_fine_levels_together():
    fm = _frame_mask([40, 25] * 20, 40)
    m = group_mask(fm, LAYOUT, torch.Generator().manual_seed(1), fine_prob=0.5)
    _check_common(m, fm)
    stages = set()
    for b in range(fm.shape[0]):
        valid = fm[b]
        scored = {q for q in range(LAYOUT.n_q) if bool(m.loss[b, q].any())}
        if scored == {0}:  # group 0 (single level): coarse stage, every later group hidden
            assert bool(m.masked[b, 1:].all())
            stages.add("g0")
        elif scored == {1}:  # group 1 coarse: group 0 given, finer levels of group 1 hidden
            assert not bool(m.masked[b, 0][valid].any())
            assert bool(m.masked[b, 2:].all())
            stages.add("g1 coarse")
        else:  # group 1 fine: coarse given, all finer levels masked and scored on every real frame
            assert scored == {2, 3}
            assert not bool(m.masked[b, :2][:, valid].any())
            assert torch.equal(m.loss[b, 2], valid) and torch.equal(m.loss[b, 3], valid)
            stages.add("g1 fine")
    assert stages == {"g0", "g1 coarse", "g1 fine"}


def _runs(row):
    runs, n = [], 0
    for v in row.tolist() + [False]:
        if v:
            n += 1
        elif n:
            runs.append(n)
            n = 0
    return runs


def test_span_mask_is_contiguous_spans_with_condition_dropout():
    fm = _frame_mask([60, 45, 9] * 100, 60)
    m = span_mask(fm, PLAIN, torch.Generator().manual_seed(2), span=3, drop_prob=0.2)
    _check_common(m, fm)
    for b in range(fm.shape[0]):
        q = int(m.loss[b].any(1).nonzero()[0])
        length = int(fm[b].sum())
        for run in _runs(m.loss[b, q]):
            assert run >= min(3, length), "every masked run is at least one whole span"
        assert bool(m.masked[b, q + 1 :].all()) and not bool(m.masked[b, :q][:, fm[b]].any())
    rate = m.drop_condition.float().mean().item()
    assert 0.12 < rate < 0.28
    fractions = m.loss.flatten(1).sum(1) / fm.sum(1)
    assert fractions.min() < 0.3 and fractions.max() > 0.7, "mask rates spread over the cosine schedule"


def test_masks_are_deterministic_for_a_seed_and_apply_mask_uses_mask_ids():
    fm = _frame_mask([30, 20], 30)
    a = span_mask(fm, LAYOUT, torch.Generator().manual_seed(5))
    b = span_mask(fm, LAYOUT, torch.Generator().manual_seed(5))
    assert torch.equal(a.masked, b.masked) and torch.equal(a.loss, b.loss)
    tokens = torch.zeros(2, 4, 30, dtype=torch.long)
    x = apply_mask(tokens, a.masked, LAYOUT.codebook_sizes)
    for q, k in enumerate(LAYOUT.codebook_sizes):
        assert bool((x[:, q][a.masked[:, q]] == k).all())
        assert bool((x[:, q][~a.masked[:, q]] == 0).all())


def test_level_weights_choose_which_level_is_trained():
    fm = _frame_mask([30] * 64, 30)
    gen = torch.Generator().manual_seed(0)
    m = soundstorm_mask(fm, LAYOUT, gen, level_weights=(0, 1, 0, 0))
    assert bool(m.loss[:, 1].any(1).all()) and not bool(m.loss[:, [0, 2, 3]].any())
    m = span_mask(fm, LAYOUT, gen, level_weights=(1, 3, 0, 0))
    counts = m.loss.any(2).sum(0)
    assert counts[2:].sum() == 0 and counts[1] > counts[0] > 0
    with pytest.raises(UserInputError, match="4 non-negative numbers"):
        soundstorm_mask(fm, LAYOUT, gen, level_weights=(1, 1))
