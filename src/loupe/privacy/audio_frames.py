"""Where the sound of a recording ends: the byte after its last whole MPEG audio frame, FLAC
frame, Ogg page or RIFF chunk.

Decoders stop at the last frame and skip what follows, so bytes a tool appended there (a
note, a phone number, a tag that hides a later one from mutagen) would be served unheard
and unseen. :mod:`loupe.privacy.audio` cuts every file here; where bytes that are not
sound sit *between* frames (decoders resynchronise after them, so they cannot be cut off
without cutting the sound) the file is refused with :class:`~loupe.errors.InvalidInput`.

* **MP3**: frames are walked from the first one by the length their header gives (MPEG
  1, 2 and 2.5, layers I-III); the walk stops at the first byte that does not start a
  whole frame of the same stream. What follows is refused if it holds two chained frames.
  A free-format stream (no bitrate in the header) cannot be walked and is refused.
* **FLAC** (RFC 9639): the last frame is the one whose samples end at STREAMINFO's total;
  it is found from the end (header CRC-8 checked), parsed subframe by subframe to its
  end, and that end is checked by the frame's CRC-16. A stream whose STREAMINFO does not
  give its length is refused.
* **Ogg**: pages are walked by their segment tables; one logical stream only.
* **WAV**: chunks are read within the size the RIFF header declares.

The work is bounded whatever the file holds (a crafted upload must not cost seconds of
CPU): at most :data:`MAX_TRAILER` bytes after the sound are searched (more is refused), at
most :data:`MAX_CHUNKS` RIFF chunks read, at most :data:`MAX_FLAC_TRIES` candidate last
FLAC frames decoded, and candidate frame headers are found by a regular expression, not
byte by byte in Python.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from loupe.errors import InvalidInput

__all__ = [
    "MAX_CHUNKS",
    "MAX_FLAC_TRIES",
    "MAX_TRAILER",
    "flac_sound_end",
    "mp3_sound_end",
    "ogg_sound_end",
    "riff_chunks",
]

MAX_TRAILER = 1 << 20
"""Bytes after the last frame that are searched for more sound: tags are stripped before,
so what is left there is a few bytes of padding or an appended note; more is refused."""
MAX_CHUNKS = 4_096
"""RIFF chunks read (a WAV has a handful: ``fmt``, ``data``, perhaps ``LIST``, ``fact``)."""
MAX_FLAC_TRIES = 4
"""Candidate last FLAC frames decoded (a header's CRC-8 passes by chance once in 256)."""


def _bad(problem: str) -> InvalidInput:
    return InvalidInput(problem, details={"problem": problem})


# --- WAV ------------------------------------------------------------------------------


def riff_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """``(id, start of body, declared size)`` of a WAV file's chunks, read within the size
    its RIFF header declares (bytes after it are not part of the file: they are dropped).
    Raises on a truncated chunk (a declared size past the end of the RIFF)."""
    declared = struct.unpack_from("<I", data, 4)[0] + 8 if len(data) >= 8 else 0
    # Streaming writers leave the size 0 or 0xFFFFFFFF: then the file's end is the RIFF's.
    end = declared if 12 <= declared <= len(data) else len(data)
    chunks: list[tuple[bytes, int, int]] = []
    at = 12
    while at + 8 <= end:
        if len(chunks) == MAX_CHUNKS:
            raise _bad(f"more than {MAX_CHUNKS} RIFF chunks; re-encode the file")
        name, size = data[at : at + 4], struct.unpack_from("<I", data, at + 4)[0]
        if at + 8 + size > end:
            raise _bad(f"truncated: the {name.decode('latin-1')!r} chunk runs past the end")
        chunks.append((name, at + 8, size))
        at += 8 + size + (size & 1)
    return chunks


# --- Ogg ------------------------------------------------------------------------------


def ogg_sound_end(data: bytes) -> int:
    """The end of the last page of an Ogg file that holds one logical stream of whole
    pages. A second (chained or multiplexed) stream carries a comment packet of its own
    that neither libsndfile (which stops after the first) nor mutagen (which empties the
    first) ever looks at: refused, as are bytes that are not pages between two pages."""
    at, serial = 0, None
    while at < len(data):
        if data[at : at + 4] != b"OggS":
            if b"OggS" in data[at:]:
                raise _bad("bytes that are not sound between the Ogg pages; re-encode the file")
            return at
        if at + 27 > len(data):
            raise _bad("truncated: the last Ogg page runs past the end")
        segments = data[at + 26]
        table = data[at + 27 : at + 27 + segments]
        end = at + 27 + segments + sum(table)
        if len(table) < segments or end > len(data):
            raise _bad("truncated: the last Ogg page runs past the end")
        page_serial = data[at + 14 : at + 18]
        if serial is None:
            serial = page_serial
        elif page_serial != serial or data[at + 5] & 0x02:
            raise _bad(
                "an Ogg file with more than one stream (chained or multiplexed); "
                "send one recording per file"
            )
        at = end
    return at


# --- MP3 ------------------------------------------------------------------------------

_V1, _V2, _V25 = 3, 2, 0  # the version bits of an MPEG audio frame header
_RATES = {_V1: (44100, 48000, 32000), _V2: (22050, 24000, 16000), _V25: (11025, 12000, 8000)}
_KBPS = {  # (MPEG-1 or not, layer bits) -> kbit/s by bitrate index (0: free format)
    (True, 3): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 1): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 3): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 1): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}


