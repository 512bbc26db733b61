"""Benchmark corpora from the demo PKI: many distinct signed documents, made quickly.

Signing every document with pyHanko would take longer than verifying it, so each corpus
starts from a few *templates* signed by pyHanko (one per signer and kind) and makes each
document by changing a few signed bytes of a template and signing its CMS again with the
signer's key (and, for B-LT, taking a fresh RFC 3161 timestamp from the demo TSA over the
new signature). Every document is different and genuinely signed; 5% are then tampered
with (one signed byte changed).

Kinds:

- ``bb``: PAdES B-B, one signature over the whole file;
- ``lt``: PAdES B-LT (signature timestamp, then a DSS revision with OCSP/CRL/certificates);
- ``two``: two B-B signatures (citizen, then an official) in two revisions;
- ``archive``: PAdES B-B signed by two signers while their certificates were valid, which
  have expired since (``citizen-short`` in February 2026, valid until 2026-03-01;
  ``citizen-expired`` in 2022, valid 2020 to 2023): an archive checked now;
- ``cms``: detached CAdES-B-B (``X.p7s``) over 100 KB files;
- ``xml``: e-invoices (Circular 78 ``HDon``, :mod:`fixtures.einvoice`), each signed by the
  seller (``/HDon/DSCKS/NBan``) with python-xmlsec: one signer (``organisation``), distinct
  numbers, buyers, totals and 1 to 40 lines of goods (about 1.5 to 9 KB).

PDF and CMS signers cycle over RSA and ECDSA keys of both hierarchies (public and
specialized); PDFs are 50 to 200 KB.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asn1crypto import cms
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from fixtures.documents import linearized_pdf, minimal_pdf, sign_detached, sign_pdf
from fixtures.pki import DemoPKI

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
SIGNED_AT = datetime(2026, 5, 31, 9, 0, tzinfo=UTC)
LABELS = ["citizen", "citizen-ec", "organisation", "official", "agency-seal", "branch"]
ARCHIVE_SIGNED_AT = {
    "citizen-short": datetime(2026, 2, 1, 9, 0, tzinfo=UTC),  # valid until 2026-03-01
    "citizen-expired": datetime(2022, 6, 1, 9, 0, tzinfo=UTC),  # valid 2020 .. 2023
}
"""The archive's signers, each signing while its certificate was valid."""
ARCHIVE_LABELS = list(ARCHIVE_SIGNED_AT)
SIZES = [50_000, 80_000, 110_000, 140_000, 170_000, 195_000]
TAMPERED = 0.05
_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")
_MARK = b"xxxxxxxxxxxx"


@dataclass
class Corpus:
    kind: str
    files: list[Path]
    detached: dict[Path, Path]
    intact: dict[Path, bool]

    def manifest(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "files": [
                [str(f), str(self.detached[f]) if f in self.detached else None, self.intact[f]]
                for f in self.files
            ],
        }

    def add(self, path: Path, data: bytes, *, intact: bool) -> None:
        """Write one document of the corpus, and whether it is intact."""
        path.write_bytes(data)
        self.files.append(path)
        self.intact[path] = intact

    def write_manifest(self, path: Path) -> Path:
        path.write_text(json.dumps(self.manifest()), encoding="utf-8")
        return path


