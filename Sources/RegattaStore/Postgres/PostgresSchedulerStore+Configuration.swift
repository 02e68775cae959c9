// SPDX-License-Identifier: Apache-2.0

extension PostgresSchedulerStore {
    /// Where the PostgreSQL server is and how the store uses it.
    ///
    /// `description` shows the settings with the password replaced by `***`, so it is safe to log.
    public struct Configuration: Sendable, Hashable, CustomStringConvertible {
        /// Whether to encrypt the connection.
        public enum TLSMode: String, Sendable, Hashable, CaseIterable {
            /// Plain TCP.
            case disable
            /// TLS when the server offers it, plain TCP otherwise. The server certificate is verified when TLS is used.
            case prefer
            /// TLS with a verified server certificate, or no connection.
            case require
        }

        /// The server's host name or IP address. Defaults to `127.0.0.1`.
        public var host: String
        /// The server's TCP port. Defaults to `5432`.
        public var port: Int
        /// The role to log in as.
        public var username: String
        /// The role's password, if the server asks for one.
        public var password: String?
        /// The database to open; `nil` opens the database named after the user.
        public var database: String?
        /// The schema holding the store's tables, created by ``PostgresSchedulerStore/migrate()`` if missing.
        /// Must be a plain identifier (letters, digits, `_`; at most 63 bytes). Defaults to `public`.
        public var schema: String
        /// Whether to use TLS. Defaults to ``TLSMode/prefer``.
        public var tls: TLSMode
        /// The most connections the pool opens. Defaults to `10`.
        public var maximumConnections: Int
        /// How long a call waits for a pooled connection before failing with ``StoreError/Code/unavailable``.
        /// Defaults to `10` seconds.
        public var connectionTimeout: Duration

        /// A configuration with the given server and login, and defaults for everything else.
        public init(
            host: String = "127.0.0.1",
            port: Int = 5432,
            username: String,
            password: String? = nil,
            database: String? = nil,
            schema: String = "public"
        ) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.schema = schema
            self.tls = .prefer
            self.maximumConnections = 10
            self.connectionTimeout = .seconds(10)
        }

        public var description: String {
            let login = self.password == nil ? self.username : "\(self.username):***"
            let host = self.host.contains(":") ? "[\(self.host)]" : self.host
            return "postgres://\(login)@\(host):\(self.port)/\(self.database ?? "")?schema=\(self.schema)"
                + "&sslmode=\(self.tls.rawValue)"
        }

        /// Throws ``StoreError/Code/invalidConfiguration`` unless ``schema`` is a plain identifier.
        func validated() throws -> Self {
            let bytes = Array(self.schema.utf8)
            let isIdentifier =
                !bytes.isEmpty && bytes.count <= 63
                && bytes.allSatisfy { $0 == UInt8(ascii: "_") || Self.isASCIILetter($0) || Self.isASCIIDigit($0) }
                && !Self.isASCIIDigit(bytes[0])
            guard isIdentifier else {
                throw StoreError(
                    .invalidConfiguration,
                    "The PostgreSQL schema name '\(self.schema)' is not a plain identifier; use letters, digits and "
                        + "'_' only, starting with a letter or '_', at most 63 characters."
                )
            }
            guard self.maximumConnections >= 1 else {
                throw StoreError(
                    .invalidConfiguration,
                    "The PostgreSQL pool size \(self.maximumConnections) is too small; allow at least 1 connection."
                )
            }
            return self
        }

        private static func isASCIILetter(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
        }

        private static func isASCIIDigit(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
    }
}
