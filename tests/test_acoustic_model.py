"""Acoustic model: layout, shapes, padding isolation, prompt memory, checkpoints, the training script."""

import json
from types import SimpleNamespace

import pytest
import torch

from engine.acoustic.data import Utterance, read_corpora, read_corpus, synthetic_corpus, write_corpus
from engine.acoustic.layout import TokenLayout
from engine.acoustic.model import AcousticConfig, AcousticModel, load_model, save_checkpoint
from engine.acoustic.modules import local_attention
from engine.errors import UserInputError
from engine.train.blend_acoustic import blend
from engine.train.train_acoustic import main as train_main

LAYOUT = TokenLayout((16, 32, 32), ((0,), (1, 2)))


pytestmark = pytest.mark.usefixtures("one_thread")


def tiny(mode="cross", **kw):
    cfg = AcousticConfig(
        LAYOUT.codebook_sizes,
        LAYOUT.groups,
        (10,),
        d_model=32,
        n_layers=2,
        n_heads=2,
        conv_kernel=5,
        dropout=0.0,
        prompt_layers=1,
        prompt_mode=mode,
        **kw,
    )
    return AcousticModel(cfg).eval()


def test_layout_validates_and_reads_a_codec():
    codec = SimpleNamespace(n_q=3, codebook_sizes=(256, 4096, 1024), groups=((0,), (1, 2)))
    lay = TokenLayout.from_codec(codec)
    assert lay.n_q == 3 and lay.level_order == (0, 1, 2) and lay.codebook_sizes == (256, 4096, 1024)
    assert TokenLayout.from_dict(lay.to_dict()) == lay
    plain = TokenLayout.from_codec(SimpleNamespace(n_q=4, codebook_size=1024, groups=None))
    assert plain.groups == ((0, 1, 2, 3),)
    with pytest.raises(UserInputError, match="exactly once"):
        TokenLayout((8, 8, 8), ((0,), (1,)))


@pytest.mark.parametrize("mode,window", [("cross", 0), ("prefix", 0), ("cross", 4)])
def test_forward_shapes_and_padding_isolation(mode, window):
    torch.manual_seed(0)
    m = tiny(mode, attention_window=window)
    b, t = 2, 20
    tokens = torch.stack([torch.randint(0, k, (b, t)) for k in LAYOUT.codebook_sizes], 1)
    semantic = torch.randint(0, 10, (b, t))
    frame_mask = torch.arange(t)[None] < torch.tensor([20, 13])[:, None]
    prompt = torch.stack([torch.randint(0, k, (b, 8)) for k in LAYOUT.codebook_sizes], 1)
    pmask = torch.arange(8)[None] < torch.tensor([8, 5])[:, None]
    with torch.no_grad():
        mem = m.encode_prompt(prompt, pmask)
        out = m(tokens, semantic, mem, frame_mask)
        assert [tuple(o.shape) for o in out] == [(b, t, k) for k in LAYOUT.codebook_sizes]
        # Changing what lies in padding (frames and prompt) must not change any real frame's logits.
        tokens2, semantic2, prompt2 = tokens.clone(), semantic.clone(), prompt.clone()
        tokens2[1, :, 13:] = 0
        semantic2[1, 13:] = 9
        prompt2[1, :, 5:] = 1
        out2 = m(tokens2, semantic2, m.encode_prompt(prompt2, pmask), frame_mask)
        for o, o2 in zip(out, out2):
            assert torch.allclose(o[1, :13], o2[1, :13], atol=1e-5)
            assert torch.allclose(o[0], o2[0], atol=1e-5)
        # The same when another example of the batch has its condition dropped (guidance training).
        drop = torch.tensor([True, False])
        a = m(tokens, semantic, m.encode_prompt(prompt, pmask, drop=drop), frame_mask)
        c = m(tokens2, semantic2, m.encode_prompt(prompt2, pmask, drop=drop), frame_mask)
        assert torch.allclose(a[0][1, :13], c[0][1, :13], atol=1e-5)
        # ...while the prompt itself does change them.
        out3 = m(tokens, semantic, m.encode_prompt(prompt2[:, :, :4] * 0, pmask[:, :4]), frame_mask)
        assert not torch.allclose(out[0][0], out3[0][0], atol=1e-4)
        only = m(tokens, semantic, mem, frame_mask, levels=[1])
        assert only[0] is None and only[2] is None and torch.allclose(only[1], out[1])


