"""Tests of tutor.feedforward: the dense layer, the MLP and the parameter dictionaries."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tutor.feedforward import MLP, Dense, named_gradients, named_parameters
from tutor.functional import softmax_cross_entropy
from tutor.gradcheck import gradcheck
from tutor.optim import SGD, Adam

pytestmark = pytest.mark.filterwarnings("error")
FEW = settings(max_examples=25, deadline=None)
leading_shapes = st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple)


def check_backward(model, x, rng):
    """Gradcheck every parameter of ``model`` and its input, for loss = sum(y * r), r random.

    With that loss dL/dy = r, so one backward pass with ``r`` gives every gradient.
    """
    r = rng.normal(size=model.forward(x).shape)
    dx = model.backward(r)
    grads = {name: g.copy() for name, g in model.grads.items()} | {"x": dx}
    params = model.params | {"x": x}
    errors = gradcheck(lambda: float(np.sum(model.forward(x) * r)), params, grads)
    assert max(errors.values()) < 1e-6, errors


# --- Dense -------------------------------------------------------------------------------


def test_dense_params_have_pytorch_names_shapes_and_init_range():
    layer = Dense(400, 30, rng=0)
    assert layer.params["weight"].shape == (30, 400)
    assert layer.params["bias"].shape == (30,)
    assert set(layer.grads) == {"weight", "bias"}
    bound = 1 / np.sqrt(400)
    for p in layer.params.values():
        assert np.abs(p).max() <= bound
        assert np.abs(p).max() > 0.9 * bound  # uniform over the whole range, not narrower
    assert abs(layer.params["weight"].mean()) < 0.05 * bound


def test_dense_same_seed_same_params_and_different_seed_different_params():
    a, b, c = Dense(3, 2, rng=7), Dense(3, 2, rng=np.random.default_rng(7)), Dense(3, 2, rng=8)
    np.testing.assert_array_equal(a.params["weight"], b.params["weight"])
    assert not np.array_equal(a.params["weight"], c.params["weight"])


@pytest.mark.parametrize("leading", [(), (5,), (4, 3)])
def test_dense_forward_is_affine_over_the_last_axis(leading):
    rng = np.random.default_rng(0)
    layer = Dense(3, 2, rng=rng)
    x = rng.normal(size=leading + (3,))
    y = layer.forward(x)
    assert y.shape == leading + (2,)
    w, b = layer.params["weight"], layer.params["bias"]
    expected = np.einsum("kd,...d->...k", w, x) + b
    np.testing.assert_allclose(y, expected, rtol=1e-12)


@FEW
@given(
    leading=leading_shapes,
    n_in=st.integers(1, 4),
    n_out=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_dense_backward_passes_gradcheck(leading, n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    layer = Dense(n_in, n_out, rng=rng)
    check_backward(layer, rng.normal(size=leading + (n_in,)), rng)


def test_dense_weight_gradient_sums_over_every_leading_axis():
    rng = np.random.default_rng(1)
    layer = Dense(3, 2, rng=rng)
    x, dy = rng.normal(size=(4, 5, 3)), rng.normal(size=(4, 5, 2))
    layer.forward(x)
    layer.backward(dy)
    outer = sum(np.outer(dy[t, b], x[t, b]) for t in range(4) for b in range(5))
    np.testing.assert_allclose(layer.grads["weight"], outer, rtol=1e-12)
    np.testing.assert_allclose(layer.grads["bias"], dy.sum(axis=(0, 1)), rtol=1e-12)


def test_dense_float32_stays_float32():
    rng = np.random.default_rng(2)
    layer = Dense(3, 2, rng=rng, dtype=np.float32)
    x = rng.normal(size=(4, 3)).astype(np.float32)
    y = layer.forward(x)
    dx = layer.backward(np.ones_like(y))
    arrays = [y, dx, *layer.params.values(), *layer.grads.values()]
    assert all(a.dtype == np.float32 for a in arrays)


def test_dense_backward_before_forward_says_to_call_forward():
    with pytest.raises(RuntimeError, match=r"Dense\.backward.*before.*forward\(x\)"):
        Dense(3, 2, rng=0).backward(np.zeros((1, 2)))


def test_dense_wrong_feature_size_names_x_and_both_shapes():
    with pytest.raises(ValueError, match=r"\bx\b.*\(\.\.\., D\) = \(\?, 3\).*\(4, 2\)"):
        Dense(3, 2, rng=0).forward(np.zeros((4, 2)))


def test_dense_wrong_dtype_says_how_to_convert():
    with pytest.raises(ValueError, match=r"\bx\b.*float64.*float32.*astype"):
        Dense(3, 2, rng=0).forward(np.zeros((4, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"\bx\b.*floating-point.*int64"):
        Dense(3, 2, rng=0).forward(np.zeros((4, 3), dtype=int))


def test_dense_nan_input_is_located():
    x = np.zeros((4, 3))
    x[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"\bx\b.*non-finite.*nan.*\(2, 1\)"):
        Dense(3, 2, rng=0).forward(x)


def test_dense_backward_with_a_wrong_shape_names_dy():
    layer = Dense(3, 2, rng=0)
    layer.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"\bdy\b.*\(\.\.\., K\) = \(4, 2\).*\(2, 4\)"):
        layer.backward(np.zeros((2, 4)))


@pytest.mark.parametrize(
    "args, message",
    [
        ((0, 2, 0), r"in_features.*positive int.*\b0\b"),
        ((3, 2.5, 0), r"out_features.*positive int.*2\.5"),
        ((3, 2, None), r"\brng\b.*int seed.*Generator.*NoneType"),
    ],
)
def test_dense_bad_construction_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        Dense(*args)


def test_dense_agrees_with_torch_linear(torch):
    rng = np.random.default_rng(3)
    layer = Dense(4, 3, rng=rng)
    linear = torch.nn.Linear(4, 3, dtype=torch.float64)
    linear.load_state_dict({k: torch.tensor(v) for k, v in layer.params.items()})
    x, dy = rng.normal(size=(5, 2, 4)), rng.normal(size=(5, 2, 3))
    t_x = torch.tensor(x, requires_grad=True)
    t_y = linear(t_x)
    t_y.backward(torch.tensor(dy))
    np.testing.assert_allclose(layer.forward(x), t_y.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.backward(dy), t_x.grad.numpy(), rtol=1e-12)
    for name, param in linear.named_parameters():
        np.testing.assert_allclose(layer.grads[name], param.grad.numpy(), rtol=1e-12)


# --- MLP ---------------------------------------------------------------------------------


def test_mlp_params_are_keyed_like_a_state_dict_and_are_the_layers_arrays():
    model = MLP([2, 16, 8, 1], rng=0)
    assert list(model.params) == ["0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias"]
    assert model.params["1.weight"].shape == (8, 16)
    assert model.params["2.bias"] is model.layers[2].params["bias"]
    assert list(model.grads) == list(model.params)
    assert model.grads["0.weight"] is model.layers[0].grads["weight"]


def test_an_optimiser_on_mlp_params_updates_the_layers():
    model = MLP([2, 3, 1], rng=0)
    before = model.layers[0].params["weight"].copy()
    optimizer = SGD(model.params, lr=0.1)
    model.forward(np.ones((4, 2)))
    model.backward(np.ones((4, 1)))
    optimizer.step(model.grads)
    np.testing.assert_allclose(
        model.layers[0].params["weight"], before - 0.1 * model.grads["0.weight"]
    )


@FEW
@given(
    sizes=st.lists(st.integers(1, 4), min_size=2, max_size=4),
    activation=st.sampled_from(["tanh", "sigmoid", "relu"]),
    leading=leading_shapes,
    seed=st.integers(0, 2**32 - 1),
)
# A case where rounding noise once exceeded 1e-6 of a bias gradient of size 4e-5.
@example(sizes=[2, 1, 3, 3], activation="sigmoid", leading=(2, 1), seed=77040)
def test_mlp_backward_passes_gradcheck(sizes, activation, leading, seed):
    rng = np.random.default_rng(seed)
    model = MLP(sizes, activation, rng=rng)
    check_backward(model, rng.normal(size=leading + (sizes[0],)), rng)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_mlp_two_layer_backward_matches_the_chain_rule_by_hand(activation):
    rng = np.random.default_rng(4)
    model = MLP([3, 5, 2], activation, rng=rng)
    x, dy = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    model.forward(x)
    dx = model.backward(dy)
    (w1, b1), (w2, b2) = [(layer.params["weight"], layer.params["bias"]) for layer in model.layers]
    z = x @ w1.T + b1
    h, dphi = {
        "tanh": (np.tanh(z), 1 - np.tanh(z) ** 2),
        "sigmoid": (1 / (1 + np.exp(-z)), np.exp(-z) / (1 + np.exp(-z)) ** 2),
        "relu": (np.maximum(z, 0), (z > 0) * 1.0),
    }[activation]
    dz = (dy @ w2) * dphi
    expected = {
        "0.weight": dz.T @ x,
        "0.bias": dz.sum(0),
        "1.weight": dy.T @ h,
        "1.bias": dy.sum(0),
    }
    for name, value in expected.items():
        np.testing.assert_allclose(model.grads[name], value, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dx, dz @ w1, rtol=1e-12, atol=1e-14)


def test_mlp_float32_stays_float32():
    model = MLP([2, 4, 3], rng=0, dtype=np.float32)
    y = model.forward(np.ones((5, 2), dtype=np.float32))
    dx = model.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == np.float32
    assert all(g.dtype == np.float32 for g in model.grads.values())


def test_mlp_backward_before_forward_says_to_call_forward():
    with pytest.raises(RuntimeError, match=r"MLP\.backward.*before.*forward\(x\)"):
        MLP([2, 3, 1], rng=0).backward(np.zeros((1, 1)))


def test_mlp_bad_arguments():
    with pytest.raises(ValueError, match=r"activation.*'relu'.*'tanh'.*'softplus'"):
        MLP([2, 3, 1], "softplus", rng=0)
    with pytest.raises(ValueError, match=r"\bsizes\b.*an input and an output.*\[2\]"):
        MLP([2], rng=0)


def fit_xor(sizes, n_steps=150):
    """Train an MLP on XOR-like data with Adam; return the losses and the accuracy.

    Four clusters around the corners of a square; the class is 1 where x0 * x1 > 0.
    No straight line separates the classes: a hidden layer has to bend the boundary.
    """
    rng = np.random.default_rng(0)
    corners = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]], dtype=float)
    x = corners.repeat(25, axis=0) + rng.normal(0, 0.2, (100, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)
    model = MLP(sizes, "tanh", rng=rng)
    optimizer = Adam(model.params, lr=0.05)
    losses = []
    for _ in range(n_steps):
        loss, dlogits = softmax_cross_entropy(model.forward(x), y)
        model.backward(dlogits)
        optimizer.step(model.grads)
        losses.append(loss)
    return losses, np.mean(model.forward(x).argmax(axis=1) == y)


def test_mlp_with_a_hidden_layer_learns_xor():
    losses, accuracy = fit_xor([2, 16, 2])
    assert losses[0] > 0.5
    assert losses[-1] < 0.01
    assert accuracy == 1.0


def test_a_linear_model_cannot_learn_xor():
    losses, accuracy = fit_xor([2, 2])
    assert losses[-1] > 0.6  # stuck near log 2, chance level
    assert accuracy < 0.75


def test_mlp_agrees_with_torch_sequential(torch):
    rng = np.random.default_rng(5)
    model = MLP([3, 4, 2], "tanh", rng=rng)
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 4, dtype=torch.float64),
        torch.nn.Tanh(),
        torch.nn.Linear(4, 2, dtype=torch.float64),
    )
    # nn.Sequential counts the Tanh as module 1, so its second Linear is "2", ours "1".
    net.load_state_dict({k.replace("1.", "2."): torch.tensor(v) for k, v in model.params.items()})
    x, dy = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    t_y = net(torch.tensor(x))
    t_y.backward(torch.tensor(dy))
    np.testing.assert_allclose(model.forward(x), t_y.detach().numpy(), rtol=1e-12)
    model.backward(dy)
    for name, param in net.named_parameters():
        np.testing.assert_allclose(
            model.grads[name.replace("2.", "1.")], param.grad.numpy(), rtol=1e-12
        )


# --- several layers, one optimiser -------------------------------------------------------


def test_named_parameters_and_gradients_prefix_each_layer():
    first, readout = Dense(3, 4, rng=0), Dense(4, 2, rng=1)
    layers = {"hidden": first, "readout": readout}
    params, grads = named_parameters(layers), named_gradients(layers)
    assert list(params) == ["hidden.weight", "hidden.bias", "readout.weight", "readout.bias"]
    assert list(grads) == list(params)
    assert params["readout.weight"] is readout.params["weight"]
    assert grads["hidden.bias"] is first.grads["bias"]


def test_named_parameters_accept_any_object_with_params_and_grads():
    class Scale:
        def __init__(self):
            self.params = {"a": np.ones(2)}
            self.grads = {"a": np.full(2, 0.5)}

    layers = {"mlp": MLP([2, 2], rng=0), "scale": Scale()}
    assert set(named_parameters(layers)) == {"mlp.0.weight", "mlp.0.bias", "scale.a"}
    optimizer = SGD(named_parameters(layers), lr=1.0)
    layers["mlp"].forward(np.ones((1, 2)))
    layers["mlp"].backward(np.ones((1, 2)))
    optimizer.step(named_gradients(layers))
    np.testing.assert_array_equal(layers["scale"].params["a"], [0.5, 0.5])
