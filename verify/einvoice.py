"""An e-invoice (Circular 78/2021) as an auditor reads it, from what its signatures cover.

Every value is read from the element a signature covers, never from an unsigned copy: the
invoice data from the ``DLHDon`` the seller's signature resolves to, the tax authority's
code from the ``MCCQT`` the tax authority's signature resolves to (``None`` when no such
signature covers it). The seller's tax code (MST) is also read from the seller's
certificate (``UID=MST:...``) and compared with the one in the signed ``DLHDon``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from asn1crypto import x509

from verify.identity import IdentifierScheme, SignerIdentity
from verify.xmldsig import XmlInspection, XmlSignatureCheck, certificate_der

__all__ = ["FACT_KEYS", "invoice_facts", "seller_mst_mismatch"]

FACT_KEYS = (
    "form",
    "series",
    "number",
    "date",
    "seller_mst",
    "seller_name",
    "buyer_name",
    "buyer_mst",
    "total",
    "tax_authority_code",
    "seller_certificate_mst",
    "seller_mst_matches",
    "seller_covers_dlhdon",
    "tax_authority_covers_mccqt",
)


def _local(el: Any) -> str:
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


class _Children:
    """The children of the elements an invoice's facts are read from, by local name (any
    namespace), each element's listed once: the same few (TTChung, NDHDon, NBan...) are
    asked for several facts."""

    def __init__(self) -> None:
        self._seen: dict[Any, dict[str, list[Any]]] = {}

    def child(self, el: Any | None, *path: str) -> Any | None:
        """The only child along ``path`` (direct children, by local name); None otherwise."""
        for name in path:
            if el is None:
                return None
            children = self._seen.get(el)
            if children is None:
                children = self._seen[el] = {}
                for child in el:
                    tag = child.tag
                    if isinstance(tag, str):  # an element (not a comment or PI)
                        children.setdefault(tag.rsplit("}", 1)[-1], []).append(child)
            found = children.get(name, ())
            el = found[0] if len(found) == 1 else None
        return el

    def text(self, el: Any | None, *path: str) -> str | None:
        node = self.child(el, *path)
        if node is None or node.text is None:
            return None
        text = " ".join(str(node.text).split())
        return text or None


def _covered(check: XmlSignatureCheck, name: str) -> Any | None:
    """The element named ``name`` this signature covers, if it is intact."""
    if not check.intact:
        return None
    for target in check.targets:
        if _local(target) == name:
            return target
    return None


def _normal_mst(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = "".join(value.split()).upper()
    return cleaned or None


def _certificate_mst(check: XmlSignatureCheck) -> str | None:
    if check.signer_cert is None:
        return None
    return _mst_of(certificate_der(check.signer_cert))


@functools.lru_cache(maxsize=1024)
def _mst_of(der: bytes) -> str | None:
    """The MST a certificate carries, read once per certificate (every invoice of a seller
    carries the same one)."""
    try:
        identity = SignerIdentity.from_certificate(x509.Certificate.load(der))
    except Exception:  # noqa: BLE001 - an unreadable certificate names no MST
        return None
    return identity.identifier(IdentifierScheme.MST)


def invoice_facts(inspection: XmlInspection) -> dict[str, Any] | None:
    """What the invoice says, from the signed elements only; ``None`` if not an invoice."""
    if inspection.invoice is None:
        return None
    checks: Sequence[XmlSignatureCheck] = inspection.checks
    sellers = [c for c in checks if c.role == "seller"]
    authorities = [c for c in checks if c.role == "tax_authority"]
    dlhdon = next((t for c in sellers if (t := _covered(c, "DLHDon")) is not None), None)
    mccqt = next((t for c in authorities if (t := _covered(c, "MCCQT")) is not None), None)
    seller_check = next((c for c in sellers if _covered(c, "DLHDon") is not None), None)
    if seller_check is None and sellers:
        seller_check = sellers[0]
    children = _Children()
    _text = children.text
    general = children.child(dlhdon, "TTChung")
    content = children.child(dlhdon, "NDHDon")
    seller_mst = _text(content, "NBan", "MST")
    cert_mst = _certificate_mst(seller_check) if seller_check is not None else None
    matches: bool | None = None
    if seller_mst is not None and cert_mst is not None:
        matches = _normal_mst(seller_mst) == _normal_mst(cert_mst)
    return {
        "form": _text(general, "KHMSHDon"),
        "series": _text(general, "KHHDon"),
        "number": _text(general, "SHDon"),
        "date": _text(general, "NLap"),
        "seller_mst": seller_mst,
        "seller_name": _text(content, "NBan", "Ten"),
        "buyer_name": _text(content, "NMua", "Ten"),
        "buyer_mst": _text(content, "NMua", "MST"),
        "total": _text(content, "TToan", "TgTTTBSo"),
        "tax_authority_code": _text(mccqt) if mccqt is not None else None,
        "seller_certificate_mst": cert_mst,
        "seller_mst_matches": matches,
        "seller_covers_dlhdon": any(c.covers_expected for c in sellers) if sellers else None,
        "tax_authority_covers_mccqt": (
            any(c.covers_expected for c in authorities) if authorities else None
        ),
    }


def seller_mst_mismatch(
    check: XmlSignatureCheck, facts: dict[str, Any] | None
) -> tuple[str, str] | None:
    """(MST in the signed invoice, MST in this seller signature's certificate) if they differ.

    ``None`` when the signature is not the seller's, or either MST is missing.
    """
    if not facts or check.role != "seller" or facts.get("seller_mst") is None:
        return None
    cert_mst = _certificate_mst(check)
    if cert_mst is None or _normal_mst(cert_mst) == _normal_mst(str(facts["seller_mst"])):
        return None
    return str(facts["seller_mst"]), cert_mst
