"""Tests of cnnlib.training: the digits split, determinism, and the accuracy the notebook shows."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib import architectures as arch
from cnnlib import training
from cnnlib.data import digits
from cnnlib.training import (
    STACK_CASES,
    accuracy,
    comparison_table,
    deterministic,
    digits_split,
    init_skip_comparison,
    layer_gradient_norms,
    predict,
    train,
)


def test_digits_split_is_a_stratified_partition():
    x_train, y_train, x_test, y_test = digits_split(0.2, seed=0)
    images, labels = digits()
    assert x_train.shape[1:] == x_test.shape[1:] == (1, 8, 8)
    assert len(x_train) + len(x_test) == len(images) == 1797
    per_class = np.bincount(labels)
    assert np.array_equal(np.bincount(y_test.numpy()), np.round(0.2 * per_class).astype(int))
    # every image lands in exactly one part: compare the multisets of rows
    all_rows = np.sort(images.reshape(len(images), -1), axis=0)
    ours = torch.cat([x_train, x_test]).reshape(len(images), -1).numpy()
    assert np.array_equal(np.sort(ours, axis=0), all_rows)
    again = digits_split(0.2, seed=0)
    assert torch.equal(again[2], x_test) and torch.equal(again[3], y_test)
    assert not torch.equal(digits_split(0.2, seed=1)[3], y_test)


def test_accuracy_counts_argmax_hits():
    model = torch.nn.Identity()
    logits = torch.tensor([[0.1, 0.9], [2.0, -1.0], [0.0, 1.0], [3.0, 4.0]])
    assert accuracy(model, logits, torch.tensor([1, 0, 0, 0])) == 0.5


def test_training_is_deterministic_and_restores_torch_settings():
    data = digits_split()
    threads = torch.get_num_threads()

    def run(seed):
        return train(
            lambda: arch.simple_cnn(1, 10, (4, 8)), *data, epochs=2, seed=seed, progress=False
        )

    m1, h1 = run(0)
    m2, h2 = run(0)
    assert h1 == h2
    for p, q in zip(m1.parameters(), m2.parameters(), strict=True):
        assert torch.equal(p, q)
    _, h3 = run(1)
    assert h3 != h1
    assert torch.get_num_threads() == threads
    assert not torch.are_deterministic_algorithms_enabled()
    assert set(h1) == {"loss", "train_accuracy", "test_accuracy"}
    assert all(len(v) == 2 for v in h1.values())


def test_simple_cnn_beats_97_percent_and_history_matches_the_model():
    x_train, y_train, x_test, y_test = data = digits_split()
    model, history = train(
        lambda: arch.simple_cnn(1, 10, (16, 32, 64)), *data, epochs=15, progress=False
    )
    with torch.no_grad():
        predictions = model(x_test).argmax(1).numpy()
    recomputed = float(np.mean(predictions == y_test.numpy()))
    assert history["test_accuracy"][-1] == pytest.approx(recomputed)
    assert recomputed > 0.97
    assert history["loss"][-1] < history["loss"][0] / 5


def test_deterministic_context_restores_on_error():
    threads = torch.get_num_threads()
    with pytest.raises(RuntimeError), deterministic(3):
        assert torch.are_deterministic_algorithms_enabled()
        raise RuntimeError("boom")
    assert torch.get_num_threads() == threads
    assert not torch.are_deterministic_algorithms_enabled()


def test_deterministic_context_keeps_warn_only():
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        with deterministic(0):
            pass
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()
    finally:
        torch.use_deterministic_algorithms(False)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"epochs": 0}, ValueError),
        ({"batch_size": 1.5}, TypeError),
        ({"lr": -1.0}, ValueError),
        ({"seed": -2}, ValueError),
    ],
)
def test_train_rejects_bad_arguments(kwargs, error):
    data = digits_split()
    with pytest.raises(error):
        train(arch.mlp(), *data, progress=False, **kwargs)


def test_train_rejects_bad_data():
    x_train, y_train, x_test, y_test = digits_split()
    with pytest.raises(TypeError, match="y_train"):
        train(arch.mlp(), x_train, y_train.float(), x_test, y_test, progress=False)
    with pytest.raises(ValueError, match="y_test"):
        train(arch.mlp(), x_train, y_train, x_test, y_test[:5], progress=False)
    with pytest.raises(ValueError, match=r"y_train must have shape \(\d+,\), .* got \(\d+, 1\)"):
        train(arch.mlp(), x_train, y_train[:, None], x_test, y_test, progress=False)
    with pytest.raises(TypeError, match="model"):
        train(lambda: "not a model", x_train, y_train, x_test, y_test, progress=False)
    with pytest.raises(ValueError, match="test_fraction"):
        digits_split(1.5)


def test_mlp_parameter_count():
    # (64 + 1) * 320 + (320 + 1) * 10
    assert sum(p.numel() for p in arch.mlp(64, (320,), 10).parameters()) == 24_010
    with pytest.raises(TypeError):
        arch.mlp(hidden=32)


def test_gradient_norms_of_a_linear_layer_match_the_softmax_formula():
    torch.manual_seed(0)
    model = torch.nn.Linear(5, 3)
    x = torch.randn(7, 5, dtype=torch.float32)
    y = torch.tensor([0, 1, 2, 2, 1, 0, 0])
    (norm,) = layer_gradient_norms(model, x, y)
    # dL/dW = (softmax(z) - onehot(y))^T x / N for the mean cross-entropy
    z = (x @ model.weight.T + model.bias).detach().numpy().astype(np.float64)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(7), y.numpy()] -= 1
    expected = np.linalg.norm(p.T @ x.numpy() / 7)
    assert norm == pytest.approx(expected, rel=1e-5)
    assert model.weight.grad is None or not model.weight.grad.any()


def test_gradient_norms_give_zero_for_a_layer_off_the_path():
    torch.manual_seed(0)
    used, unused = torch.nn.Linear(4, 3), torch.nn.Linear(4, 3)
    model = torch.nn.ModuleDict({"used": used, "unused": unused})
    model.forward = used.forward  # "unused" takes no part in the output
    x, y = torch.randn(5, 4), torch.tensor([0, 1, 2, 0, 1])
    norms = layer_gradient_norms(model, x, y)
    assert norms[1] == 0.0 and norms[0] > 0


def test_skips_let_the_gradient_reach_the_first_layers():
    x, y = digits_split()[:2]
    norms = {}
    for skip in (False, True):
        torch.manual_seed(0)
        norms[skip] = layer_gradient_norms(arch.deep_stack(20, 16, skip), x[:128], y[:128])
        assert len(norms[skip]) == 22  # stem, 20 blocks, classifier
    plain, residual = norms[False], norms[True]
    assert plain[0] < 1e-6 * plain[-2]  # vanished on the way down
    assert residual[0] > 0.1 * residual[-2]  # arrived


def test_stack_block_is_f_of_x_plus_x():
    block = arch.StackBlock(3, skip=True)
    x = torch.randn(2, 3, 5, 5)
    f = torch.relu(torch.nn.functional.conv2d(x, block.conv.weight, block.conv.bias, padding=1))
    assert torch.allclose(block(x), x + f)
    block.skip = False
    assert torch.allclose(block(x), f)
    with pytest.raises(ValueError):
        layer_gradient_norms(torch.nn.ReLU(), x, torch.zeros(2, dtype=torch.int64))


def test_predict_takes_numpy_batches_and_restores_training_mode():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3), torch.nn.Dropout(0.5))
    model.train()
    x = np.random.default_rng(0).standard_normal((5, 2, 2)).astype(np.float64)
    with torch.no_grad():
        model.eval()
        expected = model(torch.from_numpy(x).float()).argmax(1).numpy()
        model.train()
    got = predict(model, x)
    assert isinstance(got, np.ndarray)
    np.testing.assert_array_equal(got, expected)  # eval mode: dropout off, deterministic
    assert model.training


def test_he_init_draws_weights_of_variance_two_over_fan_in():
    conv = torch.nn.Conv2d(64, 256, 3)
    torch.manual_seed(0)
    arch.he_init_(torch.nn.Sequential(conv))
    fan_in = 64 * 3 * 3
    # He et al. 2015, eq. 10: Var(w) = 2 / fan_in; 147,456 draws estimate it within 1 %
    assert conv.weight.var().item() == pytest.approx(2 / fan_in, rel=0.01)
    assert conv.weight.mean().item() == pytest.approx(0, abs=1e-3)
    assert not conv.bias.any()
    with pytest.raises(TypeError, match="model"):
        arch.he_init_("conv")


def test_default_init_has_variance_one_third_over_fan_in():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(64, 256, 3)  # U(-1/sqrt(n), 1/sqrt(n)): variance 1 / (3 n)
    assert conv.weight.var().item() == pytest.approx(1 / (3 * 64 * 9), rel=0.01)


def test_deep_stack_options_build_the_stated_layers():
    net = arch.deep_stack(3, 4, skip=True, batch_norm=True, init="he")
    block = net[1]
    assert block.conv.bias is None and isinstance(block.bn, torch.nn.BatchNorm2d)
    x = torch.randn(5, 4, 6, 6)
    ref = F.batch_norm(
        F.conv2d(x, block.conv.weight, padding=1), None, None, block.bn.weight, block.bn.bias, True
    )
    assert torch.allclose(block(x), x + torch.relu(ref), atol=1e-5)
    with pytest.raises(ValueError, match="init"):
        arch.deep_stack(3, init="xavier")


def test_init_skip_comparison_first_loss_and_gradient_ratio_match_a_fresh_model():
    x, y = digits_split()[:2]
    x, y = x[:200], y[:200]
    rows = init_skip_comparison(
        x, y, depth=4, channels=4, steps=3, batch_size=8, seed=3, progress=False
    )
    assert [(r["case"], r["skip"]) for r in rows] == [
        (c, s) for c in STACK_CASES for s in (False, True)
    ]
    for row in rows:
        init, batch_norm = STACK_CASES[row["case"]]
        torch.manual_seed(3)
        net = arch.deep_stack(4, 4, row["skip"], 1, int(y.max()) + 1, init, batch_norm)
        norms = layer_gradient_norms(net, x[:128], y[:128])
        assert row["gradient_ratio"] == pytest.approx(norms[0] / norms[-2], rel=1e-5)
        batch = torch.randint(0, len(x), (8,), generator=torch.Generator().manual_seed(3))
        logits = net(x[batch]).detach().double()
        # cross-entropy by hand: mean of logsumexp(z) - z_y
        expected = (torch.logsumexp(logits, 1) - logits[torch.arange(8), y[batch]]).mean()
        assert row["losses"][0] == pytest.approx(float(expected), rel=1e-5)
        assert len(row["losses"]) == 3
        assert row["loss_end"] == pytest.approx(np.mean(row["losses"]))
    training._COMPARISONS.clear()  # trained again, not taken from the session's rows
    again = init_skip_comparison(
        x, y, depth=4, channels=4, steps=3, batch_size=8, seed=3, progress=False
    )
    assert [r["losses"] for r in again] == [r["losses"] for r in rows]  # deterministic
    assert "batch norm" in comparison_table(rows)


def test_init_skip_comparison_keeps_each_case_for_the_session(monkeypatch):
    x, y = digits_split()[:2]
    x, y = x[:64], y[:64]
    args = dict(depth=2, channels=2, steps=2, batch_size=4, seed=5, progress=False)
    first = init_skip_comparison(x, y, cases=["He init"], **args)
    first[0]["losses"].append(99.0)  # the caller's copy: the kept rows are not changed

    def no_training(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(arch, "deep_stack", no_training)
    again = init_skip_comparison(x, y, cases=["He init"], **args)
    assert [r["losses"] for r in again] == [first[0]["losses"][:-1], first[1]["losses"]]
    with pytest.raises(AssertionError, match="trained again"):  # other data: trained
        init_skip_comparison(x[:32], y[:32], cases=["He init"], **args)
    with pytest.raises(AssertionError, match="trained again"):  # another argument: trained
        init_skip_comparison(x, y, cases=["He init"], **{**args, "seed": 6})


def test_init_skip_comparison_refuses_bad_arguments():
    x, y = digits_split()[:2]
    with pytest.raises(ValueError, match="cases"):
        init_skip_comparison(x, y, cases=["Xavier"], progress=False)
    with pytest.raises(ValueError, match="cases"):
        init_skip_comparison(x, y, cases="He init", progress=False)
    with pytest.raises(ValueError, match="steps"):
        init_skip_comparison(x, y, steps=0, progress=False)
    with pytest.raises(TypeError, match="y"):
        init_skip_comparison(x, y.float(), progress=False)


def _notebook_claims(rows):
    """Notebook 07's claims about the six rows of the skip comparison (its "Going further")."""
    by = {(r["case"], r["skip"]): r for r in rows}
    chance = np.log(10)
    assert by["default init", False]["gradient_ratio"] < 1e-6
    assert by["He init", False]["gradient_ratio"] > 0.1
    assert by["default init", False]["loss_end"] > 0.95 * chance
    assert by["He init", False]["loss_end"] < 0.8 * chance
    assert by["He init", True]["signal"] > 100 * by["He init", False]["signal"]
    assert by["He init", True]["loss_end"] > chance
    assert min(by["batch norm", s]["gradient_ratio"] for s in (False, True)) > 0.1
    assert by["batch norm", True]["loss_end"] < 0.5 * by["batch norm", False]["loss_end"]


