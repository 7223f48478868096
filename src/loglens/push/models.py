"""Request and response models of ``POST /api/metrics``.

The same models validate each pushed metric and describe the endpoint in the OpenAPI document. A batch is
validated metric by metric when it is not wholly valid (:func:`validate_body`), so that one bad metric
does not reject the others.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Self

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from loglens.metric_names import NAME_PATTERN, RESERVED_LABELS

MAX_LABELS = 32
MAX_LABEL_VALUE_LENGTH = 1024
MAX_BUCKETS = 64

MetricType = Literal["counter", "gauge", "histogram", "summary"]
Mode = Literal["increment", "cumulative"]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or blank")
    return value


Finite = Annotated[float, Field(allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Timestamp = Annotated[NonNegative | None, Field(description="seconds since the epoch; orders set values")]
Source = Annotated[
    str,
    Field(min_length=1, max_length=MAX_LABEL_VALUE_LENGTH, description="the pushing service: `source` label"),
    AfterValidator(_not_blank),
]


def _not_reserved(name: str) -> str:
    if name in RESERVED_LABELS or name.startswith("__"):
        raise ValueError(f"label name {name!r} is reserved: loglens or Prometheus sets it")
    return name


LabelName = Annotated[str, Field(pattern=NAME_PATTERN, max_length=128), AfterValidator(_not_reserved)]
#: a bucket bound or quantile as a JSON key: a decimal number, or +Inf
NUMBER_PATTERN = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$|^\+?Inf$"
NumberKey = Annotated[str, Field(pattern=NUMBER_PATTERN, max_length=64)]


def _every_key_matches(schema: dict[str, Any]) -> None:
    """Render ``dict[str-with-pattern, V]`` as the server means it: pydantic's ``patternProperties``
    would let keys that do not match through."""
    [(pattern, values)] = schema.pop("patternProperties").items()
    schema["propertyNames"] = {**schema.get("propertyNames", {}), "pattern": pattern}
    schema["additionalProperties"] = values


LabelValue = Annotated[str, Field(max_length=MAX_LABEL_VALUE_LENGTH)]


class _Strict(BaseModel):
    """No unknown keys, no strings or booleans taken for numbers."""

    model_config = ConfigDict(extra="forbid", strict=True)


class SampleValue(_Strict):
    """One number: a counter increment or running total, a gauge value, or one observation."""

    value: Finite
    timestamp: Timestamp = None


class HistogramValue(_Strict):
    """A pre-aggregated histogram: cumulative bucket counts by upper bound, with sum and count."""

    buckets: Annotated[
        dict[NumberKey, NonNegative],
        Field(
            min_length=1,
            max_length=MAX_BUCKETS,
            json_schema_extra=_every_key_matches,
            description='upper bound ("0.1", "+Inf") -> count of observations at or below it',
        ),
    ]
    sum: Finite
    count: NonNegative
    timestamp: Timestamp = None
    _bounds: tuple[float, ...] = PrivateAttr(default=())
    _cumulative: tuple[float, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _check_buckets(self) -> Self:
        pairs = sorted((float(key), count) for key, count in self.buckets.items())
        bounds = [bound for bound, _ in pairs]
        if len(set(bounds)) != len(bounds):
            raise ValueError("bucket bounds repeat the same number")
        counts = [count for _, count in pairs]
        if any(later < earlier for earlier, later in itertools.pairwise(counts)):
            raise ValueError("bucket counts must not decrease as the bound grows (counts are cumulative)")
        if bounds[-1] == math.inf:
            if counts[-1] != self.count:
                raise ValueError(f"the +Inf bucket ({counts[-1]}) must equal count ({self.count})")
            bounds.pop()
            counts.pop()
        elif counts[-1] > self.count:
            raise ValueError(f"bucket counts exceed count ({self.count})")
        self._bounds = tuple(bounds)
        self._cumulative = (*counts, self.count)
        return self

    @property
    def bounds(self) -> tuple[float, ...]:
        """Finite upper bounds, ascending (+Inf is implied)."""
        return self._bounds

    @property
    def cumulative(self) -> tuple[float, ...]:
        """Cumulative count per bound, then the +Inf count (which is ``count``)."""
        return self._cumulative


class SummaryValue(_Strict):
    """A pre-aggregated summary: quantile values with sum and count."""

    quantiles: Annotated[
        dict[NumberKey, Finite],
        Field(
            max_length=MAX_BUCKETS,
            json_schema_extra=_every_key_matches,
            description='quantile ("0.5") -> value',
        ),
    ]
    sum: Finite
    count: NonNegative
    timestamp: Timestamp = None
    _pairs: tuple[tuple[float, float], ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _check_quantiles(self) -> Self:
        pairs = sorted((float(key), value) for key, value in self.quantiles.items())
        if any(not 0.0 <= q <= 1.0 for q, _ in pairs):
            raise ValueError("quantiles must lie between 0 and 1")
        if len({q for q, _ in pairs}) != len(pairs):
            raise ValueError("quantiles repeat the same number")
        self._pairs = tuple(pairs)
        return self

    @property
    def pairs(self) -> tuple[tuple[float, float], ...]:
        """(quantile, value) pairs, by quantile."""
        return self._pairs


_SHAPES: dict[type, str] = {SampleValue: "sample", HistogramValue: "histogram", SummaryValue: "summary"}


def _value_shape(value: Any) -> str | None:
    if isinstance(value, dict):
        return "histogram" if "buckets" in value else "summary" if "quantiles" in value else "sample"
    return _SHAPES.get(type(value))


Value = Annotated[
    Annotated[SampleValue, Tag("sample")]
    | Annotated[HistogramValue, Tag("histogram")]
    | Annotated[SummaryValue, Tag("summary")],
    Discriminator(
        _value_shape,
        custom_error_type="value_shape",
        custom_error_message='value must be an object: {"value": x} or pre-aggregated buckets or quantiles',
    ),
]
_ACCEPTED_SHAPES: dict[str, tuple[type, ...]] = {
    "counter": (SampleValue,),
    "gauge": (SampleValue,),
    "histogram": (SampleValue, HistogramValue),
    "summary": (SampleValue, SummaryValue),
}


class MetricIn(_Strict):
    """One pushed metric sample."""

    name: Annotated[str, Field(pattern=NAME_PATTERN, max_length=200, description="exposed as prefix_name")]
    metric_type: MetricType
    help: Annotated[str, Field(min_length=1, max_length=4096), AfterValidator(_not_blank)]
    labels: Annotated[
        dict[LabelName, LabelValue], Field(max_length=MAX_LABELS, json_schema_extra=_every_key_matches)
    ] = Field(default_factory=dict)
    value: Value
    mode: Mode | None = Field(
        default=None, description="counters and pre-aggregated values: increments or running totals"
    )
    buckets: Annotated[list[Finite], Field(min_length=1, max_length=MAX_BUCKETS)] | None = Field(
        default=None, description="observed histograms: upper bounds (default: Prometheus's defaults)"
    )
    quantiles: Annotated[list[Annotated[float, Field(ge=0, le=1)]], Field(max_length=MAX_BUCKETS)] | None = (
        Field(default=None, description="observed summaries: quantiles to report (default 0.5, 0.9, 0.99)")
    )

    @field_validator("value")
    @classmethod
    def _shape_fits_type(cls, value: BaseModel, info: ValidationInfo) -> BaseModel:
        metric_type = info.data.get("metric_type")
        if metric_type is not None and not isinstance(value, _ACCEPTED_SHAPES[metric_type]):
            shape = _SHAPES[type(value)]
            raise ValueError(f'a {metric_type} takes {{"value": x}}, not pre-aggregated {shape} values')
        return value

    @field_validator("mode")
    @classmethod
    def _mode_applies(cls, mode: Mode | None, info: ValidationInfo) -> Mode | None:
        if mode is not None and info.data.get("metric_type") == "gauge":
            raise ValueError("mode does not apply to gauges: a gauge is set to its value")
        if (
            mode == "cumulative"
            and isinstance(info.data.get("value"), SampleValue)
            and info.data.get("metric_type") in ("histogram", "summary")
        ):
            raise ValueError("an observation is not a running total: cumulative needs pre-aggregated values")
        return mode

    @field_validator("buckets")
    @classmethod
    def _buckets_apply(cls, buckets: list[float] | None, info: ValidationInfo) -> list[float] | None:
        if buckets is None:
            return None
        if info.data.get("metric_type") != "histogram" or not isinstance(info.data.get("value"), SampleValue):
            raise ValueError("applies to observed histograms; pre-aggregated ones give buckets in value")
        if any(b >= c for b, c in itertools.pairwise(buckets)):
            raise ValueError("bucket bounds must be strictly increasing")
        return buckets

    @field_validator("quantiles")
    @classmethod
    def _quantiles_apply(cls, quantiles: list[float] | None, info: ValidationInfo) -> list[float] | None:
        if quantiles is None:
            return None
        if info.data.get("metric_type") != "summary" or not isinstance(info.data.get("value"), SampleValue):
            raise ValueError("applies to observed summaries; pre-aggregated ones give quantiles in value")
        if len(set(quantiles)) != len(quantiles):
            raise ValueError("quantiles repeat the same number")
        return quantiles


class _Envelope(_Strict):
    source: Source
    mode: Mode = Field(default="increment", description="default mode of the batch's metrics")


class PushRequest(_Envelope):
    """A batch of metrics from one source."""

    metrics: Annotated[list[MetricIn], Field(min_length=1)]


class _RawBatch(_Envelope):
    """The batch with its metrics not yet validated, so each is checked on its own."""

    metrics: Annotated[list[Any], Field(min_length=1)]


class PushError(BaseModel):
    """One problem, naming the metric (by index and name) when it concerns one."""

    index: int | None = Field(description="position in `metrics`; null for the batch or the body")
    name: str | None = Field(description="the metric's name as sent, when it has one")
    field: str | None = Field(description="the offending field, dotted (`labels.le`, `value.value`)")
    message: str


class PushResponse(BaseModel):
    """Outcome of a push: how many metrics were applied and what was wrong with the others."""

    processed: int
    status: Literal["success", "partial_success", "error"]
    errors: list[PushError]


@dataclass
class ValidatedBatch:
    """A batch after validation: the metrics that passed, with their index, and every problem found."""

    source: str | None
    mode: Mode
    metrics: list[tuple[int, MetricIn]] = field(default_factory=list)
    errors: list[PushError] = field(default_factory=list)


def validate_body(body: bytes) -> ValidatedBatch:
    """Check a request body; ``source`` is None when the batch as a whole is invalid.

    A valid batch is checked in one pass from JSON; any other is decoded and checked metric by metric,
    so that each problem is named and the valid metrics can still be applied.

    Raises:
        ValueError: the body is not JSON.
    """
    try:
        request = PushRequest.model_validate_json(body)
    except ValidationError:
        return _validate_data(_decode(body))
    return ValidatedBatch(request.source, request.mode, list(enumerate(request.metrics)))


def _decode(body: bytes) -> Any:
    """Decode JSON with orjson, or else with the standard parser, which reads NaN, Infinity and 1e999.

    The fallback turns such values into floats that validation then reports against the metric carrying
    them, instead of refusing the whole batch.
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise ValueError(str(exc)) from None


