"""An SMTP relay for the mail tests, as relays companies use ask it:
STARTTLS (or TLS from the first byte with --implicit) and a login, on the
certificate the test generated. Each message received is written to the
maildir DIR with two headers saying how it came: X-Sink-TLS (the TLS
version) and X-Sink-Login (the user who authenticated).

python3 smtp_tls_sink.py --port P --cert C --key K --user U --password W [--implicit] DIR
"""

import argparse
import asyncio
import mailbox
import ssl

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, box):
        self.box = box

    async def handle_DATA(self, server, session, envelope):
        tls_object = server.transport.get_extra_info("ssl_object")
        tls = tls_object.version() if tls_object else "none"
        user = session.auth_data.login.decode() if session.authenticated else "none"
        head = f"X-Sink-TLS: {tls}\r\nX-Sink-Login: {user}\r\n".encode()
        self.box.add(head + envelope.original_content)
        return "250 OK"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--implicit", action="store_true")
    p.add_argument("dir")
    a = p.parse_args()

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(a.cert, a.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == a.user
            and auth_data.password.decode() == a.password
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    kwargs = dict(
        hostname="127.0.0.1",
        port=a.port,
        authenticator=authenticator,
        auth_required=True,
    )
    if a.implicit:
        # The socket is TLS already; aiosmtpd does not know it, so it must
        # not insist on STARTTLS before AUTH.
        kwargs.update(ssl_context=context, auth_require_tls=False)
    else:
        kwargs.update(tls_context=context, require_starttls=True)
    controller = Controller(Handler(mailbox.Maildir(a.dir)), **kwargs)
    controller.start()
    print("ready", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
