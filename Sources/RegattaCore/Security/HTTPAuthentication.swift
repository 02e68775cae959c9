// SPDX-License-Identifier: Apache-2.0
import Foundation

/// What a caller presented in its `Authorization` header.
public enum PresentedCredential: Sendable, Equatable {
    /// `Basic base64(principal:secret)`: what pymesos, marathon-python and curl `-u` send.
    case basic(principal: String, secret: String)
    /// `Bearer token` (or DC/OS's `token=<token>`): the token is a principal's secret.
    case bearer(token: String)

    /// Parses an `Authorization` header value.
    ///
    /// - Returns: `nil` for a missing header; throws for one that is present but malformed, so a caller that meant to
    ///   authenticate is told why instead of being treated as anonymous.
    /// - Throws: ``AuthenticationFailure/malformed(_:)``.
    public static func parse(authorization value: String?) throws(AuthenticationFailure) -> PresentedCredential? {
        guard let value else { return nil }
        // DC/OS's form, which marathon-python sends for `auth_token=`: `Authorization: token=<T>`.
        if value.hasPrefix("token=") {
            let token = String(value.dropFirst("token=".count)).trimmingCharacters(in: .whitespaces)
            guard !token.isEmpty else { throw .malformed("The token is empty.") }
            return .bearer(token: token)
        }
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2 else {
            throw .malformed("The Authorization header must be 'Basic <base64 principal:secret>' or 'Bearer <token>'.")
        }
        let scheme = parts[0].lowercased()
        let payload = parts[1].trimmingCharacters(in: .whitespaces)
        switch scheme {
        case "basic":
            guard let data = Data(base64Encoded: payload), let text = String(data: data, encoding: .utf8),
                let colon = text.firstIndex(of: ":")
            else {
                throw .malformed("The Basic credentials are not base64 of 'principal:secret'.")
            }
            return .basic(principal: String(text[..<colon]), secret: String(text[text.index(after: colon)...]))
        case "bearer":
            guard !payload.isEmpty else { throw .malformed("The Bearer token is empty.") }
            return .bearer(token: payload)
        default:
            throw .malformed("Authorization scheme '\(parts[0])' is not supported; use Basic or Bearer.")
        }
    }
}

/// Why a request was not authenticated. The messages never repeat what the caller sent.
public enum AuthenticationFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// No credentials were presented where they are required.
    case missing
    /// The header could not be parsed.
    case malformed(String)
    /// Unknown principal, wrong secret or unknown token (one answer for all three).
    case rejected

    public var description: String {
        switch self {
        case .missing: "Authentication required: send HTTP Basic 'principal:secret' or a Bearer token."
        case .malformed(let why): why
        case .rejected: "The credentials were not accepted."
        }
    }
}

/// Who made a request, once its credentials were checked.
public enum Caller: Sendable, Hashable, CustomStringConvertible {
    /// Nobody presented credentials (allowed only where authentication is off).
    case anonymous
    /// `principal` proved who it is.
    case principal(String)

    /// The authenticated principal, if any.
    public var principal: String? {
        if case .principal(let name) = self { return name }
        return nil
    }

    public var description: String { self.principal ?? "anonymous" }
}

/// Decides who a request comes from: the credential store and whether credentials are required.
public struct HTTPAuthenticator: Sendable {
    /// The principals accepted; `nil` when the daemon has no credentials (everyone is anonymous).
    public let store: CredentialStore?
    /// Whether a request without credentials is refused.
    public let required: Bool

    public init(store: CredentialStore?, required: Bool) {
        self.store = store
        self.required = required
    }

    /// A daemon without credentials: every caller is anonymous and allowed.
    public static let open = HTTPAuthenticator(store: nil, required: false)

    /// Checks an `Authorization` header value.
    ///
    /// Presented credentials are always checked when the daemon has a store, even where they are not required: a
    /// wrong secret is refused, never downgraded to anonymous.
    ///
    /// - Throws: ``AuthenticationFailure``.
    public func authenticate(authorization: String?) throws(AuthenticationFailure) -> Caller {
        let presented = try PresentedCredential.parse(authorization: authorization)
        guard let presented else {
            if self.required { throw .missing }
            return .anonymous
        }
        guard let store = self.store else {
            // No credentials configured: there is nothing to check them against, and the caller is anonymous.
            return .anonymous
        }
        switch presented {
        case .basic(let principal, let secret):
            guard store.verify(principal: principal, secret: secret) else { throw .rejected }
            return .principal(principal)
        case .bearer(let token):
            guard let principal = store.principal(forToken: token) else { throw .rejected }
            return .principal(principal)
        }
    }
}
