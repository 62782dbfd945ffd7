"""age's building blocks, apart from the composed ``encrypt``/``decrypt``.

Like ``cryptography.hazmat``: these pieces are easy to misuse. Each does one step
and trusts the caller to do the others, in order, with the checks in between
(a header MAC left unchecked, a nonce reused, plaintext released before the
payload authenticated...). Use :func:`securemsg.core.age.encrypt` and
:func:`securemsg.core.age.decrypt` unless a caller must act between the steps,
as securemsg letters do: they sign the header bytes before the payload is
written, and verify as the payload streams (``core/letter/compose.py``,
``core/letter/opening.py``). Import each piece from its module:

- ``file``: an age file step by step (file key, header, payload nonce, header
  reading and unwrapping, payload decryption);
- ``header``: the header's strict parser and encoder, and its MAC;
- ``x25519``: the X25519 stanza (wrap and unwrap the file key);
- ``scrypt``: the scrypt (passphrase) stanza: wrap and unwrap, and its rules
  (alone in its header, well formed, a bounded work factor);
- ``stream``: the STREAM payload, one path per direction, and its buffer rules;
- ``hkdf``: HKDF-SHA-256;
- ``armor``: the strict ASCII armor;
- ``bech32``: the key encoding.

The spec, limits and errors: docs/format-age.md.
"""
