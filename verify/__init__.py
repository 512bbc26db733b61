"""hoso.verify: the auditor's verifier for Vietnamese digital signatures.

It stands alone at the bottom of hoso: it imports neither ``esign`` nor ``eforms``.
"""

__all__: list[str] = []
