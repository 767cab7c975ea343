#!/usr/bin/python3
"""The twin's stand-in for GCP's metadata server (http://169.254.169.254/computeMetadata/v1/).

Serves the tree in a JSON file that `twin up` writes from Terraform's own metadata (project and
instance attributes, ssh-keys, startup-script, the service account), as GCP's server does:
  - every request needs `Metadata-Flavor: Google`, and one carrying `X-Forwarded-For` is refused
    (403), so a proxy on the VM cannot be turned into a path to the tokens;
  - every answer carries `Metadata-Flavor: Google` (clients check it to know they are on GCE);
  - a directory lists its entries (a sub-directory with a trailing /), `?recursive=true` gives
    the subtree as JSON with GCP's camelCase names (`project-id` is `projectId`; the names of
    attributes and accounts are kept), `?alt=json` a value as JSON;
  - service-accounts/<default|email>/token gives an access token (opaque, not a JWT: the GCS
    emulator accepts any), with `expires_in`;
  - instance/guest-attributes/NS/KEY can be written (PUT) and read back, as the guest agent
    publishes the VM's host keys there; they are kept in a file across restarts, as GCP keeps
    them for the VM's life, and are not part of a recursive read of the instance (the agent
    watches that, and its own writes must not wake it);
  - `?wait_for_change=true` answers at once unless `last_etag` matches, then at the next change
    or after `timeout_sec` (at most 60), with an ETag.
Standard library only (the twin has python3 for Ansible).
Usage: server.py TREE.json ADDRESS PORT [GUEST_ATTRIBUTES.json]
"""

import hashlib
import json
import os
import re
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PREFIX = "/computeMetadata/v1/"
TOKEN_SECONDS = 3599
# Directories whose entries are names the user chose: kept as they are in recursive JSON.
NAMED_ENTRIES = {"attributes", "service-accounts", "guest-attributes"}
GUEST = "guest-attributes"


class Tree:
    """The metadata tree, its guest attributes and a condition for wait_for_change."""

    def __init__(self, data, guest_file=None):
        self.guest_file = guest_file
        self.guest = {}
        if guest_file and os.path.exists(guest_file):
            with open(guest_file, encoding="utf-8") as f:
                self.guest = json.load(f)
        data.setdefault("instance", {})[GUEST] = self.guest
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

    def set_guest(self, namespace, key, value):
        """Callers hold self.changed. Written to a new file renamed over the old: never half."""
        self.guest.setdefault(namespace, {})[key] = value
        if self.guest_file:
            tmp = self.guest_file + ".new"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(self.guest, f)
            os.replace(tmp, self.guest_file)

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


def camel(name):
    return re.sub(r"-([a-z])", lambda m: m.group(1).upper(), name)


def as_json(node, parent):
    """GCP's recursive form: camelCase names but for NAMED_ENTRIES' children; guest attributes
    only when asked for themselves."""
    if not isinstance(node, dict):
        return node
    keep = parent in NAMED_ENTRIES
    return {(k if keep else camel(k)): as_json(v, k) for k, v in node.items() if keep or k != GUEST}


def render(node, query, parts):
    if isinstance(node, dict):
        if query.get("recursive") == "true":
            named = GUEST in parts  # namespaces and keys the VM chose: as written
            return json.dumps(node if named else as_json(node, parts[-1])), "application/json"
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
                try:
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a probe, a timeout): nothing to answer to

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
                    body, ctype = render(node, query, parts)
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
                tree.set_guest(parts[4], parts[5], value)
                tree.changed.notify_all()
            self.reply(200, "")

        def log_message(self, fmt, *args):
            # One line per request in the journal (the e2e tests read who asked for a token).
            sys.stderr.write(f"{self.address_string()} {fmt % args}\n")

    return Handler


def main():
    path, address, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(path, encoding="utf-8") as f:
        tree = Tree(json.load(f), sys.argv[4] if len(sys.argv) > 4 else None)
    ThreadingHTTPServer((address, port), handler_for(tree)).serve_forever()


if __name__ == "__main__":
    main()
