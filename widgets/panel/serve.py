"""Serve a project's reviewer app with logins: ``python -m widgets.panel.serve PROJECT [options]``.

Everything is checked before the server starts, each problem reported as one line with exit status 2:
the project (it must exist and have at least one account), the port (free), the TLS files (readable, a
matching certificate and key), the session length, the LF file, and the address (loopback, or with
TLS / ``--behind-proxy``; see :func:`workbench.auth.check_serve_address`). The server listens only on
the given address and port.

Options
-------
``--port N`` (default 5006), ``--address A`` (default 127.0.0.1), ``--tls-cert FILE --tls-key FILE``,
``--behind-proxy`` (a reverse proxy terminates TLS; client addresses come from ``X-Forwarded-For``),
``--session-minutes M`` (default 480), ``--no-browser``, ``--allow-websocket-origin HOST[:PORT]`` (repeat;
the public host name when behind a proxy), ``--method majority|dawid_skene``, ``--refresh-seconds S``
(default 30, 0 = off), ``--lfs FILE`` (a Python file defining ``register(project)``).

Programmatic use (the ``workbench serve`` command)::

    from widgets.panel.serve import main
    raise SystemExit(main(["projects/spam", "--port", "5006"], prog="workbench serve"))
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import socket
import ssl
import sys
import webbrowser
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from widgets.panel._server import ServeConfig, build_server, load_lfs
from workbench.auth import MAX_SESSION_MINUTES, Accounts, AuthError, check_serve_address, is_loopback
from workbench.exceptions import WorkbenchError

__all__ = ["ServeError", "main", "parse_config"]


class ServeError(Exception):
    """A bad argument or project: the message is the one line printed before exiting with status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not usage + error
        raise ServeError(f"{message} (see {self.prog} --help)")


def _parser(prog: str) -> argparse.ArgumentParser:
    p = _Parser(prog=prog, description="Serve the login-protected reviewer app of a workbench project.")
    p.add_argument("project", help="the project directory")
    p.add_argument("--port", type=str, default="5006", help="TCP port (default 5006)")
    p.add_argument("--address", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; other addresses need TLS or --behind-proxy)")
    p.add_argument("--tls-cert", metavar="FILE", help="TLS certificate (PEM), with --tls-key")
    p.add_argument("--tls-key", metavar="FILE", help="TLS private key (PEM), with --tls-cert")
    p.add_argument("--behind-proxy", action="store_true",
                   help="a reverse proxy in front terminates TLS (trust its X-Forwarded-For / X-Real-Ip headers)")
    p.add_argument("--session-minutes", type=str, default="480", help="how long a login lasts (default 480)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--allow-websocket-origin", action="append", default=[], metavar="HOST[:PORT]",
                   help="another host name browsers reach the server by (repeat); needed behind a proxy")
    p.add_argument("--method", choices=["majority", "dawid_skene"], default="majority",
                   help="consensus shown in the adjudication page (default majority)")
    p.add_argument("--refresh-seconds", type=str, default="30",
                   help="how often pages re-read the project (default 30; 0 turns it off)")
    p.add_argument("--lfs", metavar="FILE", help="a Python file defining register(project) that adds the LFs")
    return p


def _number(text: str, flag: str, *, integer: bool = False) -> float:
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise ServeError(f"{flag} must be {kind}; got {text!r}.") from None
    if not math.isfinite(value):
        raise ServeError(f"{flag} must be a finite number; got {text!r}.")
    return value


