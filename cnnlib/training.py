"""Training small networks on the 8x8 digits, on the CPU, deterministically.

``digits_split()`` gives a fixed, stratified train/test split of ``cnnlib.data.digits()``;
``train()`` runs mini-batch Adam on the cross-entropy loss with a progress bar and returns
the history (loss and accuracies per epoch). With the same seed, two runs give the same
numbers bit for bit: the shuffling comes from a seeded generator, torch runs its
deterministic kernels on one thread, and the model's initial weights are drawn under
``seed`` when ``model`` is a builder (a callable) rather than a built module.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import inspect
import json
import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib._validate import check_bool, check_choice, check_int
from cnnlib.data import Shapes
from cnnlib.progress import ProgressBoard

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "digits_split",
    "predict",
    "accuracy",
    "train",
    "deterministic",
    "layer_gradient_norms",
    "STACK_CASES",
    "init_skip_comparison",
    "SKIP_COMPARISON_RESULTS",
    "save_skip_comparison",
    "comparison_table",
    "plot_layer_gradients",
    "plot_histories",
    "plot_first_layer",
    "ShapesRun",
    "train_shapes_cnn",
    "trained_shapes_cnn",
    "save_shapes_weights",
    "load_shapes_cnn",
    "SHORTCUT_NET",
    "SHORTCUT_RECIPE",
    "SHORTCUT_WEIGHTS",
    "shortcut_data",
    "train_shortcut_cnn",
    "trained_shortcut_cnn",
    "save_shortcut_cnn",
    "made_by",
]


def digits_split(
    test_fraction: float = 0.2, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split the 1,797 digits into ``(x_train, y_train, x_test, y_test)``, stratified by class.

    Images are ``(N, 1, 8, 8)`` float32 in [0, 1]; within each class a seeded permutation puts
    ``round(test_fraction * n_class)`` images in the test set.
    """
    from cnnlib.data import digits

    if not isinstance(test_fraction, float | int) or not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be a number between 0 and 1, got {test_fraction!r}")
    seed = check_int("seed", seed, 0)
    images, labels = digits()
    rng = np.random.default_rng(seed)
    test = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        test[idx[: round(test_fraction * len(idx))]] = True
    x = torch.from_numpy(images).unsqueeze(1)
    y = torch.from_numpy(labels)
    return x[~test], y[~test], x[test], y[test]


@contextlib.contextmanager
def deterministic(seed: int = 0) -> Iterator[None]:
    """Seed torch, use only deterministic kernels and one thread.

    On exit the thread count and the deterministic-algorithms setting (with its ``warn_only``)
    are restored; torch's random generator stays seeded, so what runs after is reproducible too.
    """
    seed = check_int("seed", seed, 0)
    threads = torch.get_num_threads()
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    was_warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(was_deterministic, warn_only=was_warn_only)
        torch.set_num_threads(threads)


