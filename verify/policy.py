"""The validation policy: what the verifier accepts, and how hard it tries.

A :class:`ValidationPolicy` is a frozen value: make one, share it. Defaults are the ones an
auditor would pick for Vietnamese dossiers and are documented on each field.

Algorithm rules follow the shape of EU DSS's cryptographic constraints: an algorithm is
either never acceptable (MD5, MD2, RSA keys under 1024 bits), or acceptable only for
signatures *proven* (by a trusted timestamp) to exist before a cut-off date:

========================  ==========================================
SHA-1 (digest)            proven before 2019-01-01 (``sha1_until``)
RSA keys < 2048 bits      proven before 2019-01-01 (``rsa_weak_until``)
ECDSA curves < 256 bits   never
========================  ==========================================

2019-01-01 is the date from which Vietnamese public CAs had to move their certificates to
SHA-256 (the national root switched in 2014; MIC's 2008 SHA-1 root is kept for old
signatures only). A signature with a weak algorithm and no proof of existence before the
cut-off is ``INDETERMINATE`` / ``CRYPTO_CONSTRAINTS_FAILURE_NO_POE``; with a never-allowed
algorithm it is ``INDETERMINATE`` / ``CRYPTO_CONSTRAINTS_FAILURE``.

Constraints with levels
-----------------------

Beyond those, every check the validation process makes (:mod:`verify.process`) is a named
constraint with a level, as in EU DSS's ``constraint.xml``:

- ``FAIL``: a failed check decides the verdict (its indication and sub-indication);
- ``WARN``: a failed check is a warning in the report; the verdict stands;
- ``INFORM``: a failed check is noted in the detailed report only;
- ``IGNORE``: the check is not made.

:data:`CONSTRAINTS` lists them with their building block (ETSI EN 319 102-1) and default
level; the defaults follow DSS's default policy wherever DSS has the constraint. Change
levels with ``ValidationPolicy(constraints={"signing_certificate_present": "FAIL"})`` or a
policy file (:func:`load_policy`; example in ``docs/policy.md``).
"""

from __future__ import annotations

import enum
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from verify.errors import PolicyFileError

TIME_TOLERANCE = timedelta(seconds=1)
"""The clock drift allowed when a time is weighed against another (an OCSP answer's or
CRL's this and next update against the moment of validation): the ``time_tolerance``
of every validation context (:meth:`verify.engine.Engine.context`), pyhanko-certvalidator's
default. The fast path orders the times it weighs with it
(:func:`verify.fastpath._time_order`)."""

__all__ = [
    "CONSTRAINTS",
    "AlgorithmRules",
    "Constraint",
    "Level",
    "PolicyFileError",
    "RevocationMode",
    "ValidationPolicy",
    "load_policy",
]


class Level(enum.StrEnum):
    """How much a failed constraint weighs (EU DSS's levels)."""

    FAIL = "FAIL"
    """The failed check decides the verdict."""
    WARN = "WARN"
    """The failed check is a warning; the verdict stands."""
    INFORM = "INFORM"
    """The failed check is noted in the detailed report only."""
    IGNORE = "IGNORE"
    """The check is not made."""


@dataclass(frozen=True)
class Constraint:
    """One check of the validation process, with its default level."""

    id: str
    block: str
    """The ETSI EN 319 102-1 building block: FC, ISC, VCI, XCV, CV, SAV, POE, PSV."""
    default: Level
    en: str
    vi: str


def _c(cid: str, block: str, default: Level, en: str, vi: str) -> tuple[str, Constraint]:
    return cid, Constraint(cid, block, default, en, vi)


