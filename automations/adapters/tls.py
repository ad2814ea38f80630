"""The TLS context of a connection to a mail server (SMTP and IMAP alike): the system's
certificate authorities, or the one in the config's `ca_file` (EMAIL.md, sign-in)."""

from __future__ import annotations

import ssl

from automations.errors import ToolkitError


def tls_context(
    security: str, ca_file: str, key: str, error: type[ToolkitError]
) -> ssl.SSLContext | None:
    """A client context trusting `ca_file` (else the system's store), or None when
    `security` is "none": built only for an encrypted connection, as it reads the CA store
    (~20 ms a connection). A file that cannot be used is `error`, naming the config `key`
    and what is wrong (never a traceback)."""
    if security == "none":
        return None
    try:
        return ssl.create_default_context(cafile=ca_file or None)
    except ssl.SSLError:
        why = "it holds no certificate"
    except OSError as exc:  # a wrong path, or a file that cannot be read
        why = exc.strerror or str(exc)
    raise error(
        f"{key} {ca_file} cannot be used ({why}): give the path of your certificate "
        "authority's certificate (a PEM file), or leave ca_file empty"
    )
