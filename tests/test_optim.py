"""Tests of tutor.optim: SGD, Adam and gradient clipping."""

import numpy as np
import pytest

from tutor.optim import SGD, Adam, clip_grad_norm, clip_grad_value, global_norm

pytestmark = pytest.mark.filterwarnings("error")


def test_sgd_step_by_hand():
    p = np.array([1.0, 2.0])
    SGD({"p": p}, lr=0.1).step({"p": np.array([0.5, -1.0])})
    np.testing.assert_allclose(p, [1.0 - 0.05, 2.0 + 0.1])


def test_sgd_momentum_two_steps_by_hand():
    p = np.array([1.0])
    optimizer = SGD({"p": p}, lr=0.1, momentum=0.9)
    optimizer.step({"p": np.array([2.0])})  # v = 2, p = 1 - 0.2 = 0.8
    optimizer.step({"p": np.array([1.0])})  # v = 0.9 * 2 + 1 = 2.8, p = 0.8 - 0.28 = 0.52
    np.testing.assert_allclose(p, [0.52])


def test_adam_two_steps_by_hand():
    p = np.array([1.0, -1.0])
    optimizer = Adam({"p": p}, lr=0.1, betas=(0.5, 0.75), eps=0.0)
    # Step 1: m = 0.5 g, v = 0.25 g^2; corrected m_hat = g, v_hat = g^2, so the step is lr sign(g).
    optimizer.step({"p": np.array([4.0, -0.01])})
    np.testing.assert_allclose(p, [0.9, -0.9])
    # Step 2 with g = (2, 0.01): m = 0.5 (2, -0.005) + 0.5 (2, 0.01) = (2, 0.0025),
    # v = 0.75 (4, 2.5e-5) + 0.25 (4, 1e-4) = (4, 4.375e-5); m_hat = m / 0.75, v_hat = v / 0.4375.
    optimizer.step({"p": np.array([2.0, 0.01])})
    m_hat = np.array([2.0, 0.0025]) / 0.75
    v_hat = np.array([4.0, 4.375e-5]) / 0.4375
    np.testing.assert_allclose(p, np.array([0.9, -0.9]) - 0.1 * m_hat / np.sqrt(v_hat), rtol=1e-12)


@pytest.mark.parametrize("kind", ["sgd", "momentum", "adam"])
def test_optimisers_agree_with_pytorch(kind, torch):
    rng = np.random.default_rng(0)
    w = rng.normal(size=(3, 2))
    t_w = torch.tensor(w.copy(), requires_grad=True)
    ours, theirs = {
        "sgd": (SGD({"w": w}, lr=0.1), torch.optim.SGD([t_w], lr=0.1)),
        "momentum": (
            SGD({"w": w}, lr=0.1, momentum=0.9),
            torch.optim.SGD([t_w], lr=0.1, momentum=0.9),
        ),
        "adam": (Adam({"w": w}, lr=0.01), torch.optim.Adam([t_w], lr=0.01)),
    }[kind]
    for _ in range(5):
        g = rng.normal(size=(3, 2))
        ours.step({"w": g})
        t_w.grad = torch.tensor(g)
        theirs.step()
    np.testing.assert_allclose(w, t_w.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1, momentum=0.5), lambda ps: Adam(ps)])
def test_optimisers_update_in_place_and_keep_float32(make):
    p = np.ones((2, 3), dtype=np.float32)
    params = {"p": p}
    optimizer = make(params)
    optimizer.step({"p": np.full((2, 3), 0.5, dtype=np.float32)})
    assert params["p"] is p
    assert p.dtype == np.float32
    assert np.all(p < 1.0)


def test_step_names_missing_and_unexpected_keys():
    optimizer = SGD({"w": np.zeros(2), "b": np.zeros(1)}, lr=0.1)
    with pytest.raises(
        ValueError, match=r"\bgrads\b.*\['b', 'w'\].*missing \['b'\].*unexpected \['c'\]"
    ):
        optimizer.step({"w": np.zeros(2), "c": np.zeros(1)})


