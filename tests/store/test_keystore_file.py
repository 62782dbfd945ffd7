"""PassphraseFileStore, passphrase sources, select/open for the file backend."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from keystore_testlib import FAST, MASKS

import tamper
from securemsg.core import keyfile
from securemsg.errors import (
    FormatError,
    KeyStoreError,
    UsageError,
    WeakPassphraseError,
    WrongPassphraseError,
)
from securemsg.store.keystore import LOCKED_HINT
from securemsg.store.keystore.file import PassphraseFileStore
from securemsg.store.keystore.prompt import EnvOrTerminal
from securemsg.store.keystore.selection import open_keystore, select_keystore

ROOT = Path(__file__).resolve().parents[2]
SECRET = bytes.fromhex("5ec2e7" * 20) + b"\x00\xff" * 10
PASSPHRASE = "hunter2 but longer"


def fixed(passphrase: str = PASSPHRASE) -> Callable[[bool], str]:
    return lambda confirm: passphrase


def no_terminal(prompt: str) -> str | None:
    return None


def must_not_ask(prompt: str) -> str | None:
    raise AssertionError("the terminal was asked")


def scripted(*answers: str) -> Callable[[str], str | None]:
    it = iter(answers)
    return lambda prompt: next(it)


def make_store(home: Path, source: Callable[[bool], str] | None = None) -> PassphraseFileStore:
    return PassphraseFileStore(home, passphrase_source=source or fixed(), params=FAST)


def test_round_trip(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    store.save(SECRET)
    assert store.path == tmp_path / "keys" / "identity.key"
    assert make_store(tmp_path).load() == SECRET
    assert store.kind == "file"


def test_permissions_even_with_a_lax_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        store = make_store(tmp_path)
        store.save(SECRET)
        store.save(SECRET)  # rewriting keeps them
    finally:
        os.umask(old)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    assert [p.name for p in store.path.parent.iterdir()] == ["identity.key"]  # no temp left


def test_file_does_not_contain_the_secret(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    store.save(SECRET)
    data = store.path.read_bytes()
    assert data.startswith(b"securemsg-keyfile-v1\n")
    for form in (
        SECRET,
        SECRET[:16],
        SECRET[-16:],
        base64.b64encode(SECRET),
        SECRET.hex().encode(),
    ):
        assert form not in data
    assert PASSPHRASE.encode() not in data


def test_wrong_passphrase(tmp_path: Path) -> None:
    make_store(tmp_path).save(SECRET)
    with pytest.raises(WrongPassphraseError) as info:
        make_store(tmp_path, fixed("hunter3 but longer")).load()
    assert str(info.value) == "wrong passphrase, or the key file was altered"
    assert info.value.hint
    assert info.value.exit_code == 4


def test_every_byte_flip_of_the_file(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    store.save(SECRET)
    original = store.path.read_bytes()
    for desc, mutated in tamper.byte_flips(original, MASKS):
        store.path.write_bytes(mutated)
        try:
            store.load()
        except (WrongPassphraseError, FormatError):
            pass
        except Exception as exc:
            pytest.fail(f"{desc}: {type(exc).__name__}: {exc}")
        else:
            pytest.fail(f"{desc} was accepted")
        assert store.path.read_bytes() == mutated  # loading never rewrites the file


def test_every_truncation_of_the_file(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    store.save(SECRET)
    original = store.path.read_bytes()
    for _, prefix in tamper.all_truncations(original):
        store.path.write_bytes(prefix)
        with pytest.raises((WrongPassphraseError, FormatError)):
            store.load()


def test_malformed_file_is_reported_before_prompting(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    store.save(SECRET)
    store.path.write_bytes(b"securemsg-keyfile-v9\n" + bytes(100))
    asked = PassphraseFileStore(tmp_path, passphrase_source=EnvOrTerminal(env={}, ask=must_not_ask))
    with pytest.raises(FormatError, match="unsupported key file version"):
        asked.load()


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KeyStoreError, match="no key file") as info:
        make_store(tmp_path).load()
    assert info.value.hint and info.value.exit_code == 4


def test_delete_is_idempotent(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    store.save(SECRET)
    store.delete()
    assert not store.path.exists()
    store.delete()
    with pytest.raises(KeyStoreError):
        store.load()


def test_failed_save_leaves_the_old_file(tmp_path: Path) -> None:
    make_store(tmp_path).save(SECRET)
    before = (tmp_path / "keys" / "identity.key").read_bytes()

    def refuse(confirm: bool) -> str:
        raise KeyStoreError("the key store is locked", hint=LOCKED_HINT)

    with pytest.raises(KeyStoreError):
        make_store(tmp_path, refuse).save(b"other secret")
    assert (tmp_path / "keys" / "identity.key").read_bytes() == before
    assert make_store(tmp_path).load() == SECRET


# --- passphrase sources ---------------------------------------------------------------


def test_env_passphrase_wins_over_the_terminal(tmp_path: Path) -> None:
    env = {"SECUREMSG_PASSPHRASE": PASSPHRASE}
    store = PassphraseFileStore(
        tmp_path, passphrase_source=EnvOrTerminal(env=env, ask=must_not_ask), params=FAST
    )
    store.save(SECRET)
    assert store.load() == SECRET
    # the env mapping given to the store is used by its default source
    assert PassphraseFileStore(tmp_path, env=env).load() == SECRET


def test_no_passphrase_and_no_terminal_is_locked(tmp_path: Path) -> None:
    make_store(tmp_path).save(SECRET)
    source = EnvOrTerminal(env={"SECUREMSG_PASSPHRASE": ""}, ask=no_terminal)
    store = PassphraseFileStore(tmp_path, passphrase_source=source, params=FAST)
    for action in (store.load, lambda: store.save(SECRET)):
        with pytest.raises(KeyStoreError) as info:
            action()
        assert type(info.value) is KeyStoreError
        assert str(info.value) == "the key store is locked"
        assert info.value.hint == "set SECUREMSG_PASSPHRASE or run from a terminal"
        assert info.value.exit_code == 4


def test_creation_asks_twice_and_compares(tmp_path: Path) -> None:
    prompts: list[str] = []

    def ask(prompt: str) -> str | None:
        prompts.append(prompt)
        return PASSPHRASE

    store = PassphraseFileStore(
        tmp_path, passphrase_source=EnvOrTerminal(env={}, ask=ask), params=FAST
    )
    store.save(SECRET)
    assert len(prompts) == 2 and prompts[0].startswith("New passphrase for")
    assert store.load() == SECRET
    assert len(prompts) == 3 and prompts[2].startswith("Passphrase for")


STRONG = "quartz lantern meadow oxide"


def _asked(tmp_path: Path, *answers: str) -> tuple[PassphraseFileStore, list[str]]:
    said: list[str] = []
    source = EnvOrTerminal(env={}, ask=scripted(*answers), say=said.append)
    return PassphraseFileStore(tmp_path, passphrase_source=source, params=FAST), said


def test_a_mistyped_confirmation_is_asked_again(tmp_path: Path) -> None:
    store, said = _asked(tmp_path, STRONG, STRONG + "x", STRONG, STRONG)
    store.save(SECRET)
    assert said == ["securemsg: the two passphrases do not match; again"]
    assert make_store(tmp_path, fixed(STRONG)).load() == SECRET


def test_a_weak_passphrase_is_explained_and_asked_again(tmp_path: Path) -> None:
    store, said = _asked(tmp_path, "abc", STRONG, STRONG)
    store.save(SECRET)
    assert len(said) == 1 and "too easy to guess" in said[0] and "hint:" in said[0]
    assert make_store(tmp_path, fixed(STRONG)).load() == SECRET


def test_three_tries_then_refused(tmp_path: Path) -> None:
    store, said = _asked(tmp_path, "abc", "password1", "qwerty")
    with pytest.raises(WeakPassphraseError) as info:
        store.save(SECRET)
    assert info.value.code == "weak_passphrase" and info.value.exit_code == 4
    assert "strength" in info.value.message and info.value.hint
    assert len(said) == 2 and not store.path.exists()
    other, _ = _asked(tmp_path / "b", *[STRONG, "nope"] * 3)
    with pytest.raises(KeyStoreError, match="did not match"):
        other.save(SECRET)
    assert not other.path.exists()


def test_a_weak_passphrase_from_the_environment_is_refused_for_a_new_key(tmp_path: Path) -> None:
    env = {"SECUREMSG_PASSPHRASE": "abc"}
    store = PassphraseFileStore(
        tmp_path, passphrase_source=EnvOrTerminal(env=env, ask=must_not_ask), params=FAST
    )
    with pytest.raises(WeakPassphraseError):
        store.save(SECRET)
    assert not store.path.exists()
    make_store(tmp_path, fixed("abc")).save(SECRET)  # an old file made with a weak one...
    assert store.load() == SECRET  # ...still opens: only new passphrases are scored


def test_empty_passphrase_is_refused_at_creation(tmp_path: Path) -> None:
    for source in (fixed(""), EnvOrTerminal(env={}, ask=scripted(""))):
        store = PassphraseFileStore(tmp_path, passphrase_source=source, params=FAST)
        with pytest.raises(KeyStoreError, match="empty passphrase"):
            store.save(SECRET)
        assert not store.path.exists()


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SECUREMSG_")}
    full_env.update(PYTHONPATH=str(ROOT / "src"), **env)
    return subprocess.run(
        [sys.executable, "-c", code],
        env=full_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,  # no controlling terminal
    )


def test_no_terminal_for_real(tmp_path: Path) -> None:
    """In a new session there is no /dev/tty: locked, and stdin is never read."""
    make_store(tmp_path).save(SECRET)
    code = (
        "from pathlib import Path\n"
        "from securemsg.store.keystore.file import PassphraseFileStore\n"
        "from securemsg.errors import KeyStoreError\n"
        f"store = PassphraseFileStore(Path({str(tmp_path)!r}))\n"
        "try:\n"
        "    store.load()\n"
        "except KeyStoreError as e:\n"
        "    print(type(e).__name__, '|', e, '|', e.hint)\n"
    )
    out = _run(code)
    assert out.stdout.strip() == (
        "KeyStoreError | the key store is locked | set SECUREMSG_PASSPHRASE or run from a terminal"
    ), out.stderr
    ok = _run(
        code.replace("store.load()", "print(store.load().hex())"), SECUREMSG_PASSPHRASE=PASSPHRASE
    )
    assert ok.stdout.strip() == SECRET.hex(), ok.stderr


@pytest.mark.skipif(sys.platform != "linux", reason="pty test written for Linux")
def test_prompt_on_the_controlling_terminal_without_echo(tmp_path: Path) -> None:
    import pty
    import select

    code = (
        "from pathlib import Path\n"
        "from securemsg.core.keyfile import KdfParams\n"
        "from securemsg.store.keystore.file import PassphraseFileStore\n"
        f"s = PassphraseFileStore(Path({str(tmp_path)!r}), params=KdfParams(1, 8192))\n"
        "s.save(b'sekret')\n"
        "print('LOADED', s.load() == b'sekret')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECUREMSG_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    pid, fd = pty.fork()
    if pid == 0:  # child: its controlling terminal is the pty
        os.execve(sys.executable, [sys.executable, "-c", code], env)
    transcript = b""
    answered = 0
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], 30)
            if not ready:
                pytest.fail(f"timeout; transcript: {transcript!r}")
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            transcript += chunk
            while transcript.count(b"assphrase") > answered:
                os.write(fd, b"typed-secret-words\n")
                answered += 1
    finally:
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, transcript
    text = transcript.decode()
    assert "New passphrase for" in text and "Repeat the passphrase" in text
    assert "LOADED True" in text
    assert "typed-secret-words" not in text  # never echoed


# --- selection, descriptors, repr -----------------------------------------------------


def test_select_file_and_reopen(tmp_path: Path) -> None:
    store = select_keystore(
        tmp_path / "keys", "acct", prefer="file", env={}, passphrase_source=fixed(), params=FAST
    )
    assert isinstance(store, PassphraseFileStore)
    store.save(SECRET)
    desc = store.descriptor()
    assert desc == {"kind": "file", "path": "keys/identity.key"}
    desc = json.loads(json.dumps(desc))
    again = open_keystore(desc, tmp_path, passphrase_source=fixed())
    assert again.load() == SECRET
    assert again.describe() == (
        f"passphrase file: {tmp_path / 'keys' / 'identity.key'} (Argon2id, 8 KiB, 1 pass)"
    )


def test_describe_defaults(tmp_path: Path) -> None:
    store = PassphraseFileStore(tmp_path)
    assert store.describe() == (
        f"passphrase file: {tmp_path / 'keys' / 'identity.key'} (Argon2id, 32 MiB, 3 passes)"
    )


def test_auto_without_a_real_keyring_falls_back_to_file(tmp_path: Path) -> None:
    # the autouse fixture leaves keyring's fail backend active
    store = select_keystore(tmp_path / "keys", "acct", env={})
    assert store.kind == "file"
    assert store.describe().startswith("passphrase file: ")


def test_env_forces_file_and_bad_values_are_usage_errors(tmp_path: Path) -> None:
    assert select_keystore(tmp_path, "a", env={"SECUREMSG_KEYSTORE": "file"}).kind == "file"
    with pytest.raises(UsageError):
        select_keystore(tmp_path, "a", env={"SECUREMSG_KEYSTORE": "plaintext"})
    with pytest.raises(UsageError):
        select_keystore(tmp_path, "a", prefer="cloud", env={})


@pytest.mark.parametrize(
    "descriptor",
    [
        {"kind": "file", "path": "/etc/identity.key"},
        {"kind": "file", "path": "../elsewhere/identity.key"},
        {"kind": "file", "path": ""},
        {"kind": "file"},
        {"kind": "paper"},
        {},
        {"kind": "keyring", "backend": "x.Y"},
        {"kind": "keyring", "backend": "x.Y", "account": ""},
    ],
)
def test_bad_descriptors(tmp_path: Path, descriptor: dict[str, str]) -> None:
    with pytest.raises(KeyStoreError) as info:
        open_keystore(descriptor, tmp_path)
    assert info.value.hint


def test_nothing_shows_the_secret_or_the_passphrase(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    store.save(SECRET)
    source = EnvOrTerminal(env={"SECUREMSG_PASSPHRASE": PASSPHRASE})
    env_store = PassphraseFileStore(tmp_path, passphrase_source=source)
    errors: list[KeyStoreError] = []
    for wrong in (fixed("nope"),):
        try:
            make_store(tmp_path, wrong).load()
        except KeyStoreError as exc:
            errors.append(exc)
    parsed = keyfile.KeyFile.parse(store.path.read_bytes())
    texts = [repr(store), str(store), store.describe(), repr(store.descriptor())]
    texts += [repr(env_store), str(env_store), repr(source), repr(parsed), str(parsed)]
    texts += [repr(e) for e in errors] + [str(e) for e in errors] + [e.hint or "" for e in errors]
    for text in texts:
        for needle in (SECRET.hex(), repr(SECRET), base64.b64encode(SECRET).decode(), PASSPHRASE):
            assert needle not in text, text


def test_importing_the_keystore_does_not_import_keyring(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from securemsg.core.keyfile import KdfParams\n"
        "from securemsg.store.keystore.selection import select_keystore, open_keystore\n"
        "assert 'keyring' not in sys.modules, 'imported at start-up'\n"
        f"s = select_keystore(Path({str(tmp_path)!r}) / 'keys', 'a', prefer='file',"
        " params=KdfParams(1, 8192))\n"
        "s.save(b'x')\n"
        f"s = open_keystore(s.descriptor(), Path({str(tmp_path)!r}))\n"
        "assert s.load() == b'x'\n"
        "print('keyring' in sys.modules)\n"
    )
    out = _run(code, SECUREMSG_PASSPHRASE="pw but a strong enough one")
    assert out.stdout.strip() == "False", out.stderr
