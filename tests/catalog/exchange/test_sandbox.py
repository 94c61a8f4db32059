"""The sandbox engine: aggregates only, groups under k withheld, input never becomes SQL."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from catalog.exchange.errors import SandboxRefused
from catalog.exchange.sandbox import AggregateQuery, run_aggregate
from tests.catalog.exchange.world import ROWS, sample_table


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "t.parquet"
    pq.write_table(sample_table(), path)
    return path


def q(**kw: object) -> AggregateQuery:
    return AggregateQuery.model_validate(kw)


def test_groups_smaller_than_k_are_withheld(table: Path) -> None:
    result = run_aggregate(
        table, q(group_by=["区县"], measures=[{"op": "count"}, {"op": "sum", "field": "人口"}]), k=10
    )
    districts = [r["区县"] for r in result.rows]
    assert "临平区" not in districts and len(districts) == 5
    assert result.withheld_groups == 1
    xihu = next(r for r in result.rows if r["区县"] == "西湖区")
    assert xihu["count"] == 12 and xihu["_rows"] == 12
    assert xihu["sum(人口)"] == sum(r[2] for r in ROWS if r[1] == "西湖区")
    # with k=3 the small group is released
    small = run_aggregate(table, q(group_by=["区县"], measures=[{"op": "count"}]), k=3)
    assert small.withheld_groups == 0 and len(small.rows) == 6


def test_whole_table_aggregates_and_a_table_below_k(table: Path) -> None:
    result = run_aggregate(
        table,
        q(
            measures=[
                {"op": "avg", "field": "面积"},
                {"op": "min", "field": "人口"},
                {"op": "max", "field": "区县"},
            ]
        ),
        k=10,
    )
    assert len(result.rows) == 1 and result.rows[0]["min(人口)"] == 1000
    assert result.rows[0]["avg(面积)"] == pytest.approx(sum(r[3] for r in ROWS) / len(ROWS))
    hidden = run_aggregate(table, q(measures=[{"op": "count"}]), k=100)
    assert hidden.rows == [] and hidden.withheld_groups == 1


def test_no_row_level_output_and_no_injection(table: Path) -> None:
    # grouping by the unique id would reveal rows: every group has 1 row, so nothing is released
    result = run_aggregate(table, q(group_by=["id"], measures=[{"op": "max", "field": "人口"}]), k=10)
    assert result.rows == [] and result.withheld_groups == len(ROWS)
    for bad in (
        q(group_by=["区县\" FROM read_parquet('x') --"], measures=[{"op": "count"}]),
        q(measures=[{"op": "sum", "field": "区县"}]),  # sum of text
        q(measures=[{"op": "sum"}]),  # sum of nothing
        q(group_by=["区县", "区县"], measures=[{"op": "count"}]),
        q(measures=[{"op": "count", "field": "nope"}]),
    ):
        with pytest.raises(SandboxRefused):
            run_aggregate(table, bad, k=10)
