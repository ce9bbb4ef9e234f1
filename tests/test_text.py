"""Dashboard 10, a GRU reads: the corpus, bits per character, the Kneser-Ney baseline worked by hand, the patterns,
pattern_units, the sampler, the shipped model's figures, refusals, and the app."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

import grutools
from grutools.core.models import TokenModel
from grutools.core.resources import data_dir
from grutools.text import (
    OOV,
    VOCABULARY,
    KneserNey,
    bits_per_char,
    char_model,
    check_text,
    clean,
    decode,
    encode,
    load_text,
    pattern_units,
    regex_signal,
    sample_text,
    scan,
    unigram_bits,
)
from grutools.text.corpus import MODULES
from grutools.text.patterns import char_classes, correlations, nameless_share

CHECKPOINT = data_dir() / "checkpoints" / "text_gru.pt"


@pytest.fixture(scope="module")
def shipped():
    return grutools.load(CHECKPOINT).model


# -- the corpus


def test_the_corpus_is_split_by_file_and_ships_its_licence_and_source():
    assert not set(MODULES["train"]) & set(MODULES["test"]) and not set(MODULES["train"]) & set(MODULES["valid"])
    sizes = {split: len(load_text(split)) for split in ("train", "valid", "test")}
    assert 1_000_000 <= sum(sizes.values()) <= 3_000_000 and sizes["test"] > 100_000
    folder = data_dir() / "text"
    assert "PYTHON SOFTWARE FOUNDATION LICENSE" in (folder / "PYTHON_LICENSE.txt").read_text()
    assert "Python 3.11" in (folder / "SOURCE.txt").read_text()
    assert set(load_text("test")) <= set(VOCABULARY)


def test_characters_outside_the_vocabulary_become_one_stated_symbol():
    assert len(VOCABULARY) == 97 and VOCABULARY[-1] == OOV
    assert clean("café\tx") == f"caf{OOV}{OOV}x"
    assert decode(encode("café")) == f"caf{OOV}"
    with pytest.raises(ValueError, match="'é', '→'"):
        check_text("café → x", "the prompt")
    with pytest.raises(ValueError, match="the limit is 10"):
        check_text("x" * 11, "the prompt", 10)


# -- bits per character


def test_bits_per_char_is_the_log_softmax_of_each_next_character_by_hand():
    model = char_model("gru", 8, seed=0)
    text = "def f(x):\n    return x + 1\n"
    ids = encode(text)
    with torch.no_grad():
        logits = model(ids[None])[0]
    by_hand = 0.0
    for t in range(len(text) - 1):
        row = logits[t]
        by_hand -= float(row[ids[t + 1]] - torch.logsumexp(row, 0)) / math.log(2)
    assert bits_per_char(model, text) == pytest.approx(by_hand / (len(text) - 1), rel=1e-5)
    with pytest.raises(ValueError, match="at least two"):
        bits_per_char(model, "x")


def test_bits_per_char_carries_the_state_across_its_chunks():
    from grutools.text.language import next_logits

    model = char_model("gru", 8, seed=1)
    text = "abc(def) " * 30
    assert torch.allclose(next_logits(model, text, chunk=7), next_logits(model, text, chunk=10_000), atol=1e-5)


# -- the baselines


def test_kneser_ney_matches_the_probabilities_worked_out_by_hand():
    """On "abab", order 2. Bigram counts: ab 2, ba 1; discount D2 = n1 / (n1 + 2 n2) = 1 / 3. Unigram continuation
    counts: b after 1 distinct character, a after 1: D1 = 2 / (2 + 0) = 1, so the unigram level is uniform, 1/97.
    P(b | a) = (2 - 1/3) / 2 + (1/3) * 1/2 * 1/97; P(a | a) = 0 + (1/3) * 1/2 * 1/97."""
    model = KneserNey("abab", order=2)
    assert model.discount[2] == pytest.approx(1 / 3) and model.discount[1] == pytest.approx(1.0)
    assert model.probability("b", "a") == pytest.approx((2 - 1 / 3) / 2 + (1 / 3) / 2 / 97)
    assert model.probability("a", "a") == pytest.approx((1 / 3) / 2 / 97)
    assert model.probability("z", "q") == pytest.approx(1 / 97)  # a context never seen: the lower orders


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_kneser_ney_is_a_distribution_in_every_context(order):
    text = "if x:\n    y = (x + 1)\nelse:\n    y = [x]\n" * 3
    model = KneserNey(text, order=order)
    for history in ["", "if", "    y", "zzz", "x + "]:
        total = sum(model.probability(c, history) for c in VOCABULARY)
        assert total == pytest.approx(1.0, abs=1e-9), (order, history)


def test_the_baselines_order_as_they_should_and_the_shipped_numbers_are_recomputed():
    import json

    shipped = json.loads((data_dir() / "results" / "text_baselines.json").read_text())
    train, test = load_text("train"), load_text("test")
    assert unigram_bits(train, test) == pytest.approx(shipped["unigram"], rel=1e-9)
    assert KneserNey(train, 2).bits_per_char(test[:20_000]) > KneserNey(train, 5).bits_per_char(test[:20_000])
    assert shipped["unigram"] > shipped["bigram"] > shipped["kneser-ney-5"]


def test_the_shipped_gru_beats_kneser_ney_on_the_test_text_as_data_readme_says(shipped):
    import json

    test = load_text("test")
    value = bits_per_char(shipped, test)
    assert value == pytest.approx(grutools.load(CHECKPOINT).metadata["test_bpc"], rel=1e-4)
    kneser_ney = json.loads((data_dir() / "results" / "text_baselines.json").read_text())["kneser-ney-5"]
    assert value < kneser_ney
    assert f"{value:.3f} bits per character" in (data_dir() / "README.md").read_text()


# -- patterns


def test_patterns_on_hand_written_snippets():
    text = 'a = "x\\"#y"  # c\n    f(g[1])\n'
    p = scan(text)
    inside = "".join("s" if v else "." for v in p["string"])
    assert inside[:12] == '....sssssss.'  # the escaped quote does not end the string; its # starts no comment
    assert p["comment"][13:16].tolist() == [1, 1, 1] and p["comment"][8] == 0 and p["comment"][16] == 0
    assert p["depth"][text.index("1")] == 2 and p["depth"][text.index("f")] == 0
    assert p["indent"][text.index("f")] == 1 and p["indent"][0] == 0
    assert p["column"][text.index("f")] == 4
    triple = scan('s = """a\n#b"""\nx')
    assert triple["string"][9] == 1 and triple["comment"].sum() == 0 and triple["string"][-1] == 0


