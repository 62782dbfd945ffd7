"""The error hierarchy. Every error carries a user-facing message and a hint.

Exit codes are mapped in one place (:data:`EXIT_CODES` via ``exit_code``) and
documented in docs/cli.md (EXIT STATUS).

Long file: one class per stable error code of docs/cli.md's "Errors" table, in one
module (tests/test_docs_match_code.py holds the table to these classes); the key
change errors of issue 16 took it past 400 lines.
"""

from __future__ import annotations

from enum import Enum

from securemsg.i18n import N_, _

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_KEYSTORE = 4
EXIT_INTERRUPTED = 130


class SecureMsgError(Exception):
    """Base class: a message for the user and a hint saying what to do next."""

    exit_code: int = EXIT_ERROR
    code: str = "error"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(SecureMsgError):
    """The command line asks for something impossible (exit 2)."""

    exit_code = EXIT_USAGE
    code = "usage"


class AmbiguousId(UsageError):
    """A message id prefix that is the start of several ids (they are listed)."""

    code = "ambiguous_id"


class InvalidValue(SecureMsgError, ValueError):
    """A value that ``core`` refuses (an empty name, a malformed INS, an unknown
    domain, a letter with no text). Core does not know who typed it; the CLI
    reports it like a usage error (exit 2, code ``usage``), other callers may
    catch it as a ``ValueError``."""

    exit_code = EXIT_USAGE
    code = "usage"


