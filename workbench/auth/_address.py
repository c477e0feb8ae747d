"""Where a reviewer server may listen: loopback always; beyond this machine only with logins over TLS."""

from __future__ import annotations

import ipaddress

from workbench.exceptions import AuthError

__all__ = ["LOOPBACK_NAMES", "check_serve_address", "is_loopback"]

#: Host names that always mean this machine.
LOOPBACK_NAMES: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")


def is_loopback(address: str) -> bool:
    """Whether ``address`` (a host name or IP, IPv6 optionally in brackets) can only be reached from this machine.

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("[::1]"), is_loopback("0.0.0.0"), is_loopback("example.org")
    (True, True, False, False)
    """
    host = address.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name other than localhost may resolve to anything
        return False


def check_serve_address(address: str, *, auth_enabled: bool, tls: bool = False, behind_proxy: bool = False) -> None:
    """Raise :class:`AuthError` unless a server may listen on ``address``.

    Loopback addresses (``127.0.0.1``, ``::1``, ``localhost``) are always allowed. Any other
    address (``0.0.0.0``, a LAN address, a host name) is allowed only when the project has
    accounts (``auth_enabled``) *and* passwords and cookies travel encrypted: the server speaks
    TLS itself (``tls``) or sits behind a reverse proxy that terminates TLS (``behind_proxy``).

    Examples
    --------
    >>> check_serve_address("127.0.0.1", auth_enabled=False)
    >>> check_serve_address("0.0.0.0", auth_enabled=True, tls=True)
    >>> check_serve_address("0.0.0.0", auth_enabled=False)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    workbench.exceptions.AuthError: Refusing to listen on '0.0.0.0': ...
    """
    if not isinstance(address, str) or not address.strip():
        raise AuthError(
            f"The 'address' parameter of check_serve_address must be a non-empty host name or IP address "
            f"(e.g. '127.0.0.1'). Got {address!r} instead; pass --address 127.0.0.1 to serve on this machine only."
        )
    for name, value in (("auth_enabled", auth_enabled), ("tls", tls), ("behind_proxy", behind_proxy)):
        if not isinstance(value, bool):
            raise AuthError(f"The '{name}' parameter of check_serve_address must be True or False. Got {value!r}.")
    if is_loopback(address):
        return
    if not auth_enabled:
        raise AuthError(
            f"Refusing to listen on {address!r}: the project has no accounts, so anyone who can reach this "
            f"address could label and read everything. Add accounts first (workbench users add PROJECT NAME --role "
            f"reviewer), or serve on this machine only with --address 127.0.0.1."
        )
    if not (tls or behind_proxy):
        raise AuthError(
            f"Refusing to listen on {address!r} without encryption: passwords and session cookies would cross the "
            f"network in clear text. Pass --tls-cert FILE --tls-key FILE, or --behind-proxy when a reverse proxy "
            f"terminates TLS in front of the server, or serve on this machine only with --address 127.0.0.1."
        )
