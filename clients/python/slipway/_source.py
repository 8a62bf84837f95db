"""A project folder as the server's content-addressed source (a format-2 bundle, docs/api.md).

The same bundle, byte for byte, as the CLI's (src/bundles/tree.ts): one canonical JSON node per
folder listing, large listings split into pages by the bits of sha256(name), and a record naming the
root. So the hash is the one ``slipway plan --server`` sends, and files the server already has (from
the CLI or from an earlier call) are not sent again.
"""
import hashlib
import json
import os
import re
import stat
import time

from ._errors import SlipwayError
from ._http import Uploader
from ._ignore import IgnoreRules

PAGE_BYTES = 1024
PAGE_BITS = 3
MAX_LEVEL = 256 // PAGE_BITS
# A file changed this close to the moment it was hashed may change again within the same mtime tick:
# it is hashed again next time (as the CLI's capture index does).
RACY_NS = 2_000_000_000
PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def sha256(data):
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode("utf-8")).hexdigest()


def _json(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def project_name(folder):
    """The ``project:`` name of a folder's slipway.yaml (a top-level ``project: NAME`` line)."""
    path = os.path.join(folder, "slipway.yaml")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        raise SlipwayError("project_not_found", f"no slipway.yaml in {folder}", "pass the folder that holds slipway.yaml") from None
    m = re.search(r"^project:[ \t]*[\"']?([^\"'#\s]+)[\"']?[ \t]*(?:#.*)?$", text, re.MULTILINE)
    if not m or not PROJECT_NAME.match(m.group(1)):
        raise SlipwayError("project_not_found", f"{path} needs a `project:` name of lowercase letters, digits, \"-\" and \"_\"", "project: my-project")
    return m.group(1)


def _unsafe(name):
    return name in ("", ".", "..") or "/" in name or "\\" in name or "\0" in name


class Source:
    """The files of a folder (what .gitignore and .slipwayignore leave, never .git), their tree and hash."""

    def __init__(self, folder, hashes=None):
        """``hashes``: a dict kept between scans (path -> stat and sha256), so unchanged files are not read again."""
        self.root = os.path.realpath(folder)
        self._hashes = hashes if hashes is not None else {}
        self.files = {}  # bundle path -> (mode "f"/"x", size, sha256, absolute path)
        self.skipped = []
        self._rules = IgnoreRules()
        self._walk(self.root, "", {self.root})
        self.nodes = {}  # sha256 -> node bytes, children before parents
        self._children = {}  # node -> (child nodes, file hashes)
        root, count, size = self._dir(self._tree())
        self.tree = root
        self.record = _json({"bytes": size, "files": count, "tree": root, "version": 2})
        self.hash = sha256(self.record)

    def _inside(self, real):
        return real == self.root or real.startswith(self.root + os.sep)

    def _walk(self, folder, rel, ancestors):
        names = sorted(os.listdir(folder))
        for rule_file in (".gitignore", ".slipwayignore"):
            if rule_file in names and os.path.isfile(os.path.join(folder, rule_file)) and not os.path.islink(os.path.join(folder, rule_file)):
                with open(os.path.join(folder, rule_file), encoding="utf-8", errors="replace") as f:
                    self._rules.add(f.read(), rel)
        for name in names:
            if name == ".git":
                continue
            path = f"{rel}/{name}" if rel else name
            full = os.path.join(folder, name)
            if _unsafe(name):
                self.skipped.append(path)
                continue
            try:
                st = os.lstat(full)
            except FileNotFoundError:
                continue
            read_from = full
            if stat.S_ISLNK(st.st_mode):
                real = os.path.realpath(full)
                try:
                    st = os.stat(real)
                except OSError:
                    self.skipped.append(path)  # dangling
                    continue
                if not self._inside(real):
                    self.skipped.append(path)  # points outside the folder
                    continue
                read_from = real
            if stat.S_ISDIR(st.st_mode):
                if self._rules.ignores(path, True):
                    continue
                real = os.path.realpath(full)
                if real in ancestors:
                    self.skipped.append(path)  # a link cycle
                    continue
                self._walk(full, path, ancestors | {real})
            elif stat.S_ISREG(st.st_mode):
                if self._rules.ignores(path, False):
                    continue
                key = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
                known = self._hashes.get(read_from)
                if known is not None and known[0] == key:
                    digest, size = known[1], st.st_size
                else:
                    hashed_at = time.time_ns()
                    with open(read_from, "rb") as f:
                        data = f.read()
                    digest, size = sha256(data), len(data)
                    if hashed_at - st.st_mtime_ns > RACY_NS and len(data) == st.st_size:
                        self._hashes[read_from] = (key, digest)
                    else:
                        self._hashes.pop(read_from, None)
                self.files[path] = ("x" if st.st_mode & 0o111 else "f", size, digest, read_from)
            elif not self._rules.ignores(path, False):
                self.skipped.append(path)  # socket, FIFO, device

    def _tree(self):
        top = {}
        for path, info in self.files.items():
            parts = path.split("/")
            d = top
            for part in parts[:-1]:
                d = d.setdefault(part, {})
            d[parts[-1]] = info
        return top

    def _emit(self, data, children, files):
        h = sha256(data)
        if h not in self.nodes:
            self.nodes[h] = data.encode("utf-8")
            self._children[h] = (children, files)
        return h

    def _page(self, entries, level):
        size = 14 + sum(e[1] for e in entries) + max(0, len(entries) - 1)
        if size <= PAGE_BYTES or len(entries) <= 1 or level >= MAX_LEVEL:
            children = [e[3][3] for e in entries if e[3][1] == "d"]
            files = [e[3][3] for e in entries if e[3][1] != "d"]
            return self._emit('{"entries":[' + ",".join(e[0] for e in entries) + "]}", children, files)
        buckets = {}
        for e in entries:
            buckets.setdefault(_page_of(e[2], level), []).append(e)
        pages = [[b, self._page(buckets[b], level + 1)] for b in sorted(buckets)]
        return self._emit(_json({"pages": pages}), [p[1] for p in pages], [])

    def _dir(self, d):
        entries = []
        size = 0
        count = 0
        for name, value in d.items():
            if isinstance(value, dict):
                h, c, s = self._dir(value)
                entries.append([name, "d", s, h])
                size += s
                count += c
            else:
                entries.append([name, value[0], value[1], value[2]])
                size += value[1]
                count += 1
        entries.sort(key=lambda e: e[0])
        encoded = []
        for e in entries:
            text = _json(e)
            encoded.append((text, len(text.encode("utf-8")), hashlib.sha256(e[0].encode("utf-8")).digest(), e))
        return self._page(encoded, 0), count, size

    def upload(self, http):
        """Sends what the server lacks: missing nodes from the root down, their missing files, the nodes (children first), the record."""
        path_of = {}
        for info in self.files.values():
            path_of.setdefault(info[2], info[3])
        missing_nodes = []
        missing_files = {}  # dicts as ordered sets
        frontier = [self.tree]
        while frontier:
            absent = _ask(http, "trees", frontier)
            nxt = {}
            files = {}
            for h in absent:
                missing_nodes.append(h)
                children, node_files = self._children[h]
                nxt.update(dict.fromkeys(children))
                files.update(dict.fromkeys(node_files))
            missing_files.update(dict.fromkeys(_ask(http, "files", list(files))))
            frontier = list(nxt)
        sizes = []

        def reader(sha):
            def read():
                with open(path_of[sha], "rb") as f:
                    data = f.read()
                if sha256(data) != sha:
                    raise SlipwayError("source_changed", f"{path_of[sha]} changed while it was being uploaded", "run the call again")
                sizes.append(len(data))
                return data

            return read

        Uploader(http).put_all([(f"/api/v1/sources/files/{sha}", reader(sha)) for sha in missing_files])
        # nodes one at a time, children before their parents: the server takes a node only once it has what it names
        nodes = Uploader(http)
        nodes.UPLOADS_AT_ONCE = 1
        nodes.put_all([(f"/api/v1/sources/trees/{h}", (lambda h=h: self.nodes[h])) for h in reversed(missing_nodes)])
        sent = sum(sizes) + sum(len(self.nodes[h]) for h in missing_nodes)
        http.json("POST", "/api/v1/sources", body={"manifest": self.record})
        return {"source": self.hash, "files": len(missing_files), "nodes": len(missing_nodes), "bytes": sent}


def _page_of(name_hash, level):
    bit = level * PAGE_BITS
    hi = name_hash[bit >> 3] if (bit >> 3) < len(name_hash) else 0
    lo = name_hash[(bit >> 3) + 1] if (bit >> 3) + 1 < len(name_hash) else 0
    word = (hi << 8) | lo
    return (word >> (16 - PAGE_BITS - (bit & 7))) & ((1 << PAGE_BITS) - 1)


def _ask(http, what, hashes, batch=10000):
    out = []
    for i in range(0, len(hashes), batch):
        doc = http.json("POST", "/api/v1/sources/missing", body={what: hashes[i : i + batch]})
        out.extend(doc["missing"] if what == "files" else doc["missing_trees"])
    return out
