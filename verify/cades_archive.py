"""CAdES archive timestamps: what each one proves, and the imprint a new one must carry.

An archive timestamp is an unsigned attribute of a SignerInfo holding a timestamp token
whose message imprint binds the signature and what it carried when the token was
requested: the signed content, the signature value, the certificates and revocation
values, and the unsigned attributes then present (earlier timestamps among them), so that
it proves all of these existed at its time. Two kinds are read:

archive-time-stamp-v3 (ETSI EN 319 122-1 §5.5.3, OID 0.4.0.1733.2.4)
    The imprint is the hash of the concatenation, with the token's imprint algorithm, of
    (1) the DER ``SignedData.encapContentInfo.eContentType``; (2) the hash of the signed
    content (the detached content, or the encapsulated ``eContent`` octets); (3) the
    SignerInfo's ``version``, ``sid``, ``digestAlgorithm``, ``signedAttrs``,
    ``signatureAlgorithm`` and ``signature``, each as encoded, tag and length included;
    (4) the ``ATSHashIndexV3`` value of the ``ats-hash-index-v3`` attribute
    (0.4.0.19122.1.5), an unsigned attribute of the token's own SignerInfo, as encoded.
    The index lists, with its own algorithm (SHA-256 by default), the hash of every
    ``CertificateChoices`` in ``SignedData.certificates``, of every
    ``RevocationInfoChoice`` in ``SignedData.crls``, and of ``DER(attrType) || value``
    for every value of every unsigned attribute present when the token was requested.
    Things added later (a later timestamp, new validation data) are simply not in the
    index; an entry that matches nothing the signature now carries means something the
    token covered was removed or altered (§5.5.2: the index is then invalid). The
    earlier indexes, ``ats-hash-index`` (0.4.0.1733.2.5, TS 101 733 v2.2.1) and
    ``ats-hash-index-v2`` (0.4.0.19122.1.4, EN 319 122-1 v1.0.0), hash each whole
    ``Attribute`` instead of each value.

archive-time-stamp-v2 (ETSI TS 101 733 §6.4.1 and Annex K, 1.2.840.113549.1.9.16.2.48)
    The imprint is the hash of ``encapContentInfo``, then the detached content when
    ``eContent`` is absent, then the ``certificates`` and ``crls`` fields (their [0] and
    [1] tags included), then the SignerInfo's fields as for v3, then the unsigned
    attributes that precede the archive timestamp. TS 101 733 v2.2.1 includes the [1]
    tag and length of the unsigned attributes and v1.8.3 did not; Annex K note 3 asks
    verifiers to try both, and so does :func:`archive_timestamps`. EU DSS selects the
    attributes as "every unsigned attribute but the archive timestamps not older than
    this one" rather than "those before it"; that selection is tried too.

Everything is first computed on the encodings as they are in the file, which is what both
standards ask for. EU DSS (``dss-cades``: ``CadesLevelBaselineLTATimestampExtractor``,
``CAdESTimestampMessageDigestBuilder``) hashes what Bouncy Castle re-encodes in DER (SETs
sorted, BER octet strings joined), writes and hashes the index's ``hashIndAlgorithm`` even
when it is the SHA-256 default, and selects an ATSv2's attributes as "every unsigned
attribute but the archive timestamps not older than this one"; a timestamp that does not
match as encoded is also tried those ways, and :attr:`ArchiveTimestamp.variant` says which
reading matched. DSS's selection matters in practice: tools that re-sort the unsigned
attributes as a DER SET after an ATSv2 was added move it away from the end.

Give the CMS as its bytes when it may be BER: asn1crypto's ``dump()`` of a value read with
an indefinite length re-encodes it and sorts every SET OF inside, which reorders the
unsigned attributes (see :data:`SignedDataLike`).

The readers add what :func:`archive_timestamp_evidence` returns to the evidence the
validation process judges (:func:`verify.process.proof_of_existence`).
:func:`archive_timestamp_request`, :func:`with_hash_index` and
:func:`add_archive_timestamp` are the inverse, to augment a signature with a new
archive-time-stamp-v3.

Nothing here raises on hostile input where evidence is asked for: what cannot be read
becomes a reason, and a token that proves nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TypeAlias

from asn1crypto import algos, cms, core, tsp, x509
from cryptography.hazmat.primitives import hashes
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko.sign.validation.policy_decl import CMSAlgorithmUsagePolicy
from pyhanko.sign.validation.status import TimestampSignatureStatus
from pyhanko_certvalidator import ValidationContext

from verify import process
from verify.ber import MAX_DEPTH
from verify.ber import Tlv as _Tlv
from verify.ber import append_unsigned_attribute as _append_unsigned
from verify.ber import der_length as _der_length
from verify.ber import oid_der as _oid_der
from verify.ber import read_one as _one
from verify.ber import tlv as _tlv

__all__ = [
    "ARCHIVE_TIMESTAMP_V2",
    "ARCHIVE_TIMESTAMP_V3",
    "ATS_HASH_INDEX",
    "ATS_HASH_INDEX_V2",
    "ATS_HASH_INDEX_V3",
    "MAX_ARCHIVE_TIMESTAMPS",
    "ArchiveTimestamp",
    "ArchiveTimestampRequest",
    "SignedDataLike",
    "SignerInfoLike",
    "add_archive_timestamp",
    "archive_message_imprint",
    "archive_timestamp_evidence",
    "archive_timestamp_request",
    "archive_timestamps",
    "with_hash_index",
]

ARCHIVE_TIMESTAMP_V3 = "0.4.0.1733.2.4"
"""id-aa-ets-archiveTimestampV3 (ETSI EN 319 122-1)."""
ARCHIVE_TIMESTAMP_V2 = "1.2.840.113549.1.9.16.2.48"
"""id-aa-ets-archiveTimestampV2 (ETSI TS 101 733, CAdES-A)."""
ATS_HASH_INDEX = "0.4.0.1733.2.5"
"""id-aa-ATSHashIndex (ETSI TS 101 733 v2.2.1): whole attributes hashed."""
ATS_HASH_INDEX_V2 = "0.4.0.19122.1.4"
"""id-aa-ATSHashIndex-v2 (ETSI EN 319 122-1 v1.0.0): whole attributes hashed."""
ATS_HASH_INDEX_V3 = "0.4.0.19122.1.5"
"""id-aa-ATSHashIndex-v3 (ETSI EN 319 122-1 v1.1.1): each attribute value hashed."""
MAX_ARCHIVE_TIMESTAMPS = 64
"""Archive timestamps read per SignerInfo; more are reported as one that proves nothing."""

_INDEX_NAMES = {
    ATS_HASH_INDEX: "ats-hash-index",
    ATS_HASH_INDEX_V2: "ats-hash-index-v2",
    ATS_HASH_INDEX_V3: "ats-hash-index-v3",
}
_VERSIONS = {ARCHIVE_TIMESTAMP_V3: "v3", ARCHIVE_TIMESTAMP_V2: "v2"}
_SIGNED_DATA = "1.2.840.113549.1.7.2"

SignedDataLike: TypeAlias = cms.SignedData | cms.ContentInfo | bytes
"""A CMS as read: its bytes (exact whatever the encoding; PEM is not read here), its
``ContentInfo`` or its ``SignedData``."""
SignerInfoLike: TypeAlias = cms.SignerInfo | int
"""A SignerInfo, or its place among the SignedData's SignerInfos."""
_DEFAULT_INDEX_HASH = "sha256"
_MAX_DER_DEPTH = 64  # nesting followed when re-encoding a value in DER

