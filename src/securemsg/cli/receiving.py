"""receive and verify: the receiving side only (no send path is imported:
start-up time, docs/performance.md)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from securemsg.app import receive as receiving
from securemsg.app.receive import LetterReceived, Outcome, Received
from securemsg.cli.main import Ctx, pass_ctx
from securemsg.cli.output import Printer, emit, message
from securemsg.errors import EXIT_ERROR, EXIT_REFUSED, UsageError
from securemsg.i18n import N_, _

# the status codes of the receive report (JSON keeps the codes), shown in the language
STATUSES = {
    "accepted": N_("accepted"),
    "duplicate": N_("duplicate"),
    "refused": N_("refused"),
    "skipped": N_("skipped"),
    "delivered": N_("delivered"),
    "receipt: delivered": N_("receipt: delivered"),
    "notice: refused by recipient": N_("notice: refused by recipient"),
    "notice: unverified report": N_("notice: unverified report"),
    "double: recorded": N_("double: recorded"),
    "double: already recorded": N_("double: already recorded"),
    "proof: for another device": N_("proof: for another device"),
    "receipt: recorded": N_("receipt: recorded"),
    "refusal: recorded": N_("refusal: recorded"),
    "receipt: offered": N_("receipt: offered"),
    "refusal: offered": N_("refusal: offered"),
    "receipt: already recorded": N_("receipt: already recorded"),
    "refusal: already recorded": N_("refusal: already recorded"),
    "key succession: moved": N_("key succession: moved"),
    "key succession: already recorded": N_("key succession: already recorded"),
    "key revocation: recorded": N_("key revocation: recorded"),
    "key revocation: already recorded": N_("key revocation: already recorded"),
}

PROOF_STATUS = {
    Outcome.DELIVERED: "receipt: delivered",
    Outcome.REFUSED_BY_RECIPIENT: "notice: refused by recipient",
    Outcome.UNVERIFIED_REPORT: "notice: unverified report",
}


def refusal_words(rule: str | None, reason: str | None) -> str:
    """A refusal notice's reason: the sentence securemsg writes for its rule
    (core/letter/policy.py, English in the signed notice) in the language; any
    other reason is the other party's own words, shown as written."""
    if rule is None:
        return reason or ""
    from securemsg import errors

    codes, todo = set(), [errors.SecureMsgError]
    while todo:
        cls = todo.pop()
        codes.add(getattr(cls, "code", None))
        todo += cls.__subclasses__()
    if rule in codes:
        template = N_("the recipient's mailbox could not verify the letter ({code})")
    else:
        template = N_("the recipient's mailbox refused the letter under the consent rule {code}")
    if reason and reason != template.format(code=rule):
        return reason
    return _(template).format(code=rule)


def received_row(r: Received) -> dict[str, Any]:
    """One line of the receive report (securemsg.receive/1)."""
    row: dict[str, Any] = {"file": str(r.file)}
    exc = r.error  # set exactly when the outcome is REFUSED or SKIPPED
    if exc is not None:
        skipped = r.outcome is Outcome.SKIPPED
        row.update({"status": "skipped" if skipped else "refused", "error": exc.code})
        if isinstance(r, LetterReceived):
            row["rule"] = getattr(exc, "rule", None)
        row.update({"detail": exc.message, "hint": exc.hint})
        if isinstance(r, LetterReceived):
            row["notice"] = r.notice
            if r.notice:
                row["message_id"] = r.message_id
    elif isinstance(r, LetterReceived):
        row.update(
            {
                "status": r.outcome.value,
                "message_id": r.message_id,
                "from": r.author,
                "kind": r.kind,
                "domains": list(r.domains),
                "detail": r.subject,
            }
        )
    else:
        done = {
            Outcome.RECORDED: "recorded",  # by mail: a consent; or a key revocation
            Outcome.OFFERED: "offered",  # by mail: a card
            Outcome.KEY_MOVED: "moved",  # a key succession (app/statements.py)
        }
        status = (
            PROOF_STATUS.get(r.outcome) or f"{r.kind}: {done.get(r.outcome, 'already recorded')}"
        )
        if r.outcome is Outcome.ELSEWHERE:  # app/doubles.py
            status = "proof: for another device"
        row.update(
            {
                "status": status,
                "message_id": r.message_id,
                "from": r.recipient,
                "detail": refusal_words(r.rule, r.reason),
            }
        )
        if r.outcome is Outcome.UNVERIFIED_REPORT:
            # signed by a contact who was never sent this letter: only their word
            row["unverified"] = True
            row["detail"] = _(
                "{name} was not a recipient of this letter: their report that "
                "it reached them and was refused is unverified (nothing recorded)"
            ).format(name=r.recipient)
    if isinstance(r, LetterReceived) and r.proof_file is not None:
        row["proof_file"] = str(r.proof_file)
    if isinstance(r, LetterReceived) and r.kept:
        row["kept_aside"] = True
    if r.problem is not None:
        p = r.problem
        row["problem"] = {"error": p.code, "detail": p.message, "hint": p.hint}
    return row


