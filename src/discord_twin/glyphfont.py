"""Build `static/twin-glyphs.ttf`: the few symbols kimaki prints that stock Debian fonts lack.

A fresh Debian machine with Chromium has DejaVu and Liberation, which have no `⬥ ⬦ ⌛`; the
page would show boxes. Rather than ask every viewer to install a font, the page serves this
one (as an `@font-face` limited by `unicode-range`), drawn here from plain polygons so the
outlines are ours. Run `python -m discord_twin.glyphfont` after changing a shape; a test checks
the committed file matches this source byte for byte (fontTools is pinned in the test extra).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

Point = tuple[float, float]
Contour = list[Point]

FAMILY = "Twin Glyphs"
EM = 1000
ASCENT, DESCENT = 800, -200
ADVANCE = 600  # the width of a DejaVu Sans Mono cell, so box drawing lines up in code blocks
AXIS = 300  # vertical centre of symbols: about half the height of a capital
FIXED_TIME = 3_700_000_000  # head.created/modified, seconds since 1904: keeps builds identical
OUTPUT = Path(__file__).with_name("static") / "twin-glyphs.ttf"


def _rect(x0: float, y0: float, x1: float, y1: float) -> Contour:
    """Clockwise (TrueType's filled direction) rectangle."""
    return [(x0, y0), (x0, y1), (x1, y1), (x1, y0)]


def _reverse(contour: Contour) -> Contour:
    """A hole: the same outline wound the other way."""
    return contour[::-1]


def _diamond(half_w: float, half_h: float) -> Contour:
    cx = ADVANCE / 2
    return [(cx, AXIS - half_h), (cx - half_w, AXIS), (cx, AXIS + half_h), (cx + half_w, AXIS)]


DIAMOND_W, DIAMOND_H, RING = 240, 270, 72


def black_diamond() -> list[Contour]:
    """U+2B25 ⬥: kimaki's bullet for the agent's text."""
    return [_diamond(DIAMOND_W, DIAMOND_H)]


def white_diamond() -> list[Contour]:
    """U+2B26 ⬦: kimaki's notices; a ring `RING` units wide all round."""
    edge_distance = DIAMOND_W * DIAMOND_H / math.hypot(DIAMOND_W, DIAMOND_H)
    ratio = 1 - RING / edge_distance
    inner = _diamond(DIAMOND_W * ratio, DIAMOND_H * ratio)
    return [_diamond(DIAMOND_W, DIAMOND_H), _reverse(inner)]


def heavy_vertical_and_right() -> list[Contour]:
    """U+2523 ┣: tool lines. Spans the whole em so stacked lines join."""
    cx, half = ADVANCE / 2, 60
    return [
        [
            (cx - half, DESCENT),
            (cx - half, ASCENT),
            (cx + half, ASCENT),
            (cx + half, AXIS + half),
            (ADVANCE, AXIS + half),
            (ADVANCE, AXIS - half),
            (cx + half, AXIS - half),
            (cx + half, DESCENT),
        ]
    ]


def black_medium_square() -> list[Contour]:
    """U+25FC ◼: file edits."""
    side = 460
    x0, y0 = (ADVANCE - side) / 2, AXIS - side / 2
    return [_rect(x0, y0, x0 + side, y0 + side)]


def cross_product() -> list[Contour]:
    """U+2A2F ⨯: a failed tool. A plus sign of two bars, turned 45 degrees."""
    arm, half = 250, 42
    plus = [
        (arm, half),
        (half, half),
        (half, arm),
        (-half, arm),
        (-half, half),
        (-arm, half),
        (-arm, -half),
        (-half, -half),
        (-half, -arm),
        (half, -arm),
        (half, -half),
        (arm, -half),
    ]
    turn = math.sqrt(0.5)
    # Rotating by 45° keeps the counter-clockwise order above; reverse it for a filled outline.
    return [_reverse([(ADVANCE / 2 + (s - t) * turn, AXIS + (s + t) * turn) for s, t in plus])]


def _shrunk(triangle: Contour, inset: float) -> Contour:
    """The triangle moved inwards by `inset` on every side (a scaling about its incentre)."""
    p, q, r = triangle
    a, b, c = math.dist(q, r), math.dist(p, r), math.dist(p, q)
    perimeter = a + b + c
    ix = (a * p[0] + b * q[0] + c * r[0]) / perimeter
    iy = (a * p[1] + b * q[1] + c * r[1]) / perimeter
    area = abs((q[0] - p[0]) * (r[1] - p[1]) - (r[0] - p[0]) * (q[1] - p[1])) / 2
    ratio = 1 - inset / (2 * area / perimeter)
    return [(ix + (x - ix) * ratio, iy + (y - iy) * ratio) for x, y in triangle]


def hourglass() -> list[Contour]:
    """U+231B ⌛: an expired prompt. Two plates, two glass bulbs meeting at the neck, sand."""
    left, right, bottom, top, plate, wall = 70, 530, -40, 700, 60, 46
    lo, hi, neck = bottom + plate, top - plate, (bottom + top) / 2
    overlap = 24  # the bulbs' tips cross a little, so the neck reads as one piece
    upper: Contour = [(left + 35, hi), (right - 35, hi), (ADVANCE / 2, neck - overlap)]
    lower: Contour = [(ADVANCE / 2, neck + overlap), (right - 35, lo), (left + 35, lo)]
    sand: Contour = [
        (left + 110, lo + wall + 10),
        (ADVANCE / 2, lo + 170),
        (right - 110, lo + wall + 10),
    ]
    return [
        _rect(left, bottom, right, lo),
        _rect(left, hi, right, top),
        upper,
        _reverse(_shrunk(upper, wall)),
        lower,
        _reverse(_shrunk(lower, wall)),
        sand,
    ]


GLYPHS = {
    0x2B25: ("blackDiamond", black_diamond),
    0x2B26: ("whiteDiamond", white_diamond),
    0x2523: ("heavyVerticalAndRight", heavy_vertical_and_right),
    0x25FC: ("blackMediumSquare", black_medium_square),
    0x2A2F: ("crossProduct", cross_product),
    0x231B: ("hourglass", hourglass),
}
# U+FE0E asks for the text (not emoji) form; kimaki writes `◼︎`. An empty glyph keeps the
# whole cluster in this font instead of sending the browser hunting for another.
TEXT_PRESENTATION = 0xFE0E


def build() -> bytes:
    """The font file's bytes (identical for identical source and fontTools version)."""
    from io import BytesIO

    from fontTools.fontBuilder import FontBuilder  # type: ignore[import-untyped]
    from fontTools.pens.ttGlyphPen import TTGlyphPen  # type: ignore[import-untyped]

    names = [".notdef", "space", "vs15"] + [name for name, _ in GLYPHS.values()]
    cmap = {0x20: "space", TEXT_PRESENTATION: "vs15"}
    cmap.update({code: name for code, (name, _) in GLYPHS.items()})
    glyphs: dict[str, Any] = {}
    metrics: dict[str, tuple[int, int]] = {}
    for name in names:
        pen = TTGlyphPen(None)
        drawing = dict(GLYPHS.values()).get(name)
        contours = drawing() if drawing else ([_rect(80, 0, 520, 700)] if name == ".notdef" else [])
        for contour in contours:
            pen.moveTo(_round(contour[0]))
            for point in contour[1:]:
                pen.lineTo(_round(point))
            pen.closePath()
        glyphs[name] = pen.glyph()
        width = 0 if name == "vs15" else ADVANCE
        xmin = min((round(x) for c in contours for x, _ in c), default=0)
        metrics[name] = (width, xmin)

    builder = FontBuilder(EM, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap(cmap)
    builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics(metrics)
    builder.setupHorizontalHeader(ascent=ASCENT, descent=DESCENT)
    builder.setupNameTable({"familyName": FAMILY, "styleName": "Regular"})
    builder.setupOS2(
        sTypoAscender=ASCENT, sTypoDescender=DESCENT, usWinAscent=ASCENT, usWinDescent=-DESCENT
    )
    builder.setupPost()
    head = builder.font["head"]
    head.created = head.modified = FIXED_TIME
    builder.font.recalcTimestamp = False
    out = BytesIO()
    builder.save(out)
    return out.getvalue()


def _round(point: Point) -> tuple[int, int]:
    return round(point[0]), round(point[1])


def main(argv: list[str] | None = None) -> int:
    target = Path((argv or sys.argv[1:] or [str(OUTPUT)])[0])
    target.write_bytes(build())
    print(f"wrote {target} ({target.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
