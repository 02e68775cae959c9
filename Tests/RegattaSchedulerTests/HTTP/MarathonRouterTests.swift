// SPDX-License-Identifier: Apache-2.0
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RegattaCore
import RegattaScheduler
import RegattaSchedulerTestKit
import RegattaTestKit
import Testing

/// The Marathon routes on an in-memory router (`HummingbirdTesting`'s `.router`: no server, no socket) over a
/// scheduler with an in-memory store and a recording master connection. What needs the server (event streams, the
/// listener's limits) is tested live in `MarathonRoutesTests` and `ListenerLimitsTests`.
struct RouterHarness: Sendable {
    let scheduler: ServiceScheduler

    /// A response: status, headers and body text.
    struct Answer: Sendable {
        let status: Int
        let headers: HTTPFields
        let text: String
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(self.text.utf8)) }
    }

    /// Runs `body` with the routes registered on a router driven in memory.
    static func with(
        configuration: MarathonRoutes.Configuration = .init(),
        _ body: @escaping @Sendable (RouterHarness, any TestClientProtocol) async throws -> Void
    )
        async throws
    {
        let scheduler = ServiceScheduler(
            configuration: .init(),
            store: InMemorySchedulerStore(),
            connection: FakeMasterConnection(),
            logger: APIHarness.logger,
            clock: ManualClock(),
            events: EventBus()
        )
        try await scheduler.load()
        let router = Router()
        MarathonRoutes(scheduler: scheduler, advertisedAddress: "127.0.0.1:8080", configuration: configuration)
            .register(on: router)
        let app = Application(router: router, logger: APIHarness.logger)
        // The scheduler's shell runs beside the in-memory router (its run() consumes the commands the routes send)
        // and is cancelled when the test body is done.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await scheduler.run() }
            await scheduler.handle(.subscribed("fw"))
            try await app.test(.router) { client in try await body(RouterHarness(scheduler: scheduler), client) }
            group.cancelAll()
        }
    }
}

