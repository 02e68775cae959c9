// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import RegattaCore
import Testing

@testable import RegattaAgent

/// The agent's credentials: `--credential` on every call it makes to a master (a ``FakeMaster`` on 127.0.0.1 is the
/// protocol peer that records the headers), never across a redirect to another master; `--credentials` on its own
/// HTTP API.
@Suite(.timeLimit(.minutes(1))) struct AgentAuthenticationTests {
    private let logger = TestSupport.logger()
    private let framework = FrameworkID("framework-auth")

    private func credential() throws -> Credential {
        try Credential(principal: "agent-1", secret: "s3cret")
    }

    private func withAgent(
        _ master: FakeMaster,
        workDir: String,
        configure: (inout AgentConfiguration) throws -> Void,
        _ body: (AgentService) async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await master.run() }
            defer { group.cancelAll() }
            var configuration = AgentConfiguration(master: "127.0.0.1:\(try await master.waitForPort())")
            configuration.port = 0
            configuration.hostname = "agent-auth.example"
            configuration.workDir = workDir
            configuration.resources = try Resources.parse("cpus:1;mem:256;disk:100;ports:[31100-31101]")
            configuration.killTasksOnShutdown = true
            configuration.subscribeBackoff = Backoff(initial: .milliseconds(100), maximum: .milliseconds(300))
            try configure(&configuration)
            let agent = AgentService(configuration: configuration, logger: self.logger)
            try await withThrowingTaskGroup(of: Void.self) { agentGroup in
                agentGroup.addTask { try await agent.run() }
                defer { agentGroup.cancelAll() }
                try await body(agent)
            }
        }
    }

    @Test func everyCallToTheMasterCarriesTheCredential() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            // Given a master that answers 401 to any call without the agent's credential
            let credential = try self.credential()
            let master = FakeMaster(requiredAuthorization: credential.basicAuthorization, logger: self.logger)
            try await self.withAgent(master, workDir: workDir, configure: { $0.credential = credential }) { agent in
                // When the agent registers, runs a task (UPDATEs) and answers a PING (PONG)
                #expect(await TestSupport.eventually { await agent.agentID == master.agentID })
                master.send(
                    .launch(
                        AgentMessage.Launch(
                            frameworkId: self.framework,
                            frameworkInfo: FrameworkInfo(user: "", name: "auth", id: self.framework),
                            task: TestSupport.task("hello", command: .shell("exit 0"))
                        )
                    )
                )
                #expect(await TestSupport.eventually { master.acceptedStates(of: "hello").contains(.finished) })
                master.send(.ping)
                #expect(await TestSupport.eventually { master.pongs > 0 })
            }
            // Then SUBSCRIBE, every UPDATE and the PONG carried Basic agent-1:s3cret, and none was refused
            let calls = master.authorizations
            #expect(Set(calls.map(\.type)) == [.subscribe, .update, .pong])
            #expect(calls.allSatisfy { $0.header == "Basic " + Data("agent-1:s3cret".utf8).base64EncodedString() })
            #expect(master.unauthorizedCalls == 0)
        }
    }

    @Test func aRefusedCredentialKeepsTheAgentRetryingWithBackoff() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            // Given a master that wants another credential
            let master = FakeMaster(requiredAuthorization: "Basic b3RoZXI6c2VjcmV0", logger: self.logger)
            try await self.withAgent(
                master,
                workDir: workDir,
                configure: { $0.credential = try self.credential() }
            ) { agent in
                // When the agent subscribes
                #expect(await TestSupport.eventually { master.unauthorizedCalls >= 3 })
                // Then it is not registered and keeps trying, spaced by the backoff (≥ 100 ms between tries)
                #expect(await agent.agentID == nil)
            }
            #expect(master.subscribes.isEmpty)
        }
    }

    @Test func theMessageForA401NamesTheFlag() throws {
        let client = MasterClient(
            http: HTTPClient.shared,
            source: .fixed(endpoint: "http://127.0.0.1:1/api/v1/agent"),
            requestTimeout: .seconds(1),
            zkSessionTimeout: .seconds(1),
            credential: try self.credential(),
            logger: self.logger
        )
        let anonymous = MasterClient(
            http: HTTPClient.shared,
            source: .fixed(endpoint: "http://127.0.0.1:1/api/v1/agent"),
            requestTimeout: .seconds(1),
            zkSessionTimeout: .seconds(1),
            logger: self.logger
        )
        func runner(_ master: MasterClient) -> AgentRunner {
            AgentRunner(
                configuration: AgentConfiguration(master: "127.0.0.1:1"),
                core: AgentCore(
                    agentInfo: AgentInfo(hostname: "h1", port: 5051, resources: Resources()),
                    layout: SandboxLayout(workDir: "/nonexistent"),
                    defaultKillGracePeriod: .seconds(1),
                    supportedContainerTypes: [],
                    updateTiming: StatusUpdateManager.Configuration(),
                    baseEnvironment: [:],
                    environment: TestSupport.environment(),
                    jobs: AsyncStream<AgentCore.Job>.makeStream().continuation,
                    logger: self.logger
                ),
                runtime: CompositeContainerRuntime([]),
                master: master,
                metaStore: AgentMetaStore(path: "/nonexistent/agent.json"),
                healthProbe: SystemHealthCheckProbe(http: HTTPClient.shared),
                capabilities: [],
                version: "test",
                environment: TestSupport.environment(),
                logger: self.logger
            )
        }
        let refused = runner(client).unauthorizedMessage(status: 401, message: "Unauthorized")
        #expect(refused.contains("--credential of principal 'agent-1'"))
        #expect(!refused.contains("s3cret"))
        #expect(runner(client).unauthorizedMessage(status: 403, message: "no").contains("principal 'agent-1'"))
        #expect(runner(anonymous).unauthorizedMessage(status: 401, message: "x").contains("--credential FILE"))
    }

    @Test func theCredentialIsNeverSentToAnotherMasterARedirectNames() async throws {
        // Given a master B, and a master A that redirects every SUBSCRIBE to B (another port)
        let other = FakeMaster(logger: self.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await other.run() }
            defer { group.cancelAll() }
            let otherPort = try await other.waitForPort()
            let redirector = Router()
            redirector.post("/api/v1/agent") { _, _ in
                Response(
                    status: .temporaryRedirect,
                    headers: [.location: "http://127.0.0.1:\(otherPort)/api/v1/agent"]
                )
            }
            let ports = AsyncStream<Int>.makeStream()
            let app = Application(
                router: redirector,
                configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { channel in
                    ports.continuation.yield(channel.localAddress?.port ?? 0)
                },
                logger: self.logger
            )
            group.addTask { try await app.run() }
            let port = try #require(await ports.stream.first { _ in true })
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            let client = MasterClient(
                http: http,
                source: .fixed(endpoint: "http://127.0.0.1:\(port)/api/v1/agent"),
                requestTimeout: .seconds(5),
                zkSessionTimeout: .seconds(10),
                credential: try self.credential(),
                logger: self.logger
            )
            // When the agent with a credential subscribes to A, following redirects
            let outcome = try await client.subscribe(
                AgentCall.subscribe(
                    AgentCall.Subscribe(
                        agentInfo: AgentInfo(hostname: "h1", port: 5051, resources: Resources()),
                        tasks: []
                    )
                ),
                to: "http://127.0.0.1:\(port)/api/v1/agent",
                followRedirect: true
            )
            try await http.shutdown()
            // Then B never saw the credential, and the agent did not take the stream there: it says why
            #expect(other.authorizations.allSatisfy { $0.header == nil })
            guard case .notLeader(let message) = outcome else {
                Issue.record("expected notLeader, got \(outcome)")
                return
            }
            #expect(message.contains("does not send its --credential across a redirect"))
            #expect(client.sessionEndpoint == nil)
        }
    }

    // MARK: - The agent's own API

    private func get(_ url: String, authorization: String? = nil) async throws -> (Int, String, String?) {
        var request = HTTPClientRequest(url: url)
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: body), response.headers.first(name: "WWW-Authenticate"))
    }

    @Test func theAgentAPINeedsCredentialsExceptHealth() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            let master = FakeMaster(logger: self.logger)
            let store = try CredentialStore([try Credential(principal: "ops", secret: "pw")])
            try await self.withAgent(
                master,
                workDir: workDir,
                configure: {
                    $0.httpAuthentication = AgentHTTPAuthentication(credentials: store, readOnly: true, readWrite: true)
                }
            ) { agent in
                #expect(await TestSupport.eventually { await agent.agentID != nil })
                let base = "http://127.0.0.1:\(try #require(await agent.httpPort))"
                let good = "Basic " + Data("ops:pw".utf8).base64EncodedString()
                let wrong = "Basic " + Data("ops:nope".utf8).base64EncodedString()
                // /health stays open
                #expect(try await self.get(base + "/health").0 == 200)
                // Everything else answers Mesos's 401 without credentials or with wrong ones
                for path in [
                    "/state", "/files/browse?path=/", "/files/read?path=/x", "/metrics", "/metrics/snapshot", "/nope",
                ] {
                    let (status, body, challenge) = try await self.get(base + path)
                    #expect(status == 401, "\(path)")
                    #expect(challenge == #"Basic realm="mesos""#, "\(path)")
                    #expect(body.contains("Authentication required"), "\(path)")
                    #expect(try await self.get(base + path, authorization: wrong).0 == 401, "\(path)")
                }
                // The right principal (Basic, or its secret as a Bearer token) gets through
                let (status, body, _) = try await self.get(base + "/state", authorization: good)
                #expect(status == 200)
                #expect(body.contains("agent-auth.example"))
                #expect(try await self.get(base + "/state", authorization: "Bearer pw").0 == 200)
                #expect(try await self.get(base + "/metrics/snapshot", authorization: good).0 == 200)
            }
        }
    }

    @Test func theAgentAPIStaysOpenWithoutCredentials() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            let master = FakeMaster(logger: self.logger)
            try await self.withAgent(master, workDir: workDir, configure: { _ in }) { agent in
                #expect(await TestSupport.eventually { await agent.agentID != nil })
                let base = "http://127.0.0.1:\(try #require(await agent.httpPort))"
                #expect(try await self.get(base + "/state").0 == 200)
            }
        }
    }

    @Test func readOnlyAuthenticationCanBeTurnedOff() {
        let store = try? CredentialStore([try Credential(principal: "ops", secret: "pw")])
        let settings = AgentHTTPAuthentication(credentials: store, readOnly: false, readWrite: true)
        #expect(!settings.coversEverything)
        #expect(!settings.authenticator(for: .get).required)
        #expect(settings.authenticator(for: .post).required)
        #expect(AgentHTTPAuthentication(credentials: store, readOnly: true, readWrite: true).coversEverything)
        #expect(!AgentHTTPAuthentication(readOnly: true, readWrite: true).coversEverything)
    }
}
