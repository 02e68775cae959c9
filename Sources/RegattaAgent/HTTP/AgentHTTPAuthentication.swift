// SPDX-License-Identifier: Apache-2.0
import Hummingbird
import NIOCore
import RegattaCore

/// Who may call the agent's own HTTP API: Mesos's agent flags `--credentials`, `--authenticate_http_readonly` and
/// `--authenticate_http_readwrite`.
///
/// Read-only requests (`GET`, `HEAD`: `/state`, `/files/*`, `/metrics*`) need credentials when ``readOnly`` is set,
/// every other method when ``readWrite`` is set; `/health` is always open. Credentials are HTTP Basic
/// `principal:secret` or a Bearer token (a principal's secret). A request that presents credentials has them checked
/// even where none are required: a wrong secret is refused, never treated as anonymous.
public struct AgentHTTPAuthentication: Sendable {
    /// The principals accepted (`--credentials`); `nil` leaves the API open.
    public var credentials: CredentialStore?
    /// Whether `GET`/`HEAD` requests need credentials. Defaults to `false`; `regatta agent` turns it on with
    /// `--credentials`.
    public var readOnly: Bool
    /// Whether every other method needs credentials. Defaults to `false`; `regatta agent` turns it on with
    /// `--credentials`.
    public var readWrite: Bool

    /// Creates the settings; the default leaves the API open.
    public init(credentials: CredentialStore? = nil, readOnly: Bool = false, readWrite: Bool = false) {
        self.credentials = credentials
        self.readOnly = readOnly
        self.readWrite = readWrite
    }

    /// Whether every endpoint but `/health` needs credentials: what the safe-by-default listener check asks.
    public var coversEverything: Bool {
        self.credentials != nil && self.readOnly && self.readWrite
    }

    /// The path that stays open.
    static let openPath = "/health"

    /// The authenticator for a request with `method`.
    func authenticator(for method: HTTPRequest.Method) -> HTTPAuthenticator {
        let readOnlyMethod = method == .get || method == .head
        return HTTPAuthenticator(
            store: self.credentials,
            required: self.credentials != nil && (readOnlyMethod ? self.readOnly : self.readWrite)
        )
    }
}

/// Answers `401` with Mesos's shape (`WWW-Authenticate: Basic realm="mesos"`, a short plain-text body) to a request
/// that does not authenticate where ``AgentHTTPAuthentication`` requires it.
struct AgentAuthenticationMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    let settings: AgentHTTPAuthentication

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if request.uri.path == AgentHTTPAuthentication.openPath {
            return try await next(request, context)
        }
        do {
            _ = try self.settings.authenticator(for: request.method).authenticate(
                authorization: request.headers[.authorization]
            )
        } catch {
            return Self.unauthorized(error)
        }
        return try await next(request, context)
    }

    /// Mesos's 401.
    static func unauthorized(_ failure: AuthenticationFailure) -> Response {
        Response(
            status: .unauthorized,
            headers: [.wwwAuthenticate: "Basic realm=\"mesos\"", .contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: failure.description + "\n"))
        )
    }
}