CONSTRAINTS: Mapping[str, Constraint] = MappingProxyType(
    dict(
        [
            _c(
                "signing_certificate_present",
                "ISC",
                Level.WARN,
                "the signed attributes name the signing certificate (ESS signing-certificate)",
                "thuộc tính đã ký chỉ rõ chứng thư số ký (ESS signing-certificate)",
            ),
            _c(
                "message_digest_present",
                "FC",
                Level.FAIL,
                "the signed attributes hold the content's message digest",
                "thuộc tính đã ký có giá trị băm của nội dung (message-digest)",
            ),
            _c(
                "signing_time_present",
                "SAV",
                Level.FAIL,
                "the signature claims a signing time",
                "chữ ký có khai báo thời điểm ký",
            ),
            _c(
                "signing_time_in_certificate_validity",
                "SAV",
                Level.FAIL,
                "the claimed signing time lies within the signing certificate's validity",
                "thời điểm ký khai báo nằm trong thời hạn của chứng thư số ký",
            ),
            _c(
                "signer_key_usage",
                "XCV",
                Level.FAIL,
                "the signing certificate's key usage allows signing "
                "(digitalSignature or nonRepudiation)",
                "mục đích sử dụng khóa của chứng thư số cho phép ký "
                "(digitalSignature hoặc nonRepudiation)",
            ),
            _c(
                "signer_extended_key_usage",
                "XCV",
                Level.FAIL,
                "where the signing certificate restricts its purposes (extendedKeyUsage), "
                "one of them is accepted for document signing",
                "khi chứng thư số giới hạn mục đích (extendedKeyUsage), có một mục đích "
                "được chấp nhận cho ký tài liệu",
            ),
            _c(
                "timestamp_tsa_purpose",
                "XCV",
                Level.FAIL,
                "a timestamp's TSA certificate has the critical timeStamping purpose "
                "(else the timestamp proves nothing)",
                "chứng thư số của đơn vị cấp dấu thời gian có mục đích timeStamping "
                "(critical); nếu không, dấu thời gian không chứng minh được gì",
            ),
            _c(
                "timestamp_algorithms",
                "CV",
                Level.FAIL,
                "a timestamp's algorithms were acceptable at its own time "
                "(else the timestamp proves nothing)",
                "thuật toán của dấu thời gian được chấp nhận tại thời điểm của nó "
                "(nếu không, dấu thời gian không chứng minh được gì)",
            ),
            _c(
                "content_timestamp_valid",
                "SAV",
                Level.FAIL,
                "every content timestamp is intact, valid and over the signed content",
                "mọi dấu thời gian nội dung còn nguyên vẹn, hợp lệ và đúng với nội dung đã ký",
            ),
            _c(
                "pdf_changes_analysed",
                "SAV",
                Level.FAIL,
                "the changes made to a PDF after a signature could be analysed (when they "
                "cannot, the signature's integrity is still checked and reported)",
                "phân tích được những thay đổi trong PDF sau chữ ký (nếu không, tính toàn vẹn "
                "của chữ ký vẫn được kiểm tra và báo cáo)",
            ),
            _c(
                "xml_strict_reading",
                "SAV",
                Level.WARN,
                "an XML signature verifies under the XMLDSig specification's enveloped "
                "transform, not only under the .NET reading of it",
                "chữ ký XML hợp lệ theo phép biến đổi enveloped của đặc tả XMLDSig, không chỉ "
                "theo cách .NET áp dụng",
            ),
            _c(
                "xml_covers_its_part",
                "SAV",
                Level.FAIL,
                "an e-invoice signature covers the part its place calls for (the seller's: "
                "DLHDon; the tax authority's: MCCQT)",
                "chữ ký trên hóa đơn điện tử ký đúng phần của mình (người bán: DLHDon; cơ quan "
                "thuế: MCCQT)",
            ),
            _c(
                "einvoice_signer_hierarchy",
                "XCV",
                Level.FAIL,
                "an e-invoice's seller signs under the public hierarchy and the tax authority "
                "under the specialized one (when the trust profile knows the anchor's)",
                "người bán ký hóa đơn bằng chứng thư số công cộng, cơ quan thuế bằng chứng thư "
                "số chuyên dùng (khi bộ chứng thư tin cậy biết gốc thuộc hệ thống nào)",
            ),
            _c(
                "einvoice_seller_tax_code",
                "SAV",
                Level.FAIL,
                "the seller's tax code (MST) in DLHDon is the one in the seller's certificate",
                "mã số thuế người bán trong DLHDon trùng với mã số thuế trong chứng thư số của "
                "người bán",
            ),
            _c(
                "revocation_at_signing_time",
                "XCV",
                Level.FAIL,
                "no revocation data (carried in the signature or the document, fetched or "
                "cached) shows a certificate of the path revoked before the signing time",
                "không có thông tin thu hồi nào (kèm theo chữ ký hay tài liệu, tải về hay "
                "trong bộ nhớ đệm) cho thấy chứng thư số trên chuỗi bị thu hồi trước thời "
                "điểm ký",
            ),
        ]
    )
)


