// SPDX-License-Identifier: Apache-2.0
import Foundation

/// One principal and its secret: what a framework, an agent, an operator or the scheduler presents.
///
/// `description` never shows the secret, so a credential can be logged or printed in an error safely.
public struct Credential: Sendable, Hashable, CustomStringConvertible {
    /// Who this is (a framework's `principal`, an agent's principal, an operator's user name).
    public var principal: String
    /// What proves it.
    public var secret: String

    /// A credential, checked: a principal is not empty and has no `:` (HTTP Basic could not carry it), a secret is
    /// not empty.
    ///
    /// - Throws: ``SecurityError`` naming what is wrong.
    public init(principal: String, secret: String) throws {
        guard !principal.isEmpty else {
            throw SecurityError(.invalidCredentials, "A credential has an empty principal; give each one a name.")
        }
        guard !principal.contains(":") else {
            throw SecurityError(
                .invalidCredentials,
                "Principal '\(principal)' contains ':', which HTTP Basic cannot carry; choose a name without it."
            )
        }
        guard !secret.isEmpty else {
            throw SecurityError(.invalidCredentials, "Principal '\(principal)' has an empty secret; give it one.")
        }
        self.principal = principal
        self.secret = secret
    }

    public var description: String { "\(self.principal):<redacted>" }

    /// The `Authorization` header value that presents this credential (HTTP Basic).
    public var basicAuthorization: String {
        "Basic " + Data("\(self.principal):\(self.secret)".utf8).base64EncodedString()
    }

    /// Reads a single credential from a file in Mesos's forms (an agent's `--credential`, the scheduler's
    /// `--mesos_authentication_secret_file` with its principal given apart).
    ///
    /// Accepted: JSON `{"principal": "…", "secret": "…"}`, or text `principal secret` on the first line.
    ///
    /// - Throws: ``SecurityError`` naming the file and what is wrong with it.
    public static func mesosFile(at path: String) throws -> Credential {
        let text = try SecurityFiles.read(path, what: "credential")
        if text.first == "{" {
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw SecurityError(
                    .invalidCredentials,
                    "Credential file '\(path)' is not valid JSON; write {\"principal\": \"…\", \"secret\": \"…\"}."
                )
            }
            return try Self.fromJSON(object, in: path)
        }
        let words = text.split(whereSeparator: \.isNewline).first.map { $0.split(whereSeparator: \.isWhitespace) } ?? []
        guard words.count == 2 else {
            throw SecurityError(
                .invalidCredentials,
                "Credential file '\(path)' must hold 'principal secret' on one line, or "
                    + "{\"principal\": \"…\", \"secret\": \"…\"}."
            )
        }
        return try Credential(principal: String(words[0]), secret: String(words[1]))
    }

    /// Reads a secret alone from a file (trailing newlines removed), for flags that take the principal apart.
    ///
    /// - Throws: ``SecurityError`` when the file cannot be read or is empty.
    public static func secretFile(at path: String) throws -> String {
        let text = try SecurityFiles.read(path, what: "secret")
        guard let line = text.split(whereSeparator: \.isNewline).first, !line.isEmpty else {
            throw SecurityError(.invalidCredentials, "Secret file '\(path)' is empty; write the secret in it.")
        }
        return String(line)
    }

    static func fromJSON(_ object: [String: Any], in path: String) throws -> Credential {
        let unknown = Set(object.keys).subtracting(["principal", "secret"])
        guard unknown.isEmpty else {
            throw SecurityError(
                .invalidCredentials,
                "Credential in '\(path)' has unknown field(s) \(unknown.sorted().joined(separator: ", ")); "
                    + "only 'principal' and 'secret' are read."
            )
        }
        guard let principal = object["principal"] as? String, let secret = object["secret"] as? String else {
            throw SecurityError(
                .invalidCredentials,
                "Credential in '\(path)' needs string fields 'principal' and 'secret'."
            )
        }
        return try Credential(principal: principal, secret: secret)
    }
}

/// The principals a daemon accepts, with their secrets: a master's `--credentials`, an agent's `--credentials`,
/// the scheduler's `--http_credentials` and `--http_readonly_credentials`.
///
/// Secrets are compared in constant time; a lookup does not reveal by its timing which principals exist.
public struct CredentialStore: Sendable, CustomStringConvertible {
    /// The credentials, in the order given.
    public let credentials: [Credential]

    /// A store of `credentials`.
    ///
    /// - Throws: ``SecurityError`` when a principal appears twice.
    public init(_ credentials: [Credential]) throws {
        var seen = Set<String>()
        for credential in credentials where !seen.insert(credential.principal).inserted {
            throw SecurityError(
                .invalidCredentials,
                "Principal '\(credential.principal)' is given twice; give each principal one secret."
            )
        }
        self.credentials = credentials
    }

