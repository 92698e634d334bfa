"""Rotate the repo's age key: new identity, every Secret re-keyed with a new SOPS data key, old key aside.

Usage: make rotate-key (needs the current key in age.agekey).

`sops updatekeys` alone re-wraps the same data key for the new recipient, so the old key plus the old
`sops:` stanza from git history would still decrypt the new ciphertext; `sops rotate` then replaces the
data key itself. Every Secret is re-keyed in a scratch copy first: a failure leaves the repo as it was.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tools.sops_files import AGE_KEY, CRUFT, ROOT, SOPS_CONFIG, SopsError, new_identity, read_identity, run_sops, secret_files, write_sops_config

NEW_KEY = ROOT / "age.agekey.new"


def set_recorded_recipient(recipient: str) -> None:
    record = json.loads(CRUFT.read_text())
    record["context"]["cookiecutter"]["age_public_key"] = recipient
    CRUFT.write_text(json.dumps(record, indent=4) + "\n")


def rekey(path: Path, keys: str) -> Path:
    """A re-keyed copy of `path` beside it (its name still matches .sops.yaml's path_regex)."""
    scratch = path.with_name(f".rotating.{path.name}")
    scratch.write_bytes(path.read_bytes())
    relative = str(scratch.relative_to(ROOT))
    run_sops(["updatekeys", "--yes", relative], keys=keys)
    run_sops(["rotate", "--in-place", relative], keys=keys)
    return scratch


def rotate() -> tuple[str, str, Path]:
    if not AGE_KEY.is_file():
        raise SopsError(f"{AGE_KEY.name} is missing: rotation needs the current key to decrypt the Secrets")
    old_recipient, old_identity = read_identity(AGE_KEY)
    new_recipient = new_identity(NEW_KEY)
    _, new_secret = read_identity(NEW_KEY)
    old_config = SOPS_CONFIG.read_text()
    scratches: list[tuple[Path, Path]] = []
    try:
        write_sops_config(new_recipient)
        for path in secret_files():
            scratches.append((rekey(path, f"{old_identity}\n{new_secret}\n"), path))
    except BaseException:
        SOPS_CONFIG.write_text(old_config)
        NEW_KEY.unlink()
        # Every scratch copy, also the one whose re-keying failed half-way.
        for leftover in ROOT.glob("kubernetes/**/.rotating.*"):
            leftover.unlink()
        raise
    for scratch, path in scratches:
        scratch.replace(path)
    set_recorded_recipient(new_recipient)
    kept = ROOT / f"age-old-{old_recipient[4:12]}.agekey"
    AGE_KEY.replace(kept)
    NEW_KEY.replace(AGE_KEY)
    return old_recipient, new_recipient, kept


def main() -> int:
    try:
        old, new, kept = rotate()
    except Exception as err:  # one line, whichever tool failed; the repo is as it was
        print(f"rotate-key: {err or type(err).__name__}; nothing was changed", file=sys.stderr)
        return 1
    print(f"rotated: {len(secret_files())} Secrets re-encrypted with new data keys for {new}")
    print(f"old key ({old}) kept in {kept.name} (git-ignored): delete it once Flux has the new one")
    print("next: make render validate && make flux-secret && git commit -am 'Rotate the age key'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