def test_a_regular_expression_of_ones_own_and_its_refusals():
    signal = regex_signal("def f(): return self.x", r"\bself\b")
    assert signal.tolist()[16:20] == [1, 1, 1, 1] and signal.sum() == 4
    with pytest.raises(ValueError, match="does not compile"):
        regex_signal("x", "([")
    with pytest.raises(ValueError, match="matches nothing"):
        regex_signal("x", "y")


def test_pattern_units_finds_a_unit_planted_in_a_made_up_trace():
    rng = np.random.default_rng(0)
    signal = (np.arange(500) % 17 < 5).astype(float)
    values = rng.normal(size=(500, 40))
    values[:, 23] = -0.8 * signal + 0.3 * rng.normal(size=500)  # follows it, falling
    ranked = pattern_units(values, signal)
    assert ranked[0][0] == 23 and ranked[0][1] < -0.7
    assert all(abs(r) < 0.25 for _, r in ranked[1:])
    assert correlations(np.ones((5, 2)), np.arange(5.0)).tolist() == [0.0, 0.0]  # a constant unit follows nothing
    share, best = nameless_share(values, {"planted": signal})
    assert share == pytest.approx(39 / 40) and best[23][0] == "planted"


def test_character_classes():
    assert [list(grutools.text.patterns.CLASSES)[k] for k in char_classes('a1 \n("+')] == [
        "letter", "digit", "space", "newline", "bracket", "quote", "other punctuation"]


# -- sampling


def test_the_sampler_is_deterministic_for_a_seed_and_greedy_at_temperature_zero(shipped):
    one = sample_text(shipped, "def ", 60, 1.0, seed=3)
    assert one == sample_text(shipped, "def ", 60, 1.0, seed=3) and one != sample_text(shipped, "def ", 60, 1.0, 4)
    greedy = sample_text(shipped, "import ", 30, 0)
    ids = encode("import ")
    text = ""
    for _ in range(30):  # by hand: the argmax of the whole model's logits after the text so far
        with torch.no_grad():
            logits = shipped(torch.cat([ids, encode(text)])[None])[0, -1]
        text += VOCABULARY[int(logits.argmax())]
    assert greedy == text
    with pytest.raises(ValueError, match="temperature"):
        sample_text(shipped, "x", 5, -1)
    with pytest.raises(ValueError, match="outside the model's vocabulary"):
        sample_text(shipped, "naïve", 5)


def test_an_lstm_character_model_samples_too():
    model = char_model("lstm", 8, seed=0)
    assert len(sample_text(model, "ab", 12, 1.0)) == 12


