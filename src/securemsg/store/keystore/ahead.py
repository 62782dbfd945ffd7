"""The passphrase file's Argon2id, started ahead of the imports (issue 14).

A command that will unlock a passphrase-file key store spends about 50 ms in
Argon2id and, before that, tens of milliseconds importing its modules. libsodium
runs Argon2id without the GIL (cffi releases it around the call), so the KDF can
run on a worker thread while the main thread imports: :func:`start` is called by
the CLI when it knows the command and the home, before it imports the command.

Best effort and invisible: :func:`start` only runs when the home's key store is
a passphrase file and the passphrase is in ``SECUREMSG_PASSPHRASE`` (it never
prompts); any problem (no home, a malformed config or key file, no passphrase)
starts nothing, and the command meets and reports it itself, as before. The key
store's own derivation (:func:`derive`) uses the result only if it was computed
from exactly the same passphrase, parameters and salt; otherwise, or if the
worker failed, it derives as before. The result is handed over once and
forgotten here. With the agent running, or with the OS key store, nothing
starts.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from securemsg.core import keyfile
from securemsg.core.keyfile import KdfParams


class _Job:
    __slots__ = ("error", "inputs", "key", "thread")

    def __init__(self, passphrase: bytes, params: KdfParams, salt: bytes) -> None:
        self.inputs = (passphrase, params.opslimit, params.memlimit, salt)
        self.key: bytes | None = None
        self.error = False
        self.thread = threading.Thread(
            target=self._run, args=(passphrase, params, salt), daemon=True, name="argon2id-ahead"
        )
        self.thread.start()

    def __repr__(self) -> str:  # never the key, never the passphrase
        return f"_Job(done={not self.thread.is_alive()})"

    def _run(self, passphrase: bytes, params: KdfParams, salt: bytes) -> None:
        try:
            self.key = keyfile.derive_key(passphrase, params, salt)
        except Exception:  # the key store's own derivation will meet and report it
            self.error = True


_job: _Job | None = None


def start(home_option: str | None, env: Mapping[str, str]) -> None:
    """Start deriving the key of the home's passphrase file, if that is what the
    command will unlock and the passphrase is in the environment."""
    global _job
    from securemsg.store.keystore import ENV_PASSPHRASE

    passphrase = env.get(ENV_PASSPHRASE)
    if _job is not None or not passphrase:
        return
    try:
        import json
        import os

        from securemsg.store.home import home_dir
        from securemsg.store.keystore.describe import check_relpath

        home = home_dir(home_option, env)
        with open(os.path.join(home, "config.json"), encoding="utf-8") as fh:
            descriptor = json.load(fh)["keystore"]
        if descriptor.get("kind") != "file" or not isinstance(descriptor.get("path"), str):
            return
        with open(os.path.join(home, check_relpath(descriptor["path"])), "rb") as fh:
            data = fh.read(keyfile.MAX_FILE_SIZE + 1)
        header = keyfile.KeyFile.parse(data).header
    except Exception:  # best effort: the command reports any problem itself
        return
    _job = _Job(keyfile.passphrase_bytes(passphrase), header.params, header.salt)


def derive(passphrase: bytes, params: KdfParams, salt: bytes) -> bytes:
    """:func:`keyfile.derive_key`, from the job started ahead when it was given
    exactly these inputs."""
    global _job
    job, _job = _job, None
    if job is not None and job.inputs == (passphrase, params.opslimit, params.memlimit, salt):
        job.thread.join()
        if job.key is not None:
            key, job.key = job.key, None
            return key
    return keyfile.derive_key(passphrase, params, salt)
