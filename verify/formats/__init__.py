"""Format readers: each reads one kind of signed document and hands on evidence.

- :mod:`verify.formats.pdf`: PDF signatures (PAdES, ``adbe.pkcs7.detached``,
  ``adbe.pkcs7.sha1``), document timestamps, the DSS and later revisions;
- :mod:`verify.formats.cms`: detached (``.p7s``) and enveloping (``.p7m``) CMS/CAdES;
- :mod:`verify.formats.xml`: XMLDSig e-invoices, tax messages and declarations;
- :mod:`verify.formats.asic`: ASiC-S and ASiC-E containers (their timestamp tokens,
  manifests, archive manifests and files);
- :mod:`verify.formats.asic_xades`: a container's XAdES signatures, through the XML reader,
  each reference digested over the container file it names;
- :mod:`verify.formats.signed_data`: what the PDF and CMS readers share.

A reader reads: signatures, signed data, certificates, revocation values, timestamps,
claimed times, what each signature covers. It gives :mod:`verify.process` one
:class:`~verify.process.SignatureEvidence` per signature and validates paths through the
shared :class:`~verify.engine.Engine`; it never adds a verdict rule of its own.
"""
