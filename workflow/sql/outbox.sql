-- The reminder outbox (workflow/outbox.py). A reminder is wanted while its deadline is live and still due on the
-- day it was planned for; a seal's digest for a witness (no deadline) is wanted until it is sent.

-- A claim: the daemon (`claimed_by`), until when (`claimed_until`) and a token new at each claim (`claim_token`).
-- Only the holder of the token renews or marks the row: a daemon whose claim ran out and was taken over can no
-- longer touch it. Other daemons take over an expired claim only once `:expired` (their now less the clock-skew
-- margin) is past `claimed_until`.

-- Still wanted: no deadline (a seal's digest), or its deadline live and still due on the day it was planned for.
-- name: _wanted
(deadline_id IS NULL OR EXISTS (SELECT 1 FROM zwgk_deadline d WHERE d.id = zwgk_notification.deadline_id
    AND d.status IN ('open', 'overdue') AND d.due_on = zwgk_notification.due_on))

-- Queued before its deadline was met, cancelled or moved to another day: not sent.
-- name: ob_stale
UPDATE zwgk_notification SET status = 'cancelled', claimed_by = NULL, claimed_until = NULL, claim_token = NULL
WHERE (status = 'pending' OR (status = 'sending' AND claimed_until < :expired)) AND NOT {_wanted}

-- The channels with something to claim in a pass that began at :due.
-- name: ob_due_channels
SELECT DISTINCT channel FROM zwgk_notification
WHERE (status = 'pending' AND next_attempt_at <= :due) OR (status = 'sending' AND claimed_until < :expired)

-- Only what was due when the pass began: a message that failed in this pass waits for the next.
-- name: ob_claim
UPDATE zwgk_notification SET status = 'sending', claimed_by = :me, claimed_until = :until, claim_token = :token,
    attempts = attempts + 1
WHERE id IN (SELECT id FROM zwgk_notification
    WHERE channel = :channel
        AND ((status = 'pending' AND next_attempt_at <= :due) OR (status = 'sending' AND claimed_until < :expired))
        AND {_wanted}
    ORDER BY next_attempt_at, id LIMIT :n{skip_locked})
RETURNING id, key, recipient, channel, address, subject, text, fields, attempts, next_attempt_at

-- Before a send that the claim's time left would not cover, and every second in a slow batch: renew what is left of
-- the claim and keep only what is still wanted ...
-- name: ob_renew
UPDATE zwgk_notification SET claimed_until = :until
WHERE claim_token = :token AND status = 'sending' AND {_wanted}
RETURNING id

-- ... the rest is cancelled.
-- name: ob_unwanted
UPDATE zwgk_notification SET status = 'cancelled', claimed_by = NULL, claimed_until = NULL, claim_token = NULL
WHERE claim_token = :token AND status = 'sending' AND NOT {_wanted}

-- name: ob_sent
UPDATE zwgk_notification SET status = 'sent', sent_at = :now, claimed_by = NULL, claimed_until = NULL,
    claim_token = NULL, last_error = NULL
WHERE id = :id AND claim_token = :token AND status = 'sending'

-- name: ob_failed
UPDATE zwgk_notification SET status = :status, next_attempt_at = :retry_at, last_error = :error, claimed_by = NULL,
    claimed_until = NULL, claim_token = NULL
WHERE id = :id AND claim_token = :token AND status = 'sending'

-- What a claim holds and has not sent, handed back (a channel that failed, a stop).
-- name: ob_hand_back
UPDATE zwgk_notification SET status = 'pending', attempts = attempts - 1, claimed_by = NULL, claimed_until = NULL,
    claim_token = NULL
WHERE claim_token = :token AND status = 'sending'

-- name: ob_release
UPDATE zwgk_notification SET status = 'pending', attempts = attempts - 1, claimed_by = NULL, claimed_until = NULL,
    claim_token = NULL
WHERE claimed_by = :me AND status = 'sending'

-- Dead letters nobody has acknowledged (`zwgk daemon --status` exits 3 while there are some).
-- name: ob_unacked
SELECT count(*) FROM zwgk_notification WHERE status = 'dead' AND acked_at IS NULL

-- name: ob_ack
UPDATE zwgk_notification SET acked_by = :by, acked_at = :now
WHERE id = :id AND status = 'dead' AND acked_at IS NULL

-- name: ob_ack_all
UPDATE zwgk_notification SET acked_by = :by, acked_at = :now WHERE status = 'dead' AND acked_at IS NULL

-- name: lease_take
INSERT INTO zwgk_lease (name, holder, until) VALUES (:name, :me, :until)
ON CONFLICT (name) DO UPDATE SET holder = :me, until = :until
WHERE zwgk_lease.holder = :me OR zwgk_lease.until < :now

-- name: lease_holder
SELECT holder FROM zwgk_lease WHERE name = :name

-- name: lease_drop
DELETE FROM zwgk_lease WHERE name = :name AND holder = :me

-- A seal's root digest for a witness: no deadline; queued once per seal, witness and channel.
-- name: ob_witness
INSERT INTO zwgk_notification (key, deadline_id, due_on, step, recipient, channel, address, subject, text, fields,
    status, attempts, next_attempt_at, created_at)
VALUES (:key, NULL, :due_on, 'seal', :recipient, :channel, :address, :subject, :text, :fields, 'pending', 0, :now,
    :now)
ON CONFLICT DO NOTHING
