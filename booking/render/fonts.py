"""Embedded CJK fonts for the PDF renderers, with per-character fallback.

The fonts ship with the app in ``static/fonts/`` (see ``LICENSES.md`` there), so a
rendered PDF looks the same on every machine and embeds every glyph it uses:

* WenQuanYi Micro Hei (文泉驿微米黑) -- sans/Hei body text, Latin, punctuation.
* AR PL UKai (文鼎PL中楷) -- Kai, for names and titles.
* HanaMinA / HanaMinB (花園明朝) -- subsets holding only what WenQuanYi lacks
  (CJK Ext A, the compatibility blocks, Ext B-F ...), used per character for rare
  name characters such as 䶮 (U+4DAE) or 𠮷 (U+20BB7).

All are TrueType-outline fonts: reportlab cannot embed CFF-outline fonts (Noto CJK).

Renderers call :func:`register_fonts` (idempotent and cheap after the first call),
then :func:`split_runs` to cut a string into runs a single font can draw.
:func:`missing_characters` tells staff, before printing, which characters no
shipped font can draw. This module imports no Flask.
"""
from __future__ import annotations

import threading
from functools import cache, lru_cache
from pathlib import Path

from reportlab import rl_config
from reportlab.lib.rl_accel import escapePDF
from reportlab.pdfbase import pdfmetrics, ttfonts

from booking.render.font_files import MappedFile, lean

FONT_DIR = Path(__file__).resolve().parents[2] / "static" / "fonts"

SANS = "WQYMicroHei"
KAI = "ARPLUKai"
HANA_A = "HanaMinA"
HANA_B = "HanaMinB"

# font name -> (file in FONT_DIR, face index inside a .ttc)
FONT_FILES: dict[str, tuple[str, int]] = {
    SANS: ("wqy-microhei.ttc", 0),   # face 0: WenQuanYi Micro Hei (1 is Mono)
    KAI: ("ukai.ttc", 0),            # face 0: AR PL UKai CN
    HANA_A: ("HanaMinA-subset.ttf", 0),
    HANA_B: ("HanaMinB-subset.ttf", 0),
}

# The preferred font comes first; the rest are tried in order, per character.
# The HanaMin subsets only hold what WenQuanYi lacks, so WenQuanYi must stay ahead
# of them in every chain for the union of the fonts to be covered.
FALLBACK_CHAINS: dict[str, tuple[str, ...]] = {
    SANS: (SANS, HANA_A, HANA_B, KAI),
    KAI: (KAI, SANS, HANA_A, HANA_B),
}

# Before the CJK blocks (Latin, Cyrillic, the middle dot of 阿卜杜拉·艾力 ...) the
# Kai font's glyphs are a clumsy typewriter face, so there WenQuanYi goes first.
NON_CJK_CHAINS: dict[str, tuple[str, ...]] = {
    KAI: (SANS, KAI, HANA_A, HANA_B),
}
_FIRST_CJK = 0x2E80

# Characters that are drawn as nothing and never reported missing: variation
# selectors (reportlab cannot apply them; the base character is drawn), zero-width
# joiners/spaces and the byte-order mark.
_INVISIBLE = frozenset(
    [0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF]
    + list(range(0xFE00, 0xFE10))
    + list(range(0xE0100, 0xE01F0))
)

_lock = threading.Lock()
_registered = False
_faces: dict[str, ttfonts.TTFontFace] = {}  # the fonts loaded so far


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """ToUnicode CMap for one 256-code subset of a TrueType font.

    Replaces ``reportlab.pdfbase.ttfonts.makeToUnicodeCMap``, which formats each
    destination as ``<%04X>``: for a code point beyond U+FFFF that yields five hex
    digits (``<20BB7>``), an odd-length string that PDF readers reject or misread,
    so 𠮷 and other Ext B-F characters could not be copied or searched. A bfchar
    destination must be UTF-16BE, i.e. a surrogate pair for those characters
    (``<D842DFB7>``). Everything else is byte-for-byte what reportlab writes.
    """
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo",
        "<< /Registry (%s)" % fontname,
        "/Ordering (%s)" % fontname,
        "/Supplement 0",
        ">> def",
        "/CMapName /%s def" % fontname,
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<00> <%02X>" % (len(subset) - 1),
        "endcodespacerange",
        "%d beginbfchar" % len(subset),
    ]
    lines += [
        "<%02X> <%s>" % (i, chr(v).encode("utf-16-be", "surrogatepass").hex().upper())
        for i, v in enumerate(subset)
    ]
    lines += [
        "endbfchar",
        "endcmap",
        "CMapName currentdict /CMap defineresource pop",
        "end",
        "end",
    ]
    return "\n".join(lines)


