"""PAdES signatures: B-B, B-T, B-LT, B-LTA; visible stamps; certification; field locks.

Built on pyHanko's :class:`~pyhanko.sign.signers.PdfSigner`; this module decides the level
settings, refuses a certificate before anything is written (see
:meth:`esign.profiles.SignatureProfile.acheck_certificate`), draws the Vietnamese stamp and
writes the output atomically.

Sequential signatures: an agency certifies first (``certify=True``: a DocMDP signature that
permits form filling and further signatures), then each signer adds an approval signature;
every signature locks its own field (FieldMDP), or the fields named in ``field_lock``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import IO, Any, Literal
from zoneinfo import ZoneInfo

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.stamp import TextStampStyle

from esign import _core
from esign.errors import EsignError, InputError, TimestampError, UsageError
from esign.profiles import PUBLIC, Level, SignatureProfile
from esign.signers import KeySource
from verify import CertificateCheck, SignerIdentity, TrustProfile, ValidationPolicy, Verifier

__all__ = [
    "VN_TZ",
    "SignResult",
    "SignatureSlot",
    "VisibleStamp",
    "asign_pdf",
    "sign_pdf",
    "stamp_font",
]

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_VIETNAMESE_SAMPLE = "Ký bởi Ngày ký Nguyễn Thị Hoà ĐđƯưƠơẠạẶặỆệỘộỰự"

Source = str | os.PathLike[str] | bytes | IO[bytes]
FieldLock = Literal["own", "all", "none"] | Sequence[str]


@dataclass(frozen=True)
class VisibleStamp:
    """Where the visible signature goes: a 1-based page (``-1``: last) and a box in points.

    ``box`` is ``(x1, y1, x2, y2)`` from the page's bottom-left corner. ``font`` is a TTF
    or OTF file covering Vietnamese; by default :func:`stamp_font`.
    """

    page: int
    box: tuple[int, int, int, int]
    font: str | os.PathLike[str] | None = None

    def __post_init__(self) -> None:
        x1, y1, x2, y2 = self.box
        if self.page == 0:
            raise UsageError("pages are numbered from 1 (or -1 for the last page)")
        if x2 - x1 < 40 or y2 - y1 < 20:
            raise UsageError(f"stamp box {self.box} is too small (at least 40 x 20 points)")

    @classmethod
    def parse(cls, spec: str) -> VisibleStamp:
        """``PAGE,x1,y1,x2,y2`` as the CLI takes it."""
        parts = [p.strip() for p in spec.split(",")]
        if len(parts) != 5:
            raise UsageError(f"--visible wants PAGE,x1,y1,x2,y2; got {spec!r}")
        try:
            page, x1, y1, x2, y2 = (int(p) for p in parts)
        except ValueError:
            raise UsageError(f"--visible wants whole numbers; got {spec!r}") from None
        return cls(page, (x1, y1, x2, y2))


@dataclass(frozen=True)
class SignatureSlot:
    """An empty signature field to create for a later signer (with ``certify=True``).

    Creating a *visible* signature field after a certification signature is a change the
    certification does not permit (ISO 32000; pyHanko's difference analysis and Acrobat
    agree), so the certifying agency creates the citizen's and the official's fields up
    front; each later signature fills its field and locks it (``lock``, FieldMDP).
    """

    name: str
    visible: VisibleStamp | None = None
    lock: Literal["own", "all", "none"] | tuple[str, ...] = "own"


@dataclass(frozen=True)
class SignResult:
    """What was produced: where, at which level, by whom, when."""

    output: Path | None
    data: bytes | None
    """The signed bytes when no output path was given; else ``None``."""
    size: int
    sha256: str
    level: Level
    profile: str
    field_name: str | None
    signer: SignerIdentity
    check: CertificateCheck
    signing_time: datetime
    certified: bool = False


@cache
def stamp_font() -> str:
    """A TrueType font that renders Vietnamese.

    The first installed of the ``fontpkg`` families in :data:`FONT_FAMILIES` (PyPI
    packages such as ``fontpkg-be-vietnam-pro`` or ``fontpkg-noto-sans``; a variable font
    is cut to a static regular instance, cached under ``~/.cache/hoso``), else DejaVu Sans
    (Debian ``fonts-dejavu-core``). Every candidate is checked for Vietnamese coverage.
    """
    for family in FONT_FAMILIES:
        try:
            return _fontpkg_static(family)
        except Exception:  # noqa: BLE001, S112 - an optional font that is absent or unusable
            continue
    if _DEJAVU.exists():
        return str(_DEJAVU)
    raise UsageError(
        "no font covering Vietnamese: install fontpkg-be-vietnam-pro, fontpkg-noto-sans or "
        "fonts-dejavu-core, or give VisibleStamp(font=...)"
    )


FONT_FAMILIES: tuple[str, ...] = ("Be Vietnam Pro", "Noto Sans")
"""fontpkg families tried, in order, for the visible stamp."""


def _fontpkg_static(family: str) -> str:
    import tempfile

    import fontpkg
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
    from fontTools.varLib import instancer  # type: ignore[import-untyped]

    src = Path(fontpkg.path(family, nearest=True))
    if src.suffix.lower() not in (".ttf", ".otf"):
        raise ValueError(f"{src}: not a TrueType/OpenType file")
    cache_dir = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hoso"
    stat = src.stat()
    digest = hashlib.sha256(f"{src}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()
    out = cache_dir / f"stamp-{digest[:16]}{src.suffix.lower()}"
    if out.exists():
        return str(out)
    with TTFont(src) as font:
        if "fvar" in font:
            axes = {a.axisTag: a.defaultValue for a in font["fvar"].axes}
            axes.update({k: v for k, v in (("wght", 400), ("wdth", 100)) if k in axes})
            font = instancer.instantiateVariableFont(font, axes, updateFontNames=False)
        cmap = font.getBestCmap()
        if any(ord(c) not in cmap for c in _VIETNAMESE_SAMPLE if not c.isspace()):
            raise ValueError(f"{family} does not cover Vietnamese")
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".part")
        os.close(fd)
        font.save(tmp)
    os.replace(tmp, out)
    return str(out)


_DIGITS = "0123456789"
"""Every digit's glyph goes into every stamp's font subset (see :func:`_glyph_factory`)."""
_TABULAR_SUFFIX = ".hoso-tnum"


def _glyph_factory(font: str, size: int) -> Any:
    """pyHanko's GlyphAccumulatorFactory, reading the font into memory (pyHanko's own
    factory leaves its file handle open), for a stamp that looks the same at every time.

    The stamp's time changes from one signature to the next, and with pyHanko's glyph
    accumulator alone so did everything around it: the font subset held only the digits
    the time used (so its glyph widths, program and ToUnicode map, and their lengths,
    changed), its six-letter tag was random, and with proportional digits and kerning
    the drawing's length and layout changed too. So the verifier's fast path saw a
    document of another shape for every time (issue 18). Here:

    - the digits are tabular (:func:`_stamp_font_data`), so a time's drawing has the
      same layout and length whatever its digits;
    - every digit's glyph is in the subset, so the subset (and its widths and ToUnicode
      map) depends only on the stamp's other text (the signer's name, organisation);
    - the subset's tag is derived from the font and the glyphs it holds, and the font
      program keeps the font's own ``head`` date (fontTools would write the signing
      time there).
    """
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.font.opentype import (
        CIDFontType0,
        GlyphAccumulator,
        GlyphAccumulatorFactory,
    )

    stat = Path(font).stat()
    data = _stamp_font_data(os.fspath(font), stat.st_size, stat.st_mtime_ns)
    font_id = hashlib.sha256(data).digest()

    class _StampGlyphs(GlyphAccumulator):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.tt.recalcTimestamp = False  # keep the font's date, not the signing time

        def prepare_write(self) -> None:
            if not self._write_prepared and not self._subset_created:
                self.shape(_DIGITS, with_actual_text=False)  # every digit, every time
                self._fixed_tag()
            super().prepare_write()  # type: ignore[no-untyped-call]

        def _fixed_tag(self) -> None:
            """The subset's tag (``ABCDEF+``) from the font and the glyphs it keeps: the
            same subset always gets the same tag, another subset (almost surely) another."""
            glyphs = ",".join(str(gid) for gid in sorted(self._glyphs)).encode()
            digest = hashlib.sha256(font_id + glyphs).digest()
            tag = "".join(chr(ord("A") + b % 26) for b in digest[:6])
            cidfont = self.cidfont_obj
            base = cidfont.name.split("+", 1)[-1]
            name = f"{tag}+{base}"
            self.subset_prefix = cidfont.subset_prefix = tag
            cidfont.name = name
            cidfont[generic.NameObject("/BaseFont")] = generic.NameObject("/" + name)
            descriptor = cidfont._font_descriptor
            descriptor[generic.NameObject("/FontName")] = generic.NameObject("/" + name)
            if isinstance(cidfont, CIDFontType0):
                cidfont.cff[0].rawDict["FullName"] = f"{tag}+{name}"  # as pyHanko names it

    class _InMemory(GlyphAccumulatorFactory):
        def create_font_engine(self, writer: Any, obj_stream: Any = None) -> GlyphAccumulator:
            if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
                obj_stream = writer.prepare_object_stream()
            return _StampGlyphs(
                writer=writer,
                font_handle=io.BytesIO(data),
                font_size=self.font_size,
                ot_script_tag=self.ot_script_tag,
                ot_language_tag=self.ot_language_tag,
                writing_direction=self.writing_direction,
                bcp47_lang_code=self.bcp47_lang_code,
                obj_stream=obj_stream,
            )

    return _InMemory(font, font_size=size)


@lru_cache(maxsize=8)
def _stamp_font_data(font: str, size: int, mtime_ns: int) -> bytes:
    """The font's bytes with tabular digits (see :func:`_tabular_digits`); the font as it
    is when that cannot be done. Cached per file version (``size``, ``mtime_ns``)."""
    data = Path(font).read_bytes()
    try:
        return _tabular_digits(data)
    except Exception:  # noqa: BLE001 - a font fontTools cannot rewrite is used as it is
        return data


def _tabular_digits(data: bytes) -> bytes:
    """A TrueType font whose digits 0-9 all have the same advance (the widest digit's),
    each drawn centred in it, and are kerned with nothing: like the ``tnum`` feature,
    which not every font has (Be Vietnam Pro has not).

    Each digit gets a new glyph that draws the original (a composite glyph with one
    offset component) with the common advance, and the Unicode cmaps map the digit to
    it; no kerning pair or substitution names the new glyphs. The glyphs of the other
    characters are untouched. Fonts with CFF outlines or variations are returned as they
    are.
    """
    from fontTools.pens.ttGlyphPen import TTGlyphPen  # type: ignore[import-untyped]
    from fontTools.ttLib import TTFont

    with TTFont(io.BytesIO(data), recalcTimestamp=False) as tt:
        if "glyf" not in tt or "fvar" in tt:
            return data
        cmap = tt.getBestCmap()
        if cmap is None or any(ord(d) not in cmap for d in _DIGITS):
            return data
        tt.ensureDecompiled()
        for tag in ("hdmx", "LTSH", "VDMX", "DSIG"):  # per-glyph device data, a signature
            if tag in tt:
                del tt[tag]
        glyf, hmtx = tt["glyf"], tt["hmtx"]
        originals = [cmap[ord(d)] for d in _DIGITS]
        advance = max(hmtx[name][0] for name in originals)
        order = list(tt.getGlyphOrder())
        taken = set(order)
        made: dict[str, str] = {}
        for name in originals:
            if name in made:
                continue
            new = name + _TABULAR_SUFFIX
            while new in taken:
                new += "_"
            taken.add(new)
            made[name] = new
        tt.setGlyphOrder(order + list(made.values()))
        for name, new in made.items():
            pen = TTGlyphPen(glyf)
            pen.addComponent(name, (1, 0, 0, 1, (advance - hmtx[name][0]) // 2, 0))
            glyph = pen.glyph()
            glyf[new] = glyph
            glyph.recalcBounds(glyf)
            hmtx[new] = (advance, getattr(glyph, "xMin", 0))
            if "vmtx" in tt:
                tt["vmtx"][new] = tt["vmtx"][name]
        for table in tt["cmap"].tables:
            if table.isUnicode():
                for d in _DIGITS:
                    was = table.cmap.get(ord(d))
                    if was in made:
                        table.cmap[ord(d)] = made[was]
        out = io.BytesIO()
        tt.save(out)
    return out.getvalue()


def _stamp_style(font: str) -> TextStampStyle:
    return TextStampStyle(
        stamp_text="%(text)s",
        text_box_style=TextBoxStyle(font=_glyph_factory(font, 9), font_size=9, leading=12),
        border_width=1,
        background=None,
    )


def stamp_text(identity: SignerIdentity, when: datetime) -> str:
    """The stamp's lines: "Ký bởi", the organisation, "Ngày ký" in Asia/Ho_Chi_Minh."""
    lines = [f"Ký bởi: {identity.name or identity.describe_vi()}"]
    if identity.organisation and identity.organisation != identity.name:
        lines.append(f"Cơ quan/Tổ chức: {identity.organisation}")
    local = when.astimezone(VN_TZ)
    lines.append(f"Ngày ký: {local:%d/%m/%Y %H:%M:%S} (GMT+7)")
    return "\n".join(lines)


def _existing_sig_fields(reader: PdfFileReader) -> list[tuple[str, bool]]:
    return [(name, value is not None) for name, value, _ref in fields.enumerate_sig_fields(reader)]


def _field_lock(lock: FieldLock | None, name: str) -> fields.FieldMDPSpec | None:
    if lock is None or lock == "own":
        return fields.FieldMDPSpec(fields.FieldMDPAction.INCLUDE, fields=[name])
    if lock == "all":
        return fields.FieldMDPSpec(fields.FieldMDPAction.ALL)
    if lock == "none":
        return None
    if isinstance(lock, str):
        raise UsageError(
            f"field_lock must be 'own', 'all', 'none' or a list of names; got {lock!r}"
        )
    names = list(dict.fromkeys([name, *lock]))
    return fields.FieldMDPSpec(fields.FieldMDPAction.INCLUDE, fields=names)


async def asign_pdf(
    input: Source,
    output: _core.Destination,
    signer: signers.Signer | KeySource,
    *,
    profile: SignatureProfile = PUBLIC,
    level: str | None = None,
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
    tsa_url: str | None = None,
    visible: VisibleStamp | None = None,
    certify: bool = False,
    field_lock: FieldLock | None = None,
    field_name: str | None = None,
    reason: str | None = None,
    location: str | None = None,
    digest: str | None = None,
    slots: Sequence[SignatureSlot] = (),
) -> SignResult:
    """Sign a PDF at PAdES ``level`` (default: the profile's, B-T); see :func:`sign_pdf`."""
    if (
        isinstance(input, str | os.PathLike)
        and isinstance(output, str | os.PathLike)
        and Path(input).resolve() == Path(output).resolve()
    ):
        # sign in place safely: read it all first, then replace atomically
        input = Path(input).read_bytes()
    async with _core.opened(signer) as pyhanko_signer:
        plan = await _core.plan(
            pyhanko_signer,
            profile=profile,
            level=level,
            trust=trust,
            policy=policy,
            verifier=verifier,
            tsa_url=tsa_url,
            digest=digest,
        )
        with _core.open_input(input) as in_stream:
            try:
                writer = IncrementalPdfFileWriter(in_stream, strict=False)
            except (PdfError, ValueError, OSError) as exc:
                raise InputError(f"not a readable PDF: {_first_line(exc)}") from exc
            if writer.security_handler is not None:
                raise InputError("encrypted PDFs are not supported")
            existing = _existing_sig_fields(writer.prev)
            if certify and any(filled for _n, filled in existing):
                raise UsageError(
                    "a certification signature must be the first signature in the document"
                )
            name = field_name or _next_field_name(existing)
            exists_empty = any(n == name and not filled for n, filled in existing)
            if any(n == name and filled for n, filled in existing):
                raise UsageError(f"signature field {name!r} is already signed")
            when = datetime.now(UTC)
            lock = _field_lock(field_lock, name)
            for slot in slots:
                if slot.name == name or any(n == slot.name for n, _f in existing):
                    raise UsageError(f"signature field {slot.name!r} already exists")
                fields.append_signature_field(writer, _slot_spec(slot))
            new_field = None
            if not exists_empty:
                on_page = 0
                box = None
                if visible is not None:
                    on_page = visible.page - 1 if visible.page > 0 else visible.page
                    box = visible.box
                new_field = fields.SigFieldSpec(name, on_page=on_page, box=box, field_mdp_spec=lock)
            meta = signers.PdfSignatureMetadata(
                field_name=name,
                md_algorithm=plan.digest,
                subfilter=fields.SigSeedSubFilter.PADES,
                certify=certify,
                docmdp_permissions=fields.MDPPerm.FILL_FORMS,
                embed_validation_info=plan.level in ("B-LT", "B-LTA"),
                use_pades_lta=plan.level == "B-LTA",
                validation_context=(
                    plan.validation_context() if plan.level in ("B-LT", "B-LTA") else None
                ),
                reason=reason,
                location=location,
                name=plan.identity.name,
                signer_key_usage=_usage_for(plan),
            )
            stamp = None
            text_params = None
            if visible is not None or exists_empty:
                # an existing empty field may be visible: it gets the Vietnamese stamp too
                font = visible.font if visible is not None and visible.font else None
                stamp = _stamp_style(os.fspath(font) if font else stamp_font())
                text_params = {"text": stamp_text(plan.identity, when)}
            pdf_signer = signers.PdfSigner(
                meta,
                signer=pyhanko_signer,
                timestamper=plan.timestamper(),
                stamp_style=stamp,
                new_field_spec=new_field,
            )
            with _core.atomic_output(output) as (out_stream, target):
                try:
                    with signing_errors(plan.tsa_url):
                        await pdf_signer.async_sign_pdf(
                            writer, output=out_stream, appearance_text_params=text_params
                        )
                except PdfError as exc:
                    raise InputError(f"cannot sign this PDF: {_first_line(exc)}") from exc
                out_stream.flush()
                out_stream.seek(0)
                h = hashlib.sha256()
                size = 0
                while chunk := out_stream.read(1 << 20):
                    h.update(chunk)
                    size += len(chunk)
                data = None
                if output is None:
                    out_stream.seek(0)
                    data = out_stream.read()
    return SignResult(
        output=target,
        data=data,
        size=size,
        sha256=h.hexdigest(),
        level=plan.level,
        profile=profile.name,
        field_name=name,
        signer=plan.identity,
        check=plan.check,
        signing_time=when,
        certified=certify,
    )


def sign_pdf(
    input: Source,
    output: _core.Destination,
    signer: signers.Signer | KeySource,
    *,
    profile: SignatureProfile = PUBLIC,
    level: str | None = None,
    trust: TrustProfile | None = None,
    policy: ValidationPolicy | None = None,
    verifier: Verifier | None = None,
    tsa_url: str | None = None,
    visible: VisibleStamp | None = None,
    certify: bool = False,
    field_lock: FieldLock | None = None,
    field_name: str | None = None,
    reason: str | None = None,
    location: str | None = None,
    digest: str | None = None,
    slots: Sequence[SignatureSlot] = (),
) -> SignResult:
    """Sign a PDF and write it to ``output`` atomically (nothing is left on failure).

    ``input`` is a path, bytes or a binary stream; ``output`` a path, a writable binary
    stream, or ``None`` (the bytes are in :attr:`SignResult.data`). ``signer`` is a pyHanko
    signer from :mod:`esign.signers` (or any other) or a :class:`~esign.signers.RemoteKey`.

    Before anything is written, the certificate is checked against ``profile`` with
    ``trust`` (default: the profile's bundled anchors) and ``policy`` (default:
    :class:`verify.ValidationPolicy`, hard revocation checking); pass a long-lived
    ``verifier`` instead to reuse its OCSP/CRL caches. Raises a
    :class:`~esign.errors.CertificateRefused` subclass, :class:`~esign.errors.UsageError`,
    :class:`~esign.errors.InputError`, :class:`~esign.errors.TimestampError` or a
    :class:`~esign.errors.KeySourceError`.

    ``level``: ``B-B``, ``B-T`` (RFC 3161 signature timestamp), ``B-LT`` (chain and
    OCSP/CRL in the DSS), ``B-LTA`` (plus a document timestamp). ``certify=True`` makes a
    DocMDP certification signature allowing form filling and further signatures.
    ``field_lock``: ``"own"`` (default: lock this signature's field), ``"all"``, ``"none"``
    or field names to lock with it (FieldMDP).
    """
    return asyncio.run(
        asign_pdf(
            input,
            output,
            signer,
            profile=profile,
            level=level,
            trust=trust,
            policy=policy,
            verifier=verifier,
            tsa_url=tsa_url,
            visible=visible,
            certify=certify,
            field_lock=field_lock,
            field_name=field_name,
            reason=reason,
            location=location,
            digest=digest,
            slots=slots,
        )
    )


def _slot_spec(slot: SignatureSlot) -> fields.SigFieldSpec:
    lock = slot.lock if isinstance(slot.lock, str) else list(slot.lock)
    vis = slot.visible
    return fields.SigFieldSpec(
        slot.name,
        on_page=(vis.page - 1 if vis.page > 0 else vis.page) if vis else 0,
        box=vis.box if vis else None,
        field_mdp_spec=_field_lock(lock, slot.name),
    )


def _usage_for(plan: _core.Plan) -> set[str]:
    usage = plan.cert.key_usage_value
    present = set(usage.native) if usage is not None else set()
    for wanted in ("non_repudiation", "digital_signature"):
        if wanted in present:
            return {wanted}
    return set()


def _next_field_name(existing: list[tuple[str, bool]]) -> str:
    empty = [n for n, filled in existing if not filled]
    if empty:
        return empty[0]
    names = {n for n, _f in existing}
    n = 1
    while f"Signature{n}" in names:
        n += 1
    return f"Signature{n}"


@contextlib.contextmanager
def signing_errors(tsa_url: str | None) -> Iterator[None]:
    """Turn what pyHanko raises while signing into esign's own errors (see esign.errors)."""
    try:
        yield
    except EsignError:
        raise
    except TimestampRequestError as exc:
        raise TimestampError(f"{tsa_url}: timestamp failed: {_first_line(exc)}") from exc
    except SigningError as exc:
        raise _signing_error(exc, tsa_url) from exc


def _signing_error(exc: SigningError, tsa_url: str | None) -> EsignError:
    from esign.errors import KeySourceError, RemoteSigningError

    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, EsignError):
            return cause
        if isinstance(cause, TimestampRequestError):
            return TimestampError(f"{tsa_url}: timestamp failed: {_first_line(cause)}")
        cause = cause.__cause__ or cause.__context__
    text = _first_line(exc)
    if "timestamp" in text.lower():
        return TimestampError(f"{tsa_url}: {text}")
    if "csc" in text.lower() or "remote" in text.lower():
        return RemoteSigningError(text)
    return KeySourceError(f"signing failed: {text}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