def _mpeg_frame(data: bytes, at: int) -> tuple[int, int] | None:
    """``(length, stream)`` of the MPEG audio frame whose header is at ``at`` (``stream``:
    version, layer and sample-rate bits, equal in every frame of one stream), or None."""
    if at + 4 > len(data) or data[at] != 0xFF or data[at + 1] & 0xE0 != 0xE0:
        return None
    version, layer = (data[at + 1] >> 3) & 3, (data[at + 1] >> 1) & 3
    bitrate, rate, padding = data[at + 2] >> 4, (data[at + 2] >> 2) & 3, (data[at + 2] >> 1) & 1
    if version == 1 or layer == 0 or bitrate in (0, 15) or rate == 3:
        return None
    bits_per_s = _KBPS[(version == _V1, layer)][bitrate] * 1000
    hz = _RATES[version][rate]
    if layer == 3:  # layer I: slots of 4 bytes
        length = (12 * bits_per_s // hz + padding) * 4
    elif layer == 1 and version != _V1:  # layer III of MPEG-2/2.5: 576 samples a frame
        length = 72 * bits_per_s // hz + padding
    else:
        length = 144 * bits_per_s // hz + padding
    return length, (data[at + 1] & 0x1E) << 2 | rate


def _byte_class(accept: Callable[[int], bool]) -> bytes:
    return b"[" + b"".join(re.escape(bytes([b])) for b in range(256) if accept(b)) + b"]"


# What :func:`_mpeg_frame` can accept: a sync, a version and layer that exist, a bitrate
# that is neither free nor bad, a sample rate that exists. Each match starts a candidate
# (a lookahead, so that candidates may overlap).
_MPEG_SYNC = re.compile(
    b"(?=\xff"
    + _byte_class(lambda b: b & 0xE0 == 0xE0 and (b >> 3) & 3 != 1 and (b >> 1) & 3 != 0)
    + _byte_class(lambda b: (b >> 4) not in (0, 15) and (b >> 2) & 3 != 3)
    + b")"
)


def _chained_frames(data: bytes, stream: int) -> bool:
    """Whether two whole frames of ``stream`` follow each other anywhere in ``data``."""
    for m in _MPEG_SYNC.finditer(data):
        first = _mpeg_frame(data, m.start())
        if first is not None and first[1] == stream:
            second = _mpeg_frame(data, m.start() + first[0])
            if second is not None and second[1] == stream:
                return True
    return False


def mp3_sound_end(data: bytes) -> int:
    """The end of the last whole frame of an MP3 stream that starts at byte 0 (its ID3v2
    tag already removed). :class:`InvalidInput` if frames follow bytes that are not sound."""
    first = _mpeg_frame(data, 0)
    if first is None:
        raise _bad("an MP3 stream whose frames cannot be measured (free format?); re-encode it")
    stream, at = first[1], 0
    while (frame := _mpeg_frame(data, at)) is not None:
        if frame[1] != stream or at + frame[0] > len(data):
            break
        at += frame[0]
    if len(data) - at > MAX_TRAILER:
        raise _bad(f"more than {MAX_TRAILER} bytes that are not sound after the MP3's frames")
    if _chained_frames(data[at:], stream):
        raise _bad("bytes that are not sound between the MP3's frames; re-encode the file")
    return at


# --- FLAC -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _StreamInfo:
    max_block: int
    max_frame: int  # bytes; 0 when the encoder did not know
    channels: int
    bits: int
    total: int  # samples per channel; 0 when the encoder did not know


@dataclass(frozen=True, slots=True)
class _FrameHeader:
    end: int  # the byte after the header's CRC-8
    block: int  # samples per channel in this frame
    first: int  # the number of its first sample
    assignment: int  # channel assignment code
    bits: int  # bits per sample


def _stream_info(data: bytes) -> _StreamInfo:
    info = data[8:42]  # STREAMINFO, the first metadata block (checked by the caller)
    packed = int.from_bytes(info[10:18], "big")
    return _StreamInfo(
        max_block=int.from_bytes(info[2:4], "big"),
        max_frame=int.from_bytes(info[7:10], "big"),
        channels=((packed >> 41) & 7) + 1,
        bits=((packed >> 36) & 31) + 1,
        total=packed & ((1 << 36) - 1),
    )


@cache
def _crc_table(poly: int, width: int) -> tuple[int, ...]:
    top, mask = 1 << (width - 1), (1 << width) - 1
    table = []
    for byte in range(256):
        crc = byte << (width - 8)
        for _ in range(8):
            crc = ((crc << 1) ^ poly) & mask if crc & top else (crc << 1) & mask
        table.append(crc)
    return tuple(table)


def _crc(data: bytes, poly: int, width: int) -> int:
    """CRC-8 (poly 0x07) or CRC-16 (poly 0x8005), MSB first, initial value 0."""
    table, shift, mask = _crc_table(poly, width), width - 8, (1 << width) - 1
    crc = 0
    for byte in data:
        crc = ((crc << 8) & mask) ^ table[(crc >> shift) ^ byte]
    return crc


_BLOCK_SIZES = {1: 192, 2: 576, 3: 1152, 4: 2304, 5: 4608} | {
    code: 256 << (code - 8) for code in range(8, 16)
}
_SAMPLE_BITS = {1: 8, 2: 12, 4: 16, 5: 20, 6: 24, 7: 32}


# The first byte of a UTF-8-like coded number: (mask, marker) by its count of extra bytes.
_NUMBER_LEADS = ((0x80, 0x00), (0xE0, 0xC0), (0xF0, 0xE0), (0xF8, 0xF0), (0xFC, 0xF8),
                 (0xFE, 0xFC), (0xFF, 0xFE))  # fmt: skip


def _coded_number(data: bytes, at: int) -> tuple[int, int] | None:
    """The UTF-8-like coded frame or sample number at ``at`` and the byte after it."""
    lead = data[at]
    extra = next((n for n, (m, k) in enumerate(_NUMBER_LEADS) if lead & m == k), None)
    if extra is None:
        return None
    mask = _NUMBER_LEADS[extra][0]
    tail = data[at + 1 : at + 1 + extra]
    if len(tail) < extra or any(byte & 0xC0 != 0x80 for byte in tail):
        return None
    value = lead & ~mask & 0xFF
    for byte in tail:
        value = value << 6 | byte & 0x3F
    return value, at + 1 + extra


def _frame_header(data: bytes, at: int, info: _StreamInfo) -> _FrameHeader | None:
    """The FLAC frame header at ``at`` if it is one (CRC-8 and fields checked), else None."""
    head = data[at : at + 16]
    if len(head) < 6 or head[0] != 0xFF or head[1] & 0xFE != 0xF8:
        return None
    block_code, rate_code = head[2] >> 4, head[2] & 15
    assignment, size_code = head[3] >> 4, (head[3] >> 1) & 7
    if block_code == 0 or rate_code == 15 or assignment > 10 or size_code == 3 or head[3] & 1:
        return None
    if (assignment + 1 if assignment < 8 else 2) != info.channels:
        return None
    number = _coded_number(data, at + 4)
    if number is None:
        return None
    value, end = number
    block = _BLOCK_SIZES.get(block_code, 0)
    if block_code in (6, 7):
        width = block_code - 5
        block = int.from_bytes(data[end : end + width], "big") + 1
        end += width
    end += {12: 1, 13: 2, 14: 2}.get(rate_code, 0)
    if end >= len(data) or _crc(data[at:end], 0x07, 8) != data[end]:
        return None
    variable = head[1] & 1
    return _FrameHeader(
        end=end + 1,
        block=block,
        first=value if variable else value * info.max_block,
        assignment=assignment,
        bits=_SAMPLE_BITS.get(size_code, info.bits),
    )


class _Bits:
    """Reads a FLAC frame's subframes bit by bit (over a string of '0' and '1')."""

    def __init__(self, data: bytes) -> None:
        self.bits = bin(int.from_bytes(b"\x01" + data, "big"))[3:]  # "0b1": keeps the zeros
        self.at = 0

    def read(self, count: int) -> int:
        if self.at + count > len(self.bits):
            raise EOFError
        value = int(self.bits[self.at : self.at + count] or "0", 2)
        self.at += count
        return value

    def skip(self, count: int) -> None:
        self.at += count
        if self.at > len(self.bits):
            raise EOFError

    def unary(self) -> int:
        one = self.bits.find("1", self.at)
        if one < 0:
            raise EOFError
        zeros, self.at = one - self.at, one + 1
        return zeros


def _residual(bits: _Bits, block: int, order: int) -> None:
    method = bits.read(2)
    if method > 1:
        raise ValueError("reserved residual coding method")
    width, escape = (4, 15) if method == 0 else (5, 31)
    partition_order = bits.read(4)
    per_partition = block >> partition_order
    if block % (1 << partition_order) or per_partition < order:
        raise ValueError("bad partition order")
    for partition in range(1 << partition_order):
        count = per_partition - (order if partition == 0 else 0)
        parameter = bits.read(width)
        if parameter == escape:
            bits.skip(count * bits.read(5))
            continue
        for _ in range(count):
            bits.unary()
            bits.skip(parameter)


def _subframe(bits: _Bits, block: int, sample_bits: int) -> None:
    if bits.read(1):
        raise ValueError("subframe padding bit set")
    kind = bits.read(6)
    if bits.read(1):  # wasted bits per sample, unary-coded minus one
        sample_bits -= bits.unary() + 1
    if kind == 0:  # CONSTANT
        bits.skip(sample_bits)
    elif kind == 1:  # VERBATIM
        bits.skip(block * sample_bits)
    elif 8 <= kind <= 12:  # FIXED predictor of order 0-4
        order = kind - 8
        bits.skip(order * sample_bits)
        _residual(bits, block, order)
    elif kind >= 32:  # LPC of order 1-32
        order = kind - 31
        bits.skip(order * sample_bits)
        precision = bits.read(4) + 1
        if precision == 16:
            raise ValueError("invalid LPC precision")
        bits.skip(5 + order * precision)
        _residual(bits, block, order)
    else:
        raise ValueError("reserved subframe type")


def _frame_end(data: bytes, at: int, head: _FrameHeader, channels: int) -> int | None:
    """The end of the frame at ``at`` (its CRC-16 checked), or None if it is not one."""
    # A frame holds at most 33 bits a sample (a 32-bit side channel), plus its header.
    bits = _Bits(data[head.end : head.end + channels * head.block * 5 + 64])
    side = {8: 1, 9: 0, 10: 1}.get(head.assignment)  # the side channel has one bit more
    try:
        for channel in range(channels):
            _subframe(bits, head.block, head.bits + (channel == side))
    except (EOFError, ValueError):
        return None
    end = head.end + (bits.at + 7) // 8 + 2
    if end > len(data) or _crc(data[at : end - 2], 0x8005, 16) != int.from_bytes(
        data[end - 2 : end], "big"
    ):
        return None
    return end


def flac_sound_end(data: bytes, frames_at: int) -> int:
    """The end of the last frame of a FLAC file whose metadata (STREAMINFO first) ends at
    ``frames_at``. :class:`InvalidInput` when its first frame is not there, its length is
    unknown, or its last frame cannot be found."""
    info = _stream_info(data)
    if _frame_header(data, frames_at, info) is None:
        raise _bad("bytes that are not sound between the FLAC metadata and its first frame")
    if info.total == 0:
        raise _bad("a FLAC file that does not say how long it is (STREAMINFO); re-encode it")
    # The last frame starts within a frame's length (at most 33 bits a sample and its
    # header) and MAX_TRAILER bytes of the end.
    longest = info.max_frame or info.channels * max(info.max_block, 1) * 33 // 8 + 32
    start = max(frames_at, len(data) - MAX_TRAILER - longest)
    candidates = [m.start() for m in _FLAC_SYNC.finditer(data, start)]
    tries = 0
    for at in reversed(candidates):
        head = _frame_header(data, at, info)
        if head is not None and head.first + head.block == info.total:
            end = _frame_end(data, at, head, info.channels)
            if end is not None:
                return end
            tries += 1
            if tries == MAX_FLAC_TRIES:
                break
    raise _bad("cannot find the end of the FLAC stream (its last frame); re-encode it")


_FLAC_SYNC = re.compile(b"\xff[\xf8\xf9]")  # what _frame_header can accept first
