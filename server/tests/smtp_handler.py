"""The aiosmtpd handler of the mail tests: Debian's Maildir handler, with two kinds of test
address. A recipient whose address starts with "bounce" is refused for good at RCPT (550), as a
real server refuses an unknown mailbox; a message to one starting with "slow" is answered only
after 4 seconds, as an overloaded server would (still well within lettre's timeout)."""
import asyncio

from aiosmtpd.handlers import Mailbox


class Picky(Mailbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("bounce"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(address.startswith("slow") for address in envelope.rcpt_tos):
            await asyncio.sleep(4)
        return await super().handle_DATA(server, session, envelope)