def test_local_attention_equals_banded_full_attention():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 2, 23, 8, generator=g) for _ in range(3))
    valid = torch.arange(23)[None] < torch.tensor([23, 15])[:, None]
    i = torch.arange(23)
    band = (i[None] // 5 - i[:, None] // 5).abs() <= 1
    mask = band[None, None] & valid[:, None, None, :]
    mask = mask | torch.eye(23, dtype=torch.bool)  # every frame sees itself (padding rows stay finite)
    ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert torch.allclose(local_attention(q, k, v, 5, valid), ref, atol=1e-5)


def test_cross_attention_prompt_memory_is_projected_once_per_block():
    m = tiny()
    prompt = torch.zeros(1, 3, 6, dtype=torch.long)
    mem = m.encode_prompt(prompt)
    assert len(mem.kv) == 2 and mem.kv[0][0].shape == (1, 2, 7, 16)  # null slot + 6 prompt frames
    calls = []
    for blk in m.blocks:
        blk.cross.kv.register_forward_hook(lambda *a: calls.append(1))
    tokens = torch.zeros(1, 3, 5, dtype=torch.long)
    with torch.no_grad():
        for _ in range(3):
            m(tokens, torch.zeros(1, 5, dtype=torch.long), mem)
    assert calls == [], "iterations reuse the projected prompt keys/values"


def test_checkpoint_round_trip(tmp_path):
    m = tiny()
    save_checkpoint(tmp_path / "a.pt", m, {"note": "x"})
    m2, meta = load_model(tmp_path / "a.pt")
    assert meta == {"note": "x"} and m2.config == m.config
    tokens = torch.zeros(1, 3, 5, dtype=torch.long)
    sem = torch.ones(1, 5, dtype=torch.long)
    with torch.no_grad():
        a = m(tokens, sem, m.encode_prompt(None))[0]
        b = m2(tokens, sem, m2.encode_prompt(None))[0]
    assert torch.equal(a, b)
    save_checkpoint(tmp_path / "half.pt", m, half=True)
    m3, _ = load_model(tmp_path / "half.pt")
    assert next(m3.parameters()).dtype == torch.float32, "float16 on disk, float32 in memory"
    with torch.no_grad():
        c = m3(tokens, sem, m3.encode_prompt(None))[0]
    assert torch.allclose(a, c, atol=1e-2) and not torch.equal(a, c)
    with pytest.raises(UserInputError, match="does not exist"):
        load_model(tmp_path / "missing.pt")


def test_codebook_tied_model_scores_codes_by_distance_and_round_trips(tmp_path):
    torch.manual_seed(0)
    books = [torch.randn(k, 3) for k in LAYOUT.codebook_sizes]
    m = tiny(codebook_dims=(3, 3, 3))
    m.set_codebooks(books)
    for q, cb in enumerate(books):
        assert torch.allclose(m.codebook(q).pow(2).sum(1).mean(), torch.tensor(1.0))
        unit = m.codebook(q) / m.codebook(q).norm(dim=1, keepdim=True)
        assert torch.allclose(unit, cb / cb.norm(dim=1, keepdim=True), atol=1e-6)
    # With the free head and the projection zeroed, the head's u is its bias: the nearest code scores highest.
    with torch.no_grad():
        for head in m.heads:
            head.weight.zero_()
        m.code_out[1].weight.zero_()
        m.code_out[1].bias.copy_(m.codebook(1)[7])
        tokens, sem = torch.zeros(1, 3, 4, dtype=torch.long), torch.ones(1, 4, dtype=torch.long)
        logits = m(tokens, sem, m.encode_prompt(None))
    assert (logits[1].argmax(-1) == 7).all()
    # A token enters through its codebook vector (the tables zeroed here); the mask id adds no vector.
    with torch.no_grad():
        for table in m.level_emb:
            table.weight.zero_()
        emb = m.embed_tokens(torch.tensor([[[16], [32], [5]]]))[0, 0]
    assert torch.allclose(emb, m.code_in[2](m.codebook(2)[5]), atol=1e-6)
    save_checkpoint(tmp_path / "tied.pt", m)
    m2, _ = load_model(tmp_path / "tied.pt")
    assert m2.config.codebook_dims == (3, 3, 3) and torch.equal(m2.codebook(2), m.codebook(2))
    with pytest.raises(UserInputError, match="expects"):
        m.set_codebooks([torch.randn(5, 3)] * 3)
    with pytest.raises(UserInputError, match="one dimension per level"):
        tiny(codebook_dims=(3,))


def test_corpus_round_trip_and_training_on_it(tmp_path):
    corpus = synthetic_corpus(LAYOUT, semantic_vocab=10, n_speakers=2, utts_per_speaker=3, frames=(20, 30))
    write_corpus(tmp_path / "data", corpus.layout, corpus.semantic_vocab, corpus.utterances, shard_size=4)
    assert len(list((tmp_path / "data").glob("shard-*.pt"))) == 2
    back = read_corpus(tmp_path / "data")
    assert back.layout == LAYOUT and back.semantic_vocab == (10,) and len(back) == 6
    for a, b in zip(corpus.utterances, back.utterances, strict=True):
        assert (
            torch.equal(a.codes, b.codes) and torch.equal(a.semantic, b.semantic) and a.speaker == b.speaker
        )
    args = [
        "--data",
        str(tmp_path / "data"),
        "--out",
        str(tmp_path / "ck.pt"),
        "--steps",
        "2",
        "--d-model",
        "32",
        "--layers",
        "1",
        "--heads",
        "2",
        "--batch-size",
        "2",
        "--crop",
        "16",
        "--eval-batches",
        "1",
        "--threads",
        "1",
    ]
    assert train_main(args) == 0
    model, meta = load_model(tmp_path / "ck.pt")
    assert model.config.codebook_sizes == LAYOUT.codebook_sizes and meta["steps"] == 2
    with pytest.raises(UserInputError, match="meta.json"):
        read_corpus(tmp_path)


def test_joined_corpora_weigh_their_draws_and_name_the_real_people_heard(tmp_path):
    big = synthetic_corpus(LAYOUT, semantic_vocab=10, n_speakers=2, utts_per_speaker=3, frames=(20, 30))
    write_corpus(tmp_path / "big", LAYOUT, (10,), big.utterances)
    small = [
        Utterance(u.codes, u.semantic, name, f"{name}-{i}")
        for i, (u, name) in enumerate(zip(big.utterances[:2], ["asterisk-allison", "asterisk-allison~v1"]))
    ]
    write_corpus(tmp_path / "small", LAYOUT, (10,), small)
    joined, draws = read_corpora(f"{tmp_path / 'big'},{tmp_path / 'small'}*3")
    assert len(joined) == 8 and draws == [1] * 6 + [3, 3]
    assert joined.by_speaker["asterisk-allison"] == [6]
    args = [
        "--data",
        f"{tmp_path / 'big'},{tmp_path / 'small'}*3",
        "--out",
        str(tmp_path / "ck.pt"),
        "--steps",
        "1",
    ]
    args += ["--d-model", "32", "--layers", "1", "--heads", "2", "--batch-size", "2", "--crop", "16"]
    assert train_main([*args, "--eval-batches", "1", "--threads", "1"]) == 0
    meta = load_model(tmp_path / "ck.pt")[1]
    assert meta["trained_real_persons"] == ["asterisk-allison"]
    assert train_main(["--data", str(tmp_path / "big"), *args[2:], "--fresh", "--threads", "1"]) == 0
    assert load_model(tmp_path / "ck.pt")[1]["trained_real_persons"] == []
    with pytest.raises(UserInputError, match="whole number"):
        read_corpora(f"{tmp_path / 'big'}*0.5")
    write_corpus(tmp_path / "other", LAYOUT, (12,), small)
    with pytest.raises(UserInputError, match="another codec or phone set"):
        read_corpora(f"{tmp_path / 'big'},{tmp_path / 'other'}")


def test_training_script_runs_logs_and_resumes(tmp_path):
    out = tmp_path / "ck.pt"
    common = [
        "--synthetic",
        "--out",
        str(out),
        "--d-model",
        "32",
        "--layers",
        "1",
        "--heads",
        "2",
        "--batch-size",
        "4",
        "--crop",
        "40",
        "--prompt-frames",
        "20",
        "--log-every",
        "2",
        "--eval-batches",
        "1",
        "--warmup",
        "2",
        "--threads",
        "1",
    ]
    assert train_main(common + ["--steps", "4", "--save-every", "2"]) == 0
    first = torch.load(out, weights_only=False)
    assert first["step"] == 4 and "optimizer" in first and first["metadata"]["data"] == "synthetic"
    assert train_main(common + ["--steps", "6"]) == 0
    state = torch.load(out, weights_only=False)
    assert state["step"] == 6 and state["metadata"]["steps"] == 6
    assert set(state["metadata"]["quality"]) == {"soundstorm", "group", "spans"}
    lines = [json.loads(x) for x in out.with_suffix(".log.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines if "loss" in x] == [2, 4, 6], "resumed at step 4, not from scratch"
    assert len(lines[0]["acc_per_level"]) == 4
    assert train_main(["--out", str(tmp_path / "x.pt")]) == 2  # no data: a clear error, not a traceback
    # Export as far as it got: the training run's metadata, no optimizer state, a fresh evaluation.
    exported = tmp_path / "export.pt"
    assert train_main(common + ["--export", str(exported), "--export-only"]) == 0
    shipped = torch.load(exported, weights_only=False)
    assert "optimizer" not in shipped and shipped["metadata"]["steps"] == 6
    assert all(v.dtype == torch.float16 for v in shipped["model"].values() if v.is_floating_point())
    assert json.loads(exported.with_suffix(".json").read_text())["steps"] == 6
    assert shipped["metadata"]["command"] == state["metadata"]["command"]
    assert set(shipped["metadata"]["quality"]) == {"soundstorm", "group", "spans"}
    assert torch.load(out, weights_only=False)["step"] == 6, "exporting does not train"
    assert train_main(common + ["--export-only"]) == 2
    # A blend measured on data written to disk: the same masks as the export's evaluation, the same model.
    corpus = synthetic_corpus(
        TokenLayout((32, 64, 64, 64), ((0,), (1, 2, 3))), semantic_vocab=16, n_speakers=6, utts_per_speaker=10
    )
    write_corpus(tmp_path / "synth", corpus.layout, corpus.semantic_vocab, corpus.utterances)
    meta = blend(exported, exported, 0.5, tmp_path / "blend.pt", "blend", data=tmp_path / "synth")
    for scheme, figures in shipped["metadata"]["quality"].items():
        assert meta["quality"][scheme]["accuracy"] == pytest.approx(figures["accuracy"], abs=0.03)
