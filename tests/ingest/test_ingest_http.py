"""The ingest endpoints over real HTTP on ``loglens run``'s server: every body shape, every refusal."""

from __future__ import annotations

import gzip
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from loglens.agent import Agent
from loglens.clock import FrozenClock
from server.agent_helpers import agent_settings, lines_total, scrape, wait_for

LOGLENS = Path(sys.executable).parent / "loglens"
LINE = '10.0.0.{i} - - [01/Dec/2026:07:56:{s:02d} +0000] "{method} /shop/{i} HTTP/1.1" 200 512'
MakeAgent = Callable[..., Agent]


def _line(i: int, method: str = "GET") -> str:
    return LINE.format(i=i % 250, s=i % 60, method=method)


def _requests(url: str, source: str) -> float:
    return sum(v for (name, labels), v in scrape(url).items()
               if name == "loglens_http_requests_total" and ("source", source) in labels)  # fmt: skip


def test_the_simulator_body_shape_is_counted(make_agent: MakeAgent) -> None:
    agent = make_agent()
    answer = httpx.post(f"{agent.url}/log_collector", json={"message": _line(1, "POST")}, timeout=10)
    assert answer.status_code == 200
    assert answer.json() == {"accepted": 1, "rejected": 0, "errors": []}
    wait_for(lambda: _requests(agent.url, "http") == 1, what="the line counted under source http")


def test_the_series_known_before_the_first_request_start_at_0(make_agent: MakeAgent) -> None:
    agent = make_agent()
    ok = {endpoint: ("loglens_ingest_requests_total", (("code", "200"), ("endpoint", endpoint)))
          for endpoint in ("logs", "log_collector")}  # fmt: skip
    lines = ("loglens_ingest_lines_total", (("source", "http"),))
    refused = ("loglens_ingest_rejected_total", (("source", "http"),))
    before = scrape(agent.url)
    assert [before.get(key) for key in (*ok.values(), lines, refused)] == [0, 0, 0, 0]
    answer = httpx.post(f"{agent.url}/api/logs", content=f"{_line(1)}\n", timeout=10)
    assert answer.status_code == 200
    after = scrape(agent.url)
    assert [after.get(key) for key in (ok["logs"], ok["log_collector"], lines)] == [1, 0, 1]


@pytest.mark.parametrize("shape", ["text", "ndjson", "array-strings", "array-objects"])
@pytest.mark.parametrize("zipped", [False, True])
def test_each_bulk_shape_gzip_or_not_is_counted(make_agent: MakeAgent, shape: str, zipped: bool) -> None:
    agent = make_agent()
    lines = [_line(i) for i in range(50)] + ["not a log line"]
    encode, media_type = {
        "text": (lambda: ("\n".join(lines) + "\n").encode(), "text/plain"),
        "ndjson": (lambda: b"\n".join(orjson.dumps({"log": x}) for x in lines), "application/x-ndjson"),
        "array-strings": (lambda: orjson.dumps(lines), "application/json"),
        "array-objects": (
            lambda: orjson.dumps([{"message": x, "host": "a"} for x in lines]),
            "application/json",
        ),
    }[shape]
    body, headers = encode(), {"content-type": media_type}
    if zipped:
        body, headers["content-encoding"] = gzip.compress(body), "gzip"
    answer = httpx.post(f"{agent.url}/api/logs", params={"source": "web", "format": "combined"},
                        content=body, headers=headers, timeout=10)  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": 51, "rejected": 0, "errors": []}
    wait_for(lambda: lines_total(agent.url).get("web") == 51, what="51 lines of source web")
    samples = scrape(agent.url)
    assert samples["loglens_parse_errors_total", (("reason", "no_match"), ("source", "web"))] == 1
    assert _requests(agent.url, "web") == 50


def test_source_and_format_may_come_as_headers(make_agent: MakeAgent) -> None:
    agent = make_agent()
    headers = {"x-loglens-source": "app", "x-loglens-format": "level", "content-type": "text/plain"}
    answer = httpx.post(
        f"{agent.url}/api/logs", content=b"2026-12-01T07:00:00Z ERROR boom\n", headers=headers
    )
    assert answer.status_code == 200
    wait_for(lambda: lines_total(agent.url).get("app") == 1, what="the line of source app")
    assert scrape(agent.url)["loglens_log_messages_total", (("level", "ERROR"), ("source", "app"))] == 1


@pytest.mark.parametrize(
    ("path", "kwargs", "status", "error"),
    [
        ("/log_collector", {"content": b"{not json"}, 400, "the body is not valid JSON"),
        ("/log_collector", {"json": {"msg": "x"}}, 400, '"message" is missing or empty'),
        ("/api/logs", {"content": b"[1,", "headers": {"content-type": "application/json"}}, 400, "JSON"),
        ("/api/logs", {"content": b"x", "headers": {"content-type": "image/png"}}, 415, "is not read here"),
        ("/api/logs", {"content": b"x", "params": {"source": "a b"}}, 400, "is not a name"),
        ("/api/logs", {"content": b"x", "params": {"format": "yaml"}}, 400, "format 'yaml' is not one of"),
        ("/api/logs", {"content": b"x" * 5000, "headers": {"content-type": "text/plain"}}, 413, "over 4096"),
        ("/api/logs", {"content": gzip.compress(b"y" * 9000), "headers": {"content-encoding": "gzip"}}, 413,
         "once unzipped"),
    ],
)  # fmt: skip
def test_a_malformed_request_is_refused_naming_the_problem(
    make_agent: MakeAgent, path: str, kwargs: dict[str, Any], status: int, error: str
) -> None:
    agent = make_agent(max_body_bytes=4096)
    answer = httpx.post(f"{agent.url}{path}", timeout=10, **kwargs)
    assert answer.status_code == status
    assert error in answer.json()["error"]
    assert lines_total(agent.url) == {}