_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "md5": hashes.MD5,
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sha512_224": hashes.SHA512_224,
    "sha512_256": hashes.SHA512_256,
    "sha3_224": hashes.SHA3_224,
    "sha3_256": hashes.SHA3_256,
    "sha3_384": hashes.SHA3_384,
    "sha3_512": hashes.SHA3_512,
    "shake256": lambda: hashes.SHAKE256(digest_size=64),
}


# -- what the readers get ----------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveTimestamp:
    """One archive-timestamp attribute of a SignerInfo and what its imprint proves."""

    position: int
    """Its place among the SignerInfo's unsigned attributes (0 is the first)."""
    version: str
    """``v3`` (archive-time-stamp-v3) or ``v2`` (archive-time-stamp-v2)."""
    token: cms.ContentInfo | None
    """The timestamp token (None: it cannot be read)."""
    time: datetime | None
    """Its ``genTime``."""
    hash_algorithm: str | None
    """Its message imprint's hash algorithm (asn1crypto's name)."""
    imprint: bytes | None
    """Its message imprint, as the token carries it."""
    imprint_matches: bool
    """The imprint is the one computed from the signature as it is now (for v3, with the
    index the token carries: EU DSS's "message imprint intact")."""
    hash_index: str | None = None
    """v3: the name of the index attribute the token carries (``ats-hash-index-v3``...)."""
    hash_index_algorithm: str | None = None
    """v3: the hash algorithm of the index's entries."""
    hash_index_problems: tuple[tuple[str, str], ...] = ()
    """v3: (vi, en) for each kind of index entry that matches nothing in the signature
    (a covered certificate, revocation value or unsigned attribute removed or altered)."""
    covers: tuple[int, ...] = ()
    """The positions of the unsigned attributes the imprint covers (for v3, those whose
    every value is in the index): earlier timestamps among them."""
    variant: str | None = None
    """Which reading of the standard the imprint matched, when not the first one."""
    reason_vi: str | None = None
    reason_en: str | None = None
    """Why it is not intact (None when it is)."""

    @property
    def intact(self) -> bool:
        """Its imprint matches and (v3) every index entry names something still there."""
        return self.imprint_matches and not self.hash_index_problems


@dataclass(frozen=True)
class ArchiveTimestampRequest:
    """What to ask a TSA for to add an archive-time-stamp-v3 to a SignerInfo."""

    message_imprint: bytes
    """The imprint the token must carry."""
    hash_algorithm: str
    """Its hash algorithm (also the index's)."""
    hash_index: bytes
    """The DER ``ats-hash-index-v3`` Attribute the token must carry among its own unsigned
    attributes (see :func:`with_hash_index`)."""


# -- public functions ---------------------------------------------------------------------------


def archive_message_imprint(
    signed_data: SignedDataLike,
    signer_info: SignerInfoLike,
    content: bytes | None,
    position: int,
    hash_algorithm: str,
) -> bytes:
    """The message imprint the archive timestamp at ``position`` among ``signer_info``'s
    unsigned attributes must carry, with ``hash_algorithm`` (asn1crypto's name).

    ``signed_data`` is the CMS as read from the file: best its bytes (exact for DER and
    BER alike), else its ``ContentInfo`` or ``SignedData`` as parsed and not changed
    since; never a reshaped copy (``cms_forms.detach_content``, ``one_per_signer``,
    pruned certificates), since its encapContentInfo, certificates and crls are hashed as
    they are. ``signer_info`` is one of its SignerInfos, or its place among them;
    ``content`` the detached content (ignored when the CMS encapsulates its content).

    For v3 the index is the one the token at ``position`` carries; for v2 the reading is
    TS 101 733 v2.2.1's (the unsigned attributes before it, their [1] tag and length
    included); :func:`archive_timestamps` also tries the other readings. Raises
    ``ValueError`` when it cannot be computed.
    """
    try:
        sd = _parse_signed_data(_raw(signed_data))
        si = _signer(signed_data, signer_info)
        if not 0 <= position < len(si.attributes):
            raise ValueError(f"no unsigned attribute at position {position}")
        attr = si.attributes[position]
        if attr.oid == ARCHIVE_TIMESTAMP_V3:
            index = _token_index(_attr_token_bytes(attr))
            signed = _signed_content(sd, content)
            return _v3_imprint(sd, si, signed, index.encoded, hash_algorithm)
        if attr.oid == ARCHIVE_TIMESTAMP_V2:
            return _v2_imprint(sd, si, content, si.attributes[:position], hash_algorithm, True)
    except ValueError:
        raise
    except Exception as exc:
        raise ValueError(_short(exc)) from exc
    raise ValueError(f"the unsigned attribute at position {position} is not an archive timestamp")


