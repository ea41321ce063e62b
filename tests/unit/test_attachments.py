"""Attachments in: what a file is, where it is saved, and the parts it becomes."""

from __future__ import annotations

import base64
import io
import os
import random
import stat
from pathlib import Path

import pytest
from PIL import Image

from kimaki.attachments import INLINE_TEXT_LIMIT, Kind, build, classify, images, save
from kimaki.attachments.saving import Saved, safe_name
from kimaki.opencode.prompt import FileInput, TextInput
from kimaki.store import SessionID


def png(width: int, height: int, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), (40, 120, 220, 128)[: len(mode)]).save(out, "PNG")
    return out.getvalue()


def noise_png(width: int, height: int) -> bytes:
    """An image that does not compress: large in bytes for its size."""
    noise = random.Random(7).randbytes(width * height * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), noise).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "content_type", "data", "kind", "mime"),
    [
        ("dot.png", "image/png", png(2, 2), Kind.IMAGE, "image/png"),
        ("dot.bin", "application/octet-stream", png(2, 2), Kind.IMAGE, "image/png"),
        ("doc.pdf", "application/pdf", b"%PDF-1.4\n...", Kind.PDF, "application/pdf"),
        ("a.txt", "text/plain; charset=utf-8", b"hello", Kind.TEXT, "text/plain"),
        ("a.py", "application/octet-stream", b"print(1)\n", Kind.TEXT, "text/plain"),
        ("a.md", "text/markdown; charset=utf-8", b"# hi", Kind.TEXT, "text/markdown"),
        ("big.log", "text/plain", b"x" * (INLINE_TEXT_LIMIT + 1), Kind.FILE, "text/plain"),
        ("blob", None, b"\x00\x01\xff", Kind.FILE, "application/octet-stream"),
        ("x.zip", "application/zip", b"PK\x03\x04\x00", Kind.FILE, "application/zip"),
    ],
)
def test_classify(name: str, content_type: str | None, data: bytes, kind: Kind, mime: str) -> None:
    assert classify(name, content_type, data) == (kind, mime)


def test_safe_names_stay_in_their_folder_and_keep_their_suffix() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("my report (final).pdf") == "my_report_final_.pdf"
    assert safe_name("...") == "attachment"
    long = safe_name("a" * 200 + ".tar.gz")
    assert len(long) <= 80 and long.endswith(".gz")


def test_a_saved_attachment_is_private_and_round_trips(tmp_path: Path) -> None:
    saved = save(tmp_path, SessionID("ses_1"), "42", 0, "notes.txt", "text/plain", b"hi")
    assert saved.path == tmp_path / "ses_1" / "42-0-notes.txt"
    assert saved.path.read_bytes() == b"hi"
    assert stat.S_IMODE(os.stat(saved.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(saved.path.parent).st_mode) == 0o700
    assert Saved.from_json(saved.to_json()) == saved


def test_a_small_image_is_passed_unchanged() -> None:
    data = png(300, 200)
    assert images.fit(data, "image/png") == (data, "image/png")


def test_a_wide_image_is_scaled_into_the_box() -> None:
    fitted, mime = images.fit(png(3000, 1000), "image/png")
    assert mime == "image/jpeg"  # no transparency: a photo-like encoding
    assert Image.open(io.BytesIO(fitted)).size == (2000, 667)


def test_transparency_stays_png() -> None:
    fitted, mime = images.fit(png(2600, 100, "RGBA"), "image/png")
    assert mime == "image/png"
    assert Image.open(io.BytesIO(fitted)).size == (2000, 77)


def test_an_image_too_heavy_in_bytes_is_made_lighter() -> None:
    heavy = noise_png(1400, 1400)
    assert len(heavy) > images.MAX_BYTES
    fitted, _ = images.fit(heavy, "image/png")
    assert len(fitted) <= images.MAX_BYTES


def test_bytes_that_are_no_image_are_unreadable() -> None:
    with pytest.raises(images.UnreadableImage):
        images.fit(b"\x89PNG\r\n\x1a\n broken", "image/png")


def saved_files(tmp_path: Path) -> list[Saved]:
    session = SessionID("ses_1")
    return [
        save(tmp_path, session, "1", 0, "dot.png", "image/png", png(4, 4)),
        save(tmp_path, session, "1", 1, "notes.md", "text/markdown", b"# Notes\n"),
        save(tmp_path, session, "1", 2, "blob.bin", None, b"\x00" * 2048),
    ]


def test_parts_for_a_model_that_sees_images(tmp_path: Path) -> None:
    image, notes, blob = saved_files(tmp_path)
    built = build([image, notes, blob], lambda mime: mime.startswith("image/"))
    first, second, third = built.parts
    assert isinstance(first, FileInput) and first.mime == "image/png"
    assert first.filename == "dot.png"
    assert base64.b64decode(first.url.split(",", 1)[1]) == image.path.read_bytes()
    assert second == TextInput('<attached-file name="notes.md">\n# Notes\n</attached-file>')
    assert isinstance(third, TextInput)
    assert third.text == (
        f"Attached file blob.bin (application/octet-stream, 2 KB), saved at: {blob.path}"
    )
    assert built.unseen == [] and built.unreadable == []


def test_parts_for_a_model_without_image_input(tmp_path: Path) -> None:
    image, *_ = saved_files(tmp_path)
    built = build([image], lambda mime: False)
    (part,) = built.parts
    assert isinstance(part, TextInput)
    assert "cannot take it in directly" in part.text and str(image.path) in part.text
    assert built.unseen == [image]


def test_a_file_gone_or_broken_is_reported_not_fatal(tmp_path: Path) -> None:
    image, notes, _ = saved_files(tmp_path)
    notes.path.unlink()
    image.path.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    built = build([image, notes], lambda mime: True)
    assert [s.filename for s, _ in built.unreadable] == ["dot.png", "notes.md"]
    (part,) = built.parts  # the broken image is still there to read by path
    assert isinstance(part, TextInput) and str(image.path) in part.text


def test_a_pdf_goes_as_itself_only_to_a_model_that_takes_pdfs(tmp_path: Path) -> None:
    doc = b"%PDF-1.4\n%fake but typed\n"
    saved = save(tmp_path, SessionID("ses_1"), "1", 0, "spec.pdf", "application/pdf", doc)
    built = build([saved], lambda mime: mime == "application/pdf")
    (part,) = built.parts
    assert isinstance(part, FileInput) and part.mime == "application/pdf"
    assert base64.b64decode(part.url.split(",", 1)[1]) == doc  # unchanged: no scaling
    images_only = build([saved], lambda mime: mime.startswith("image/"))
    assert images_only.unseen == [saved]
    (by_path,) = images_only.parts
    assert isinstance(by_path, TextInput) and str(saved.path) in by_path.text
