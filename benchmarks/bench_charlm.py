"""Training throughput of the character models, batched, against a min-char-rnn style loop.

Run it by hand (``python benchmarks/bench_charlm.py``) or from CI; it is not a test.
It measures how many characters of the shipped text (``tutor.data.text.load_text``)
each way of training reads per second, counting everything one update costs:

- ``tutor.charlm.CharLM`` at batch 32 with chunks of 50 characters, as
  ``tutor.charlm.train_charlm`` trains it: the forward and backward pass
  (``CharLM.loss_and_grads``), global-norm clipping and an Adam step. Once with the
  LSTM, once with the simple RNN; float32 (the default of ``tutor train-char``) and
  float64.
- The min-char-rnn style baseline, as ``tutor.charlm.train_minchar`` trains it: a
  simple RNN on one stream (batch 1), chunks of 25 characters, a Python loop over the
  steps for the forward and the backward pass (``minchar_loss_and_grads``), element-wise
  clipping and an Adagrad step, float64; with its own hidden size of 100 (the
  reference for the ratios) and with the batched models' hidden size.

The configurations run in alternation, round after round, so that a burst of load from
another process hits all of them alike; the table gives the median over rounds. Each
round is timed twice: by the wall clock, and by the CPU time of this process
(``time.process_time``). When other programs compete for the cores, the wall-clock
numbers fall while the CPU-time numbers stay close to what a quiet machine gives.
Each thread setting runs in its own child process, with ``OPENBLAS_NUM_THREADS`` and
friends set before NumPy is imported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from harness import cpu_name, run_child

REFERENCE = "min-char-rnn loop, H=100"


def configurations(hidden: list[int], batch: int, seq_len: int) -> dict:
    """Name -> a function that makes the training state: ``(step, chars per step, parameters)``."""
    import numpy as np

    from tutor.charlm import CharLM, minchar_init, minchar_loss_and_grads
    from tutor.data.text import Vocabulary, load_text, text_batches
    from tutor.optim import Adam, clip_grad_norm

    text = load_text()
    vocab = Vocabulary.from_text(text)
    ids = vocab.encode(text)
    K = len(vocab)

    def count(params: dict) -> int:
        return sum(value.size for value in params.values())

    def batched(cell: str, H: int, dtype) -> tuple:
        model = CharLM(K, H, cell, rng=0, dtype=dtype, vocab=vocab)
        optimizer = Adam(model.params, lr=2e-3)
        chunks = [(x, y) for x, y in text_batches(ids, batch, seq_len) if len(x) == seq_len]
        position = {"i": 0, "state": None}

        def step() -> None:
            x, y = chunks[position["i"] % len(chunks)]
            loss, grads, position["state"] = model.loss_and_grads(x, y, position["state"])
            clip_grad_norm(grads, 5.0)
            optimizer.step(grads)
            position["i"] += 1

        return step, batch * seq_len, count(model.params)

    def minchar(H: int) -> tuple:
        params = minchar_init(K, H, rng=0)
        memory = {name: np.zeros_like(p) for name, p in params.items()}
        stream = ids.tolist()
        position = {"p": 0, "h": np.zeros(H)}

        def step() -> None:
            p = position["p"]
            if p + 26 > len(stream):
                p, position["h"] = 0, np.zeros(H)
            _, grads, position["h"] = minchar_loss_and_grads(
                params, stream[p : p + 25], stream[p + 1 : p + 26], position["h"]
            )
            for name, value in params.items():  # as in train_minchar
                g = np.clip(grads[name], -5.0, 5.0)
                memory[name] += g * g
                value -= 0.1 * g / np.sqrt(memory[name] + 1e-8)
            position["p"] = p + 25

        return step, 25, count(params)

    made = {}
    for cell, label in (("lstm", "LSTM"), ("rnn", "simple RNN")):
        for H in hidden:
            made[f"{label}, batch {batch}, H={H}, float32"] = lambda cell=cell, H=H: batched(
                cell, H, np.float32
            )
        # The same size and dtype as the reference: only the batching differs.
        made[f"{label}, batch {batch}, H=100, float64"] = lambda cell=cell: batched(
            cell, 100, np.float64
        )
    made[REFERENCE] = lambda: minchar(100)
    for H in hidden:
        if H != 100:
            made[f"min-char-rnn loop, H={H}"] = lambda H=H: minchar(H)
    return made


def measure(hidden: list[int], batch: int, seq_len: int, rounds: int, seconds: float) -> dict:
    """Time every configuration in this process (the thread variables must already be set)."""
    import numpy as np

    made = {name: make() for name, make in configurations(hidden, batch, seq_len).items()}
    for step, _, _ in made.values():  # warm up: first calls allocate and fill caches
        for _ in range(3):
            step()
    wall = {name: [] for name in made}
    cpu = {name: [] for name in made}
    for _ in range(rounds):
        for name, (step, chars, _) in made.items():
            n, w0, c0 = 0, time.perf_counter(), time.process_time()
            while time.perf_counter() - w0 < seconds:  # about `seconds` of work per round
                step()
                n += 1
            w1, c1 = time.perf_counter(), time.process_time()
            wall[name].append(n * chars / (w1 - w0))
            cpu[name].append(n * chars / max(c1 - c0, 1e-9))
    result = {"numpy": np.__version__, "configurations": {}}
    for name in made:
        ratios_wall = [a / b for a, b in zip(wall[name], wall[REFERENCE])]
        ratios_cpu = [a / b for a, b in zip(cpu[name], cpu[REFERENCE])]
        result["configurations"][name] = {
            "parameters": made[name][2],
            "wall": statistics.median(wall[name]),
            "cpu": statistics.median(cpu[name]),
            "ratio_wall": statistics.median(ratios_wall),
            "ratio_cpu": statistics.median(ratios_cpu),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--hidden", type=int, nargs="+", default=[128, 100, 80, 64], help="H of the batched models"
    )
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--seconds", type=float, default=0.5, help="time per configuration per round"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    options = [args.hidden, args.batch, args.seq_len, args.rounds, args.seconds]

    if args.child:  # one thread setting, already in the environment: print JSON
        print(json.dumps(measure(*options)))
        return

    print(
        f"Character-model training throughput, characters per second; batched models "
        f"batch {args.batch}, T={args.seq_len}; {args.rounds} interleaved rounds of "
        f"{args.seconds:g} s each; {cpu_name()}, {os.cpu_count()} CPUs; "
        f"load average before: {', '.join(f'{x:.1f}' for x in os.getloadavg())}\n"
    )
    child_options = [
        "--hidden", *map(str, args.hidden), f"--batch={args.batch}",
        f"--seq-len={args.seq_len}", f"--rounds={args.rounds}", f"--seconds={args.seconds}",
    ]  # fmt: skip
    for threads in args.threads:
        (r,) = run_child(__file__, threads, child_options)
        print(f"{threads} BLAS thread{'s' if threads > 1 else ''}:\n")
        print(
            "| configuration | parameters | chars/s (wall) | chars/s (CPU) "
            "| x reference (wall) | x reference (CPU) |"
        )
        print("|:--|--:|--:|--:|--:|--:|")
        for name, c in r["configurations"].items():
            print(
                f"| {name} | {c['parameters']:,} | {c['wall']:,.0f} | {c['cpu']:,.0f} "
                f"| {c['ratio_wall']:.1f} | {c['ratio_cpu']:.1f} |"
            )
        print()
    print(
        f"numpy {r['numpy']}; reference: {REFERENCE} (batch 1, T=25, float64). Ratios are "
        f"medians over rounds of (configuration / reference) in the same round. Load "
        f"average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}."
    )


if __name__ == "__main__":
    main()
