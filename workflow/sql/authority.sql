-- The register and the units' books as the engine's tables hold them (projections of the chains).

-- name: people
SELECT id, name, unit_id, email, phone, active FROM zwgk_person ORDER BY id

-- name: roles
SELECT chain, person_id, role FROM zwgk_role ORDER BY chain, person_id, role

-- name: unit_roles
SELECT person_id, role FROM zwgk_role WHERE chain = :chain

-- name: units
SELECT id, name, kind, open FROM zwgk_unit ORDER BY id

-- name: adoptions
SELECT unit_id, kind, pipeline, seq FROM zwgk_adopted ORDER BY unit_id, kind

-- name: unit_adoptions
SELECT kind, pipeline, seq FROM zwgk_adopted WHERE unit_id = :unit

-- name: insert_person
INSERT INTO zwgk_person (id, name, unit_id, email, phone, active, created_at)
VALUES (:id, :name, :unit_id, :email, :phone, :active, :at)

-- name: set_active
UPDATE zwgk_person SET active = :active WHERE id = :id

-- name: insert_role
INSERT INTO zwgk_role (chain, person_id, role) VALUES (:chain, :person_id, :role)

-- name: delete_role
DELETE FROM zwgk_role WHERE chain = :chain AND person_id = :person_id AND role = :role

-- name: insert_unit
INSERT INTO zwgk_unit (id, name, kind, open, created_at) VALUES (:id, :name, :kind, :open, :at)

-- name: close_unit
UPDATE zwgk_unit SET open = :open WHERE id = :id

-- name: delete_adopted
DELETE FROM zwgk_adopted WHERE unit_id = :unit_id AND kind = :kind

-- name: insert_adopted
INSERT INTO zwgk_adopted (unit_id, kind, pipeline, seq) VALUES (:unit_id, :kind, :pipeline, :seq)
