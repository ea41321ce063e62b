"""Where text may be cut without breaking a user-perceived character (UAX #29 subset)."""

from __future__ import annotations

import unicodedata

_ZWJ = 0x200D


def safe_cut(text: str, limit: int, *, prefer_space: bool) -> int:
    """An index `0 < i <= limit` where `text` may be cut, or `len(text)` if it fits.

    Prefers cutting after whitespace in the second half of the room, then any grapheme
    boundary; a single cluster longer than the room (pathological) is cut between code
    points, still never inside a surrogate pair.
    """
    if len(text) <= limit:
        return len(text)
    limit = max(limit, 1)
    if prefer_space:
        for i in range(limit, max(limit // 2, 1) - 1, -1):
            if text[i - 1].isspace() and is_grapheme_boundary(text, i):
                return i
    for i in range(limit, 0, -1):
        if is_grapheme_boundary(text, i):
            return i
    if limit > 1 and _is_high_surrogate(text[limit - 1]) and _is_low_surrogate(text[limit]):
        return limit - 1
    return limit


def is_grapheme_boundary(text: str, i: int) -> bool:
    """Whether cutting `text` at index `i` keeps every user-perceived character whole.

    A conservative subset of UAX #29 that covers what models and people actually write.
    """
    if i <= 0 or i >= len(text):
        return True
    before, after = ord(text[i - 1]), ord(text[i])
    if _is_high_surrogate(text[i - 1]) and _is_low_surrogate(text[i]):
        return False
    if (before, after) == (0x0D, 0x0A) or _ZWJ in (before, after):
        return False
    if _extends(after) or _hangul_joins(before, after):
        return False
    if _is_regional_indicator(before) and _is_regional_indicator(after):
        run = 0
        while i - run - 1 >= 0 and _is_regional_indicator(ord(text[i - run - 1])):
            run += 1
        return run % 2 == 0  # flags pair up from the left
    return True


def _extends(code: int) -> bool:
    """Combining marks, variation selectors, skin tones, emoji tags, ZWNJ: glued to the left."""
    if 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F or code == 0x200C:
        return True
    return unicodedata.category(chr(code)) in ("Mn", "Me", "Mc")


def _hangul_joins(before: int, after: int) -> bool:
    leading = 0x1100 <= before <= 0x115F or 0xA960 <= before <= 0xA97F
    vowel_or_trailing = 0x1160 <= after <= 0x11FF or 0xD7B0 <= after <= 0xD7FF
    syllable = 0xAC00 <= after <= 0xD7A3
    return vowel_or_trailing or (leading and (syllable or 0x1100 <= after <= 0x115F))


def _is_regional_indicator(code: int) -> bool:
    return 0x1F1E6 <= code <= 0x1F1FF


def _is_high_surrogate(char: str) -> bool:
    return 0xD800 <= ord(char) <= 0xDBFF


def _is_low_surrogate(char: str) -> bool:
    return 0xDC00 <= ord(char) <= 0xDFFF
