"""The crashes the fuzzer found, each with its minimal input: now a FitvaultError (or, where
the body is not fitvault's to judge, a quiet pass) instead of another exception."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import httpx2
import pytest

from fitvault import auth, catalog, http, legacy_auth
from fitvault._errors import AuthError, DataError
from fitvault.normalise import fitbit_legacy as legacy
from fitvault.normalise import takeout
from fitvault.normalise.fitbit_legacy import saved
from fitvault.normalise.google_health import normalise, page_token
from fitvault.normalise.takeout._common import Context
from fitvault.sources import google_health as v4_source
from tests.fuzz import seeds

# Deeper than any recursive decoder goes: msgspec and json raised RecursionError.
DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_IN_A_PAGE = b'{"dataPoints": [{"unknownMember": ' + DEEP + b"}]}"


@pytest.mark.parametrize("family", [f.name for f in takeout.FAMILIES if f.name in (
    "heart_rate", "steps", "sleep", "exercise", "weight")])  # fmt: skip
def test_deep_nesting_in_a_takeout_file(family: str) -> None:
    """heart_rate (fast path), steps (typed decoder), sleep/exercise/weight (json_array)."""
    with pytest.raises(DataError, match="not valid JSON"):
        takeout.parse(takeout.by_name(family), DEEP, Context("UTC"))
    with pytest.raises(DataError, match="not valid JSON"):
        takeout.parse(takeout.by_name(family), b'[{"x": ' + DEEP + b"}]", Context("UTC"))


@pytest.mark.parametrize("name", ["heart-rate", "sleep", "steps", "floors"])
def test_deep_nesting_in_a_v4_page(name: str) -> None:
    """The heart-rate fast path's check, sleep's and the declared decoders, the token scan."""
    with pytest.raises(DataError, match="not valid JSON"):
        normalise(catalog.get(name), DEEP_IN_A_PAGE)
    with pytest.raises(DataError, match="unreadable page"):
        page_token(b'{"a": ' + DEEP + b', "nextPageToken": "x", "b": 1}')


@pytest.mark.parametrize("body", [DEEP, b"[INFO] saved\n" + DEEP], ids=["strict", "lenient"])
def test_deep_nesting_in_a_legacy_body(body: bytes) -> None:
    """Both the strict decoder and the lenient one (log lines before the JSON)."""
    with pytest.raises(DataError, match="nested deeper"):
        legacy.parse(body)


def test_saved_tables_with_an_empty_time_or_an_infinite_bpm() -> None:
    """``Time,State`` with an empty first time (ValueError); a heart rate of ``inf``
    (OverflowError from round)."""
    with pytest.raises(DataError, match="bad time"):
        saved.read("sleep20240309.csv", b"Time,State,Interpreted\n,2,RESTLESS\n", "UTC")
    with pytest.raises(DataError, match="not a number"):
        saved.read("heart20240309.csv", b"Time,Heart Rate\n00:00:00,inf\n", "UTC")


@pytest.mark.parametrize(
    "load",
    [
        lambda d: auth.TokenStore(d).load(),
        auth.Account.load,
        lambda d: legacy_auth.LegacyTokenStore(d).load(),
        legacy_auth.LegacyAccount.load,
    ],
    ids=["token", "account", "legacy-token", "legacy-account"],
)
def test_deep_nesting_in_a_token_or_account_file(tmp_path: Path, load: Any) -> None:
    """A damaged file says so and asks for `fitvault auth` again."""
    for name in (auth.TOKEN_FILE, auth.ACCOUNT_FILE, legacy_auth.TOKEN_FILE,
                 legacy_auth.ACCOUNT_FILE):  # fmt: skip
        (tmp_path / name).write_bytes(DEEP)
    with pytest.raises(AuthError, match="damaged"):
        load(tmp_path)


def _json_response(body: bytes, status: int = 200) -> httpx2.Response:
    return httpx2.Response(status, content=body, headers={"content-type": "application/json"})


def test_deep_nesting_in_an_http_answer() -> None:
    """Whole but too deep is not retried as a cut-short body (the parser refuses it, naming
    the request); an error body that deep still gives a status line."""
    assert http._check_json(_json_response(DEEP_IN_A_PAGE)) is None
    assert http.parse_error(_json_response(DEEP, 400))[2] == "HTTP 400 with an unreadable JSON body"
    assert legacy_auth.legacy_error(DEEP) == ("", "")


class _Answers:
    """Stands in for the API client: every GET answers ``body``."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def get(self, path: str, **_: object) -> httpx2.Response:
        return _json_response(self.body)


def test_deep_nesting_in_the_account_answers() -> None:
    """The v4 profile/settings answers, read by the sign-in."""
    with pytest.raises(DataError, match="GET /v4/users/me/profile: response is not JSON"):
        asyncio.run(v4_source._json(_Answers(DEEP), "/v4/users/me/profile"))  # type: ignore[arg-type]


def test_a_member_over_the_per_file_limit_is_refused_unread(tmp_path: Path) -> None:
    """The 2 GB member (tests/fuzz/test_named.py) is refused from the listing; here the limit
    itself, with a small one."""
    from fitvault.importer import Limits, import_archive
    from fitvault.store import Store
    from tests.takeout.conftest import make_zip

    body = seeds.TAKEOUT["steps"][1]
    z = make_zip(tmp_path / "t.zip", {"Takeout/Fitbit/" + seeds.TAKEOUT["steps"][0]: body})
    with Store(tmp_path / "vault") as store:
        summary = import_archive(store, [z], limits=Limits(member_bytes=len(body) - 1),
                                 now=dt.datetime(2026, 11, 22, tzinfo=dt.UTC))  # fmt: skip
        assert store.count("steps") == 0
    assert "limit for one file; not read" in summary.errors[0][1]


@pytest.mark.parametrize("body", [b'{"sleep": [1]}', b'{"sleep": [null, {"minuteData": []}]}'])
def test_a_legacy_shape_test_tripping_over_a_scalar(body: bytes) -> None:
    """Recognising the body ran ``"minuteData" in 1`` (TypeError) before any parser, in the
    live legacy sync too (found through ``legacy_sync_page``)."""
    with pytest.raises(DataError, match="sleep log is not an object"):
        legacy.parse(body)


def test_a_v4_civil_date_with_a_year_past_a_c_int() -> None:
    """``"year": 2147483648`` in a daily type's date raised OverflowError from dt.date."""
    body = (b'{"dataPoints": [{"dailyRestingHeartRate": {"date": {"year": 2147483648, '
            b'"month": 11, "day": 22}, "beatsPerMinute": "57"}}]}')  # fmt: skip
    with pytest.raises(DataError, match="impossible date"):
        normalise(catalog.get("daily-resting-heart-rate"), body)
