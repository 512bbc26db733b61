"""Names people read: providers by their display names, coded values by labels someone gave,
shared definitions with labels, autofill warnings in Vietnamese and English.

The civil-status registry is a real HTTP server on loopback (werkzeug), asked through
HttpJsonProvider.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from pypdf import PdfReader
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from eforms import (
    FormDefinition,
    HttpJsonProvider,
    NameRegistry,
    ProviderRegistry,
    RegistryError,
    autofill,
    load_definition,
    provider_display_name,
    render_html,
    render_pdf,
    validate,
)
from eforms.names import GENERIC_SOURCE, NAMES, as_localized

from .conftest import TODAY, clock

COMMON = "https://schemas.hoso.vn/eforms/common.json#/$defs/"
CIVIL_STATUS = {"vi": "Cơ sở dữ liệu hộ tịch điện tử", "en": "the Electronic Civil Status Database"}
HUSBAND = "079092006789"

#: A marriage registration a portal engineer writes: shared definitions without labels of
#: its own for the people and addresses, a custom civil-status provider.
MARRIAGE: dict[str, Any] = {
    "id": "to-khai-dang-ky-ket-hon-thu",
    "version": "1.0",
    "title": {"vi": "Tờ khai đăng ký kết hôn", "en": "Marriage registration"},
    "schema": {
        "type": "object",
        "required": ["wife", "husband"],
        "properties": {
            "wife": {"$ref": COMMON + "person"},
            "husband": {"$ref": COMMON + "person"},
            "residence": {"$ref": COMMON + "address"},
            "maritalStatus": {"type": "string", "enum": ["single", "divorced", "widowed"]},
        },
    },
    "labels": {
        "/wife": {"vi": "Bên nữ", "en": "Bride"},
        "/husband": {"vi": "Bên nam", "en": "Groom"},
        "/residence": {"vi": "Nơi cư trú", "en": "Residence"},
        "/maritalStatus": {"vi": "Tình trạng hôn nhân bên nam", "en": "Groom's marital status"},
    },
    "autofill": [
        {"field": "/husband/fullName", "source": "civil-status.full_name", "locked": True},
        {"field": "/husband/birthDate", "source": "civil-status.birth_date", "locked": True},
        {"field": "/maritalStatus", "source": "civil-status.marital_status"},
    ],
}
STATUS_LABELS = {
    "single": {"vi": "Chưa từng kết hôn", "en": "Never married"},
    "divorced": {"vi": "Đã ly hôn", "en": "Divorced"},
    "widowed": {"vi": "Góa", "en": "Widowed"},
}


class _CivilStatus:
    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        subject = request.path.rsplit("/", 1)[-1]
        if subject != HUSBAND:
            return Response("{}", status=404)(environ, start_response)
        known = {"full_name": "Lê Văn Hùng", "birth_date": "1992-02-11", "marital_status": "single"}
        keys = request.args.get("keys", "").split(",")
        body = json.dumps({k: known[k] for k in keys if k in known}, ensure_ascii=False)
        return Response(body, mimetype="application/json")(environ, start_response)


@pytest.fixture(scope="module")
def civil_status_url() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _CivilStatus(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/ho-tich"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def _visible_text(html: str) -> str:
    """What a person reads: no tags, no attribute values, no script or style."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _load(raw: dict[str, Any]) -> FormDefinition:
    """MARRIAGE on purpose lacks labels for maritalStatus and a name for its provider: what
    people then read is what these tests look at (eforms check would flag both)."""
    return load_definition(raw, lint=False)


def _fill(url: str, **register: Any) -> Any:
    form = _load(MARRIAGE)
    registry = ProviderRegistry()
    registry.register("civil-status", HttpJsonProvider(url, timeout=2), **register)
    return form, asyncio.run(autofill(form, HUSBAND, registry, clock=clock, timeout=2))


