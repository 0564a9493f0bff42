"""A loopback HTTP server for the benchmark: answers GET /v2/users/me with the reference
sample and GET /items with a ~500 KB document. Prints its port, then serves until killed."""
import http.server
import sys

ME = open(sys.argv[1], "rb").read()
ITEMS = open(sys.argv[2], "rb").read()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = ITEMS if self.path.startswith("/items") else ME
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
