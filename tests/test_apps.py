"""Widget apps, driven from Python as a student would drive them with the mouse."""

import torch

from grutools.apps import GRUCellExplorer, TrainingDemo


def test_cell_explorer_reacts_to_its_controls():
    app = GRUCellExplorer(input_size=1, hidden_size=2, seed=0)
    before = app.current_step()
    first = app.step_figure.data[0].marker.color
    app.x_sliders[0].value = -1.5
    after = app.current_step()
    assert not torch.allclose(before.update, after.update)
    assert app.step_figure.data[0].marker.color != first  # the diagram was redrawn
    app.mode.value = "z = 1 (copy)"
    torch.testing.assert_close(app.current_step().hidden, app.h_prev)
    assert 'data-name="h">' + f"{app.h_prev[0].item():+.2f}" in app.equations.value
    app.hidden_size.value = 4
    assert len(app.h_sliders) == 4 and app.current_step().hidden.shape == (4,)
    app.make_memory_unit()
    assert app.gru.unit_weights(0).b_z == 6.0 and "Memory unit" in app.status.value
    app.count_hidden.value = 100
    assert "75%" in app.parameter_table.value and "✗" not in app.parameter_table.value


def test_sequence_view_follows_the_weights_not_the_step_inputs():
    app = GRUCellExplorer(input_size=1, hidden_size=2, seed=0)
    gru_state = lambda: tuple(app.sequence_figure.data[3].y)  # noqa: E731 (the GRU state trace)
    before = gru_state()
    app.x_sliders[0].value = 1.0
    assert gru_state() == before
    app.weight_sliders["b_z"].value = 5.0
    assert gru_state() != before


def test_bad_weight_shows_a_message_not_a_traceback():
    app = GRUCellExplorer()
    app.unit.value = 1
    app.gru.hidden_size = 1  # simulate an inconsistent state: the guard must catch the error
    app.weight_sliders["W_iz"].value = 1.0
    assert "grutools-error" in app.status.value and "unit must be" in app.status.value


def test_training_demo_trains_and_reports():
    app = TrainingDemo(length=20, steps=50)
    app.train(wait=True)
    assert "GRU: final loss" in app.status.value and app.progress.value == 50
    assert len(app.figure.data[2].x) == 50  # the GRU's curve