def _check_port_free(address: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    host = "" if address in ("0.0.0.0", "::") else address
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ServeError(f"Port {port} on {address} is already in use; choose another with --port.") from None
            raise ServeError(f"Cannot listen on {address}:{port} ({exc.strerror}); check --address and --port.") \
                from None


def parse_config(argv: Sequence[str], *, prog: str = "python -m widgets.panel.serve") -> tuple[ServeConfig, Accounts]:
    """Validate ``argv`` and the project; return ``(ServeConfig, Accounts)`` or raise :class:`ServeError`."""
    args = _parser(prog).parse_args(list(argv))
    port = int(_number(args.port, "--port", integer=True))
    if not 1 <= port <= 65535:
        raise ServeError(f"--port must be between 1 and 65535; got {port}.")
    minutes = _number(args.session_minutes, "--session-minutes")
    if not 0 < minutes <= MAX_SESSION_MINUTES:
        raise ServeError(f"--session-minutes must be more than 0 and at most {MAX_SESSION_MINUTES} (30 days); "
                         f"got {args.session_minutes}.")
    refresh = _number(args.refresh_seconds, "--refresh-seconds")
    if refresh < 0:
        raise ServeError(f"--refresh-seconds must be 0 (off) or more; got {args.refresh_seconds}.")
    address = str(args.address).strip()
    if address.startswith("[") and address.endswith("]"):
        address = address[1:-1]
    if not address:
        raise ServeError("--address must not be empty; use --address 127.0.0.1 to serve on this machine only.")

    project = Path(args.project)
    if not project.exists():
        raise ServeError(f"There is no project at {str(project)!r}; create one with workbench init.")
    from workbench import Project

    try:
        with Project.open(project) as opened:
            project = opened.path.resolve()
    except WorkbenchError as exc:
        raise ServeError(str(exc)) from None
    accounts = Accounts(project)
    try:
        enabled = accounts.enabled
    except AuthError as exc:
        raise ServeError(str(exc)) from None
    if not enabled:
        raise ServeError(f"The project {str(project)!r} has no accounts, and the reviewer app needs a login. Add one "
                         f"first: workbench users add {args.project} NAME --role reviewer.")

    if bool(args.tls_cert) != bool(args.tls_key):
        raise ServeError("--tls-cert and --tls-key go together: give both files, or neither.")
    cert = key = None
    if args.tls_cert:
        cert, key = Path(args.tls_cert), Path(args.tls_key)
        for flag, path in (("--tls-cert", cert), ("--tls-key", key)):
            if not path.is_file():
                raise ServeError(f"{flag} {str(path)!r} is not a readable file.")
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(str(cert), str(key))
        except (ssl.SSLError, OSError) as exc:
            raise ServeError(f"--tls-cert / --tls-key cannot be used together ({exc}); give a PEM certificate and "
                             f"its private key.") from None
    try:
        check_serve_address(address, auth_enabled=enabled, tls=cert is not None, behind_proxy=bool(args.behind_proxy))
    except AuthError as exc:
        raise ServeError(str(exc)) from None

    lfs = None
    if args.lfs:
        lf_path = Path(args.lfs)
        if not lf_path.is_file() or lf_path.suffix != ".py":
            raise ServeError(f"--lfs {str(lf_path)!r} must be an existing .py file defining register(project).")
        try:
            lfs = load_lfs(lf_path)
        except WorkbenchError as exc:
            raise ServeError(str(exc)) from None
        except Exception as exc:  # the user's file failed to run: say where, in one line
            raise ServeError(f"--lfs {str(lf_path)!r} failed to run: {type(exc).__name__}: {exc}") from exc
    _check_port_free(address, port)

    config = ServeConfig(
        project=project, port=port, address=address, tls_cert=cert, tls_key=key, behind_proxy=bool(args.behind_proxy),
        session_minutes=minutes, open_browser=not args.no_browser, websocket_origins=list(args.allow_websocket_origin),
        method=str(args.method), refresh_seconds=refresh, lfs=lfs,
    )
    return config, accounts


def main(argv: Sequence[str] | None = None, *, prog: str = "python -m widgets.panel.serve") -> int:
    """Validate, then serve until interrupted; return the exit status (2 for a bad argument or project)."""
    try:
        config, accounts = parse_config(sys.argv[1:] if argv is None else argv, prog=prog)
    except ServeError as exc:
        sys.stderr.write(f"{prog}: error: {exc}\n")
        return 2
    server = build_server(config, accounts)
    server.start()
    where = "this machine only" if is_loopback(config.address) else "the network"
    sys.stdout.write(f"Serving {config.project.name} at {config.url} ({where}; login required). Ctrl+C stops it.\n")
    sys.stdout.flush()
    if config.open_browser and not os.environ.get("WORKBENCH_NO_BROWSER"):
        server.io_loop.add_callback(lambda: webbrowser.open(config.url + "login"))
    try:
        server.io_loop.start()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
