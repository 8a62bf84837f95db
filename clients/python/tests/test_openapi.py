"""Every route the client calls exists in the server's OpenAPI document, with every field it sends."""
import json
import unittest
import urllib.request

from slipway._routes import ROUTES

from ._server import URL, needs_server


@needs_server
class OpenApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with urllib.request.urlopen(URL + "/api/v1/openapi.json") as response:
            cls.doc = json.load(response)

    def test_every_route_exists(self):
        missing = [f"{key}: {method} /api/v1{path}" for key, (method, path, _) in ROUTES.items() if method.lower() not in self.doc["paths"].get("/api/v1" + path, {})]
        self.assertEqual(missing, [], "routes the Python client calls that the server's OpenAPI document lacks")

    def test_every_field_exists(self):
        unknown = []
        for key, (method, path, fields) in ROUTES.items():
            operation = self.doc["paths"]["/api/v1" + path][method.lower()]
            if method in ("GET", "DELETE"):
                known = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            else:
                schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
                known = set(schema.get("properties", {}))
            unknown += [f"{key}: {field}" for field in fields if field not in known]
        self.assertEqual(unknown, [], "fields the Python client sends that the server's OpenAPI document does not take")

    def test_path_parameters_match(self):
        for key, (method, path, _) in ROUTES.items():
            operation = self.doc["paths"]["/api/v1" + path][method.lower()]
            declared = sorted(p["name"] for p in operation.get("parameters", []) if p["in"] == "path")
            used = sorted(part[1:-1] for part in path.split("/") if part.startswith("{"))
            self.assertEqual(used, declared, key)


if __name__ == "__main__":
    unittest.main()