class SendRefused(InvalidValue):
    """A letter the send rules refuse (exit 2, like any value core refuses);
    ``violation`` says which rule (a ``core.letter.policy.SendRule``), ``name``
    whom it concerns, if anyone."""

    def __init__(
        self,
        violation: Enum,
        message: str,
        *,
        name: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.violation = violation
        self.name = name


class NotFoundError(SecureMsgError):
    code = "not_found"


class Cancelled(SecureMsgError):
    """The user answered no to a question (send to an unverified key): nothing done (exit 1)."""

    code = "cancelled"


class WrongCommand(UsageError):
    """A file of another kind than the command takes (a consent given to receive,
    a letter to contacts add): the hint names the command for it (exit 2)."""

    code = "wrong_command"


class ConflictError(SecureMsgError):
    """The operation would overwrite or contradict existing state."""

    code = "conflict"


class VerificationError(SecureMsgError):
    """Input that does not verify: bad signature, tamper, malformed (exit 3)."""

    exit_code = EXIT_REFUSED
    code = "refused"


class FormatError(VerificationError):
    """Input that does not parse as the format it claims to be."""

    code = "malformed"


class PaddingError(FormatError):
    """An envelope's padding is missing, of the wrong length, or not zero bytes
    (docs/format.md §11)."""

    code = "bad_padding"


class SignatureError(VerificationError):
    code = "bad_signature"


class ExpiredError(VerificationError):
    code = "expired"


class BadText(VerificationError):
    """A letter whose text a sender's tool would have refused: a subject,
    pseudonym or patient identifier that its cleaning does not give back
    unchanged, a section heading or attachment name with a control, bidi or
    invisible character (core/letter/limits.py)."""

    code = "bad_text"


class OverLimit(VerificationError):
    """A letter larger than a sender's tool writes: more section text, more
    sections, or a longer item name than its limits (core/letter/limits.py)."""

    code = "over_limit"


class NoSpaceError(SecureMsgError):
    """A folder cannot hold what is about to be written there (exit 1)."""

    code = "no_space"


class PermissionDenied(SecureMsgError):
    """The operating system refuses this user access to a file or folder (exit 1)."""

    code = "permission_denied"


class DropPermissionError(PermissionDenied):
    """A drop folder this user may not write or read: not set up for sharing
    between Unix accounts (``securemsg drop init``), or the user is not a member
    of its group (exit 1)."""

    code = "drop_permission"


class DropFolderError(SecureMsgError):
    """A mailbox's folder in the drop folder cannot be used safely: a link, or not a
    folder (exit 1). Nothing was read or written there."""

    code = "drop_folder"


class NotAFileError(VerificationError):
    """A link, folder, FIFO, socket or device where a letter or proof file belongs;
    refused without being opened or read (exit 3)."""

    code = "not_a_file"


class TooLargeError(VerificationError):
    """A file larger than anything a sender writes, refused by its size before any
    byte of it is read (exit 3)."""

    code = "too_large"


class SparseFileError(VerificationError):
    """A file with holes (regions never written): no sender writes one; refused
    before any byte of it is read (exit 3)."""

    code = "sparse_file"


class UnreadableError(SecureMsgError):
    """A file the system does not let me open or read (permissions, I/O error);
    skipped and left where it is (exit 1)."""

    code = "unreadable"


class NotForMe(VerificationError):
    """A letter that is not addressed to my key."""

    code = "not_for_me"


class UnknownSender(VerificationError):
    """A letter or notice from someone who is not one of my contacts."""

    code = "unknown_sender"

    def __init__(self, message: str, hint: str | None = None, author_fp: str | None = None) -> None:
        super().__init__(message, hint)
        self.author_fp = author_fp  # as the envelope claims it (a letter kept aside)


class Replayed(VerificationError):
    """A letter already accepted, delivered again."""

    code = "replayed"


class ForeignDouble(VerificationError):
    """A double mailed to my address (another device's, docs/format.md §18.2)
    that my own key did not sign: nothing is filed."""

    code = "foreign_double"


class DeviceSyncInvalid(VerificationError):
    """A device sync file (docs/format-backup.md §8) that is not for me, damaged
    or malformed: nothing is imported."""

    code = "device_sync_invalid"


class PeerLogRewritten(VerificationError):
    """A correspondent's receipt whose log position contradicts their earlier receipts."""

    code = "peer_log_rewritten"


class KeyReplaced(VerificationError):
    """A key its holder replaced by another (a key succession, or --replace):
    no letter is encrypted to it any more."""

    code = "key_replaced"


class KeyRevoked(VerificationError):
    """A key its holder declared revoked (docs/format-keys.md): letters it signed
    after the revocation time are refused, none is encrypted to it, and it vouches
    for no successor."""

    code = "key_revoked"

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        rule: str | None = "key_revoked",
        party: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.rule = rule
        self.party = party


class KeyStoreError(SecureMsgError):
    """The key store is locked, unavailable, or the passphrase is wrong (exit 4)."""

    exit_code = EXIT_KEYSTORE
    code = "keystore"


class WrongPassphraseError(KeyStoreError):
    code = "wrong_passphrase"


class AgentError(KeyStoreError):
    """The key agent (``securemsg unlock``) cannot be used safely or at all: its
    socket or folder belongs to someone else or is not private, it does not
    answer, or it stopped during the command (exit 4)."""

    code = "agent"


class WeakPassphraseError(KeyStoreError):
    """A new passphrase below the strength floor (exit 4)."""

    code = "weak_passphrase"


class ConsentRefused(VerificationError):
    """A consent rule refuses the disclosure (exit 3).

    ``rule`` is a stable snake_case id (docs/format-consent.md, "Refusal rules");
    ``party`` names who it concerns (a fingerprint in hex, or a role), if anyone.
    """

    code = "consent_refused"

    def __init__(
        self, message: str, *, rule: str, party: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint)
        self.rule = rule
        self.party = party


# -- age ------------------------------------------------------------------------
# Errors of the age layer, one class per outcome of the age test vectors.
#
# =====================  ==================  =====================================
# class                  vector ``expect:``  meaning
# =====================  ==================  =====================================
# ``HeaderError``        header failure      the header (or the payload nonce) is
#                                            malformed, non-canonical, too large,
#                                            or a stanza addressed to one of our
#                                            key types is invalid
# ``NoIdentityMatchError`` no match          no stanza could be opened with the
#                                            identities given
# ``HMACError``          HMAC failure        the file key was found but the header
#                                            MAC is wrong: the header was altered
# ``PayloadError``       payload failure     the encrypted payload is truncated,
#                                            altered or has trailing data
# ``ArmorError``         armor failure       the ASCII armor is not canonical
# =====================  ==================  =====================================
#
# Messages never say *which* of several stanzas failed: an attacker who can edit a
# file learns nothing beyond the outcome class (the spec's distinction).


class AgeError(FormatError):
    """Base class: an age file (or key) that cannot be used."""

    code = "age"
    expect = "failure"
    default_hint: str | None = None

    def __init__(self, message: str, hint: str | None = None) -> None:
        default = type(self).default_hint
        super().__init__(message, hint if hint is not None else (_(default) if default else None))


class KeyFormatError(AgeError):
    """An age recipient or identity string (or raw key) is malformed."""

    code = "age_key"
    default_hint = N_(
        "Check that the key was copied whole: recipients start with 'age1', "
        "identities with 'AGE-SECRET-KEY-1'."
    )


class HeaderError(AgeError):
    code = "age_header"
    expect = "header failure"
    default_hint = N_("The file is not a valid age v1 file, or it was truncated or altered.")


class NoIdentityMatchError(AgeError):
    code = "age_no_match"
    expect = "no match"
    default_hint = N_(
        "The message was not encrypted to any of your keys; ask the sender to "
        "encrypt it to your current recipient."
    )


class HMACError(AgeError):
    code = "age_hmac"
    expect = "HMAC failure"
    default_hint = N_("The header was altered after encryption; do not trust this file.")


class PayloadError(AgeError):
    code = "age_payload"
    expect = "payload failure"
    default_hint = N_(
        "The encrypted content was truncated or altered; discard any output already "
        "written and ask for the file again."
    )


class ArmorError(AgeError):
    code = "age_armor"
    expect = "armor failure"
    default_hint = N_(
        "The ASCII-armored text was changed (re-wrapped, trimmed or edited); "
        "copy the whole block from BEGIN to END again."
    )


# -- backup and restore (issue 16; docs/format-backup.md) ---------------------------
class WeakPassphrase(UsageError):
    """A backup passphrase below the floor (docs/format-backup.md §2)."""

    code = "weak_passphrase"


class NoTerminal(UsageError):
    """A secret meant for the user's eyes only (a recovery code, a device file's
    one-time code) and no terminal to show it on: it is never written to stdout,
    stderr or a log."""

    code = "no_terminal"


class DraftNotPreparedHere(VerificationError):
    """send --draft of a draft this home did not prepare, or one changed since: a
    draft is not signed, and anyone can encrypt a file naming me to my key."""

    code = "draft_not_prepared_here"


class BackupPassphraseError(VerificationError):
    """The passphrase does not open the backup."""

    code = "backup_passphrase"


class BackupDamaged(VerificationError):
    """The backup's encryption does not verify: truncated, altered, not a backup."""

    code = "backup_damaged"


class BackupUnsafeEntry(VerificationError):
    """An entry of the backup that a restore must never write: a path that
    leaves the home, a link, a device, a name outside the format."""

    code = "backup_unsafe_entry"


class BackupInvalid(FormatError):
    """The backup decrypts but its contents break docs/format-backup.md, or the
    restored home fails a check (database, log chain, letter digests)."""

    code = "backup_invalid"


class RestoreTargetNotEmpty(ConflictError):
    """restore writes only into a home that does not exist or is an empty folder."""

    code = "restore_not_empty"


class MailError(SecureMsgError):
    """The mail server could not be reached, refused the login, or failed a
    command (exit 1). Nothing was half sent: a letter goes out whole or not."""

    code = "mail"


class MailTLSError(MailError):
    """The mail server's TLS certificate does not verify (unknown authority,
    wrong host name, expired), or it offers no TLS: the connection was stopped
    before the login (exit 1)."""

    code = "mail_tls"


class MailTooLarge(MailError):
    """A letter larger than the mail server accepts (its SIZE): refused before
    anything was written or sent (exit 1)."""

    code = "mail_too_large"
