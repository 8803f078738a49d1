"""Tests for rfpflow.uscc (unified social credit codes, GB 32100-2015)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rfpflow.uscc import (
    ALPHABET,
    WEIGHTS,
    check_character,
    is_valid_uscc,
    normalize_uscc,
    validate_uscc,
)

# Public codes, each checked below both by the module and by an independent
# computation (weights as powers of 3 modulo 31, values looked up with
# str.index) written inside this test file.
VALID_CODES = [
    "91350100M000100Y43",
    "914403001922038216",
    "91330100716105852F",
    "9144030071526726XG",
    "91110108551385082Q",
    "91440300708461136T",
    "12100000400000624D",
    "91110000802100433B",
]

BASE = "91350100M000100Y43"


def independent_check(first17: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    total = sum(alphabet.index(ch) * pow(3, i, 31) for i, ch in enumerate(first17))
    remainder = 31 - total % 31
    return alphabet[0 if remainder == 31 else remainder]


def test_alphabet_and_weights_follow_the_standard() -> None:
    assert len(ALPHABET) == 31
    assert not set("IOZSV") & set(ALPHABET)
    assert tuple(pow(3, i, 31) for i in range(17)) == WEIGHTS
    assert WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def test_hand_computation_of_one_code() -> None:
    # 9 1 3 5 0 1 0 0 M(21) 0 0 0 1 0 0 Y(30) 4
    products = [9 * 1, 1 * 3, 3 * 9, 5 * 27, 0, 1 * 26, 0, 0, 21 * 20, 0, 0, 0, 1 * 8, 0, 0, 30 * 30, 4 * 28]
    assert sum(products) == 1640
    assert 1640 % 31 == 28
    assert 31 - 28 == 3
    assert check_character(BASE[:17]) == "3" == BASE[17]


@pytest.mark.parametrize("code", VALID_CODES)
def test_known_valid_codes(code: str) -> None:
    assert independent_check(code[:17]) == code[17]
    assert check_character(code[:17]) == code[17]
    assert validate_uscc(code) is None
    assert is_valid_uscc(code)


def test_every_single_character_mutation_is_detected() -> None:
    count = 0
    for pos in range(18):
        for ch in ALPHABET:
            if ch == BASE[pos]:
                continue
            mutated = BASE[:pos] + ch + BASE[pos + 1 :]
            assert not is_valid_uscc(mutated), mutated
            count += 1
    assert count == 18 * 30


@pytest.mark.parametrize("code", VALID_CODES)
def test_every_adjacent_swap_is_detected(code: str) -> None:
    for pos in range(17):
        if code[pos] == code[pos + 1]:
            continue
        swapped = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2 :]
        assert not is_valid_uscc(swapped), swapped


def test_check_character_zero_case() -> None:
    # Find a prefix whose weighted sum is a multiple of 31: the check is "0".
    first16 = BASE[:16]
    for ch in ALPHABET:
        if independent_check(first16 + ch) == "0":
            assert check_character(first16 + ch) == "0"
            assert is_valid_uscc(first16 + ch + "0")
            break
    else:  # pragma: no cover - the last weight is invertible modulo 31
        pytest.fail("no prefix with check character 0")


def test_wrong_length_message() -> None:
    assert validate_uscc(BASE[:17]) == "has 17 characters, expected 18"
    assert validate_uscc(BASE + "1") == "has 19 characters, expected 18"
    assert validate_uscc("") == "is blank"


@pytest.mark.parametrize(
    ("letter", "hint"),
    [("O", "digit 0"), ("I", "digit 1"), ("Z", "digit 2"), ("S", "digit 5"), ("V", "letter U")],
)
def test_excluded_letters_are_named(letter: str, hint: str) -> None:
    code = BASE[:10] + letter + BASE[11:]
    message = validate_uscc(code)
    assert message is not None
    assert f"contains the letter {letter}, which codes never use" in message
    assert hint in message


def test_other_illegal_characters() -> None:
    message = validate_uscc(BASE[:10] + "#" + BASE[11:])
    assert message is not None and 'contains "#"' in message
    message = validate_uscc(BASE[:10] + "\x01" + BASE[11:])
    assert message is not None and "U+0001" in message


def test_check_character_message() -> None:
    code = BASE[:17] + "4"
    assert validate_uscc(code) == "check character is 4, expected 3 — a character was mistyped"


def test_registration_authority_and_division() -> None:
    # Valid check character but impossible first character.
    first17 = "H" + BASE[1:17]
    message = validate_uscc(first17 + check_character(first17))
    assert message is not None and "registration authority" in message
    first17 = BASE[:3] + "A" + BASE[4:17]
    message = validate_uscc(first17 + check_character(first17))
    assert message is not None and "administrative division" in message


def test_normalize_and_validate_tolerate_typing() -> None:
    typed = " ９１３５ ０１００-m０００ 100y43\u200b "
    assert normalize_uscc(typed) == BASE
    assert is_valid_uscc(typed)
    assert normalize_uscc("91350100m000100y43") == BASE


def test_check_character_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        check_character("123")
    with pytest.raises(ValueError):
        check_character("9135010OM000100Y4")


@given(st.text(alphabet=ALPHABET, min_size=17, max_size=17))
def test_check_character_matches_independent_computation(first17: str) -> None:
    assert check_character(first17) == independent_check(first17)