class RevocationMode(enum.StrEnum):
    """How to treat missing revocation information."""

    HARD = "hard"
    """No revocation info for the signing time makes the signature INDETERMINATE (default)."""
    SOFT = "soft"
    """Try to get revocation info; when none can be had, accept and say so in the report."""
    OFF = "off"
    """Do not check revocation at all (the report says so)."""


@dataclass(frozen=True)
class AlgorithmRules:
    """Which digest and key algorithms are acceptable, and until when."""

    forbidden_digests: frozenset[str] = frozenset({"md2", "md4", "md5"})
    sha1_until: datetime = datetime(2019, 1, 1, tzinfo=UTC)
    rsa_weak_until: datetime = datetime(2019, 1, 1, tzinfo=UTC)
    rsa_min_bits: int = 2048
    rsa_never_below_bits: int = 1024
    ec_min_bits: int = 256

    def time_boundaries(self) -> tuple[datetime, ...]:
        """Every moment at which a verdict of these rules can change with the proven time."""
        return (self.sha1_until, self.rsa_weak_until)

    def digest_verdict(self, digest: str, proven_time: datetime | None) -> str | None:
        """``None`` if acceptable, else ``"never"`` or ``"no_poe"``."""
        digest = digest.lower().replace("-", "")
        if digest in self.forbidden_digests:
            return "never"
        if digest == "sha1" and (proven_time is None or proven_time >= self.sha1_until):
            return "no_poe"
        return None

    def key_verdict(self, algorithm: str, bits: int, proven_time: datetime | None) -> str | None:
        """``None`` if acceptable, else ``"never"`` or ``"no_poe"``."""
        if algorithm in ("rsa", "rsassa_pss"):
            if bits < self.rsa_never_below_bits:
                return "never"
            if bits < self.rsa_min_bits and (
                proven_time is None or proven_time >= self.rsa_weak_until
            ):
                return "no_poe"
        elif algorithm == "ec" and bits < self.ec_min_bits:
            return "never"
        return None