def _patch_reportlab_to_unicode() -> None:
    # TTFont.addObjects looks the function up as a module global at call time,
    # so rebinding the module attribute is enough. Remove once reportlab fixes it.
    ttfonts.makeToUnicodeCMap = _to_unicode_cmap


def _drawable(face, code: int) -> bool:
    """Whether the font maps ``code`` to a glyph with an outline.

    The cmap alone is not enough: AR PL UKai maps 䶮 (U+4DAE), among others, to
    an empty glyph, which would print as a blank. Glyph i is empty when its
    'loca' offsets i and i+1 are equal.
    """
    glyph = face.charToGlyph.get(code)
    pos = face.glyphPos
    return glyph is not None and glyph + 1 < len(pos) and pos[glyph + 1] > pos[glyph]


def register_fonts() -> None:
    """Make the shipped fonts available to reportlab, once per process.

    Safe to call from every renderer on every call: after the first call it is a
    flag check. Raises FileNotFoundError if ``static/fonts`` is incomplete. The
    sans font is loaded at once; the others (58 MB of files in all, ~140 MB once
    parsed) only when a run first needs them, so a worker that prints rosters
    never holds the Kai or HanaMin fonts.
    """
    global _registered
    if _registered:
        return
    with _lock:
        if _registered:
            return
        _patch_reportlab_to_unicode()
        # reportlab wraps every compressed stream in ASCII85 by default, in pure
        # Python: a third of the time of a 4,500-page certificate run, for files
        # 25% larger. Binary streams are just as valid PDF. (Process-wide setting.)
        rl_config.useA85 = 0
        for filename, _ in FONT_FILES.values():
            path = FONT_DIR / filename
            if not path.is_file():
                raise FileNotFoundError(f"shipped font missing: {path}")
        _load(SANS)
        _registered = True


def _load(name: str) -> None:
    """Parse and register one shipped font (the caller holds ``_lock``)."""
    filename, index = FONT_FILES[name]
    # Skip checksum validation: the fonts are ours and it costs time.
    font = ttfonts.TTFont(name, MappedFile(FONT_DIR / filename), subfontIndex=index,
                          validate=0)
    lean(font.face)
    pdfmetrics.registerFont(font)
    # No bold or italic faces ship: map them to the regular face so that
    # <b>/<i> in Paragraph markup cannot make reportlab raise.
    pdfmetrics.registerFontFamily(name, normal=name, bold=name, italic=name,
                                  boldItalic=name)
    _faces[name] = font.face


def ensure_font(name: str) -> None:
    """Load the shipped font ``name`` now if no run has needed it yet."""
    if name not in _faces and name in FONT_FILES:
        register_fonts()
        with _lock:
            if name not in _faces:
                _load(name)


def _has_glyph(font_name: str, code: int) -> bool:
    if font_name not in _faces:
        ensure_font(font_name)
    return _drawable(_faces[font_name], code)


@cache
def _font_for(code: int, preferred_font: str) -> str | None:
    """First font in the preferred font's chain with a glyph for ``code``."""
    chain = NON_CJK_CHAINS.get(preferred_font) if code < _FIRST_CJK else None
    for name in chain or FALLBACK_CHAINS.get(preferred_font, (preferred_font,)):
        if _has_glyph(name, code):
            return name
    return None


@lru_cache(maxsize=8192)
def _split_runs_cached(text: str, preferred_font: str) -> tuple[tuple[str, str], ...]:
    runs: list[tuple[str, str]] = []
    current_font: str | None = None
    chunk: list[str] = []
    for ch in text:
        code = ord(ch)
        if code in _INVISIBLE:
            continue
        if ch.isspace():
            # Spaces have no outline but an advance: keep them in the current
            # run, as a plain space where that font has no such space (tabs,
            # line breaks; reportlab itself turns NBSP into a space).
            font = current_font or preferred_font
            glyphs = pdfmetrics.getFont(font).face.charToGlyph
            if ch != " " and code not in glyphs:
                ch = " "
            if ord(ch) not in glyphs:
                # The HanaMin subsets have no space at all: a space after 䶮 or 𠮷
                # would print as a .notdef box. Take it from a font that has one.
                font = next(name for name in (preferred_font, SANS)
                            if 32 in pdfmetrics.getFont(name).face.charToGlyph)
        else:
            # No font has it: draw with the preferred font (a .notdef box);
            # missing_characters() is how callers find out beforehand.
            font = _font_for(code, preferred_font) or preferred_font
        if font != current_font:
            if chunk:
                runs.append((current_font, "".join(chunk)))
            current_font, chunk = font, []
        chunk.append(ch)
    if chunk:
        runs.append((current_font, "".join(chunk)))
    return tuple(runs)


