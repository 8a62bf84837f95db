"""Every route of the server this client calls, in one table.

The keys are the client's names; the values are (method, path under /api/v1, fields sent). The test
``tests/test_openapi.py`` checks each (method, path) and each field against the server's
``/api/v1/openapi.json``, so a route renamed or removed on the server fails the build instead of
failing a user. Path parameters use the OpenAPI document's names.
"""

# Fields every project route takes (query for GET, JSON body otherwise).
PROJECT_QUERY = ("target", "source", "var", "env_var", "shown_dir")
PROJECT_BODY = ("target", "source", "vars", "env_vars", "shown_dir")

ROUTES = {
    "whoami": ("GET", "/whoami", ()),
    "openapi": ("GET", "/openapi.json", ()),
    # content-addressed upload of a project folder (docs/api.md, "Projects: uploading a source")
    "sources.missing": ("POST", "/sources/missing", ("files", "trees")),
    "sources.file": ("PUT", "/sources/files/{sha256}", ()),
    "sources.tree": ("PUT", "/sources/trees/{sha256}", ()),
    "sources.register": ("POST", "/sources", ("manifest",)),
    # deployments
    "validate": ("GET", "/projects/{project}/validate", PROJECT_QUERY),
    "plan": ("GET", "/projects/{project}/plan", PROJECT_QUERY + ("phase", "module", "with_deps", "reconcile")),
    "deploy": ("POST", "/projects/{project}/deploy", PROJECT_BODY + ("phase", "modules", "with_deps", "reconcile", "yes", "force", "force_unlock", "kill_orphans")),
    "destroy": ("POST", "/projects/{project}/destroy", PROJECT_BODY + ("modules", "yes", "force", "force_unlock", "kill_orphans")),
    "status": ("GET", "/projects/{project}/status", PROJECT_QUERY),
    "history": ("GET", "/projects/{project}/history", PROJECT_QUERY + ("limit",)),
    # runs and jobs
    "run": ("POST", "/projects/{project}/runs", PROJECT_BODY + ("job", "params", "no_cache", "keep_workdir", "from_source")),
    "runs": ("GET", "/projects/{project}/runs", PROJECT_QUERY + ("job", "limit")),
    "runs.show": ("GET", "/projects/{project}/runs/{run}", PROJECT_QUERY),
    "runs.results": ("GET", "/projects/{project}/runs/{run}/results", PROJECT_QUERY),
    "runs.logs": ("GET", "/projects/{project}/runs/{run}/logs", PROJECT_QUERY + ("task", "follow")),
    "runs.cancel": ("POST", "/projects/{project}/runs/{run}/cancel", PROJECT_BODY),
    "jobs": ("GET", "/projects/{project}/jobs", PROJECT_QUERY),
    "archives.list": ("GET", "/projects/{project}/archives/{kind}", PROJECT_QUERY + ("run",)),
    # models and endpoints
    "models.list": ("GET", "/projects/{project}/models", PROJECT_QUERY),
    "models.versions": ("GET", "/projects/{project}/models/{model}/versions", PROJECT_QUERY),
    "models.show": ("GET", "/projects/{project}/models/{ref}", PROJECT_QUERY),
    "models.alias": ("PUT", "/projects/{project}/models/{model}/aliases/{alias}", PROJECT_BODY + ("version",)),
    "endpoints.list": ("GET", "/projects/{project}/endpoints", PROJECT_QUERY),
    "endpoints.logs": ("GET", "/projects/{project}/endpoints/{name}/logs", PROJECT_QUERY + ("limit",)),
}

# The serving gateway on the same port (docs/serving.md): not part of /api/v1 nor of its OpenAPI
# document; it speaks MLflow's scoring protocol.
GATEWAY_ROUTES = {
    "endpoints.query": ("POST", "/serving-endpoints/{name}/invocations"),
}
