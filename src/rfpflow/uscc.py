"""China's unified social credit code (统一社会信用代码, GB 32100-2015).

Every organisation registered in mainland China -- companies, public
institutions, social organisations -- has one 18-character code, and an RFP
asks each vendor for it. Vendors type it by hand, so it is often mistyped:
a letter O for the digit 0, a dropped character, two characters swapped.
The last character is a check character that catches all of these, so
rfpflow checks it at import time instead of discovering the mistake when the
contract is drafted.

Structure of a code::

    position  1     registration authority   1-9, A-G or Y
    position  2     category of organisation (depends on the authority)
    positions 3-8   administrative division code (6 digits)
    positions 9-17  organisation code (GB 11714)
    position  18    check character

The alphabet has 31 characters, ``0-9`` and the capital letters without
I, O, Z, S and V (they are too easily confused with 1, 0, 2, 5 and U). Each
character has its index in the alphabet as value. With the weights
``3**i mod 31`` for positions ``i = 0..16``
(1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28) the check
character is the one whose value is ``31 - (sum(value * weight) mod 31)``,
with 31 written as ``0``.

Because 31 is prime and no weight is a multiple of 31, changing any single
character always changes the sum modulo 31, so every single-character typo is
detected; because the weights (and the implicit weight 1 of the check
character) are pairwise distinct, every swap of two adjacent different
characters is detected too.

The organisation code in positions 9-17 carries its own GB 11714 check
character at position 17. It is deliberately *not* enforced: codes issued
when the old organisation codes were migrated do not all satisfy it, and the
authorities validate the final check character only.

Validation normalises first (:func:`normalize_uscc`: spaces removed,
full-width characters made half-width, letters upper-cased), so a code typed
as ``9135 0100 m000 100y43`` is valid; store the normalised form.
"""

from __future__ import annotations

import unicodedata

__all__ = [
    "ALPHABET",
    "WEIGHTS",
    "check_character",
    "is_valid_uscc",
    "normalize_uscc",
    "validate_uscc",
]

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters a code may contain; a character's value is its index."""

WEIGHTS: tuple[int, ...] = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
"""Weights of positions 1-17 (``3**i mod 31``)."""

_VALUES = {ch: i for i, ch in enumerate(ALPHABET)}

_REGISTRATION_AUTHORITIES = frozenset("123456789ABCDEFGY")

# Letters that never occur in a code, with the character the writer most
# likely meant.
_EXCLUDED_LETTERS = {
    "I": "the digit 1",
    "O": "the digit 0",
    "Z": "the digit 2",
    "S": "the digit 5",
    "V": "the letter U",
}

# Characters removed by normalize_uscc: ordinary and exotic spaces, hyphens
# people use to group the code, and invisible characters pasted along with it.
_SEPARATORS = frozenset(" \t\r\n-_\u00a0\u2009\u202f\u3000\u200b\u200c\u200d\u2060\ufeff")

LENGTH = 18


def normalize_uscc(code: str) -> str:
    """Return ``code`` with spaces and hyphens removed, full-width characters
    made half-width (``９１３５`` -> ``9135``) and letters upper-cased."""
    text = unicodedata.normalize("NFKC", code)
    return "".join(ch for ch in text if ch not in _SEPARATORS and not ch.isspace()).upper()


def check_character(first17: str) -> str:
    """Return the check character for the first 17 characters of a code.

    Raises ``ValueError`` when ``first17`` is not 17 characters of the code
    alphabet (it is not normalised: pass :func:`normalize_uscc` output).
    """
    if len(first17) != LENGTH - 1:
        raise ValueError(f"expected 17 characters, got {len(first17)}")
    total = 0
    for ch, weight in zip(first17, WEIGHTS, strict=True):
        value = _VALUES.get(ch)
        if value is None:
            raise ValueError(f"{ch!r} is not a character of the code alphabet")
        total += value * weight
    return ALPHABET[(31 - total % 31) % 31]


def _describe_illegal(ch: str) -> str:
    if ch in _EXCLUDED_LETTERS:
        return f"contains the letter {ch}, which codes never use (probably {_EXCLUDED_LETTERS[ch]} was meant)"
    if ch.isprintable():
        return f'contains "{ch}", which is not allowed in a code (only digits and capital letters)'
    return f"contains the invisible character U+{ord(ch):04X}, which is not allowed in a code"


def validate_uscc(code: str) -> str | None:
    """Return ``None`` when ``code`` is a valid code, else what is wrong.

    The message is a phrase for a procurement officer, meant to follow the
    code in the caller's message (``统一社会信用代码 "…" has 17 characters,
    expected 18``). ``code`` is normalised first (see :func:`normalize_uscc`).
    """
    text = normalize_uscc(code)
    if not text:
        return "is blank"
    if len(text) != LENGTH:
        return f"has {len(text)} characters, expected {LENGTH}"
    for ch in text:
        if ch not in _VALUES:
            return _describe_illegal(ch)
    if text[0] not in _REGISTRATION_AUTHORITIES:
        return (
            f"starts with {text[0]}, which is not a registration authority code (the first character is 1-9, A-G or Y)"
        )
    division = text[2:8]
    if not division.isdigit():
        return f'has "{division}" as administrative division code (characters 3-8), which must be six digits'
    expected = check_character(text[:17])
    if text[17] != expected:
        return f"check character is {text[17]}, expected {expected} — a character was mistyped"
    return None


def is_valid_uscc(code: str) -> bool:
    """``True`` when :func:`validate_uscc` finds nothing wrong with ``code``."""
    return validate_uscc(code) is None


def with_check_character(first17: str) -> str:
    """The complete 18-character code for the first 17 characters (for samples and tests)."""
    return first17 + check_character(first17)
