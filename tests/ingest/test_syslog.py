"""Syslog over UDP and TCP into ``loglens run``: util-linux ``logger`` and rsyslog's ``omfwd`` as the
senders, the framing and message parsers as properties, and malformed streams."""

from __future__ import annotations

import functools
import itertools
import os
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from loglens.agent import Agent
from loglens.config import load_settings
from loglens.errors import ConfigError, LoglensError
from loglens.ingest.syslog_messages import Framer, parse_message
from loglens.ingest.syslog_server import _kernel_drops
from server.agent_helpers import agent_settings, lines_total, scrape, wait_for
from support import require_tool, rsyslogd

MakeAgent = Callable[..., Agent]


@pytest.fixture
def make_agent(make_agent: MakeAgent) -> MakeAgent:
    """The ingest tests' agent, listening for syslog on UDP and TCP (free ports)."""
    return functools.partial(make_agent, syslog={"listen": ["udp://127.0.0.1:0", "tcp://127.0.0.1:0"]})


def _port(agent: Agent, transport: str) -> int:
    assert agent.syslog is not None
    return next(port for kind, _, port in agent.syslog.addresses() if kind == transport)


def _levels(url: str, source: str) -> dict[str, float]:
    return {dict(labels)["level"]: value for (name, labels), value in scrape(url).items()
            if name == "loglens_log_messages_total" and dict(labels).get("source") == source}  # fmt: skip


def _metric(url: str, name: str, **labels: str) -> float:
    return sum(value for (sample, found), value in scrape(url).items()
               if sample == name and set(labels.items()) <= set(found))  # fmt: skip


