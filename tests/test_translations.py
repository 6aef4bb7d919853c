"""The Chinese catalogue is complete and the committed .mo matches the .po.

The interface speaks Chinese first: a msgid left untranslated would show English to every
user, and a .po edited without `make messages` would not reach the compiled .mo.
"""

import ast
import gettext
from pathlib import Path

LOCALE = Path(__file__).resolve().parents[1] / "locale" / "zh_Hans" / "LC_MESSAGES"
# Django's own UserAdmin fieldset titles: django.contrib.auth's catalogue translates them.
TRANSLATED_BY_DJANGO = {"Personal info", "Permissions", "Important dates"}


def _entries():
    """Every entry of django.po as a dict: msgctxt, msgid, msgid_plural, msgstr {index: text}, fuzzy."""
    entries, current, key, fuzzy, context = [], None, None, False, None
    for line in (LOCALE / "django.po").read_text(encoding="utf-8").splitlines() + [""]:
        if line.startswith("#,"):
            fuzzy = "fuzzy" in line
        elif line.startswith("msgctxt "):
            context = ast.literal_eval(line[len("msgctxt "):])
        elif line.startswith("msgid "):
            current = {"msgctxt": context, "msgid": "", "msgid_plural": None, "msgstr": {}, "fuzzy": fuzzy}
            key = ("msgid",)
        elif line.startswith("msgid_plural "):
            current["msgid_plural"] = ""
            key = ("msgid_plural",)
        elif line.startswith("msgstr"):
            index = int(line[7]) if line.startswith("msgstr[") else 0
            current["msgstr"][index] = ""
            key = ("msgstr", index)
        elif not line.strip() and current is not None:
            entries.append(current)
            current, key, fuzzy, context = None, None, False, None
            continue
        else:
            if not line.startswith('"') or current is None:
                continue
        if current is not None and key is not None:
            text = ast.literal_eval(line[line.index('"'):])
            if key[0] == "msgstr":
                current["msgstr"][key[1]] += text
            else:
                current[key[0]] += text
    return [e for e in entries if e["msgid"]]


def test_every_message_has_a_chinese_translation():
    missing = [
        e["msgid"]
        for e in _entries()
        if e["msgid"] not in TRANSLATED_BY_DJANGO and (e["fuzzy"] or not all(e["msgstr"].values()))
    ]
    assert missing == [], f"untranslated or fuzzy in locale/zh_Hans (run make messages and translate): {missing[:20]}"


def test_the_compiled_catalogue_matches_the_po_file():
    with open(LOCALE / "django.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)

    def compiled_text(entry):
        if entry["msgctxt"] is not None:
            return compiled.pgettext(entry["msgctxt"], entry["msgid"])
        return compiled.gettext(entry["msgid"])

    stale = [
        e["msgid"]
        for e in _entries()
        if e["msgid_plural"] is None and e["msgstr"][0] and compiled_text(e) != e["msgstr"][0]
    ]
    assert stale == [], f"django.mo is older than django.po (run make messages): {stale[:10]}"
