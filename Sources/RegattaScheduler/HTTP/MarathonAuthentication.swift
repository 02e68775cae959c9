// SPDX-License-Identifier: Apache-2.0
import HTTPTypes
import Hummingbird
import RegattaCore

/// Who may call the scheduler's API: Marathon's `--http_credentials` (read-write users) and
/// `--http_readonly_credentials` (users who may only read, with `GET` and `HEAD`).
///
/// Callers present HTTP Basic `user:password` or `Bearer <password>`. Without credentials (``open``) every caller is
/// anonymous and may do everything, as before. With them, every route but `/ping` needs a known user:
/// - no or a malformed `Authorization` header, an unknown user or a wrong password: `401` with
///   `WWW-Authenticate: Basic realm="Mesosphere"` and `{"message": …}`;
/// - a read-only user sending anything but `GET` or `HEAD`: `403` with `{"message": …}`.
public struct MarathonAuthentication: Sendable {
    /// What an authenticated caller may do.
    public enum Access: Sendable, Equatable {
        /// Everything (anonymous callers of an open scheduler, users of `--http_credentials`).
        case readWrite
        /// `GET` and `HEAD` only (users of `--http_readonly_credentials`).
        case readOnly
    }

    /// The read-write users (`--http_credentials`); `nil` when the API is open.
    public let readWrite: CredentialStore?
    /// The read-only users (`--http_readonly_credentials`); `nil` when there are none.
    public let readOnly: CredentialStore?

    /// No credentials: every caller is anonymous and may do everything.
    public static let open = MarathonAuthentication(checked: nil, nil)

    /// Credentials for the API.
    ///
    /// - Throws: ``SecurityError`` when read-only users are given without read-write ones (nobody could change
    ///   anything), or when a user is in both lists.
    public init(readWrite: CredentialStore?, readOnly: CredentialStore? = nil) throws {
        if let readOnly {
            guard let readWrite else {
                throw SecurityError(
                    .invalidCredentials,
                    "--http_readonly_credentials needs --http_credentials too: without read-write users nobody "
                        + "could change anything; give --http_credentials user:password."
                )
            }
            if let both = readOnly.principals.first(where: { readWrite.principals.contains($0) }) {
                throw SecurityError(
                    .invalidCredentials,
                    "User '\(both)' is in both --http_credentials and --http_readonly_credentials; keep it in one."
                )
            }
        }
        self.init(checked: readWrite, readOnly)
    }

    private init(checked readWrite: CredentialStore?, _ readOnly: CredentialStore?) {
        self.readWrite = readWrite
        self.readOnly = readOnly
    }

    /// Whether callers must authenticate.
    public var isRequired: Bool { self.readWrite != nil }

    /// The methods a read-only user may send.
    static let readMethods: Set<HTTPRequest.Method> = [.get, .head]

    /// Checks a request's `Authorization` header and method.
    ///
    /// - Returns: who the caller is (`.anonymous` only when the API is open).
    /// - Throws: ``MarathonAPIError`` with `401` or `403`.
    public func authorize(
        method: HTTPRequest.Method,
        authorization: String?
    ) throws(MarathonAPIError) -> Caller {
        guard let readWrite = self.readWrite else { return .anonymous }
        let presented: PresentedCredential?
        do {
            presented = try PresentedCredential.parse(authorization: authorization)
        } catch {
            throw .unauthenticated(error.description)
        }
        guard let presented else { throw .unauthenticated(AuthenticationFailure.missing.description) }
        // Both lists are always searched, so the time taken does not tell which one a user is in.
        let writer: String?
        let reader: String?
        switch presented {
        case .basic(let user, let password):
            let isWriter = readWrite.verify(principal: user, secret: password)
            let isReader = self.readOnly?.verify(principal: user, secret: password) ?? false
            writer = isWriter ? user : nil
            reader = isReader ? user : nil
        case .bearer(let token):
            writer = readWrite.principal(forToken: token)
            reader = self.readOnly?.principal(forToken: token)
        }
        if let writer { return .principal(writer) }
        guard let reader else { throw .unauthenticated(AuthenticationFailure.rejected.description) }
        guard Self.readMethods.contains(method) else {
            throw MarathonAPIError(
                .forbidden,
                "User '\(reader)' has read-only access and may not \(method.rawValue) here; use a user of "
                    + "--http_credentials."
            )
        }
        return .principal(reader)
    }

    /// Whether `path` is answered without credentials: `/ping`, as Marathon's load balancers probe it.
    static func isOpen(path: String) -> Bool {
        path == "/ping"
    }
}

extension MarathonAPIError {
    /// The `401` of the API: `WWW-Authenticate: Basic realm="Mesosphere"` and `{"message": …}`.
    static func unauthenticated(_ message: String) -> MarathonAPIError {
        var error = MarathonAPIError(.unauthorized, message)
        error.headers[.wwwAuthenticate] = #"Basic realm="Mesosphere""#
        return error
    }
}

/// Refuses calls ``MarathonAuthentication`` does not allow, before they reach a route (`/ping` excepted).
struct MarathonAuthenticationMiddleware<Context: RequestContext>: RouterMiddleware {
    let authentication: MarathonAuthentication

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if self.authentication.isRequired && !MarathonAuthentication.isOpen(path: request.uri.path) {
            _ = try self.authentication.authorize(
                method: request.method,
                authorization: request.headers[.authorization]
            )
        }
        return try await next(request, context)
    }
}
