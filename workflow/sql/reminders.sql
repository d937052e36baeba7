-- Planning reminders (workflow/reminders.py): the deadlines whose next reminder step has come, on the planner's
-- partial index (next_at IS NOT NULL); daemons planning side by side each take different ones.

-- name: rm_due
SELECT d.id, d.kind, d.item_id, d.schedule, d.period, d.title, d.responsible, d.roles, d.unit_id, d.due_on,
    d.provisional, d.step, d.status, d.asked_by AS actor
FROM zwgk_deadline d WHERE d.next_at <= :now ORDER BY d.next_at, d.id LIMIT :n{of_d_skip_locked}

-- name: rm_people
SELECT id, name, unit_id, email, phone FROM zwgk_person WHERE active = :yes ORDER BY id

-- name: rm_roles
SELECT r.chain, r.person_id, r.role FROM zwgk_role r JOIN zwgk_person p ON p.id = r.person_id WHERE p.active = :yes

-- A newer step supersedes what is still pending of older ones (after an outage: "due today", not also "due
-- tomorrow").
-- name: rm_supersede
UPDATE zwgk_notification SET status = 'cancelled' WHERE deadline_id = :id AND status = 'pending' AND step <> :step

-- name: rm_move
UPDATE zwgk_deadline SET step = :step, status = :status, next_at = :next_at WHERE id = :id
