"""DataSourceRequest takes only well-formed requests, and says what is wrong."""
import dataclasses

import pytest

from providers.base import DataSourceProvider, DataSourceRequest


def test_a_good_request(operator):
    request = DataSourceRequest(user=operator, requester="planner", query="read SR:RF:CAV3:TEMP", metadata={"run": 7})
    assert request.username == "olga" and request.metadata["run"] == 7
    assert DataSourceRequest(user=None, requester="cli", query="x").username is None


def test_a_request_cannot_change(operator):
    request = DataSourceRequest(user=operator, requester="planner", query="x", metadata={"run": 7})
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.query = "something else"
    with pytest.raises(TypeError):
        request.metadata["run"] = 8


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"query": None}, "query must be the request text \\(a str\\), not NoneType"),
        ({"query": b"bytes"}, "not bytes"),
        ({"query": "   "}, "query is empty"),
        ({"requester": ""}, "requester must name the component asking"),
        ({"requester": None}, "requester must name the component asking"),
        ({"user": "olga"}, "user must be a User or None, not str"),
        ({"metadata": ["run", 7]}, "metadata must be a mapping, not list"),
        ({"metadata": {1: "x"}}, "metadata keys must be strings"),
    ],
)
def test_bad_requests_are_refused_clearly(fields, message):
    good = {"user": None, "requester": "planner", "query": "read SR:RF:CAV3:TEMP"}
    with pytest.raises(ValueError, match=message):
        DataSourceRequest(**{**good, **fields})


@pytest.mark.parametrize("timeout", [0, -1, "2", True])
def test_a_provider_timeout_must_be_positive_seconds(timeout):
    class Source(DataSourceProvider):
        name = "source"

    with pytest.raises(ValueError, match="timeout must be a positive number of seconds"):
        Source(timeout=timeout)
    assert Source(timeout=0.25).timeout == 0.25
