"""HTTP with the standard library: JSON calls, raw uploads and newline-delimited JSON streams."""
import http.client
import json
import threading
import urllib.error
import urllib.parse
import urllib.request

from ._errors import SlipwayError, error_from_answer


def _query_string(query):
    pairs = []
    for key, value in (query or {}).items():
        for v in value if isinstance(value, (list, tuple)) else [value]:
            if v is None:
                continue
            pairs.append((key, "true" if v is True else "false" if v is False else str(v)))
    return urllib.parse.urlencode(pairs)


def fill(path, params):
    """A route's path with its {parameters} filled in, each quoted as one segment."""
    for key, value in params.items():
        path = path.replace("{" + key + "}", urllib.parse.quote(str(value), safe=""))
    return path


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """The API never redirects; following one would send the token to wherever it points."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)
NO_LIMIT = object()


class Http:
    def __init__(self, url, token, timeout):
        self.url = url
        self._token = token
        self.timeout = timeout

    def open(self, method, path, query=None, body=None, raw=None, accept="application/json", timeout=None):
        """``timeout``: seconds for this request (default: the client's), or NO_LIMIT."""
        """Sends a request; answers with the response, or raises the error answer as a SlipwayError."""
        qs = _query_string(query)
        headers = {"Authorization": f"Bearer {self._token}", "Accept": accept, "User-Agent": "slipway-python"}
        data = None
        if raw is not None:
            data = raw
            headers["Content-Type"] = "application/octet-stream"
        elif body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path + ("?" + qs if qs else ""), data=data, headers=headers, method=method)
        try:
            limit = None if timeout is NO_LIMIT else timeout if timeout is not None else self.timeout
            return _opener.open(request, timeout=limit)
        except urllib.error.HTTPError as e:
            raw_body = e.read()
            try:
                answer = json.loads(raw_body)
            except ValueError:
                answer = None
            if not isinstance(answer, dict):
                text = raw_body.decode("utf-8", "replace").strip()[:300]
                raise SlipwayError(f"http_{e.code}", text or f"{self.url} answered {e.code}", None, e.code) from None
            e.close()
            if answer.get("ok") is False and _has_fields(answer):
                # A command that finished unsuccessfully with its document (a failed deploy): an outcome.
                return _Answered(answer, e.code)
            raise error_from_answer(e.code, answer) from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise SlipwayError("server_unreachable", f"cannot reach {self.url}: {reason}", "is the server running (slipway server)? check the URL") from None

    def json(self, method, path, **kwargs):
        """A call answering with one JSON document."""
        response = self.open(method, path, **kwargs)
        if isinstance(response, _Answered):
            return response.document
        with response:
            text = response.read()
        try:
            return json.loads(text)
        except ValueError:
            raise SlipwayError("server_unreachable", f"{self.url} answered something that is not JSON", "check the URL (the server's address, without /api/v1)") from None

    def stream(self, method, path, **kwargs):
        """A call asking for newline-delimited JSON: yields each object as it arrives."""
        response = self.open(method, path, accept="application/x-ndjson", **kwargs)
        if isinstance(response, _Answered):
            yield {"document": response.document}
            return
        with response:
            if "application/x-ndjson" not in (response.headers.get("Content-Type") or ""):
                document = json.loads(response.read())
                yield {"failure": document} if document.get("ok") is False else {"document": document}
                return
            for line in response:
                if line.strip():
                    yield json.loads(line)


class Uploader:
    """PUTs many raw bodies over a few kept-alive connections (a project's missing files).

    One TCP connection per request (urllib) costs more than a small file: a first upload of 2,000
    files took 17 s that way. ``UPLOADS_AT_ONCE`` threads, each with its own http.client connection.
    """

    UPLOADS_AT_ONCE = 4

    def __init__(self, http_):
        self._http = http_
        parsed = urllib.parse.urlsplit(http_.url)
        self._https = parsed.scheme == "https"
        self._host = parsed.hostname
        self._port = parsed.port
        self._base = parsed.path.rstrip("/")
        self._local = threading.local()
        self._connections = []
        self._lock = threading.Lock()

    def _connection(self):
        c = getattr(self._local, "connection", None)
        if c is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            c = cls(self._host, self._port, timeout=self._http.timeout)
            self._local.connection = c
            with self._lock:
                self._connections.append(c)
        return c

    def put(self, path, data):
        headers = {"Authorization": f"Bearer {self._http._token}", "Content-Type": "application/octet-stream", "Accept": "application/json", "User-Agent": "slipway-python"}
        for attempt in (0, 1):
            c = self._connection()
            try:
                c.request("PUT", self._base + path, body=data, headers=headers)
                response = c.getresponse()
                body = response.read()
                break
            except (http.client.HTTPException, OSError) as e:
                # a kept-alive connection the server closed meanwhile: once more on a new one
                c.close()
                self._local.connection = None
                if attempt == 1:
                    raise SlipwayError("server_unreachable", f"cannot reach {self._http.url}: {e}", "is the server running (slipway server)? check the URL") from None
        if response.status >= 300:
            try:
                answer = json.loads(body)
            except ValueError:
                answer = None
            if not isinstance(answer, dict):
                raise SlipwayError(f"http_{response.status}", body.decode("utf-8", "replace").strip()[:300] or f"{self._http.url} answered {response.status}", None, response.status)
            raise error_from_answer(response.status, answer)

    def _proxied(self):
        scheme = "https" if self._https else "http"
        return scheme in urllib.request.getproxies() and not urllib.request.proxy_bypass(self._host)

    def put_all(self, items):
        """``items``: (path, read) pairs, ``read()`` giving the body; the first error is raised."""
        from concurrent.futures import ThreadPoolExecutor

        if self._proxied():
            # through the proxy urllib was told about (http_proxy, ...), one request at a time
            for path, read in items:
                self._http.json("PUT", path, raw=read())
            return

        try:
            with ThreadPoolExecutor(max_workers=self.UPLOADS_AT_ONCE) as pool:
                for future in [pool.submit(lambda p, r: self.put(p, r()), path, read) for path, read in items]:
                    future.result()
        finally:
            for c in self._connections:
                c.close()


def _has_fields(answer):
    return any(k not in ("ok", "error", "error_code", "message", "hint") for k in answer)


class _Answered:
    """An error status whose body is a command's document (it is returned, not raised)."""

    def __init__(self, document, status):
        document = {k: v for k, v in document.items() if k not in ("error_code", "message", "hint")}
        self.document = document
        self.status = status
