"""pymap for a whole test run: every login name is a user of its own, made at its first login
with pymap's demo mailboxes and the password `demopass`, so each test gets a fresh mailbox
from one server instead of starting a server (a Python process, pymap's imports) per test.
Passwords are kept in clear text: pymap's default hashes each login with 500,000 PBKDF2
rounds, CPU a loopback test server does not need. Run as a process:

    python -m tests.imap_users --host 127.0.0.1 --port N --no-tls dict --demo-data
"""

from __future__ import annotations

from typing import Any

from pymap.backend.dict import Identity, Login
from pymap.backend.dict.filter import FilterSet
from pymap.backend.dict.mailbox import MailboxSet
from pymap.config import IMAPConfig
from pymap.main import main
from pymap.user import UserMetadata
from pysasl.hashing import Cleartext

PASSWORD = "demopass"


def clear_text_passwords() -> None:
    """Patch pymap: keep passwords as they are, no PBKDF2 at start or at each login."""
    IMAPConfig._get_hash_context = classmethod(lambda cls, passlib_cfg: Cleartext())  # type: ignore[method-assign,assignment]


def a_user_per_login_name() -> None:
    """Patch pymap: an unknown login name becomes a new user with the demo mailboxes."""
    authenticate = Login.authenticate

    async def make_user_then_authenticate(self: Login, credentials: Any) -> Identity:
        name = credentials.authcid
        if name and name not in self.users_dict:
            identity = Identity(name, self, None, frozenset())
            await identity.set(UserMetadata(self.config, name, password=PASSWORD))
            mailboxes, filters = MailboxSet(), FilterSet()
            await identity._load_demo(self.config.demo_data_resource, mailboxes, filters)
            self.config.set_cache[name] = (mailboxes, filters)
        return await authenticate(self, credentials)

    Login.authenticate = make_user_then_authenticate  # type: ignore[method-assign]


if __name__ == "__main__":
    clear_text_passwords()
    a_user_per_login_name()
    main()