def test_step_names_a_gradient_of_the_wrong_shape():
    optimizer = Adam({"w": np.zeros((2, 3))})
    with pytest.raises(
        ValueError,
        match=r"grads\['w'\].*params\['w'\].*\(2, 3\).*\(3, 2\)",
    ):
        optimizer.step({"w": np.zeros((3, 2))})


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_step_refuses_non_finite_gradients_and_suggests_a_remedy(bad):
    w = np.zeros(2)
    optimizer = SGD({"w": w}, lr=0.5)
    with pytest.raises(
        ValueError, match=r"grads\['w'\].*finite.*1 NaN or infinite values of 2.*\b0\.5\b.*clip"
    ):
        optimizer.step({"w": np.array([1.0, bad])})
    np.testing.assert_array_equal(w, [0.0, 0.0])  # nothing was changed


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: SGD({"w": np.zeros(2)}, lr=0.0), r"\blr\b.*\(0\.0, inf\).*\b0\.0"),
        (
            lambda: SGD({"w": np.zeros(2)}, lr=0.1, momentum=1.0),
            r"momentum.*\[0\.0, 1\.0\).*\b1\.0",
        ),
        (lambda: Adam({"w": np.zeros(2)}, betas=(0.9, 1.5)), r"betas\[1\].*\[0\.0, 1\.0\).*1\.5"),
        (lambda: Adam({"w": [0.0, 1.0]}), r"params\['w'\].*floating NumPy array.*\blist\b"),
        (lambda: Adam({"w": np.arange(3)}), r"params\['w'\].*floating NumPy array.*int64"),
        (lambda: SGD([np.zeros(2)], lr=0.1), r"\bparams\b.*non-empty dict.*\blist\b"),
        (lambda: SGD(np.zeros(2), lr=0.1), r"\bparams\b.*non-empty dict.*\bndarray\b"),
        (lambda: SGD({}, lr=0.1), r"\bparams\b.*non-empty dict.*got \{\}"),
    ],
)
def test_bad_optimiser_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# --- clipping ----------------------------------------------------------------------------


def cosine(a: dict, b: dict) -> float:
    """The cosine of the angle between two gradient dicts seen as one long vector each."""
    va = np.concatenate([g.ravel() for g in a.values()])
    vb = np.concatenate([g.ravel() for g in b.values()])
    return float(va @ vb / np.linalg.norm(va) / np.linalg.norm(vb))


def test_global_norm_is_the_norm_of_all_entries_together():
    grads = {"a": np.array([3.0]), "b": np.array([[4.0, 0.0], [0.0, 12.0]])}
    assert global_norm(grads) == pytest.approx(13.0)


def test_clip_grad_norm_keeps_direction_and_returns_the_norm_before_clipping():
    rng = np.random.default_rng(0)
    grads = {"w": rng.normal(size=(4, 3)) * 10, "b": rng.normal(size=4) * 10}
    original = {k: v.copy() for k, v in grads.items()}
    arrays = [grads["w"], grads["b"]]
    norm = clip_grad_norm(grads, max_norm=1.0)
    assert norm == pytest.approx(global_norm(original))
    assert norm > 1.0
    assert global_norm(grads) == pytest.approx(1.0)
    assert cosine(grads, original) == pytest.approx(1.0, abs=1e-12)
    assert grads["w"] is arrays[0] and grads["b"] is arrays[1]  # scaled in place


def test_clip_grad_norm_leaves_small_gradients_alone():
    grads = {"w": np.array([0.3, -0.4])}
    assert clip_grad_norm(grads, max_norm=1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(grads["w"], [0.3, -0.4])


def test_clip_grad_norm_keeps_float32_and_does_not_overflow():
    grads = {"w": np.full(4, 1e30, dtype=np.float32)}
    norm = clip_grad_norm(grads, max_norm=2.0)
    assert norm == pytest.approx(2e30, rel=1e-6)
    assert grads["w"].dtype == np.float32
    np.testing.assert_allclose(grads["w"], 1.0, rtol=1e-6)


def test_clip_grad_norm_leaves_non_finite_gradients_for_the_optimiser_to_report():
    grads = {"w": np.array([1.0, np.inf])}
    assert clip_grad_norm(grads, max_norm=1.0) == np.inf
    np.testing.assert_array_equal(grads["w"], [1.0, np.inf])


def test_clip_grad_value_clips_each_entry_and_returns_the_norm_before():
    grads = {"w": np.array([3.0, -4.0, 0.5]), "b": np.array([-0.2])}
    w = grads["w"]
    norm = clip_grad_value(grads, clip_value=1.0)
    assert norm == pytest.approx(np.sqrt(9 + 16 + 0.25 + 0.04))
    np.testing.assert_array_equal(w, [1.0, -1.0, 0.5])  # in place
    np.testing.assert_array_equal(grads["b"], [-0.2])


def test_clipping_thresholds_must_be_positive():
    with pytest.raises(ValueError, match=r"max_norm.*\(0\.0, inf\).*\b0\.0"):
        clip_grad_norm({"w": np.zeros(2)}, max_norm=0.0)
    with pytest.raises(ValueError, match=r"clip_value.*\(0\.0, inf\).*-1\.0"):
        clip_grad_value({"w": np.zeros(2)}, clip_value=-1.0)
