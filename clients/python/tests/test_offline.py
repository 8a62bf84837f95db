"""What needs no server: request bodies, ignore rules, errors and the source's hash."""
import os
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from slipway import Slipway, SlipwayError
from slipway._ignore import IgnoreRules
from slipway._source import Source
from slipway.client import mlflow_body

from ._server import PROJECT


class FakeFrame:
    """Duck-typed like a pandas DataFrame: only to_dict(orient="split")."""

    def to_dict(self, orient):
        assert orient == "split"
        return {"index": [0, 1], "columns": ["a", "b"], "data": [[0.1, 0.2], [0.4, 0.3]]}


class BodiesTest(unittest.TestCase):
    def test_records(self):
        self.assertEqual(mlflow_body([{"a": 1, "b": 2}]), {"dataframe_records": [{"a": 1, "b": 2}]})

    def test_columns(self):
        self.assertEqual(mlflow_body({"a": [1, 3], "b": [2, 4]}), {"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2], [3, 4]]}})

    def test_dataframe(self):
        self.assertEqual(mlflow_body(FakeFrame()), {"dataframe_split": {"columns": ["a", "b"], "data": [[0.1, 0.2], [0.4, 0.3]]}})

    def test_mlflow_body_as_is(self):
        self.assertEqual(mlflow_body({"inputs": [[1, 2]]}), {"inputs": [[1, 2]]})

    def test_ragged_columns(self):
        with self.assertRaises(SlipwayError) as caught:
            mlflow_body({"a": [1, 2], "b": [3]})
        self.assertEqual(caught.exception.error_code, "invalid_request")
        self.assertIn("a: 2, b: 1", caught.exception.message)


class IgnoreTest(unittest.TestCase):
    def rules(self, text, folder=""):
        r = IgnoreRules()
        r.add(text, folder)
        return r

    def test_patterns(self):
        r = self.rules("*.log\n!keep.log\nbuild/\n/top.txt\ndocs/*.md\n**/cache\n")
        self.assertTrue(r.ignores("a/b/x.log", False))
        self.assertFalse(r.ignores("a/keep.log", False))
        self.assertTrue(r.ignores("a/build", True))
        self.assertFalse(r.ignores("a/build", False))
        self.assertTrue(r.ignores("top.txt", False))
        self.assertFalse(r.ignores("a/top.txt", False))
        self.assertTrue(r.ignores("docs/x.md", False))
        self.assertFalse(r.ignores("docs/sub/x.md", False))
        self.assertTrue(r.ignores("x/y/cache", True))

    def test_nested_file_applies_below_its_folder(self):
        r = self.rules("*.tmp\n/only-here\n", "sub")
        self.assertTrue(r.ignores("sub/a/b.tmp", False))
        self.assertFalse(r.ignores("b.tmp", False))
        self.assertTrue(r.ignores("sub/only-here", False))
        self.assertFalse(r.ignores("sub/a/only-here", False))


class SourceTest(unittest.TestCase):
    def test_unchanged_files_are_not_read_again(self):
        import tempfile

        from slipway import _source

        with tempfile.TemporaryDirectory() as folder:
            for name in ("slipway.yaml", "a.txt", "b.txt"):
                with open(os.path.join(folder, name), "w") as f:
                    f.write(f"{name}\n")
                os.utime(os.path.join(folder, name), (1_000_000_000, 1_000_000_000))  # long ago: not racy
            hashes = {}
            first = Source(folder, hashes)
            reads = []

            def counting_open(path, *args, **kwargs):
                reads.append(os.path.basename(path))
                return open(path, *args, **kwargs)

            _source.open = counting_open
            try:
                self.assertEqual(Source(folder, hashes).hash, first.hash)
                self.assertEqual(reads, [])
                with open(os.path.join(folder, "b.txt"), "w") as f:
                    f.write("changed\n")
                changed = Source(folder, hashes)
                self.assertEqual(reads, ["b.txt"])
                self.assertNotEqual(changed.hash, first.hash)
                self.assertEqual(changed.hash, Source(folder).hash)
            finally:
                del _source.open


class ClientTest(unittest.TestCase):
    def test_token_is_never_shown(self):
        sw = Slipway("http://127.0.0.1:9", "swt_secret-value")
        self.assertNotIn("swt_secret-value", repr(sw))

    def test_needs_a_token(self):
        saved = os.environ.pop("SLIPWAY_TOKEN", None)
        try:
            with self.assertRaises(SlipwayError) as caught:
                Slipway("http://127.0.0.1:9")
            self.assertEqual(caught.exception.error_code, "not_logged_in")
        finally:
            if saved is not None:
                os.environ["SLIPWAY_TOKEN"] = saved

    def test_unreachable_server(self):
        with self.assertRaises(SlipwayError) as caught:
            Slipway("http://127.0.0.1:9", "swt_x").whoami()
        self.assertEqual(caught.exception.error_code, "server_unreachable")

    def test_redirects_are_not_followed_with_the_token(self):
        seen = []

        class Elsewhere(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                seen.append(self.headers.get("Authorization"))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")

        elsewhere = ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)

        class Redirecting(Elsewhere):
            def do_GET(self):
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.1:{elsewhere.server_port}/steal")
                self.end_headers()

        redirecting = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
        for server in (elsewhere, redirecting):
            threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with self.assertRaises(SlipwayError) as caught:
                Slipway(f"http://127.0.0.1:{redirecting.server_port}", "swt_secret-value").whoami()
            self.assertEqual((caught.exception.error_code, caught.exception.status), ("http_302", 302))
            self.assertEqual(seen, [])
        finally:
            for server in (elsewhere, redirecting):
                server.shutdown()
                server.server_close()

    @unittest.skipUnless(os.environ.get("SLIPWAY_TEST_SOURCE_HASH") and PROJECT, "needs the CLI's hash of the project (client.test.ts)")
    def test_same_source_hash_as_the_cli(self):
        self.assertEqual(Source(PROJECT).hash, os.environ["SLIPWAY_TEST_SOURCE_HASH"])


if __name__ == "__main__":
    unittest.main()
