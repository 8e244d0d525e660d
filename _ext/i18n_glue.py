"""Let myst-nb's glue roles work inside translated messages (the Chinese edition).

Sphinx parses each translated message again, in a fresh document that lacks the
notebook's glued values, so `{glue:text}`key`` there would find no key. In that
document (and only there) the role's key is rewritten to myst-nb's cross-document
form ``/book/page.ipynb::key``, which myst-nb resolves from the values the page's
own notebook stored when it ran.
"""

from myst_nb.ext.glue import roles


def _patch(role_class, default_format: str = "") -> None:
    original = role_class.run

    def run(self):
        env = getattr(self.document.settings, "env", None)
        translated = "nb_renderer" not in self.document
        if env is not None and translated and "::" not in self.text:
            key = self.text
            if default_format and ":" not in key:
                # "page::key" alone would be read as the key "page:" and the
                # format "key": give the format explicitly.
                key += default_format
            self.text = f"/{env.doc2path(env.docname, False)}::{key}"
        return original(self)

    role_class.run = run


def setup(app):
    _patch(roles.PasteRoleAny)
    _patch(roles.PasteMarkdownRole)
    _patch(roles.PasteTextRole, default_format=":s")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
