// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Which database a scheduler store uses, parsed from a `--store` URL.
///
/// Accepted forms:
/// - `postgres://USER[:PASSWORD]@HOST[:PORT][/DATABASE][?schema=NAME&sslmode=MODE&connect_timeout=SECONDS]`,
///   also spelled `postgresql://`. `HOST` may be an IPv6 address in brackets; `PORT` defaults to `5432`;
///   `DATABASE` defaults to the user's name; `schema` defaults to `public`; `sslmode` is `disable`, `prefer`
///   (the default) or `require` (libpq's `verify-ca` and `verify-full` mean `require`); `connect_timeout` is how
///   long a call waits for a connection, in seconds (default `10`). User, password and database are
///   percent-decoded, so write `@` in a password as `%40`.
/// - `sqlite:///ABSOLUTE/PATH` — an absolute path (three slashes).
/// - `sqlite://RELATIVE/PATH` — a path relative to the working directory *at parse time*; it is resolved to an
///   absolute path immediately, so a later change of directory does not move the database.
///
/// The path is percent-decoded; the file and its directory are created on first use.
public enum StoreLocation: Sendable, Hashable {
    /// A PostgreSQL database.
    case postgres(PostgresSchedulerStore.Configuration)
    /// An SQLite database file.
    case sqlite(SQLiteSchedulerStore.Configuration)

    /// The accepted URL forms, for error messages and help texts.
    public static let acceptedForms =
        "postgres://USER[:PASSWORD]@HOST[:PORT][/DATABASE][?schema=NAME&sslmode=disable|prefer|require"
        + "&connect_timeout=SECONDS] (or postgresql://…), sqlite:///ABSOLUTE/PATH or sqlite://RELATIVE/PATH"

    /// Parses a store URL.
    ///
    /// - Throws: ``StoreError/Code/invalidConfiguration`` with a message naming the accepted forms. The message
    ///   never contains the password.
    public init(url: String) throws {
        let trimmed = url.trimmingCharacters(in: .whitespaces)
        guard let separator = trimmed.range(of: "://") else {
            throw Self.invalid(url, "it has no scheme")
        }
        let scheme = trimmed[..<separator.lowerBound].lowercased()
        let rest = String(trimmed[separator.upperBound...])
        switch scheme {
        case "postgres", "postgresql":
            self = .postgres(try Self.parsePostgres(rest, url: url))
        case "sqlite":
            self = .sqlite(try Self.parseSQLite(rest, url: url))
        default:
            throw Self.invalid(url, "the scheme '\(scheme)' is not supported")
        }
    }

    // MARK: PostgreSQL

    private static func parsePostgres(_ rest: String, url: String) throws -> PostgresSchedulerStore.Configuration {
        if rest.contains("#") {
            throw Self.invalid(url, "it has a '#' fragment (percent-encode '#' in a password as %23)")
        }
        let (beforeQuery, query) = rest.splitOnce("?")
        // The last '@' ends the user info, so a password with an unencoded '/' or '@' still parses.
        guard let at = beforeQuery.lastIndex(of: "@") else {
            throw Self.invalid(url, "it names no user (write USER@ before the host)")
        }
        let userInfo = String(beforeQuery[..<at])
        let (hostPort, path) = String(beforeQuery[beforeQuery.index(after: at)...]).splitOnce("/")
        let (rawUser, rawPassword) = userInfo.splitOnce(":")
        guard let user = rawUser.removingPercentEncoding, !user.isEmpty else {
            throw Self.invalid(url, "the user name is empty or badly percent-encoded")
        }
        var password: String?
        if let rawPassword {
            guard let decoded = rawPassword.removingPercentEncoding else {
                throw Self.invalid(url, "the password is badly percent-encoded")
            }
            password = decoded
        }
        let (host, port) = try Self.parseHostPort(hostPort, url: url)
        var database: String?
        if let path, !path.isEmpty {
            guard let decoded = path.removingPercentEncoding, !decoded.contains("/") else {
                throw Self.invalid(url, "the database name must be one path segment")
            }
            database = decoded
        }
        var configuration = PostgresSchedulerStore.Configuration(
            host: host,
            port: port,
            username: user,
            password: password,
            database: database
        )
        for item in (query ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let (key, rawValue) = String(item).splitOnce("=")
            let value = rawValue?.removingPercentEncoding ?? ""
            switch key {
            case "schema":
                configuration.schema = value
            case "sslmode":
                switch value {
                case "disable": configuration.tls = .disable
                case "prefer", "allow": configuration.tls = .prefer
                case "require", "verify-ca", "verify-full": configuration.tls = .require
                default: throw Self.invalid(url, "sslmode '\(value)' is not one of disable, prefer, require")
                }
            case "connect_timeout":
                guard let seconds = Int(value), seconds > 0 else {
                    throw Self.invalid(url, "connect_timeout '\(value)' is not a positive number of seconds")
                }
                configuration.connectionTimeout = .seconds(seconds)
            default:
                throw Self.invalid(url, "the parameter '\(key)' is unknown (use schema, sslmode or connect_timeout)")
            }
        }
        do {
            return try configuration.validated()
        } catch let error as StoreError {
            throw Self.invalid(url, error.message)
        }
    }

