"""hoso.esign: create public and specialized Vietnamese digital signatures (PAdES, CAdES)."""

__all__: list[str] = []
