"""The site server: real HTTP on 127.0.0.1, one site at a time, errors contained, the port freed on close."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest

from hiper_gym.web.server import SiteServer
from hiper_gym.web.site import Request, Response, Site, route


class Echo(Site):
    @route("GET", "/hello")
    def hello(self, request: Request) -> Response:
        return Response(f"hello {request.get('name')} {request.cookies.get('sid', '-')}")

    @route("POST", "/form")
    def form(self, request: Request) -> Response:
        self.state["posted"] = dict(request.form)
        return Response("ok")

    @route("GET", "/boom")
    def boom(self, request: Request) -> Response:
        raise ValueError("site bug")


@pytest.fixture
def server():
    server = SiteServer()
    yield server
    server.close()


def _get(url: str, **kwargs) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, **kwargs), timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_serves_the_current_site_on_loopback(server):
    assert server.url("/x").startswith("http://127.0.0.1:")
    assert _get(server.url("/hello"))[0] == 503  # no site yet
    server.serve(Echo())
    assert _get(server.url("/hello?name=ann"), headers={"Cookie": "sid=abc"}) == (200, "hello ann abc")
    assert server.requests[-1] == ("GET", f"127.0.0.1:{server.port}", "/hello?name=ann")


def test_posted_forms_reach_the_site(server):
    site = Echo()
    server.serve(site)
    assert _get(server.url("/form"), data=b"a=1&b=two+words&c=")[0] == 200
    assert site.state["posted"] == {"a": "1", "b": "two words", "c": ""}


def test_a_site_that_raises_answers_500_and_the_server_lives_on(server):
    server.serve(Echo())
    assert _get(server.url("/boom"))[0] == 500
    assert "site bug" in server.errors[-1]
    assert _get(server.url("/hello"))[0] == 200


def test_close_frees_the_port(server):
    port = server.port
    server.close()
    server.close()  # idempotent
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
