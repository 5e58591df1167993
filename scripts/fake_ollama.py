"""A stand-in for Ollama's HTTP API, for the end-to-end checks: it answers /api/version and
/api/ps on a loopback port with the models a check says are loaded.

    from fake_ollama import FakeOllama, model
    ollama = FakeOllama.start()
    ollama.models = [model("llama3.2:3b", 48)]
    ... memtide ... --ollama ollama.url
    ollama.stop()
"""

import http.server
import json
import threading
import time

VERSION = "0.12.3"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/api/version":
            body = {"version": VERSION}
        elif self.path == "/api/ps":
            body = {"models": self.server.fake.models}
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class FakeOllama:
    def __init__(self):
        self.models = []
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    @classmethod
    def start(cls):
        fake = cls()
        threading.Thread(target=fake._server.serve_forever, daemon=True).start()
        return fake

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


def model(name, mib):
    """A model as /api/ps lists it, `mib` MiB in size, all of it in VRAM."""
    return {"name": name, "model": name, "size": mib << 20, "size_vram": mib << 20,
            "digest": "0" * 64, "context_length": 4096,
            "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 300)),
            "details": {"family": "llama", "parameter_size": "3B", "quantization_level": "Q4_K_M"}}
