"""What form filling after a signature changed: the fields, and what the page now shows.

pyHanko's difference analysis accepts form filling after a signature (when the document's
permissions allow it) by looking at the *objects* that changed. It cannot say whether the
new appearance of a field paints over the signed page: a field whose widget was placed on
top of the printed amount can, once "filled", show another amount (the shadow attack
"replace via form", Mainka et al., NDSS 2021). This module adds the two things an auditor
needs:

* :func:`field_changes`: every field whose value changed, with the old and the new value;
* :func:`visual_check`: the signed revision and the final file rendered side by side
  (PDFium via ``pypdfium2``, appearance streams as stored, no form regeneration). A
  visible difference outside the changed fields' widgets and the annotations the
  signature permits, or inside a widget over non-blank signed page content, is a
  failure. It runs whenever a later revision changed anything, not only a field's
  value: an appearance swapped with no value changed shows here.
"""

from __future__ import annotations

import contextlib
import threading
import zlib
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

__all__ = [
    "FIELDS_CHANGED",
    "MAX_DECODED",
    "SIGNED",
    "FieldChange",
    "VisualFinding",
    "changed_annotations",
    "field_changes",
    "filled_note",
    "oversized_update",
    "visual_check",
    "widget_boxes",
]

SIGNED = "<signature>"
"""The value :func:`field_changes` gives a signature field that holds a signature."""
DPI = 50
"""Rendering resolution: enough to see text, cheap enough for every filled document."""
MAX_PAGES = 20
"""Documents with more pages are compared on their first pages only (said in a warning)."""
_DIFF_LEVEL = 48  # grey levels (0-255) two renderings must differ by to count
_INK_LEVEL = 200  # darker than this on the signed page counts as content
_MIN_PIXELS = 4  # fewer differing pixels than this are rendering noise
MAX_DECODED = 16 * 1024 * 1024
"""Bytes the streams added after a signature may decode to before the comparison refuses."""


Box = tuple[float, float, float, float]
"""A rectangle on a page as drawn: (left, top, right, bottom) in points from the drawn
page's top-left corner (see :func:`_shown`)."""


@dataclass(frozen=True)
class FieldChange:
    """A form field whose value differs between the signed revision and the final file."""

    name: str
    old: str | None
    new: str | None
    widgets: tuple[tuple[int, Box], ...] = ()
    """(page index, box) of each of its widgets in the final file: the /Rect where the
    page is drawn (:func:`_shown`: points from the drawn page's top-left corner, after
    its crop box and rotation)."""

    @property
    def is_signature(self) -> bool:
        return SIGNED in (self.old, self.new)

    def describe(self) -> str:
        return f"{self.name}: {self.old!r} -> {self.new!r}"


@dataclass(frozen=True)
class VisualFinding:
    """A visible change the permissions do not explain."""

    page: int
    pixels: int
    field: str | None
    """The field whose new appearance covers signed content; None: outside every field."""

    def describe_en(self) -> str:
        if self.field is None:
            return f"page {self.page + 1}: {self.pixels} pixels changed outside the filled fields"
        return (
            f"page {self.page + 1}: the new appearance of field {self.field!r} is drawn over "
            f"signed page content ({self.pixels} pixels)"
        )

    def describe_vi(self) -> str:
        if self.field is None:
            return (
                f"trang {self.page + 1}: {self.pixels} điểm ảnh thay đổi ngoài các trường đã điền"
            )
        return (
            f"trang {self.page + 1}: hình hiển thị mới của trường {self.field!r} vẽ đè lên "
            f"nội dung trang đã ký ({self.pixels} điểm ảnh)"
        )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    try:
        obj = value.get_object()
    except Exception:  # noqa: BLE001 - a dangling reference reads as nothing
        return None
    if isinstance(obj, generic.ArrayObject):
        return ", ".join(str(v) for v in obj)
    return str(obj)


def _idnum(value: Any) -> int | None:
    return value.idnum if isinstance(value, generic.IndirectObject) else None


