"""Who typed it: the operator every event records beside its signer.

The signer is who takes the legal responsibility (`--as`); the operator is the account that ran the command,
taken from the operating system (the effective user id, not `$USER`, which anyone can set), never declared by
the person typing. A host system embedding the library passes its own user instead (`Workflow(operator=...)`).
On PostgreSQL the database's `session_user` is recorded too.
"""

from __future__ import annotations

import getpass
import os
import socket


def local_account() -> str:
    """`account@host` of this process's effective user."""
    try:
        import pwd  # not on Windows

        account = pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):  # a uid with no entry (a container's): its number still says who
        account = getpass.getuser() if not hasattr(os, "geteuid") else f"uid{os.geteuid()}"
    return f"{account}@{socket.gethostname()}"
