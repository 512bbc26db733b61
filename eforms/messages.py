"""Our own error messages, in Vietnamese and English, for every JSON Schema keyword and format.

jsonschema's messages are English only and show Python reprs; people see these instead.
Templates use ``str.format`` fields: ``value`` (shortened), ``limit``, ``actual``,
``allowed``, ``expected``, ``name``, ``other``.
"""

from __future__ import annotations

__all__ = ["FORMAT_MESSAGES", "KEYWORD_MESSAGES", "TYPE_NAMES", "render"]

#: code -> (Vietnamese, English)
KEYWORD_MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("Chưa nhập thông tin bắt buộc.", "This field is required."),
    "type": ("Sai kiểu dữ liệu: cần {expected}.", "Wrong kind of value: expected {expected}."),
    "enum": (
        "Giá trị «{value}» không hợp lệ; chọn một trong: {allowed}.",
        "«{value}» is not allowed; choose one of: {allowed}.",
    ),
    "const": ("Giá trị phải là «{expected}».", "The value must be «{expected}»."),
    "min-length": (
        "Cần ít nhất {limit} ký tự (đang có {actual}).",
        "At least {limit} characters are needed (got {actual}).",
    ),
    "max-length": (
        "Không được quá {limit} ký tự (đang có {actual}).",
        "At most {limit} characters are allowed (got {actual}).",
    ),
    "pattern": (
        "Giá trị «{value}» không đúng định dạng yêu cầu.",
        "«{value}» is not in the required form.",
    ),
    "minimum": ("Giá trị phải từ {limit} trở lên.", "The value must be at least {limit}."),
    "maximum": ("Giá trị không được lớn hơn {limit}.", "The value must be at most {limit}."),
    "exclusive-minimum": ("Giá trị phải lớn hơn {limit}.", "The value must be more than {limit}."),
    "exclusive-maximum": ("Giá trị phải nhỏ hơn {limit}.", "The value must be less than {limit}."),
    "multiple-of": (
        "Giá trị phải là bội số của {limit}.",
        "The value must be a multiple of {limit}.",
    ),
    "min-items": ("Cần ít nhất {limit} mục.", "At least {limit} entries are needed."),
    "max-items": ("Không được quá {limit} mục.", "At most {limit} entries are allowed."),
    "unique-items": ("Các mục không được trùng nhau.", "Entries must not repeat."),
    "contains": (
        "Danh sách chưa có mục theo yêu cầu.",
        "The list lacks a required kind of entry.",
    ),
    "min-properties": (
        "Cần nhập ít nhất {limit} thông tin.",
        "At least {limit} items of information are needed.",
    ),
    "max-properties": (
        "Không được nhập quá {limit} thông tin.",
        "At most {limit} items of information are allowed.",
    ),
    "unknown-field": (
        "Trường «{name}» không có trong biểu mẫu.",
        "«{name}» is not a field of this form.",
    ),
    "extra-items": ("Danh sách có mục thừa.", "The list has entries that are not allowed."),
    "dependent-required": (
        "Phải nhập thông tin này khi đã nhập «{other}».",
        "This is required when «{other}» is filled in.",
    ),
    "property-name": ("Tên trường «{name}» không hợp lệ.", "«{name}» is not a valid field name."),
    "no-match": (
        "Giá trị không khớp với lựa chọn nào được phép.",
        "The value matches none of the allowed choices.",
    ),
    "ambiguous": (
        "Giá trị khớp với nhiều lựa chọn cùng lúc; chỉ được chọn một.",
        "The value matches more than one choice; only one is allowed.",
    ),
    "not-allowed": ("Giá trị này không được phép.", "This value is not allowed."),
    "forbidden": ("Không được nhập thông tin này.", "This field must not be filled in."),
    "invalid": ("Giá trị không hợp lệ.", "The value is not valid."),
    "locked": (
        "Thông tin này lấy từ {other} và không được sửa (giá trị đúng: «{expected}»).",
        "This value comes from {other} and cannot be changed (expected «{expected}»).",
    ),
    "computed": (
        "Giá trị được tính tự động là «{expected}», không phải «{value}».",
        "This value is computed as «{expected}», not «{value}».",
    ),
    "personal-id-birth-year": (
        "Số định danh «{value}» ghi năm sinh {actual}, khác với ngày sinh đã khai ({expected}).",
        "ID «{value}» encodes birth year {actual}, not the birth date given ({expected}).",
    ),
    "personal-id-sex": (
        "Số định danh «{value}» ghi giới tính {actual}, khác với giới tính đã khai ({expected}).",
        "ID «{value}» encodes sex {actual}, not the sex given ({expected}).",
    ),
    "date-order": (
        "Ngày này ({value}) phải sau «{other}» ({expected}).",
        "This date ({value}) must come after «{other}» ({expected}).",
    ),
    "date-order-or-equal": (
        "Ngày này ({value}) không được trước «{other}» ({expected}).",
        "This date ({value}) must not come before «{other}» ({expected}).",
    ),
    "future-date": (
        "Ngày {value} ở tương lai: không được sau ngày hôm nay ({expected}).",
        "{value} is in the future: it cannot be after today ({expected}).",
    ),
    "age-min": (
        "Phải từ đủ {limit} tuổi; đến ngày {expected} mới {actual} tuổi.",
        "Must be at least {limit} years old; {actual} on {expected}.",
    ),
    "age-max": (
        "Không được quá {limit} tuổi; đến ngày {expected} đã {actual} tuổi.",
        "Must be at most {limit} years old; {actual} on {expected}.",
    ),
    "rule": ("Thông tin không thỏa điều kiện của biểu mẫu.", "This breaks a rule of the form."),
    "too-large": (
        "Dữ liệu quá lớn hoặc lồng quá sâu để xử lý.",
        "The data is too large or too deeply nested.",
    ),
}

