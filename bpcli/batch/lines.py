"""Reading batch input: the problem lines of (name, raw lines) sources, decoded and numbered,
with what cannot be read made a problem that fails. `solve` and `vector` both read through
here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import cast

# source, line number, text, and what it is: False a line, True a whole `.bp` file, or the
# message (a str) of a line that could not be read.
Line = tuple[str, int, str, "bool | str"]
Raw = bytes | int  # a raw line, or the length of one too long to read (see bpcli.streams)
Source = tuple[str, Iterable[Raw]]  # a name and its raw lines
BOM = b"\xef\xbb\xbf"


BLANK = " \t\r\n\x0b\x0c"  # what a blank line may hold: ASCII white space, as bytes.strip()


def read_lines(sources: Iterable[Source], first: int = 1) -> Iterator[Line]:
    """The problems of (name, raw lines) sources (see `bpcli.streams.batch_sources`): each
    line that is not blank or a comment, or a whole `.bp` file; a line that cannot be read
    (not UTF-8, too long) is a problem that fails. (`first`: the number of the first line.)"""
    for name, lines in sources:
        if name.endswith(".bp"):
            for raw in lines:
                yield name, 1, *_whole_text(raw)
            continue
        for number, raw in enumerate(lines, start=first):
            if type(raw) is not bytes:
                yield name, number, "", _long_line(cast(int, raw))
                continue
            if number == 1 and raw.startswith(BOM):
                raw = raw[3:]
            try:
                text = raw.decode("utf-8").strip(BLANK)
            except UnicodeDecodeError as err:
                if not raw.lstrip().startswith(b"#"):
                    yield name, number, "", _not_utf8("the line", raw, err)
                continue
            if text and not text.startswith("#"):
                yield name, number, text, False


def _whole_text(raw: Raw) -> tuple[str, bool | str]:
    from bpcli.limits import MAX_TEXT_BYTES, size_text

    if type(raw) is not bytes:
        return "", (
            f"the file is larger than {size_text(MAX_TEXT_BYTES)}, the most bpcli"
            " reads as one program (see Limits in the README)"
        )
    try:
        return raw.decode("utf-8-sig"), True
    except UnicodeDecodeError as err:
        return "", _not_utf8("the file", raw, err)


def _long_line(size: int) -> str:
    from bpcli.limits import MAX_LINE_BYTES, size_text

    return (
        f"the line has {size:,} bytes: more than {size_text(MAX_LINE_BYTES)}, the most"
        " bpcli reads as one line of batch input (see Limits in the README)"
    )


def _not_utf8(what: str, raw: bytes, err: UnicodeDecodeError) -> str:
    return f"{what} is not UTF-8 text: byte {err.start + 1} of it is 0x{raw[err.start]:02x}"
