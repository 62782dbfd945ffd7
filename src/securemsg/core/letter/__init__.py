"""Letters: source parsing, signed manifest, per-recipient envelope, receipts."""
