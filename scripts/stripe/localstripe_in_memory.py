"""localstripe with its store kept in memory only.

localstripe pickles its whole store to /tmp/localstripe.pickle after every
write: each call then costs time in proportion to everything made so far
(about 300 ms per PaymentIntent after a few thousand), and two instances
on one machine overwrite each other's file. The tests start it from
scratch and never reload it, so the file is not written at all; the
server is otherwise localstripe's own.

    python3 scripts/stripe/localstripe_in_memory.py --port 8420 --from-scratch
"""

from localstripe import resources
from localstripe.server import start

resources.Store.dump_to_disk = lambda self: None

if __name__ == "__main__":
    start()
