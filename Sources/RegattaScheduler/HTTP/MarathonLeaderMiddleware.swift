// SPDX-License-Identifier: Apache-2.0
import HTTPTypes
import Hummingbird

/// Stamps Marathon's `X-Marathon-Leader: http://<host:port>` on every response, as Marathon's leader does, and
/// answers the errors routes throw: a ``SchedulerError`` as ``MarathonAPIError/init(_:)`` maps it, any other error
/// that is no `HTTPResponseError` as a 500 (``MarathonAPIError/init(internal:)``).
struct MarathonLeaderMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The header's value: the leader's URL.
    let leaderURL: String

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        } catch let error as SchedulerError {
            response = try MarathonAPIError(error).response(from: request, context: context)
        } catch {
            response = try MarathonAPIError(internal: error).response(from: request, context: context)
        }
        response.headers[.marathonLeader] = self.leaderURL
        return response
    }
}

extension HTTPField.Name {
    /// `X-Marathon-Leader`: the URL of the scheduler that leads, on every response.
    public static let marathonLeader = HTTPField.Name("X-Marathon-Leader")!
}
