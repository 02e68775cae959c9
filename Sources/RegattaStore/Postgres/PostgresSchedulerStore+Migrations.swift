// SPDX-License-Identifier: Apache-2.0

extension PostgresSchedulerStore {
    /// The PostgreSQL schema history, oldest first, for tables in the schema quoted as `schema`.
    /// Append new steps; never edit released ones.
    ///
    /// Id and version columns use the `C` collation so that `ORDER BY` sorts by code point, as the other stores do.
    static func migrations(schema: String) -> [Migration] {
        [
            Migration(
                version: 1,
                name: "create apps, app_versions, instances and kv",
                statements: [
                    """
                    CREATE TABLE \(schema).apps (
                        id text COLLATE "C" PRIMARY KEY,
                        version text COLLATE "C" NOT NULL,
                        definition jsonb NOT NULL
                    )
                    """,
                    """
                    CREATE TABLE \(schema).app_versions (
                        app_id text COLLATE "C" NOT NULL,
                        version text COLLATE "C" NOT NULL,
                        definition jsonb NOT NULL,
                        PRIMARY KEY (app_id, version)
                    )
                    """,
                    """
                    CREATE TABLE \(schema).instances (
                        id text COLLATE "C" PRIMARY KEY,
                        app_id text COLLATE "C" NOT NULL,
                        definition jsonb NOT NULL
                    )
                    """,
                    "CREATE INDEX instances_app_id_idx ON \(schema).instances (app_id)",
                    "CREATE TABLE \(schema).kv (key text COLLATE \"C\" PRIMARY KEY, value text NOT NULL)",
                ]
            ),
            Migration(
                version: 2,
                name: "one row per deployment instead of one kv value holding them all",
                statements: [
                    """
                    CREATE TABLE \(schema).deployments (
                        id text COLLATE "C" PRIMARY KEY,
                        app_id text COLLATE "C" NOT NULL,
                        definition jsonb NOT NULL
                    )
                    """,
                    """
                    INSERT INTO \(schema).deployments (id, app_id, definition)
                    SELECT deployment->>'id', deployment->>'appId', deployment
                    FROM \(schema).kv, jsonb_array_elements(kv.value::jsonb) AS deployment
                    WHERE kv.key = 'deployments'
                    ON CONFLICT (id) DO NOTHING
                    """,
                    "DELETE FROM \(schema).kv WHERE key = 'deployments'",
                ]
            ),
        ]
    }
}
