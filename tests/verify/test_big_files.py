"""Big files are verified from a file stream: peak memory stays far below their size.

The documents (a genuine signed PDF padded to 200 MiB, and 200 MiB of content with its
detached CAdES signature) are written to a temporary folder a piece at a time and signed
by pyHanko in place; each is verified in a fresh interpreter whose peak resident set
(``resource.getrusage``) is read before and after, so what is measured is that
verification alone.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers

from fixtures.documents import demo_signer, pinned
from fixtures.pki import DemoPKI
from tests.conftest import PINNED_NOW

MIB = 1024 * 1024
BIG = 200 * MIB
SIGNED_AT = PINNED_NOW.replace(hour=9)
GROWTH_ALLOWED = 64 * MIB
"""Peak memory growth allowed while verifying a 200 MiB file: under a third of it (the
whole file read into memory would add at least its own size)."""

_ROOT = Path(__file__).resolve().parents[2]

_MEASURE = textwrap.dedent(
    """
    import json, resource, sys
    from datetime import datetime
    from verify import TrustProfile, ValidationPolicy, Verifier

    args = json.loads(sys.argv[1])
    policy = ValidationPolicy(
        validation_time=datetime.fromisoformat(args["at"]),
        network=False,
        revocation="off",
        max_file_size=args["max_size"],
    )
    verifier = Verifier(TrustProfile.custom([args["root"]], name="demo"), policy)
    warm_sig = bytes.fromhex(args["warm_sig"]) if "warm_sig" in args else None
    warm = verifier.verify(args["warm"], detached=warm_sig)  # modules loaded, caches made
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if "sig" in args:
        with open(args["sig"], "rb") as f:
            report = verifier.verify(args["doc"], detached=f.read())
    else:
        report = verifier.verify(args["doc"])
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({
        "growth": after - before,
        "peak": after,
        "indication": report.indication.value,
        "sub": report.sub_indication.value if report.sub_indication else None,
        "message": report.message_en,
        "size": report.size,
        "sha256": report.sha256,
        "warm": warm.indication.value,
    }))
    """
)


def _measure(**args: Any) -> dict[str, Any]:
    """Verify in a fresh interpreter; what it reports and how much its peak RSS grew."""
    args.setdefault("at", PINNED_NOW.isoformat())
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, json.dumps(args)],
        capture_output=True,
        text=True,
        cwd=_ROOT,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _write_pdf(path: Path, padding: int) -> None:
    """A one-page PDF with an unreferenced stream of ``padding`` bytes, written a piece
    at a time (never held in memory)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        None,  # the page's content stream
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        None,  # the padding
    ]
    text = b"BT /F1 14 Tf 72 760 Td (Ho so lon - ban quet) Tj ET"
    offsets: list[int] = []
    with path.open("wb") as f:
        f.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        for number, body in enumerate(objects, start=1):
            offsets.append(f.tell())
            f.write(f"{number} 0 obj\n".encode())
            if number == 4:
                f.write(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text))
            elif number == 6:
                f.write(b"<< /Length %d >>\nstream\n" % padding)
                chunk = b"0123456789abcdef" * 65536  # 1 MiB
                left = padding
                while left:
                    f.write(chunk[: min(left, len(chunk))])
                    left -= min(left, len(chunk))
                f.write(b"\nendstream")
            else:
                assert body is not None
                f.write(body)
            f.write(b"\nendobj\n")
        xref = f.tell()
        f.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
        for offset in offsets:
            f.write(b"%010d 00000 n \n" % offset)
        f.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
        f.write(b"startxref\n%d\n%%%%EOF\n" % xref)


