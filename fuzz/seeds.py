"""Write the seed corpora: ``python -m fuzz.seeds`` (signed PDFs, CMS blobs, e-form data)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pyhanko.sign import fields

from fixtures import attacks as A
from fixtures.documents import minimal_pdf, sign_detached, sign_pdf
from fuzz._common import CORPUS, FORM_ID, demo_pki

SIGNED_AT = datetime(2026, 5, 31, 9, 0, tzinfo=UTC)
DATA = b'{"ho_ten": "Nguyen Thi Hoa"}'


def main() -> None:
    pki = demo_pki()
    pdf_dir, cms_dir, form_dir = (CORPUS / n for n in ("pdf", "cms", "eforms"))
    for d in (pdf_dir, cms_dir, form_dir):
        d.mkdir(parents=True, exist_ok=True)
    signed = sign_pdf(pki, "citizen", minimal_pdf("To khai"), at=SIGNED_AT)
    certified = sign_pdf(
        pki, "agency-seal", A.form_pdf(), at=SIGNED_AT, certify=fields.MDPPerm.FILL_FORMS
    )
    seeds = {
        "signed.pdf": signed,
        "signed-ec.pdf": sign_pdf(pki, "citizen-ec", minimal_pdf("x"), at=SIGNED_AT),
        "certified-filled.pdf": A.fill_field(certified, "GhiChu", "DA DUYET", opaque=False),
        "page-added.pdf": A.add_page(signed),
        "unsigned.pdf": minimal_pdf("x"),
    }
    for name, blob in seeds.items():
        (pdf_dir / name).write_bytes(blob)
    (cms_dir / "citizen.p7s").write_bytes(sign_detached(pki, "citizen", DATA, at=SIGNED_AT))
    (cms_dir / "citizen-ec.p7s").write_bytes(sign_detached(pki, "citizen-ec", DATA, at=SIGNED_AT))
    (form_dir / "example.json").write_text(
        json.dumps(json.loads(_example(FORM_ID)), ensure_ascii=False)
    )
    (form_dir / "nested.json").write_text("[" * 50 + "]" * 50)


def _example(form_id: str) -> str:
    from importlib import resources

    return (resources.files("eforms") / "data" / "examples" / f"{form_id}.json").read_text("utf-8")


if __name__ == "__main__":
    main()
