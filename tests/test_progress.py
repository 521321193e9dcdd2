"""Tests of cnnlib.progress.ProgressBoard: it receives every epoch's numbers from ``train`` and
redraws in place, with no notebook frontend attached."""

import numpy as np
import pytest
import torch

from cnnlib import architectures as arch
from cnnlib.progress import ProgressBoard
from cnnlib.training import digits_split, train


def test_board_gets_every_epoch_from_train_and_draws_them():
    board = ProgressBoard(3)
    first_png = board.image.value
    figure = board.figure
    data = digits_split()
    _, history = train(arch.mlp(), *data, epochs=3, progress=False, board=board)
    assert board.epochs_done == [1, 2, 3]
    for name, values in history.items():
        assert board.history[name] == values
        x, y = board.lines[name].get_data()
        assert list(x) == [1, 2, 3] and np.allclose(y, values)
    assert board.figure is figure  # updated in place, never re-created
    assert board.image.value != first_png and board.image.value[:4] == b"\x89PNG"
    assert board.bar.value == 3 and board.bar.max == 3
    assert f"{history['test_accuracy'][-1]:.3f}" in board.label.value


def test_board_update_by_hand_and_partial_metrics():
    board = ProgressBoard(5, title="Shapes")
    board.update(1, {"loss": 1.5})
    board.update(2, {"loss": 0.5, "test_accuracy": 0.9})
    assert board.history["loss"] == [1.5, 0.5]
    assert np.isnan(board.history["test_accuracy"][0]) and board.history["test_accuracy"][1] == 0.9
    assert board.ax_loss.get_ylim()[1] == pytest.approx(1.65)
    assert board.bar.value == 2 and board.bar.description == "Shapes"


def test_board_displays_as_its_widget_and_refuses_bad_input():
    board = ProgressBoard(2)
    board._ipython_display_()  # outside a notebook: prints a repr, raises nothing
    with pytest.raises(ValueError, match="metrics has unknown names"):
        board.update(1, {"accuracy": 0.5})
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        ProgressBoard(0)
    with pytest.raises(TypeError, match="board must be a cnnlib.progress.ProgressBoard"):
        train(arch.mlp(), *digits_split(), epochs=1, progress=False, board=True)


def test_one_cycle_schedule_ends_near_zero_learning_rate(monkeypatch):
    data = digits_split()
    model = arch.mlp()
    seen = []
    original = torch.optim.lr_scheduler.OneCycleLR.step

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        seen.append(self.optimizer.param_groups[0]["lr"])

    monkeypatch.setattr(torch.optim.lr_scheduler.OneCycleLR, "step", spy)
    train(model, *data, epochs=2, lr=0.01, progress=False, schedule="one_cycle")
    steps = 2 * -(-len(data[0]) // 64)
    assert len(seen) == steps + 1  # the scheduler steps once when it is built
    assert max(seen) == pytest.approx(0.01, rel=0.05) and seen[-1] < 0.01 / 100
    with pytest.raises(ValueError, match="schedule must be one of"):
        train(model, *data, epochs=1, progress=False, schedule="cosine")


def test_board_picture_keeps_its_own_size_in_a_flex_column():
    """As the views' pictures: without ``align_self`` a flex column (a slide's output area)
    stretched the 440 px plot to the full width, taller than the slide."""
    layout = ProgressBoard(2).image.layout
    assert layout.align_self == "flex-start" and layout.max_width == "100%"