extension TestClientProtocol {
    /// Sends `body` (JSON text) with `method` to `path`.
    func send(
        _ method: HTTPRequest.Method,
        _ path: String,
        _ body: String? = nil
    ) async throws
        -> RouterHarness.Answer
    {
        let headers: HTTPFields = body == nil ? [:] : [.contentType: "application/json"]
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

@Suite struct MarathonRouterTests {
    static let app = #"{"id":"/web","cmd":"sleep 1000","cpus":0.1,"mem":16}"#

    @Test func errorsAreMarathonsBodiesWithTheLeaderHeader() async throws {
        try await RouterHarness.with { _, client in
            // When an app that does not exist is asked for
            let missing = try await client.send(.get, "/v2/apps/missing")
            // Then
            #expect(missing.status == 404)
            #expect(missing.text == #"{"message":"App '/missing' does not exist"}"#)
            #expect(missing.headers[.contentType] == "application/json")
            #expect(missing.headers[.marathonLeader] == "http://127.0.0.1:8080")
            // When bodies are not JSON, have wrong types or break the rules
            let notJSON = try await client.send(.post, "/v2/apps", "not json")
            let wrongType = try await client.send(.post, "/v2/apps", #"{"id":"/a","cpus":"x"}"#)
            let invalid = try await client.send(.post, "/v2/apps", #"{"id":"/a","cmd":"x","instances":-1}"#)
            // Then
            #expect(notJSON.status == 400)
            #expect(
                notJSON.text
                    == #"{"details":[{"errors":["the body is not valid JSON; send an app definition object"],"#
                    + #""path":"/"}],"message":"Invalid JSON"}"#
            )
            #expect(wrongType.status == 400)
            #expect(
                wrongType.text
                    == #"{"details":[{"errors":["error.expected.jsnumber"],"path":"/cpus"}],"message":"Invalid JSON"}"#
            )
            #expect(invalid.status == 422)
            #expect(invalid.text.hasPrefix(#"{"details":[{"errors":["#))
            #expect(invalid.text.contains(#""path":"/instances"}"#))
            #expect(invalid.text.hasSuffix(#"],"message":"Object is not valid"}"#))
            #expect(invalid.headers[.marathonLeader] == "http://127.0.0.1:8080")
            // When leadership is to be given up without an election
            let abdicate = try await client.send(.delete, "/v2/leader")
            #expect(abdicate.status == 400)
            #expect((abdicate.json as? [String: Any])?.keys.sorted() == ["message"])
        }
    }

    @Test func aConflictNamesTheDeploymentsThatLockTheApp() async throws {
        try await RouterHarness.with { _, client in
            // Given an app being deployed
            let created = try await client.send(.post, "/v2/apps", Self.app)
            #expect(created.status == 201)
            let deployment = try #require(created.headers[.marathonDeploymentID])
            // When it is created again, or changed without force
            let again = try await client.send(.post, "/v2/apps", Self.app)
            let locked = try await client.send(.put, "/v2/apps/web", #"{"instances":2}"#)
            // Then
            #expect(again.status == 409)
            #expect(locked.status == 409)
            #expect(locked.text.hasPrefix(#"{"deployments":[{"id":"\#(deployment)"}],"message":"#))
        }
    }

    @Test func anUpdateOfOneAppDecodesItsBodyOnceAndChecksIt() async throws {
        try await RouterHarness.with { _, client in
            // When the body is not an object, names another app, or has a wrong type
            let array = try await client.send(.put, "/v2/apps/web", "[1]")
            let otherID = try await client.send(.patch, "/v2/apps/web", #"{"id":"/other"}"#)
            let wrongType = try await client.send(.patch, "/v2/apps/web", #"{"instances":"two"}"#)
            let numericID = try await client.send(.put, "/v2/apps/web?force=true", #"{"id":5,"cmd":"sleep 1"}"#)
            // Then
            #expect(array.status == 400)
            #expect(
                array.text
                    == #"{"details":[{"errors":["error.expected.jsobject"],"path":"/"}],"message":"Invalid JSON"}"#
            )
            #expect(otherID.status == 422)
            #expect(
                otherID.text
                    == #"{"details":[{"errors":["the id in the body ('/other') differs from the path ('/web')"],"#
                    + #""path":"/id"}],"message":"Object is not valid"}"#
            )
            #expect(wrongType.status == 400)
            #expect(
                wrongType.text
                    == #"{"details":[{"errors":["error.expected.jsnumber"],"path":"/instances"}],"#
                    + #""message":"Invalid JSON"}"#
            )
            #expect(numericID.status == 201, "the path names the app; an id that is no string is ignored")
        }
    }

    @Test func aListIsCheckedAppByAppInOrder() async throws {
        try await RouterHarness.with { harness, client in
            // When the body is not a list of objects
            let object = try await client.send(.put, "/v2/apps", "{}")
            let notObjects = try await client.send(.put, "/v2/apps", #"[{"id":"/a","cmd":"x"},5]"#)
            // Then
            let notAList = #"{"details":[{"errors":["error.expected.jsarray"],"path":"/"}],"message":"Invalid JSON"}"#
            #expect(object.status == 400)
            #expect(object.text == notAList)
            #expect(notObjects.text == notAList)
            // When an invalid app comes before one that does not decode, and the other way round
            let invalidFirst = try await client.send(
                .put,
                "/v2/apps",
                #"[{"id":"/a","cmd":"x","instances":-1},{"id":"/b","cpus":"x"}]"#
            )
            let undecodableSecond = try await client.send(
                .put,
                "/v2/apps",
                #"[{"id":"/a","cmd":"x"},{"id":"/b","cpus":"x"}]"#
            )
            // Then the first failure in order is answered, at its index
            #expect(invalidFirst.status == 422)
            #expect(invalidFirst.text.contains(#""path":"/0/instances"}"#))
            #expect(undecodableSecond.status == 400)
            #expect(
                undecodableSecond.text
                    == #"{"details":[{"errors":["error.expected.jsnumber"],"path":"/1/cpus"}],"#
                    + #""message":"Invalid JSON"}"#
            )
            #expect(await harness.scheduler.state.apps.isEmpty, "nothing is stored from a refused list")
            // When the list is valid
            let stored = try await client.send(.put, "/v2/apps", #"[{"id":"a","cmd":"x"},{"id":"/b/","cmd":"y"}]"#)
            // Then every app is stored under its normalized id
            #expect(stored.status == 200)
            #expect(await harness.scheduler.state.apps.keys.sorted() == ["/a", "/b"])
        }
    }

    @Test func updatesPatchAndRollBack() async throws {
        try await RouterHarness.with { _, client in
            // Given
            let created = try await client.send(.post, "/v2/apps", Self.app)
            let first = try #require((created.json as? [String: Any])?["version"] as? String)
            // When patched with force (a deployment is running) through a doubled slash, as some clients send
            let patched = try await client.send(.patch, "/v2/apps//web?force=True", #"{"cmd":"sleep 2000"}"#)
            // Then only the given field changed
            #expect(patched.status == 200)
            var app = try #require(
                (try await client.send(.get, "/v2/apps/web").json as? [String: Any])?["app"] as? [String: Any]
            )
            #expect(app["cmd"] as? String == "sleep 2000")
            #expect(app["mem"] as? Double == 16)
            // When a field is set back to its default with null
            _ = try await client.send(.patch, "/v2/apps/web?force=true", #"{"mem":null}"#)
            app = try #require(
                (try await client.send(.get, "/v2/apps/web").json as? [String: Any])?["app"] as? [String: Any]
            )
            #expect(app["mem"] as? Double == 128)
            #expect(app["cmd"] as? String == "sleep 2000")
            // When rolled back by naming the first version
            let rolledBack = try await client.send(.put, "/v2/apps/web?force=true", #"{"version":"\#(first)"}"#)
            #expect(rolledBack.status == 200)
            app = try #require(
                (try await client.send(.get, "/v2/apps/web").json as? [String: Any])?["app"] as? [String: Any]
            )
            #expect(app["cmd"] as? String == "sleep 1000")
            // And a version that does not exist is a 404
            let missing = try await client.send(
                .put,
                "/v2/apps/web?force=true",
                #"{"version":"2001-01-01T00:00:00.000Z"}"#
            )
            #expect(missing.status == 404)
            #expect(
                missing.text
                    == #"{"message":"App '/web' does not exist in version 2001-01-01T00:00:00.000Z"}"#
            )
            // And `force=False` (as Python sends it) is not force
            let locked = try await client.send(.put, "/v2/apps/web?force=False", #"{"instances":2}"#)
            #expect(locked.status == 409)
        }
    }

    @Test func aStoredVersionIsTheDefinitionAlone() async throws {
        try await RouterHarness.with { _, client in
            // Given
            let created = try await client.send(.post, "/v2/apps", Self.app)
            let version = try #require((created.json as? [String: Any])?["version"] as? String)
            // When
            let stored = try await client.send(.get, "/v2/apps/web/versions/\(version)")
            let versions = try await client.send(.get, "/v2/apps/web/versions")
            // Then
            #expect(stored.status == 200)
            let app = try #require(stored.json as? [String: Any])
            #expect(app["id"] as? String == "/web")
            #expect(app["version"] as? String == version)
            #expect(app["tasksRunning"] == nil && app["deployments"] == nil, "no embeds")
            #expect((versions.json as? [String: Any])?["versions"] as? [String] == [version])
        }
    }

    @Test func queueShowsWaitingAppsWithRejectReasons() async throws {
        try await RouterHarness.with { harness, client in
            // Given an app bigger than any offer, and an offer that cannot fit it
            _ = try await client.send(.post, "/v2/apps", #"{"id":"/big","cmd":"sleep 1","cpus":64,"mem":16}"#)
            await harness.scheduler.handle(.event(.offers([Fixture.offer("o1", cpus: 4)])))
            // When
            let queue = try await client.send(.get, "/v2/queue")
            // Then
            let entries = try #require((queue.json as? [String: Any])?["queue"] as? [[String: Any]])
            #expect(entries.count == 1)
            let entry = try #require(entries.first)
            #expect(Set(entry.keys) == ["app", "count", "delay", "since", "processedOffersSummary"])
            #expect(entry["count"] as? Int == 1)
            #expect((entry["app"] as? [String: Any])?["id"] as? String == "/big")
            let summary = try #require(entry["processedOffersSummary"] as? [String: Any])
            #expect(summary["processedOffersCount"] as? Int == 1)
            #expect(summary["unusedOffersCount"] as? Int == 1)
            let steps = try #require(summary["rejectSummaryLastOffers"] as? [[String: Any]])
            let cpus = try #require(steps.first { $0["reason"] as? String == "InsufficientCpus" })
            #expect(cpus["declined"] as? Int == 1)
            #expect(steps.count == MarathonJSON.rejectReasonFunnel.count)
        }
    }

    @Test func appListEmbedsCountsAndDeploymentsAndWhatIsAskedFor() async throws {
        try await RouterHarness.with { _, client in
            _ = try await client.send(.post, "/v2/apps", Self.app)
            let plain = try await client.send(.get, "/v2/apps")
            let app = try #require(((plain.json as? [String: Any])?["apps"] as? [[String: Any]])?.first)
            #expect(app["tasksRunning"] as? Int == 0)
            #expect((app["deployments"] as? [Any])?.count == 1)
            #expect(app["tasks"] == nil)
            #expect(app["taskStats"] == nil)
            let embedded = try await client.send(
                .get,
                "/v2/apps?embed=apps.tasks&embed=apps.taskStats&embed=apps.readiness"
            )
            let full = try #require(((embedded.json as? [String: Any])?["apps"] as? [[String: Any]])?.first)
            #expect(full["tasks"] as? [Any] != nil)
            #expect(full["taskStats"] as? [String: Any] != nil)
            #expect(full["readinessCheckResults"] as? [Any] != nil)
            #expect(Set(full.keys).isSubset(of: MarathonPythonFields.app))
        }
    }
}