def _logger(*args: str) -> None:
    logger = require_tool("logger", "bsdutils")
    done = subprocess.run([logger, *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


def test_logger_over_udp_rfc5424_and_rfc3164_maps_facility_and_severity(make_agent: MakeAgent) -> None:
    agent = make_agent()
    port = str(_port(agent, "udp"))
    for priority in ("user.err", "user.warning", "user.info", "user.crit"):
        _logger("-n", "127.0.0.1", "-P", port, "-d", "--rfc5424", "-p", priority, f"udp {priority}")
    _logger("-n", "127.0.0.1", "-P", port, "-d", "--rfc3164", "-p", "daemon.notice", "-t", "app", "legacy")
    wait_for(lambda: lines_total(agent.url) == {"syslog:user": 4, "syslog:daemon": 1}, what="5 messages")
    assert _levels(agent.url, "syslog:user") == {"ERROR": 1, "WARNING": 1, "INFO": 1, "CRITICAL": 1}
    assert _levels(agent.url, "syslog:daemon") == {"NOTICE": 1}
    assert _metric(agent.url, "loglens_syslog_messages_total", transport="udp") == 5


@pytest.mark.parametrize("octets", [True, False])
def test_logger_over_tcp_octet_counted_or_newline_framed(make_agent: MakeAgent, octets: bool) -> None:
    agent = make_agent()
    port = str(_port(agent, "tcp"))
    framing = ["--octet-count"] if octets else []
    for i in range(5):
        _logger("-n", "127.0.0.1", "-P", port, "-T", *framing, "--rfc5424", "-p", "local3.err", f"tcp {i}")
    wait_for(lambda: lines_total(agent.url).get("syslog:local3") == 5, what="5 messages of local3")
    assert _levels(agent.url, "syslog:local3") == {"ERROR": 5}


def test_one_connection_sends_many_messages_in_pieces(make_agent: MakeAgent) -> None:
    agent = make_agent()
    messages = [f"<134>1 2026-12-01T07:56:{i % 60:02d}Z web app - - - m {i}".encode() for i in range(300)]
    stream = b"".join(b"%d %s" % (len(m), m) for m in messages)
    with socket.create_connection(("127.0.0.1", _port(agent, "tcp"))) as connection:
        for at in range(0, len(stream), 777):  # cut anywhere, frames across the pieces
            connection.sendall(stream[at : at + 777])
    wait_for(lambda: lines_total(agent.url).get("syslog:local0") == 300, what="300 messages of local0")
    assert _levels(agent.url, "syslog:local0") == {"INFO": 300}


def test_rsyslog_omfwd_forwards_every_line_of_a_file(make_agent: MakeAgent, tmp_path: Path) -> None:
    command = rsyslogd()
    agent = make_agent()
    source = tmp_path / "app.log"
    work = tmp_path / "rsyslog"
    work.mkdir()
    config = tmp_path / "rsyslog.conf"
    config.write_text(f"""
global(workDirectory="{work}")
module(load="imfile")
input(type="imfile" File="{source}" Tag="app" Severity="warning" Facility="local4")
action(type="omfwd" Target="127.0.0.1" Port="{_port(agent, "tcp")}" Protocol="tcp"
       TCP_Framing="octet-counted" Template="RSYSLOG_SyslogProtocol23Format")
""")
    source.write_text("".join(f"line {i} of the file\n" for i in range(50)))
    process = subprocess.Popen([*command, "-n", "-f", str(config), "-i", str(tmp_path / "rsyslog.pid")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        wait_for(lambda: lines_total(agent.url).get("syslog:local4") == 50, timeout=30,
                 what="50 lines of local4 from rsyslog")  # fmt: skip
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0]
    assert _levels(agent.url, "syslog:local4") == {"WARNING": 50}, output


def test_broken_framing_and_garbage_do_not_stop_the_listeners(make_agent: MakeAgent) -> None:
    agent = make_agent(max_sources=100)
    tcp, udp = _port(agent, "tcp"), _port(agent, "udp")
    for garbage in (b"12x hello", b"99999999999999 x", b"0 ", os.urandom(3000)):
        with socket.create_connection(("127.0.0.1", tcp)) as connection:
            connection.sendall(garbage)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for _ in range(20):
            sender.sendto(os.urandom(200), ("127.0.0.1", udp))
        sender.sendto(b"<11>1 - - - - - - after the garbage", ("127.0.0.1", udp))
    wait_for(lambda: _metric(agent.url, "loglens_syslog_dropped_total", reason="bad_frame") >= 2,
             what="broken octet counts counted")  # fmt: skip
    wait_for(lambda: _levels(agent.url, "syslog:user").get("ERROR") == 1, what="the message after garbage")
    assert httpx.get(f"{agent.url}/api/health").status_code == 200


def test_a_message_over_the_line_limit_is_dropped_and_counted(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    settings_ = agent_settings(tmp_path / "logs", tmp_path / "state", parse={"max_line_bytes": 1024},
                               syslog={"listen": ["tcp://127.0.0.1:0"]})  # fmt: skip
    with Agent(settings_) as agent:
        with socket.create_connection(("127.0.0.1", _port(agent, "tcp"))) as connection:
            connection.sendall(b"<11>" + b"x" * 5000 + b"\n<11>1 - - - - - - short\n")
        wait_for(lambda: lines_total(agent.url).get("syslog:user") == 1, what="the short message")
        assert _metric(agent.url, "loglens_syslog_dropped_total", transport="tcp", reason="too_long") == 1


def test_the_listeners_run_with_the_http_endpoints_off(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    settings_ = agent_settings(tmp_path / "logs", tmp_path / "state", ingest={"enabled": False},
                               syslog={"listen": ["udp://127.0.0.1:0"]})  # fmt: skip
    with Agent(settings_) as agent:
        assert httpx.post(f"{agent.url}/api/logs", content=b"x").status_code == 404
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(b"<12>1 - - - - - - still heard", ("127.0.0.1", _port(agent, "udp")))
        wait_for(lambda: lines_total(agent.url).get("syslog:user") == 1, what="the message")


def test_a_listen_address_in_use_stops_the_start_naming_it(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        url = f"udp://127.0.0.1:{taken.getsockname()[1]}"
        agent = Agent(agent_settings(tmp_path / "logs", tmp_path / "state", syslog={"listen": [url]}))
        with pytest.raises(LoglensError, match=f"cannot listen for syslog on {url}"):
            agent.start()


def test_bad_listen_addresses_are_one_clear_error() -> None:
    for url in ("ftp://127.0.0.1:1", "udp://127.0.0.1", "tcp://:5514", "udp://[::1"):
        with pytest.raises(ConfigError, match="is not udp://HOST:PORT"):
            load_settings(None, syslog={"listen": [url]})


def test_kernel_drops_are_read_from_proc() -> None:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender,
    ):
        receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        receiver.bind(("127.0.0.1", 0))
        assert _kernel_drops(receiver) == 0
        for _ in range(500):  # never read: the small buffer overflows
            sender.sendto(b"x" * 1000, receiver.getsockname())
        deadline = time.monotonic() + 5
        while not _kernel_drops(receiver) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert (_kernel_drops(receiver) or 0) > 0


_MESSAGES = st.lists(st.binary(min_size=1, max_size=60).filter(lambda m: b"\n" not in m and b"\0" not in m
                                                              and m.strip(b"\r")), max_size=8)  # fmt: skip


@given(messages=_MESSAGES, cuts=st.lists(st.integers(0, 600), max_size=6))
def test_octet_counting_gives_back_the_messages_however_the_bytes_are_cut(
    messages: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(b"%d %s" % (len(m), m) for m in messages)
    framer = Framer(1000)
    got = [m for piece in _pieces(stream, cuts) for m in framer.feed(piece)] + framer.close()
    assert got == messages
    assert not framer.broken


@given(messages=_MESSAGES, cuts=st.lists(st.integers(0, 600), max_size=6), nul=st.booleans())
def test_newline_framing_gives_back_the_messages(messages: list[bytes], cuts: list[int], nul: bool) -> None:
    assume(not messages or not messages[0][:1].isdigit())  # a first digit would mean octet counting
    stream = b"".join(m + (b"\0" if nul else b"\n") for m in messages)
    framer = Framer(1000)
    got = [m for piece in _pieces(stream, cuts) for m in framer.feed(piece)] + framer.close()
    assert got == [m for m in messages if m.strip(b"\r")]


@given(data=st.binary(max_size=400), cuts=st.lists(st.integers(0, 400), max_size=4))
@settings(suppress_health_check=list(HealthCheck))
def test_any_stream_is_framed_within_the_bound(data: bytes, cuts: list[int]) -> None:
    framer = Framer(50)
    for piece in _pieces(data, cuts):
        assert all(len(message) <= 50 for message in framer.feed(piece))
    assert len(framer._buffer) <= 62


@given(raw=st.binary(max_size=300) | st.text(max_size=200).map(lambda t: f"<{len(t)}>1 {t}".encode()))
def test_any_message_parses_to_a_json_line_of_a_facility(raw: bytes) -> None:
    source, line = parse_message(raw, 1_764_575_803.0)
    assert source.startswith("syslog:")
    record = orjson.loads(line)
    assert record["level"] in ("CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG")
    assert isinstance(record["message"], str)


def test_messages_of_both_rfcs_read_as_the_rfcs_write_them() -> None:
    example = (
        b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
        b'[exampleSDID@32473 iut="3" eventSource="Application"] \xef\xbb\xbfAn application event'
    )
    modern = orjson.loads(parse_message(example, 0)[1])
    assert modern == {"ts": "2003-10-11T22:14:15.003Z", "level": "NOTICE", "facility": "local4",
                      "host": "mymachine.example.com", "service": "evntslog", "msgid": "ID47",
                      "sd": '[exampleSDID@32473 iut="3" eventSource="Application"]',
                      "message": "An application event"}  # fmt: skip
    example = b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed"
    legacy = orjson.loads(parse_message(example, 1_760_300_000)[1])  # the year that puts it closest
    assert legacy == {"ts": "2025-10-11T22:14:15+00:00", "level": "CRITICAL", "facility": "auth",
                      "host": "mymachine", "service": "su", "message": "'su root' failed"}  # fmt: skip


def _pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(min(cut, len(data)) for cut in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]