@dataclass(frozen=True)
class ValidationPolicy:
    """How the verifier validates. Frozen; use :meth:`replace` to derive a variant."""

    revocation: RevocationMode = RevocationMode.HARD
    network: bool = True
    """Fetch OCSP responses, CRLs and missing CA certificates. Off = embedded/supplied only."""
    validation_time: datetime | None = None
    """The time to validate at; ``None`` means "now" at each call. Must be timezone-aware."""
    algorithms: AlgorithmRules = field(default_factory=AlgorithmRules)
    fetch_timeout: float = 5.0
    """Seconds per OCSP/CRL/certificate fetch."""
    max_file_size: int = 64 * 1024 * 1024
    """Bigger documents are refused with FORMAT_FAILURE and a message naming the limit."""
    max_signatures: int = 64
    """More signatures than this in one PDF are reported, not validated one by one."""
    document_time_limit: float = 10.0
    """Seconds one document may take in an isolated (bulk / CLI) run. Every case of the
    adversarial corpus ends in under 4 s; the margin is for a signature whose chain needs
    several cold OCSP/CRL fetches over a slow link (each bounded by ``fetch_timeout``)."""
    fast_path: bool = True
    """Verify common PDFs (one signature over the whole file, nothing else to judge) and
    detached CMS signatures directly, reusing the verdict on the signer's certificate from
    an earlier full validation (see :mod:`verify.fastpath`); anything else, and the first
    document of each signer, goes through full validation. The reports are the same either
    way; ``False`` always validates in full."""
    renewal_dates: bool = False
    """Also tell, for each signature, the date by which its proof of existence must be
    renewed and why (:func:`verify.preservation.renewal_due`: the last timestamp's TSA
    certificate expiring or revoked, the dated algorithm rules): each report's
    ``renewal``. Off by default: it reads the document's timestamps once more."""
    constraints: Mapping[str, Level] = field(default_factory=dict)
    """Levels that differ from the defaults in :data:`CONSTRAINTS`, by constraint id
    (levels may be given as the strings ``"FAIL"``, ``"WARN"``, ``"INFORM"``, ``"IGNORE"``).
    """

    def __post_init__(self) -> None:
        if self.validation_time is not None and self.validation_time.tzinfo is None:
            raise ValueError("validation_time must be timezone-aware")
        # accept the plain strings "hard" / "soft" / "off" from configuration files
        object.__setattr__(self, "revocation", RevocationMode(self.revocation))
        levels: dict[str, Level] = {}
        for cid, level in dict(self.constraints).items():
            if cid not in CONSTRAINTS:
                raise ValueError(
                    f"unknown constraint {cid!r} (known: {', '.join(sorted(CONSTRAINTS))})"
                )
            try:
                levels[cid] = Level(str(level).upper())
            except ValueError:
                raise ValueError(
                    f"constraint {cid!r}: level {level!r} is not one of FAIL, WARN, INFORM, IGNORE"
                ) from None
        object.__setattr__(self, "constraints", MappingProxyType(levels))

    def __hash__(self) -> int:
        values = [getattr(self, f.name) for f in fields(self) if f.name != "constraints"]
        return hash((*values, tuple(sorted(self.constraints.items()))))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ValidationPolicy):
            return NotImplemented
        return all(
            dict(getattr(self, f.name)) == dict(getattr(other, f.name))
            if f.name == "constraints"
            else getattr(self, f.name) == getattr(other, f.name)
            for f in fields(self)
        )

    def __reduce__(self) -> tuple[Any, ...]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["constraints"] = dict(self.constraints)
        return (_policy_from, (values,))

    def level(self, constraint: str) -> Level:
        """The level of ``constraint`` under this policy."""
        return self.constraints.get(constraint, CONSTRAINTS[constraint].default)

    def replace(self, **changes: object) -> ValidationPolicy:
        return replace(self, **changes)  # type: ignore[arg-type]

    def moment(self) -> datetime:
        """The validation time for one call: the fixed one, or now (aware UTC)."""
        return self.validation_time or datetime.now(UTC)


def _policy_from(values: dict[str, Any]) -> ValidationPolicy:
    return ValidationPolicy(**values)


# -- policy files ----------------------------------------------------------------------------

_SCALARS: dict[str, tuple[type, ...]] = {
    "revocation": (str,),
    "network": (bool,),
    "validation_time": (str, datetime),
    "fetch_timeout": (int, float),
    "max_file_size": (int,),
    "max_signatures": (int,),
    "document_time_limit": (int, float),
    "fast_path": (bool,),
    "renewal_dates": (bool,),
}
_ALGORITHMS: dict[str, tuple[type, ...]] = {
    "forbidden_digests": (list,),
    "sha1_until": (str, date, datetime),
    "rsa_weak_until": (str, date, datetime),
    "rsa_min_bits": (int,),
    "rsa_never_below_bits": (int,),
    "ec_min_bits": (int,),
}
MAX_POLICY_FILE = 1024 * 1024


