"""The difference analysis hoso runs on later revisions of a signed PDF: pyHanko's default
policy, plus filling in fields whose widgets are their kids.

pyHanko's :class:`~pyhanko.sign.diff_analysis.GenericFieldModificationRule` lets a later
revision fill in a form field (its value, and its appearance) only where the field is
merged with its one widget. A field whose widgets are its kids (every radio group; a field
shown in several places; many forms made with Acrobat) is filled in by changing the
field's value *and* each widget's appearance state or appearance; pyHanko justifies the
first and not the second, so the signature before the fill was judged "modified beyond
what the signature permits". EU DSS (and Adobe Reader) count such a change as form
filling. :class:`WidgetKidsRule` justifies it at the same level, under the same
conditions as pyHanko's rule for a merged widget: only the keys a fill may change
(``/AS``, ``/AP``, ``/F``, ``/DA``, ``/Q``, ``/Ff``, ``/Type``), a new appearance made of
new objects only, the widget referred to only from its field, its page's annotations and
the structure tree, and nothing of it when the field is locked (FieldMDP).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.sign.diff_analysis import (
    DEFAULT_DIFF_POLICY,
    FieldComparisonContext,
    FieldComparisonSpec,
    FormUpdate,
    FormUpdatingRule,
    ModificationLevel,
    StandardDiffPolicy,
    SuspiciousModification,
)
from pyhanko.sign.diff_analysis.commons import compare_dicts
from pyhanko.sign.diff_analysis.rules.form_field_rules import BaseFieldModificationRule

__all__ = ["DIFF_POLICY", "WidgetKidsRule"]


class WidgetKidsRule(BaseFieldModificationRule):
    """A field's widget kids updated as the field is filled in (see the module)."""

    def check_form_field(
        self, fq_name: str, spec: FieldComparisonSpec, context: FieldComparisonContext
    ) -> Iterable[tuple[ModificationLevel, FormUpdate]]:
        try:
            yield from self._check(fq_name, spec, context)
        except SuspiciousModification:
            raise
        except Exception:  # noqa: BLE001 - a pyHanko it was not made for: justify nothing
            return

    def _check(
        self, fq_name: str, spec: FieldComparisonSpec, context: FieldComparisonContext
    ) -> Iterable[tuple[ModificationLevel, FormUpdate]]:
        if spec.field_type == "/Sig" or spec.old_field_ref is None or spec.new_field_ref is None:
            return
        old_field, new_field = spec.old_field, spec.new_field
        if old_field is None or new_field is None:
            return
        try:
            old_kids = old_field.get("/Kids")
            new_kids = new_field.get("/Kids")
        except Exception:  # noqa: BLE001 - unreadable: nothing justified here
            return
        if not isinstance(old_kids, generic.ArrayObject) or not isinstance(
            new_kids, generic.ArrayObject
        ):
            return
        old_refs = [_ref(old_kids.raw_get(i)) for i in range(len(old_kids))]
        new_refs = [_ref(new_kids.raw_get(i)) for i in range(len(new_kids))]
        if (
            not old_refs
            or None in old_refs
            or [_id(r) for r in old_refs] != [_id(r) for r in new_refs]
        ):
            return  # kids added, removed or direct: not a fill
        # a private helper of pyHanko's: without it (another version) nothing is
        # justified here, and the kids' updates stay unexplained as by default
        from pyhanko.sign.diff_analysis.rules.form_field_rules import _allow_appearance_update

        new_revision = context.new.reader.xrefs
        for index, (old_ref, new_ref) in enumerate(zip(old_refs, new_refs, strict=True)):
            assert old_ref is not None
            assert new_ref is not None
            if new_revision.get_last_change(new_ref) <= context.old.revision:
                continue  # not written again
            old_kid, new_kid = old_ref.get_object(), new_ref.get_object()
            if not isinstance(old_kid, generic.DictionaryObject) or not isinstance(
                new_kid, generic.DictionaryObject
            ):
                raise SuspiciousModification(f"A widget of {fq_name} is not a dictionary")
            if "/T" in old_kid or "/T" in new_kid:
                continue  # a field of its own: the field rules see it by its name
            if old_kid.get("/Subtype") != "/Widget" or new_kid.get("/Subtype") != "/Widget":
                raise SuspiciousModification(f"A kid of {fq_name} is not a widget")
            # only what a fill changes (else SuspiciousModification), /Type kept
            compare_dicts(old_kid, new_kid, self.value_update_keys)
            if old_kid.get("/Type") != new_kid.get("/Type"):
                raise SuspiciousModification(f"/Type of a widget of {fq_name} changed")
            locked_ok = compare_dicts(old_kid, new_kid, self.always_modifiable, raise_exc=False)
            kid = FieldComparisonSpec(
                field_type=spec.field_type,
                old_field_ref=old_ref,
                new_field_ref=new_ref,
                old_canonical_path=(
                    spec.old_canonical_path + "/Kids" + index
                    if spec.old_canonical_path is not None
                    else None
                ),
            )
            for expected in kid.expected_contexts():
                yield (
                    ModificationLevel.FORM_FILLING,
                    FormUpdate(
                        updated_ref=new_ref,
                        field_name=fq_name,
                        valid_when_locked=locked_ok,
                        context_checked=expected,
                    ),
                )
            # pyHanko's own check of a merged widget's new appearance: new objects only,
            # never a stream rewritten in place, nor an appearance dictionary shared
            for ref in _allow_appearance_update(old_kid, new_kid, context.old, context.new):
                yield (
                    ModificationLevel.FORM_FILLING,
                    FormUpdate(updated_ref=ref, field_name=fq_name, valid_when_locked=locked_ok),
                )


def _ref(value: Any) -> generic.Reference | None:
    return value.reference if isinstance(value, generic.IndirectObject) else None


def _id(ref: generic.Reference | None) -> tuple[int, int] | None:
    return None if ref is None else (ref.idnum, ref.generation)


def _policy() -> StandardDiffPolicy:
    form_rule = DEFAULT_DIFF_POLICY.form_rule
    assert form_rule is not None
    return StandardDiffPolicy(
        global_rules=list(DEFAULT_DIFF_POLICY.global_rules),
        form_rule=FormUpdatingRule(
            field_rules=[*form_rule.field_rules, WidgetKidsRule()],
            ignored_acroform_keys=form_rule.ignored_acroform_keys,
        ),
    )


DIFF_POLICY = _policy()
"""pyHanko's default difference analysis, and :class:`WidgetKidsRule`."""
