"""Time tutor.RNN or tutor.GRU against torch.nn: one forward and one backward pass, float32, CPU.

Run it by hand (``python benchmarks/bench_layer.py --cell rnn`` or ``--cell gru``) or
from CI; it is not a test. (The LSTM has its own script, ``bench_lstm.py``, which
also measures memory.)
It prints, for one and for two threads, the median time of each and the median
of the per-round ratios tutor / torch (below 1.0: tutor is faster).

The two libraries run in alternation, round after round, so that a burst of
load from another process hits both alike. The thread count is fixed before
NumPy is imported (``OPENBLAS_NUM_THREADS`` and friends, in a child process per
setting; NumPy's BLAS reads them only once) and with ``torch.set_num_threads``.

Both compute the same things: the outputs and last state, then the gradients
of all four parameters, of the inputs and of the initial state.
"""

from __future__ import annotations

import argparse
import json
import os

from harness import cpu_name, run_child, time_in_alternation

#: The layers this script compares: ``--cell`` -> (tutor module, class name); torch's
#: class has the same name in ``torch.nn``. Both keep a single state h.
CELLS = {"rnn": ("tutor.rnn", "RNN"), "gru": ("tutor.gru", "GRU")}


def measure(
    cell: str, threads: int, T: int, B: int, D: int, H: int, rounds: int, warmup: int
) -> dict:
    """Time both implementations in this process (the thread variables must already be set)."""
    import importlib

    import numpy as np
    import torch

    module, name = CELLS[cell]
    layer_class = getattr(importlib.import_module(module), name)

    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    layer = layer_class(D, H, rng=0, dtype=np.float32)
    x = rng.normal(size=(T, B, D)).astype(np.float32)
    h0 = rng.normal(size=(B, H)).astype(np.float32)
    dout = rng.normal(size=(T, B, H)).astype(np.float32)
    dstate = rng.normal(size=(B, H)).astype(np.float32)

    ref = getattr(torch.nn, name)(D, H, dtype=torch.float32)
    with torch.no_grad():
        for name, value in layer.params.items():
            getattr(ref, name + "_l0").copy_(torch.from_numpy(value))
    tx = torch.from_numpy(x).requires_grad_()
    th0 = torch.from_numpy(h0[None]).requires_grad_()
    tdout, tdstate = torch.from_numpy(dout), torch.from_numpy(dstate[None])

    def run_tutor():
        layer.forward(x, h0)
        layer.backward(dout, dstate)

    def run_torch():
        for tensor in (tx, th0, *ref.parameters()):
            tensor.grad = None
        out, h_T = ref(tx, th0)
        torch.autograd.backward([out, h_T], [tdout, tdstate])

    return {
        "threads": threads,
        **time_in_alternation(run_tutor, run_torch, rounds, warmup),
        "numpy": np.__version__,
        "torch": torch.__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", choices=sorted(CELLS), default="rnn")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--T", type=int, default=100)
    parser.add_argument("--B", type=int, default=32)
    parser.add_argument("--D", type=int, default=32)
    parser.add_argument("--H", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = {"T": args.T, "B": args.B, "D": args.D, "H": args.H}

    if args.child:  # one thread setting, already in the environment: print JSON
        result = measure(args.cell, args.threads[0], *sizes.values(), args.rounds, args.warmup)
        print(json.dumps(result))
        return

    shape = " ".join(f"{name}={value}" for name, value in sizes.items())
    name = CELLS[args.cell][1]
    print(
        f"tutor.{name} vs torch.nn.{name}, forward + backward, float32, {shape}; "
        f"{args.rounds} interleaved rounds; {cpu_name()}, {os.cpu_count()} CPUs\n"
    )
    print("| threads | tutor (ms) | torch (ms) | ratio tutor / torch | ratio, middle half |")
    print("|--:|--:|--:|--:|--:|")
    options = [f"--{size}={value}" for size, value in sizes.items()]
    options += [f"--cell={args.cell}", f"--rounds={args.rounds}", f"--warmup={args.warmup}"]
    for threads in args.threads:
        (r,) = run_child(__file__, threads, options)
        q1, q3 = r["ratio_q1_q3"]
        print(
            f"| {threads} | {r['tutor_ms']:.2f} | {r['torch_ms']:.2f} | {r['ratio']:.2f} "
            f"| {q1:.2f} - {q3:.2f} |"
        )
    print(
        f"\nnumpy {r['numpy']}, torch {r['torch']}. Ratio: the median over rounds of "
        f"tutor time / torch time (below 1: tutor is faster)."
    )


if __name__ == "__main__":
    main()