def _hash(name: str) -> hashes.HashAlgorithm:
    return {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[name]


class Resigner:
    """Signs a template's CMS again over new bytes, as the template's signer."""

    def __init__(self, pki: DemoPKI) -> None:
        self.pki = pki
        self._keys: dict[str, Any] = {}

    def key(self, label: str) -> Any:
        if label not in self._keys:
            self._keys[label] = serialization.load_der_private_key(
                self.pki.key(label).dump(), password=None
            )
        return self._keys[label]

    def cms(self, label: str, der: bytes, signed: bytes, *, timestamp: bool = False) -> bytes:
        info = cms.ContentInfo.load(der)
        si = info["content"]["signer_infos"][0]
        algo = si["digest_algorithm"]["algorithm"].native
        attrs = []
        for attr in si["signed_attrs"]:
            if attr["type"].native == "message_digest":
                attr = cms.CMSAttribute(
                    {"type": "message_digest", "values": [hashlib.new(algo, signed).digest()]}
                )
            attrs.append(attr)
        si["signed_attrs"] = cms.CMSAttributes(attrs)
        payload = si["signed_attrs"].untag().dump()
        key = self.key(label)
        if isinstance(key, rsa.RSAPrivateKey):
            signature = key.sign(payload, padding.PKCS1v15(), _hash(algo))
        else:
            assert isinstance(key, ec.EllipticCurvePrivateKey)
            signature = key.sign(payload, ec.ECDSA(_hash(algo)))
        si["signature"] = signature
        if timestamp:
            si["unsigned_attrs"] = cms.CMSAttributes(
                [
                    cms.CMSAttribute(
                        {
                            "type": "signature_time_stamp_token",
                            "values": [self._timestamp(label, signature)],
                        }
                    )
                ]
            )
        return bytes(info.dump())

    def _timestamp(self, label: str, signature: bytes) -> cms.ContentInfo:
        from pyhanko.sign.timestamps import HTTPTimeStamper

        stamper = HTTPTimeStamper(self.pki.tsa_url(self.pki.hierarchy_of(label)))
        digest = hashlib.sha256(signature).digest()
        return asyncio.run(stamper.async_timestamp(digest, "sha256"))

    def pdf(self, template: bytes, labels: list[str], variant: int, *, timestamp: bool) -> bytes:
        """The template with its marker bytes changed and every signature made again."""
        doc = bytearray(template)
        spot = doc.index(_MARK)
        doc[spot : spot + len(_MARK)] = f"{variant:0{len(_MARK)}d}".encode()
        ranges = list(_BYTE_RANGE.finditer(bytes(doc)))
        assert len(ranges) == len(labels), "one signer per signature"
        for match, label in zip(ranges, labels, strict=True):
            _z, a, b, c = (int(x) for x in match.groups())
            der = bytes.fromhex(doc[a + 1 : b - 1].decode())
            signed = bytes(doc[0:a] + doc[b : b + c])
            new = self.cms(label, der, signed, timestamp=timestamp).hex().encode()
            if len(new) > b - a - 2:
                raise ValueError("the new signature does not fit the /Contents gap")
            old = _vri_name(bytes(doc[a + 1 : b - 1]))
            doc[a + 1 : b - 1] = new + b"0" * (b - a - 2 - len(new))
            # the DSS names the signature's VRI entry after its /Contents, as it would
            # have if this signature had been the one the validation data was added to
            doc[:] = doc.replace(old, _vri_name(bytes(doc[a + 1 : b - 1])))
        return bytes(doc)


def _vri_name(hexed: bytes) -> bytes:
    """The name of the DSS's VRI entry for a signature whose ``/Contents`` is ``hexed``."""
    digest = hashlib.sha1(bytes.fromhex(hexed.decode())).hexdigest()  # noqa: S324 - the name
    return b"/" + digest.upper().encode()


def _template_pdf(
    pki: DemoPKI, kind: str, label: str, size: int, at: datetime = SIGNED_AT
) -> tuple[bytes, list[str]]:
    if kind == "twolin":
        base = linearized_pdf("Hồ sơ " + label, pages=2, padding=size)
        kind = "two"
    else:
        base = minimal_pdf("Hồ sơ " + label, pages=2, padding=size)
    if kind in ("bb", "archive", "untrusted"):
        return sign_pdf(pki, label, base, at=at), [label]
    if kind == "lt":
        return sign_pdf(pki, label, base, at=at, ltv=True), [label]
    if kind == "two":
        first = sign_pdf(pki, label, base, at=at)
        second = "official" if pki.hierarchy_of(label) == "specialized" else "organisation"
        both = sign_pdf(pki, second, first, at=at, field_name="Signature2")
        return both, [label, second]
    raise ValueError(kind)


XML_SIGNER = "organisation"
_GOODS = (
    "Gạo ST25",
    "Cà phê Robusta",
    "Nước mắm Phú Quốc",
    "Hạt điều rang muối",
    "Trà Thái Nguyên",
)


def _invoice(rng: random.Random, i: int) -> bytes:
    """A distinct unsigned invoice (fixtures.einvoice layout) with 1 to 40 lines of goods."""
    from lxml import etree

    from fixtures.einvoice import invoice_xml

    total = 0
    root = etree.fromstring(
        invoice_xml(number=str(i + 1), buyer_name=f"CÔNG TY KHÁCH HÀNG SỐ {i}", total="0")
    )
    goods = root.find("DLHDon/NDHDon/DSHHDVu")
    for line in list(goods):
        goods.remove(line)
    for j in range(rng.randint(1, 40)):
        qty, price = rng.randint(1, 50), rng.randint(10, 900) * 1000
        total += qty * price
        row = etree.SubElement(goods, "HHDVu")
        for tag, text in (
            ("STT", str(j + 1)),
            ("THHDVu", rng.choice(_GOODS)),
            ("SLuong", str(qty)),
            ("DGia", str(price)),
            ("ThTien", str(qty * price)),
            ("TSuat", "8%"),
        ):
            etree.SubElement(row, tag).text = text
    root.find("DLHDon/NDHDon/TToan/TgTThue").text = str(total * 8 // 100)
    root.find("DLHDon/NDHDon/TToan/TgTTTBSo").text = str(total * 108 // 100)
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out


def _build_xml(pki: DemoPKI, folder: Path, n: int, rng: random.Random) -> Corpus:
    from fixtures.einvoice import sign_strict

    corpus = Corpus("xml", [], {}, {})
    for i in range(n):
        tampered = rng.random() < TAMPERED
        doc = sign_strict(_invoice(rng, i), pki, XML_SIGNER, at=SIGNED_AT)
        if tampered:  # the buyer's name changes after signing: the seller's digest breaks
            doc = doc.replace("KHÁCH HÀNG".encode(), "KHÁCH HÀNH".encode(), 1)
        corpus.add(folder / f"doc-{i:05d}.xml", doc, intact=not tampered)
    return corpus


def build(
    pki: DemoPKI,
    folder: Path,
    kind: str,
    n: int,
    seed: int = 7,
    signed_at: datetime = SIGNED_AT,
) -> Corpus:
    """``n`` distinct documents of ``kind`` in ``folder``, signed (and for B-LT, their
    validation data gathered) at ``signed_at``.

    The demo PKI's certificates name the loopback port of this run's services, so a corpus
    is only good while they run: it is made again each time.
    """
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "xml":
        return _build_xml(pki, folder, n, rng)
    resigner = Resigner(pki)
    corpus = Corpus(kind, [], {}, {})
    templates: dict[str, tuple[bytes, list[str]]] = {}
    cms_templates: dict[str, bytes] = {}
    labels = ARCHIVE_LABELS if kind == "archive" else LABELS
    for i in range(n):
        label = labels[i % len(labels)]
        tampered = rng.random() < TAMPERED
        if kind == "cms":
            if label not in cms_templates:
                cms_templates[label] = sign_detached(pki, label, b"template", at=SIGNED_AT)
            data = rng.randbytes(100 * 1024)
            content = folder / f"doc-{i:05d}.bin"
            sig = folder / f"doc-{i:05d}.bin.p7s"
            sig.write_bytes(resigner.cms(label, cms_templates[label], data))
            if tampered:
                data = bytes([data[0] ^ 1]) + data[1:]
            content.write_bytes(data)
            corpus.files.append(content)
            corpus.detached[content] = sig
            corpus.intact[content] = not tampered
            continue
        if label not in templates:
            size = SIZES[labels.index(label)]
            at = ARCHIVE_SIGNED_AT[label] if kind == "archive" else signed_at
            templates[label] = _template_pdf(pki, kind, label, size, at)
        template, signers = templates[label]
        doc = resigner.pdf(template, signers, i, timestamp=(kind == "lt"))
        if tampered:
            spot = doc.index(_MARK[:4], doc.index(b"stream")) + 20
            doc = doc[:spot] + bytes([doc[spot] ^ 1]) + doc[spot + 1 :]
        corpus.add(folder / f"doc-{i:05d}.pdf", doc, intact=not tampered)
    return corpus
