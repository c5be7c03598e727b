"""Data types only the legacy Fitbit Web API has (beside the v4 ones its rows also fill).

``heart-rate-average``: the legacy API's coarse intraday heart rate (``detail-level`` ``1min``
or ``15min``, what an app without intraday access gets) is the mean over each minute or quarter
hour, not a reading. It is kept apart from ``heart_rate`` (instants, one per reading) so that a
per-minute mean never interleaves silently with another source's second-level readings; its
resolution is visible as ``end_time - start_time``. No API of the v4 family serves it, so the
v4 sync does not walk it (it is not in ``STORED_TYPES``), but the store creates its table and
``vault.frame("heart-rate-average")`` reads it.
"""

from __future__ import annotations

from fitvault.catalog import Column, DataType, Table, cols
from fitvault.catalog import RecordKind as K

HEART_RATE_AVERAGE_TABLE = Table(
    "heart_rate_average",
    (
        *cols(
            "start_time TIMESTAMPTZ, end_time TIMESTAMPTZ, utc_offset_s INTEGER, local_date DATE"
        ),
        Column("bpm", "SMALLINT", "bpm", "mean heart rate over [start_time, end_time)"),
        Column("device", "VARCHAR", doc="the data source's device (or app) as the API names it"),
        Column("platform", "VARCHAR", doc="FITBIT, HEALTH_CONNECT, … (the data source's platform)"),
        Column("source", "VARCHAR", doc="where fitvault got the row: google-health-api, …"),
    ),
    key=("start_time", "device"),
    range_column="start_time",
)

TYPES: tuple[DataType, ...] = (
    DataType(
        "heart-rate-average", K.INTERVAL, "health_metrics_and_measurements",
        readable=False, custom_tables=(HEART_RATE_AVERAGE_TABLE,), per_day=1440,
        doc="mean heart rate per minute (or quarter hour): the legacy API's 1min/15min detail",
    ),
)  # fmt: skip