def test_a_custom_providers_display_name_is_what_the_locked_error_and_badge_say(
    civil_status_url: str,
) -> None:
    """The provider's display name, given at registration, is in the locked-field error (vi
    and en), the provenance badge and the page; the key 'civil-status' is nowhere visible."""
    form, filled = _fill(civil_status_url, display_name=CIVIL_STATUS)
    assert filled.warnings == ()
    assert filled.values["/husband/fullName"].source.vi == CIVIL_STATUS["vi"]
    changed = json.loads(json.dumps(filled.data))
    changed["husband"]["fullName"] = "Lê Văn Hưng"
    report = validate(form, changed, prefilled=filled.values, today=TODAY)
    locked = next(e for e in report.errors if e.code == "locked")
    assert CIVIL_STATUS["vi"] in locked.message_vi
    assert CIVIL_STATUS["en"] in locked.message_en
    for lang in ("vi", "en"):
        html = render_html(form, autofill=filled, errors=report, lang=lang)
        text = _visible_text(html)
        assert CIVIL_STATUS[lang] in text
        assert "civil-status" not in text
        assert "civil-status" not in locked.message(lang)


def test_a_provider_object_names_itself_and_an_unnamed_one_is_never_shown_by_its_key(
    civil_status_url: str,
) -> None:
    """display_name/enum_labels read from the provider object; a provider nobody named is
    'a connected registry' in errors and warnings, never its key."""
    named = HttpJsonProvider(civil_status_url, display_name=CIVIL_STATUS, enum_labels={
        "marital_status": STATUS_LABELS})  # fmt: skip
    registry = ProviderRegistry({"civil-status": named})
    assert provider_display_name("civil-status", "en", names=registry.naming) == CIVIL_STATUS["en"]

    form, filled = _fill(civil_status_url)
    assert filled.values["/husband/fullName"].source == GENERIC_SOURCE
    changed = json.loads(json.dumps(filled.data))
    changed["husband"]["birthDate"] = "1992-02-12"
    errors = validate(form, changed, prefilled=filled.values, today=TODAY).errors
    locked = next(e for e in errors if e.code == "locked")
    assert "cơ sở dữ liệu được kết nối" in locked.message_vi
    assert "a connected registry" in locked.message_en
    assert "civil-status" not in locked.message_vi + locked.message_en


def test_marital_status_shows_raw_values_until_someone_gives_their_labels(
    civil_status_url: str,
) -> None:
    """A field named maritalStatus takes no bundled labels from its name: its options are the
    raw codes; the labels come from the provider it is bound to, or from the schema."""
    form, filled = _fill(civil_status_url, display_name=CIVIL_STATUS)
    text = _visible_text(render_html(form, autofill=filled))
    assert "single" in text
    assert "Chưa kết hôn" not in text  # the bundled vocabulary is not taken by name

    form, filled = _fill(civil_status_url, enum_labels={"marital_status": STATUS_LABELS})
    for lang in ("vi", "en"):
        text = _visible_text(render_html(form, autofill=filled, lang=lang))
        assert STATUS_LABELS["single"][lang] in text
    draft = render_pdf(form, filled.data, autofill=filled, draft=True, today=TODAY)
    assert "Chưa từng kết hôn" in _pdf_text(draft)

    by_schema = json.loads(json.dumps(MARRIAGE))
    by_schema["schema"]["properties"]["maritalStatus"]["x-enum-labels"] = "marital-status"
    text = _visible_text(render_html(_load(by_schema), {"maritalStatus": "single"}))
    assert "Chưa kết hôn" in text


def _pdf_text(pdf: bytes) -> str:
    return " ".join(
        " ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages
    )


def test_shared_definitions_render_with_their_labels_never_json_names() -> None:
    """People and addresses from common.json, with no labels in the form, are labelled in HTML
    (vi and en) and on paper: no 'fullName', 'provinceCode' or 'street' is shown."""
    form = _load(MARRIAGE)
    data = {
        "wife": {"fullName": "Trần Thị Mai", "birthDate": "1994-05-01", "sex": "F",
                 "idNumber": "079194001234"},
        "husband": {"fullName": "Lê Văn Hùng", "birthDate": "1992-02-11", "sex": "M",
                    "idNumber": HUSBAND},
        "residence": {"provinceCode": "79", "communeCode": "26506", "street": "Số 15 Hạ Long"},
        "maritalStatus": "single",
    }  # fmt: skip
    assert validate(form, data, today=TODAY).ok
    raw_names = ("fullName", "birthDate", "idNumber", "provinceCode", "communeCode", "street")
    vi = _visible_text(render_html(form, data))
    en = _visible_text(render_html(form, data, lang="en"))
    for name in raw_names:
        assert name not in vi
        assert not re.search(rf"(^| ){name}( \*| |$)", en), name
    assert "Họ, chữ đệm và tên" in vi
    assert "Tỉnh, thành phố" in vi
    assert "Date of birth" in en
    assert "Nữ" in vi  # the shared sex definition labels its values too
    paper = _pdf_text(render_pdf(form, data, today=TODAY))
    assert "Số định danh cá nhân" in paper
    for name in raw_names[:-1]:
        assert name not in paper
    assert "street" not in paper