def _walk_fields(
    fields: Any, prefix: str, depth: int = 0
) -> Iterator[tuple[str, generic.DictionaryObject, set[int]]]:
    """(fully qualified name, field dictionary, object numbers of its widgets)."""
    if depth > 32 or not isinstance(fields, generic.ArrayObject):
        return
    for ref in fields:
        try:
            field = ref.get_object()
        except Exception:  # noqa: BLE001, S112 - a broken entry is skipped, not fatal
            continue
        if not isinstance(field, generic.DictionaryObject):
            continue
        part = field.get("/T")
        name = f"{prefix}.{part}" if prefix and part is not None else str(part or prefix)
        kids = field.get("/Kids")
        kid_objs = []
        if isinstance(kids, generic.ArrayObject):
            for kid in kids:
                with contextlib.suppress(Exception):
                    kid_objs.append(kid.get_object())
        if any(isinstance(k, generic.DictionaryObject) and "/T" in k for k in kid_objs):
            yield from _walk_fields(kids, name, depth + 1)
            continue
        widgets = {_idnum(k) for k in kids} if isinstance(kids, generic.ArrayObject) else set()
        widgets = widgets if kid_objs else {_idnum(ref)}
        yield name, field, {n for n in widgets if n is not None}


def _values(root: Any) -> dict[str, tuple[str | None, set[int]]]:
    try:
        fields = root["/AcroForm"]["/Fields"]
    except (KeyError, TypeError):
        return {}
    out: dict[str, tuple[str | None, set[int]]] = {}
    for name, field, widgets in _walk_fields(fields, ""):
        if field.get("/FT") == "/Sig":
            value = SIGNED if "/V" in field else None
        else:
            value = _text(field.raw_get("/V")) if "/V" in field else None
        out[name] = (value, widgets)
    return out


_INHERITED = ("/MediaBox", "/CropBox", "/Rotate")
"""The page attributes a page inherits from its page tree nodes that say how it is drawn."""


@dataclass(frozen=True)
class _Page:
    """A page, and how it is drawn: the part of it shown (its crop box within its media
    box, inherited values included) and its rotation."""

    page: generic.DictionaryObject
    shown: Box
    rotate: int


def _box(value: Any) -> Box | None:
    try:
        x1, y1, x2, y2 = (float(v) for v in value)
    except Exception:  # noqa: BLE001 - not a rectangle
        return None
    return (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))


def _drawn(page: generic.DictionaryObject, inherited: dict[str, Any]) -> _Page:
    def get(key: str) -> Any:
        return page.get(key, inherited.get(key))

    media = _box(get("/MediaBox")) or (0.0, 0.0, 612.0, 792.0)
    crop = _box(get("/CropBox")) or media
    shown = (
        max(media[0], crop[0]),
        max(media[1], crop[1]),
        min(media[2], crop[2]),
        min(media[3], crop[3]),
    )
    try:
        rotate = int(get("/Rotate") or 0) % 360
    except (TypeError, ValueError):
        rotate = 0
    return _Page(page, shown, rotate if rotate in (90, 180, 270) else 0)


def _shown(page: _Page, rect: Any) -> Box | None:
    """``rect`` (user space) where the page is drawn: points from the top-left corner of
    the drawn page (its shown box, turned by its rotation, as PDFium draws it)."""
    box = _box(rect)
    if box is None:
        return None
    x0, y0, x1, y1 = page.shown
    if page.rotate == 90:
        corners = [(y - y0, x - x0) for x in box[::2] for y in box[1::2]]
    elif page.rotate == 180:
        corners = [(x1 - x, y - y0) for x in box[::2] for y in box[1::2]]
    elif page.rotate == 270:
        corners = [(y1 - y, x1 - x) for x in box[::2] for y in box[1::2]]
    else:
        corners = [(x - x0, y1 - y) for x in box[::2] for y in box[1::2]]
    xs = [c[0] for c in corners]
    ys = [c[1] for c in corners]
    return (min(xs), min(ys), max(xs), max(ys))


def _pages(root: Any, limit: int) -> list[_Page]:
    """The first ``limit`` pages, walking /Kids with a guard against loops."""
    out: list[_Page] = []
    seen: set[int] = set()

    def visit(node: Any, depth: int, inherited: dict[str, Any]) -> None:
        if len(out) >= limit or depth > 64:
            return
        num = _idnum(node)
        if num is not None:
            if num in seen:
                return
            seen.add(num)
        obj = node.get_object()
        if not isinstance(obj, generic.DictionaryObject):
            return
        if obj.get("/Type") == "/Pages" or "/Kids" in obj:
            passed = dict(inherited)
            for key in _INHERITED:
                if key in obj:
                    passed[key] = obj[key]
            for kid in obj.get("/Kids", ()):
                visit(kid, depth + 1, passed)
        else:
            out.append(_drawn(obj, inherited))

    with contextlib.suppress(Exception):
        visit(root.raw_get("/Pages"), 0, {})
    return out