def archive_timestamps(
    signed_data: SignedDataLike, signer_info: SignerInfoLike, content: bytes | None
) -> list[ArchiveTimestamp]:
    """Every archive timestamp of ``signer_info``, in the order of its unsigned attributes,
    each with whether its imprint matches the signature as it is now and why not.

    Arguments as for :func:`archive_message_imprint`. Never raises on malformed input:
    what cannot be read is a reason. Unsigned attributes that cannot be told apart give
    an empty list (there is nothing to call an archive timestamp).
    """
    try:
        si = _signer(signed_data, signer_info)
    except Exception:  # noqa: BLE001 - no attributes to read: no archive timestamps
        return []
    positions = [i for i, a in enumerate(si.attributes) if a.oid in _VERSIONS]
    if not positions:
        return []
    sd: _SignedData | None = None
    sd_problem: str | None = None
    try:
        sd = _parse_signed_data(_raw(signed_data))
    except Exception as exc:  # noqa: BLE001 - every timestamp says why
        sd_problem = _short(exc)
    tokens = {i: _read_token(si.attributes[i]) for i in positions[:MAX_ARCHIVE_TIMESTAMPS]}
    memo = _DerMemo()
    found: list[ArchiveTimestamp] = []
    for i in positions[:MAX_ARCHIVE_TIMESTAMPS]:
        read = tokens[i]
        version = _VERSIONS[si.attributes[i].oid or ""]
        if isinstance(read, str):
            found.append(
                _broken(
                    i,
                    version,
                    None,
                    f"không đọc được token dấu thời gian ({read})",
                    f"its token cannot be read ({read})",
                )
            )
            continue
        if sd is None:
            found.append(
                _broken(
                    i,
                    version,
                    read,
                    f"không đọc được SignedData ({sd_problem})",
                    f"the SignedData cannot be read ({sd_problem})",
                )
            )
            continue
        try:
            if version == "v3":
                found.append(_check_v3(i, read, sd, si, content))
            else:
                found.append(_check_v2(i, read, sd, si, content, tokens, memo))
        except Exception as exc:  # noqa: BLE001 - hostile input ends in a reason
            found.append(
                _broken(
                    i,
                    version,
                    read,
                    f"không tính được message imprint ({_short(exc)})",
                    f"its message imprint cannot be computed ({_short(exc)})",
                )
            )
    if len(positions) > MAX_ARCHIVE_TIMESTAMPS:
        rest = len(positions) - MAX_ARCHIVE_TIMESTAMPS
        found.append(
            ArchiveTimestamp(
                position=positions[MAX_ARCHIVE_TIMESTAMPS],
                version=_VERSIONS[si.attributes[positions[MAX_ARCHIVE_TIMESTAMPS]].oid or ""],
                token=None,
                time=None,
                hash_algorithm=None,
                imprint=None,
                imprint_matches=False,
                reason_vi=f"quá {MAX_ARCHIVE_TIMESTAMPS} dấu thời gian lưu trữ; {rest} "
                "dấu còn lại không được đọc",
                reason_en=f"more than {MAX_ARCHIVE_TIMESTAMPS} archive timestamps; the other "
                f"{rest} were not read",
            )
        )
    return found


async def archive_timestamp_evidence(
    signed_data: SignedDataLike,
    signer_info: SignerInfoLike,
    content: bytes | None,
    validation_context: ValidationContext,
    *,
    algorithm_policy: CMSAlgorithmUsagePolicy | None = None,
    strict_hash_index: bool = True,
) -> list[process.TimestampEvidence]:
    """Evidence (kind ``archive``) for every archive timestamp of ``signer_info``.

    ``intact`` is :attr:`ArchiveTimestamp.intact` (the imprint matches and, unless
    ``strict_hash_index`` is off, as in EU DSS's default policy where a broken index is a
    warning, every ats-hash-index entry names something still in the signature);
    ``valid`` is the token's own signature, ``trusted`` its TSA's path under
    ``validation_context``, both by pyHanko. A timestamp that is not intact, or whose
    token pyHanko cannot validate, has the reason in its label. Never raises on malformed
    input.
    """
    try:
        found = archive_timestamps(signed_data, signer_info, content)
    except Exception as exc:  # noqa: BLE001 - hostile input must end in evidence
        return [
            process.TimestampEvidence(
                kind="archive",
                time=None,
                intact=False,
                valid=False,
                trusted=False,
                label=f"archive timestamps: cannot be read ({_short(exc)}; "
                f"không đọc được dấu thời gian lưu trữ)",
            )
        ]
    if found:
        _register_certificates(validation_context, signed_data)
    return [
        await _evidence(n, ats, validation_context, algorithm_policy, strict_hash_index)
        for n, ats in enumerate(found, 1)
    ]


def archive_timestamp_request(
    signed_data: SignedDataLike,
    signer_info: SignerInfoLike,
    content: bytes | None,
    hash_algorithm: str = "sha256",
) -> ArchiveTimestampRequest:
    """The ats-hash-index-v3 and the message imprint for a new archive-time-stamp-v3 over
    ``signer_info`` as it is now (every certificate, revocation value and unsigned
    attribute it carries). Raises ``ValueError`` when it cannot be computed.

    The index writes its ``hashIndAlgorithm`` even for SHA-256, as EU DSS does (DSS
    hashes the index with it written out, so an index that omits it would not verify
    there). Ask the TSA for a token over :attr:`ArchiveTimestampRequest.message_imprint`,
    then give it to :func:`with_hash_index` and the result to
    :func:`add_archive_timestamp`.
    """
    if hash_algorithm not in _HASHES:
        raise ValueError(f"unknown hash algorithm {hash_algorithm!r}")
    try:
        sd = _parse_signed_data(_raw(signed_data))
        si = _signer(signed_data, signer_info)
        signed = _signed_content(sd, content)
    except ValueError:
        raise
    except Exception as exc:
        raise ValueError(_short(exc)) from exc
    certs = [_digest(hash_algorithm, c.encoded) for c in _kids(sd.certificates)]
    crls = [_digest(hash_algorithm, c.encoded) for c in _kids(sd.crls)]
    values: list[bytes] = []
    for attr in si.attributes:
        if attr.values is None:
            raise ValueError(f"unsigned attribute {attr.position} cannot be read")
        values.extend(_digest(hash_algorithm, attr.type_der + v.encoded) for v in attr.values)
    oid = algos.DigestAlgorithmId.unmap(hash_algorithm)
    algorithm = _tlv(0x30, _oid_der(oid))
    index = _tlv(
        0x30,
        algorithm
        + _tlv(0x30, b"".join(_tlv(0x04, h) for h in certs))
        + _tlv(0x30, b"".join(_tlv(0x04, h) for h in crls))
        + _tlv(0x30, b"".join(_tlv(0x04, h) for h in values)),
    )
    attribute = _tlv(0x30, _oid_der(ATS_HASH_INDEX_V3) + _tlv(0x31, index))
    imprint = _v3_imprint(sd, si, signed, index, hash_algorithm)
    return ArchiveTimestampRequest(imprint, hash_algorithm, attribute)


