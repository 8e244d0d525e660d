"""Time tutor.LSTM against torch.nn.LSTM (forward + backward, float32, CPU) and compare memory.

Run it by hand (``python benchmarks/bench_lstm.py``) or from CI; it is not a test.
For each shape it prints, for one and for two threads, the median time of each
library and the median of the per-round ratios tutor / torch (below 1.0: tutor is
faster). Then it compares the memory each library keeps between the forward and
the backward pass.

Timing: the two libraries run in alternation, round after round, so that a burst
of load from another process hits both alike. The thread count is fixed before
NumPy is imported (``OPENBLAS_NUM_THREADS`` and friends, in a child process per
setting; NumPy's BLAS reads them only once) and with ``torch.set_num_threads``.
Both compute the same things: the outputs and the last state (h, c), then the
gradients of all four parameters, of the inputs and of the initial h and c.

``--layers 2 --bidirectional`` times the stacked, bidirectional layer
(``tutor.LSTM(..., num_layers=2, bidirectional=True)``, single layers composed,
against ``torch.nn.LSTM(num_layers=2, bidirectional=True)``) in the same way.

Memory: what each library holds for the backward pass after a forward pass.

- torch: every tensor autograd saves for backward, caught with
  ``torch.autograd.graph.saved_tensors_hooks``; the bytes of their distinct
  storages, without the parameters and the inputs (x, h_0, c_0), which exist
  anyway. On the CPU in float32 this is oneDNN's workspace plus the output.
- tutor: the arrays ``LSTM.forward`` keeps for ``LSTM.backward`` (the gates, the
  cell states and the hidden states, which include the output), without the
  input x; checked with ``tracemalloc`` (NumPy reports its allocations to it):
  the memory still held after the forward pass, while the caller holds the
  output. ``tracemalloc`` also gives the peak during the forward and during the
  backward pass (the backward pass's temporary arrays and the gradients).
"""

from __future__ import annotations

import argparse
import json
import os

from harness import cpu_name, run_child, time_in_alternation

SHAPES = [  # (T, B, D, H): the reference shape first, then one change at a time
    (100, 32, 32, 128),
    (100, 1, 32, 128),
    (100, 128, 32, 128),
    (100, 32, 32, 256),
    (200, 32, 32, 128),
]
MEMORY_SHAPE = (200, 32, 32, 256)


def make_pair(T: int, B: int, D: int, H: int, seed: int = 0, layers: int = 1, both: bool = False):
    """A float32 tutor.LSTM and a torch.nn.LSTM with the same weights, and the data.

    ``layers`` and ``both`` (two directions) give both libraries' stacked
    layers; the states are then ``(layers * directions, B, H)`` as in PyTorch,
    and tutor's parameters carry torch's names.
    """
    import numpy as np
    import torch

    from tutor.lstm import LSTM

    rng = np.random.default_rng(seed)
    stack = {"num_layers": layers, "bidirectional": both}
    layer = LSTM(D, H, rng=seed, dtype=np.float32, **stack)
    single = layers == 1 and not both
    state = (B, H) if single else (layers * (2 if both else 1), B, H)
    data = {
        "x": rng.normal(size=(T, B, D)),
        "h0": rng.normal(size=state),
        "c0": rng.normal(size=state),
        "dout": rng.normal(size=(T, B, H * (2 if both else 1))),
        "dh_T": rng.normal(size=state),
        "dc_T": rng.normal(size=state),
    }
    data = {name: value.astype(np.float32) for name, value in data.items()}
    ref = torch.nn.LSTM(D, H, dtype=torch.float32, **stack)
    with torch.no_grad():
        for name, value in layer.params.items():
            getattr(ref, name + "_l0" if single else name).copy_(torch.from_numpy(value))
    return layer, ref, data


def measure(
    threads: int,
    shape: tuple[int, int, int, int],
    rounds: int,
    warmup: int,
    layers: int = 1,
    both: bool = False,
) -> dict:
    """Time both implementations in this process (the thread variables must already be set)."""
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    layer, ref, d = make_pair(*shape, layers=layers, both=both)
    single = layers == 1 and not both

    def as_torch_state(name):  # torch's states have a leading layers axis
        tensor = torch.from_numpy(d[name])
        return tensor[None] if single else tensor

    tx = torch.from_numpy(d["x"]).requires_grad_()
    th0 = as_torch_state("h0").requires_grad_()
    tc0 = as_torch_state("c0").requires_grad_()
    tgrads = [torch.from_numpy(d["dout"]), as_torch_state("dh_T"), as_torch_state("dc_T")]

    def run_tutor():
        layer.forward(d["x"], (d["h0"], d["c0"]))
        layer.backward(d["dout"], (d["dh_T"], d["dc_T"]))

    def run_torch():
        for tensor in (tx, th0, tc0, *ref.parameters()):
            tensor.grad = None
        out, (h_T, c_T) = ref(tx, (th0, tc0))
        torch.autograd.backward([out, h_T, c_T], tgrads)

    return {
        "shape": shape,
        "layers": layers,
        "bidirectional": both,
        "threads": threads,
        **time_in_alternation(run_tutor, run_torch, rounds, warmup),
        "numpy": np.__version__,
        "torch": torch.__version__,
    }


