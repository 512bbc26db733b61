"""XML signing throughput: e-invoices (Circular 78 ``HDon``) signed per second.

    .venv/bin/python -m benchmarks.xml_sign [--n 1000] [--n-single 200] [--write]

Starts the demo PKI services on loopback (real HTTP OCSP/CRL), builds ``--n`` distinct
invoices (1 to 40 lines of goods each, about 1 to 8 KB) and times, each row on the same
invoices:

- ``esign.sign_xml_many`` with a PKCS#12 soft key, RSA-2048 and ECDSA P-256: the key
  source is opened and the certificate checked (path, OCSP) once for the batch;
- ``esign.sign_xml`` called once per invoice (``--n-single`` of them) with one shared
  :class:`verify.Verifier`: the certificate is checked again for every invoice (OCSP
  answers come from the verifier's cache);
- ``sign_xml_many`` with a SoftHSM2 token (software PKCS#11), when softhsm2 is installed;
- python-xmlsec (libxmlsec1, C) signing the same layout with the same RSA key from a
  template, as a reference for the XML work alone: no certificate check, no SigningTime
  object digest computed in Python.

Every invoice of the first row is then checked (not timed) by ``verify``'s XMLDSig checker
and by libxmlsec1. ``--write`` replaces the "esign: XML signing" section of
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("RESULTS.md")
SECTION = "## esign: XML signing"

GOODS = ("Gạo ST25", "Cà phê Robusta", "Nước mắm Phú Quốc", "Hạt điều rang muối", "Trà Thái Nguyên")


def invoices(n: int, seed: int = 78) -> list[bytes]:
    """``n`` distinct unsigned e-invoices, 1 to 40 lines each."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        lines = []
        total = 0
        for j in range(rng.randint(1, 40)):
            qty, price = rng.randint(1, 50), rng.randint(10, 900) * 1000
            total += qty * price
            lines.append(
                f"<HHDVu><TChat>1</TChat><STT>{j + 1}</STT><THHDVu>{rng.choice(GOODS)}</THHDVu>"
                f"<DVTinh>kg</DVTinh><SLuong>{qty}</SLuong><DGia>{price}</DGia>"
                f"<ThTien>{qty * price}</ThTien><TSuat>8%</TSuat></HHDVu>"
            )
        out.append(
            f"""<?xml version="1.0" encoding="UTF-8"?>
<HDon><DLHDon Id="hd{i}"><TTChung><PBan>2.1.0</PBan><THDon>Hoá đơn giá trị gia tăng</THDon>
<KHMSHDon>1</KHMSHDon><KHHDon>C26TAA</KHHDon><SHDon>{i + 1}</SHDon><NLap>2026-06-01</NLap>
<DVTTe>VND</DVTTe></TTChung><NDHDon><NBan><Ten>Công ty TNHH Hồ Sơ</Ten><MST>0312585298</MST>
</NBan><NMua><Ten>Khách hàng {i}</Ten></NMua><DSHHDVu>{"".join(lines)}</DSHHDVu>
<TToan><TgTCThue>{total}</TgTCThue><TgTThue>{total * 8 // 100}</TgTThue>
<TgTTTBSo>{total * 108 // 100}</TgTTTBSo></TToan></NDHDon></DLHDon><DSCKS><NBan/><NMua/></DSCKS>
</HDon>
""".encode()
        )
    return out


def _timed(fn: Callable[[], list[bytes]]) -> tuple[float, list[bytes]]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _xmlsec_signer(key_pem: bytes, cert_pem: bytes) -> Callable[[bytes], bytes] | None:
    """python-xmlsec signing the same layout (the C library's own XML work), if installed."""
    try:
        import xmlsec
    except ImportError:
        return None
    from lxml import etree

    key = xmlsec.Key.from_memory(key_pem, xmlsec.constants.KeyDataFormatPem)
    key.load_cert_from_memory(cert_pem, xmlsec.constants.KeyDataFormatCertPem)
    consts = xmlsec.constants

    def sign(data: bytes) -> bytes:
        root = etree.fromstring(data)
        ident = root.find("DLHDon").get("Id")
        sig = xmlsec.template.create(
            root, consts.TransformInclC14N, consts.TransformRsaSha256, ns=None, name="NBan-" + ident
        )
        root.find("DSCKS/NBan").append(sig)
        ref = xmlsec.template.add_reference(sig, consts.TransformSha256, uri="#" + ident)
        xmlsec.template.add_transform(ref, consts.TransformEnveloped)
        xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(sig))
        xmlsec.tree.add_ids(root, ["Id"])
        ctx = xmlsec.SignatureContext()
        ctx.key = key
        ctx.sign(sig)
        out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        return out

    return sign