def with_hash_index(token: cms.ContentInfo, request: ArchiveTimestampRequest) -> cms.ContentInfo:
    """``token`` (the TSA's answer to ``request``) with the request's ats-hash-index-v3
    added to its SignerInfo's unsigned attributes (which its signature does not cover).

    Raises ``ValueError`` when the token does not carry the request's imprint.
    """
    info = token["content"]["encap_content_info"]["content"].parsed
    if not isinstance(info, tsp.TSTInfo):
        raise ValueError("the token does not encapsulate a TSTInfo")
    imprint = info["message_imprint"]
    if (
        imprint["hash_algorithm"]["algorithm"].native != request.hash_algorithm
        or imprint["hashed_message"].native != request.message_imprint
    ):
        raise ValueError("the token's message imprint is not the request's")
    top = _one(_raw(token))
    kids = top.children()
    if len(kids) != 2 or kids[1].tag != 0 or kids[1].class_ != 2:
        raise ValueError("the token is not a ContentInfo with content")
    (sd_tlv,) = kids[1].children()
    new_sd = _append_unsigned(sd_tlv, 0, request.hash_index)
    new = _tlv(0x30, kids[0].encoded + _tlv(0xA0, new_sd))
    return cms.ContentInfo.load(new)


def add_archive_timestamp(
    signed_data: SignedDataLike, signer_index: int, token: cms.ContentInfo
) -> cms.ContentInfo:
    """``signed_data`` with an archive-time-stamp-v3 attribute holding ``token`` appended
    to the unsigned attributes of its SignerInfo number ``signer_index``; everything else
    keeps its encoding."""
    tlv = _unwrap_signed_data(_one(_raw(signed_data)))
    attribute = _tlv(0x30, _oid_der(ARCHIVE_TIMESTAMP_V3) + _tlv(0x31, _raw(token)))
    new = _append_unsigned(tlv, signer_index, attribute)
    return cms.ContentInfo.load(_tlv(0x30, _oid_der(_SIGNED_DATA) + _tlv(0xA0, new)))


# -- checking one timestamp ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    token: cms.ContentInfo
    raw: bytes
    time: datetime
    algorithm: str
    imprint: bytes


def _read_token(attr: _Attribute) -> _Token | str:
    """The token an archive-timestamp attribute holds, or why it cannot be read."""
    try:
        raw = _attr_token_bytes(attr)
        token = cms.ContentInfo.load(raw, strict=True)
        if token["content_type"].native != "signed_data":
            return "not a SignedData"
        info = token["content"]["encap_content_info"]["content"].parsed
        if not isinstance(info, tsp.TSTInfo):
            return "no TSTInfo"
        time = info["gen_time"].native
        algorithm = info["message_imprint"]["hash_algorithm"]["algorithm"].native
        imprint = info["message_imprint"]["hashed_message"].native
        if not isinstance(time, datetime) or not isinstance(imprint, bytes):
            return "no genTime or message imprint"
        return _Token(token, raw, time, str(algorithm), imprint)
    except Exception as exc:  # noqa: BLE001 - hostile input ends in a reason
        return _short(exc)


def _check_v3(
    position: int, read: _Token, sd: _SignedData, si: _SignerInfo, content: bytes | None
) -> ArchiveTimestamp:
    found = _token_index_attribute(read.raw)
    if isinstance(found, _Reason):
        return _broken(position, "v3", read, found.vi, found.en)
    index_oid, index_value = found
    name = _INDEX_NAMES[index_oid]
    try:
        index = _parse_index(index_value)
    except Exception as exc:  # noqa: BLE001 - hostile input ends in a reason
        return _broken(
            position,
            "v3",
            read,
            f"không đọc được chỉ mục băm {name} ({_short(exc)})",
            f"its {name} cannot be read ({_short(exc)})",
            hash_index=name,
        )
    if index.algorithm not in _HASHES:
        return _broken(
            position,
            "v3",
            read,
            f"chỉ mục băm dùng thuật toán không biết ({index.algorithm})",
            f"its hash index uses an unknown algorithm ({index.algorithm})",
            hash_index=name,
        )
    signed = _signed_content_or_none(sd, content)
    if signed is None:
        return _no_content(position, "v3", read)
    written = _tlv(0x30, _SHA256_ALGORITHM + index_value.contents)
    der_index = _der(index_value)
    if not index.explicit_algorithm:
        body = b"".join(_der(k) for k in index_value.children())
        der_index = _tlv(0x30, _SHA256_ALGORITHM + body)
    forms: list[tuple[Callable[[], bytes], str | None]] = [
        (partial(_v3_imprint, sd, si, signed, index_value, read.algorithm), None)
    ]
    if not index.explicit_algorithm:
        forms.append(
            (
                partial(_v3_imprint, sd, si, signed, written, read.algorithm),
                "hash index hashed with its default algorithm written out (as EU DSS does)",
            )
        )
    forms.append(
        (
            partial(_v3_imprint, sd, si, signed, der_index, read.algorithm, der=True),
            "re-encoded in DER (as EU DSS does)",
        )
    )
    matched, variant = _match(read, forms)
    problems, covers = _index_problems(index, index_oid, sd, si)
    reason = None if matched else _MISMATCH
    if reason is None and problems:
        reason = ("; ".join(vi for vi, _ in problems), "; ".join(en for _, en in problems))
    return ArchiveTimestamp(
        position=position,
        version="v3",
        token=read.token,
        time=read.time,
        hash_algorithm=read.algorithm,
        imprint=read.imprint,
        imprint_matches=matched,
        hash_index=name,
        hash_index_algorithm=index.algorithm,
        hash_index_problems=problems,
        covers=covers,
        variant=variant,
        reason_vi=reason[0] if reason else None,
        reason_en=reason[1] if reason else None,
    )


