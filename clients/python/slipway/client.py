"""The Slipway class: a server's runs, models and endpoints, and plan/deploy/status of a project folder.

It mirrors the TypeScript SDK's remote mode (docs/sdk.md): the same operations, the same documents
(the fields ``slipway ... --json`` prints, snake_case), the same upload of a project folder. Every
call is one or a few HTTP requests with the standard library; nothing is cached between calls.
"""
import os
import time

from ._errors import SlipwayError, error_from_answer
from ._http import NO_LIMIT, Http, fill
from ._routes import GATEWAY_ROUTES, ROUTES
from ._source import PROJECT_NAME, Source, project_name

FINISHED = ("succeeded", "failed", "cancelled", "lost")
_PROGRESS = ("plan", "action_started", "action_finished", "output", "info", "warn", "secrets")


class Slipway:
    """A Slipway server, as one token's user.

    ``url``: the server's address (default ``SLIPWAY_SERVER``). ``token``: a ``swt_...`` token (default
    ``SLIPWAY_TOKEN``). ``project``: a folder holding slipway.yaml (its files are sent, only what the
    server lacks, as the CLI's ``--server`` does) or a project's name (the server's latest source of
    it). ``target``: default target of every call (else the project's default). ``vars``: variables,
    like ``--var``. ``timeout``: seconds to wait for the server on one request (default: no limit,
    like the CLI: a deploy answers when it is done); never applied to following a run's logs.
    """

    def __init__(self, url=None, token=None, *, project=".", target=None, vars=None, timeout=None):
        url = url or os.environ.get("SLIPWAY_SERVER")
        token = token or os.environ.get("SLIPWAY_TOKEN")
        if not url:
            raise SlipwayError("invalid_flag", "no server URL", "Slipway(\"http://127.0.0.1:7878\", token) or set SLIPWAY_SERVER")
        if not url.startswith(("http://", "https://")):
            raise SlipwayError("invalid_flag", f'"{url}" is not an http(s) URL', "for example http://127.0.0.1:7878")
        if not token:
            raise SlipwayError("not_logged_in", "no token for the server", "pass token=, or set SLIPWAY_TOKEN (a token from `slipway tokens create`)")
        self.url = url.rstrip("/")
        self.project = project
        self.target = target
        self.vars = dict(vars or {})
        self._http = Http(self.url, token, timeout)
        self._hashes = {}  # the folder's files as last hashed (stat -> sha256): unchanged files are not read again
        self.models = Models(self)
        self.endpoints = Endpoints(self)

    def __repr__(self):  # never the token
        return f"Slipway({self.url!r}, project={self.project!r}, target={self.target!r})"

    # ---- identity
    def whoami(self):
        """The token's user: ``{name, kind, admin, groups, ...}``."""
        return self._api("whoami")

    # ---- deployments of the project
    def validate(self, *, target=None):
        """Checks the project files for one target on the server: ``{project, target, modules, resources, by_kind}``.

        Invalid files raise SlipwayError (``invalid_config``, ...) with every problem in ``diagnostics``.
        """
        return self._project("validate", target=target)

    def plan(self, *, phase=None, modules=None, with_deps=None, target=None, on_event=None):
        """What a deploy would change: the ``plan`` document (``plan.summary``, ``plan.actions``)."""
        return self._project("plan", {"phase": phase, "module": modules, "with_deps": with_deps}, target=target, on_event=on_event)

    def deploy(self, *, phase=None, modules=None, with_deps=None, yes=False, force=False, target=None, on_event=None):
        """Applies the plan on the server. A failed action is an outcome, not an exception: check ``status``."""
        return self._project("deploy", {"phase": phase, "modules": modules, "with_deps": with_deps, "yes": yes, "force": force}, target=target, on_event=on_event)

    def destroy(self, *, modules=None, yes=False, force=False, target=None, on_event=None):
        """Removes what is deployed to the target (or some modules)."""
        return self._project("destroy", {"modules": modules, "yes": yes, "force": force}, target=target, on_event=on_event)

    def status(self, *, target=None):
        """What is deployed: revision, modules, resources, pending changes, lock."""
        return self._project("status", target=target)

    def history(self, limit=50, *, target=None):
        """Deployments of the target, newest first."""
        return self._project("history", {"limit": limit}, target=target)["deployments"]

    # ---- runs
    def run(self, job, params=None, target=None, *, no_cache=False):
        """Starts a run of a deployed job on the server's executor; returns its Run at once (queued)."""
        doc = self._project("run", {"job": job, "params": {k: str(v) for k, v in (params or {}).items()}, "no_cache": no_cache}, target=target)
        return Run(self, doc["id"], doc.get("target") or target, doc)

    def get_run(self, run_id, target=None):
        """The Run of an id (or a unique prefix) from an earlier program or the CLI; nothing is checked until used."""
        return Run(self, run_id, target)

    def runs(self, job=None, limit=50, *, target=None):
        """Run summaries of the target, newest first."""
        return self._project("runs", {"job": job, "limit": limit}, target=target)["runs"]

    def jobs(self, *, target=None):
        """The target's deployed jobs."""
        return self._project("jobs", target=target)["jobs"]

    def archives(self, kind, run=None, *, target=None):
        """One archive kind's blobs for the target (``slipway archives list KIND``): the document with
        ``groups`` of ``entries`` (``key``, ``size``, ``modified``); ``run`` limits it to one run's."""
        return self._project("archives.list", {"run": run}, path_params={"kind": kind}, target=target)

    # ---- plumbing
    def _api(self, key, params=None, **kwargs):
        method, path, _ = ROUTES[key]
        return self._http.json(method, "/api/v1" + fill(path, params or {}), **kwargs)

    def _where(self):
        """(project name, Source or None) of ``self.project``: a folder is scanned on every call."""
        p = self.project
        if isinstance(p, str) and PROJECT_NAME.match(p) and not os.path.isfile(os.path.join(p, "slipway.yaml")):
            return p, None
        folder = os.fspath(p)
        if not os.path.isdir(folder):
            raise SlipwayError("project_not_found", f"{folder} is neither a project folder nor a project name", "pass the folder that holds slipway.yaml, or the project's name")
        return project_name(folder), Source(folder, self._hashes)

    def _project(self, key, fields=None, path_params=None, target=None, on_event=None, on_line=None, timeout=None):
        """Calls a project route with the folder's source, uploading it once when the server lacks it."""
        method, path, _ = ROUTES[key]
        name, source = self._where()
        url = "/api/v1" + fill(path, {"project": name, **(path_params or {})})
        common = {"target": target or self.target, "source": source.hash if source else None}
        if source is not None:
            common["shown_dir"] = os.path.relpath(source.root) if not os.path.relpath(source.root).startswith("..") else source.root
        env_vars = {k[len("SLIPWAY_VAR_"):]: v for k, v in os.environ.items() if k.startswith("SLIPWAY_VAR_")}
        given = {k: v for k, v in (fields or {}).items() if v is not None}
        if method == "GET":
            request = {"query": {**common, "var": [f"{k}={v}" for k, v in self.vars.items()], "env_var": [f"{k}={v}" for k, v in env_vars.items()], **given}}
        else:
            request = {"body": {k: v for k, v in {**common, "vars": self.vars, "env_vars": env_vars, **given}.items() if v is not None}}
        request["timeout"] = timeout
        for attempt in (0, 1):
            try:
                if on_event is None and on_line is None:
                    return self._http.json(method, url, **request)
                return self._streamed(method, url, request, on_event, on_line)
            except SlipwayError as e:
                # The server lacks this source: upload what it lacks, once, and ask again.
                if e.error_code == "unknown_source" and source is not None and attempt == 0:
                    source.upload(self._http)
                    continue
                raise

    def _streamed(self, method, url, request, on_event, on_line):
        for line in self._http.stream(method, url, **request):
            if not isinstance(line, dict):
                continue  # not an event of docs/api.md: ignored rather than trusted
            if isinstance(line.get("document"), dict):
                return line["document"]
            if isinstance(line.get("failure"), dict):
                raise error_from_answer(None, line["failure"])
            if on_line is not None and isinstance(line.get("task"), str) and isinstance(line.get("line"), str):
                on_line(line["task"], line["line"])
            elif on_event is not None and any(k in line for k in _PROGRESS):
                on_event(line)
        raise SlipwayError("server_unreachable", f"{self.url} ended the answer without a document", "see the server's log")


