"""Tests of cnnlib.training: the digits split, determinism, and the accuracy the notebook shows."""

import numpy as np
import pytest
import torch

from cnnlib import architectures as arch
from cnnlib.data import digits
from cnnlib.training import accuracy, deterministic, digits_split, train


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
    with pytest.raises(TypeError, match="model"):
        train(lambda: "not a model", x_train, y_train, x_test, y_test, progress=False)
    with pytest.raises(ValueError, match="test_fraction"):
        digits_split(1.5)


def test_mlp_parameter_count():
    # (64 + 1) * 320 + (320 + 1) * 10
    assert sum(p.numel() for p in arch.mlp(64, (320,), 10).parameters()) == 24_010
    with pytest.raises(TypeError):
        arch.mlp(hidden=32)
