"""Where the tests find the server: test/python-client/client.test.ts starts a real one and sets these.

SLIPWAY_TEST_URL, SLIPWAY_TEST_TOKEN (an administrator's token) and SLIPWAY_TEST_PROJECT (a copy of
examples/python). Without them the server tests are skipped (the node test fails on skips).
"""
import os
import unittest

URL = os.environ.get("SLIPWAY_TEST_URL")
TOKEN = os.environ.get("SLIPWAY_TEST_TOKEN")
PROJECT = os.environ.get("SLIPWAY_TEST_PROJECT")

needs_server = unittest.skipUnless(URL and TOKEN and PROJECT, "needs SLIPWAY_TEST_URL, SLIPWAY_TEST_TOKEN and SLIPWAY_TEST_PROJECT (run test/python-client/client.test.ts)")
