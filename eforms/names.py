"""Names people read: what registries are called, and what coded values mean, in vi and en.

A form stores codes (``"population"``, ``"married"``); people read "Cơ sở dữ liệu quốc gia
về dân cư" and "Đang có vợ/chồng". Those words are *given*, never guessed from a field's
name: a field called ``maritalStatus`` shows its raw values until someone says what they
mean. They are given in four places, the first found wins:

- by the **form**: the definition's ``providers`` (provider -> ``{"vi", "en"}``), a UI
  control's ``options.enumLabels``, ``oneOf`` alternatives with ``const`` and ``title``, or
  the schema keyword ``x-enum-labels`` (value -> ``{"vi", "en"}``, or the name of a
  vocabulary registered here);
- by the **provider**: an object registered on a :class:`~eforms.ProviderRegistry` may
  carry ``display_name`` and ``enum_labels`` (provider key -> value -> label), or they are
  passed to :meth:`~eforms.ProviderRegistry.register`;
- by this module's public registry, :data:`NAMES`: :func:`register_provider_name`,
  :func:`register_vocabulary`, :func:`register_key_labels` (bundled: the four built-in
  providers, and the vocabularies ``sex`` and ``marital-status``).

Labels are a :class:`~eforms.Localized`, or a ``{"vi", "en"}`` mapping, or a ``(vi, en)``
pair (``["vi", "en"]`` in JSON).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from eforms.definition import Localized
from eforms.errors import RegistryError

if TYPE_CHECKING:
    from eforms.definition import FormDefinition

__all__ = [
    "ENUM_LABELS_KEYWORD",
    "GENERIC_SOURCE",
    "NAMES",
    "LabelLike",
    "NameRegistry",
    "ValueLabels",
    "as_localized",
    "enum_labels",
    "provider_display_name",
    "provider_label",
    "register_key_labels",
    "register_provider_name",
    "register_vocabulary",
]

ENUM_LABELS_KEYWORD = "x-enum-labels"
"""Schema keyword: what an ``enum``'s values mean (value -> label, or a vocabulary name)."""
GENERIC_SOURCE = Localized("cơ sở dữ liệu được kết nối", "a connected registry")
"""What a provider nobody named is called in messages (its internal key never is)."""

LabelLike = Localized | Mapping[str, str] | tuple[str, str] | list[str] | str


def as_localized(label: LabelLike, *, what: str = "label") -> Localized:
    """A :class:`Localized` from any accepted spelling of a label; ``RegistryError`` if none."""
    if isinstance(label, Localized):
        return label
    if isinstance(label, str) and label.strip():
        return Localized(label)
    if (
        isinstance(label, tuple | list)
        and len(label) == 2
        and all(isinstance(t, str) for t in label)
        and label[0].strip()
    ):
        return Localized(label[0], label[1])
    if isinstance(label, Mapping) and isinstance(label.get("vi"), str) and label["vi"].strip():
        en = label.get("en", "")
        return Localized(label["vi"], en if isinstance(en, str) else "")
    raise RegistryError(f"{what} must be a text in Vietnamese (and English): got {label!r}")


def _value_key(value: Any) -> str:
    """Enum values are matched by their JSON text: ``1`` and ``"1"`` are different values."""
    if isinstance(value, str):
        return "s:" + value
    if isinstance(value, bool):
        return "b:" + ("true" if value else "false")
    return "n:" + repr(value) if isinstance(value, int | float) else "?:" + repr(value)


class ValueLabels(Mapping[Any, Localized]):
    """Labels of enum values; looks values up by their JSON identity (``1`` is not ``"1"``).

    Keys given as strings in JSON (``{"1": ...}``) also label the integer ``1`` when no
    string ``"1"`` is labelled: JSON objects cannot have number keys.
    """

    def __init__(self, labels: Mapping[Any, LabelLike], *, what: str = "enum labels") -> None:
        self._by_key: dict[str, tuple[Any, Localized]] = {}
        for value, label in labels.items():
            self._by_key[_value_key(value)] = (value, as_localized(label, what=what))

    def find(self, value: Any) -> Localized | None:
        found = self._by_key.get(_value_key(value))
        if found is None and isinstance(value, int | float) and not isinstance(value, bool):
            found = self._by_key.get(_value_key(str(value)))
        return found[1] if found is not None else None

    def __getitem__(self, value: Any) -> Localized:
        found = self.find(value)
        if found is None:
            raise KeyError(value)
        return found

    def __iter__(self) -> Any:
        return iter(v for v, _label in self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)