FORMAT_MESSAGES: dict[str, tuple[str, str]] = {
    "vn-personal-id": (
        "Số định danh cá nhân «{value}» không hợp lệ: cần đúng 12 chữ số, 3 số đầu là mã tỉnh "
        "nơi đăng ký khai sinh.",
        "Personal ID «{value}» is not valid: it has exactly 12 digits, the first 3 being the "
        "province code of the birth registration.",
    ),
    "vn-cmnd": (
        "Số chứng minh nhân dân «{value}» không hợp lệ: cần đúng 9 chữ số.",
        "Identity card number «{value}» is not valid: it has exactly 9 digits.",
    ),
    "vn-tax-code": (
        "Mã số thuế «{value}» không hợp lệ: cần 10 chữ số với chữ số kiểm tra đúng, dạng "
        "NNNNNNNNNN-NNN cho đơn vị phụ thuộc, hoặc số định danh cá nhân 12 chữ số.",
        "Tax code «{value}» is not valid: 10 digits with a correct check digit, "
        "NNNNNNNNNN-NNN for a branch, or a 12-digit personal ID.",
    ),
    "vn-social-insurance": (
        "Mã số bảo hiểm xã hội «{value}» không hợp lệ: cần đúng 10 chữ số.",
        "Social insurance number «{value}» is not valid: it has exactly 10 digits.",
    ),
    "vn-mobile": (
        "Số điện thoại di động «{value}» không hợp lệ: cần 10 chữ số bắt đầu bằng đầu số "
        "di động hiện hành (03, 05, 07, 08, 09), hoặc dạng +84.",
        "Mobile number «{value}» is not valid: 10 digits starting with a current mobile "
        "prefix (03, 05, 07, 08, 09), or +84 followed by 9 digits.",
    ),
    "vn-postal-code": (
        "Mã bưu chính «{value}» không hợp lệ: cần đúng 5 chữ số.",
        "Postal code «{value}» is not valid: it has exactly 5 digits.",
    ),
    "vn-province": (
        "Mã tỉnh, thành phố «{value}» không có trong danh mục 34 đơn vị hành chính cấp tỉnh "
        "từ 01/07/2025.",
        "Province code «{value}» is not one of the 34 provinces in force since 1 July 2025.",
    ),
    "vn-commune": (
        "Mã xã, phường, đặc khu «{value}» không có trong danh mục đơn vị hành chính cấp xã "
        "từ 01/07/2025.",
        "Commune code «{value}» is not one of the communes in force since 1 July 2025.",
    ),
    "vn-admin-unit": (
        "Mã đơn vị hành chính «{value}» không có trong danh mục từ 01/07/2025.",
        "Administrative unit code «{value}» is not in the list in force since 1 July 2025.",
    ),
    "vn-date": (
        "Ngày «{value}» không hợp lệ: nhập theo dạng ngày/tháng/năm (dd/mm/yyyy).",
        "Date «{value}» is not valid: use day/month/year (dd/mm/yyyy).",
    ),
    "date": (
        "Ngày «{value}» không hợp lệ hoặc không có thật.",
        "«{value}» is not a real date (ISO yyyy-mm-dd).",
    ),
    "date-time": ("Thời điểm «{value}» không hợp lệ.", "«{value}» is not a valid date and time."),
    "email": ("Địa chỉ thư điện tử «{value}» không hợp lệ.", "«{value}» is not a valid e-mail."),
}

_GENERIC_FORMAT = (
    "Giá trị «{value}» không đúng định dạng {name}.",
    "«{value}» is not a valid {name}.",
)

TYPE_NAMES: dict[str, tuple[str, str]] = {
    "string": ("chữ", "text"),
    "number": ("số", "a number"),
    "integer": ("số nguyên", "a whole number"),
    "boolean": ("có/không", "yes or no"),
    "object": ("nhóm thông tin", "a group of fields"),
    "array": ("danh sách", "a list"),
    "null": ("để trống", "empty"),
}


def _safe_format(template: str, params: dict[str, str]) -> str:
    class _Defaults(dict[str, str]):
        def __missing__(self, key: str) -> str:
            return ""

    return template.format_map(_Defaults(params))


def render(
    code: str, params: dict[str, str], label_vi: str | None, label_en: str | None
) -> tuple[str, str]:
    """(message_vi, message_en) for ``code``, prefixed with the field label when known."""
    if code.startswith("format."):
        name = code.removeprefix("format.")
        vi_t, en_t = FORMAT_MESSAGES.get(name, _GENERIC_FORMAT)
        params = {**params, "name": name}
    else:
        vi_t, en_t = KEYWORD_MESSAGES.get(code, KEYWORD_MESSAGES["invalid"])
    vi = _safe_format(vi_t, params)
    en_params = {k: params.get(f"{k}_en", v) for k, v in params.items()}
    en = _safe_format(en_t, en_params)
    if label_vi:
        vi = f"{label_vi}: {vi}"
    if label_en or label_vi:
        en = f"{label_en or label_vi}: {en}"
    return vi, en