def _check_v2(
    position: int,
    read: _Token,
    sd: _SignedData,
    si: _SignerInfo,
    content: bytes | None,
    tokens: dict[int, _Token | str],
    memo: _DerMemo,
) -> ArchiveTimestamp:
    if sd.econtent is None and content is None:
        return _no_content(position, "v2", read)
    if read.algorithm not in _HASHES:
        raise ValueError(f"unknown imprint hash algorithm {read.algorithm}")
    before = list(si.attributes[:position])
    # EU DSS: every unsigned attribute but the archive timestamps not older than this one
    # (attributes re-sorted as a DER SET after the fact still match)
    dss = [
        a
        for a in si.attributes
        if a.position != position
        and (a.oid not in _VERSIONS or _older(tokens.get(a.position), read.time))
    ]
    selections: list[tuple[list[_Attribute], str | None]] = [(before, None)]
    if [a.position for a in dss] != [a.position for a in before]:
        selections.append((dss, "the older archive timestamps and every other unsigned attribute"))
    matched, variant = False, None
    covers: tuple[int, ...] = ()
    raw_parts = _v2_parts(sd, si, der=False)
    for der in (False, True):
        if der:
            found_der = memo.der_forms(sd, si)
            if found_der is None:  # nested too deep to re-encode: the reading as encoded stands
                break
            parts, encoded = found_der
        else:
            parts, encoded = raw_parts, {a.position: a.tlv.encoded for a in si.attributes}
        if (
            der
            and parts == raw_parts
            and all(encoded[a.position] == a.tlv.encoded for a in si.attributes)
        ):
            break  # nothing differs once re-encoded
        prefix = _v2_prefix(parts, sd, content, read.algorithm)
        for attributes, chosen in selections:
            for with_tag in (True, False):
                h = prefix.copy()
                body = b"".join(encoded[a.position] for a in attributes)
                if with_tag:
                    h.update(b"\xa1" + _der_length(len(body)))
                h.update(body)
                if h.finalize() == read.imprint:
                    notes = [
                        chosen,
                        None if with_tag else "without the [1] tag and length (TS 101 733 v1.8.3)",
                        "re-encoded in DER (as EU DSS does)" if der else None,
                    ]
                    found = [n for n in notes if n]
                    variant = "; ".join(found) if found else None
                    matched, covers = True, tuple(a.position for a in attributes)
                    break
            if matched:
                break
        if matched:
            break
    return ArchiveTimestamp(
        position=position,
        version="v2",
        token=read.token,
        time=read.time,
        hash_algorithm=read.algorithm,
        imprint=read.imprint,
        imprint_matches=matched,
        covers=covers,
        variant=variant,
        reason_vi=None if matched else _MISMATCH[0],
        reason_en=None if matched else _MISMATCH[1],
    )


class _DerMemo:
    """The DER forms of a signature's parts, computed once for all its ATSv2 (re-encoding
    megabytes of revocation values in Python takes seconds)."""

    def __init__(self) -> None:
        self._done = False
        self._forms: tuple[list[bytes], dict[int, bytes]] | None = None

    def der_forms(
        self, sd: _SignedData, si: _SignerInfo
    ) -> tuple[list[bytes], dict[int, bytes]] | None:
        """The DER Annex K parts and unsigned attributes (None: cannot be re-encoded)."""
        if not self._done:
            self._done = True
            try:
                self._forms = (
                    _v2_parts(sd, si, der=True),
                    {a.position: _der(a.tlv) for a in si.attributes},
                )
            except ValueError:
                self._forms = None
        return self._forms


def _older(read: _Token | str | None, than: datetime) -> bool:
    return isinstance(read, _Token) and read.time < than


def _match(
    read: _Token, candidates: Sequence[tuple[Callable[[], bytes], str | None]]
) -> tuple[bool, str | None]:
    if read.algorithm not in _HASHES:
        raise ValueError(f"unknown imprint hash algorithm {read.algorithm}")
    for n, (compute, variant) in enumerate(candidates):
        try:
            if compute() == read.imprint:
                return True, variant
        except ValueError:
            if n == 0:
                raise  # the reading as encoded cannot be computed: say why
    return False, None


_MISMATCH = (
    "message imprint không khớp với chữ ký hiện tại (nội dung, chữ ký hoặc dữ liệu kèm "
    "theo đã bị thay đổi)",
    "its message imprint does not match the signature as it is now (the content, the "
    "signature or what it carries was changed)",
)


def _index_problems(
    index: _Index, index_oid: str, sd: _SignedData, si: _SignerInfo
) -> tuple[tuple[tuple[str, str], ...], tuple[int, ...]]:
    """What the index names that the signature no longer carries, and the positions of
    the unsigned attributes it covers. Each thing is hashed as encoded and, for entries
    still unmatched, re-encoded in DER (as EU DSS hashes attribute values); each thing
    matches one entry at most."""
    algorithm = index.algorithm
    problems: list[tuple[str, str]] = []
    certs = [_Hashed(c, b"") for c in _kids(sd.certificates)]
    missing, _ = _unmatched(index.certificates, certs, algorithm)
    if missing:
        problems.append(
            (
                f"chỉ mục băm nêu {missing} chứng thư số không còn trong SignedData.certificates "
                "(bị gỡ bỏ hoặc sửa đổi)",
                f"its hash index names {missing} certificate(s) no longer in "
                "SignedData.certificates (removed or altered)",
            )
        )
    crls = [_Hashed(c, b"") for c in _kids(sd.crls)]
    missing, _ = _unmatched(index.crls, crls, algorithm)
    if missing:
        problems.append(
            (
                f"chỉ mục băm nêu {missing} thông tin thu hồi không còn trong SignedData.crls "
                "(bị gỡ bỏ hoặc sửa đổi)",
                f"its hash index names {missing} revocation value(s) no longer in "
                "SignedData.crls (removed or altered)",
            )
        )
    values: list[_Hashed] = []
    owner: list[int] = []
    for attr in si.attributes:
        if index_oid != ATS_HASH_INDEX_V3:
            values.append(_Hashed(attr.tlv, b""))
            owner.append(attr.position)
        elif attr.values is not None:
            for v in attr.values:
                values.append(_Hashed(v, attr.type_der))
                owner.append(attr.position)
    missing, used = _unmatched(index.attributes, values, algorithm)
    if missing:
        problems.append(
            (
                f"chỉ mục băm nêu {missing} giá trị thuộc tính không ký không còn trong chữ ký "
                "(bị gỡ bỏ hoặc sửa đổi)",
                f"its hash index names {missing} unsigned attribute value(s) no longer in "
                "the signature (removed or altered)",
            )
        )
    covered = dict.fromkeys(owner, True)
    for i, position in enumerate(owner):
        if i not in used:
            covered[position] = False
    return tuple(problems), tuple(p for p, yes in covered.items() if yes)


@dataclass(frozen=True)
class _Hashed:
    """A certificate, revocation value or unsigned attribute (value) the index may name."""

    tlv: _Tlv
    prefix: bytes
    """v3: the attribute's DER attrType, hashed before the value."""

    def raw(self, algorithm: str) -> bytes:
        return _digest(algorithm, self.prefix + self.tlv.encoded)

    def der(self, algorithm: str) -> bytes | None:
        """Its hash once re-encoded in DER, when that changes it."""
        try:
            der = _der(self.tlv)
        except Exception:  # noqa: BLE001 - nested too deep: as encoded only
            return None
        return None if der == self.tlv.encoded else _digest(algorithm, self.prefix + der)


