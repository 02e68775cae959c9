// SPDX-License-Identifier: Apache-2.0
import HTTPTypes
import Hummingbird
import NIOCore

/// An error of Marathon's API, answered with Marathon's status and body: `{"message": …}`, plus `details` (the
/// violations by JSON path) for 400 and 422, or `deployments` (the blocking ones) for a locked app's 409.
///
/// Route handlers throw it, or a ``SchedulerError``, which ``init(_:)`` maps; ``MarathonLeaderMiddleware`` turns
/// every other error into a 500 with `Internal error: …`.
public struct MarathonAPIError: HTTPResponseError, Sendable {
    /// The response's status.
    public var status: HTTPResponse.Status
    /// The `message` of the body.
    public var message: String
    /// The `details` of the body (400 and 422); left out when empty.
    public var details: [ValidationViolation]
    /// The deployments that lock the app (409); `nil` leaves `deployments` out of the body.
    public var deploymentIDs: [String]?
    /// Extra response headers (`WWW-Authenticate` of a `401`). Defaults to none.
    public var headers: HTTPFields = [:]

    /// An error answered with `status` and `{"message": message, "details": …}`.
    public init(
        _ status: HTTPResponse.Status,
        _ message: String,
        details: [ValidationViolation] = [],
        deploymentIDs: [String]? = nil
    ) {
        self.status = status
        self.message = message
        self.details = details
        self.deploymentIDs = deploymentIDs
    }

    /// The answer to a scheduler error: 404 for a missing app or task, 409 for a conflict or a locked app, 422 for
    /// an invalid app, 400 for malformed JSON, 413 for a body too large, 503 when the store, the master or the
    /// leadership is missing, and 500 otherwise.
    public init(_ error: SchedulerError) {
        let status: HTTPResponse.Status
        switch error.code {
        case .appNotFound, .taskNotFound: status = .notFound
        case .appExists: status = .conflict
        case .appLocked:
            self.init(.conflict, error.message, deploymentIDs: error.deploymentIDs)
            return
        case .invalidApp: status = .unprocessableContent
        case .invalidJSON: status = .badRequest
        case .bodyTooLarge: status = .contentTooLarge
        case .storeUnavailable, .notLeader, .masterUnavailable: status = .serviceUnavailable
        default: status = .internalServerError
        }
        self.init(status, error.message, details: error.details)
    }

    /// The answer to an error no route expected: 500 with `Internal error: <error>`.
    public init(internal error: any Error) {
        self.init(.internalServerError, "Internal error: \(error)")
    }

    /// A 400 for a body that does not decode: `Invalid JSON`, with the path and the reason.
    static func invalidJSON(path: String, _ reason: String) -> MarathonAPIError {
        MarathonAPIError(.badRequest, "Invalid JSON", details: [ValidationViolation(path: path, errors: [reason])])
    }

    /// A 404 for an app that is not there.
    static func appNotFound(_ id: String) -> MarathonAPIError {
        MarathonAPIError(.notFound, "App '\(id)' does not exist")
    }

    /// The body: `{"message": …}` with `details` or `deployments`, keys sorted.
    var body: MarathonJSON.Object {
        var body = MarathonJSON.error(self.message, details: self.details)
        if let deploymentIDs = self.deploymentIDs {
            body["deployments"] = deploymentIDs.map { ["id": $0] }
        }
        return body
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json"
        return Response(
            status: self.status,
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: MarathonJSON.data(self.body)))
        )
    }
}