def _annotation_boxes(root: Any, keep: Callable[[int | None], bool]) -> tuple[tuple[int, Box], ...]:
    """(page index, box where the page is drawn, :func:`_shown`) of each annotation whose
    object number ``keep`` accepts, on the first :data:`MAX_PAGES` pages."""
    found: list[tuple[int, Box]] = []
    for index, page in enumerate(_pages(root, MAX_PAGES)):
        annots = page.page.get("/Annots")
        if not isinstance(annots, generic.ArrayObject):
            continue
        for annot in annots:
            if not keep(_idnum(annot)):
                continue
            try:
                box = _shown(page, annot.get_object()["/Rect"])
            except Exception:  # noqa: BLE001 - no usable rectangle
                box = None
            if box is not None:
                found.append((index, box))
    return tuple(found)


def field_changes(reader: PdfFileReader, signed_revision: int) -> list[FieldChange]:
    """Fields whose value differs between ``signed_revision`` and the final file."""
    before = _values(reader.get_historical_root(signed_revision))
    after = _values(reader.root)
    changes = []
    for name in sorted(set(before) | set(after)):
        old = before.get(name, (None, set()))[0]
        new, widgets = after.get(name, (None, set()))
        if old != new:
            rects = _annotation_boxes(reader.root, widgets.__contains__)
            changes.append(FieldChange(name, old, new, rects))
    return changes


FIELDS_CHANGED = "Form fields changed after this signature (old -> new): "
"""How a signature's report names the form fields filled after it (:func:`filled_note`)."""


def filled_note(changes: Sequence[FieldChange]) -> str | None:
    """The warning that names each form field (not a signature) whose value changed after
    a signature, with its old and new value; None when none did."""
    filled = [c for c in changes if not c.is_signature]
    if not filled:
        return None
    return FIELDS_CHANGED + "; ".join(c.describe() for c in filled)


def widget_boxes(reader: PdfFileReader, numbers: Collection[int]) -> tuple[tuple[int, Box], ...]:
    """(page index, box where the page is drawn) of each widget whose object number is
    among ``numbers``, in the final file (as :attr:`FieldChange.widgets` has them)."""
    return _annotation_boxes(reader.root, lambda num: num in numbers)


def changed_annotations(reader: PdfFileReader, signed_revision: int) -> tuple[tuple[int, Box], ...]:
    """(page index, box where the page is drawn) of every annotation added or rewritten
    after ``signed_revision``.

    Only for a signature whose permissions allow annotations: their areas may change.
    """
    updated: set[int] = set()
    xrefs = reader.xrefs
    for revision in range(signed_revision + 1, xrefs.total_revisions):
        updated.update(ref.idnum for ref in xrefs.explicit_refs_in_revision(revision))
    before: set[int] = set()
    for page in _pages(reader.get_historical_root(signed_revision), MAX_PAGES):
        annots = page.page.get("/Annots")
        if isinstance(annots, generic.ArrayObject):
            before.update(n for n in (_idnum(a) for a in annots) if n is not None)
    return _annotation_boxes(
        reader.root, lambda num: num is None or num not in before or num in updated
    )


# PDFium is not thread-safe: two threads in it at once crash the process (a service
# worker validating two-signature PDFs on several threads did). One at a time.
_PDFIUM = threading.Lock()


def _render(data: bytes, pages: int, *, annots: bool) -> list[Any]:
    """Each page (up to ``pages``) drawn in grey, with its annotations and form fields
    or without."""
    return _drawings(data, pages, (annots,))[0]


def _render_both(data: bytes, pages: int) -> tuple[list[Any], list[Any]]:
    """Each page drawn with its annotations and form fields, and without, from one opened
    document: the second drawing of a page costs little, PDFium has already loaded it."""
    full, bare = _drawings(data, pages, (True, False))
    return full, bare


def _drawings(data: bytes, pages: int, kinds: tuple[bool, ...]) -> list[list[Any]]:
    """For each of ``kinds`` (with annotations or not), each page drawn that way."""
    import pypdfium2  # type: ignore[import-untyped]  # ships no type information

    with _PDFIUM:
        doc = pypdfium2.PdfDocument(data)
        try:
            if any(kinds):
                doc.init_forms()  # PDFium draws widgets only through its form layer
            drawn: list[list[Any]] = [[] for _ in kinds]
            for index in range(min(len(doc), pages)):
                page = doc[index]
                for annots, images in zip(kinds, drawn, strict=True):
                    bitmap = page.render(
                        scale=DPI / 72, grayscale=True, draw_annots=annots, may_draw_forms=annots
                    )
                    images.append(bitmap.to_pil().convert("L"))
            return drawn
        finally:
            doc.close()


