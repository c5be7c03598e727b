"""Takeout raw pages are kept by reference to the user's export (path, member, size, SHA-256),
not as a copy; a rebuild re-reads the export and says plainly when it moved, went or changed."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from fitvault._errors import DataError
from fitvault.vault import Vault
from tests.takeout.conftest import make_zip

HR = "Takeout/Fitbit/Global Export Data/heart_rate-2026-03-26.json"
BODY = (
    b'[{\n  "dateTime" : "03/26/26 17:50:52",\n  "value" : {\n    "bpm" : 70,\n'
    b'    "confidence" : 0\n  }\n},{\n  "dateTime" : "03/26/26 17:50:57",\n  "value" : {\n'
    b'    "bpm" : 72,\n    "confidence" : 1\n  }\n}]'
)


def _pages(vault: Vault) -> list[tuple[str, str, int, bytes | None]]:
    with vault.store(read_only=True) as store:
        rows = store.con.execute(
            "SELECT request, codec, raw_size, body FROM _raw_pages ORDER BY id"
        ).fetchall()
    return [(json.loads(r[0]), r[1], r[2], r[3]) for r in rows]


def _hr(vault: Vault) -> list[tuple[object, ...]]:
    with vault.store(read_only=True) as store:
        return store.con.execute(
            "SELECT epoch(time)::BIGINT, bpm FROM heart_rate ORDER BY time"
        ).fetchall()


@pytest.fixture
def imported(tmp_path: Path) -> tuple[Vault, Path]:
    (tmp_path / "export").mkdir()
    archive = make_zip(tmp_path / "export" / "takeout-001.zip", {HR: BODY})
    vault = Vault(tmp_path / "vault")
    vault.import_archive([archive], zone="UTC")
    return vault, archive


def test_the_page_names_the_member_by_path_size_and_hash(imported: tuple[Vault, Path]) -> None:
    """No body is stored: the page holds the archive's absolute path, the member's name in it,
    its byte size and the SHA-256 of its bytes (computed here from BODY)."""
    vault, archive = imported
    [(request, codec, size, body)] = _pages(vault)
    assert codec == "ref"
    assert body is None
    assert size == len(BODY)
    assert request["path"] == str(archive.resolve())
    assert request["name"] == HR
    assert request["size"] == len(BODY)
    assert request["sha256"] == hashlib.sha256(BODY).hexdigest()
    assert request["member"] == "Global Export Data/heart_rate-2026-03-26.json"


def test_a_rebuild_rereads_the_export(imported: tuple[Vault, Path]) -> None:
    """With the export in place a rebuild gives the two readings of the file back."""
    vault, _ = imported
    assert vault.rebuild()["heart_rate"] == 2
    assert _hr(vault) == [(1774547452, 70), (1774547457, 72)]


def test_a_rebuild_without_the_export_says_so_and_keeps_the_tables(
    imported: tuple[Vault, Path], tmp_path: Path
) -> None:
    """A moved archive: the rebuild fails naming the path and the next step, and rolls back
    (the rows are still there)."""
    vault, archive = imported
    moved = tmp_path / "elsewhere.zip"
    shutil.move(archive, moved)
    with pytest.raises(DataError) as caught:
        vault.rebuild()
    message = str(caught.value)
    assert str(archive.resolve()) in message
    assert "is gone" in message
    assert "fitvault import" in message
    assert _hr(vault) == [(1774547452, 70), (1774547457, 72)]
    # importing it from where it is now re-points the pages, and the rebuild works again
    vault.import_archive([moved], zone="UTC")
    [(request, *_)] = _pages(vault)
    assert request["path"] == str(moved.resolve())
    assert vault.rebuild()["heart_rate"] == 2


def test_a_changed_export_is_refused(imported: tuple[Vault, Path]) -> None:
    """An archive rewritten with different bytes under the same name is not silently read."""
    vault, archive = imported
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(HR, BODY.replace(b'"bpm" : 70', b'"bpm" : 71'))
    with pytest.raises(DataError, match="not the file that was imported"):
        vault.rebuild()


def test_an_extracted_folder_is_kept_by_reference_too(tmp_path: Path) -> None:
    """A folder export: the page names the folder and the file below it; rebuild re-reads it."""
    folder = tmp_path / "Takeout"
    (folder / HR).parent.mkdir(parents=True)
    (folder / HR).write_bytes(BODY)
    vault = Vault(tmp_path / "vault")
    vault.import_archive([folder], zone="UTC")
    [(request, codec, _, _)] = _pages(vault)
    assert (codec, request["path"], request["name"]) == ("ref", str(folder.resolve()), HR)
    assert vault.rebuild()["heart_rate"] == 2
    (folder / HR).unlink()
    with pytest.raises(DataError, match="is gone"):
        vault.rebuild()