def predict(model: nn.Module, x: torch.Tensor | np.ndarray) -> np.ndarray:
    """Predicted labels ``argmax_k model(x)[n, k]`` of a batch (model in eval mode, no grad).

    ``x`` may be a NumPy array (as ``cnnlib.equivariance.shift_consistency`` passes it); it is
    converted to float32. The model's training mode is restored afterwards.
    """
    x = torch.as_tensor(x, dtype=torch.float32)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(x).argmax(1).numpy()
    finally:
        model.train(was_training)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of ``x`` whose arg-max logit is the label ``y`` (model in eval mode)."""
    return float(np.mean(predict(model, x) == np.asarray(y)))


def train(
    model: nn.Module | Callable[[], nn.Module],
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    epochs: int = 20,
    batch_size: int = 64,
    lr: float = 1e-2,
    seed: int = 0,
    progress: bool = True,
    desc: str | None = None,
    board: ProgressBoard | None = None,
    schedule: str = "constant",
) -> tuple[nn.Module, dict[str, list[float]]]:
    """Train with Adam on ``loss = mean_i -log softmax(f(x_i))[y_i]``; return ``(model, history)``.

    ``model`` is a module, or a builder called under ``seed`` (so the initial weights
    are fixed too). ``history`` has one entry per epoch: ``"loss"`` (mean training loss),
    ``"train_accuracy"`` and ``"test_accuracy"``. ``progress`` shows a tqdm bar (the notebook
    widget in Jupyter) with the latest loss and test accuracy. ``board`` (a
    ``cnnlib.progress.ProgressBoard``) receives each epoch's three numbers as it ends.
    ``schedule="one_cycle"`` varies the learning rate per batch as torch's ``OneCycleLR`` with
    peak ``lr`` (warm up, then anneal to almost 0); ``"constant"`` keeps ``lr``.
    """
    from tqdm.auto import tqdm

    epochs = check_int("epochs", epochs, 1)
    batch_size = check_int("batch_size", batch_size, 1)
    if not isinstance(lr, float | int) or not lr > 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    schedule = check_choice("schedule", schedule, ("constant", "one_cycle"))
    if board is not None and not isinstance(board, ProgressBoard):
        raise TypeError(
            f"board must be a cnnlib.progress.ProgressBoard, got {type(board).__name__}"
        )
    for name, t in (("x_train", x_train), ("x_test", x_test)):
        if not isinstance(t, torch.Tensor) or not t.is_floating_point():
            raise TypeError(f"{name} must be a floating-point torch.Tensor")
    for name, t, x in (("y_train", y_train, x_train), ("y_test", y_test, x_test)):
        if not isinstance(t, torch.Tensor) or t.dtype != torch.int64:
            raise TypeError(f"{name} must be an int64 torch.Tensor of class labels")
        if t.shape != x.shape[:1]:
            raise ValueError(
                f"{name} must have shape ({len(x)},), one label per image, got {tuple(t.shape)}"
            )
    history: dict[str, list[float]] = {"loss": [], "train_accuracy": [], "test_accuracy": []}
    with deterministic(seed):
        if not isinstance(model, nn.Module):
            model = model()
        if not isinstance(model, nn.Module):
            raise TypeError("model must be a torch.nn.Module or a function that builds one")
        generator = torch.Generator().manual_seed(seed)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        steps = epochs * -(-len(x_train) // batch_size)
        scheduler = (
            torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
            if schedule == "one_cycle"
            else None
        )
        bar = tqdm(range(epochs), desc=desc, disable=not progress, leave=True)
        for epoch in bar:
            model.train()
            order = torch.randperm(len(x_train), generator=generator)
            total = 0.0
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                loss = F.cross_entropy(model(x_train[batch]), y_train[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                total += loss.item() * len(batch)
            history["loss"].append(total / len(order))
            history["train_accuracy"].append(accuracy(model, x_train, y_train))
            history["test_accuracy"].append(accuracy(model, x_test, y_test))
            bar.set_postfix(loss=f"{history['loss'][-1]:.3f}", test=history["test_accuracy"][-1])
            if board is not None:
                board.update(epoch + 1, {name: values[-1] for name, values in history.items()})
        bar.close()
    model.eval()
    return model, history


def layer_gradient_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> list[float]:
    """``||dL/dW_l||_F`` for every convolution and linear layer ``l`` of ``model``, input first,
    with ``L`` the mean cross-entropy of ``model(x)`` against ``y`` (one backward pass).

    A layer whose weight gets no gradient (frozen, or not on the path to the output) gives 0.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    layers = [m for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    if not layers:
        raise ValueError("model has no convolution or linear layer")
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    norms = [0.0 if m.weight.grad is None else float(m.weight.grad.norm()) for m in layers]
    model.zero_grad()
    return norms


#: ``init_skip_comparison``'s cases: name -> (``init``, ``batch_norm``) of ``deep_stack``.
STACK_CASES = {
    "default init": ("default", False),
    "He init": ("he", False),
    "batch norm": ("default", True),
}


#: ``init_skip_comparison``'s rows, per (data, arguments, case), for the Python session
_COMPARISONS: dict[tuple, list[dict[str, object]]] = {}

#: the rows of ``init_skip_comparison(*digits_split()[:2])`` (default arguments, every case),
#: shipped with cnnlib: written by ``save_skip_comparison`` (``make weights``), read by
#: ``init_skip_comparison`` for those data and arguments unless ``retrain``
SKIP_COMPARISON_RESULTS = Path(__file__).with_name("weights") / "init_skip_comparison.json"


def _comparison_key(
    x: torch.Tensor,
    y: torch.Tensor,
    depth: int,
    channels: int,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
) -> tuple:
    """What ``init_skip_comparison``'s rows depend on: a SHA-256 of the data, the arguments."""
    data = hashlib.sha256()
    for t in (x, y):
        data.update(repr((t.dtype, tuple(t.shape))).encode())
        data.update(t.detach().cpu().contiguous().numpy().tobytes())
    return (data.hexdigest(), depth, channels, steps, batch_size, float(lr), seed)


@functools.cache
def _shipped_comparison() -> dict[tuple, list[dict[str, object]]]:
    """The rows of ``SKIP_COMPARISON_RESULTS`` per (data, arguments, case), as ``_COMPARISONS``
    keys them; empty when the file is missing. Read once per session."""
    if not SKIP_COMPARISON_RESULTS.exists():
        return {}
    saved = json.loads(SKIP_COMPARISON_RESULTS.read_text())
    key = tuple(saved["key"])
    shipped: dict[tuple, list[dict[str, object]]] = {}
    for row in saved["rows"]:
        shipped.setdefault((*key, row["case"]), []).append(row)
    return shipped


def init_skip_comparison(
    x: torch.Tensor,
    y: torch.Tensor,
    depth: int = 20,
    channels: int = 16,
    steps: int = 100,
    batch_size: int = 32,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool = True,
    cases: Sequence[str] | None = None,
    retrain: bool = False,
) -> list[dict[str, object]]:
    """Train ``deep_stack(depth, channels)`` in several versions for the same ``steps``, compare.

    The versions are the ``cases`` (names from ``STACK_CASES``, all three by default:
    PyTorch's default initialisation, He initialisation, batch normalisation), each without
    and with skip connections. Each
    network is built under ``seed`` and measured on ``x[:128]`` at initialisation:
    ``"gradient_ratio"`` is ``||dL/dW_stem|| / ||dL/dW_last conv||`` (``layer_gradient_norms``)
    and ``"signal"`` the standard deviation of the last block's output. It is then trained
    with Adam (``lr``) on ``steps`` mini-batches of ``batch_size`` images drawn (with
    replacement) by a generator seeded with ``seed``, the same batches for every version;
    ``"losses"`` holds the cross-entropy of every step's batch, ``"loss_start"`` and
    ``"loss_end"`` the mean over the first and the last ``min(10, steps)`` steps. One row
    per version, with ``"case"`` and ``"skip"``; deterministic (``deterministic(seed)``).

    Deterministic, so each case's two rows are kept for the Python session: a call with the
    same data and arguments (a cell run again) returns copies of them without training again.
    For the training digits of ``digits_split()`` and the default arguments, the rows shipped
    with cnnlib (``SKIP_COMPARISON_RESULTS``, written by ``save_skip_comparison``, the same
    computation) are returned without training; ``retrain=True`` trains every case again
    (a few seconds per case) and keeps the new rows for the session.
    """
    from tqdm.auto import tqdm

    from cnnlib.architectures import deep_stack

    depth = check_int("depth", depth, 1)
    channels = check_int("channels", channels, 1)
    steps = check_int("steps", steps, 1)
    batch_size = check_int("batch_size", batch_size, 1)
    if not isinstance(lr, float | int) or not lr > 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.ndim != 4:
        raise TypeError("x must be a floating-point torch.Tensor of shape (N, C, H, W)")
    if not isinstance(y, torch.Tensor) or y.dtype != torch.int64 or y.shape != x.shape[:1]:
        raise TypeError(f"y must be an int64 torch.Tensor of shape ({len(x)},), one label each")
    if cases is None:
        cases = tuple(STACK_CASES)
    if isinstance(cases, str) or not all(c in STACK_CASES for c in cases):
        allowed = ", ".join(repr(c) for c in STACK_CASES)
        raise ValueError(f"cases must be a sequence of names from {allowed}, got {cases!r}")
    retrain = check_bool("retrain", retrain)
    num_classes = int(y.max()) + 1
    window = min(10, steps)
    key = _comparison_key(x, y, depth, channels, steps, batch_size, lr, seed)
    if retrain:
        todo = list(dict.fromkeys(cases))
    else:
        for case in cases:  # the shipped rows, where the session has none of its own
            if (*key, case) in _shipped_comparison():
                _COMPARISONS.setdefault((*key, case), _shipped_comparison()[(*key, case)])
        todo = [c for c in dict.fromkeys(cases) if (*key, c) not in _COMPARISONS]
    bar = tqdm(total=len(todo) * 2 * steps, disable=not progress or not todo, leave=False)
    try:
        for case in todo:
            rows: list[dict[str, object]] = []
            init, batch_norm = STACK_CASES[case]
            for skip in (False, True):
                bar.set_description(f"{case}, {'skip' if skip else 'plain'}")
                with deterministic(seed):
                    model = deep_stack(
                        depth, channels, skip, x.shape[1], num_classes, init, batch_norm
                    )
                    norms = layer_gradient_norms(model, x[:128], y[:128])
                    with torch.no_grad():
                        signal = float(model[:-3](x[:128]).std())
                    generator = torch.Generator().manual_seed(seed)
                    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
                    losses = []
                    for _ in range(steps):
                        batch = torch.randint(0, len(x), (batch_size,), generator=generator)
                        loss = F.cross_entropy(model(x[batch]), y[batch])
                        optimizer.zero_grad()
                        loss.backward()
                        optimizer.step()
                        losses.append(loss.item())
                        bar.update()
                rows.append(
                    {
                        "case": case,
                        "skip": skip,
                        "gradient_ratio": norms[0] / norms[-2],
                        "signal": signal,
                        "losses": losses,
                        "loss_start": float(np.mean(losses[:window])),
                        "loss_end": float(np.mean(losses[-window:])),
                    }
                )
            _COMPARISONS[(*key, case)] = rows
    finally:
        bar.close()
    return [row for case in cases for row in copy.deepcopy(_COMPARISONS[(*key, case)])]


def save_skip_comparison(path: str | Path = SKIP_COMPARISON_RESULTS) -> list[dict[str, object]]:
    """Compute ``init_skip_comparison`` on the training digits of ``digits_split()`` with its
    default arguments, every case trained (``retrain=True``), and write the rows with what
    they depend on (the data's SHA-256 and the arguments) to ``path`` as JSON (``make weights``).
    Returns the rows."""
    x, y = digits_split()[:2]
    rows = init_skip_comparison(x, y, progress=False, retrain=True)
    defaults = inspect.signature(init_skip_comparison).parameters
    arguments = [defaults[name].default for name in _KEY_ARGUMENTS]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = {"key": list(_comparison_key(x, y, *arguments)), "rows": rows}
    path.write_text(json.dumps(saved, indent=1) + "\n")
    return rows


#: the arguments of ``init_skip_comparison`` its rows depend on, in ``_comparison_key``'s order
_KEY_ARGUMENTS = ("depth", "channels", "steps", "batch_size", "lr", "seed")


def comparison_table(rows: Sequence[dict[str, object]]) -> str:
    """The rows of ``init_skip_comparison`` as a text table: case, skips, gradient ratio,
    signal, and the training loss at the start and at the end."""
    header = (
        f"{'case':<14}{'skips':<7}{'grad first/last':>16}{'signal':>10}"
        f"{'loss start':>12}{'loss end':>10}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r['case']:<14}{'yes' if r['skip'] else 'no':<7}{r['gradient_ratio']:>16.1e}"
            f"{r['signal']:>10.1e}{r['loss_start']:>12.3g}{r['loss_end']:>10.3f}"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Notebook 07's figures
# --------------------------------------------------------------------------------------------
def plot_layer_gradients(
    norms: dict[str, Sequence[float]], figsize: tuple[float, float] = (10, 4)
) -> Figure:
    """``||dL/dW_l||`` against the layer ``l = 1, 2, ...`` (input first), one log-scale line per
    entry of ``norms`` (label -> ``layer_gradient_norms``' list). Returns the figure."""
    import matplotlib.pyplot as plt

    from cnnlib.plotting import LINE_STYLES

    fig, ax = plt.subplots(figsize=figsize)
    for (label, values), (marker, color) in zip(norms.items(), LINE_STYLES, strict=False):
        layers = np.arange(1, len(values) + 1)
        ax.semilogy(layers, values, marker + "-", color=color, label=label)
    ax.set_xlabel("layer (1 = next to the input)")
    ax.set_ylabel("||dL/dW|| (log scale)")
    ax.legend(fontsize=13)
    ax.grid(True, alpha=0.3)
    return fig


def plot_histories(
    histories: dict[str, dict[str, list[float]]], figsize: tuple[float, float] = (12, 3.8)
) -> Figure:
    """Two panels per epoch: the training loss (log scale), and the test (solid) and training
    (dashed) accuracy in %, one colour per entry of ``histories`` (name -> ``train``'s history).
    Returns the figure."""
    import matplotlib.pyplot as plt

    from cnnlib.plotting import LINE_STYLES

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=figsize)
    for (name, h), (_, color) in zip(histories.items(), LINE_STYLES, strict=False):
        epochs = np.arange(1, len(h["loss"]) + 1)
        ax1.plot(epochs, h["loss"], "o-", color=color, label=name)
        test, train = (100 * np.array(h[key]) for key in ("test_accuracy", "train_accuracy"))
        ax2.plot(epochs, test, "o-", color=color, label=f"{name} test")
        ax2.plot(epochs, train, "--", color=color, alpha=0.6, label=f"{name} train")
    ax1.set(yscale="log", xlabel="epoch", ylabel="training loss (log)", title="loss")
    low = min(min(h["test_accuracy"]) for h in histories.values())
    ax2.set(ylim=(100 * low - 2, 100.5), xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    for ax in (ax1, ax2):
        ax.set_xticks(epochs[::2])
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=11)
    return fig


def plot_first_layer(
    block: nn.Module, image: torch.Tensor, label: int, figsize: tuple[float, float] = (14, 4.2)
) -> Figure:
    """The first ``ConvBlock``'s single-channel filters ``block.conv.weight[:, 0]`` (a diverging
    map, symmetric about 0) and its output maps ``block(image)`` for one ``(1, 1, H, W)``
    image, in two square grids beside the image. Returns the figure."""
    import matplotlib.pyplot as plt

    from cnnlib.plotting import DIVERGING, SEQUENTIAL, symmetric_limits

    filters = block.conv.weight.detach()[:, 0].numpy()
    with torch.no_grad():
        maps = block(image)[0].numpy()
    side = math.ceil(math.sqrt(len(filters)))
    fig = plt.figure(figsize=figsize)
    left, middle, right = fig.subfigures(1, 3, width_ratios=[1, 1.6, 1.6])
    ax = left.subplots()
    ax.imshow(image[0, 0].detach().numpy(), cmap="gray_r")
    ax.set_title(f"a test digit: {label}")
    low, high = symmetric_limits(filters)
    middle.suptitle(f"{len(filters)} learned 3 x 3 filters", fontsize=15)
    right.suptitle("their maps for this digit", fontsize=15)
    grids = (middle.subplots(side, side).flat, right.subplots(side, side).flat)
    for i, (a, b) in enumerate(zip(*grids, strict=True)):
        if i < len(filters):
            a.imshow(filters[i], cmap=DIVERGING, vmin=low, vmax=high)
            b.imshow(maps[i], cmap=SEQUENTIAL)
    for axis in fig.axes:
        axis.set_xticks([])
        axis.set_yticks([])
    return fig


# --------------------------------------------------------------------------------------------
# The shapes network of notebook 08
# --------------------------------------------------------------------------------------------
class ShapesRun(NamedTuple):
    """A trained ``shapes_cnn``: the ``model`` (eval mode), its ``history`` (as ``train``
    returns it) and the data, ``train`` and ``test`` (``cnnlib.data.Shapes``, NumPy arrays)."""

    model: nn.Module
    history: dict[str, list[float]]
    train: Shapes
    test: Shapes


_TRAINED: dict[int, ShapesRun] = {}

#: the layout of notebook 08's network: ``shapes_cnn(**SHAPES_NET)``
SHAPES_NET: dict = {"widths": (8, 16, 32), "convs_per_block": 2}
#: how it is trained (``train_shapes_cnn``'s defaults): images, epochs, batch, peak rate
SHAPES_RECIPE: dict = {"n_train": 8000, "n_test": 1000, "epochs": 12, "batch_size": 64, "lr": 0.01}
#: the weights ``make weights`` writes (``save_shapes_weights``) and ``trained_shapes_cnn`` reads
SHAPES_WEIGHTS = Path(__file__).with_name("weights") / "shapes_cnn.pt"


def train_shapes_cnn(
    seed: int = 0,
    board: ProgressBoard | bool | None = None,
    n_train: int = SHAPES_RECIPE["n_train"],
    n_test: int = SHAPES_RECIPE["n_test"],
    epochs: int = SHAPES_RECIPE["epochs"],
    net: dict | None = None,
    data: tuple[Shapes, Shapes] | None = None,
) -> ShapesRun:
    """Train ``cnnlib.architectures.shapes_cnn(**net)`` (default ``SHAPES_NET``) on
    ``shapes(n_train, seed=2 * seed)`` and test it on ``shapes(n_test, seed=2 * seed + 1)``
    (or on ``data = (train, test)``, e.g. a planted shortcut): ``train`` with Adam, batches of
    ``SHAPES_RECIPE["batch_size"]``, a one-cycle learning rate peaking at
    ``SHAPES_RECIPE["lr"]``, initial weights drawn under ``seed``.

    Deterministic: the same ``seed`` gives the same weights and numbers bit for bit.
    ``board=True`` shows a new ``ProgressBoard`` (in a notebook; elsewhere it is built but not
    shown); a ``ProgressBoard`` you made and displayed is filled in as well.
    """
    from cnnlib.architectures import shapes_cnn
    from cnnlib.data import shapes

    seed = check_int("seed", seed, 0)
    n_train = check_int("n_train", n_train, 4)
    n_test = check_int("n_test", n_test, 4)
    epochs = check_int("epochs", epochs, 1)
    net = dict(SHAPES_NET if net is None else net)
    if board is True:
        board = ProgressBoard(epochs, title="Training")
        _show(board)
    elif board is False:
        board = None
    if data is None:
        train_set, test_set = shapes(n_train, seed=2 * seed), shapes(n_test, seed=2 * seed + 1)
    else:
        if not (isinstance(data, tuple) and len(data) == 2):
            raise TypeError("data must be a pair (train, test) of cnnlib.data.Shapes")
        train_set, test_set = data
    model, history = train(
        lambda: shapes_cnn(**net),
        torch.from_numpy(train_set.images),
        torch.from_numpy(train_set.labels),
        torch.from_numpy(test_set.images),
        torch.from_numpy(test_set.labels),
        epochs=epochs,
        batch_size=SHAPES_RECIPE["batch_size"],
        lr=SHAPES_RECIPE["lr"],
        seed=seed,
        progress=False,
        board=board,
        schedule="one_cycle",
    )
    return ShapesRun(model, history, train_set, test_set)


def save_shapes_weights(path: str | Path = SHAPES_WEIGHTS, seed: int = 0) -> ShapesRun:
    """Train notebook 08's network with the default recipe (``train_shapes_cnn(seed)``) and
    write its ``state_dict``, its history, layout and recipe to ``path`` (``make weights``)."""
    run = train_shapes_cnn(seed)
    _save_run(path, run, SHAPES_NET, SHAPES_RECIPE, seed=int(seed))
    return run


def made_by() -> dict[str, str]:
    """The torch version and CPU capability training runs on here: the same on two machines,
    a fixed seed gives the same weights bit for bit; otherwise the kernels round differently."""
    return {"torch": str(torch.__version__), "cpu": torch.backends.cpu.get_cpu_capability()}


def _save_run(path: str | Path, run: ShapesRun, net: dict, recipe: dict, **more: object) -> None:
    """Write ``run``'s ``state_dict`` and history, its layout ``net`` and ``recipe`` (and
    ``more``) to ``path``, as ``load_shapes_cnn`` reads them."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = {"state_dict": run.model.state_dict(), "history": run.history}
    torch.save({**saved, "net": net, "recipe": recipe, **more}, path)


def load_shapes_cnn(path: str | Path = SHAPES_WEIGHTS) -> tuple[nn.Module, dict]:
    """The network ``save_shapes_weights`` (or ``save_shortcut_cnn``) wrote, in eval mode, and
    its training history."""
    from cnnlib.architectures import shapes_cnn

    saved = torch.load(Path(path), map_location="cpu", weights_only=True)
    net = {k: tuple(v) if isinstance(v, list) else v for k, v in saved["net"].items()}
    model = shapes_cnn(**net)
    model.load_state_dict(saved["state_dict"])
    return model.eval(), saved["history"]


def trained_shapes_cnn(seed: int = 0) -> ShapesRun:
    """Notebook 08's trained network: for ``seed=0`` the weights shipped with cnnlib
    (``SHAPES_WEIGHTS``, written by ``make weights`` from ``train_shapes_cnn(0)``; its data
    regenerated from seeds 0 and 1), otherwise ``train_shapes_cnn(seed)``, trained on first use.
    The same object every time (the views' no-argument constructors share one network)."""
    from cnnlib.data import shapes

    seed = check_int("seed", seed, 0)
    if seed not in _TRAINED:
        if seed == 0 and SHAPES_WEIGHTS.exists():
            model, history = load_shapes_cnn(SHAPES_WEIGHTS)
            n_train, n_test = SHAPES_RECIPE["n_train"], SHAPES_RECIPE["n_test"]
            _TRAINED[seed] = ShapesRun(
                model, history, shapes(n_train, seed=0), shapes(n_test, seed=1)
            )
        else:
            _TRAINED[seed] = train_shapes_cnn(seed)
    return _TRAINED[seed]


# --------------------------------------------------------------------------------------------
# Notebook 09's network with a planted shortcut
# --------------------------------------------------------------------------------------------
#: its layout: notebook 08's with one convolution per block
SHORTCUT_NET: dict = {**SHAPES_NET, "convs_per_block": 1}
#: its data (``cnnlib.data.shortcut_shapes``: the marker on 90 % of the training discs and on
#: no other training image, on half of the test images whatever their class) and epochs
SHORTCUT_RECIPE: dict = {
    "train": {"n": 3000, "seed": 10, "marked_class": 0, "rate": 0.9},
    "test": {"n": 1000, "seed": 11, "independent": True},
    "epochs": 4,
}
#: the weights ``make weights`` writes (``save_shortcut_cnn``) and ``trained_shortcut_cnn`` reads
SHORTCUT_WEIGHTS = Path(__file__).with_name("weights") / "shortcut_cnn.pt"
_SHORTCUT: dict[str, ShapesRun] = {}


def shortcut_data() -> tuple[Shapes, Shapes, np.ndarray]:
    """``(marked_train, marked_test, marker)``: ``shortcut_shapes(**SHORTCUT_RECIPE["train"])``'s
    images and ``shortcut_shapes(**SHORTCUT_RECIPE["test"])``'s images and marker pixels."""
    from cnnlib.data import shortcut_shapes

    marked_train, _ = shortcut_shapes(**SHORTCUT_RECIPE["train"])
    marked_test, marker = shortcut_shapes(**SHORTCUT_RECIPE["test"])
    return marked_train, marked_test, marker


def train_shortcut_cnn(board: ProgressBoard | bool | None = None) -> ShapesRun:
    """``train_shapes_cnn`` (seed 0) of ``SHORTCUT_NET`` on ``shortcut_data()`` for
    ``SHORTCUT_RECIPE["epochs"]`` epochs. Deterministic on one machine and torch version."""
    marked_train, marked_test, _ = shortcut_data()
    return train_shapes_cnn(
        board=board,
        data=(marked_train, marked_test),
        epochs=SHORTCUT_RECIPE["epochs"],
        net=SHORTCUT_NET,
    )


def save_shortcut_cnn(path: str | Path = SHORTCUT_WEIGHTS) -> ShapesRun:
    """Train the shortcut network (``train_shortcut_cnn()``) and write its ``state_dict``, its
    history, layout and recipe, and the torch version and CPU capability that made it to
    ``path`` (``make weights``); return the run."""
    run = train_shortcut_cnn()
    _save_run(path, run, SHORTCUT_NET, SHORTCUT_RECIPE, made_by=made_by())
    return run


def trained_shortcut_cnn(path: str | Path = SHORTCUT_WEIGHTS) -> ShapesRun:
    """Notebook 09's shortcut network as ``save_shortcut_cnn`` wrote it (eval mode), with its
    history and its data regenerated (``shortcut_data()``); the same object on every call
    with the same ``path``. Training it again (``train_shortcut_cnn``) gives the same weights
    on the machine kind that made them; another CPU's kernels round differently."""
    key = str(Path(path).resolve())
    if key not in _SHORTCUT:
        model, history = load_shapes_cnn(path)
        marked_train, marked_test, _ = shortcut_data()
        _SHORTCUT[key] = ShapesRun(model, history, marked_train, marked_test)
    return _SHORTCUT[key]


def _show(board: ProgressBoard) -> None:
    """Display ``board`` when an IPython kernel (a notebook) is running; otherwise do nothing."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        return
    shell = get_ipython()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        from IPython.display import display

        display(board)


if __name__ == "__main__":  # make weights
    import time

    start = time.perf_counter()
    rows = save_skip_comparison()
    print(
        f"wrote {SKIP_COMPARISON_RESULTS} ({len(rows)} rows) "
        f"after {time.perf_counter() - start:.0f} s"
    )
    start = time.perf_counter()
    run = save_shapes_weights()
    print(
        f"wrote {SHAPES_WEIGHTS} ({SHAPES_WEIGHTS.stat().st_size / 1024:.0f} KiB): test accuracy "
        f"{run.history['test_accuracy'][-1]:.3f} after {time.perf_counter() - start:.0f} s"
    )
    start = time.perf_counter()
    run = save_shortcut_cnn()
    print(
        f"wrote {SHORTCUT_WEIGHTS} ({SHORTCUT_WEIGHTS.stat().st_size / 1024:.0f} KiB): test "
        f"accuracy {run.history['test_accuracy'][-1]:.3f} after {time.perf_counter() - start:.0f} s"
    )
