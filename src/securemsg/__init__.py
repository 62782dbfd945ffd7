"""securemsg: end-to-end encrypted, consent-checked messaging for healthcare."""

__version__ = "0.1.0"