class Run:
    """A run on the server. ``id`` is known at once; everything else is asked when called."""

    def __init__(self, client, run_id, target=None, summary=None):
        self._client = client
        self.id = run_id
        self.target = target
        self._summary = summary or {}

    def __repr__(self):
        return f"Run({self.id!r})"

    @property
    def job(self):
        return self._summary.get("job") or self.details()["job"]

    @property
    def status(self):
        """The run's status now: queued, running, succeeded, failed, cancelled or lost."""
        return self.details()["status"]

    def details(self):
        """The run as it is now, like ``slipway runs show --json``: tasks, timings, results, provenance."""
        doc = self._client._project("runs.show", path_params={"run": self.id}, target=self.target)
        self._summary = doc
        return doc

    def wait(self, timeout=None, on_line=None):
        """Waits until the run has finished and returns its details; a failed run is returned, not raised.

        Without ``timeout`` it follows the run's log stream (no polling); ``on_line(task, line)``
        receives each log line as it comes. With ``timeout`` (seconds) it checks every 0.2 s and raises
        TimeoutError when the run has not finished by then (the run goes on; ``cancel()`` stops it).
        """
        if timeout is None:
            try:
                # a run may print nothing for hours: no read timeout on this stream
                self._client._project("runs.logs", {"follow": True}, path_params={"run": self.id}, target=self.target, on_line=on_line or (lambda task, line: None), timeout=NO_LIMIT)
            except SlipwayError as e:
                if e.error_code != "run_failed":
                    raise
            return self.details()
        deadline = time.monotonic() + timeout
        while True:
            doc = self.details()
            if doc["status"] in FINISHED:
                return doc
            if time.monotonic() >= deadline:
                raise TimeoutError(f"run {self.id} is still {doc['status']} after {timeout} s")
            time.sleep(0.2)

    def results(self):
        """What the run wrote to $SLIPWAY_OUTPUT_DIR/results.json, or None."""
        return self._client._project("runs.results", path_params={"run": self.id}, target=self.target)["results"]

    def metrics(self):
        """What the run wrote to metrics.json, or None."""
        return self._client._project("runs.results", path_params={"run": self.id}, target=self.target)["metrics"]

    def logs(self, task=None):
        """The log lines so far (masked), ``[{"task", "line"}, ...]``, of every task or one."""
        return self._client._project("runs.logs", {"task": task}, path_params={"run": self.id}, target=self.target)["lines"]

    def artifacts(self):
        """The files the job declared as artifacts, kept in the artifacts archive: ``[{"key", "size", "modified"}]``."""
        listing = self._client._project("archives.list", {"run": self.id}, path_params={"kind": "artifacts"}, target=self.target)
        return [e for g in listing["groups"] for e in g["entries"]]

    def cancel(self):
        """Stops the run; raises SlipwayError ``run_finished`` when it has already finished."""
        return self._client._project("runs.cancel", path_params={"run": self.id}, target=self.target)


