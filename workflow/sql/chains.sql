-- The chains: heads, events, pipeline definitions.

-- name: head
SELECT chain, seq, hash, at FROM zwgk_chain WHERE chain = :chain

-- name: head_locked
SELECT chain, seq, hash, at FROM zwgk_chain WHERE chain = :chain{for_update}

-- A case's unit is known only from its row, which never changes unit: lock that unit's head in one statement.
-- name: case_head_locked
SELECT chain, seq, hash, at FROM zwgk_chain
WHERE chain = (SELECT unit_id FROM zwgk_case WHERE kind = :kind AND id = :id){for_update}

-- name: heads
SELECT chain, seq, hash, at FROM zwgk_chain ORDER BY chain

-- name: open_chain
INSERT INTO zwgk_chain (chain, seq, hash, at) VALUES (:chain, 0, :hash, :at)

-- Moves a head only from where the event was decided: rowcount 0 means another writer got there first.
-- name: move_head
UPDATE zwgk_chain SET seq = :seq, hash = :hash, at = :at WHERE chain = :chain AND seq = :prev

-- {event_columns}: the hashed fields of workflow.ledger.events.FIELDS, in that order, then the hash.
-- name: append
INSERT INTO zwgk_event ({event_columns}) VALUES ({event_values})

-- name: chain_events
SELECT {event_columns}
FROM zwgk_event WHERE chain = :chain AND seq > :after ORDER BY seq

-- name: event
SELECT {event_columns}
FROM zwgk_event WHERE chain = :chain AND seq = :seq AND seq >= 1

-- Every event of a case, in each chain's order (a case's own chain, and the link notes it has in others): only
-- those within a chain, up to its head.
-- name: case_events
SELECT {event_columns}
FROM zwgk_event e WHERE case_kind = :kind AND case_id = :id
    AND seq BETWEEN 1 AND (SELECT h.seq FROM zwgk_chain h WHERE h.chain = e.chain)
ORDER BY chain, seq

-- The events of a case up to a point of one chain (verify --since reads what it does not recheck).
-- name: case_events_before
SELECT {event_columns}
FROM zwgk_event WHERE case_kind = :kind AND case_id = :id AND chain = :chain AND seq BETWEEN 1 AND :upto
ORDER BY seq

-- The acts of authority of a chain up to a point (roles, adoptions of pipelines and of screening rules; the
-- register's people and units).
-- name: acts_before
SELECT {event_columns}
FROM zwgk_event WHERE case_kind IN ('register', 'person', 'unit', 'pipeline', 'screen') AND chain = :chain
    AND seq BETWEEN 1 AND :upto
ORDER BY seq

-- name: count_events
SELECT count(*) AS n FROM zwgk_event

-- Another writer may be storing the same definition at the same moment: the second one adds nothing.
-- name: store_pipeline
INSERT INTO zwgk_pipeline (fingerprint, kind, name, version, definition, created_at)
VALUES (:fingerprint, :kind, :name, :version, :definition, :at) ON CONFLICT DO NOTHING

-- name: pipeline_definition
SELECT definition FROM zwgk_pipeline WHERE fingerprint = :fingerprint

-- name: pipeline_definitions
SELECT fingerprint, definition FROM zwgk_pipeline ORDER BY fingerprint

-- name: genesis_data
SELECT data FROM zwgk_event WHERE chain = :chain AND seq = 1

-- name: event_hash
SELECT hash FROM zwgk_event WHERE chain = :chain AND seq = :seq

-- name: daemons
SELECT id, host, pid, started_at, beat_at, stopped_at, planned, sent, failed FROM zwgk_daemon ORDER BY beat_at DESC

-- name: last_seal
SELECT {event_columns}
FROM zwgk_event WHERE chain = :chain AND case_kind = 'register' AND action = 'seal' AND seq >= 1
ORDER BY seq DESC LIMIT 1

-- The latest adoption of a kind's pipeline in a unit's chain.
-- name: latest_adoption
SELECT max(seq) AS seq FROM zwgk_event
WHERE case_kind = 'pipeline' AND case_id = :kind AND chain = :chain AND action = 'adopt'
    AND seq BETWEEN 1 AND (SELECT h.seq FROM zwgk_chain h WHERE h.chain = :chain)

-- PostgreSQL: who the server says this connection is, recorded with the operator.
-- name: session_user
SELECT session_user AS name
