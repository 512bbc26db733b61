"""hoso.eforms: interactive e-forms for Vietnamese public services."""

__all__: list[str] = []