def load_policy(path: str | os.PathLike[str], **overrides: Any) -> ValidationPolicy:
    """A :class:`ValidationPolicy` from a TOML or JSON file (by its suffix; ``.json`` is
    JSON, anything else TOML), with ``overrides`` (keyword arguments of the policy) applied
    on top. Unknown keys, wrong types and unknown levels are refused with
    :class:`PolicyFileError`, whose one-line message names the key.

    Keys: the policy's own (``revocation``, ``network``, ``validation_time``,
    ``fetch_timeout``, ``max_file_size``, ``max_signatures``, ``document_time_limit``,
    ``fast_path``), a table ``algorithms`` (:class:`AlgorithmRules`' fields; dates as
    ``YYYY-MM-DD``) and a table ``constraints`` (constraint id = level).
    """
    file = Path(path)
    try:
        raw = file.read_bytes()[: MAX_POLICY_FILE + 1]
    except OSError as exc:
        raise PolicyFileError(f"{file}: cannot be read ({exc.strerror})") from None
    if len(raw) > MAX_POLICY_FILE:
        raise PolicyFileError(f"{file}: larger than {MAX_POLICY_FILE} bytes")
    try:
        text = raw.decode("utf-8")
        data: Any = json.loads(text) if file.suffix.lower() == ".json" else tomllib.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PolicyFileError(f"{file}: not valid {_kind(file)} ({first})") from None
    if not isinstance(data, dict):
        raise PolicyFileError(f"{file}: the top level must be a table of keys")
    try:
        return ValidationPolicy(**{**_policy_values(data), **overrides})
    except PolicyFileError as exc:
        raise PolicyFileError(f"{file}: {exc}") from None
    except ValueError as exc:
        raise PolicyFileError(f"{file}: {exc}") from None


def _kind(file: Path) -> str:
    return "JSON" if file.suffix.lower() == ".json" else "TOML"


def _policy_values(data: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key == "algorithms":
            values["algorithms"] = _algorithm_rules(value)
        elif key == "constraints":
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise PolicyFileError("constraints: a table of constraint id = level")
            values["constraints"] = dict(value)
        elif key in _SCALARS:
            _check_type(key, value, _SCALARS[key])
            values[key] = _aware(key, value) if key == "validation_time" else value
        else:
            known = ", ".join(sorted([*_SCALARS, "algorithms", "constraints"]))
            raise PolicyFileError(f"unknown key {key!r} (known: {known})")
    return values


def _algorithm_rules(value: Any) -> AlgorithmRules:
    if not isinstance(value, dict):
        raise PolicyFileError("algorithms: a table of keys")
    rules: dict[str, Any] = {}
    for key, item in value.items():
        if key not in _ALGORITHMS:
            raise PolicyFileError(
                f"unknown key 'algorithms.{key}' (known: {', '.join(sorted(_ALGORITHMS))})"
            )
        _check_type(f"algorithms.{key}", item, _ALGORITHMS[key])
        if key == "forbidden_digests":
            if not all(isinstance(d, str) for d in item):
                raise PolicyFileError("algorithms.forbidden_digests: a list of digest names")
            rules[key] = frozenset(d.lower().replace("-", "") for d in item)
        elif key.endswith("_until"):
            rules[key] = _aware(f"algorithms.{key}", item)
        else:
            rules[key] = item
    return AlgorithmRules(**rules)


def _check_type(key: str, value: Any, types: tuple[type, ...]) -> None:
    if isinstance(value, bool) and bool not in types:
        raise PolicyFileError(f"{key}: {value!r} is not a number")
    if not isinstance(value, types):
        names = " or ".join(t.__name__ for t in types)
        raise PolicyFileError(f"{key}: {value!r} is not a {names}")


def _aware(key: str, value: Any) -> datetime:
    """A timezone-aware datetime from a TOML date/datetime or an ISO 8601 string."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day, tzinfo=UTC)
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise PolicyFileError(f"{key}: {value!r} is not an ISO 8601 date or time") from None
        if len(str(value)) == 10:  # a plain date: midnight UTC
            moment = moment.replace(tzinfo=UTC)
    if moment.tzinfo is None:
        raise PolicyFileError(f"{key}: {value!r} has no time zone (add Z or +07:00)")
    return moment
