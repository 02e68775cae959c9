// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import RegattaCore
import RegattaHTTP

/// Forwards a follower's API call to the leading scheduler, as Marathon's `LeaderProxyFilter` does: same method,
/// path, query, headers and body, plus `X-Marathon-Via: 1.1 <own host:port>`; the leader's answer (with its
/// `X-Marathon-Leader`) goes back unchanged.
struct LeaderProxy: Sendable {
    /// Headers that belong to one connection and are not forwarded.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host",
        "content-length",
    ]
    /// The largest request body forwarded: the leader's own limit, so a follower accepts no more than the leader
    /// would (its listener refuses more before reading it).
    static let maximumRequestBodySize = MarathonRoutes.maximumBodySize
    /// The largest response body forwarded (the leader's answers, e.g. `/v2/apps` of a large cluster).
    static let maximumResponseBodySize = 64 << 20

    /// This scheduler's `host:port`, named in `X-Marathon-Via`.
    let ownAddress: String
    let client: HTTPClient
    /// How long the leader may take to answer.
    let timeout: Duration
    let logger: Logger

    /// The `X-Marathon-Via` value this scheduler adds.
    var via: String { "1.1 \(self.ownAddress)" }

    /// Whether `request` already passed through this scheduler (a proxy loop).
    func isLoop(_ request: Request) -> Bool {
        request.headers[values: .marathonVia].contains { value in
            value.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == self.via }
        }
    }

    /// Sends `request` to `leader` and returns its answer; `502` when the leader cannot be reached or a loop is found.
    func forward(_ request: Request, to leader: SchedulerLeaderInfo) async -> Response {
        if self.isLoop(request) {
            return Self.error(
                "Detected a proxy loop: this request already passed through \(self.ownAddress); the schedulers "
                    + "disagree on the leader, retry in a few seconds.",
                status: .badGateway
            )
        }
        var outgoing = HTTPClientRequest(url: leader.url + (request.head.path ?? "/"))
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers where !Self.hopByHop.contains(field.name.canonicalName) {
            outgoing.headers.add(name: field.name.rawName, value: field.value)
        }
        outgoing.headers.add(name: HTTPField.Name.marathonVia.rawName, value: self.via)
        do {
            let body = request.body
            let buffer: ByteBuffer
            do {
                buffer = try await body.collect(upTo: Self.maximumRequestBodySize)
            } catch {
                return Self.error(
                    RequestBodyTooLargeError(limit: Self.maximumRequestBodySize).message,
                    status: .contentTooLarge
                )
            }
            if buffer.readableBytes > 0 || request.method == .post || request.method == .put
                || request.method == .patch
            {
                outgoing.body = .bytes(buffer)
            }
            let response = try await self.client.execute(outgoing, timeout: .init(self.timeout))
            var headers = HTTPFields()
            for (name, value) in response.headers where !Self.hopByHop.contains(name.lowercased()) {
                if let name = HTTPField.Name(name) { headers.append(HTTPField(name: name, value: value)) }
            }
            let responseBody = try await response.body.collect(upTo: Self.maximumResponseBodySize)
            return Response(
                status: HTTPResponse.Status(
                    code: Int(response.status.code),
                    reasonPhrase: response.status.reasonPhrase
                ),
                headers: headers,
                body: ResponseBody(byteBuffer: responseBody)
            )
        } catch {
            self.logger.warning(
                "Cannot proxy a request to the leading scheduler",
                metadata: ["leader": "\(leader.hostPort)", "path": "\(request.uri.path)", "error": "\(error)"]
            )
            return Self.error(
                "Cannot reach the leading scheduler at \(leader.hostPort) (\(error)); retry in a few seconds.",
                status: .badGateway
            )
        }
    }

    static func error(_ message: String, status: HTTPResponse.Status) -> Response {
        Self.json(MarathonJSON.error(message), status: status)
    }

    static func json(_ object: MarathonJSON.Object, status: HTTPResponse.Status) -> Response {
        MarathonRoutes.json(object, status: status)
    }
}

extension TimeAmount {
    /// `duration` as a NIO time amount, saturating instead of trapping for spans beyond `Int64` nanoseconds.
    init(_ duration: Duration) {
        self = .nanoseconds(Saturating.nanoseconds(duration))
    }
}

extension HTTPField.Name {
    /// `X-Marathon-Via`: the schedulers a proxied request passed through, as `1.1 host:port`.
    public static let marathonVia = HTTPField.Name("X-Marathon-Via")!
}