def _validate_data(data: Any) -> ValidatedBatch:
    batch = ValidatedBatch(source=None, mode="increment")
    items: Any = data.get("metrics") if isinstance(data, dict) else None
    try:
        envelope = _RawBatch.model_validate(data)
        batch.source, batch.mode = envelope.source, envelope.mode
    except ValidationError as exc:
        batch.errors.extend(describe_errors(exc.errors(), None, None))
    if not isinstance(items, list):
        return batch
    for index, item in enumerate(items):
        try:
            batch.metrics.append((index, MetricIn.model_validate(item)))
        except ValidationError as exc:
            name = item.get("name") if isinstance(item, dict) else None
            batch.errors.extend(describe_errors(exc.errors(), index, name if isinstance(name, str) else None))
    return batch


def _echo(text: str | None) -> str | None:
    """Input echoed in an answer, made encodable: JSON escapes may carry lone surrogates."""
    return None if text is None else text.encode("utf-8", "replace").decode("utf-8")


def describe_errors(details: list[ErrorDetails], index: int | None, name: str | None) -> list[PushError]:
    """One :class:`PushError` per pydantic error of metric ``index`` (None: the batch)."""
    errors = []
    name = _echo(name)
    for err in details:
        loc = list(err["loc"])
        if len(loc) > 1 and loc[0] == "value" and loc[1] in _SHAPES.values():
            del loc[1]  # the union's tag says nothing to the sender
        if loc and loc[-1] == "[key]":
            loc.pop()
        ctx = err.get("ctx") or {}
        message = str(ctx["error"]) if err["type"] == "value_error" and "error" in ctx else err["msg"]
        where = _echo(".".join(str(part) for part in loc) or None)
        errors.append(PushError(index=index, name=name, field=where, message=message))
    return errors


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline_refs(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inline_refs(value, defs) for key, value in node.items() if key != "$defs"}
    if isinstance(node, list):
        return [_inline_refs(value, defs) for value in node]
    return node


def request_schema() -> dict[str, Any]:
    """JSON schema of :class:`PushRequest` with its definitions inlined, for the OpenAPI request body.

    The route reads the raw body itself (size limit, per-metric validation), so FastAPI cannot derive
    this part of the document from a body parameter.
    """
    schema = PushRequest.model_json_schema()
    inlined: dict[str, Any] = _inline_refs(schema, schema.get("$defs", {}))
    return inlined
