"""Shipped fonts as reportlab reads them, without a private copy per worker.

reportlab's TrueType parser reads a whole font file into memory and turns its glyph
offsets and metrics into a Python object per glyph; for the four shipped CJK fonts that is
~114 MB in every worker that ever printed. Here the file is memory-mapped read-only (its
pages live in the page cache, shared by all workers), those tables are decoded from the map
when read, and what is never read without uharfbuzz is dropped. The PDFs are byte for byte
the same (``tests/test_renderers_pdf.py``). Imports no Flask.
"""
from __future__ import annotations

import mmap
import struct
from pathlib import Path

from reportlab.pdfbase import ttfonts


class MappedFile:
    """A font file for reportlab's parser, read through a read-only memory map: its bytes
    stay in the page cache, shared by every worker, instead of a private copy per process
    (58 MB for the four files). reportlab only slices what ``read()`` returns."""

    def __init__(self, path: Path):
        self.name = str(path)
        with open(path, "rb") as file:
            self._map = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)

    def read(self) -> mmap.mmap:
        return self._map


class _Window:
    """A table of a mapped font, sliced without copying it whole: reportlab's subsetting
    takes the entire 'glyf' table (up to 15 MB) to cut out a handful of glyphs, per PDF."""

    def __init__(self, data, start: int, length: int):
        self._data, self._start, self._end = data, start, start + length

    def __getitem__(self, part: slice) -> bytes:
        first, last, _ = part.indices(self._end - self._start)
        return self._data[self._start + first:self._start + max(first, last)]


class _Table:
    """A read-only sequence of big-endian numbers in a mapped font's table, decoded when
    read: the glyph offsets ('loca') and metrics ('hmtx') reportlab parses into lists of a
    Python object per glyph (tens of thousands a font) and then reads a few of per PDF."""

    def __init__(self, data, offset: int, length: int, item: struct.Struct,
                 last: tuple[int, int] | None = None, scale=None):
        self._data, self._offset, self._length, self._item = data, offset, length, item
        self._scale = scale
        self._last = last  # 'hmtx': (count of full entries, their offset) after which
        # only left side bearings follow, with the last full entry's advance width

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int):
        if not 0 <= index < self._length:
            raise IndexError(index)
        if self._last is None:
            value = self._item.unpack_from(self._data, self._offset + self._item.size * index)
            return value if len(value) > 1 else value[0]
        full, offset = self._last
        if index < full:
            return _HMETRIC.unpack_from(self._data, offset + 4 * index)
        # reportlab's parser gives these the last advance width *scaled* to 1000 units
        # (its loop variable is rebound to the scaled value), and subsets with that: so here
        return (self._scale(_HMETRIC.unpack_from(self._data, offset + 4 * (full - 1))[0]),
                _USHORT.unpack_from(self._data, offset + 4 * full + 2 * (index - full))[0])


_USHORT, _ULONG, _HMETRIC = struct.Struct(">H"), struct.Struct(">L"), struct.Struct(">HH")


def _loca(face) -> _Table:
    data = face._ttf_data
    long_offsets = _USHORT.unpack_from(data, face.get_table_pos("head")[0] + 50)[0]
    offset = face.get_table_pos("loca")[0]
    if long_offsets:
        return _Table(data, offset, face.numGlyphs + 1, _ULONG)

    class _Short(_Table):  # short offsets are stored halved
        def __getitem__(self, index: int) -> int:
            return super().__getitem__(index) << 1
    return _Short(data, offset, face.numGlyphs + 1, _USHORT)


def _hmtx(face) -> _Table:
    data = face._ttf_data
    full = _USHORT.unpack_from(data, face.get_table_pos("hhea")[0] + 34)[0]
    return _Table(data, 0, face.numGlyphs, _HMETRIC, (full, face.get_table_pos("hmtx")[0]),
                  face._pdfScale)


def lean(face) -> None:
    """Memory a worker need not hold for a parsed face: 'glyf' sliced in place, glyph
    offsets and metrics read from the map, and the glyph -> characters lists (a quarter of
    a million lists for the four fonts), which reportlab reads only to shape text with
    uharfbuzz, not installed here."""
    loca, hmtx = _loca(face), _hmtx(face)
    assert len(loca) == len(face.glyphPos) and loca[len(loca) - 1] == face.glyphPos[-1]
    assert len(hmtx) == len(face.hmetrics) and hmtx[len(hmtx) - 1] == face.hmetrics[-1]
    face.glyphPos, face.hmetrics = loca, hmtx
    table = type(face).get_table

    def get_table(tag: str):
        if tag == "glyf":
            return _Window(face._ttf_data, *face.get_table_pos(tag))
        return table(face, tag)
    face.get_table = get_table
    if getattr(ttfonts, "uharfbuzz", None) is None:
        face.glyphToChar = {}
