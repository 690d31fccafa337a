"""Passphrases: one normal form, a minimum length, a minimum strength, and no pseudonym.

Every passphrase is put in one normal form (:func:`normalise_passphrase`) both when it is
set and when it is checked, so what a member typed at joining and what they type at the
login form meet even if a keyboard, a password manager or a copy and paste added an
invisible character or a different kind of space. The validators judge the normal form.

Strength is zxcvbn's estimate of how many guesses an attacker needs (decision 0070). The
messages say "passphrase" and tell how to make a good one; Django's own validators are not
used, since their messages say "password".
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from zxcvbn import zxcvbn

# Unicode's default-ignorable code points that are not in category Cf (which is removed
# as a whole): combining grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian
# variation selectors, variation selectors. They draw nothing.
_INVISIBLE = frozenset(
    [
        0x034F,
        0x115F,
        0x1160,
        0x17B4,
        0x17B5,
        0x3164,
        0xFFA0,
        *range(0x180B, 0x1810),
        *range(0xFE00, 0xFE10),
        *range(0xE0100, 0xE01F0),
    ]
)
# Control (tabs, newlines…), format (zero-width space and joiners, BOM, bidi marks, soft
# hyphen), surrogates, line and paragraph separators.
_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

MIN_LENGTH = 12
# zxcvbn's score 4: at least 10^10 guesses. A seized database lets an attacker guess a
# member's passphrase offline against Argon2id; 10^10 guesses is years of many cores.
MIN_GUESSES_LOG10 = 10.0
# zxcvbn's time grows steeply with length and it refuses more than 72 characters; a
# longer passphrase is judged by its first 72 (a strong beginning makes it strong).
_ZXCVBN_MAX = 72
# zxcvbn's dictionaries are English: the commonest Russian and Ukrainian passwords and
# keyboard rows, and words typed with the wrong layout, are added as known words.
_CYRILLIC_COMMON = [
    "пароль",
    "парольпароль",
    "йцукен",
    "йцукенгшщзхъ",
    "йцукенгшщзхї",
    "фывапролджэ",
    "фівапролджє",
    "ячсмитьбю",
    "ячсмитьбю.",
    "привет",
    "привіт",
    "любовь",
    "кохання",
    "солнышко",
    "сонечко",
    "россия",
    "україна",
    "москва",
    "київ",
    "ghbdtn",
    "gfhjkm",
    "qwerty",
    "veche",
    "вече",
]


def normalise_passphrase(passphrase: str) -> str:
    """Return the passphrase in veche's normal form.

    NFKC (so a full-width or non-breaking space is a space, and a composed letter equals
    its decomposed spelling), without control, format or other invisible characters, with
    every run of white space made one space and none at either end.
    """
    text = unicodedata.normalize("NFKC", passphrase)
    kept = "".join(
        char
        for char in text
        if unicodedata.category(char) not in _REMOVED_CATEGORIES and ord(char) not in _INVISIBLE
    )
    return " ".join(kept.split())


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _how_to_choose() -> str:
    return _(
        "A good passphrase is four or five unrelated words chosen at random, for example "
        "by opening a book at random pages and taking one word from each, written with "
        "spaces between them."
    )


class PassphraseLengthValidator:
    """Refuse a passphrase shorter than ``min_length`` characters in its normal form."""

    def __init__(self, min_length: int = MIN_LENGTH) -> None:
        self.min_length = min_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(normalise_passphrase(password)) < self.min_length:
            message = ngettext(
                "A passphrase needs at least %(min)d character; spaces at either end, "
                "repeated spaces and invisible characters do not count.",
                "A passphrase needs at least %(min)d characters; spaces at either end, "
                "repeated spaces and invisible characters do not count.",
                self.min_length,
            ) % {"min": self.min_length}
            raise ValidationError(f"{message} {_how_to_choose()}", code="passphrase_too_short")

    def get_help_text(self) -> str:
        return ngettext(
            "At least %(min)d character.", "At least %(min)d characters.", self.min_length
        ) % {"min": self.min_length}


def _weakness(sequence: list[dict[str, Any]]) -> str:
    """Return one sentence naming what made zxcvbn's guess cheap ("" if nothing stands out)."""
    patterns = {match.get("pattern") for match in sequence}
    if "repeat" in patterns:
        return _("Repeated characters or words, like “aaaa” or “abcabc”, are easy to guess.")
    if "sequence" in patterns:
        return _("Sequences like “1234”, “abcd” or “9876” are easy to guess.")
    if "spatial" in patterns:
        return _("Rows and patterns of keys, like “qwerty” or “asdfgh”, are easy to guess.")
    if any(m.get("pattern") == "dictionary" and m.get("l33t") for m in sequence):
        return _(
            "Common words and passwords stay easy to guess with letters swapped for "
            "look-alike digits or symbols (“p@ssw0rd”)."
        )
    if "dictionary" in patterns:
        return _("Common passwords, names and single common words are easy to guess.")
    if "date" in patterns or "regex" in patterns:
        return _("Dates and years are easy to guess.")
    return ""


class PassphraseStrengthValidator:
    """Refuse a passphrase that zxcvbn expects to fall to fewer than 10^10 guesses."""

    def __init__(self, min_guesses_log10: float = MIN_GUESSES_LOG10) -> None:
        self.min_guesses_log10 = min_guesses_log10

    def validate(self, password: str, user: Any = None) -> None:
        normal = normalise_passphrase(password)
        if not normal:
            return  # the length validator says what is wrong
        known = list(_CYRILLIC_COMMON)
        pseudonym = getattr(user, "pseudonym", "") or ""
        if pseudonym:
            known.append(pseudonym)
        result = zxcvbn(normal[:_ZXCVBN_MAX], user_inputs=known, max_length=_ZXCVBN_MAX)
        if float(result["guesses_log10"]) >= self.min_guesses_log10:
            return
        parts = [_("This passphrase would be easy to guess.")]
        weakness = _weakness(list(result.get("sequence", [])))
        if weakness:
            parts.append(weakness)
        parts.append(_how_to_choose())
        raise ValidationError(" ".join(parts), code="passphrase_too_weak")

    def get_help_text(self) -> str:
        return _how_to_choose()


class NotContainingPseudonymValidator:
    """Refuse a passphrase that contains the member's pseudonym."""

    def validate(self, password: str, user: Any = None) -> None:
        pseudonym = getattr(user, "pseudonym", "") or ""
        if len(pseudonym) >= 3 and _fold(pseudonym) in _fold(normalise_passphrase(password)):
            raise ValidationError(
                _("Your passphrase must not contain your pseudonym."),
                code="password_contains_pseudonym",
            )

    def get_help_text(self) -> str:
        return _("Your passphrase must not contain your pseudonym.")