# -- the model file


def test_a_character_model_saves_loads_and_traces(tmp_path):
    model = TokenModel("gru", len(VOCABULARY), 8, embedding_size=4, seed=0)
    path = grutools.save(tmp_path / "m.pt", model, metadata={"test_bpc": 1.0})
    loaded = grutools.load(path).model
    x = encode("while True:")[None]
    assert isinstance(loaded, TokenModel) and torch.allclose(model(x), loaded(x))
    t = grutools.trace(loaded, x)
    assert t.update.shape == (1, 1, 11, 8)
    with pytest.raises(ValueError, match="0..96"):
        model(torch.tensor([[97]]))
    with pytest.raises(TypeError, match="integer tensor"):
        model(torch.zeros(1, 3))


# -- the app


@pytest.fixture(scope="module")
def app():
    from grutools.apps import TextExplorer

    return TextExplorer()


def plain(value: str) -> str:
    import html

    return html.unescape(re.sub("<[^>]+>", "", value))


def test_the_app_colours_a_passage_and_finds_units(app):
    assert "def _safe_repr" in plain(app.read.text.value)
    app.read.unit.value = 7
    assert "unit 7, hidden state" in app.read.text.value
    app.read.quantity.value = "update"
    assert "unit 7, update gate z" in app.read.text.value
    app.patterns.pattern.value = "depth"
    best = app.patterns.best
    assert f"Unit {best} follows" in app.patterns.best_text.value
    app.patterns.show_best.click()
    assert app.read.unit.value == best
    assert "follow none of the five built-in patterns" in app.patterns.view.children[-1].value


def test_bad_input_gets_a_sentence_and_the_page_carries_on(app):
    shown = app.read.text.value
    app.patterns.pattern.value = "regex"
    app.patterns.regex.value = "(["
    app.patterns.find.click()
    assert "does not compile" in app.patterns.status.value
    app.patterns.regex.value = "qqqzzz"
    app.patterns.find.click()
    assert "matches nothing in this passage" in app.patterns.status.value
    app.read.own.value = "naïve → code"
    app.read.use_own.click()
    assert "'ï', '→'" in plain(app.read.status.value) and app.read.text.value == shown
    app.read.own.value = "x" * 2001
    app.read.use_own.click()
    assert "the limit is 2,000" in app.read.status.value
    app.sample.prompt.value = "é"
    app.sample.write()
    assert "outside the model's vocabulary" in plain(app.sample.status.value)


def test_the_app_writes_at_temperature_zero_and_two(app):
    app.sample.prompt.value = "def "
    app.sample.temperature.value = 0.0
    app.sample.write()
    assert "most likely character" in app.sample.status.value
    app.sample.temperature.value = 2.0
    app.sample.write()
    assert "temperature 2" in app.sample.status.value and "def " in plain(app.sample.output.value)


def test_training_here_makes_the_gru_yours(app):
    app.train.steps.value = 500
    app.train.hidden.value = 64
    app.train.start(wait=True)
    assert app.read.model.value == "yours" and app.reader.model is app.reader.models["yours"]
    assert app.train.result["checked"][-1] == 500 and "bits per character" in app.train.findings.value


def test_explore_takes_the_character_model_with_its_characters_in_the_hover_labels(shipped):
    from grutools.yours.explore import Exploration

    exploration = Exploration(shipped, encode("if x:\n")[None])
    labels = exploration.data.step_labels(exploration.data.sequences[0])
    assert labels[:2] == [f"token {VOCABULARY.index('i')} 'i'", f"token {VOCABULARY.index('f')} 'f'"]
    assert "'\\n'" in labels[-1]


def test_dashboard_06_takes_the_character_model_and_a_csv_of_character_ids():
    from grutools.apps import YourModelDashboard

    dashboard = YourModelDashboard()
    dashboard.use_model("text_gru.pt", CHECKPOINT.read_bytes())
    assert "reading tokens" in dashboard.model_status.value and "0 to 96" in dashboard.model_status.value
    dashboard.sequence_id.value = ""
    ids = encode("def f(x):\n    return x\n").tolist()
    dashboard.use_csv("chars.csv", ("token\n" + "\n".join(map(str, ids)) + "\n").encode())
    data = dashboard.explorer.exploration.data
    assert data.step_labels(data.sequences[0])[:2] == [f"token {ids[0]} 'd'", f"token {ids[1]} 'e'"]
    dashboard.use_csv("bad.csv", b"token\n3\n500\n")
    assert "500" in dashboard.csv_status.value
