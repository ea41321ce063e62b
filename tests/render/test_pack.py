"""Packing rendered items into the fewest messages, deterministically."""

from __future__ import annotations

import itertools
import random

from kimaki.render import (
    MESSAGE_LIMIT,
    Chunk,
    Piece,
    batch,
    pack,
)
from tests.render.helpers import assert_valid_chunks, fences_balanced, is_subsequence, letters


def test_batch_packs_in_order_into_the_fewest_messages() -> None:
    parts = ["⬥ " + str(i) * 600 for i in range(7)]  # 602 chars each: three fit per message
    messages = batch(parts)
    assert len(messages) == 3
    assert "\n".join(messages) == "\n".join(parts)
    assert messages[0] == "\n".join(parts[:3])


def test_only_parts_that_alone_exceed_the_limit_are_split() -> None:
    small, big = "┣ bash `ls`", "\n".join("y" * 99 for _ in range(30))  # 2,999 chars
    chunks = pack([("a", small), ("b", big), ("c", small)])
    assert [c.pieces for c in chunks] == [
        (Piece("a", 0, 1),),
        (Piece("b", 0, 2),),  # 20 lines of 100: too full to share with "a"
        (Piece("b", 1, 2), Piece("c", 0, 1)),
    ]
    assert all(len(c.content) <= MESSAGE_LIMIT for c in chunks)
    assert chunks[0].content == small
    assert chunks[-1].content.endswith("\n" + small)


def test_pack_marks_the_chunk_with_the_last_piece_of_a_notifying_key() -> None:
    long_text = "\n".join("z" * 99 for _ in range(50))
    chunks = pack([("t1", "⬥ step"), ("t2", long_text), ("end", "⬥ done")], notify={"t2"})
    assert [c.notify for c in chunks] == [False, False, False, True]
    assert chunks[-1].keys == ("t2", "end")
    assert pack([("x", "quiet")]) == [Chunk("quiet", (Piece("x", 0, 1),), False)]


def test_pack_skips_blank_items_and_is_deterministic() -> None:
    items = [("a", "one"), ("b", "  \n"), ("c", "two")]
    assert pack(items) == pack(items)
    assert [c.keys for c in pack(items)] == [("a", "c")]


def test_random_inputs_keep_every_invariant() -> None:
    rng = random.Random(20240611)
    atoms = ["word", " ", "\n", "```", "```python", "👨‍👩‍👧", "🇯🇵", "e\u0301", "_*`", "x" * 300]
    for _ in range(400):
        limit = rng.choice([100, 137, 500, MESSAGE_LIMIT])
        items = [
            (k, "".join(rng.choice(atoms) for _ in range(rng.randint(0, 120))))
            for k in range(rng.randint(1, 6))
        ]
        chunks = pack(items, limit)
        assert_valid_chunks([c.content for c in chunks], limit)
        # order: keys in sequence, each key's pieces in sequence, each piece exactly once
        seen = [(p.key, p.index) for c in chunks for p in c.pieces]
        assert seen == sorted(set(seen))
        for key, body in items:
            pieces = [p for c in chunks for p in c.pieces if p.key == key]
            assert [p.index for p in pieces] == list(range(len(pieces)))
            assert bool(pieces) == bool(body.strip())
            if len(body.strip("\n")) <= limit and fences_balanced(body):
                assert len(pieces) <= 1  # a part that fits is never split
        # nothing but whitespace and fence markers is lost; only reopened fences are added
        kept = letters("\n".join(c.content for c in chunks))
        given = letters("\n".join(body for _, body in items))
        assert is_subsequence(given, kept)
        assert len(kept) - len(given) <= sum(len(c.content.split("\n")[0]) for c in chunks)
        # minimal count: no two neighbouring messages could have been one
        for first, second in itertools.pairwise(chunks):
            assert len(first.content) + 1 + len(second.content) > limit