def _unmatched(
    entries: Sequence[bytes], things: Sequence[_Hashed], algorithm: str
) -> tuple[int, set[int]]:
    """How many ``entries`` match no thing, and which things matched one (each thing
    matches one entry at most; DER forms are computed only for what is left)."""
    used: set[int] = set()

    def match(pending: Sequence[bytes], hashed: dict[bytes, list[int]]) -> list[bytes]:
        left: list[bytes] = []
        for entry in pending:
            candidates = hashed.get(entry, [])
            while candidates and candidates[-1] in used:
                candidates.pop()
            if candidates:
                used.add(candidates.pop())
            else:
                left.append(entry)
        return left

    by_raw: dict[bytes, list[int]] = {}
    for i in reversed(range(len(things))):
        by_raw.setdefault(things[i].raw(algorithm), []).append(i)
    left = match(entries, by_raw)
    if left:
        by_der: dict[bytes, list[int]] = {}
        for i in reversed(range(len(things))):
            if i not in used:
                der = things[i].der(algorithm)
                if der is not None:
                    by_der.setdefault(der, []).append(i)
        left = match(left, by_der)
    return len(left), used


def _broken(
    position: int,
    version: str,
    read: _Token | None,
    vi: str,
    en: str,
    *,
    hash_index: str | None = None,
) -> ArchiveTimestamp:
    return ArchiveTimestamp(
        position=position,
        version=version,
        token=read.token if read else None,
        time=read.time if read else None,
        hash_algorithm=read.algorithm if read else None,
        imprint=read.imprint if read else None,
        imprint_matches=False,
        hash_index=hash_index,
        reason_vi=vi,
        reason_en=en,
    )


def _no_content(position: int, version: str, read: _Token) -> ArchiveTimestamp:
    return _broken(
        position,
        version,
        read,
        "không có nội dung đã ký để tính message imprint",
        "the signed content is not available to compute its message imprint",
    )


async def _evidence(
    n: int,
    ats: ArchiveTimestamp,
    vc: ValidationContext,
    algorithm_policy: CMSAlgorithmUsagePolicy | None,
    strict: bool,
) -> process.TimestampEvidence:
    intact = ats.imprint_matches and (not strict or not ats.hash_index_problems)
    reasons: list[str] = []
    if ats.reason_en:
        reasons.append(f"{ats.reason_en} ({ats.reason_vi})")
    valid = trusted = False
    tsa_cert = None
    algorithms: list[str] = []
    if ats.token is not None:
        imprint = ats.imprint or b""
        try:
            signed = ats.token["content"]
            algorithms = _token_algorithms(signed)
            kwargs = await validate_tst_signed_data(
                signed, vc, lambda _algorithm: imprint, algorithm_policy=algorithm_policy
            )
            status = TimestampSignatureStatus(**kwargs)
            valid = bool(status.intact and status.valid)
            trusted = bool(status.trusted)
            tsa_cert = status.signing_cert
        except Exception as exc:  # noqa: BLE001 - hostile input must end in evidence
            reasons.append(
                f"its token cannot be validated ({_short(exc)}; "
                "không kiểm tra được token dấu thời gian)"
            )
    if ats.hash_index_algorithm and ats.hash_index_algorithm not in algorithms:
        algorithms.append(ats.hash_index_algorithm)
    label = f"archive timestamp {n} ({ats.version})"
    if reasons:
        label += ": " + "; ".join(reasons)
    return process.TimestampEvidence(
        kind="archive",
        time=ats.time,
        intact=intact,
        valid=valid,
        trusted=trusted,
        tsa_cert=tsa_cert,
        digest_algorithms=tuple(algorithms),
        label=label,
    )


def _register_certificates(vc: ValidationContext, signed_data: SignedDataLike) -> None:
    """Offer the signature's certificates for the TSAs' paths: augmentation puts a TSA's
    chain in ``SignedData.certificates``. Trust still comes from the context's anchors."""
    try:
        found = _kids(_parse_signed_data(_raw(signed_data)).certificates)
    except Exception:  # noqa: BLE001 - the tokens' own certificates remain
        return
    for tlv in found:
        if not tlv.is_universal(16):
            continue  # other CertificateChoices (attribute certificates...)
        try:
            cert = x509.Certificate.load(tlv.encoded, strict=True)
            _ = cert.subject, cert.issuer, cert.public_key, cert.key_identifier
            vc.certificate_registry.register(cert)
        except Exception:  # noqa: BLE001, S112 - an unreadable certificate is left out
            continue


def _token_algorithms(signed_data: cms.SignedData) -> list[str]:
    """A token's digest algorithms: its message imprint's and its signature's."""
    found: list[str] = []
    try:
        info = signed_data["encap_content_info"]["content"].parsed
        found.append(info["message_imprint"]["hash_algorithm"]["algorithm"].native)
        for si in signed_data["signer_infos"]:
            found.append(si["digest_algorithm"]["algorithm"].native)
    except Exception:  # noqa: BLE001, S110 - an unreadable token is judged by pyHanko
        pass
    return list(dict.fromkeys(str(a) for a in found))


# -- imprints -----------------------------------------------------------------------------------


def _v3_imprint(
    sd: _SignedData,
    si: _SignerInfo,
    content: bytes,
    index: _Tlv | bytes,
    algorithm: str,
    *,
    der: bool = False,
) -> bytes:
    """ETSI EN 319 122-1 §5.5.3: eContentType, the content's hash, the SignerInfo's
    fields up to its signature, and the index value; as encoded, or (``der``) each
    re-encoded in DER as EU DSS does."""
    h = _hasher(algorithm)
    h.update(_der(sd.econtent_type) if der else sd.econtent_type.encoded)
    h.update(_digest(algorithm, content))
    for tlv in si.signed_fields:
        h.update(_der_field(tlv) if der else tlv.encoded)
    if isinstance(index, _Tlv):
        h.update(_der(index) if der else index.encoded)
    else:
        h.update(index)
    return h.finalize()


def _v2_imprint(
    sd: _SignedData,
    si: _SignerInfo,
    content: bytes | None,
    attributes: Sequence[_Attribute],
    algorithm: str,
    with_tag: bool,
) -> bytes:
    h = _v2_prefix(_v2_parts(sd, si, der=False), sd, content, algorithm)
    body = b"".join(a.tlv.encoded for a in attributes)
    if with_tag:
        h.update(b"\xa1" + _der_length(len(body)))
    h.update(body)
    return h.finalize()


