"""Seals to witnesses: each seal's root digest leaves the building, so an owner who rewrites a whole database
consistently (every hash recomputed, every seal too) is still caught by `zwgk verify --against` what a witness
kept. The messages go through the outbox like reminders (retried, dead-lettered, never lost to a crash)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Engine

from notifiers import Contact, Notifier
from workflow.clock import stamp
from workflow.config import Config
from workflow.logs import get_logger
from workflow.model import Signature
from workflow.sql import statements

log = get_logger("zwgk.witness")


def queue(engine: Engine, config: Config, channels: Mapping[str, Notifier], seal: Signature, now: datetime) -> int:
    """Queue the seal's root digest for every witness of the configuration; how many messages were new."""
    digest = f"{seal.seq}:{seal.hash}"
    chains = ", ".join(f"{c} {s}" for c, s, _ in seal.data.get("chains", []))
    subject = f"【政务公开存证】{config.office.name} root digest {seal.seq}:{seal.hash[:12]}"
    text = "\n".join([
        f"单位 office: {config.office.name}",
        f"存证摘要 root digest: {digest}",
        f"时间 sealed at: {seal.at.isoformat(timespec='seconds')}",
        f"各链位置 chains: {chains or '-'}",
        "请保存本邮件。核验 to check later: zwgk verify --against " + digest,
    ])
    rows = []
    for w in config.witnesses:
        contact = Contact(f"witness:{w.name}", w.name, w.email, w.phone)
        address = channels[w.channel].address(contact)
        if address is None:
            log.warning("witness_unreachable", witness=w.name, channel=w.channel)
            continue
        who = hashlib.sha256(w.name.encode()).hexdigest()[:16]  # a name of any length or script, in a short key
        rows.append({"key": f"zwgk:seal:{seal.seq}:{who}:{w.channel}", "due_on": seal.at.date().isoformat(),
                     "recipient": w.name[:64], "channel": w.channel, "address": address, "subject": subject,
                     "text": text, "fields": json.dumps({"digest": digest, "office": config.office.name},
                                                        ensure_ascii=False, sort_keys=True),
                     "now": stamp(now)})
    if not rows:
        return 0
    insert = statements(engine.dialect.name).clause("ob_witness")
    with engine.begin() as conn:
        return sum(conn.execute(insert, row).rowcount for row in rows)
