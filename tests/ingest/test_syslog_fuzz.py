"""Fuzz the running syslog listeners: any TCP stream (octet counts right and wrong, newline and NUL framing,
garbage, cut anywhere) and any UDP datagram leave them serving, with no connection left open."""

from __future__ import annotations

import itertools
import socket
from collections.abc import Callable

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loglens.agent import Agent
from server.agent_helpers import scrape, wait_for

MakeAgent = Callable[..., Agent]
#: The facility of the messages sent after the fuzz (local7); the fuzz's own messages use lower ones.
CHECK_PRI = 187

_message = st.builds(
    lambda pri, text: b"<%d>1 - - - - - - %s" % (pri, text),
    st.integers(0, CHECK_PRI - 4),
    st.binary(max_size=80).filter(lambda b: b"\n" not in b and b"\0" not in b),
)
_frame = st.one_of(
    _message.map(lambda m: b"%d %s" % (len(m), m)),  # octet counting
    st.tuples(_message, st.integers(-5, 40)).map(lambda t: b"%d %s" % (max(0, len(t[0]) + t[1]), t[0])),
    _message.map(lambda m: m + b"\n"),
    _message.map(lambda m: m + b"\0"),
    st.binary(max_size=300),
    st.sampled_from([b"99999999999999999999 x", b"0 ", b" ", b"\n\n", b"12", b"-1 x", b"<", b"<999999>"]),
)


def _pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(min(cut, len(data)) for cut in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def _metric(url: str, name: str, **labels: str) -> float:
    return sum(value for (sample, found), value in scrape(url).items()
               if sample == name and set(labels.items()) <= set(found))  # fmt: skip


def _checked(url: str) -> float:
    return _metric(url, "loglens_log_messages_total", source="syslog:local7")


def test_no_stream_or_datagram_stops_the_listeners(make_agent: MakeAgent) -> None:
    agent = make_agent(syslog={"listen": ["udp://127.0.0.1:0", "tcp://127.0.0.1:0"]}, max_sources=200)
    assert agent.syslog is not None
    ports = {kind: port for kind, _, port in agent.syslog.addresses()}

    @given(frames=st.lists(_frame, max_size=8), cuts=st.lists(st.integers(0, 2000), max_size=5))
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def tcp(frames: list[bytes], cuts: list[int]) -> None:
        with socket.create_connection(("127.0.0.1", ports["tcp"]), timeout=10) as connection:
            try:
                for piece in _pieces(b"".join(frames), cuts):
                    connection.sendall(piece)
            except OSError:  # the listener may close a connection whose framing it cannot follow
                pass

    @given(datagram=st.binary(max_size=2000) | _message)
    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def udp(datagram: bytes) -> None:
        sender.sendto(datagram, ("127.0.0.1", ports["udp"]))

    tcp()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        udp()
    wait_for(lambda: _metric(agent.url, "loglens_syslog_connections") == 0, what="every connection closed")
    before = _checked(agent.url)
    check = b"<%d>1 - - - - - - still listening" % CHECK_PRI
    with socket.create_connection(("127.0.0.1", ports["tcp"]), timeout=10) as connection:
        connection.sendall(b"%d %s" % (len(check), check))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.sendto(check, ("127.0.0.1", ports["udp"]))
    wait_for(lambda: _checked(agent.url) == before + 2, what="a message over each transport after the fuzz")
    assert httpx.get(f"{agent.url}/api/health").status_code == 200
