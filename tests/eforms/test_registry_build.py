"""The demo registry builder: deterministic, consistent, fast."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from eforms.formats import is_commune, is_mobile, is_province, is_tax_code, parse_personal_id
from fixtures.registry.build import DEMO_CITIZEN, build_registry


def test_registry_is_consistent(registry_db: Path) -> None:
    """≥1,000 people whose IDs match birth year, sex and province; valid codes throughout."""
    conn = sqlite3.connect(registry_db)
    people = conn.execute(
        "SELECT personal_id, birth_date, sex, birth_province_code, province_code, commune_code,"
        " phone, full_name FROM people"
    ).fetchall()
    assert len(people) >= 1000
    for pid, born, sex, birth_prov, prov, commune, phone, _name in people:
        decoded = parse_personal_id(pid)
        assert decoded is not None
        assert (decoded.birth_year, decoded.sex, decoded.province_code) == (
            int(born[:4]),
            sex,
            birth_prov,
        )
        assert is_province(prov)
        assert is_commune(commune)
        assert phone is None or is_mobile(phone)
    assert any(not name.isascii() for *_rest, name in people)
    taxes = [r[0] for r in conn.execute("SELECT tax_code FROM businesses")]
    assert len(taxes) >= 100
    assert all(is_tax_code(t) for t in taxes)
    assert conn.execute("SELECT count(*) FROM insurance").fetchone()[0] > 0
    row = conn.execute("SELECT full_name FROM people WHERE personal_id = ?", (DEMO_CITIZEN,))
    assert row.fetchone() == ("Nguyễn Thị Hoà",)
    conn.close()


def test_registry_is_deterministic_and_fast(tmp_path: Path) -> None:
    """The same seed gives the same rows, in well under a few seconds."""
    started = time.monotonic()
    a = build_registry(tmp_path / "a.sqlite", people=300)
    b = build_registry(tmp_path / "b.sqlite", people=300)
    assert time.monotonic() - started < 3
    query = "SELECT * FROM people ORDER BY personal_id"
    rows_a = sqlite3.connect(a).execute(query).fetchall()
    rows_b = sqlite3.connect(b).execute(query).fetchall()
    assert rows_a == rows_b
    assert len(rows_a) == 300
    c = build_registry(tmp_path / "c.sqlite", people=300, seed=1)
    assert sqlite3.connect(c).execute(query).fetchall() != rows_a
