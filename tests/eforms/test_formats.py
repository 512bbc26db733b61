"""Vietnamese formats: known answers from the rules themselves, and generated cases."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from eforms.formats import (
    BIRTH_PROVINCE_CODES,
    commune_codes,
    format_checker,
    format_display_date,
    is_admin_unit,
    is_cmnd,
    is_commune,
    is_mobile,
    is_personal_id,
    is_postal_code,
    is_province,
    is_social_insurance,
    is_tax_code,
    normalize_mobile,
    parse_display_date,
    parse_personal_id,
    province_codes,
    tax_check_digit,
)


def test_tax_code_worked_example() -> None:
    """0100047516 is valid: weights give 158, r = 4, check = 6."""
    assert tax_check_digit("010004751") == 6
    assert is_tax_code("0100047516")


def test_tax_code_wrong_check_digit_and_shapes() -> None:
    """A wrong check digit, r = 0, bad branch suffixes and wrong lengths are refused."""
    assert not is_tax_code("0100047517")
    assert tax_check_digit("000000000") is None
    assert not is_tax_code("0000000000")
    assert is_tax_code("0100047516-001")
    assert not is_tax_code("0100047516-000")
    assert not is_tax_code("0100047516-01")
    assert not is_tax_code("010004751")
    assert not is_tax_code("0100047516001")


def test_tax_code_accepts_personal_id_for_individuals() -> None:
    """Individuals may use their 12-digit personal ID as tax code."""
    assert is_tax_code("001090012345")
    assert not is_tax_code("999090012345")


def test_personal_id_decodes_province_century_sex_year() -> None:
    """001 = Hà Nội; digit 3 = female born in the 2000s; 03 = 2003."""
    pid = parse_personal_id("001303012345")
    assert pid is not None
    assert (pid.province_name, pid.sex, pid.birth_year) == ("Hà Nội", "F", 2003)
    male_1990 = parse_personal_id("079090000001")
    assert male_1990 is not None
    assert (male_1990.sex, male_1990.birth_year) == ("M", 1990)


def test_personal_id_refuses_unknown_province_and_lengths() -> None:
    """Codes not in Circular 07/2016's 63-code list, or not 12 digits, are refused."""
    assert len(BIRTH_PROVINCE_CODES) == 63
    assert not is_personal_id("003090012345")  # 003 is not assigned
    assert not is_personal_id("00109001234")
    assert not is_personal_id("00109001234a")
    assert is_cmnd("123456789")
    assert not is_cmnd("12345678")


def test_mobile_prefixes_and_normalisation() -> None:
    """Current 10-digit prefixes pass; +84 and 84 forms are normalised to 0XXXXXXXXX."""
    assert normalize_mobile("+84 912 345 678") == "0912345678"
    assert normalize_mobile("84912345678") == "0912345678"
    assert normalize_mobile("0912.345.678") == "0912345678"
    assert is_mobile("0862345678")
    assert is_mobile("0592345678")
    assert not is_mobile("0952345678")  # 095 is not a mobile prefix
    assert not is_mobile("01234567890")  # pre-2018 11-digit number
    assert not is_mobile("0212345678")  # landline area code


def test_postal_social_insurance() -> None:
    """Postcodes have 5 digits; social insurance numbers 10."""
    assert is_postal_code("11000")
    assert not is_postal_code("1100")
    assert not is_postal_code("01000")
    assert is_social_insurance("0118959238")
    assert not is_social_insurance("011895923")


def test_admin_units_after_july_2025() -> None:
    """vietnam-provinces gives 34 provinces and 3,321 communes; pre-merger codes are gone."""
    assert len(province_codes()) == 34
    assert len(commune_codes()) == 3321
    assert province_codes()["01"] == "Thành phố Hà Nội"
    assert commune_codes()["00070"] == ("Phường Hoàn Kiếm", "01")
    assert is_province("79")
    assert not is_province("02")
    assert is_commune("00070")
    assert not is_commune("00001")
    assert is_admin_unit("01")
    assert is_admin_unit("00070")
    assert not is_admin_unit("1")


def test_display_dates() -> None:
    """Dates are shown dd/mm/yyyy and stored ISO; impossible dates are refused."""
    assert parse_display_date("30/04/1975") == date(1975, 4, 30)
    assert parse_display_date("31/02/2024") is None
    assert format_display_date("2025-07-01") == "01/07/2025"


def test_format_checker_is_per_instance() -> None:
    """Our formats live on a new FormatChecker, not on jsonschema's global one."""
    from jsonschema import FormatChecker

    checker = format_checker()
    assert "vn-tax-code" in checker.checkers
    assert "vn-tax-code" not in FormatChecker().checkers
    assert checker.conforms(12, "vn-tax-code")  # formats only constrain strings


_provinces = st.sampled_from(sorted(BIRTH_PROVINCE_CODES))


@given(_provinces, st.integers(0, 9), st.integers(0, 99), st.integers(0, 999_999))
def test_generated_personal_ids_pass(province: str, digit: int, year: int, serial: int) -> None:
    """Any known province + century/sex digit + year + 6 digits is a valid personal ID."""
    assert is_personal_id(f"{province}{digit}{year:02d}{serial:06d}")


_nine = st.text(alphabet="0123456789", min_size=9, max_size=9)


@given(_nine)
def test_generated_tax_codes_pass(first: str) -> None:
    """Nine digits plus their computed check digit always form a valid tax code."""
    check = tax_check_digit(first)
    if check is None:
        assert not any(is_tax_code(f"{first}{d}") for d in range(10))
    else:
        assert is_tax_code(f"{first}{check}")


@given(_nine, st.integers(0, 9), st.integers(1, 9))
def test_single_digit_corruptions_fail(first: str, position: int, delta: int) -> None:
    """Changing any one digit of a valid tax code makes it invalid."""
    check = tax_check_digit(first)
    if check is None:
        return
    code = list(f"{first}{check}")
    code[position] = str((int(code[position]) + delta) % 10)
    assert not is_tax_code("".join(code))
