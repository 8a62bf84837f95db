"""The ignore rules of a project folder: .gitignore and .slipwayignore files, as the CLI reads them.

Each file's patterns apply below its own folder; later rules win; ``!pattern`` re-includes;
``pattern/`` matches folders only; a pattern with a slash at its start or middle is anchored to its
folder, one without matches at any depth. ``*``, ``?``, ``[...]`` and ``**`` are git's.
"""
import re


def _glob(body):
    """A gitignore glob as a regular expression (without anchors)."""
    out = []
    i = 0
    n = len(body)
    while i < n:
        c = body[i]
        if c == "\\" and i + 1 < n:
            out.append(re.escape(body[i + 1]))
            i += 2
            continue
        if c == "*":
            if body.startswith("**", i):
                before_ok = i == 0 or body[i - 1] == "/"
                after = body[i + 2 : i + 3]
                if before_ok and after == "/":
                    out.append("(?:.*/)?")  # "**/": any folders, or none
                    i += 3
                    continue
                if before_ok and after == "":
                    out.append(".*")  # trailing "/**": everything inside
                    i += 2
                    continue
            out.append("[^/]*")
            i += 1
            continue
        if c == "?":
            out.append("[^/]")
            i += 1
            continue
        if c == "[":
            j = i + 1
            if j < n and body[j] in "!^":
                j += 1
            if j < n and body[j] == "]":
                j += 1
            while j < n and body[j] != "]":
                j += 1
            if j >= n:
                out.append(re.escape(c))
                i += 1
                continue
            inner = body[i + 1 : j]
            negate = inner[:1] in ("!", "^")
            if negate:
                inner = inner[1:]
            inner = inner.replace("\\", "\\\\")
            out.append("[" + ("^" if negate else "") + inner + "]")
            i = j + 1
            continue
        out.append(re.escape(c))
        i += 1
    return "".join(out)


class IgnoreRules:
    def __init__(self):
        self._rules = []  # (regex, negated, folders_only)

    def add(self, text, folder):
        """Adds the lines of an ignore file found in ``folder`` (posix, relative to the root; "" for the root)."""
        for raw in re.split(r"\r?\n", text):
            if raw.strip() == "" or raw.startswith("#"):
                continue
            negated = raw.startswith("!")
            body = raw[1:] if negated else raw
            body = re.sub(r"(?<!\\) +$", "", body)  # trailing unescaped spaces are insignificant
            if body.startswith("\\#") or body.startswith("\\!"):
                body = body[1:]
            if body in ("", "/"):
                continue
            folders_only = body.endswith("/")
            core = body[:-1] if folders_only else body
            anchored = "/" in core
            core = core.lstrip("/")
            pattern = _glob(core)
            prefix = re.escape(folder) + "/" if folder else ""
            regex = prefix + pattern if anchored else prefix + "(?:.*/)?" + pattern
            self._rules.append((re.compile(regex + r"\Z", re.DOTALL), negated, folders_only))

    def ignores(self, path, is_folder):
        ignored = False
        for regex, negated, folders_only in self._rules:
            if folders_only and not is_folder:
                continue
            if regex.match(path):
                ignored = not negated
        return ignored