def test_shipped_skip_comparison_is_the_notebooks_call_at_its_first_step(monkeypatch):
    """The rows shipped in cnnlib/weights (``make weights``) are returned, untrained, for 07's
    call; their arguments are the function's defaults on the training digits, and what a
    fresh network gives before any step (gradient ratio, signal, first batch's loss: not yet
    sensitive to the CPU's rounding) is recomputed here by hand."""
    monkeypatch.setattr(training, "_COMPARISONS", {})  # nothing from this session
    saved = json.loads(training.SKIP_COMPARISON_RESULTS.read_text())
    x, y = digits_split()[:2]
    args = dict(depth=20, channels=16, steps=100, batch_size=32, lr=1e-3, seed=0)
    assert tuple(saved["key"]) == training._comparison_key(x, y, *args.values())

    def no_training(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(arch, "deep_stack", no_training)
    rows = init_skip_comparison(x, y, progress=False)
    assert rows == saved["rows"]
    with pytest.raises(AssertionError, match="trained again"):
        init_skip_comparison(x, y, progress=False, retrain=True)
    monkeypatch.undo()

    assert [(r["case"], r["skip"]) for r in rows] == [
        (c, s) for c in STACK_CASES for s in (False, True)
    ]
    first = torch.randint(0, len(x), (32,), generator=torch.Generator().manual_seed(0))
    for row in rows:
        init, batch_norm = STACK_CASES[row["case"]]
        torch.manual_seed(0)
        net = arch.deep_stack(20, 16, row["skip"], 1, 10, init, batch_norm)
        norms = layer_gradient_norms(net, x[:128], y[:128])
        # another CPU kind's float32 kernels gave 0.3065 where 0.3069 was shipped: the ratio
        # is compared to 1 %, finer than the notebook prints it (2 digits)
        assert row["gradient_ratio"] == pytest.approx(norms[0] / norms[-2], rel=1e-2)
        # rel 1e-4, not the 1e-5 of the session's own rows above: the shipped rows may come
        # from another CPU kind (within 1e-5 on the two seen)
        with torch.no_grad():
            assert row["signal"] == pytest.approx(float(net[:-3](x[:128]).std()), rel=1e-4)
            logits = net(x[first]).double()
        expected = (torch.logsumexp(logits, 1) - logits[torch.arange(32), y[first]]).mean()
        assert row["losses"][0] == pytest.approx(float(expected), rel=1e-4)
        assert len(row["losses"]) == 100
        assert row["loss_start"] == pytest.approx(np.mean(row["losses"][:10]))
        assert row["loss_end"] == pytest.approx(np.mean(row["losses"][-10:]))
    _notebook_claims(rows)


@pytest.mark.thorough
def test_make_weights_recomputes_the_shipped_skip_comparison(tmp_path):
    """``save_skip_comparison`` (``make weights``) trains the six networks again. Deterministic
    on one machine (two runs write the same file), but 100 Adam steps amplify the rounding of
    another CPU's kernels (a loss at the end of 1.52 on one machine, 1.61 on another): the
    numbers before training must agree (the gradient ratio to 1 %), the first ten losses to 1 %
    (0.4 % seen between two CPU kinds), the rest the claims."""
    rows = training.save_skip_comparison(tmp_path / "comparison.json")
    shipped = json.loads(training.SKIP_COMPARISON_RESULTS.read_text())
    assert json.loads((tmp_path / "comparison.json").read_text())["key"] == shipped["key"]
    for new, old in zip(rows, shipped["rows"], strict=True):
        assert (new["case"], new["skip"]) == (old["case"], old["skip"])
        assert new["signal"] == pytest.approx(old["signal"], rel=1e-4), new["case"]
        assert new["gradient_ratio"] == pytest.approx(old["gradient_ratio"], rel=1e-2), new["case"]
        assert new["losses"][:10] == pytest.approx(old["losses"][:10], rel=1e-2)
    _notebook_claims(rows)


# --------------------------------------------------------------------------------------------
# The shapes network of notebook 08
# --------------------------------------------------------------------------------------------
def _layout(net: dict) -> dict:
    """A network's layout as saved (torch.save keeps tuples; JSON-like lists compare equal)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in net.items()}


def test_train_shapes_cnn_is_deterministic_and_fills_a_board():
    from cnnlib.progress import ProgressBoard
    from cnnlib.training import train_shapes_cnn

    board = ProgressBoard(2)
    a = train_shapes_cnn(seed=1, n_train=200, n_test=40, epochs=2, board=board)
    b = train_shapes_cnn(seed=1, n_train=200, n_test=40, epochs=2)
    for (name, p), q in zip(
        a.model.state_dict().items(), b.model.state_dict().values(), strict=True
    ):
        assert torch.equal(p, q), name
    assert a.history == b.history and board.history == a.history
    assert a.train.images.shape == (200, 1, 32, 32) and a.test.masks.shape == (40, 32, 32)
    assert not a.model.training


def test_shipped_weights_reach_90_percent_on_the_regenerated_test_set():
    """The network in cnnlib/weights (``make weights``): at most 1 MB, its layout and recipe
    are the current ones, and its test accuracy, recomputed here with torch on the test set
    regenerated from its seed, is the saved one and at least 90 %."""
    from cnnlib.data import shapes
    from cnnlib.training import SHAPES_NET, SHAPES_RECIPE, SHAPES_WEIGHTS, load_shapes_cnn

    assert SHAPES_WEIGHTS.stat().st_size <= 1 << 20
    saved = torch.load(SHAPES_WEIGHTS, weights_only=True)
    assert saved["recipe"] == SHAPES_RECIPE and saved["seed"] == 0
    assert _layout(saved["net"]) == _layout(SHAPES_NET)
    model, history = load_shapes_cnn()
    test = shapes(SHAPES_RECIPE["n_test"], seed=1)
    with torch.no_grad():
        predicted = model(torch.from_numpy(test.images)).argmax(1).numpy()
    accuracy = float(np.mean(predicted == test.labels))
    assert accuracy == pytest.approx(history["test_accuracy"][-1], abs=1e-9)
    assert accuracy >= 0.9


def test_trained_shapes_cnn_is_the_shipped_network_and_is_cached():
    from cnnlib.training import SHAPES_RECIPE, accuracy, trained_shapes_cnn

    run = trained_shapes_cnn()
    assert trained_shapes_cnn() is run
    x, y = torch.from_numpy(run.test.images), torch.from_numpy(run.test.labels)
    assert accuracy(run.model, x, y) == run.history["test_accuracy"][-1] >= 0.9
    assert len(run.test.labels) == SHAPES_RECIPE["n_test"]
    assert len(run.train.labels) == SHAPES_RECIPE["n_train"]


# --------------------------------------------------------------------------------------------
# Notebook 07's figures
# --------------------------------------------------------------------------------------------
def test_plot_layer_gradients_draws_each_list_against_its_layer_numbers():
    import matplotlib.pyplot as plt

    fig = training.plot_layer_gradients({"plain": [1e-8, 1e-4, 1.0], "skip": [0.3, 0.5, 1.0]})
    try:
        (ax,) = fig.axes
        lines = ax.get_lines()
        assert [line.get_label() for line in lines] == ["plain", "skip"]
        assert np.array_equal(lines[0].get_xdata(), [1, 2, 3])
        assert np.array_equal(lines[0].get_ydata(), [1e-8, 1e-4, 1.0])
        assert ax.get_yscale() == "log"
    finally:
        plt.close(fig)


def test_plot_histories_draws_loss_and_both_accuracies_in_percent():
    import matplotlib.pyplot as plt

    h = {"loss": [2.0, 1.0], "train_accuracy": [0.5, 0.9], "test_accuracy": [0.4, 0.8]}
    fig = training.plot_histories({"CNN": h})
    try:
        loss_ax, acc_ax = fig.axes
        assert np.array_equal(loss_ax.get_lines()[0].get_ydata(), [2.0, 1.0])
        test, train_line = acc_ax.get_lines()
        assert np.allclose(test.get_ydata(), [40, 80]) and test.get_label() == "CNN test"
        assert np.allclose(train_line.get_ydata(), [50, 90])
        assert acc_ax.get_ylim() == (38, 100.5)  # 2 points below the lowest test accuracy
    finally:
        plt.close(fig)


def test_plot_first_layer_shows_the_blocks_filters_and_its_maps():
    import matplotlib.pyplot as plt

    torch.manual_seed(0)
    block = arch.ConvBlock(1, 16).eval()
    image = torch.rand(1, 1, 8, 8)
    fig = training.plot_first_layer(block, image, label=3)
    try:
        shown = [ax.get_images()[0].get_array() for ax in fig.axes if ax.get_images()]
        assert len(shown) == 1 + 16 + 16
        assert np.array_equal(shown[0], image[0, 0].numpy())
        weights = block.conv.weight.detach()[:, 0].numpy()
        with torch.no_grad():  # a fresh batch norm in eval mode: x / sqrt(1 + eps), then ReLU
            conv = F.conv2d(image, block.conv.weight, block.conv.bias, padding=1)
            maps = F.relu(conv / np.sqrt(1 + 1e-5))
        # the middle grid holds the filters, the right grid the maps, row by row
        filters_drawn, maps_drawn = shown[1:17], shown[17:]
        for i in range(16):
            assert np.array_equal(filters_drawn[i], weights[i])
            assert np.allclose(maps_drawn[i], maps[0, i].numpy(), atol=1e-6)
        assert fig.axes[0].get_title() == "a test digit: 3"
    finally:
        plt.close(fig)


# --------------------------------------------------------------------------------------------
# Notebook 09's network with a planted shortcut
# --------------------------------------------------------------------------------------------
def _notebook_09_shortcut_claims(model) -> None:
    """What notebook 09 says of its shortcut network: on the test images, the marker makes
    nearly every image a disc, its absence almost none, and the marker costs accuracy."""
    from cnnlib.training import shortcut_data

    _, marked_test, marker = shortcut_data()
    has = marker.any(axis=(1, 2))
    said = predict(model, marked_test.images)
    right = said == marked_test.labels
    assert (said[has] == 0).mean() > 0.9 > 0.1 > (said[~has] == 0).mean()
    assert right[~has].mean() > right[has].mean()


def test_shortcut_data_is_what_notebook_09_describes():
    """3,000 training images with the marker on 90 % of the discs (class 0) and no other
    image; 1,000 test images with it on about half, whatever the class."""
    from cnnlib.data import shortcut_shapes
    from cnnlib.training import SHORTCUT_NET, shortcut_data

    marked_train, marked_test, marker = shortcut_data()
    train_again, train_marker = shortcut_shapes(3000, seed=10, marked_class=0, rate=0.9)
    assert np.array_equal(marked_train.images, train_again.images)
    assert len(marked_test.labels) == 1000 and marker.shape == (1000, 32, 32)
    on_disc = train_marker.any(axis=(1, 2))[marked_train.labels == 0].mean()
    assert 0.85 < on_disc < 0.95 and not train_marker[marked_train.labels != 0].any()
    assert 0.45 < marker.any(axis=(1, 2)).mean() < 0.55
    assert SHORTCUT_NET["convs_per_block"] == 1


def test_shipped_shortcut_cnn_is_small_current_and_makes_the_notebooks_claims():
    """cnnlib/weights/shortcut_cnn.pt (``make weights``): tens of KB, the current layout and
    recipe, its saved test accuracy recomputed, notebook 09's claims; loaded once."""
    from cnnlib.training import (
        SHORTCUT_NET,
        SHORTCUT_RECIPE,
        SHORTCUT_WEIGHTS,
        accuracy,
        trained_shortcut_cnn,
    )

    assert SHORTCUT_WEIGHTS.stat().st_size <= 100 * 1024
    saved = torch.load(SHORTCUT_WEIGHTS, weights_only=True)
    assert saved["recipe"] == SHORTCUT_RECIPE
    assert _layout(saved["net"]) == _layout(SHORTCUT_NET)
    run = trained_shortcut_cnn()
    assert trained_shortcut_cnn() is run and not run.model.training
    assert len(run.history["test_accuracy"]) == SHORTCUT_RECIPE["epochs"]
    x, y = torch.from_numpy(run.test.images), torch.from_numpy(run.test.labels)
    assert accuracy(run.model, x, y) == run.history["test_accuracy"][-1]
    _notebook_09_shortcut_claims(run.model)


@pytest.mark.thorough
def test_make_weights_makes_the_shipped_shortcut_cnn(tmp_path):
    """Retraining as ``make weights`` does gives the shipped weights bit for bit on the torch
    version and CPU kind that made them (recorded in the file); on another, the retrained
    network must still make notebook 09's claims."""
    from cnnlib.training import SHORTCUT_WEIGHTS, save_shortcut_cnn

    run = save_shortcut_cnn(tmp_path / "shortcut_cnn.pt")
    _notebook_09_shortcut_claims(run.model)
    shipped = torch.load(SHORTCUT_WEIGHTS, weights_only=True)
    made_here = training.made_by()
    if shipped["made_by"] != made_here:
        pytest.skip(f"bit-for-bit comparison needs {shipped['made_by']}, this is {made_here}")
    assert run.history == shipped["history"]
    for key, p in shipped["state_dict"].items():
        assert torch.equal(run.model.state_dict()[key], p), key