class ReceiveReport:
    """What `receive` did (a plain class, not a dataclass: start-up time)."""

    __slots__ = ("rows", "schema")

    def __init__(self, rows: list[dict[str, Any]], schema: str = "securemsg.receive/1") -> None:
        self.rows = rows
        self.schema = schema

    def to_json(self) -> dict[str, Any]:
        return {"results": self.rows}

    def render(self, out: Printer) -> None:
        if not self.rows:
            out.line(_("Nothing to receive."))
            return
        table = []
        for r in self.rows:
            what = r.get("message_id") or ""
            table.append(
                [
                    Path(r["file"]).name,
                    _(STATUSES[r["status"]]) if r["status"] in STATUSES else r["status"],
                    what,
                    r.get("from", ""),
                    r.get("detail", ""),
                ]
            )
        cols = [_("File"), _("Status"), _("Message"), _("From"), _("Detail")]
        out.table(_("Received"), cols, table)


@click.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--drop",
    # readable=False: a folder this account may not read is app/receive's to
    # explain (drop_permission, with the group to join), not click's
    type=click.Path(exists=True, file_okay=False, readable=False, path_type=Path),
    help="Collect what waits for me in a shared drop folder.",
)
@click.option(
    "--receipt-out",
    type=click.Path(path_type=Path),
    help="Where the receipts go: a folder, or a new file name (one FILE only). "
    "Default: beside each letter file.",
)
@click.option(
    "--retry",
    is_flag=True,
    help="Receive again the letters kept aside because their author was not a contact.",
)
@click.option(
    "--keep-refused-days",
    default=receiving.KEEP_REFUSED_DAYS,
    show_default=True,
    type=click.IntRange(0, 3650),
    help="With --drop: remove refused files of my folder, and letters kept aside, older than this.",
)
@click.option("--mail", "by_mail", is_flag=True, help="Fetch securemsg mail by IMAP.")
@click.option("--account", metavar="NAME", help="The mail account (with --mail).")
@click.option("--folder", metavar="FOLDER", help="The IMAP folder (with --mail; default INBOX).")
@click.option(
    "--batch",
    type=click.IntRange(1, 1000),
    default=100,
    show_default=True,
    help="Mails fetched, recorded and flagged together (with --mail).",
)
@pass_ctx
def receive(
    ctx: Ctx,
    files: tuple[Path, ...],
    drop: Path | None,
    receipt_out: Path | None,
    retry: bool,
    keep_refused_days: int,
    by_mail: bool,
    account: str | None,
    folder: str | None,
    batch: int,
) -> None:
    """Verify letters (and receipts) addressed to me, and accept them into my mailbox."""
    if (bool(files) + bool(drop) + by_mail) > 1:
        raise UsageError(_("give letter FILEs, --drop DIR or --mail, one of them"))
    if not (files or drop or by_mail or retry):
        raise UsageError(
            _("give letter FILEs, --drop DIR, --mail or --retry"),
            hint=_("securemsg receive LETTER.smsg, or securemsg receive --drop DROP-FOLDER"),
        )
    if (account or folder) and not by_mail:
        raise UsageError(_("--account and --folder go with --mail"))
    if receipt_out is not None and not receipt_out.is_dir() and len(files) != 1:
        raise UsageError(
            _("--receipt-out FILE works with one letter FILE"),
            hint=_("give a folder to --receipt-out for several letters"),
        )
    from securemsg.cli.sniff import refuse_other_kind

    for f in files:  # a consent, a card, a letter's source: say which command takes it
        refuse_other_kind(f, None, "receive")
    results: list[Received] = []
    if retry:
        from securemsg.app.retry import retry as retry_kept

        results += retry_kept(ctx.home(), ctx.now())
    if by_mail:
        from securemsg.app.mail import receive_mail

        results += receive_mail(ctx.home(), account, folder, ctx.now(), batch)
    elif drop is not None:
        results += receiving.receive_drop(ctx.home(), drop, ctx.now(), keep_refused_days)
    elif files:
        results += receiving.receive_files(ctx.home(), list(files), receipt_out, ctx.now())
    finish_report(results, ctx.as_json)