    private static func parseHostPort(_ text: String, url: String) throws -> (String, Int) {
        var host: String
        var portText: String?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw Self.invalid(url, "the IPv6 host has no closing ']'")
            }
            host = String(text[text.index(after: text.startIndex)..<close])
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw Self.invalid(url, "unexpected text after the IPv6 host") }
                portText = String(after.dropFirst())
            }
        } else {
            let (name, port) = text.splitOnce(":")
            host = name
            portText = port
        }
        host = host.removingPercentEncoding ?? host
        guard !host.isEmpty else {
            throw Self.invalid(url, "it names no host (write @HOST after the user)")
        }
        guard let portText else { return (host, 5432) }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw Self.invalid(url, "the port '\(portText)' is not a number from 1 to 65535")
        }
        return (host, port)
    }

    // MARK: SQLite

    private static func parseSQLite(_ rest: String, url: String) throws -> SQLiteSchedulerStore.Configuration {
        guard let decoded = rest.removingPercentEncoding else {
            throw Self.invalid(url, "the path is badly percent-encoded")
        }
        guard !decoded.isEmpty, decoded != "/", !decoded.hasSuffix("/") else {
            throw Self.invalid(url, "it names no database file")
        }
        if decoded.hasPrefix("/") {
            return SQLiteSchedulerStore.Configuration(path: decoded)
        }
        let absolute = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
            .appendingPathComponent(decoded).standardizedFileURL.path
        return SQLiteSchedulerStore.Configuration(path: absolute)
    }

    // MARK: Errors

    private static func invalid(_ url: String, _ reason: String) -> StoreError {
        let reason = reason.hasSuffix(".") ? String(reason.dropLast()) : reason
        return StoreError(
            .invalidConfiguration,
            "The store URL '\(Self.redacted(url))' is invalid: \(reason). Use \(Self.acceptedForms)."
        )
    }

    /// The URL with any password replaced by `***`.
    static func redacted(_ url: String) -> String {
        guard let separator = url.range(of: "://") else {
            // Without a scheme there is no telling which part is secret.
            return url.contains("@") || url.contains(":") ? "<redacted>" : url
        }
        let rest = url[separator.upperBound...]
        let beforeQuery = rest[..<(rest.firstIndex(of: "?") ?? rest.endIndex)]
        guard let at = beforeQuery.lastIndex(of: "@"), let colon = beforeQuery[..<at].firstIndex(of: ":") else {
            return url
        }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }
}

extension String {
    /// Splits at the first `separator`: the text before it, and the text after it if it occurs.
    fileprivate func splitOnce(_ separator: Character) -> (String, String?) {
        guard let index = self.firstIndex(of: separator) else { return (self, nil) }
        return (String(self[..<index]), String(self[self.index(after: index)...]))
    }
}