def _sign_in_place(path: Path, pki: DemoPKI) -> None:
    """Sign the PDF at ``path`` as the demo citizen, appending to the file itself."""
    meta = signers.PdfSignatureMetadata(field_name="Signature1")
    with pinned(SIGNED_AT), path.open("r+b") as f:
        writer = IncrementalPdfFileWriter(f, strict=False)
        signers.PdfSigner(meta, signer=demo_signer(pki, "citizen")).sign_pdf(writer, in_place=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(MIB):
            digest.update(chunk)
    return digest.hexdigest()


@pytest.fixture(scope="module")
def root_pem(demo_pki: DemoPKI, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("trust") / "root.pem"
    path.write_bytes(demo_pki.cert_pem("vn-root"))
    return str(path)


@pytest.fixture(scope="module")
def signed_pdfs(demo_pki: DemoPKI, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(a small signed PDF, the same padded to 200 MiB), both signed in place."""
    folder = tmp_path_factory.mktemp("big")
    small, big = folder / "small.pdf", folder / "big.pdf"
    _write_pdf(small, 1024)
    _write_pdf(big, BIG)
    for path in (small, big):
        _sign_in_place(path, demo_pki)
    return small, big


def test_a_200_mib_signed_pdf_is_verified_in_bounded_memory(
    signed_pdfs: tuple[Path, Path], root_pem: str
) -> None:
    """A genuine signed PDF of 200 MiB passes as its small twin does, reports its true
    size and SHA-256, and verifying it grows peak RSS by far less than its size."""
    small, big = signed_pdfs
    result = _measure(doc=str(big), warm=str(small), root=root_pem, max_size=256 * MIB)
    assert result["warm"] == "TOTAL_PASSED"
    assert result["indication"] == "TOTAL_PASSED", result["message"]
    assert result["size"] == big.stat().st_size > BIG
    assert result["sha256"] == _sha256(big)
    assert result["growth"] < GROWTH_ALLOWED, f"peak RSS grew {result['growth'] / MIB:.1f} MiB"


def test_a_pdf_above_max_size_keeps_the_size_limit_verdict_unread(
    signed_pdfs: tuple[Path, Path], root_pem: str
) -> None:
    """Above --max-size the verdict is still INDETERMINATE / SIZE_LIMIT_EXCEEDED, and the
    file is not read."""
    small, big = signed_pdfs
    result = _measure(doc=str(big), warm=str(small), root=root_pem, max_size=100 * MIB)
    assert result["indication"] == "INDETERMINATE"
    assert result["sub"] == "SIZE_LIMIT_EXCEEDED"
    assert result["sha256"] is None
    assert result["growth"] < GROWTH_ALLOWED


def test_a_detached_signature_over_200_mib_is_verified_in_bounded_memory(
    demo_pki: DemoPKI, root_pem: str, tmp_path: Path
) -> None:
    """Content of 200 MiB with its detached CAdES signature passes, the report names the
    content's size and SHA-256, and peak RSS grows by far less than the content."""
    content = tmp_path / "scan.bin"
    with content.open("wb") as f:
        for _ in range(BIG // MIB):
            f.write(b"\x5a" * MIB)
    signer = demo_signer(demo_pki, "citizen")
    with pinned(SIGNED_AT), content.open("rb") as f:
        sig = asyncio.run(
            signer.async_sign_general_data(f, "sha256", detached=True, use_cades=True)
        )
    sig_path = tmp_path / "scan.bin.p7s"
    sig_path.write_bytes(sig.dump())
    small = tmp_path / "small.bin"
    small.write_bytes(b"\x5a" * 1024)
    with pinned(SIGNED_AT):
        small_sig = asyncio.run(
            signer.async_sign_general_data(
                small.read_bytes(), "sha256", detached=True, use_cades=True
            )
        )
    result = _measure(
        doc=str(content),
        sig=str(sig_path),
        warm=str(small),
        warm_sig=small_sig.dump().hex(),
        root=root_pem,
        max_size=256 * MIB,
    )
    assert result["warm"] == "TOTAL_PASSED"
    assert result["indication"] == "TOTAL_PASSED", result["message"]
    assert result["size"] == BIG
    assert result["sha256"] == _sha256(content)
    assert result["growth"] < GROWTH_ALLOWED, f"peak RSS grew {result['growth'] / MIB:.1f} MiB"


def test_a_tampered_byte_deep_in_a_big_pdf_fails_the_signature(
    signed_pdfs: tuple[Path, Path], root_pem: str, tmp_path: Path
) -> None:
    """One byte changed 150 MiB into the padded PDF: the streamed digest catches it
    (TOTAL_FAILED / HASH_FAILURE)."""
    small, big = signed_pdfs
    tampered = tmp_path / "tampered.pdf"
    with big.open("rb") as src, tampered.open("wb") as dst:
        while chunk := src.read(MIB):
            dst.write(chunk)
    with tampered.open("r+b") as f:
        f.seek(150 * MIB)
        old = f.read(1)
        f.seek(150 * MIB)
        f.write(b"X" if old != b"X" else b"Y")
    result = _measure(doc=str(tampered), warm=str(small), root=root_pem, max_size=256 * MIB)
    assert result["indication"] == "TOTAL_FAILED"
    assert result["sub"] == "HASH_FAILURE"
    assert result["growth"] < GROWTH_ALLOWED


@pytest.mark.parametrize(
    ("appended", "said"),
    [
        (b"\n% more\n1 0 obj\n<< >>\nendobj\n", "bytes follow the last %%EOF"),
        (b"\nstartxref\n12345\n%%EOF\n", "that the document's chain skips"),
    ],
)
def test_bytes_hidden_after_the_signed_part_of_a_big_pdf_fail_it(
    signed_pdfs: tuple[Path, Path], root_pem: str, tmp_path: Path, appended: bytes, said: str
) -> None:
    """Bytes after the last %%EOF, or a startxref the chain skips, appended to the 200 MiB
    PDF (read piece by piece) and to its small twin (read whole): both TOTAL_FAILED /
    FORMAT_FAILURE naming the hidden update."""
    from verify import TrustProfile, ValidationPolicy, Verifier

    policy = ValidationPolicy(
        validation_time=PINNED_NOW, network=False, revocation="off", max_file_size=256 * MIB
    )
    verifier = Verifier(TrustProfile.custom([root_pem], name="demo"), policy)
    for original in signed_pdfs:  # read whole, then read piece by piece
        doctored = tmp_path / f"doctored-{original.name}"
        with original.open("rb") as src, doctored.open("wb") as dst:
            while chunk := src.read(MIB):
                dst.write(chunk)
            dst.write(appended)
            if b"startxref" in appended:  # then the real one again, which readers follow
                src.seek(-64, 2)
                tail = src.read()
                dst.write(tail[tail.rindex(b"startxref") :])
        sig = verifier.verify(doctored).signatures[0]
        assert sig.indication.value == "TOTAL_FAILED", sig.message_en
        assert sig.sub_indication is not None
        assert sig.sub_indication.value == "FORMAT_FAILURE"
        assert "hidden update" in sig.message_en
        assert said in sig.message_en
