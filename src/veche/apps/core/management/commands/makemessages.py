"""Django's ``makemessages``, reading veche's Jinja2 templates too.

Django extracts a template's msgids by reading it as a Django template. veche's pages are
Jinja2 templates (decision 0081), in each app's ``jinja2/`` directory: for those, Jinja2's
own parser finds every ``_()``, ``pgettext()`` and ``{% trans %}`` block, and each becomes
a gettext call on its own line of the file GNU xgettext reads, so a msgid keeps the line
it came from. Everything else is Django's command unchanged.
"""

from __future__ import annotations

import os

from django.core.management.commands import makemessages
from django.template import engines

# Which gettext call each Jinja2 function stands for, as xgettext reads Python.
_CALLS = {
    "_": "gettext",
    "gettext": "gettext",
    "ngettext": "ngettext",
    "pgettext": "pgettext",
    "npgettext": "npgettext",
}


def _is_jinja2_template(path: str) -> bool:
    return f"{os.sep}jinja2{os.sep}" in path and path.endswith(".html")


def jinja2_as_python(source: str) -> str:
    """Return Python text holding one gettext call per msgid in ``source``, line for line."""
    env = engines["jinja2"].env  # type: ignore[attr-defined]
    lines = [""] * (source.count("\n") + 1)
    for lineno, function, message in env.extract_translations(source, tuple(_CALLS)):
        strings = message if isinstance(message, tuple) else (message,)
        call = _CALLS[function]
        # Only the strings matter to xgettext; a plural form's count is written as 0.
        args = [repr(s) for s in strings if s is not None]
        if call in ("ngettext", "npgettext"):
            args.append("0")
        lines[lineno - 1] += f"{call}({', '.join(args)}); "
    return "\n".join(lines)


class BuildFile(makemessages.BuildFile):
    def preprocess(self) -> None:
        if self.domain != "django" or not _is_jinja2_template(self.path):
            super().preprocess()
            return
        with open(self.path, encoding="utf-8") as fp:
            content = jinja2_as_python(fp.read())
        with open(self.work_path, "w", encoding="utf-8") as fp:
            fp.write(content)


class Command(makemessages.Command):
    build_file_class = BuildFile
