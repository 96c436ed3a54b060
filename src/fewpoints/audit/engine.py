"""Which engine audits a file: in memory, or the Dask engine when the estimate does not fit.

:func:`estimate_records` counts a file's records (exact for Parquet, from
the size for CSV); :func:`choose_engine` compares the memory an in-memory
audit needs (:data:`BYTES_PER_RECORD`) with the free memory.
"""

from __future__ import annotations

from fewpoints.schema import FewpointsError, InputError

#: Memory the in-memory audit needs per record at its peak (the table, its index, the hourly
#: visits, a coarsened index; measured on the city world, benchmarks/README.md).
BYTES_PER_RECORD = 400


def _parquet_files(path) -> list:
    from pathlib import Path

    path = Path(path)
    if path.is_dir():
        return sorted(f for f in path.rglob("*.parquet") if not f.name.startswith((".", "_")))
    return [path] if path.name.lower().endswith(".parquet") else []


def estimate_records(path) -> int:
    """About how many records a file holds (exact for Parquet, from the size for CSV)."""
    from pathlib import Path

    files = _parquet_files(path)
    if files:
        import pyarrow.parquet as pq

        try:
            return sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        except (OSError, ValueError) as exc:
            raise InputError(
                f"{path}: not a readable Parquet file ({exc})".splitlines()[0]
            ) from None
    size = Path(path).stat().st_size if Path(path).is_file() else 0
    per_row = 20 if str(path).lower().endswith(".gz") else 70  # bytes of CSV text per fix
    return size // per_row


def choose_engine(path, engine: str = "auto", *, available: int | None = None) -> str:
    """``memory`` or ``dask`` for a file: as asked, or (``auto``) by whether the audit fits.

    Raises
    ------
    InputError
        When the Dask engine is asked for (or needed) and the file is not
        Parquet, or the engine is not installed.
    """
    from pathlib import Path

    from fewpoints.io import available_memory

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if engine not in ("auto", "memory", "dask"):
        raise FewpointsError(f"unknown engine {engine!r}; choose auto, memory or dask")
    parquet = bool(_parquet_files(path))
    if engine == "auto":
        have = available_memory() if available is None else available
        need = estimate_records(path) * BYTES_PER_RECORD
        if have is None or need <= have:
            return "memory"
        if not parquet:
            raise InputError(
                f"{path}: auditing it in memory needs about {need / 1e9:.0f} GB and "
                f"{have / 1e9:.0f} GB is free; the Dask engine reads Parquet: convert the file "
                "(e.g. with pyarrow or DuckDB) and audit the Parquet file or folder"
            )
        engine = "dask"
    if engine == "dask":
        from fewpoints.scale import require_dask

        require_dask()
        if not parquet:
            raise InputError(
                f"{path}: the Dask engine reads Parquet (a .parquet file or a folder of them); "
                "use --engine memory for CSV"
            )
    return engine