def _strict_ok(data: bytes) -> bool:
    try:
        import xmlsec
    except ImportError:
        return True
    from lxml import etree

    root = etree.fromstring(data)
    xmlsec.tree.add_ids(root, ["Id"])
    node = xmlsec.tree.find_node(root, xmlsec.constants.NodeSignature)
    der = base64.b64decode(
        node.findtext(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate") or ""
    )
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_memory(der, xmlsec.constants.KeyDataFormatCertDer)
    try:
        ctx.verify(node)
    except xmlsec.Error:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.xml_sign")
    parser.add_argument("--n", type=int, default=1000, help="invoices per batch row")
    parser.add_argument(
        "--n-single", type=int, default=200, help="invoices for the one-call-per-invoice row"
    )
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args(argv)

    import esign
    from fixtures import softhsm
    from fixtures.pki import start_services
    from fixtures.pki.build import P12_PASSWORD
    from verify import TrustProfile, ValidationPolicy, Verifier
    from verify.xmldsig import check_xml_signature

    services = start_services()
    pki = services.pki
    trust = TrustProfile.custom([pki.root("public")], hierarchy="public")
    docs = invoices(args.n)
    sizes = sorted(len(d) for d in docs)
    rows: list[tuple[str, int, float]] = []
    first: list[bytes] = []
    token = softhsm.make_token(pki, ("citizen",)) if softhsm.available() else None
    tmp = Path(tempfile.mkdtemp(prefix="hoso-bench-xml-"))
    try:
        keys: list[tuple[str, Any]] = [
            (
                "sign_xml_many, PKCS#12 RSA-2048",
                esign.from_pkcs12(pki.write_p12("citizen", tmp / "c.p12"), P12_PASSWORD),
            ),
            (
                "sign_xml_many, PKCS#12 ECDSA P-256",
                esign.from_pkcs12(pki.write_p12("citizen-ec", tmp / "e.p12"), P12_PASSWORD),
            ),
        ]
        if token is not None:
            keys.append(
                (
                    "sign_xml_many, SoftHSM2 token RSA-2048",
                    esign.from_pkcs11(token.lib, token.label, "citizen", token.pin),
                )
            )
        for name, signer in keys:
            verifier = Verifier(trust, ValidationPolicy())
            esign.sign_xml(docs[0], signer, verifier=verifier)  # warm: imports, OCSP

            def batch(signer: Any = signer, verifier: Verifier = verifier) -> list[bytes]:
                out = []
                for r in esign.sign_xml_many(docs, signer, verifier=verifier):
                    assert r.data is not None, r.error
                    out.append(r.data)
                return out

            elapsed, out = _timed(batch)
            first = first or out
            rows.append((name, len(out), elapsed))
            print(f"{name:44} {len(out) / elapsed:8.1f} invoices/s", flush=True)

        single_signer = keys[0][1]
        verifier = Verifier(trust, ValidationPolicy())
        some = docs[: args.n_single]
        esign.sign_xml(some[0], single_signer, verifier=verifier)
        elapsed, out = _timed(
            lambda: [esign.sign_xml(d, single_signer, verifier=verifier) for d in some]
        )
        name = "sign_xml per invoice (certificate checked each time)"
        rows.append((name, len(out), elapsed))
        print(f"{name:44} {len(out) / elapsed:8.1f} invoices/s", flush=True)

        xmlsec_sign = _xmlsec_signer(pki.key_pem("citizen"), pki.cert_pem("citizen"))
        if xmlsec_sign is not None:
            elapsed, out = _timed(lambda: [xmlsec_sign(d) for d in docs])
            name = "python-xmlsec (libxmlsec1), same RSA key"
            rows.append((name, len(out), elapsed))
            print(f"{name:44} {len(out) / elapsed:8.1f} invoices/s", flush=True)
    finally:
        if token is not None:
            token.cleanup()
        services.stop()

    checked = sum(
        1
        for d in first
        if (c := check_xml_signature(d)[0]).references_ok and c.signature_ok and not c.problems
    )
    strict = sum(1 for d in first if _strict_ok(d))
    command = "python -m benchmarks.xml_sign " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    machine = (
        f"{platform.machine()}, {os.cpu_count() or 1} CPUs, Python {platform.python_version()}, "
        f"{platform.platform()}"
    )
    lines = [
        SECTION,
        "",
        f"Command: `{command.strip()}`  ",
        f"Machine: {machine}  ",
        f"Date: {time.strftime('%Y-%m-%d')}",
        "",
        f"{args.n} distinct e-invoices (`HDon`, 1 to 40 lines of goods, {sizes[0] / 1024:.1f} "
        f"to {sizes[-1] / 1024:.1f} KB, median {sizes[len(sizes) // 2] / 1024:.1f} KB), one "
        "process, soft keys unless the row says otherwise.",
        "",
        "| approach | invoices | seconds | invoices/s | ms/invoice |",
        "|---|---:|---:|---:|---:|",
        *[f"| {n} | {k} | {s:.2f} | {k / s:.1f} | {1000 * s / k:.2f} |" for n, k, s in rows],
        "",
        f"Checked after timing (first row): {checked}/{len(first)} pass `verify.xmldsig` "
        f"(strict reading, no problems), {strict}/{len(first)} pass libxmlsec1.",
        "",
    ]
    if args.write:
        _write_section("\n".join(lines))
    else:
        print("\n".join(lines))
    return 0


def _write_section(text: str) -> None:
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n\n"
    start = old.find(SECTION)
    if start == -1:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        nxt = old.find("\n## ", start + len(SECTION))
        new = old[:start] + text.rstrip("\n") + ("\n\n" + old[nxt + 1 :] if nxt != -1 else "")
    RESULTS.write_text(new.rstrip("\n") + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
