# A static HTTP server that answers each .rpm request after a pause, so that a build's
# package download lasts long enough to be interrupted in the middle.
#   python3 slow-http-server.py DIR PORT DELAY_SECONDS MARKER
# MARKER is created when the first package is asked for.
import functools
import http.server
import sys
import time


class Slow(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path.endswith(".rpm"):
            open(sys.argv[4], "a").close()
            time.sleep(float(sys.argv[3]))
        super().do_GET()

    def log_message(self, *args):
        pass


handler = functools.partial(Slow, directory=sys.argv[1])
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), handler).serve_forever()
