"""``loglens push``: send a batch of metrics to a loglens server's ``POST /api/metrics``."""

from __future__ import annotations

import math
from typing import IO, Any

import click
import httpx
import orjson

from loglens.errors import LoglensError
from loglens.options import examples

DEFAULT_URL = "http://127.0.0.1:9911/api/metrics"
METRIC_TYPES = ("counter", "gauge", "histogram", "summary")


def _pair(text: str, what: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise click.BadParameter(f"expected {what}, got {text!r}")
    return key, value


def _sample_metrics(
    samples: tuple[str, ...], metric_type: str, labels: dict[str, str], help_text: str | None
) -> list[dict[str, Any]]:
    metrics = []
    for text in samples:
        name, raw = _pair(text, "NAME=VALUE")
        try:
            value = float(raw)
        except ValueError:
            raise click.BadParameter(f"{name}: {raw!r} is not a number", param_hint="NAME=VALUE") from None
        if not math.isfinite(value):
            raise click.BadParameter(f"{name}: value must be finite, got {raw!r}", param_hint="NAME=VALUE")
        metrics.append(
            {
                "name": name,
                "metric_type": metric_type,
                "help": help_text or f"{name}, pushed with loglens push",
                "labels": labels,
                "value": {"value": value},
            }
        )
    return metrics


def _file_batch(stream: IO[bytes]) -> dict[str, Any]:
    """A batch object, or a list of metrics wrapped into one."""
    try:
        data = orjson.loads(stream.read())
    except orjson.JSONDecodeError as exc:
        raise LoglensError(f"{stream.name}: not valid JSON: {exc}") from None
    if isinstance(data, list):
        return {"metrics": data}
    if not isinstance(data, dict):
        raise LoglensError(f"{stream.name}: expected a batch object or a list of metrics")
    return data


@click.command(
    "push",
    epilog=examples(
        "loglens push --source deploy-job deploys=1 --type counter --label env=prod",
        'loglens push --file batch.json --token "$TOKEN"',
        "loglens push --url http://metrics.internal:9911/api/metrics --source cron queue_depth=12",
    ),
)
@click.argument("samples", nargs=-1, metavar="[NAME=VALUE]...")
@click.option(
    "-f", "--file", "batch_file", type=click.File("rb"), help="JSON batch or list of metrics ('-': stdin)."
)
@click.option(
    "--url",
    envvar="LOGLENS_PUSH_URL",
    default=DEFAULT_URL,
    show_default=True,
    help="The server's push endpoint [env: LOGLENS_PUSH_URL].",
)
@click.option("--source", help="The source label: who pushes. Overrides the file's.")
@click.option(
    "--type", "metric_type", type=click.Choice(METRIC_TYPES), default="gauge", show_default=True,
    help="Type of NAME=VALUE metrics.",
)  # fmt: skip
@click.option(
    "--label", "labels", multiple=True, metavar="KEY=VALUE", help="Label of NAME=VALUE metrics; repeat."
)
@click.option("--help-text", help="HELP of NAME=VALUE metrics.")
@click.option(
    "--mode", type=click.Choice(["increment", "cumulative"]), help="Counters: increments or totals."
)
@click.option("--token", envvar="LOGLENS__PUSH__TOKEN", help="Bearer token [env: LOGLENS__PUSH__TOKEN].")
@click.option(
    "--timeout", type=float, default=10.0, show_default=True, help="Seconds to wait for the server."
)
def push(
    samples: tuple[str, ...],
    batch_file: IO[bytes] | None,
    url: str,
    source: str | None,
    metric_type: str,
    labels: tuple[str, ...],
    help_text: str | None,
    mode: str | None,
    token: str | None,
    timeout: float,
) -> None:
    """Push metrics to a loglens server: NAME=VALUE arguments, a JSON file, or both."""
    if not samples and batch_file is None:
        raise click.UsageError("give NAME=VALUE arguments or --file")
    batch = _file_batch(batch_file) if batch_file is not None else {}
    label_map = dict(_pair(text, "KEY=VALUE") for text in labels)
    metrics = batch.get("metrics", [])
    if not isinstance(metrics, list):
        raise LoglensError("the file's 'metrics' must be a list")
    batch["metrics"] = [*metrics, *_sample_metrics(samples, metric_type, label_map, help_text)]
    if source is not None:
        batch["source"] = source
    if mode is not None:
        batch["mode"] = mode
    if not batch.get("source"):
        raise click.UsageError("give --source (the file names none)")
    click.echo(_send(url, batch, token, timeout))


def _send(url: str, batch: dict[str, Any], token: str | None, timeout: float) -> str:
    """POST the batch; return a one-line summary, or raise :class:`LoglensError` naming each problem."""
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    try:
        response = httpx.post(url, content=orjson.dumps(batch), headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        raise LoglensError(f"cannot reach {url}: {exc}") from None
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or "errors" not in answer:
        raise LoglensError(f"{url} answered {response.status_code}: {response.text[:200]}")
    problems = [_describe(error) for error in answer["errors"]]
    sent = len(batch["metrics"])
    if response.status_code == 200 and not problems:
        return f"pushed {answer['processed']} of {sent} metrics to {url}"
    if response.status_code == 401:
        problems.append("pass --token or set LOGLENS__PUSH__TOKEN")
    summary = f"{url} answered {response.status_code}: {answer['processed']} of {sent} metrics applied"
    raise LoglensError("\n  ".join([summary, *problems]))


def _describe(error: dict[str, Any]) -> str:
    where = (
        "" if error.get("index") is None else f"metrics[{error['index']}] {error.get('name') or ''}".rstrip()
    )
    if error.get("field"):
        where = f"{where} {error['field']}".strip()
    return f"{where}: {error['message']}" if where else str(error.get("message"))
