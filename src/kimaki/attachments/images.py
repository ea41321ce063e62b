"""Images made small enough for models, with Pillow.

Providers refuse or shrink large images: Anthropic takes at most 8000 px a side and
5 MB of base64 per image and works best up to about 1.5k px; OpenAI scales to a
2048 px box. OpenCode 1.18.33 scales prompt images into a 2000 px box and 5 MiB itself,
but only where its resizer is available (else they pass unchanged). So kimaki does it
the same way, whatever OpenCode can do: an image larger than `MAX_EDGE` on its long side
or `MAX_BYTES` in size is scaled down to fit and re-encoded (PNG when it has
transparency, else JPEG). An image within both limits is passed unchanged, animated
GIFs included.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from PIL import Image, UnidentifiedImageError

MAX_EDGE = 2000
MAX_BYTES = 3_750_000
"""Raw bytes; as base64 in a data: URL this stays under 5 MB."""
_QUALITIES = (90, 80, 70, 60)


class UnreadableImage(ValueError):
    """The bytes do not decode as an image."""


def dimensions(data: bytes) -> tuple[int, int]:
    """Width and height from the header (nothing is decoded); `UnreadableImage` if none."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise UnreadableImage(str(exc) or type(exc).__name__) from exc


def fit(data: bytes, mime: str) -> tuple[bytes, str]:
    """The image as models accept it: unchanged when it fits, else smaller (bytes, mime)."""
    width, height = dimensions(data)
    if max(width, height) <= MAX_EDGE and len(data) <= MAX_BYTES:
        return data, mime
    try:
        return _shrink(data)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise UnreadableImage(str(exc) or type(exc).__name__) from exc


def _shrink(data: bytes) -> tuple[bytes, str]:
    with Image.open(io.BytesIO(data)) as image:
        image.seek(0)  # an animation's first frame
        alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        frame = image.convert("RGBA" if alpha else "RGB")
    edge = MAX_EDGE
    while True:
        scaled = frame.copy()
        scaled.thumbnail((edge, edge), Image.Resampling.LANCZOS)
        for encoded, mime in _encodings(scaled, alpha):
            if len(encoded) <= MAX_BYTES:
                return encoded, mime
        edge = edge * 3 // 4  # still too many bytes at this size: smaller


def _encodings(image: Image.Image, alpha: bool) -> Iterator[tuple[bytes, str]]:
    """Ever smaller encodings of one size, made only as far as needed."""
    if alpha:
        yield _encode(image, "PNG", optimize=True), "image/png"
        return
    for quality in _QUALITIES:
        yield _encode(image, "JPEG", quality=quality), "image/jpeg"


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()
