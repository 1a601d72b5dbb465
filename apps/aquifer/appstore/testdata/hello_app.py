# A stdlib-only web app for launcher and router tests: answers with what it was given.
import json, os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError as e:
        return f"<missing: {e.strerror}>"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = json.dumps({
            "path": self.path,
            "env": {k: v for k, v in os.environ.items() if k.startswith(("H2O_", "GREETING", "DB_PASSWORD"))},
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "secretFile": read("etc/token"),
            "literalFile": read("conf/settings.ini"),
        }).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


print("hello app listening", flush=True)
ThreadingHTTPServer((os.environ.get("HOST", "127.0.0.1"), int(os.environ["PORT"])), Handler).serve_forever()