def _count(mask: Any) -> int:
    return int(mask.histogram()[255])


def visual_check(
    signed: bytes,
    final: bytes,
    changes: Sequence[FieldChange],
    permitted: Sequence[tuple[int, Box]] = (),
) -> list[VisualFinding]:
    """Compare the signed revision with the final file as PDFium draws them.

    Differences inside the widgets of the changed fields are what form filling is; they
    are allowed unless the signed page itself (drawn without annotations) has content
    under them (a new appearance, a signature's too, may not paint over signed content).
    ``permitted`` (page, box) areas are annotations the signature allows. Any other
    visible difference is reported.
    """
    from PIL import Image, ImageChops, ImageDraw

    before, bare = _render_both(signed, MAX_PAGES)
    after = _render(final, MAX_PAGES, annots=True)
    findings: list[VisualFinding] = []
    scale = DPI / 72

    def box(rect: Box) -> tuple[float, ...]:
        x1, y1, x2, y2 = rect
        return (x1 * scale - 1, y1 * scale - 1, x2 * scale + 1, y2 * scale + 1)

    for index, (b_img, a_img, page_img) in enumerate(zip(before, after, bare, strict=False)):
        if b_img.size != a_img.size:
            findings.append(VisualFinding(index, b_img.size[0] * b_img.size[1], None))
            continue
        diff = ImageChops.difference(b_img, a_img).point(lambda v: 255 if v > _DIFF_LEVEL else 0)
        if _count(diff) < _MIN_PIXELS:
            continue
        ink = page_img.point(lambda v: 255 if v < _INK_LEVEL else 0)
        allowed = Image.new("L", b_img.size, 0)
        draw = ImageDraw.Draw(allowed)
        for page_index, rect in permitted:
            if page_index == index:
                draw.rectangle(box(rect), fill=255)
        for change in changes:
            field_mask = Image.new("L", b_img.size, 0)
            field_draw = ImageDraw.Draw(field_mask)
            for page_index, rect in change.widgets:
                if page_index != index:
                    continue
                draw.rectangle(box(rect), fill=255)
                field_draw.rectangle(box(rect), fill=255)
            covering = ImageChops.multiply(ImageChops.multiply(diff, field_mask), ink)
            pixels = _count(covering)
            if pixels >= _MIN_PIXELS:
                findings.append(VisualFinding(index, pixels, change.name))
        outside = ImageChops.subtract(diff, allowed)
        pixels = _count(outside)
        if pixels >= _MIN_PIXELS:
            findings.append(VisualFinding(index, pixels, None))
    if len(before) != len(after):
        findings.append(VisualFinding(min(len(before), len(after)), 0, None))
    return findings


def counted_size(raw: bytes, flate: bool, total: int) -> int:
    """What a stream added after a signature counts toward :data:`MAX_DECODED`, when
    ``total`` is counted already: Flate alone (``flate``) inflated, up to just past the
    limit; any other stream its length; Flate data that does not inflate nothing."""
    if not flate:
        return len(raw)
    inflater = zlib.decompressobj()
    try:
        return len(inflater.decompress(raw, MAX_DECODED + 1 - total))
    except zlib.error:
        return 0


def oversized_update(reader: PdfFileReader, signed_revision: int) -> str | None:
    """Why the streams added after ``signed_revision`` are too big to draw, or None.

    An appearance that inflates to gigabytes (a compression bomb) would make the renderer
    the attacker's tool; Flate streams are inflated here with a cap first.
    """
    total = 0
    xrefs = reader.xrefs
    for revision in range(signed_revision + 1, xrefs.total_revisions):
        for ref in xrefs.explicit_refs_in_revision(revision):
            try:
                obj = ref.get_object()
            except Exception:  # noqa: BLE001, S112 - unreadable objects are pyHanko's to judge
                continue
            if not isinstance(obj, generic.StreamObject):
                continue
            filters = obj.get("/Filter")
            names = list(filters) if isinstance(filters, generic.ArrayObject) else [filters]
            total += counted_size(obj.encoded_data or b"", names == ["/FlateDecode"], total)
            if total > MAX_DECODED:
                return (
                    f"object {ref.idnum}, added after the signature, takes the streams of "
                    f"the update past {MAX_DECODED:,} bytes when decoded"
                )
    return None
