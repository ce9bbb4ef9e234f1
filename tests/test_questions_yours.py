"""Dashboard 06's questions: refused before a commitment, then checked from the model and sequences the page shows,
against the GRU's equations written out here in NumPy."""

import html
import io

import numpy as np
import pytest
import torch
from questionkit import commit, fresh
from torch import nn

from grutools.apps.questions.yours import GATES, MARKED


@pytest.fixture(scope="module")
def app():
    from grutools.apps import YourModelDashboard

    return YourModelDashboard()  # opens on the shipped example


def status(question) -> str:
    return html.unescape(question.status.value)


def saved(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def gates_by_hand(weights: dict, sequences) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's GRU equations in NumPy: the update and reset gates along every sequence, stacked ``(steps, hidden)``."""
    w_ih, w_hh, b_ih, b_hh = (weights[k].detach().double().numpy() for k in
                              ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"))
    hidden = w_hh.shape[1]
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    zs, rs = [], []
    for x in sequences:
        h = np.zeros(hidden)
        for x_t in x:
            i, g = w_ih @ x_t + b_ih, w_hh @ h + b_hh
            r = sigmoid(i[:hidden] + g[:hidden])
            z = sigmoid(i[hidden:2 * hidden] + g[hidden:2 * hidden])
            n = np.tanh(i[2 * hidden:] + r * g[2 * hidden:])
            h = (1 - z) * n + z * h
            zs.append(z)
            rs.append(r)
    return np.array(zs), np.array(rs)


def expected_answers(app, weights):
    data = app.explorer.exploration.data
    z, r = gates_by_hand(weights, data.sequences)
    marks = np.concatenate([s[:, data.feature_names.index("marker")] for s in data.sequences]) > 0.5
    gap = z[marks].mean(0).mean() - z[~marks].mean(0).mean()
    marked = MARKED[0] if gap < -0.05 else MARKED[2] if gap > 0.05 else MARKED[1]
    scales = 1 / (1 - z.mean(0))
    share = lambda g: ((g < 0.1) | (g > 0.9)).mean()  # noqa: E731
    gate_gap = share(z) - share(r)
    gates = GATES[0] if gate_gap > 0.05 else GATES[1] if gate_gap < -0.05 else GATES[2]
    return {"marked": (marked, z[marks].mean()), "timescale": scales.max(), "saturation": (gates, share(z))}


def test_every_question_refuses_a_check_before_a_commitment(app):
    for name in app.question_names:
        question = fresh(app, name)
        assert question.check() is None and question.revealed is None
        assert question.explanation.value == "" and "Commit to a prediction first" in status(question)


def test_the_checks_read_the_shipped_model_on_the_example(app):
    app.use_example()
    weights = app.explorer.exploration.layer.state_dict()
    want = expected_answers(app, weights)
    found = commit(fresh(app, "marked"), MARKED[1]).check()
    assert found.answer == want["marked"][0]
    assert f"z is {want['marked'][1]:.2f} at the 10 marked steps" in found.explanation
    found = commit(fresh(app, "timescale"), 5.0).check()
    assert found.answer == pytest.approx(want["timescale"], rel=1e-4)
    assert f"= {want['timescale']:.1f} steps" in found.explanation
    found = commit(fresh(app, "saturation"), GATES[2]).check()
    assert found.answer == want["saturation"][0] and f"({want['saturation'][1]:.0%} saturated)" in found.explanation


def test_the_checks_follow_a_model_uploaded_in_its_place(app):
    app.use_example()
    shipped = commit(fresh(app, "timescale"), 5.0).check().answer
    torch.manual_seed(3)
    layer = nn.GRU(2, 16, batch_first=True)  # untrained: its gates sit near 0.5 whatever the step
    app.use_model("untrained.pt", saved(layer.state_dict()))
    assert app.explorer is not None and "untrained.pt" in app.model_status.value
    want = expected_answers(app, layer.state_dict())
    found = commit(fresh(app, "marked"), MARKED[0]).check()
    assert found.answer == want["marked"][0] and f"z is {want['marked'][1]:.2f}" in found.explanation
    found = commit(fresh(app, "timescale"), 5.0).check()
    assert found.answer == pytest.approx(want["timescale"], rel=1e-4) and abs(found.answer - shipped) > 1
    assert commit(fresh(app, "saturation"), GATES[0]).check().answer == want["saturation"][0]
    app.use_example()


def test_without_a_fitting_model_or_sequences_a_check_says_what_to_do_first(app):
    from grutools.apps import YourModelDashboard

    empty = YourModelDashboard(example=False)
    for name in empty.question_names:
        question = commit(fresh(empty, name), MARKED[0] if name == "marked" else
                             GATES[0] if name == "saturation" else 5.0)
        assert question.check() is None and question.revealed is None and question.explanation.value == ""
        assert "Press 'Try the example'" in status(question)
    torch.manual_seed(4)
    app.use_model("lstm.pt", saved(nn.LSTM(2, 8, batch_first=True).state_dict()))
    assert commit(fresh(app, "marked"), MARKED[0]).check() is None
    assert "is an LSTM, which has no update gate" in status(app.question("marked"))
    assert commit(fresh(app, "timescale"), 5.0).check() is not None  # an LSTM's forget gate has time scales too
    app.use_example()
    app.sequence_id.value = "id"
    app.use_csv("plain.csv", b"id,speed,load\na,1,2\na,2,3\nb,3,1\n")
    assert commit(fresh(app, "marked"), MARKED[0]).check() is None and "no 'marker' column" in status(app.question("marked"))
    app.use_example()
    assert commit(fresh(app, "marked"), MARKED[0]).check() is not None
