"""Vietnamese identifiers and codes, as jsonschema formats.

Every checker is a plain function first (``is_tax_code``, ``parse_personal_id``...) and is
registered on a *new* :class:`jsonschema.FormatChecker` by :func:`format_checker`; the global
checker is never touched.

Rules and their sources:

- ``vn-personal-id``: 12 digits (Circular 07/2016/TT-BCA, art. 7): 3-digit code of the
  province where the birth was registered (appendix I: 63 codes, still used in ID numbers
  after the 2025 merger), 1 digit for century and sex (0/1 = 20th century male/female,
  2/3 = 21st, 4/5 = 22nd, 6/7 = 23rd, 8/9 = 24th), 2 digits of the birth year, 6 random
  digits.
- ``vn-cmnd``: the old 9-digit identity card number.
- ``vn-tax-code``: 10 digits whose last is a check digit (weights 31, 29, 23, 19, 17, 13, 7, 5,
  3 over the first nine; r = sum mod 11; check = 10 - r; r = 0 is never issued); a branch
  is ``NNNNNNNNNN-NNN`` (001-999); individuals may use their 12-digit personal ID.
- ``vn-social-insurance``: 10 digits.
- ``vn-mobile``: 10 digits starting 0 with a current mobile prefix (03x, 05x, 07x, 08x, 09x
  after the 2018 renumbering), or ``+84`` / ``84`` then 9 digits; :func:`normalize_mobile`
  turns all of them into ``0XXXXXXXXX``.
- ``vn-postal-code``: 5 digits (national postcode since 2018), first digit not 0.
- ``vn-province`` / ``vn-commune`` / ``vn-admin-unit``: statistics-office codes of the 34
  provinces and 3,321 communes in force since 1 July 2025, from the ``vietnam-provinces``
  package (2-digit province, 5-digit commune; ``vn-admin-unit`` accepts either).
- ``vn-date``: a date shown ``dd/mm/yyyy``; forms store ISO ``date`` and show this.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache

from jsonschema import FormatChecker
from vietnam_provinces import Province, Ward

__all__ = [
    "BIRTH_PROVINCE_CODES",
    "VN_FORMATS",
    "PersonalId",
    "admin_unit_name",
    "commune_codes",
    "format_checker",
    "format_display_date",
    "is_admin_unit",
    "is_cmnd",
    "is_commune",
    "is_mobile",
    "is_personal_id",
    "is_postal_code",
    "is_province",
    "is_social_insurance",
    "is_tax_code",
    "normalize_mobile",
    "parse_display_date",
    "parse_personal_id",
    "province_codes",
    "tax_check_digit",
]

#: Province codes of the birth-registration place (Circular 07/2016/TT-BCA, appendix I).
BIRTH_PROVINCE_CODES: dict[str, str] = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn",
    "008": "Tuyên Quang", "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu",
    "014": "Sơn La", "015": "Yên Bái", "017": "Hòa Bình", "019": "Thái Nguyên",
    "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang", "025": "Phú Thọ",
    "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định",
    "037": "Ninh Bình", "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh",
    "044": "Quảng Bình", "045": "Quảng Trị", "046": "Thừa Thiên Huế", "048": "Đà Nẵng",
    "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định", "054": "Phú Yên",
    "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng",
    "070": "Bình Phước", "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai",
    "077": "Bà Rịa - Vũng Tàu", "079": "Hồ Chí Minh", "080": "Long An", "082": "Tiền Giang",
    "083": "Bến Tre", "084": "Trà Vinh", "086": "Vĩnh Long", "087": "Đồng Tháp",
    "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ", "093": "Hậu Giang",
    "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}  # fmt: skip

_SEX_BY_DIGIT = ("M", "F")
_TAX_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
_MOBILE_PREFIXES = frozenset(
    [f"03{d}" for d in "23456789"]
    + ["052", "055", "056", "058", "059"]
    + ["070", "076", "077", "078", "079"]
    + [f"08{d}" for d in "123456789"]
    + [f"09{d}" for d in "012346789"]
)
_DIGITS = re.compile(r"[0-9]+")
_MAX_LEN = 64  # every code here is short; refuse long strings before any regex


@dataclass(frozen=True)
class PersonalId:
    """The decoded parts of a 12-digit personal identification number."""

    number: str
    province_code: str
    province_name: str
    sex: str  # "M" or "F"
    birth_year: int
    serial: str


def _digits(value: str, length: int) -> bool:
    return len(value) == length and _DIGITS.fullmatch(value) is not None


def parse_personal_id(value: str) -> PersonalId | None:
    """Decode a personal ID (CCCD / số định danh cá nhân), or ``None`` if malformed."""
    if not _digits(value, 12):
        return None
    province = BIRTH_PROVINCE_CODES.get(value[:3])
    if province is None:
        return None
    gender_digit = int(value[3])
    century = 1900 + 100 * (gender_digit // 2)  # 0/1: 1900s, 2/3: 2000s ... 8/9: 2300s
    return PersonalId(
        number=value,
        province_code=value[:3],
        province_name=province,
        sex=_SEX_BY_DIGIT[gender_digit % 2],
        birth_year=century + int(value[4:6]),
        serial=value[6:],
    )


def is_personal_id(value: object) -> bool:
    """True for a well-formed 12-digit personal ID with a known province code."""
    return isinstance(value, str) and parse_personal_id(value) is not None


def is_cmnd(value: object) -> bool:
    """True for a 9-digit identity card number (CMND)."""
    return isinstance(value, str) and _digits(value, 9)


def tax_check_digit(first_nine: str) -> int | None:
    """The check digit for nine tax-code digits, or ``None`` when r = 0 (never issued)."""
    if not _digits(first_nine, 9):
        raise ValueError("tax_check_digit needs exactly nine digits")
    r = sum(int(d) * w for d, w in zip(first_nine, _TAX_WEIGHTS, strict=True)) % 11
    if r == 0:
        return None
    return 10 - r


def is_tax_code(value: object) -> bool:
    """True for a 10-digit tax code, its ``-NNN`` branch form, or a 12-digit personal ID."""
    if not isinstance(value, str) or len(value) > _MAX_LEN:
        return False
    if len(value) == 12:
        return is_personal_id(value)
    main, sep, branch = value.partition("-")
    if sep and not (_digits(branch, 3) and branch != "000"):
        return False
    if not _digits(main, 10):
        return False
    return tax_check_digit(main[:9]) == int(main[9])


def is_social_insurance(value: object) -> bool:
    """True for a 10-digit social insurance number (mã số BHXH)."""
    return isinstance(value, str) and _digits(value, 10)


def normalize_mobile(value: str) -> str | None:
    """``0XXXXXXXXX`` for a valid mobile number (``+84``, spaces, dots allowed), else None."""
    if len(value) > _MAX_LEN:
        return None
    compact = re.sub(r"[\s.\-()]", "", value)
    if compact.startswith("+84"):
        compact = "0" + compact[3:]
    elif compact.startswith("84") and len(compact) == 11:
        compact = "0" + compact[2:]
    if not _digits(compact, 10) or compact[:3] not in _MOBILE_PREFIXES:
        return None
    return compact


def is_mobile(value: object) -> bool:
    """True for a Vietnamese mobile number with a current prefix."""
    return isinstance(value, str) and normalize_mobile(value) is not None


def is_postal_code(value: object) -> bool:
    """True for a 5-digit national postcode."""
    return isinstance(value, str) and _digits(value, 5) and value[0] != "0"


@cache
def province_codes() -> dict[str, str]:
    """Province code (2 digits) to name, for the 34 provinces since 1 July 2025."""
    return {f"{int(p.code):02d}": p.name for p in Province.iter_all()}


@cache
def commune_codes() -> dict[str, tuple[str, str]]:
    """Commune code (5 digits) to (name, province code), 3,321 communes since 1 July 2025."""
    return {f"{int(w.code):05d}": (w.name, f"{int(w.province_code):02d}") for w in Ward.iter_all()}


def is_province(value: object) -> bool:
    """True for a current 2-digit province code."""
    return isinstance(value, str) and value in province_codes()


def is_commune(value: object) -> bool:
    """True for a current 5-digit commune (xã / phường / đặc khu) code."""
    return isinstance(value, str) and value in commune_codes()


def is_admin_unit(value: object) -> bool:
    """True for a current province or commune code."""
    return is_province(value) or is_commune(value)


def admin_unit_name(code: str) -> str | None:
    """The official name of a province or commune code, or None."""
    if code in province_codes():
        return province_codes()[code]
    commune = commune_codes().get(code)
    return commune[0] if commune else None


def parse_display_date(value: str) -> date | None:
    """Parse ``dd/mm/yyyy`` (as shown to people) into a date, or None."""
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value) if len(value) <= 10 else None
    if m is None:
        return None
    try:
        return date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        return None


def format_display_date(value: date | str) -> str:
    """Show an ISO date (or ``date``) as ``dd/mm/yyyy``."""
    d = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"


def _is_display_date(value: object) -> bool:
    return isinstance(value, str) and parse_display_date(value) is not None


#: Our format names and their checkers.
VN_FORMATS: dict[str, Callable[[object], bool]] = {
    "vn-personal-id": is_personal_id,
    "vn-cmnd": is_cmnd,
    "vn-tax-code": is_tax_code,
    "vn-social-insurance": is_social_insurance,
    "vn-mobile": is_mobile,
    "vn-postal-code": is_postal_code,
    "vn-province": is_province,
    "vn-commune": is_commune,
    "vn-admin-unit": is_admin_unit,
    "vn-date": _is_display_date,
}


def _non_strings_pass(func: Callable[[object], bool]) -> Callable[[object], bool]:
    """jsonschema convention: a format only constrains strings."""

    def check(instance: object) -> bool:
        return not isinstance(instance, str) or func(instance)

    return check


def format_checker() -> FormatChecker:
    """A new FormatChecker with jsonschema's own formats plus every ``vn-*`` format."""
    checker = FormatChecker()
    for name, func in VN_FORMATS.items():
        checker.checks(name)(_non_strings_pass(func))
    return checker