def proof_words(r: dict[str, Any]) -> str | None:
    """Where a receipt (or notice) written as a file went, and what to do with it."""
    if "proof_file" not in r:
        return None
    who = r.get("from") or _("the letter's author")
    if r["status"] == "refused":
        text = _(
            "refusal notice for {file} written to {proof}: "
            "give it to {who} (their securemsg receive or receipts import records it)"
        )
    else:
        text = _(
            "receipt for {file} written to {proof}: "
            "give it to {who} (their securemsg receive or receipts import records it)"
        )
    return text.format(file=Path(r["file"]).name, proof=r["proof_file"], who=who)


def finish_report(results: Sequence[Received], as_json: bool) -> None:
    """Print the report; explain each refusal, skipped file and problem on stderr.
    Exit 3 if something was refused, else 1 if a file was skipped, its receipt,
    notice or removal failed, or a notice is an unverified report."""
    rows = [received_row(r) for r in results]
    emit(ReceiveReport(rows), as_json)
    for r in rows:
        if (words := proof_words(r)) is not None:
            message(words)
        if r["status"] in ("refused", "skipped"):
            status = _(STATUSES[r["status"]])
            message(f"{status} {r['file']}: {r['detail']}", "red")
            if r.get("hint"):
                message(_("  hint: {hint}").format(hint=r["hint"]))
        if "problem" in r:
            message(f"{r['file']}: {r['problem']['detail']}", "red")
            if r["problem"].get("hint"):
                message(_("  hint: {hint}").format(hint=r["problem"]["hint"]))
    if any(r["status"] == "refused" for r in rows):
        raise click.exceptions.Exit(EXIT_REFUSED)
    for r in rows:
        if r.get("unverified"):
            said = _("unverified report {file}: {detail}").format(
                file=r["file"], detail=r["detail"]
            )
            message(said, "yellow")
    if any(r["status"] == "skipped" or "problem" in r or r.get("unverified") for r in rows):
        raise click.exceptions.Exit(EXIT_ERROR)


@click.command()
@click.argument("target", metavar="FILE|ID|latest")
@pass_ctx
def verify(ctx: Ctx, target: str) -> None:
    """Check a letter FILE addressed to me, as `receive` would, without storing it;
    or check again a stored letter by its ID (or `latest`)."""
    from securemsg.app.verify import verify as verify_letter
    from securemsg.cli.mail import is_letter_file
    from securemsg.cli.view import LetterView

    what: str | Path = Path(target) if is_letter_file(target) else target
    if isinstance(what, Path) and not what.exists():
        raise UsageError(
            _("{target}: no such file").format(target=target),
            hint=_("give a letter file or a message id"),
        )
    v = verify_letter(ctx.home(), what, ctx.now())
    emit(
        LetterView(v.opened, v.me, show_body=False, status="verified", names=v.names),
        ctx.as_json,
    )
