"""Ollama's HTTP API for the end-to-end checks: memtide's own stand-in (`memtide
ollama-standin`, the server the demo and the tests use), answering /api/version and /api/ps on
a loopback port with the models a check says are loaded.

    from fake_ollama import FakeOllama, model
    ollama = FakeOllama.start(memtide)
    ollama.models = [model("llama3.2:3b", 48)]
    ... memtide ... --ollama ollama.url
    ollama.stop()
"""

import json
import os
import subprocess
import tempfile
import time

VERSION = "0.12.3"


class FakeOllama:
    def __init__(self, memtide):
        self._dir = tempfile.TemporaryDirectory(prefix="memtide-standin-ollama-")
        self._answers = os.path.join(self._dir.name, "ps")
        self._models = []
        self._write()
        self._proc = subprocess.Popen(
            [memtide, "ollama-standin", "--answers", self._answers, "--ollama-version", VERSION],
            stdout=subprocess.PIPE, text=True)
        self.url = self._proc.stdout.readline().strip()
        if not self.url.startswith("http://"):
            raise RuntimeError(f"memtide ollama-standin said {self.url!r}")

    @classmethod
    def start(cls, memtide):
        return cls(memtide)

    @property
    def models(self):
        return self._models

    @models.setter
    def models(self, models):
        self._models = list(models)
        self._write()

    def _write(self):
        # Whole or not at all: the stand-in reads the file at each request.
        tmp = self._answers + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"models": self._models}, f)
        os.replace(tmp, self._answers)

    def stop(self):
        self._proc.kill()
        self._proc.wait()
        self._dir.cleanup()


def model(name, mib):
    """A model as /api/ps lists it, `mib` MiB in size, all of it in VRAM."""
    return {"name": name, "model": name, "size": mib << 20, "size_vram": mib << 20,
            "digest": "0" * 64, "context_length": 4096,
            "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 300)),
            "details": {"family": "llama", "parameter_size": "3B", "quantization_level": "Q4_K_M"}}
