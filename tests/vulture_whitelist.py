"""Names vulture (``make lint``) reports as unused that must stay, each with its reason.

vulture only needs to see each name used once; ``_`` stands for any object.
"""

# ruff: noqa: F821

# Enum members: values are built with Enum(value), so members named only in the
# class look unused.
_.EXPIRED, _.NOT_YET_VALID, _.REVOKED, _.ADDED, _.UPDATED, _.CHANGED  # app/consent, contacts
_.REFERRAL, _.REPLY, _.HOSPITAL_REPORT, _.DOSSIER_TRANSFER  # core/domains.py Purpose
_.STARTTLS  # store/mailaccounts.py TLS

# click calls this override of click.Group to print `securemsg --help`.
_.format_commands  # cli/main.py LazyGroup

# Provenance of the generated Unicode tables, checked by tests/core/test_unicode_tables.py.
_.UNICODE_VERSION, _.SOURCE_DATE, _.SOURCE_SHA256, _.SMALL_CAPITALS_UNIDATA

# The registries of domain-separation labels and COSE types: docs/format.md lists
# them, tests/vectors_test holds the docs to these registries.
_.HASH_LABELS, _.COSE_TYPES  # core/labels.py

# PUBLIC TEST identities (docs/format*.md test vectors, scripts/make_test_keys.py,
# scripts/make_vectors.py, the demo's keys/ and the tests).
_.derive_test_identity, _.format_test_key  # core/testkeys.py

# Where the log chain breaks: part of the report, named by the known-answer vectors
# (`expect: log:<seq>`), which must not change.
_.at_seq  # core/log.py ChainReport

# io.RawIOBase's protocol, called by io.BufferedReader: store/checked.py _Bounded.
_.readable, _.seekable, _.readinto, _.seek, _.tell

# rich's Markdown renders the tokens in its `parsed` attribute: cli/markdown.py
# sets them (markdown-it under rules that hide nothing).
_.parsed  # cli/markdown.py LetterMarkdown

# tarfile reads these TarInfo attributes when it writes an entry: store/backup.py
# sets them empty (no owner names in a backup, docs/format-backup.md §3).
_.uname, _.gname  # store/backup.py entry_info

# Key revocation reasons (docs/format-keys.md §3): chosen by `key revoke --reason`
# through their values; the old key's fingerprint of a succession, named by its
# known-answer vectors (decoded.old-fingerprint).
_.SUPERSEDED, _.RETIRED  # core/keychange.py Reason
_.old_fingerprint  # core/keychange.py Succession

# A package's module-level __getattr__ (PEP 562), called by Python for names not
# yet imported: core/age/__init__.py loads its key types when first asked for.
_.__getattr__  # core/age/__init__.py

# securemsg/i18n.py's API, for every layer's messages (counts, the language shown).
_.ngettext, _.language  # securemsg/i18n.py
