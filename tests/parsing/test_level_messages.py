"""The ``message`` of level lines is the text after the header, whole: what ``loglens patterns`` mines."""

from __future__ import annotations

import pytest

from loglens.parsing import parse_lines


@pytest.mark.parametrize(
    ("line", "level", "message"),
    [
        ("Dec 10 09:32:20 LabSZ sshd[24680]: error: Received disconnect from 1.2.3.4: 3: Auth fail [preauth]",
         "ERROR", "error: Received disconnect from 1.2.3.4: 3: Auth fail [preauth]"),
        ("Jun 15 04:06:18 combo su(pam_unix)[21416]: session opened for user cyrus by (uid=0)",
         None, "session opened for user cyrus by (uid=0)"),
        ("2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - "
         "Notification time out: 3200", "INFO", "Notification time out: 3200"),
    ],
)  # fmt: skip
def test_the_message_is_the_text_after_the_header(line: str, level: str | None, message: str) -> None:
    records = parse_lines([line], "level").records
    assert records.select("level", "message").row(0) == (level, message)
