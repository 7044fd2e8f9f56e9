"""The sweep's results as Parquet: rows written in batches as points finish (memory stays flat),
then gathered into ``results.parquet``, one row per point in point order.

Batches are files ``parts/part-NNNNN.parquet``, each complete when written, so a sweep that
stops part-way leaves every finished batch readable and a rerun skips the points it holds (by
the point's content key).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

FIGURE_TYPES = {"worst_margin": pa.float64(), "worst_rule": pa.string(),
                "design_passed": pa.bool_(), "step_s": pa.float64(), "mfu": pa.float64(),
                "tokens_per_s_per_gpu": pa.float64(), "cost_per_gpu_hour_usd": pa.float64(),
                "landed_cost_usd": pa.float64(), "domestic_share": pa.float64(),
                "racks_per_week": pa.float64(), "gw_by_end": pa.float64(),
                "racks_total": pa.float64()}
BATCH_ROWS = 256


def schema(parameters: Mapping[str, Sequence[Any]]) -> pa.Schema:
    """Columns: point, key, status, error, one per parameter (float64 when every value given
    is a number, else text), then the headline figures."""
    fields = [pa.field("point", pa.int64()), pa.field("key", pa.string()),
              pa.field("status", pa.string()), pa.field("error", pa.string())]
    for name, values in parameters.items():
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        fields.append(pa.field(name, pa.float64() if numeric else pa.string()))
    fields += [pa.field(name, kind) for name, kind in FIGURE_TYPES.items()]
    return pa.schema(fields)


def _cell(value: Any, kind: pa.DataType) -> Any:
    if value is None:
        return None
    if kind == pa.string():
        return str(value)
    return bool(value) if kind == pa.bool_() else float(value)


class PartWriter:
    """Rows in, a Parquet file per batch out."""

    def __init__(self, folder: Path, table_schema: pa.Schema) -> None:
        self.folder, self.schema = folder, table_schema
        self.folder.mkdir(parents=True, exist_ok=True)
        self.rows: list[dict[str, Any]] = []
        self.count = len(list(self.folder.glob("part-*.parquet")))

    def add(self, row: Mapping[str, Any]) -> None:
        self.rows.append({f.name: _cell(row.get(f.name), f.type) for f in self.schema})
        if len(self.rows) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        path = self.folder / f"part-{self.count:05d}.parquet"
        pq.write_table(pa.Table.from_pylist(self.rows, self.schema), path)
        self.rows, self.count = [], self.count + 1


def done_keys(folder: Path) -> set[str]:
    """Keys of the points whose rows earlier runs wrote (batches that cannot be read are
    ignored: their points run again)."""
    keys: set[str] = set()
    for path in sorted(folder.glob("part-*.parquet")):
        try:
            keys.update(pq.read_table(path, columns=["key"]).column("key").to_pylist())
        except (pa.ArrowInvalid, OSError):
            continue
    return keys


def gather(folder: Path, order: Sequence[str], table_schema: pa.Schema) -> pa.Table:
    """This sweep's rows (by key, in `order`), numbered by their place in it."""
    place = {key: i for i, key in enumerate(order)}
    tables = [t for t in _readable(folder.glob("part-*.parquet"), table_schema)]
    table = pa.concat_tables(tables) if tables else table_schema.empty_table()
    keys = table.column("key").to_pylist()
    keep, seen = [], set()
    for row, key in enumerate(keys):
        if key in place and key not in seen:
            keep.append(row)
            seen.add(key)
    table = table.take(pa.array(keep, pa.int64()))
    points = pa.array([place[k] for k in table.column("key").to_pylist()], pa.int64())
    table = table.set_column(0, "point", points)
    return table.sort_by("point")


def _readable(paths: Iterable[Path], table_schema: pa.Schema) -> Iterable[pa.Table]:
    for path in sorted(paths):
        try:
            table = pq.read_table(path)
        except (pa.ArrowInvalid, OSError):
            continue
        if table.schema.equals(table_schema):
            yield table