    /// Whether no principal is accepted.
    public var isEmpty: Bool { self.credentials.isEmpty }

    /// The principals, in the order given.
    public var principals: [String] { self.credentials.map(\.principal) }

    public var description: String { "[\(self.credentials.map(\.description).joined(separator: ", "))]" }

    /// Reads Mesos's `--credentials` file.
    ///
    /// Accepted: JSON `{"credentials": [{"principal": "…", "secret": "…"}, …]}`, or text with one
    /// `principal secret` per line (Mesos's older form; blank lines and lines starting with `#` are skipped).
    ///
    /// - Throws: ``SecurityError`` naming the file and what is wrong with it.
    public static func mesosFile(at path: String) throws -> CredentialStore {
        let text = try SecurityFiles.read(path, what: "credentials")
        if text.first == "{" {
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw SecurityError(
                    .invalidCredentials,
                    "Credentials file '\(path)' is not valid JSON; write "
                        + "{\"credentials\": [{\"principal\": \"…\", \"secret\": \"…\"}]}."
                )
            }
            let unknown = Set(object.keys).subtracting(["credentials"])
            guard unknown.isEmpty else {
                throw SecurityError(
                    .invalidCredentials,
                    "Credentials file '\(path)' has unknown field(s) \(unknown.sorted().joined(separator: ", ")); "
                        + "only 'credentials' is read."
                )
            }
            guard let list = object["credentials"] as? [Any] else {
                throw SecurityError(
                    .invalidCredentials,
                    "Credentials file '\(path)' needs a 'credentials' array of {\"principal\", \"secret\"} objects."
                )
            }
            let credentials = try list.map { entry -> Credential in
                guard let entry = entry as? [String: Any] else {
                    throw SecurityError(
                        .invalidCredentials,
                        "Every entry of 'credentials' in '\(path)' must be an object with 'principal' and 'secret'."
                    )
                }
                return try Credential.fromJSON(entry, in: path)
            }
            return try CredentialStore(try Self.nonEmpty(credentials, path: path))
        }
        var credentials: [Credential] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let words = trimmed.split(whereSeparator: \.isWhitespace)
            guard words.count == 2 else {
                throw SecurityError(
                    .invalidCredentials,
                    "Line \(number + 1) of credentials file '\(path)' must be 'principal secret'."
                )
            }
            credentials.append(try Credential(principal: String(words[0]), secret: String(words[1])))
        }
        return try CredentialStore(try Self.nonEmpty(credentials, path: path))
    }

    /// Parses Marathon's `--http_credentials` form: `user:password[,user:password…]`.
    ///
    /// A password may contain `:` (the first one separates); a `,` separates entries.
    ///
    /// - Throws: ``SecurityError`` naming `flag` and the expected form.
    public static func marathonList(_ text: String, flag: String = "--http_credentials") throws -> CredentialStore {
        var credentials: [Credential] = []
        for entry in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let colon = entry.firstIndex(of: ":") else {
                throw SecurityError(
                    .invalidCredentials,
                    "\(flag) takes user:password[,user:password…]; an entry has no ':'."
                )
            }
            do {
                credentials.append(
                    try Credential(
                        principal: String(entry[..<colon]),
                        secret: String(entry[entry.index(after: colon)...])
                    )
                )
            } catch let error as SecurityError {
                throw SecurityError(.invalidCredentials, "\(flag): \(error.message)")
            }
        }
        return try CredentialStore(credentials)
    }

    /// Whether `principal` is known and `secret` is its secret. The time taken depends neither on where the secret
    /// differs nor on whether the principal exists.
    public func verify(principal: String, secret: String) -> Bool {
        var match = false
        for credential in self.credentials {
            let samePrincipal = ConstantTime.equals(credential.principal, principal)
            let sameSecret = ConstantTime.equals(credential.secret, secret)
            match = match || (samePrincipal && sameSecret)
        }
        return match
    }

    /// The principal whose secret is `token` (a Bearer token), if any; every secret is compared.
    public func principal(forToken token: String) -> String? {
        var found: String?
        for credential in self.credentials where ConstantTime.equals(credential.secret, token) {
            found = found ?? credential.principal
        }
        return found
    }

    private static func nonEmpty(_ credentials: [Credential], path: String) throws -> [Credential] {
        guard !credentials.isEmpty else {
            throw SecurityError(
                .invalidCredentials,
                "Credentials file '\(path)' lists no principal; add at least one, or leave the flag out."
            )
        }
        return credentials
    }
}

/// Reads the small files that hold secrets and policies.
enum SecurityFiles {
    static func read(_ path: String, what: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SecurityError(
                .unreadableFile,
                "Cannot read the \(what) file '\(path)'; check the path and its permissions."
            )
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SecurityError(.unreadableFile, "The \(what) file '\(path)' is not UTF-8 text.")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
