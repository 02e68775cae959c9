// SPDX-License-Identifier: Apache-2.0
import HTTPTypes
import Hummingbird
import NIOCore
import RegattaCore

/// The caller of the request being handled, as ``MasterAuthenticationMiddleware`` authenticated it.
public enum MasterCaller {
    /// The authenticated caller; `.anonymous` outside a request or where nobody authenticated.
    @TaskLocal public static var current: Caller = .anonymous
}

/// The master's `401 Unauthorized`, as Mesos answers it: `WWW-Authenticate: Basic realm="mesos"` and a short
/// plain-text body saying what to send.
public struct MasterUnauthorized: HTTPResponseError, Sendable {
    /// Why the request was not authenticated.
    public var failure: AuthenticationFailure

    public init(_ failure: AuthenticationFailure) {
        self.failure = failure
    }

    public var status: HTTPResponse.Status { .unauthorized }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(
            status: .unauthorized,
            headers: [.wwwAuthenticate: "Basic realm=\"mesos\"", .contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: self.failure.description))
        )
    }
}

/// Authenticates every request to the master's routes by the kind of endpoint (``MasterEndpoint``) and runs the
/// route with ``MasterCaller/current`` set.
///
/// A request without credentials where its kind requires them, or with credentials that are malformed or wrong
/// (anywhere but the open endpoints), is answered `401` before the route runs. The operator API decides whether a
/// call needs authentication once it has read the call (``MasterAuthentication/requireCaller(_:forWrite:)``).
struct MasterAuthenticationMiddleware<Context: RequestContext>: RouterMiddleware {
    let authentication: MasterAuthentication

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let endpoint = MasterEndpoint.classify(method: request.method.rawValue, path: request.uri.path)
        if endpoint == .open { return try await next(request, context) }
        let caller: Caller
        do {
            caller = try self.authentication.authenticator(for: endpoint)
                .authenticate(authorization: request.headers[.authorization])
        } catch {
            return try MasterUnauthorized(error).response(from: request, context: context)
        }
        return try await MasterCaller.$current.withValue(caller) { try await next(request, context) }
    }
}

extension MasterAuthentication {
    /// Refuses an anonymous operator-API call where its kind needs authentication: `GET_*` calls read
    /// (`--authenticate_http_readonly`), the others write (`--authenticate_http_readwrite`).
    ///
    /// - Throws: ``MasterUnauthorized``.
    func requireCaller(_ caller: Caller, forWrite: Bool) throws {
        guard caller == .anonymous, self.credentials != nil else { return }
        if forWrite ? self.httpReadWrite : self.httpReadOnly { throw MasterUnauthorized(.missing) }
    }
}
