#!/usr/bin/python3
"""The twin's stand-in for GCP's metadata server (http://169.254.169.254/computeMetadata/v1/).

Serves the tree in a JSON file that `twin up` writes from Terraform's own metadata (project and
instance attributes, ssh-keys, startup-script, the service account), as GCP's server does:
  - every request needs `Metadata-Flavor: Google`, and one carrying `X-Forwarded-For` is refused
    (403), so a proxy on the VM cannot be turned into a path to the tokens;
  - every answer carries `Metadata-Flavor: Google` (clients check it to know they are on GCE);
  - a directory lists its entries (a sub-directory with a trailing /), `?recursive=true` gives
    the subtree as JSON, `?alt=json` a value as JSON;
  - service-accounts/<default|email>/token gives an access token (opaque, not a JWT: the GCS
    emulator accepts any), with `expires_in`;
  - instance/guest-attributes/NS/KEY can be written (PUT) and read back, as the guest agent
    publishes the VM's host keys there;
  - `?wait_for_change=true` answers at once unless `last_etag` matches, then at the next change
    or after `timeout_sec` (at most 60), with an ETag.
Standard library only (the twin has python3 for Ansible). Usage: server.py TREE.json ADDRESS PORT
"""

import hashlib
import json
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PREFIX = "/computeMetadata/v1/"
TOKEN_SECONDS = 3599


class Tree:
    """The metadata tree, its guest attributes and a condition for wait_for_change."""

    def __init__(self, data):
        self.guest = {}
        data.setdefault("instance", {})["guest-attributes"] = self.guest
        self.root = {"computeMetadata": {"v1": data}}
        self.changed = threading.Condition()
        self.tokens = {}

    def lookup(self, parts):
        node = self.root
        for part in parts:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def token(self, account):
        """One token per account until it expires, as GCP's server caches them."""
        now = time.time()
        tok = self.tokens.get(account)
        if tok is None or tok[1] - now < 300:
            tok = ("twin." + secrets.token_urlsafe(24), now + TOKEN_SECONDS)
            self.tokens[account] = tok
        return {"access_token": tok[0], "expires_in": int(tok[1] - now), "token_type": "Bearer"}


def etag(body):
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def render(node, query):
    if isinstance(node, dict):
        if query.get("recursive") == "true":
            return json.dumps(node), "application/json"
        entries = [k + "/" if isinstance(v, dict) else k for k, v in sorted(node.items())]
        return "".join(e + "\n" for e in entries), "application/text"
    if isinstance(node, list):
        node = "\n".join(node) + "\n"
    if query.get("alt") == "json":
        return json.dumps(node), "application/json"
    return node, "application/text"


def handler_for(tree):
    class Handler(BaseHTTPRequestHandler):
        server_version = "Metadata Server for VM"
        sys_version = ""

        def reply(self, status, body, ctype="application/text", extra=None):
            raw = body.encode()
            self.send_response(status)
            self.send_header("Metadata-Flavor", "Google")
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(raw)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(raw)

        def refused(self):
            if self.headers.get("X-Forwarded-For") is not None:
                self.reply(403, "Request had a X-Forwarded-For header and was rejected\n")
                return True
            if self.headers.get("Metadata-Flavor") != "Google":
                self.reply(403, "Missing required header: Metadata-Flavor: Google\n")
                return True
            return False

        def parts(self):
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            return [p for p in url.path.split("/") if p], query

        def do_GET(self):
            if self.path in ("/", ""):
                self.reply(200, "computeMetadata/\n")
                return
            if self.refused():
                return
            parts, query = self.parts()
            if (
                parts[:2] == ["computeMetadata", "v1"]
                and parts[2:4] == ["instance", "service-accounts"]
                and len(parts) == 6
                and parts[5] == "token"
            ):
                accounts = tree.lookup(parts[:5])
                if accounts is None:
                    self.reply(404, "Not Found\n")
                    return
                self.reply(200, json.dumps(tree.token(parts[4])), "application/json")
                return
            deadline = time.time() + min(float(query.get("timeout_sec", 60)), 60)
            with tree.changed:
                while True:
                    node = tree.lookup(parts)
                    if node is None:
                        self.reply(404, "Not Found\n")
                        return
                    body, ctype = render(node, query)
                    tag = etag(body)
                    waiting = query.get("wait_for_change") == "true" and query.get("last_etag") == tag
                    left = deadline - time.time()
                    if not waiting or left <= 0:
                        break
                    tree.changed.wait(left)
            self.reply(200, body, ctype, {"ETag": tag})

        do_HEAD = do_GET

        def do_PUT(self):
            if self.refused():
                return
            parts, _ = self.parts()
            if parts[:4] != ["computeMetadata", "v1", "instance", "guest-attributes"] or len(parts) != 6:
                self.reply(403, "Only instance/guest-attributes/NAMESPACE/KEY can be written\n")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > 256 * 1024:
                self.reply(413, "A guest attribute is at most 256 KiB\n")
                return
            value = self.rfile.read(length).decode()
            with tree.changed:
                tree.guest.setdefault(parts[4], {})[parts[5]] = value
                tree.changed.notify_all()
            self.reply(200, "")

        def log_message(self, fmt, *args):
            # One line per request in the journal (the e2e tests read who asked for a token).
            sys.stderr.write(f"{self.address_string()} {fmt % args}\n")

    return Handler


def main():
    path, address, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(path, encoding="utf-8") as f:
        tree = Tree(json.load(f))
    ThreadingHTTPServer((address, port), handler_for(tree)).serve_forever()


if __name__ == "__main__":
    main()
