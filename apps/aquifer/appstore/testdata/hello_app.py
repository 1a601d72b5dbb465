# A stdlib-only web app for launcher and router tests: answers with what it was given.
import base64, hashlib, json, os, struct
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError as e:
        return f"<missing: {e.strerror}>"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def websocket(self):
        # A minimal RFC 6455 echo: first a text frame with the upgrade's headers, then every
        # text frame received comes back.
        accept = base64.b64encode(hashlib.sha1((self.headers["Sec-WebSocket-Key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()

        def send(text):
            data = text.encode()
            head = bytes([0x81, len(data)]) if len(data) < 126 else bytes([0x81, 126]) + struct.pack(">H", len(data))
            self.wfile.write(head + data)
            self.wfile.flush()

        send(json.dumps({k.lower(): v for k, v in self.headers.items()}))
        while True:
            first = self.rfile.read(2)
            if len(first) < 2:
                return
            opcode, length = first[0] & 0x0F, first[1] & 0x7F
            if length == 126:
                length = struct.unpack(">H", self.rfile.read(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self.rfile.read(8))[0]
            mask = self.rfile.read(4) if first[1] & 0x80 else b"\0\0\0\0"
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(length)))
            if opcode == 8:
                return
            if opcode == 1:
                send(payload.decode())

    def do_GET(self):
        if self.headers.get("Upgrade", "").lower() == "websocket":
            return self.websocket()
        print(f"served {self.path}", flush=True)
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
