"""The client against a real server: deploy a folder, run, wait, results, logs, models, endpoints, errors."""
import os
import unittest

from slipway import AuthenticationError, Slipway, SlipwayError
from slipway._source import Source

from ._server import PROJECT, TOKEN, URL, needs_server


class FakeFrame:
    def to_dict(self, orient):
        return {"index": [0, 1], "columns": ["a", "b"], "data": [[0.1, 0.2], [0.4, 0.3]]}


@needs_server
class ServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sw = Slipway(URL, TOKEN, project=PROJECT)
        # phase 1 (the job and the model), a run that registers version 1, then the endpoint (phase 2)
        cls.first_plan = cls.sw.plan(phase=1)
        cls.events = []
        cls.first_deploy = cls.sw.deploy(phase=1, on_event=cls.events.append)
        cls.first_run = cls.sw.run("train")
        cls.first_run.wait()
        cls.second_deploy = cls.sw.deploy()

    def test_plan_and_deploy_a_folder(self):
        self.assertEqual(self.first_plan["summary"]["create"], 5)
        self.assertEqual([a["address"] for a in self.first_plan["actions"] if a["address"] == "job.train"], ["job.train"])
        self.assertEqual(self.first_deploy["status"], "succeeded")
        self.assertEqual(self.first_deploy["revision"], 1)
        self.assertTrue(any("plan" in e for e in self.events), "progress events reach on_event")
        self.assertTrue(any("action_finished" in e and e["action_finished"]["address"] == "job.train" for e in self.events))
        self.assertEqual(self.second_deploy["status"], "succeeded")
        self.assertEqual(self.second_deploy["summary"]["create"], 2)  # endpoint.scorer-dev and its permission

    def test_validate(self):
        self.assertEqual(self.sw.validate()["by_kind"], {"module": 1, "model": 1, "permission": 3, "job": 1, "endpoint": 1})

    def test_invalid_files_name_the_callers_file(self):
        import shutil
        import tempfile

        with tempfile.TemporaryDirectory() as scratch:
            broken = os.path.join(scratch, "broken")
            shutil.copytree(PROJECT, broken)
            # another project name: the upload becomes that project's latest source, not scoring's
            with open(os.path.join(broken, "slipway.yaml")) as f:
                text = f.read().replace("project: scoring", "project: scoring-broken")
            with open(os.path.join(broken, "slipway.yaml"), "w") as f:
                f.write(text)
            with open(os.path.join(broken, "modules", "app", "module.yaml"), "a") as f:
                f.write("  bogus: 1\n")
            with self.assertRaises(SlipwayError) as caught:
                Slipway(URL, TOKEN, project=broken).plan()
        e = caught.exception
        self.assertEqual((e.error_code, e.status), ("invalid_config", 400))
        self.assertEqual([(d["file"], d["message"]) for d in e.diagnostics], [(os.path.join(os.path.realpath(broken), "modules", "app", "module.yaml"), 'unknown key "bogus" in resources')])

    def test_status_and_an_unchanged_deploy(self):
        status = self.sw.status()
        self.assertEqual((status["project"], status["target"]), ("scoring", "dev"))
        self.assertGreaterEqual(status["revision"], 2)
        self.assertEqual(status["pending"]["create"] + status["pending"]["update"] + status["pending"]["delete"], 0)
        self.assertEqual(self.sw.deploy()["status"], "no-changes")
        self.assertEqual(self.sw.history(1)[0]["operation"], "deploy")

    def test_upload_sends_only_what_the_server_lacks(self):
        extra = os.path.join(PROJECT, "modules", "app", "src", "notes.txt")
        with open(extra, "w") as f:
            f.write("one changed file\n")
        try:
            sent = Source(PROJECT).upload(self.sw._http)
            # the new file, and the listings on its path: src, app, modules and the root
            self.assertEqual((sent["files"], sent["nodes"]), (1, 4))
            self.assertEqual(Source(PROJECT).upload(self.sw._http)["files"], 0)
        finally:
            os.remove(extra)

    def test_run_wait_status_results_logs(self):
        run = self.sw.run("train", {"threshold": 0.6})
        self.assertTrue(run.id.startswith("r"))
        lines = []
        done = run.wait(on_line=lambda task, line: lines.append((task, line)))
        self.assertEqual(done["status"], "succeeded")
        self.assertEqual(run.status, "succeeded")
        self.assertEqual(done["params"], {"threshold": "0.6", "seconds": "0"})
        self.assertEqual(run.results()["threshold"], 0.6)
        self.assertEqual(run.metrics(), {"accuracy": 0.9})
        self.assertIn(("main", "training with threshold 0.6"), lines)
        self.assertEqual([l["line"] for l in run.logs()], ["training with threshold 0.6", "wrote the model"])
        self.assertEqual(self.sw.get_run(run.id).status, "succeeded")
        self.assertIn(run.id, [r["id"] for r in self.sw.runs(job="train")])

    def test_wait_with_a_timeout(self):
        run = self.sw.run("train")
        self.assertEqual(run.wait(timeout=120)["status"], "succeeded")

    def test_a_silent_run_outlasts_the_request_timeout(self):
        impatient = Slipway(URL, TOKEN, project=PROJECT, timeout=1)
        run = impatient.run("train", {"seconds": 2})  # prints nothing for 2 s
        self.assertEqual(run.wait()["status"], "succeeded")

    def test_wait_timeout_then_cancel(self):
        run = self.sw.run("train", {"seconds": 60})
        with self.assertRaises(TimeoutError):
            run.wait(timeout=0.5)
        self.assertIn(run.cancel()["status"], ("cancelled", "running", "queued"))
        self.assertEqual(run.wait()["status"], "cancelled")

    def test_cancel_a_finished_run(self):
        with self.assertRaises(SlipwayError) as caught:
            self.first_run.cancel()
        self.assertEqual(caught.exception.error_code, "run_finished")

    def test_models(self):
        models = self.sw.models.list()
        self.assertEqual([m["model"] for m in models], ["scorer"])
        self.assertGreaterEqual(models[0]["latest_version"], 1)
        first = self.sw.models.get("scorer@1")
        self.assertEqual((first["model"], first["version"], first["flavor"]), ("scorer", 1, "command"))
        self.assertEqual(first["lineage"]["run"], self.first_run.id)
        self.assertEqual(self.sw.models.versions("scorer")[-1]["version"], 1)

    def test_endpoints(self):
        self.assertEqual(self.sw.endpoints.query("scorer-dev", [{"a": 0.1, "b": 0.2}, {"a": 0.4, "b": 0.3}]), {"predictions": [0, 1]})
        self.assertEqual(self.sw.endpoints.query("scorer-dev", {"a": [0.1, 0.4], "b": [0.2, 0.3]}), {"predictions": [0, 1]})
        self.assertEqual(self.sw.endpoints.query("scorer-dev", FakeFrame()), {"predictions": [0, 1]})
        self.assertEqual(self.sw.endpoints.query("scorer-dev", {"inputs": [[1, 1]]}), {"predictions": [1]})
        listed = self.sw.endpoints.list()
        self.assertEqual([e["name"] for e in listed], ["scorer-dev"])
        self.assertTrue(listed[0]["url"].endswith("/serving-endpoints/scorer-dev/invocations"))
        self.assertGreaterEqual(len(self.sw.endpoints.logs("scorer-dev", 2)), 1)

    def test_unknown_endpoint(self):
        with self.assertRaises(SlipwayError) as caught:
            self.sw.endpoints.query("no-such-endpoint", [{"a": 1}])
        self.assertEqual((caught.exception.error_code, caught.exception.status), ("RESOURCE_DOES_NOT_EXIST", 404))

    def test_unknown_job(self):
        with self.assertRaises(SlipwayError) as caught:
            self.sw.run("nope")
        e = caught.exception
        self.assertEqual((e.error_code, e.status), ("unknown_job", 404))
        self.assertIn('no job "nope"', e.message)
        self.assertTrue(hasattr(e, "hint"))
        self.assertIn("unknown_job", str(e))

    def test_invalid_input_has_diagnostics(self):
        with self.assertRaises(SlipwayError) as caught:
            self.sw.run("train", {"thresold": "1"})
        e = caught.exception
        self.assertEqual(e.error_code, "unknown_param")
        self.assertTrue(e.diagnostics and e.diagnostics[0]["message"])

    def test_bad_token(self):
        with self.assertRaises(AuthenticationError) as caught:
            Slipway(URL, "swt_not-a-token", project=PROJECT).status()
        e = caught.exception
        self.assertEqual((e.error_code, e.status), ("unauthenticated", 401))
        self.assertTrue(e.hint)

    def test_project_by_name(self):
        by_name = Slipway(URL, TOKEN, project="scoring")
        self.assertEqual(by_name.status()["project"], "scoring")
        self.assertGreaterEqual(len(by_name.runs()), 1)
        self.assertEqual(by_name.whoami()["user"], "admin")


if __name__ == "__main__":
    unittest.main()
