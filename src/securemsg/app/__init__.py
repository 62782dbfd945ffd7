"""The use cases (send, receive, read, verify, consent, and the mailbox's and
contacts' own): each orchestrates core and store and returns result values
(dataclasses with status enums) that cli/ renders. Nothing here parses command
lines or prints; the layers are held by tests/test_layering.py.
"""