def _v2_parts(sd: _SignedData, si: _SignerInfo, *, der: bool) -> list[bytes]:
    """TS 101 733 Annex K up to the unsigned attributes, the detached content left out:
    encapContentInfo, certificates, crls and the SignerInfo's fields; as encoded, or
    (``der``) re-encoded in DER as EU DSS does (which keeps an encapContentInfo whose
    eContent is a constructed BER OCTET STRING in BER)."""
    parts = [_der(sd.encap) if der and not sd.econtent_constructed else sd.encap.encoded]
    for field in (sd.certificates, sd.crls):
        if field is not None:
            if der:
                body = b"".join(_der(k) for k in field.children())
                parts.append(bytes([0xA0 | field.tag]) + _der_length(len(body)) + body)
            else:
                parts.append(field.encoded)
    parts.extend(_der_field(t) if der else t.encoded for t in si.signed_fields)
    return parts


def _v2_prefix(
    parts: Sequence[bytes], sd: _SignedData, content: bytes | None, algorithm: str
) -> hashes.Hash:
    """The hash over ``parts`` with the detached content after encapContentInfo when the
    CMS does not encapsulate it."""
    if sd.econtent is None and content is None:
        raise ValueError("the signed content is not available")
    h = _hasher(algorithm)
    h.update(parts[0])
    if sd.econtent is None and content is not None:
        h.update(content)
    for part in parts[1:]:
        h.update(part)
    return h


def _signed_content(sd: _SignedData, content: bytes | None) -> bytes:
    found = _signed_content_or_none(sd, content)
    if found is None:
        raise ValueError("the signed content is not available")
    return found


def _signed_content_or_none(sd: _SignedData, content: bytes | None) -> bytes | None:
    """What the signature's message-digest covers: the encapsulated octets, else the
    detached content."""
    return sd.econtent if sd.econtent is not None else content


def _hasher(algorithm: str) -> hashes.Hash:
    make = _HASHES.get(algorithm)
    if make is None:
        raise ValueError(f"unknown hash algorithm {algorithm}")
    return hashes.Hash(make())


def _digest(algorithm: str, data: bytes) -> bytes:
    h = _hasher(algorithm)
    h.update(data)
    return h.finalize()


# -- the structures, read as encoded ------------------------------------------------------------


def _raw(value: SignedDataLike | cms.SignerInfo) -> bytes:
    """The encoding of ``value`` as it was read. asn1crypto's ``dump()`` re-encodes a value
    whose header (or an explicit tag's) has an indefinite length, sorting every SET OF
    inside it, which would reorder unsigned attributes and change what was hashed; its
    ``contents`` are kept as read unless the value was changed."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return _tlv(0x30, bytes(value.contents))


def _signer(signed_data: SignedDataLike, signer_info: SignerInfoLike) -> _SignerInfo:
    if isinstance(signer_info, int):
        infos = _unwrap_signed_data(_one(_raw(signed_data))).children()[-1].children()
        if not 0 <= signer_info < len(infos):
            raise ValueError(f"no SignerInfo number {signer_info}")
        return _parse_signer_info(infos[signer_info].encoded)
    return _parse_signer_info(_raw(signer_info))


def _kids(tlv: _Tlv | None) -> list[_Tlv]:
    return [] if tlv is None else tlv.children()


@dataclass(frozen=True)
class _SignedData:
    encap: _Tlv
    econtent_type: _Tlv
    econtent: bytes | None
    econtent_constructed: bool
    certificates: _Tlv | None
    crls: _Tlv | None


def _unwrap_signed_data(top: _Tlv) -> _Tlv:
    """The SignedData SEQUENCE from itself, its explicit [0] wrapper (asn1crypto's dump of
    ``ContentInfo["content"]``) or its ContentInfo."""
    if top.is_context(0):
        (top,) = top.children()
    if top.is_universal(16):
        kids = top.children()
        if len(kids) == 2 and kids[0].is_universal(6) and kids[1].is_context(0):
            (top,) = kids[1].children()
    if not (top.is_universal(16) and top.constructed):
        raise ValueError("not a SignedData")
    return top


def _parse_signed_data(raw: bytes) -> _SignedData:
    kids = _unwrap_signed_data(_one(raw)).children()
    if len(kids) < 4:
        raise ValueError("SignedData has too few fields")
    encap = kids[2]
    if not encap.is_universal(16):
        raise ValueError("bad encapContentInfo")
    encap_kids = encap.children()
    if not encap_kids or not encap_kids[0].is_universal(6):
        raise ValueError("bad eContentType")
    econtent = None
    constructed = False
    if len(encap_kids) > 1:
        if not encap_kids[1].is_context(0) or len(encap_kids) > 2:
            raise ValueError("bad eContent")
        (octets,) = encap_kids[1].children()
        econtent = _octets(octets, 0)
        constructed = octets.constructed
    certificates = crls = None
    rest = kids[3:]
    if rest and rest[0].is_context(0):
        certificates, rest = rest[0], rest[1:]
    if rest and rest[0].is_context(1):
        crls, rest = rest[0], rest[1:]
    if len(rest) != 1 or not rest[0].is_universal(17):
        raise ValueError("bad signerInfos")
    return _SignedData(encap, encap_kids[0], econtent, constructed, certificates, crls)


def _octets(tlv: _Tlv, depth: int) -> bytes:
    """An OCTET STRING's octets; a constructed (BER) one joined."""
    if not tlv.is_universal(4):
        raise ValueError("eContent is not an OCTET STRING")
    if not tlv.constructed:
        return tlv.contents
    if depth >= MAX_DEPTH:
        raise ValueError("eContent nested too deep")
    return b"".join(_octets(kid, depth + 1) for kid in tlv.children())


@dataclass(frozen=True)
class _Attribute:
    position: int
    tlv: _Tlv
    oid: str | None
    type_der: bytes
    values: tuple[_Tlv, ...] | None
    """None: the attribute's values cannot be told apart."""


@dataclass(frozen=True)
class _SignerInfo:
    signed_fields: tuple[_Tlv, ...]
    """version, sid, digestAlgorithm, signedAttrs (when present), signatureAlgorithm and
    signature, as encoded."""
    attributes: tuple[_Attribute, ...]


