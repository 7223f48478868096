"""Application logs that carry a severity word, in the shapes real systems write.

    ERROR 2025-06-15T04:00:32Z Null pointer exception                 level first
    2015-10-18 18:01:47,978 INFO [main] org.Foo: text                    ISO time, level (Hadoop, log4j)
    2015-07-29 17:41:44,747 - WARN  [main:Foo@12] - text                 ISO time - level (Zookeeper)
    [Sun Dec 04 04:47:44 2005] [error] text                              Apache error log
    081109 203615 148 INFO dfs.DataNode: text                            HDFS
    17/06/09 20:10:40 INFO spark.Foo: text                               Spark
    Jun 14 15:16:01 host sshd[123]: text                                 syslog (level if the text has one)

Any other line with a recognizable leading timestamp and a severity word is read too.
"""

from __future__ import annotations

from loglens.parsing.levels import LEVEL_WORDS
from loglens.parsing.regex import RegexParser

_LEVEL = rf"(?P<level>(?i:{LEVEL_WORDS}))"
_ISO = r"(?P<ts>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)"
_SERVICE = r"(?:\[(?:[^\[\]]|\[[^\]]*\])*\]\s+)?(?:-\s+)?(?:(?P<service>[\w.$-]+): )?"  # [thread[1]/x]
_SYSLOG_TS = r"(?P<ts>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)"

LEVEL_FIRST = rf"^\[?{_LEVEL}\]?:?\s+{_ISO}\s+(?P<message>.*)$"
ISO_LEVEL = rf"^{_ISO}\s+(?:-\s+)?\[?{_LEVEL}\]?\s+(?:-\s+)?{_SERVICE}(?P<message>.*)$"
APACHE_ERROR = (
    rf"^\[(?P<ts>\w{{3}} \w{{3}} \d\d \d\d:\d\d:\d\d(?:\.\d+)? \d{{4}})\] \[{_LEVEL}\] (?P<message>.*)$"
)
HDFS = rf"^(?P<ts>\d{{6}} \d{{6}}) \d+ {_LEVEL} {_SERVICE}(?P<message>.*)$"
SPARK = rf"^(?P<ts>\d\d/\d\d/\d\d \d\d:\d\d:\d\d) {_LEVEL} {_SERVICE}(?P<message>.*)$"
SYSLOG = (
    rf"^{_SYSLOG_TS} \S+ +(?P<service>[^:\[]+?)(?:\[[0-9]+\])?: "
    rf"(?P<message>(?:.*?\b{_LEVEL}\b)?.*)$"
)
ANY_TS_LEVEL = rf"^\[?{_ISO}\]?\s+.*?\b{_LEVEL}\b\W*(?P<message>.*)$"

VARIANTS = [ISO_LEVEL, LEVEL_FIRST, HDFS, SPARK, APACHE_ERROR, SYSLOG, ANY_TS_LEVEL]


def level(timezone: str = "UTC") -> RegexParser:
    """Severity-word application logs in all the shapes above."""
    return RegexParser("level", VARIANTS, timezone)
