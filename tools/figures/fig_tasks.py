from pathlib import Path

from svglib import Figure, main, tr

OUT = str(Path(__file__).resolve().parents[2] / "book" / "figures") + "/"

BW, BH = 26, 22  # box size
Y_OUT, Y_H, Y_IN = 92, 160, 228
DX = 46  # column spacing


def column(fig, x, has_in, has_out):
    if has_out:
        fig.rect(x, Y_OUT, BW, BH, "y", rx=5)
        fig.path([(x, Y_H - BH / 2), (x, Y_OUT + BH / 2)])
    fig.rect(x, Y_H, BW, BH, "h", rx=5)
    if has_in:
        fig.rect(x, Y_IN, BW, BH, "x", rx=5)
        fig.path([(x, Y_IN - BH / 2), (x, Y_H + BH / 2)])


def panel(fig, name, x0, cols, caption, examples):
    """cols: list of (has_input, has_output) per time step, left to right; examples: lines
    joined by newlines."""
    fig.comment(f"Panel: {caption}")
    fig.group()
    xs = [x0 + i * DX for i in range(len(cols))]
    for x, (has_in, has_out) in zip(xs, cols):
        column(fig, x, has_in, has_out)
    for xa, xb in zip(xs, xs[1:]):
        fig.path([(xa + BW / 2, Y_H), (xb - BW / 2, Y_H)])
    xc = (xs[0] + xs[-1]) / 2
    fig.t(tr(caption), xc, 278, cls="title", extra=' style="font-size:13.5px"')
    for i, line in enumerate(tr(examples).split("\n")):
        fig.t(line, xc, 298 + 16 * i)
    fig.end()
    return xs


def tasks():
    fig = Figure(
        "sequence_tasks",
        900,
        345,
        "Five kinds of sequence task",
        "Five small diagrams side by side. In each, blue boxes at the bottom are inputs, "
        "orange boxes in the middle are hidden states joined left to right, and purple boxes "
        "at the top are outputs. One to one: one input, one state, one output, as when "
        "classifying a single input. One to many: one input, then a state and an output at "
        "each of three steps, as when writing a caption for an image. Many to one: three "
        "inputs and one output at the end, as for the sentiment of a sentence. Many to many, "
        "aligned: an input and an output at every step, as when tagging each word or "
        "predicting the next symbol. Many to many, unaligned: an encoder reads three inputs "
        "with no outputs, then a decoder writes two outputs with no inputs, as in translation.",
        "tasks",
    )

    fig.comment("Legend")
    fig.group()
    for x, cls, word, sym in [
        (270, "x", "input", "x_t"),
        (410, "h", "hidden state", "h_t"),
        (590, "y", "output", "ŷ_t"),
    ]:
        fig.rect(x, 34, BW, BH, cls, rx=5)
        fig.t(f"{tr(word)} ${sym}$", x + 22, 39, anchor="start")
    fig.end()

    panel(fig, "one-to-one", 70, [(1, 1)], "one to one", "classify one input\n(no sequence)")
    panel(fig, "one-to-many", 160, [(1, 1), (0, 1), (0, 1)], "one to many", "image → caption")
    panel(
        fig,
        "many-to-one",
        330,
        [(1, 0), (1, 0), (1, 1)],
        "many to one",
        "sentiment of\na sentence",
    )
    panel(
        fig,
        "aligned",
        500,
        [(1, 1)] * 3,
        "many to many, aligned",
        "tag each word;\npredict the next symbol",
    )
    xs = panel(
        fig,
        "unaligned",
        670,
        [(1, 0), (1, 0), (1, 0), (0, 1), (0, 1)],
        "many to many, unaligned",
        "translate a sentence\n(encoder–decoder)",
    )
    fig.t(tr("encoder"), (xs[0] + xs[2]) / 2, Y_OUT + 5, cls="small")
    fig.t(tr("decoder"), (xs[3] + xs[4]) / 2, Y_IN + 5, cls="small")
    fig.write(OUT + "sequence_tasks.svg")


if __name__ == "__main__":
    main(tasks)