class NameRegistry:
    """Display names of providers, vocabularies of enum labels, and the labels providers
    give for the values of their keys. A registry made with a ``parent`` falls back to it.
    """

    def __init__(self, parent: NameRegistry | None = None) -> None:
        self.parent = parent
        self._providers: dict[str, Localized] = {}
        self._vocabularies: dict[str, ValueLabels] = {}
        self._key_labels: dict[tuple[str, str], ValueLabels | str] = {}

    def add_provider(self, name: str, label: LabelLike, *, replace: bool = False) -> None:
        """``name`` (a provider key) is shown as ``label``."""
        given = as_localized(label, what=f"display name of {name!r}")
        if name in self._providers and not replace and self._providers[name] != given:
            raise RegistryError(f"provider {name!r} already has another display name")
        self._providers[name] = given

    def provider(self, name: str) -> Localized | None:
        found = self._providers.get(name)
        if found is None and self.parent is not None:
            return self.parent.provider(name)
        return found

    def add_vocabulary(
        self, name: str, labels: Mapping[Any, LabelLike], *, replace: bool = False
    ) -> None:
        """A named set of value labels a schema can use (``"x-enum-labels": name``)."""
        if name in self._vocabularies and not replace:
            raise RegistryError(f"vocabulary {name!r} is already registered")
        self._vocabularies[name] = ValueLabels(labels, what=f"vocabulary {name!r}")

    def vocabulary(self, name: str) -> ValueLabels | None:
        found = self._vocabularies.get(name)
        if found is None and self.parent is not None:
            return self.parent.vocabulary(name)
        return found

    def add_key_labels(
        self,
        provider: str,
        key: str,
        labels: Mapping[Any, LabelLike] | str,
        *,
        replace: bool = False,
    ) -> None:
        """What the values ``provider`` returns for ``key`` mean (labels, or a vocabulary
        name): a field bound to ``provider.key`` shows them."""
        if (provider, key) in self._key_labels and not replace:
            raise RegistryError(f"{provider}.{key} already has value labels")
        self._key_labels[(provider, key)] = (
            labels if isinstance(labels, str) else ValueLabels(labels, what=f"{provider}.{key}")
        )

    def key_labels(self, provider: str, key: str) -> ValueLabels | None:
        found = self._key_labels.get((provider, key))
        if isinstance(found, str):
            return self.vocabulary(found)
        if found is None and self.parent is not None:
            return self.parent.key_labels(provider, key)
        return found

    def provider_names(self) -> dict[str, Localized]:
        """Every provider this registry (and its parents) can name."""
        out = dict(self.parent.provider_names()) if self.parent is not None else {}
        out.update(self._providers)
        return out


#: The public registry: what every form and renderer falls back to.
NAMES = NameRegistry()


def register_provider_name(name: str, label: LabelLike, *, replace: bool = False) -> None:
    """Name a provider for everyone: ``register_provider_name("civil-status", {"vi": ...})``."""
    NAMES.add_provider(name, label, replace=replace)


def register_vocabulary(
    name: str, labels: Mapping[Any, LabelLike], *, replace: bool = False
) -> None:
    """Register value labels under ``name`` for schemas to use (``"x-enum-labels": name``)."""
    NAMES.add_vocabulary(name, labels, replace=replace)


def register_key_labels(
    provider: str, key: str, labels: Mapping[Any, LabelLike] | str, *, replace: bool = False
) -> None:
    """Say what ``provider`` means by the values of ``key`` (labels or a vocabulary name)."""
    NAMES.add_key_labels(provider, key, labels, replace=replace)


def provider_label(
    name: str,
    *,
    form: FormDefinition | None = None,
    names: NameRegistry | None = None,
) -> Localized:
    """How ``name`` is shown: the form's name for it, else the registry's, else
    :data:`GENERIC_SOURCE` (an internal key is never shown)."""
    if form is not None and name in form.provider_names:
        return form.provider_names[name]
    return (names or NAMES).provider(name) or GENERIC_SOURCE


def provider_display_name(
    name: str,
    lang: str = "vi",
    *,
    form: FormDefinition | None = None,
    names: NameRegistry | None = None,
) -> str:
    """:func:`provider_label` in ``lang``."""
    return provider_label(name, form=form, names=names).get(lang)


def enum_labels(
    form: FormDefinition,
    pointer: str,
    schema: Mapping[str, Any] | None = None,
    names: NameRegistry | None = None,
) -> ValueLabels | None:
    """What the values of the enum at ``pointer`` mean, as the schema (``x-enum-labels``)
    or the provider the field is bound to gives it; ``None`` when nobody said.

    (A UI control's ``options.enumLabels`` and ``oneOf`` titles are read by the renderer
    first.) Never inferred from the field's name.
    """
    registry = names or NAMES
    sub = schema if schema is not None else form.field_schema(pointer)
    if isinstance(sub, Mapping) and not isinstance(sub.get("enum"), list):
        items = sub.get("items")
        if isinstance(items, Mapping) and isinstance(items.get("enum"), list):
            sub = items
    raw = sub.get(ENUM_LABELS_KEYWORD) if isinstance(sub, Mapping) else None
    if isinstance(raw, str):
        found = registry.vocabulary(raw)
        if found is not None:
            return found
    elif isinstance(raw, Mapping):
        try:
            return ValueLabels(raw)
        except RegistryError:
            pass
    stripped = "/".join(p for p in pointer.split("/") if not p.isdigit())
    for binding in form.bindings:
        if binding.field in (pointer, stripped):
            found = registry.key_labels(binding.provider, binding.key)
            if found is not None:
                return found
    return None


def _bundled() -> None:
    NAMES.add_provider(
        "population",
        ("Cơ sở dữ liệu quốc gia về dân cư", "the National Population Database"),
    )
    NAMES.add_provider(
        "business",
        (
            "Cơ sở dữ liệu quốc gia về đăng ký doanh nghiệp",
            "the National Business Registration Database",
        ),
    )
    NAMES.add_provider(
        "insurance", ("Cơ sở dữ liệu quốc gia về bảo hiểm", "the National Insurance Database")
    )
    NAMES.add_provider("submissions", ("hồ sơ đã nộp trước đây", "an earlier submission"))
    NAMES.add_vocabulary("sex", {"M": ("Nam", "Male"), "F": ("Nữ", "Female")})
    NAMES.add_vocabulary(
        "marital-status",
        {
            "single": ("Chưa kết hôn", "Never married"),
            "married": ("Đang có vợ/chồng", "Married"),
            "divorced": ("Đã ly hôn", "Divorced"),
            "widowed": ("Vợ/chồng đã chết", "Widowed"),
        },
    )
    NAMES.add_key_labels("population", "sex", "sex")
    NAMES.add_key_labels("population", "marital_status", "marital-status")


_bundled()