class _Scripted:
    def __init__(self, answer: Any = None, delay: float = 0.0, error: bool = False) -> None:
        self.answer, self.delay, self.error = answer, delay, error

    async def lookup(self, subject: str, keys: Sequence[str]) -> Mapping[str, Any]:
        await asyncio.sleep(self.delay)
        if self.error:
            raise ConnectionError("registry down")
        result: Mapping[str, Any] = self.answer
        return result


def test_autofill_warnings_say_which_registry_and_why_in_both_languages() -> None:
    """Not connected, too slow, failing, malformed: each warning has a code, a reason and a
    sentence in Vietnamese and English naming the registry by the name the form gives it."""
    raw = json.loads(json.dumps(MARRIAGE))
    raw["providers"] = {
        "civil-status": CIVIL_STATUS,
        "slow": {"vi": "Hệ thống chậm", "en": "the slow system"},
    }
    raw["autofill"] += [
        {"field": "/wife/fullName", "source": "slow.full_name"},
        {"field": "/wife/ethnicity", "source": "broken.ethnicity"},
        {"field": "/wife/nationality", "source": "odd.nationality"},
    ]
    form = _load(raw)
    registry = ProviderRegistry(
        {"slow": _Scripted({"full_name": "x"}, delay=5), "broken": _Scripted(error=True),
         "odd": _Scripted(["not", "an", "object"])}
    )  # fmt: skip
    result = asyncio.run(autofill(form, HUSBAND, registry, timeout=0.1, clock=clock))
    by = {w.provider: w for w in result.warnings}
    assert {p: w.code for p, w in by.items()} == {
        "civil-status": "not-registered",
        "slow": "timed-out",
        "broken": "failed",
        "odd": "malformed-answer",
    }
    assert by["civil-status"].message("vi") == (
        "Chưa lấy được thông tin từ Cơ sở dữ liệu hộ tịch điện tử: chưa được kết nối; "
        "vui lòng tự nhập các trường này."
    )
    assert by["slow"].message("en") == (
        "Could not fill in from the slow system: it did not answer in time; "
        "please type these fields yourself."
    )
    assert by["broken"].reason_en == "it failed (ConnectionError: registry down)"
    assert by["broken"].reason_vi == "gặp lỗi (ConnectionError: registry down)"
    assert "cơ sở dữ liệu được kết nối" in by["odd"].message("vi")
    as_json = by["slow"].to_json()
    assert as_json["message_vi"].startswith("Chưa lấy được thông tin từ Hệ thống chậm")
    assert as_json["reason"] == "timed out"
    assert as_json["fields"] == ["/wife/fullName"]


def test_the_public_registry_takes_names_in_every_spelling_and_refuses_conflicts() -> None:
    """Localized, {"vi","en"} and (vi, en) labels are accepted; a second, different name or
    vocabulary is refused unless replaced; a child registry falls back to its parent."""
    names = NameRegistry(parent=NAMES)
    names.add_provider("land", ("Cơ sở dữ liệu đất đai", "the Land Database"))
    names.add_provider("land", {"vi": "Cơ sở dữ liệu đất đai", "en": "the Land Database"})
    with pytest.raises(RegistryError):
        names.add_provider("land", "Một tên khác")
    names.add_provider("land", "Một tên khác", replace=True)
    assert provider_display_name("land", names=names) == "Một tên khác"
    assert provider_display_name("land", "en", names=names) == "Một tên khác"
    assert provider_display_name("population", "en", names=names) == (
        "the National Population Database"
    )
    names.add_vocabulary("yes-no", {True: ("Có", "Yes"), False: ("Không", "No")})
    vocabulary = names.vocabulary("yes-no")
    assert vocabulary is not None
    assert vocabulary[True].get("en") == "Yes"
    assert vocabulary.find(1) is None  # true is not 1
    with pytest.raises(RegistryError):
        names.add_vocabulary("yes-no", {})
    with pytest.raises(RegistryError):
        as_localized({"en": "English only"})
    assert NAMES.vocabulary("yes-no") is None  # nothing leaked into the public registry
