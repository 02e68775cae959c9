// SPDX-License-Identifier: Apache-2.0
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RegattaCore
import RegattaScheduler
import Testing

/// `--http_credentials` and `--http_readonly_credentials` on the Marathon routes (in memory, no socket): every route
/// × {anonymous, wrong password, read-only user, read-write user}.
@Suite struct MarathonAuthenticationTests {
    static let admin = "admin"
    static let adminPassword = "admin-pw:with-colon"
    static let viewer = "viewer"
    static let viewerPassword = "viewer-pw"

    static func authentication() throws -> MarathonAuthentication {
        try MarathonAuthentication(
            readWrite: try CredentialStore.marathonList("\(Self.admin):\(Self.adminPassword),ops:ops-pw"),
            readOnly: try CredentialStore.marathonList(
                "\(Self.viewer):\(Self.viewerPassword)",
                flag: "--http_readonly_credentials"
            )
        )
    }

    static func basic(_ user: String, _ password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    /// One route: method, path, body (`nil` for none) and extra headers.
    struct Route: Sendable, CustomStringConvertible {
        let method: HTTPRequest.Method
        let path: String
        var body: String?
        var headers: HTTPFields = [:]
        var description: String { "\(self.method.rawValue) \(self.path)" }
        var isRead: Bool { self.method == .get || self.method == .head }
    }

    /// Every route the scheduler serves, `/ping` aside. `/v2/events` is asked without `Accept: text/event-stream`,
    /// so an allowed caller gets `405` rather than an endless stream.
    static let routes: [Route] = [
        Route(method: .get, path: "/v2/info"),
        Route(method: .get, path: "/v2/leader"),
        Route(method: .get, path: "/v2/apps"),
        Route(method: .get, path: "/v2/apps?embed=apps.tasks"),
        Route(method: .get, path: "/v2/apps/web"),
        Route(method: .get, path: "/v2/apps/web/tasks"),
        Route(method: .get, path: "/v2/apps/web/versions"),
        Route(method: .get, path: "/v2/tasks"),
        Route(method: .get, path: "/v2/deployments"),
        Route(method: .get, path: "/v2/queue"),
        Route(method: .get, path: "/v2/events"),
        Route(method: .get, path: "/metrics"),
        Route(method: .post, path: "/v2/apps", body: #"{"id":"/other","cmd":"sleep 1","cpus":0.1,"mem":16}"#),
        Route(method: .put, path: "/v2/apps", body: #"[{"id":"/web","instances":2}]"#),
        Route(method: .patch, path: "/v2/apps", body: #"[{"id":"/web","instances":2}]"#),
        Route(method: .put, path: "/v2/apps/web", body: #"{"instances":2}"#),
        Route(method: .patch, path: "/v2/apps/web", body: #"{"instances":2}"#),
        Route(method: .post, path: "/v2/apps/web/restart"),
        Route(method: .delete, path: "/v2/apps/web/tasks"),
        Route(method: .delete, path: "/v2/apps/web/tasks/web.1"),
        Route(method: .post, path: "/v2/tasks/delete", body: #"{"ids":["web.1"]}"#),
        Route(method: .delete, path: "/v2/deployments/d-1"),
        Route(method: .delete, path: "/v2/queue/web/delay"),
        Route(method: .delete, path: "/v2/leader"),
        Route(method: .delete, path: "/v2/apps/web"),
    ]

    /// Who calls: the `Authorization` header sent, and what must come back.
    enum Expected { case unauthenticated, forbiddenWrites, allowed }
    static let callers: [(name: String, authorization: String?, expected: Expected)] = [
        ("anonymous", nil, .unauthenticated),
        ("wrong password", basic(admin, "nope"), .unauthenticated),
        ("unknown user", basic("mallory", adminPassword), .unauthenticated),
        ("another user's password", basic(admin, "ops-pw"), .unauthenticated),
        ("wrong bearer token", "Bearer nope", .unauthenticated),
        ("malformed header", "Basic !!!", .unauthenticated),
        ("unknown scheme", "Digest abc", .unauthenticated),
        ("read-only user", basic(viewer, viewerPassword), .forbiddenWrites),
        ("read-only bearer", "Bearer \(viewerPassword)", .forbiddenWrites),
        ("read-write user", basic(admin, adminPassword), .allowed),
        ("read-write bearer", "Bearer ops-pw", .allowed),
    ]

    @Test func everyRouteRefusesOrServesEachCallerAsItsCredentialsAllow() async throws {
        var configuration = MarathonRoutes.Configuration()
        configuration.authentication = try Self.authentication()
        try await RouterHarness.with(configuration: configuration) { harness, client in
            // Given an app, created by a read-write user
            let created = try await client.send(
                .post,
                "/v2/apps",
                MarathonRouterTests.app,
                authorization: Self.basic(Self.admin, Self.adminPassword)
            )
            #expect(created.status == 201)
            let before = await harness.scheduler.state.apps

            for caller in Self.callers where caller.expected != .allowed {
                for route in Self.routes {
                    // When
                    let answer = try await client.send(
                        route.method,
                        route.path,
                        route.body,
                        authorization: caller.authorization
                    )
                    // Then
                    let refused = caller.expected == .unauthenticated || !route.isRead
                    guard refused else {
                        #expect(![401, 403].contains(answer.status), "\(caller.name): \(route) → \(answer.status)")
                        continue
                    }
                    let status = caller.expected == .unauthenticated ? 401 : 403
                    #expect(answer.status == status, "\(caller.name): \(route) → \(answer.status) \(answer.text)")
                    #expect(answer.headers[.contentType] == "application/json", "\(caller.name): \(route)")
                    #expect(answer.headers[.marathonLeader] == "http://127.0.0.1:8080", "\(caller.name): \(route)")
                    #expect(
                        answer.headers[.wwwAuthenticate] == (status == 401 ? #"Basic realm="Mesosphere""# : nil),
                        "\(caller.name): \(route)"
                    )
                    if route.method != .head {
                        let body = try #require(answer.json as? [String: Any], "\(caller.name): \(route)")
                        #expect(body.keys.sorted() == ["message"], "\(caller.name): \(route)")
                        // A refusal never repeats what was sent.
                        #expect(!answer.text.contains(Self.adminPassword) && !answer.text.contains("nope"))
                    }
                }
            }
            // A refused write changed nothing.
            #expect(await harness.scheduler.state.apps == before)

            // When read-write callers call every route (deletes last)
            for caller in Self.callers where caller.expected == .allowed {
                for route in Self.routes {
                    let answer = try await client.send(
                        route.method,
                        route.path,
                        route.body,
                        authorization: caller.authorization
                    )
                    // Then nothing is refused for want of credentials
                    #expect(![401, 403].contains(answer.status), "\(caller.name): \(route) → \(answer.text)")
                }
            }
        }
    }

    @Test func aReadOnlyUserReadsWhatAReadWriteUserWrote() async throws {
        var configuration = MarathonRoutes.Configuration()
        configuration.authentication = try Self.authentication()
        try await RouterHarness.with(configuration: configuration) { _, client in
            // When
            let created = try await client.send(
                .post,
                "/v2/apps",
                MarathonRouterTests.app,
                authorization: "Bearer \(Self.adminPassword)"
            )
            let read = try await client.send(
                .get,
                "/v2/apps/web",
                authorization: Self.basic(Self.viewer, Self.viewerPassword)
            )
            let forbidden = try await client.send(
                .delete,
                "/v2/apps/web",
                authorization: Self.basic(Self.viewer, Self.viewerPassword)
            )
            // Then
            #expect(created.status == 201)
            #expect(read.status == 200)
            #expect(((read.json as? [String: Any])?["app"] as? [String: Any])?["id"] as? String == "/web")
            #expect(forbidden.status == 403)
            #expect(
                forbidden.text
                    == #"{"message":"User 'viewer' has read-only access and may not DELETE here; use a user of "#
                    + #"--http_credentials."}"#
            )
        }
    }

    @Test func pingStaysOpenAndTheAnswersAreMarathons() async throws {
        var configuration = MarathonRoutes.Configuration()
        configuration.authentication = try Self.authentication()
        try await RouterHarness.with(configuration: configuration) { _, client in
            // When
            let ping = try await client.send(.get, "/ping")
            let missing = try await client.send(.get, "/v2/apps")
            let wrong = try await client.send(.get, "/v2/apps", authorization: Self.basic(Self.admin, "x"))
            // Then
            #expect(ping.status == 200)
            #expect(ping.text == "pong")
            #expect(missing.status == 401)
            #expect(
                missing.text
                    == #"{"message":"Authentication required: send HTTP Basic 'principal:secret' or a Bearer token."}"#
            )
            #expect(wrong.text == #"{"message":"The credentials were not accepted."}"#)
        }
    }

    @Test func anOpenSchedulerServesEveryoneAsBefore() async throws {
        try await RouterHarness.with { _, client in
            // When
            let anonymous = try await client.send(.post, "/v2/apps", MarathonRouterTests.app)
            let withHeader = try await client.send(.get, "/v2/apps", authorization: Self.basic("any", "thing"))
            // Then
            #expect(anonymous.status == 201)
            #expect(withHeader.status == 200)
        }
    }

    @Test func readOnlyUsersNeedReadWriteOnesAndAUserIsInOneList() throws {
        let viewers = try CredentialStore.marathonList("viewer:x", flag: "--http_readonly_credentials")
        #expect(throws: SecurityError.self) { try MarathonAuthentication(readWrite: nil, readOnly: viewers) }
        do {
            _ = try MarathonAuthentication(
                readWrite: try CredentialStore.marathonList("viewer:y"),
                readOnly: viewers
            )
            Issue.record("a user in both lists was accepted")
        } catch let error as SecurityError {
            #expect(
                error.message
                    == "User 'viewer' is in both --http_credentials and --http_readonly_credentials; keep it in one."
            )
        }
        #expect(!MarathonAuthentication.open.isRequired)
        #expect(try MarathonAuthentication(readWrite: viewers).isRequired)
    }
}

extension TestClientProtocol {
    /// Sends `body` with `method` to `path` and an `Authorization` header (none when `nil`).
    func send(
        _ method: HTTPRequest.Method,
        _ path: String,
        _ body: String? = nil,
        authorization: String?
    ) async throws -> RouterHarness.Answer {
        var headers: HTTPFields = body == nil ? [:] : [.contentType: "application/json"]
        if let authorization { headers[.authorization] = authorization }
        let response = try await self.execute(
            uri: path,
            method: method,
            headers: headers,
            body: body.map { ByteBuffer(string: $0) }
        )
        return RouterHarness.Answer(
            status: Int(response.status.code),
            headers: response.headers,
            text: String(buffer: response.body)
        )
    }
}