def split_runs(text: str, preferred_font: str = SANS) -> list[tuple[str, str]]:
    """Cut ``text`` into ``(font_name, run)`` pieces, choosing per character the
    first font of ``preferred_font``'s fallback chain that has a glyph for it."""
    register_fonts()
    ensure_font(preferred_font)
    return list(_split_runs_cached(text, preferred_font))


def missing_characters(text: str) -> list[str]:
    """Characters of ``text`` that no shipped font can draw, each once, in order.

    Whitespace and invisible characters (variation selectors, zero-width
    joiners) are never reported.
    """
    register_fonts()
    seen: list[str] = []
    for ch in text:
        code = ord(ch)
        if code in _INVISIBLE or ch.isspace() or ch in seen:
            continue
        if not any(_has_glyph(name, code) for name in FONT_FILES):
            seen.append(ch)
    return seen


@lru_cache(maxsize=16384)
def _run_units(font_name: str, run: str) -> float:
    """Advance width of ``run`` in ``font_name`` at 1 pt, cached: most strings on
    a page (labels, fixed phrases) repeat on every page."""
    ensure_font(font_name)
    face = pdfmetrics.getFont(font_name).face
    get, default = face.charWidths.get, face.defaultWidth
    return 0.001 * sum(get(ord(ch), default) for ch in run)


def run_width(font_name: str, run: str, size: float) -> float:
    """Width in points of a run that ``font_name`` draws itself (no fallback)."""
    return size * _run_units(font_name, run)


def text_width(text: str, font: str, size: float, char_space: float = 0.0) -> float:
    """Width in points of ``text`` drawn with fallback runs at ``size``."""
    runs = split_runs(text, font)
    width = size * sum(_run_units(name, run) for name, run in runs)
    return width + char_space * sum(len(run) for _, run in runs) if char_space else width


def draw_text(canvas, x: float, y: float, text: str, font: str, size: float,
              align: str = "left", char_space: float = 0.0) -> float:
    """Draw one line of ``text`` on a reportlab canvas with per-character font
    fallback, in the canvas's current fill colour. ``align`` is "left", "centre"
    or "right" relative to ``x``. Returns the width drawn.

    Writes the text operators itself instead of going through reportlab's
    PDFTextObject, which costs ~25 us a string in number formatting and state
    bookkeeping -- a third of a certificate page. The fonts are still
    reportlab's: ``splitString`` assigns the glyphs to embedded subsets. A
    string's operators are cached per canvas (subset codes are fixed per
    document), as labels repeat on every page of a long document.
    """
    cache = canvas.__dict__.setdefault("_fallback_text_ops", {})
    key = (text, font, size, char_space)
    hit = cache.get(key)
    if hit is None:
        hit = _text_ops(canvas._doc, text, font, size, char_space)
        if len(cache) < 4096:
            cache[key] = hit
    width, ops = hit
    if align == "centre":
        x -= width / 2.0
    elif align == "right":
        x -= width
    canvas.addLiteral(f"BT 1 0 0 1 {x:.2f} {y:.2f} Tm {ops}")
    return width


def _text_ops(doc, text: str, font: str, size: float, char_space: float) -> tuple[float, str]:
    """(width, text operators after the text matrix, ending in ET) for a line."""
    runs = split_runs(text, font)
    width = size * sum(_run_units(name, run) for name, run in runs)
    ops = []
    if char_space:
        width += char_space * sum(len(run) for _, run in runs)
        ops.append(f"{char_space:.2f} Tc")
    for name, run in runs:
        ttf = pdfmetrics.getFont(name)
        for subset, data in ttf.splitString(run, doc):
            ops.append(f"{ttf.getSubsetInternalName(subset, doc)} {size:g} Tf "
                       f"({escapePDF(data)}) Tj")
    # Tc is graphics state and outlives ET; reportlab assumes 0 elsewhere.
    ops.append("0 Tc ET" if char_space else "ET")
    return width, " ".join(ops)


def paragraph_markup(text: str, font: str) -> str:
    """Escaped platypus Paragraph markup for ``text`` whose runs outside ``font``
    are wrapped in ``<font name=...>`` tags (the paragraph style sets ``font``)."""
    from xml.sax.saxutils import escape

    parts = []
    for name, run in split_runs(text, font):
        run = escape(run)
        parts.append(run if name == font else f'<font name="{name}">{run}</font>')
    return "".join(parts)
