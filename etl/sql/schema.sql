-- The warehouse schema. Every table and column is documented in docs/warehouse.md;
-- tests/test_schema.py keeps the two in step.

CREATE TABLE IF NOT EXISTS meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR
);

CREATE TABLE IF NOT EXISTS load_batches (
    batch_id INTEGER PRIMARY KEY,
    kind VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    source_sha256 VARCHAR NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    rows_read INTEGER NOT NULL,
    loaded INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    duplicates INTEGER NOT NULL,
    rejected INTEGER NOT NULL,
    options VARCHAR
);

CREATE TABLE IF NOT EXISTS rejected_rows (
    batch_id INTEGER NOT NULL,
    line_no INTEGER NOT NULL,
    reason VARCHAR NOT NULL,
    field VARCHAR,
    message VARCHAR NOT NULL,
    raw VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS areas (
    code VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    level VARCHAR NOT NULL CHECK (level IN ('district', 'town', 'village')),
    parent_code VARCHAR,
    geom GEOMETRY,
    seat_lon DOUBLE,
    seat_lat DOUBLE,
    official_poor BOOLEAN NOT NULL DEFAULT false,
    synthetic_geom BOOLEAN NOT NULL DEFAULT false,
    batch_id INTEGER,
    derived_geom BOOLEAN NOT NULL DEFAULT false  -- outline is the union of its villages' (the file had none)
);

CREATE TABLE IF NOT EXISTS buildings (
    building_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    area_code VARCHAR NOT NULL,
    lon DOUBLE,
    lat DOUBLE,
    units INTEGER,
    has_station BOOLEAN NOT NULL DEFAULT false,
    batch_id INTEGER
);

CREATE TABLE IF NOT EXISTS stations (
    station_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    area_code VARCHAR NOT NULL,
    building_id VARCHAR,
    lon DOUBLE,
    lat DOUBLE,
    staff INTEGER,
    reception_days VARCHAR,
    batch_id INTEGER
);

CREATE TABLE IF NOT EXISTS households (
    household_id VARCHAR PRIMARY KEY,
    area_code VARCHAR NOT NULL,
    head_masked VARCHAR,
    head_hash VARCHAR,
    members INTEGER,
    annual_income DOUBLE,
    debt DOUBLE,
    difficulty INTEGER,
    category VARCHAR NOT NULL,
    category_since DATE,
    poor BOOLEAN NOT NULL DEFAULT false,
    wubao BOOLEAN NOT NULL DEFAULT false,
    old_party_member BOOLEAN NOT NULL DEFAULT false,
    deputy BOOLEAN NOT NULL DEFAULT false,
    village_cadre BOOLEAN NOT NULL DEFAULT false,
    paired_cadre_id VARCHAR,
    lon DOUBLE,
    lat DOUBLE,
    batch_id INTEGER
);

CREATE TABLE IF NOT EXISTS household_categories (
    household_id VARCHAR NOT NULL,
    category VARCHAR NOT NULL,
    valid_from DATE NOT NULL,
    valid_to DATE,
    batch_id INTEGER
);

CREATE TABLE IF NOT EXISTS cadres (
    cadre_id VARCHAR PRIMARY KEY,
    name_masked VARCHAR,
    name_hash VARCHAR,
    unit VARCHAR,
    role VARCHAR,
    area_code VARCHAR,
    batch_id INTEGER
);

CREATE TABLE IF NOT EXISTS visits (
    visit_id VARCHAR PRIMARY KEY,
    cadre_id VARCHAR NOT NULL,
    area_code VARCHAR NOT NULL,
    household_id VARCHAR,
    visited_at DATE NOT NULL,
    purpose VARCHAR,
    batch_id INTEGER
);

CREATE TABLE IF NOT EXISTS disasters (
    disaster_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    started_at DATE NOT NULL,
    ended_at DATE,
    geom GEOMETRY NOT NULL,
    batch_id INTEGER
);

CREATE TABLE IF NOT EXISTS cases (
    case_id VARCHAR PRIMARY KEY,
    received_at TIMESTAMP NOT NULL,
    channel VARCHAR NOT NULL,
    category VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    area_code VARCHAR NOT NULL,
    lon DOUBLE,
    lat DOUBLE,
    placement VARCHAR NOT NULL,
    major BOOLEAN NOT NULL DEFAULT false,
    assigned_at TIMESTAMP,
    deadline TIMESTAMP NOT NULL,
    closed_at TIMESTAMP,
    satisfaction VARCHAR,
    content VARCHAR,
    petitioner_masked VARCHAR,
    phone_masked VARCHAR,
    id_masked VARCHAR,
    petitioner_hash VARCHAR,
    group_size INTEGER NOT NULL DEFAULT 1,
    handling_unit VARCHAR,
    leader_in_charge VARCHAR,
    tier INTEGER,
    escalation_level VARCHAR,
    received_level VARCHAR,
    handling_opinion VARCHAR,
    followup_at TIMESTAMP,
    signed_handler BOOLEAN,
    signed_leader BOOLEAN,
    batch_id INTEGER,
    channel_raw VARCHAR,
    category_raw VARCHAR,
    status_raw VARCHAR,
    satisfaction_raw VARCHAR,
    content_md5 VARCHAR
);

-- The warehouse's own vocabulary: a term its files write, mapped to a term of etl/vocab.toml
-- (`minqing vocab map`); kept across loads, applied before the synonyms and containment.
CREATE TABLE IF NOT EXISTS vocab_map (
    domain VARCHAR NOT NULL,
    term VARCHAR NOT NULL,
    mapped_to VARCHAR NOT NULL,
    mapped_at TIMESTAMP NOT NULL,
    PRIMARY KEY (domain, term)
);

CREATE TABLE IF NOT EXISTS case_events (
    case_id VARCHAR NOT NULL,
    "at" TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL,
    unit VARCHAR,
    note VARCHAR,
    batch_id INTEGER
);