def _parse_signer_info(raw: bytes) -> _SignerInfo:
    top = _one(raw)
    if not top.is_universal(16):
        raise ValueError("not a SignerInfo")
    kids = top.children()
    if len(kids) < 5:
        raise ValueError("SignerInfo has too few fields")
    unsigned = kids[-1] if kids[-1].is_context(1) else None
    fields = kids[:-1] if unsigned is not None else kids
    signed_attrs = len(fields) > 3 and fields[3].is_context(0)
    if len(fields) != (6 if signed_attrs else 5) or not fields[-1].is_universal(4):
        raise ValueError("bad SignerInfo fields")
    return _SignerInfo(
        tuple(fields),
        tuple(_attribute(i, t) for i, t in enumerate(_kids(unsigned))),
    )


def _attribute(position: int, tlv: _Tlv) -> _Attribute:
    try:
        kids = tlv.children()
        if len(kids) != 2 or not kids[0].is_universal(6) or not kids[1].is_universal(17):
            raise ValueError("bad Attribute")
        oid = str(core.ObjectIdentifier.load(kids[0].encoded).dotted)
        return _Attribute(position, tlv, oid, kids[0].encoded, tuple(kids[1].children()))
    except Exception:  # noqa: BLE001 - kept as it is: its encoding can still be hashed
        return _Attribute(position, tlv, None, b"", None)


def _attr_token_bytes(attr: _Attribute) -> bytes:
    if attr.values is None or len(attr.values) != 1:
        raise ValueError("the attribute must hold exactly one token")
    return attr.values[0].encoded


@dataclass(frozen=True)
class _Index:
    algorithm: str
    explicit_algorithm: bool
    certificates: tuple[bytes, ...]
    crls: tuple[bytes, ...]
    attributes: tuple[bytes, ...]


_SHA256_ALGORITHM = bytes.fromhex("300b0609608648016503040201")


@dataclass(frozen=True)
class _Reason:
    vi: str
    en: str


def _token_index_attribute(raw: bytes) -> tuple[str, _Tlv] | _Reason:
    """The token's index attribute (its OID and its one value), or why there is none,
    as EU DSS reads it: the first attribute of a known index type."""
    try:
        sd = _unwrap_signed_data(_one(raw)).children()
        infos = sd[-1].children()
        if len(infos) != 1:
            raise ValueError("the token must have one SignerInfo")
        si = _parse_signer_info(infos[0].encoded)
    except Exception as exc:  # noqa: BLE001 - hostile input ends in a reason
        return _Reason(
            f"không đọc được thuộc tính không ký của token ({_short(exc)})",
            f"its token's unsigned attributes cannot be read ({_short(exc)})",
        )
    for attr in si.attributes:
        if attr.oid in _INDEX_NAMES:
            found = [a for a in si.attributes if a.oid == attr.oid]
            if len(found) != 1 or attr.values is None or len(attr.values) != 1:
                return _Reason(
                    "token có nhiều hơn một chỉ mục băm ats-hash-index",
                    "its token carries more than one ats-hash-index",
                )
            return attr.oid, attr.values[0]
    return _Reason(
        "token không có thuộc tính ats-hash-index-v3 (có thể chép từ chữ ký khác)",
        "its token carries no ats-hash-index(-v3) (it may have been copied from another signature)",
    )


def _token_index(raw: bytes) -> _Tlv:
    found = _token_index_attribute(raw)
    if isinstance(found, _Reason):
        raise ValueError(found.en)
    return found[1]


def _parse_index(value: _Tlv) -> _Index:
    if not value.is_universal(16):
        raise ValueError("the hash index is not a SEQUENCE")
    kids = value.children()
    algorithm = _DEFAULT_INDEX_HASH
    explicit = False
    if len(kids) == 4:
        explicit = True
        head = kids[0]
        if head.is_universal(16) and head.children():
            head = head.children()[0]
        if not head.is_universal(6):
            raise ValueError("bad hashIndAlgorithm")
        dotted = str(core.ObjectIdentifier.load(head.encoded).dotted)
        algorithm = str(algos.DigestAlgorithmId.map(dotted))
        kids = kids[1:]
    if len(kids) != 3:
        raise ValueError("the hash index must have three lists")
    lists: list[tuple[bytes, ...]] = []
    for kid in kids:
        if not kid.is_universal(16):
            raise ValueError("a hash index list is not a SEQUENCE")
        entries = kid.children()
        if any(not (e.is_universal(4) and not e.constructed) for e in entries):
            raise ValueError("a hash index entry is not an OCTET STRING")
        lists.append(tuple(e.contents for e in entries))
    return _Index(algorithm, explicit, lists[0], lists[1], lists[2])


def _der(tlv: _Tlv, depth: int = 0) -> bytes:
    """``tlv`` re-encoded in DER as Bouncy Castle (EU DSS) re-encodes a parsed value:
    definite minimal lengths, a constructed OCTET STRING joined, BOOLEAN TRUE as FF, the
    components of a universal SET sorted; everything else as it is."""
    if depth > _MAX_DER_DEPTH:
        raise ValueError("nested too deep")
    ident = tlv.header[: _ident_length(tlv.header)]
    if not tlv.constructed:
        contents = tlv.contents
        if tlv.is_universal(1) and contents not in (b"", b"\x00"):
            contents = b"\xff"
        return ident + _der_length(len(contents)) + contents
    if tlv.is_universal(4):
        return _tlv(0x04, _octets(tlv, 0))
    kids = [_der(k, depth + 1) for k in tlv.children()]
    if tlv.is_universal(17):
        kids.sort(key=_set_order)
    body = b"".join(kids)
    return ident + _der_length(len(body)) + body


def _der_field(tlv: _Tlv) -> bytes:
    """A SignerInfo field in DER; the [0] IMPLICIT signedAttrs are a SET, sorted."""
    if tlv.is_context(0):
        kids = sorted((_der(k) for k in tlv.children()), key=_set_order)
        body = b"".join(kids)
        return b"\xa0" + _der_length(len(body)) + body
    return _der(tlv)


def _set_order(encoded: bytes) -> bytes:
    """Bouncy Castle's DER SET order: the encodings compared as unsigned octets, the
    constructed bit of the first octet ignored."""
    return bytes([encoded[0] & 0xDF]) + encoded[1:]


def _ident_length(header: bytes) -> int:
    if header[0] & 0x1F != 0x1F:
        return 1
    n = 1
    while header[n] & 0x80:
        n += 1
    return n + 1


# -- writing ------------------------------------------------------------------------------------


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
