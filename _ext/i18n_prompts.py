"""Translate the buttons that notebook cells name in their own metadata.

A code cell can name its show and hide buttons (``mystnb.code_prompt_show``,
for example "Show the solution"). Those names live in the notebook's JSON, not
in its prose, so Sphinx's message catalogs never see them. In a translated
build this extension replaces them in the parsed page (the notebook itself is
left as it is, so the executed notebooks of the English build are reused).
"""

from docutils import nodes

PROMPTS = {
    "zh_CN": {
        "Show the solution": "显示答案",
        "Hide the solution": "隐藏答案",
    },
}


def _has_prompt(node) -> bool:
    return isinstance(node, nodes.Element) and "prompt_show" in node.attributes


def translate_prompts(app, doctree):
    table = PROMPTS.get(app.config.language or "", {})
    if not table:
        return
    for node in doctree.findall(_has_prompt):
        for key in ("prompt_show", "prompt_hide"):
            node[key] = table.get(node[key], node[key])


def setup(app):
    app.connect("doctree-read", translate_prompts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
