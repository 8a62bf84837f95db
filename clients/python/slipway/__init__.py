"""Python client of a Slipway server (docs/python.md). Standard library only."""
from ._errors import AuthenticationError, PermissionDeniedError, SlipwayError
from .client import Endpoints, Models, Run, Slipway

# Shown as slipway.SlipwayError (tracebacks, doctests), where programs import them from.
for _cls in (Slipway, Run, Models, Endpoints, SlipwayError, AuthenticationError, PermissionDeniedError):
    _cls.__module__ = "slipway"

__all__ = ["Slipway", "Run", "Models", "Endpoints", "SlipwayError", "AuthenticationError", "PermissionDeniedError", "__version__"]


def _version():
    try:
        from importlib.metadata import version

        return version("slipway-client")
    except Exception:  # not installed (a checkout on sys.path)
        return "0+unknown"


__version__ = _version()
