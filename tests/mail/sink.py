"""An SMTP server for tests/mail: aiosmtpd on 127.0.0.1:PORT, writing each
message it accepts as one JSON line (envelope, headers, and the decoded text
and HTML parts) to OUT.

    python sink.py PORT OUT [USER:PASSWORD]

With USER:PASSWORD, it requires AUTH (over the plain connection: loopback
only). Recipients whose address starts with "refuse" are refused for good
(550). It prints "ready" once it listens and stops on SIGTERM.
"""

import email
import json
import logging
import signal
import sys
import warnings
from email import policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, out):
        self.out = out

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refuse"):
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(message["from"]),
            "to": str(message["to"]),
            "subject": str(message["subject"]),
            "message_id": str(message["message-id"]),
            "authenticated_as": session.authenticated and session.auth_data.login.decode(),
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None else None,
        }
        with open(self.out, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        return "250 OK"


def main():
    # AUTH without TLS is on purpose (loopback); aiosmtpd warns of it.
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    port, out = int(sys.argv[1]), sys.argv[2]
    options = {}
    if len(sys.argv) > 3:
        user, password = sys.argv[3].split(":", 1)

        def check(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == user
                and auth_data.password.decode() == password
            )
            return AuthResult(success=ok, auth_data=auth_data)

        options = {"authenticator": check, "auth_required": True, "auth_require_tls": False}
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    controller = Controller(Sink(out), hostname="127.0.0.1", port=port, **options)
    controller.start()
    print("ready", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


if __name__ == "__main__":
    main()
