"""A real SMTP server for the email channel's tests: aiosmtpd on a loopback
port, STARTTLS required (with the test's self-signed certificate), AUTH
required (one login), each mail written whole to OUT/NNNN.eml."""
import itertools
import os
import signal
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

out, port, cert, key, user, password = sys.argv[1:7]
counter = itertools.count()


class Handler:
    async def handle_DATA(self, server, session, envelope):
        n = next(counter)
        tmp = os.path.join(out, f"{n:04}.eml.tmp")
        with open(tmp, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, tmp[:-4])
        return "250 OK"


def authenticate(server, session, envelope, mechanism, data):
    ok = (
        isinstance(data, LoginPassword)
        and data.login.decode() == user
        and data.password.decode() == password
    )
    return AuthResult(success=ok)


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
controller = Controller(
    Handler(),
    hostname="127.0.0.1",
    port=int(port),
    tls_context=context,
    require_starttls=True,
    authenticator=authenticate,
    auth_required=True,
)
controller.start()
print("ready", flush=True)
signal.sigwait({signal.SIGTERM, signal.SIGINT})
controller.stop()
