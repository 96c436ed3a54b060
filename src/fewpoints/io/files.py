"""The bytes of a table file: CSV text (gzip-compressed or not) and Parquet, in and out.

Opening a file checks it is there, readable and of the kind its name says
(:func:`open_check`, :func:`gzip_compressed`, :func:`header`); :func:`read_csv`
and :func:`read_parquet` read it whole as an Arrow table, any failure one
line naming the file; :func:`write_text` writes a table as CSV text in
chunks, its bytes depending only on the table. What the columns mean is the
readers' business (:mod:`fewpoints.io.traces`, :mod:`fewpoints.io.tables`).
"""

from __future__ import annotations

import csv
import gzip
import re
from pathlib import Path

import pandas as pd

from fewpoints.io.messages import why
from fewpoints.schema import FewpointsError, InputError

_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
TEXT_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz", ".gz")
#: What a text file holds where a value is missing (read as missing in number columns only;
#: text columns keep every value as written, so a device called "NA" stays "NA").
NA_TOKENS = ("", "NA", "N/A", "NaN", "nan", "NULL", "null", "None")


def open_check(path: Path) -> bytes:
    """The first bytes of ``path``, after checking it is a readable file."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    try:
        with open(path, "rb") as f:
            return f.read(4)
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({why(exc)})") from None


def gzip_compressed(path: Path, magic: bytes) -> bool:
    """Whether a text file is gzip-compressed, by its first bytes (a .gz name must be)."""
    if magic.startswith(_GZIP_MAGIC):
        return True
    if path.name.lower().endswith(".gz"):
        raise InputError(f"{path}: not a readable CSV file (named .gz but not gzip-compressed)")
    return False


def header(path: Path, sep: str, compressed: bool) -> list[str]:
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rb") as f:
            first = f.readline(1 << 20)
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: not a readable CSV file ({why(exc)})") from None
    if not first.strip():
        raise InputError(f"{path}: the file is empty")
    if b"\x00" in first:
        raise InputError(f"{path}: not a readable CSV file (binary data, not text)")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a readable CSV file (not UTF-8 text)") from None
    names = next(csv.reader([text.rstrip("\r\n")], delimiter=sep), [])
    return names


def _arrow_error(path: Path, exc: Exception, names: list[str] | None = None) -> InputError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    m = re.match(r"In CSV column #(\d+): (.*)", text)
    if m and names is not None and int(m[1]) < len(names):
        text = f"column {names[int(m[1])].strip()}: {m[2]}"
    m = re.match(r"CSV parse error: Expected (\d+) columns, got (\d+): (.*)", text)
    if m:
        text = f"a row has {m[2]} value(s) where the header names {m[1]} columns: {m[3][:80]!r}"
    return InputError(f"{path}: not a readable CSV file ({text})")


def read_csv(path: Path, types: dict[str, object], *, newlines: bool = True):
    """A CSV file (gzip-compressed or not) as an Arrow table; columns not in ``types`` as text.

    Text columns are never missing (an empty cell is the empty string);
    number columns read :data:`NA_TOKENS` as missing.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    magic = open_check(path)
    if magic.startswith(_PARQUET_MAGIC):
        raise InputError(f"{path}: holds Parquet, not CSV text; name it .parquet")
    compressed = gzip_compressed(path, magic)
    sep = "\t" if ".tsv" in path.name.lower() else ","
    names = header(path, sep, compressed)
    stripped = [n.strip() for n in names]
    dup = sorted({n for n in stripped if stripped.count(n) > 1})
    if dup:
        raise InputError(f"{path}: column {dup[0]} appears more than once")
    column_types = {}
    for raw, name in zip(names, stripped, strict=True):
        column_types[raw] = types.get(name, pa.string())
    try:
        stream = pa.input_stream(str(path), compression="gzip" if compressed else None)
        table = pacsv.read_csv(
            stream,
            read_options=pacsv.ReadOptions(block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=newlines),
            convert_options=pacsv.ConvertOptions(
                column_types=column_types,
                null_values=list(NA_TOKENS),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                true_values=["True", "true", "TRUE"],
                false_values=["False", "false", "FALSE"],
            ),
        )
    except (pa.ArrowException, OSError, ValueError, EOFError) as exc:
        if "Empty CSV file" in str(exc):
            raise InputError(f"{path}: the file is empty") from None
        raise _arrow_error(path, exc, names) from None
    return table.rename_columns(stripped)


def read_parquet(path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    magic = open_check(path)
    if not magic.startswith(_PARQUET_MAGIC):
        raise InputError(f"{path}: not a readable Parquet file (no Parquet header)")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: not a readable Parquet file ({first})") from None
    names = [str(n).strip() for n in table.column_names]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"{path}: column {dup[0]} appears more than once")
    return table.rename_columns(names)


_CSV_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_CSV_CHUNK_ROWS = 500_000


def write_text(df: pd.DataFrame, path: Path, *, sep: str, compress: bool, on_rows=None) -> None:
    """CSV text, gzip-compressed or not; the bytes depend only on the table (no name or time in the gzip header).

    Rows are formatted in chunks, so a table of a hundred million rows never
    needs its whole text in memory; ``on_rows(n)`` is called after each chunk.
    """
    with open(path, "wb") as raw:
        gz = (
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0)
            if compress
            else None
        )
        out = gz if gz is not None else raw
        try:
            for start in range(0, max(len(df), 1), _CSV_CHUNK_ROWS):
                chunk = df.iloc[start : start + _CSV_CHUNK_ROWS]
                text = chunk.to_csv(
                    index=False,
                    header=start == 0,
                    sep=sep,
                    date_format=_CSV_TIME_FORMAT,
                    lineterminator="\n",
                )
                out.write(text.encode("utf-8"))
                if on_rows is not None:
                    on_rows(len(chunk))
        finally:
            if gz is not None:
                gz.close()


def require_pyarrow(what: str) -> None:
    """Raise a one-line FewpointsError if pyarrow is not installed."""
    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise FewpointsError(f"{what} needs pyarrow (pip install pyarrow)") from exc