class Models:
    """The model registry of the project's target (docs/models.md)."""

    def __init__(self, client):
        self._client = client

    def list(self, *, target=None):
        """Every model with its latest version, count and aliases."""
        return self._client._project("models.list", target=target)["models"]

    def versions(self, model, *, target=None):
        """Versions of one model, newest first: aliases, metrics, tags, lineage, files."""
        return self._client._project("models.versions", path_params={"model": model}, target=target)["versions"]

    def get(self, ref, *, target=None):
        """One version: ``"iris@3"``, ``"iris@champion"`` or ``"iris"`` (the latest)."""
        return _fields(self._client._project("models.show", path_params={"ref": ref}, target=target))

    def set_alias(self, model, alias, version, *, target=None):
        """Points an alias at a version; returns that version."""
        return _fields(self._client._project("models.alias", {"version": int(version)}, path_params={"model": model, "alias": alias}, target=target))


class Endpoints:
    """Serving endpoints: listed through the API, queried through the server's gateway (MLflow scoring)."""

    def __init__(self, client):
        self._client = client

    def list(self, *, target=None):
        """The target's endpoints: URL, served versions, readiness, expiry."""
        return self._client._project("endpoints.list", target=target)["endpoints"]

    def logs(self, name, limit=None, *, target=None):
        """The latest rows of the endpoint's inference table."""
        return self._client._project("endpoints.logs", {"limit": limit}, path_params={"name": name}, target=target)["requests"]

    def query(self, name, data):
        """Scores ``data`` on endpoint ``name`` and returns the answer's JSON (``{"predictions": ...}``).

        ``data``: a list of dicts (``dataframe_records``), a dict of columns (``{"a": [1, 2], "b":
        [3, 4]}``, sent as ``dataframe_split``), a pandas DataFrame (anything with ``to_dict(orient=
        "split")``), or a body MLflow already understands (a dict with one of ``inputs``, ``instances``,
        ``dataframe_split``, ``dataframe_records``), sent as it is.
        """
        method, path = GATEWAY_ROUTES["endpoints.query"]
        return self._client._http.json(method, fill(path, {"name": name}), body=mlflow_body(data))


MLFLOW_KEYS = ("inputs", "instances", "dataframe_split", "dataframe_records")


def mlflow_body(data):
    """The MLflow scoring body of records, columns, a DataFrame or an MLflow body."""
    if callable(getattr(data, "to_dict", None)) and not isinstance(data, dict):
        split = data.to_dict(orient="split")
        return {"dataframe_split": {"columns": [str(c) for c in split["columns"]], "data": [list(row) for row in split["data"]]}}
    if isinstance(data, dict):
        if len(data) == 1 and next(iter(data)) in MLFLOW_KEYS:
            return data
        columns = list(data)
        values = [list(data[c]) for c in columns]
        lengths = {len(v) for v in values}
        if len(lengths) > 1:
            raise SlipwayError("invalid_request", f"the columns have different lengths ({', '.join(f'{c}: {len(v)}' for c, v in zip(columns, values))})", "give every column the same number of values")
        return {"dataframe_split": {"columns": columns, "data": [list(row) for row in zip(*values)]}}
    if isinstance(data, (list, tuple)) and all(isinstance(r, dict) for r in data):
        return {"dataframe_records": list(data)}
    if isinstance(data, (list, tuple)):
        return {"inputs": list(data)}
    raise SlipwayError("invalid_request", f"cannot score a {type(data).__name__}", "pass a list of dicts, a dict of columns, a pandas DataFrame or an MLflow body")


def _fields(doc):
    return {k: v for k, v in doc.items() if k != "ok"}


__all__ = ["Slipway", "Run", "Models", "Endpoints", "mlflow_body"]