def test_other_methods_are_405_and_options_answers_cors(make_agent: MakeAgent) -> None:
    agent = make_agent(cors_origins=["https://sim.example"])
    for method, path in (("GET", "/log_collector"), ("PUT", "/api/logs")):
        answer = httpx.request(method, f"{agent.url}{path}")
        assert answer.status_code == 405
        assert answer.headers["allow"] == "POST, OPTIONS"
        assert f"{method} is not allowed" in answer.json()["error"]
    allowed = httpx.options(f"{agent.url}/log_collector", headers={"origin": "https://sim.example"})
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == "https://sim.example"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    other = httpx.options(f"{agent.url}/log_collector", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    posted = httpx.post(
        f"{agent.url}/log_collector", json={"message": "x"}, headers={"origin": "https://sim.example"}
    )
    assert posted.headers["access-control-allow-origin"] == "https://sim.example"


def test_with_a_token_only_bearers_are_taken(make_agent: MakeAgent) -> None:
    agent = make_agent(token="s3cret")
    refused = httpx.post(f"{agent.url}/log_collector", json={"message": "x"})
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    wrong = httpx.post(f"{agent.url}/api/logs", content=b"x", headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = httpx.post(f"{agent.url}/api/logs", content=b"x", headers={"authorization": "Bearer s3cret"})
    assert right.status_code == 200


def test_over_the_rate_limit_is_429_with_retry_after_and_other_sources_go_on(make_agent: MakeAgent) -> None:
    agent = make_agent(clock=FrozenClock(1_700_000_000), rate_limit_lines_per_second=10)
    body = ("\n".join(_line(i) for i in range(10)) + "\n").encode()
    assert httpx.post(f"{agent.url}/api/logs?source=a", content=body).status_code == 200
    limited = httpx.post(f"{agent.url}/api/logs?source=a", content=body)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert "rate_limit_lines_per_second" in limited.json()["error"]
    assert httpx.post(f"{agent.url}/api/logs?source=b", content=body).status_code == 200


def test_one_source_more_than_allowed_is_refused(make_agent: MakeAgent) -> None:
    agent = make_agent(max_sources=2)
    for name in ("a", "b"):
        assert httpx.post(f"{agent.url}/api/logs?source={name}", content=b"x").status_code == 200
    refused = httpx.post(f"{agent.url}/api/logs?source=c", content=b"x")
    assert refused.status_code == 429 and "ingest.max_sources" in refused.json()["error"]
    assert httpx.post(f"{agent.url}/api/logs?source=a", content=b"y").status_code == 200


def _archived(state: Path) -> list[str]:
    """Every archived line, as ``loglens archive cat`` prints them."""
    done = subprocess.run([str(LOGLENS), "archive", "cat", "--state-dir", str(state)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_100000_lines_from_8_concurrent_clients_are_counted_and_archived_exactly(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    settings = agent_settings(tmp_path / "logs", tmp_path / "state")
    sent: list[list[str]] = []

    def client(n: int) -> int:
        accepted = 0
        with httpx.Client(base_url=agent.url, timeout=30) as http:
            for request in range(13):
                count = min(1000, 12_500 - accepted)
                if count <= 0:
                    break
                lines = [
                    _line(n * 100_000 + request * 1000 + i) + f" c{n}r{request}i{i}" for i in range(count)
                ]
                answer = http.post(
                    "/api/logs", params={"source": f"c{n % 2}"}, content="\n".join(lines).encode()
                )
                assert answer.status_code == 200, answer.text
                accepted += answer.json()["accepted"]
                sent.append(lines)
        return accepted

    with Agent(settings) as agent:
        with ThreadPoolExecutor(8) as pool:
            assert sum(pool.map(client, range(8))) == 100_000
        wait_for(
            lambda: sum(lines_total(agent.url).values()) == 100_000, timeout=60, what="100,000 lines counted"
        )
        assert lines_total(agent.url) == {"c0": 50_000, "c1": 50_000}
        assert scrape(agent.url)["loglens_ingest_lines_total", (("source", "c0"),)] == 50_000
    assert sorted(_archived(tmp_path / "state")) == sorted(line for lines in sent for line in lines)


def test_loglens_generate_posts_to_a_running_loglens_and_every_line_counts(make_agent: MakeAgent) -> None:
    """The generator's HTTP output is a real client of /api/logs: two streams, every line counted."""
    agent = make_agent()
    done = subprocess.run(
        [str(LOGLENS), "generate", "--start", "2026-12-01T00:00:00Z",
         "-n", "2500", "--seed", "3", "--format", "combined", "--streams", "2", "--batch-size", "300",
         "--output", f"{agent.url}/api/logs", "--source", "gen"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    wait_for(lambda: lines_total(agent.url) == {"gen-0": 1250, "gen-1": 1250}, what="2,500 generated lines")
    assert _requests(agent.url, "gen-0") + _requests(agent.url, "gen-1") == 2500
