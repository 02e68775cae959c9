// SPDX-License-Identifier: Apache-2.0

extension SQLiteSchedulerStore {
    /// The SQLite schema history, oldest first. Append new steps; never edit released ones.
    static let migrations: [Migration] = [
        Migration(
            version: 1,
            name: "create apps, app_versions, instances and kv",
            statements: [
                """
                CREATE TABLE apps (
                    id TEXT PRIMARY KEY NOT NULL,
                    version TEXT NOT NULL,
                    definition TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE app_versions (
                    app_id TEXT NOT NULL,
                    version TEXT NOT NULL,
                    definition TEXT NOT NULL,
                    PRIMARY KEY (app_id, version)
                )
                """,
                """
                CREATE TABLE instances (
                    id TEXT PRIMARY KEY NOT NULL,
                    app_id TEXT NOT NULL,
                    definition TEXT NOT NULL
                )
                """,
                "CREATE INDEX instances_app_id ON instances (app_id)",
                "CREATE TABLE kv (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)",
            ]
        ),
        Migration(
            version: 2,
            name: "one row per deployment instead of one kv value holding them all",
            statements: [
                """
                CREATE TABLE deployments (
                    id TEXT PRIMARY KEY NOT NULL,
                    app_id TEXT NOT NULL,
                    definition TEXT NOT NULL
                )
                """,
                """
                INSERT OR IGNORE INTO deployments (id, app_id, definition)
                SELECT json_extract(deployment.value, '$.id'), json_extract(deployment.value, '$.appId'),
                    deployment.value
                FROM kv, json_each(kv.value) AS deployment
                WHERE kv.key = 'deployments'
                """,
                "DELETE FROM kv WHERE key = 'deployments'",
            ]
        ),
    ]
}