def measure_memory(shape: tuple[int, int, int, int]) -> dict:
    """Bytes kept between forward and backward by each library (see the module docstring)."""
    import tracemalloc

    import torch

    layer, ref, d = make_pair(*shape)

    # torch: the distinct storages of the tensors autograd saves, minus parameters and inputs.
    saved = []

    def pack(tensor):
        saved.append(tensor)
        return tensor

    tx = torch.from_numpy(d["x"]).requires_grad_()
    th0 = torch.from_numpy(d["h0"][None]).requires_grad_()
    tc0 = torch.from_numpy(d["c0"][None]).requires_grad_()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        ref(tx, (th0, tc0))
    storages = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in saved}
    exclude = {t.untyped_storage().data_ptr() for t in (tx, th0, tc0, *ref.parameters())}
    torch_bytes = sum(n for ptr, n in storages.items() if ptr not in exclude)

    # tutor: the arrays in the layer's cache (without x), and the same seen by tracemalloc.
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    out, last = layer.forward(d["x"], (d["h0"], d["c0"]))
    held, forward_peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    layer.backward(d["dout"], (d["dh_T"], d["dc_T"]))
    backward_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    kept = {id(a): a.nbytes for a in layer._cache[1:]}  # gates, cells, states (x excluded)
    return {
        "shape": shape,
        "torch_saved": torch_bytes,
        "torch_tensors": len(saved),
        "tutor_cache": sum(kept.values()),
        "tutor_held": held - before,
        "tutor_forward_peak": forward_peak - before,
        "tutor_backward_peak": backward_peak - before,
    }


def parse_shape(text: str) -> tuple[int, int, int, int]:
    sizes = tuple(int(n) for n in text.split(","))
    if len(sizes) != 4:
        raise argparse.ArgumentTypeError(f"a shape is T,B,D,H, e.g. 100,32,32,128; got {text!r}")
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--shapes", type=parse_shape, nargs="+", default=SHAPES, metavar="T,B,D,H")
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--no-memory", action="store_true", help="skip the memory comparison")
    parser.add_argument("--layers", type=int, default=1, help="num_layers of both layers")
    parser.add_argument(
        "--bidirectional", action="store_true", help="two directions in both libraries"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:  # one thread setting, already in the environment: print JSON lines
        if args.memory_only:
            print(json.dumps(measure_memory(MEMORY_SHAPE)))
            return
        for shape in args.shapes:
            result = measure(
                args.threads[0], shape, args.rounds, args.warmup, args.layers, args.bidirectional
            )
            print(json.dumps(result), flush=True)
        return

    stack = f"num_layers={args.layers}" + (", bidirectional" if args.bidirectional else "")
    print(
        f"tutor.LSTM vs torch.nn.LSTM ({stack}), forward + backward, float32; "
        f"{args.rounds} interleaved "
        f"rounds after {args.warmup} warm-up rounds; {cpu_name()}, {os.cpu_count()} CPUs\n"
    )
    print(
        "| T | B | D | H | threads | tutor (ms) | torch (ms) | ratio tutor / torch | middle half |"
    )
    print("|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    options = ["--shapes", *(",".join(map(str, s)) for s in args.shapes)]
    options += [f"--rounds={args.rounds}", f"--warmup={args.warmup}"]
    options += [f"--layers={args.layers}"] + (["--bidirectional"] if args.bidirectional else [])
    results = {threads: run_child(__file__, threads, options) for threads in args.threads}
    for i, shape in enumerate(args.shapes):
        for threads in args.threads:
            r = results[threads][i]
            q1, q3 = r["ratio_q1_q3"]
            print(
                "| {} | {} | {} | {} ".format(*shape)
                + f"| {threads} | {r['tutor_ms']:.2f} | {r['torch_ms']:.2f} | {r['ratio']:.2f} "
                f"| {q1:.2f} - {q3:.2f} |"
            )
    print(
        f"\nnumpy {r['numpy']}, torch {r['torch']}. Ratio: the median over rounds of "
        f"tutor time / torch time (below 1: tutor is faster)."
    )
    if args.no_memory or args.layers != 1 or args.bidirectional:
        return  # the memory comparison is of the single layer

    (m,) = run_child(__file__, 1, ["--memory-only"])
    mb = 1e-6
    print(
        "\nMemory kept between forward and backward, float32, T={}, B={}, D={}, H={}:\n".format(
            *m["shape"]
        )
    )
    print("| | MB |")
    print("|:--|--:|")
    print(
        f"| torch: tensors saved by autograd, without parameters and inputs | "
        f"{m['torch_saved'] * mb:.1f} |"
    )
    print(f"| tutor: arrays kept by forward for backward | {m['tutor_cache'] * mb:.1f} |")
    print(f"| tutor: the same, held per tracemalloc after forward | {m['tutor_held'] * mb:.1f} |")
    print(f"| ratio tutor / torch | {m['tutor_cache'] / m['torch_saved']:.2f} |")
    print(f"| tutor: peak during forward (tracemalloc) | {m['tutor_forward_peak'] * mb:.1f} |")
    print(
        f"| tutor: peak during backward, on top of what forward kept | "
        f"{(m['tutor_backward_peak'] - m['tutor_held']) * mb:.1f} |"
    )


if __name__ == "__main__":
    main()
