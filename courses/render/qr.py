"""QR codes for certificates: the module matrix of a verification URL, fast.

Pure: text in, a packed module matrix out; no Flask, no PDF. The certificate
renderer turns the matrix into one filled path.
"""
from __future__ import annotations

from functools import cache, lru_cache

import qrcode
from qrcode import LUT as qr_lut
from qrcode import base as qr_base
from qrcode import util as qr_util

# ---- QR code -----------------------------------------------------------------
# qrcode draws the matrix (finder and timing patterns, format bits, data placement,
# masking). Used as-is it costs ~4.6 ms a code -- 20 s for 4,500 certificates --
# in pure-Python Reed-Solomon and in trying all eight masks. So: one fixed mask
# (the standard lets an encoder pick any; every decoder reads the mask from the
# format bits), codewords from the table-driven encoder below, and placement by
# XOR-ing each data bit onto a template learnt from qrcode once per version.
# Tests check the result module for module against qrcode's own output.

QR_EC = qrcode.constants.ERROR_CORRECT_M
QR_MASK = 0


@cache
def _qr_layout(nbytes: int) -> tuple[int, tuple[tuple[int, int], ...], int]:
    """Version, (data, ec) codewords per block and length-field bits for
    ``nbytes`` of byte-mode data: the smallest version that holds it."""
    for version in range(1, 41):
        blocks = qr_base.rs_blocks(version, QR_EC)
        length_bits = qr_util.length_in_bits(qr_util.MODE_8BIT_BYTE, version)
        if 4 + length_bits + 8 * nbytes <= 8 * sum(b.data_count for b in blocks):
            return (version, tuple((b.data_count, b.total_count - b.data_count) for b in blocks),
                    length_bits)
    raise ValueError("verification URL too long for a QR code")


@cache
def _rs_table(ec: int) -> tuple[int, ...]:
    """For each byte f, f times the generator polynomial's tail, packed in an int."""
    gen = qr_lut.rsPoly_LUT.get(ec)
    if gen is None:
        poly = qr_base.Polynomial([1], 0)
        for i in range(ec):
            poly = poly * qr_base.Polynomial([1, qr_base.gexp(i)], 0)
        gen = [poly[i] for i in range(len(poly))]

    def mul(a: int, b: int) -> int:
        return 0 if a == 0 or b == 0 else qr_base.gexp(qr_base.glog(a) + qr_base.glog(b))
    return tuple(int.from_bytes(bytes(mul(f, g) for g in gen[1:]), "big") for f in range(256))


def qr_codewords(data: bytes) -> tuple[int, list[int]]:
    """(version, interleaved data + error-correction codewords) for byte mode, as
    ``qrcode.util.create_data`` would give them."""
    version, blocks, length_bits = _qr_layout(len(data))
    capacity = sum(d for d, _ in blocks)
    value = (((0b0100 << length_bits) | len(data)) << 8 * len(data)) | int.from_bytes(data, "big")
    nbits = 4 + length_bits + 8 * len(data)
    pad = min(8 * capacity - nbits, 4)                   # terminator
    pad += -(nbits + pad) % 8                            # to a byte boundary
    stream = list((value << pad).to_bytes((nbits + pad) // 8, "big"))
    stream = (stream + [0xEC, 0x11] * capacity)[:capacity]
    data_blocks, ec_blocks, offset = [], [], 0
    for dcount, ec in blocks:
        block = stream[offset:offset + dcount]
        offset += dcount
        table, shift, mask, rem = _rs_table(ec), 8 * (ec - 1), (1 << 8 * ec) - 1, 0
        for b in block:                                  # polynomial long division
            rem = ((rem << 8) & mask) ^ table[b ^ (rem >> shift)]
        data_blocks.append(block)
        ec_blocks.append(list(rem.to_bytes(ec, "big")))
    out = []
    for group in (data_blocks, ec_blocks):
        for i in range(max(len(g) for g in group)):
            out.extend(g[i] for g in group if i < len(g))
    return version, out


def _qrcode_matrix(version: int, codewords: list[int]) -> tuple[int, int]:
    """qrcode's own matrix for these codewords, packed: (n, one int holding the
    rows top first, each padded to whole bytes, the leftmost module highest)."""
    qr = qrcode.QRCode(version=version, error_correction=QR_EC, border=0, mask_pattern=QR_MASK)
    qr.data_cache = codewords
    qr.makeImpl(False, QR_MASK)
    n = len(qr.modules)
    bits = "".join("".join("1" if m else "0" for m in row) + "0" * (-n % 8) for row in qr.modules)
    return n, int(bits, 2)


@lru_cache(maxsize=8)
def _qr_template(version: int, count: int) -> tuple[int, int, tuple[tuple[int, ...], ...]]:
    """(n, the packed all-zero-data matrix, per codeword j and nibble position
    h a 16-entry table of what that nibble value XORs onto the matrix).

    Placement and masking are an XOR of each data bit onto a fixed pattern, so
    we learn from qrcode where each bit lands, in 8 * (1 + log2 count) layouts:
    per bit b, one with b set in every codeword (where they land) and one per
    bit k of the codeword index j (which codeword landed where)."""
    n, base = _qrcode_matrix(version, [0] * count)
    index_bits = max(count - 1, 1).bit_length()
    flip = [[0] * 8 for _ in range(count)]          # flip[j][b]: one-bit mask
    for b in range(8):
        diff = _qrcode_matrix(version, [1 << b] * count)[1] ^ base
        spelled = [
            _qrcode_matrix(version, [(1 << b) * ((j >> k) & 1) for j in range(count)])[1] ^ base
            for k in range(index_bits)]
        while diff:
            bit = diff & -diff
            diff ^= bit
            flip[sum(1 << k for k in range(index_bits) if spelled[k] & bit)][b] = bit

    def nibble_table(j: int, shift: int) -> tuple[int, ...]:
        out = []
        for v in range(16):
            mask = 0
            for b in range(4):
                if v >> b & 1:
                    mask ^= flip[j][b + shift]
            out.append(mask)
        return tuple(out)
    tables = tuple(t for j in range(count) for t in (nibble_table(j, 4), nibble_table(j, 0)))
    return n, base, tables


def qr_matrix(text: str) -> tuple[int, bytes]:
    """QR code (EC level M, no quiet zone) of ``text`` in UTF-8 byte mode:
    (n, n rows of ceil(n/8) bytes each, the leftmost module in the high bit)."""
    version, codewords = qr_codewords(text.encode("utf-8"))
    n, matrix, tables = _qr_template(version, len(codewords))
    for j, cw in enumerate(codewords):
        matrix ^= tables[2 * j][cw >> 4] ^ tables[2 * j + 1][cw & 15]
    return n, matrix.to_bytes(n * ((n + 7) // 8), "big")
