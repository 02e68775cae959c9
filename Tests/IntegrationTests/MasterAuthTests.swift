// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real `regatta master` with `--credentials` and `--acls`, called over HTTP on loopback: every endpoint ×
/// {anonymous, wrong secret, right principal, operator}, the framework hijack, agent impersonation, forged
/// UPDATE/PONG, pymesos with `principal`/`secret`, and the agent binding across a master failover.
@Suite(.serialized) struct MasterAuthTests {
    /// Principals: `ops` (operator), `fw` (a framework), `agent` and `agent2` (agents), `other`.
    static let credentials = """
        {"credentials": [{"principal": "ops", "secret": "ops-secret"}, {"principal": "fw", "secret": "fw-secret"},
                         {"principal": "agent", "secret": "agent-secret"},
                         {"principal": "agent2", "secret": "agent2-secret"},
                         {"principal": "other", "secret": "other-secret"}]}
        """
    static let acls = """
        {"register_frameworks": [{"principals": {"values": ["fw", "other"]}, "roles": {"type": "ANY"}}],
         "run_tasks": [{"principals": {"values": ["fw"]}, "users": {"type": "ANY"}}],
         "register_agents": [{"principals": {"values": ["agent", "agent2"]}, "agents": {"type": "ANY"}}],
         "teardown_frameworks": [{"principals": {"values": ["ops"]}, "framework_principals": {"type": "ANY"}}],
         "mark_agents_gone": [{"principals": {"values": ["ops"]}, "agents": {"type": "ANY"}}],
         "drain_agents": [{"principals": {"values": ["ops"]}, "agents": {"type": "ANY"}}],
         "deactivate_agents": [{"principals": {"values": ["ops"]}, "agents": {"type": "ANY"}}],
         "reactivate_agents": [{"principals": {"values": ["ops"]}, "agents": {"type": "ANY"}}],
         "view_frameworks": [{"principals": {"values": ["ops"]}, "users": {"type": "ANY"}}],
         "view_tasks": [{"principals": {"values": ["ops"]}, "users": {"type": "ANY"}}]}
        """

    static func basic(_ principal: String, _ secret: String) -> String {
        "Basic " + Data("\(principal):\(secret)".utf8).base64EncodedString()
    }

    /// Writes the credentials and ACL files into `dir` and returns the master flags that use them.
    static func securityFlags(in dir: URL, acls: Bool = true) throws -> [String] {
        let credentials = dir.appendingPathComponent("credentials.json")
        try Self.credentials.write(to: credentials, atomically: true, encoding: .utf8)
        guard acls else { return ["--credentials", credentials.path] }
        let aclFile = dir.appendingPathComponent("acls.json")
        try Self.acls.write(to: aclFile, atomically: true, encoding: .utf8)
        return ["--credentials", credentials.path, "--acls", aclFile.path]
    }

    static func workDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("regatta-mauth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A master alone (no agents) with `flags`.
    static func master(_ dir: URL, _ flags: [String]) async throws -> (RegattaProcess, String) {
        let port = freePort()
        let process = try RegattaProcess(
            ["master", "--port", "\(port)", "--work_dir", dir.appendingPathComponent("master").path] + flags,
            log: dir.appendingPathComponent("master.log")
        )
        let url = "http://127.0.0.1:\(port)"
        try await eventually("the master answers /health") {
            try await AuthHTTP.shared.call(.GET, url + "/health").status == 200
        }
        return (process, url)
    }

    // MARK: - The matrix

    enum Kind: Sendable { case open, read, write, framework, agent }

    struct Endpoint: CustomStringConvertible, Sendable {
        var method: HTTPMethod
        var path: String
        var body: String?
        var kind: Kind
        /// Answers that mean "authenticated and allowed" (404 for an unknown agent, a stream's 200, …).
        var allowed: Set<Int>
        var description: String { "\(self.method) \(self.path) \(self.body ?? "")" }
    }

    static func operatorCall(_ type: String, _ payload: String = "") -> String {
        payload.isEmpty ? "{\"type\": \"\(type)\"}" : "{\"type\": \"\(type)\", \(payload)}"
    }

    static let endpoints: [Endpoint] = {
        var list: [Endpoint] = []
        for path in ["/health", "/master/health"] {
            list.append(Endpoint(method: .GET, path: path, kind: .open, allowed: [200]))
        }
        for path in ["/master/redirect", "/redirect"] {
            list.append(Endpoint(method: .GET, path: path, kind: .open, allowed: [307]))
        }
        for path in [
            "/master/state", "/master/state.json", "/state", "/state.json", "/master/state-summary",
            "/master/frameworks", "/master/slaves", "/master/tasks", "/master/flags", "/metrics", "/metrics/snapshot",
        ] {
            list.append(Endpoint(method: .GET, path: path, kind: .read, allowed: [200]))
        }
        for type in [
            "GET_STATE", "GET_AGENTS", "GET_FRAMEWORKS", "GET_TASKS", "GET_EXECUTORS", "GET_HEALTH", "GET_VERSION",
        ] {
            list.append(
                Endpoint(method: .POST, path: "/api/v1", body: Self.operatorCall(type), kind: .read, allowed: [200])
            )
        }
        let agent = "{\"agent_id\": {\"value\": \"no-such-agent\"}}"
        for (type, field) in [
            ("MARK_AGENT_GONE", "mark_agent_gone"), ("DRAIN_AGENT", "drain_agent"),
            ("DEACTIVATE_AGENT", "deactivate_agent"), ("REACTIVATE_AGENT", "reactivate_agent"),
        ] {
            list.append(
                Endpoint(
                    method: .POST,
                    path: "/api/v1",
                    body: Self.operatorCall(type, "\"\(field)\": \(agent)"),
                    kind: .write,
                    allowed: [404]
                )
            )
        }
        list.append(
            Endpoint(
                method: .POST,
                path: "/api/v1",
                body: Self.operatorCall("TEARDOWN", "\"teardown\": {\"framework_id\": {\"value\": \"nope\"}}"),
                kind: .write,
                allowed: [404]
            )
        )
        list.append(
            Endpoint(
                method: .POST,
                path: "/master/api/v1",
                body: Self.operatorCall("SUBSCRIBE"),
                kind: .write,
                allowed: [200]
            )
        )
        list.append(
            Endpoint(method: .POST, path: "/master/teardown", body: "frameworkId=nope", kind: .write, allowed: [404])
        )
        list.append(
            Endpoint(
                method: .POST,
                path: "/api/v1/scheduler",
                body: """
                    {"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "root", "name": "matrix"}}}
                    """,
                kind: .framework,
                allowed: [200]
            )
        )
        list.append(
            Endpoint(
                method: .POST,
                path: "/api/v1/agent",
                body: AgentCalls.subscribe(hostname: "matrix-agent", port: 1),
                kind: .agent,
                allowed: [200]
            )
        )
        return list
    }()

    /// Who calls: the credentials sent, and what each kind of endpoint answers them when authentication is on.
    struct Caller: CustomStringConvertible, Sendable {
        var name: String
        var authorization: String?
        var expected: @Sendable (Endpoint) -> Set<Int>
        var description: String { self.name }
    }

    static let callers: [Caller] = [
        Caller(name: "anonymous", authorization: nil) { $0.kind == .open ? $0.allowed : [401] },
        Caller(name: "wrong secret", authorization: basic("ops", "nope")) { $0.kind == .open ? $0.allowed : [401] },
        Caller(name: "unknown bearer", authorization: "Bearer nope") { $0.kind == .open ? $0.allowed : [401] },
        // The framework's principal: may read (what view_* shows it), subscribe; not act on agents or register one.
        Caller(name: "fw", authorization: basic("fw", "fw-secret")) { endpoint in
            switch endpoint.kind {
            case .open, .read, .framework: endpoint.allowed
            case .write:
                endpoint.path.hasSuffix("api/v1") && endpoint.body?.contains("SUBSCRIBE") == true ? [200] : [403]
            case .agent: [403]
            }
        },
        // The operator: reads and acts; is not a framework (register_frameworks) nor an agent (register_agents).
        Caller(name: "ops (Basic)", authorization: basic("ops", "ops-secret")) { endpoint in
            switch endpoint.kind {
            case .open, .read, .write: endpoint.allowed
            case .framework, .agent: [403]
            }
        },
        Caller(name: "ops (Bearer)", authorization: "Bearer ops-secret") { endpoint in
            switch endpoint.kind {
            case .open, .read, .write: endpoint.allowed
            case .framework, .agent: [403]
            }
        },
        Caller(name: "agent", authorization: basic("agent", "agent-secret")) { endpoint in
            switch endpoint.kind {
            case .open, .read, .agent: endpoint.allowed
            case .write: endpoint.body?.contains("SUBSCRIBE") == true ? [200] : [403]
            case .framework: [403]
            }
        },
    ]

    @Test func authorizationMatrixOfEveryMasterEndpoint() async throws {
        // Given a master with credentials and ACLs
        let dir = try Self.workDir()
        let (master, url) = try await Self.master(dir, try Self.securityFlags(in: dir))
        defer { kill(master.pid, SIGKILL) }
        // When every caller calls every endpoint
        var checked = 0
        for endpoint in Self.endpoints {
            for caller in Self.callers {
                let answer = try await AuthHTTP.shared.call(
                    endpoint.method,
                    url + endpoint.path,
                    body: endpoint.body,
                    authorization: caller.authorization,
                    headOnly: true
                )
                // Then each gets what its kind and the ACLs say
                #expect(
                    caller.expected(endpoint).contains(answer.status),
                    "\(caller) → \(endpoint): \(answer.status) \(answer.text)"
                )
                if answer.status == 401 {
                    #expect(answer.headers.first(name: "WWW-Authenticate") == "Basic realm=\"mesos\"")
                    #expect(!answer.text.isEmpty && !answer.text.contains("\n"))
                }
                checked += 1
            }
        }
        #expect(checked == Self.endpoints.count * Self.callers.count)
        // and the master's flags name the files, never a secret.
        let flags = try await AuthHTTP.shared.call(
            .GET,
            url + "/master/flags",
            authorization: Self.basic("ops", "ops-secret")
        )
        #expect(flags.text.contains("credentials.json") && !flags.text.contains("ops-secret"))
        #expect(flags.text.contains("\"authenticate_frameworks\":\"true\""))
    }

    @Test func withoutCredentialsEverythingStaysOpenOnLoopback() async throws {
        let dir = try Self.workDir()
        let (master, url) = try await Self.master(dir, [])
        defer { kill(master.pid, SIGKILL) }
        for endpoint in Self.endpoints where endpoint.kind != .framework && endpoint.kind != .agent {
            let answer = try await AuthHTTP.shared.call(
                endpoint.method,
                url + endpoint.path,
                body: endpoint.body,
                headOnly: true
            )
            #expect(endpoint.allowed.contains(answer.status), "\(endpoint): \(answer.status) \(answer.text)")
        }
    }

    @Test func viewACLsFilterTheStateForEachCaller() async throws {
        // Given fw's framework, subscribed
        let dir = try Self.workDir()
        let (master, url) = try await Self.master(dir, try Self.securityFlags(in: dir))
        defer { kill(master.pid, SIGKILL) }
        let stream = try await RecordStream.open(
            url + "/api/v1/scheduler",
            body: #"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"viewed"}}}"#,
            authorization: Self.basic("fw", "fw-secret")
        )
        defer { stream.close() }
        #expect(stream.status == 200)
        // Then ops sees it, fw (no view rule) does not
        func frameworks(_ who: String, _ secret: String) async throws -> Int {
            let answer = try await AuthHTTP.shared.call(
                .GET,
                url + "/master/frameworks",
                authorization: Self.basic(who, secret)
            )
            return ((answer.json as? [String: Any])?["frameworks"] as? [Any])?.count ?? -1
        }
        #expect(try await frameworks("ops", "ops-secret") == 1)
        #expect(try await frameworks("fw", "fw-secret") == 0)
    }

    // MARK: - Hijack and impersonation

    @Test func anotherPrincipalCannotTakeOverAFrameworkId() async throws {
        // Given fw's framework, subscribed on a stream
        let dir = try Self.workDir()
        let (master, url) = try await Self.master(dir, try Self.securityFlags(in: dir))
        defer { kill(master.pid, SIGKILL) }
        let owner = try await RecordStream.open(
            url + "/api/v1/scheduler",
            body: #"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"owned"}}}"#,
            authorization: Self.basic("fw", "fw-secret")
        )
        defer { owner.close() }
        let subscribed = try #require(owner.first as? [String: Any])
        let id = try #require(
            ((subscribed["subscribed"] as? [String: Any])?["framework_id"] as? [String: Any])?["value"] as? String
        )
        let streamID = try #require(owner.headers.first(name: "Mesos-Stream-Id"))
        // When `other` (allowed to register frameworks) subscribes with its id, or calls on its stream
        let hijack = try await AuthHTTP.shared.call(
            .POST,
            url + "/api/v1/scheduler",
            body: """
                {"type":"SUBSCRIBE","framework_id":{"value":"\(id)"},
                 "subscribe":{"framework_info":{"user":"root","name":"evil","id":{"value":"\(id)"}}}}
                """,
            authorization: Self.basic("other", "other-secret"),
            headOnly: true
        )
        let teardown = try await AuthHTTP.shared.call(
            .POST,
            url + "/api/v1/scheduler",
            body: #"{"type":"TEARDOWN","framework_id":{"value":"\#(id)"}}"#,
            authorization: Self.basic("other", "other-secret"),
            extraHeaders: [("Mesos-Stream-Id", streamID)]
        )
        // Then both are refused and the framework is still fw's, connected, with its name
        #expect(hijack.status == 403, "\(hijack.text)")
        #expect(hijack.text.contains("registered by another principal"))
        #expect(teardown.status == 403, "\(teardown.text)")
        let state = try await AuthHTTP.shared.call(
            .GET,
            url + "/master/frameworks",
            authorization: Self.basic("ops", "ops-secret")
        )
        let frameworks = ((state.json as? [String: Any])?["frameworks"] as? [[String: Any]]) ?? []
        #expect(frameworks.count == 1)
        #expect(frameworks.first?["name"] as? String == "owned")
        #expect(frameworks.first?["principal"] as? String == "fw")
        #expect(frameworks.first?["connected"] as? Bool == true)
    }

    @Test func anotherPrincipalCannotImpersonateAnAgentNorForgeItsUpdatesAndPongs() async throws {
        // Given an agent registered by principal `agent` (the agent protocol spoken by hand)
        let dir = try Self.workDir()
        let (master, url) = try await Self.master(dir, try Self.securityFlags(in: dir))
        defer { kill(master.pid, SIGKILL) }
        let agent = try await RecordStream.open(
            url + "/api/v1/agent",
            body: AgentCalls.subscribe(hostname: "real-agent", port: 7001),
            authorization: Self.basic("agent", "agent-secret")
        )
        defer { agent.close() }
        let registered = try #require((agent.first as? [String: Any])?["registered"] as? [String: Any])
        let id = try #require((registered["agent_id"] as? [String: Any])?["value"] as? String)
        let token = try #require(registered["registration_token"] as? String)
        let agent2 = Self.basic("agent2", "agent2-secret")
        // When `agent2` re-registers it by id, or from its address without an id, with its token
        let byID = try await AuthHTTP.shared.call(
            .POST,
            url + "/api/v1/agent",
            body: AgentCalls.subscribe(hostname: "real-agent", port: 7001, id: id, token: token),
            authorization: agent2,
            headOnly: true
        )
        let byAddress = try await AuthHTTP.shared.call(
            .POST,
            url + "/api/v1/agent",
            body: AgentCalls.subscribe(hostname: "real-agent", port: 7001),
            authorization: agent2,
            headOnly: true
        )
        // or forges its PONG and an UPDATE
        let pong = try await AuthHTTP.shared.call(
            .POST,
            url + "/api/v1/agent",
            body: #"{"type":"PONG","agent_id":{"value":"\#(id)"},"registration_token":"\#(token)"}"#,
            authorization: agent2
        )
        let update = try await AuthHTTP.shared.call(
            .POST,
            url + "/api/v1/agent",
            body: """
                {"type":"UPDATE","agent_id":{"value":"\(id)"},"registration_token":"\(token)",
                 "update":{"framework_id":{"value":"f"},"status":{"task_id":{"value":"t"},"state":"TASK_FAILED"}}}
                """,
            authorization: agent2
        )
        // Then every one is refused, and the agent is still connected on its own stream
        for (what, answer) in [
            ("SUBSCRIBE by id", byID), ("SUBSCRIBE by address", byAddress), ("PONG", pong), ("UPDATE", update),
        ] {
            #expect(answer.status == 403, "\(what): \(answer.status) \(answer.text)")
            #expect(answer.text.contains("registered by another principal"), "\(what): \(answer.text)")
        }
        let agents = try await AuthHTTP.shared.call(
            .GET,
            url + "/master/slaves",
            authorization: Self.basic("ops", "ops-secret")
        )
        let slaves = ((agents.json as? [String: Any])?["slaves"] as? [[String: Any]]) ?? []
        #expect(slaves.count == 1)
        #expect(slaves.first?["id"] as? String == id)
        #expect(slaves.first?["active"] as? Bool == true)
        // and the agent's own PONG is accepted.
        let own = try await AuthHTTP.shared.call(
            .POST,
            url + "/api/v1/agent",
            body: #"{"type":"PONG","agent_id":{"value":"\#(id)"},"registration_token":"\#(token)"}"#,
            authorization: Self.basic("agent", "agent-secret")
        )
        #expect(own.status == 202, "\(own.text)")
    }

    // MARK: - Refusing to start

    @Test func aMasterOnANonLoopbackAddressWithoutCredentialsRefusesToStart() async throws {
        let dir = try Self.workDir()
        let result = try run(
            Package.regatta,
            [
                "master", "--ip", "0.0.0.0", "--port", "\(freePort())", "--work_dir",
                dir.appendingPathComponent("m").path,
            ]
        )
        #expect(result.status != 0)
        #expect(
            result.output.contains("--credentials FILE") && result.output.contains("--insecure_allow_unauthenticated")
        )
        let withoutFile = try run(
            Package.regatta,
            ["master", "--port", "\(freePort())", "--authenticate_frameworks=true"]
        )
        #expect(withoutFile.status != 0)
        #expect(withoutFile.output.contains("--authenticate_frameworks=true needs --credentials FILE"))
    }

    // MARK: - pymesos

    @Test func pymesosSubscribesWithPrincipalAndSecretAndIsRefusedWithout() async throws {
        // Given pymesos and a master with credentials
        let setup = try run("/bin/bash", [Package.root.appendingPathComponent("scripts/python-clients.sh").path])
        try #require(setup.status == 0, "installing pymesos failed: \(setup.output)")
        let python = setup.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let dir = try Self.workDir()
        let (master, url) = try await Self.master(dir, try Self.securityFlags(in: dir, acls: false))
        defer { kill(master.pid, SIGKILL) }
        let script = Package.root.appendingPathComponent("Tests/IntegrationTests/Python/pymesos_auth.py").path
        let address = String(url.dropFirst("http://".count))
        // When pymesos subscribes with principal= and secret=
        let good = try run(python, [script, address, "fw", "fw-secret"])
        // Then it registers, as its principal
        #expect(good.status == 0, "pymesos output:\n\(good.output)\n\(master.logTail())")
        #expect(good.output.contains("registered"))
        // and without the secret, or with a wrong one, it is refused.
        // pymesos raises the master's answer (`RuntimeError: Failed with HTTP 401: …`) and exits non-zero.
        let anonymous = try run(python, [script, address])
        #expect(anonymous.status != 0 && anonymous.output.contains("HTTP 401"), "pymesos output:\n\(anonymous.output)")
        let wrong = try run(python, [script, address, "fw", "nope"])
        #expect(wrong.status != 0 && wrong.output.contains("HTTP 401"), "pymesos output:\n\(wrong.output)")
    }

    // MARK: - Failover

    @Test(.enabled(if: ServiceEnvironment.zooKeeper != nil, ServiceEnvironment.zooKeeperSkipReason))
    func anAgentsPrincipalSurvivesAMasterFailover() async throws {
        // Given two masters with credentials under one ZooKeeper path, and an agent registered by `agent`
        let zk = try #require(ServiceEnvironment.zooKeeperURL(path: "/test-\(UUID().uuidString)/mesos"))
        let dir = try Self.workDir()
        let flags = try Self.securityFlags(in: dir, acls: false) + ["--authenticate_http_readonly=false"]
        let first = try MasterElectionTests.ElectedMaster(zk: zk, workDir: dir, name: "m1", extraFlags: flags)
        defer { kill(first.process.pid, SIGKILL) }
        try await eventually("m1 elected") { try await first.elected() == 1 }
        let second = try MasterElectionTests.ElectedMaster(zk: zk, workDir: dir, name: "m2", extraFlags: flags)
        defer { kill(second.process.pid, SIGKILL) }
        let agent = try await RecordStream.open(
            first.url + "/api/v1/agent",
            body: AgentCalls.subscribe(hostname: "ha-agent", port: 7002),
            authorization: Self.basic("agent", "agent-secret")
        )
        let registered = try #require((agent.first as? [String: Any])?["registered"] as? [String: Any])
        let id = try #require((registered["agent_id"] as? [String: Any])?["value"] as? String)
        let token = registered["registration_token"] as? String
        agent.close()
        // When the leader dies and the other master takes over
        kill(first.process.pid, SIGKILL)
        try await eventually(timeout: .seconds(30), "m2 elected") { try await second.elected() == 1 }
        // Then the new leader still refuses the agent's id to another principal, and takes it from `agent`
        let body = AgentCalls.subscribe(hostname: "ha-agent", port: 7002, id: id, token: token)
        let impostor = try await AuthHTTP.shared.call(
            .POST,
            second.url + "/api/v1/agent",
            body: body,
            authorization: Self.basic("agent2", "agent2-secret"),
            headOnly: true
        )
        #expect(impostor.status == 403, "\(impostor.status) \(impostor.text)")
        let back = try await RecordStream.open(
            second.url + "/api/v1/agent",
            body: body,
            authorization: Self.basic("agent", "agent-secret")
        )
        defer { back.close() }
        #expect(back.status == 200)
        #expect(
            (((back.first as? [String: Any])?["registered"] as? [String: Any])?["agent_id"] as? [String: Any])?["value"]
                as? String == id
        )
    }
}

/// Agent protocol calls, written by hand.
enum AgentCalls {
    static func subscribe(hostname: String, port: Int, id: String? = nil, token: String? = nil) -> String {
        let idField = id.map { #", "id": {"value": "\#($0)"}"# } ?? ""
        let tokenField = token.map { #", "registration_token": "\#($0)""# } ?? ""
        return """
            {"type": "SUBSCRIBE"\(tokenField), "subscribe": {"agent_info": {"hostname": "\(hostname)", "port": \(port),
             "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}}]\(idField)}, "tasks": []}}
            """
    }
}

/// An HTTP client for these tests: no redirects followed, any `Authorization` header.
final class AuthHTTP: Sendable {
    static let shared = AuthHTTP()

    let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// One request. With `headOnly`, a `200` answer's body (a stream) is not read.
    func call(
        _ method: HTTPMethod,
        _ url: String,
        body: String? = nil,
        authorization: String? = nil,
        extraHeaders: [(String, String)] = [],
        headOnly: Bool = false
    ) async throws -> (status: Int, headers: HTTPHeaders, text: String, json: Any?) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        for (name, value) in extraHeaders { request.headers.add(name: name, value: value) }
        if let body {
            let form = url.hasSuffix("/teardown")
            request.headers.add(
                name: "Content-Type",
                value: form ? "application/x-www-form-urlencoded" : "application/json"
            )
            request.body = .bytes(ByteBuffer(string: body))
        }
        if headOnly {
            // Streams (SUBSCRIBE) would not end: the head says enough; the request's task is cancelled after it.
            let prepared = request
            return try await withThrowingTaskGroup(of: (Int, HTTPHeaders, String).self) { group in
                group.addTask {
                    let response = try await self.client.execute(prepared, timeout: .seconds(15))
                    if response.status == .ok { return (200, response.headers, "") }
                    let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
                    return (Int(response.status.code), response.headers, text)
                }
                let result = try await group.next()!
                group.cancelAll()
                return (result.0, result.1, result.2, nil)
            }
        }
        let response = try await self.client.execute(request, timeout: .seconds(15))
        let data = Data(try await response.body.collect(upTo: 32 << 20).readableBytesView)
        return (
            Int(response.status.code), response.headers, String(decoding: data, as: UTF8.self),
            try? JSONSerialization.jsonObject(with: data)
        )
    }
}

/// A RecordIO stream (a framework's or an agent's SUBSCRIBE) held open until ``close()``: its status, headers and
/// first record.
final class RecordStream: @unchecked Sendable {
    let status: Int
    let headers: HTTPHeaders
    private let record: Data?
    private let task: Task<Void, Never>

    /// The first record, parsed.
    var first: Any? { self.record.flatMap { try? JSONSerialization.jsonObject(with: $0) } }

    private init(status: Int, headers: HTTPHeaders, record: Data?, task: Task<Void, Never>) {
        self.status = status
        self.headers = headers
        self.record = record
        self.task = task
    }

    /// Opens the stream and waits (up to 15 s) for its head and first record.
    static func open(_ url: String, body: String, authorization: String) async throws -> RecordStream {
        let (head, continuation) = AsyncStream<(Int, HTTPHeaders, Data?)>.makeStream()
        let task = Task {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Authorization", value: authorization)
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
            do {
                let response = try await AuthHTTP.shared.client.execute(request, timeout: .seconds(3600))
                var buffer = Data()
                var delivered = false
                for try await chunk in response.body {
                    buffer.append(contentsOf: chunk.readableBytesView)
                    if !delivered, let newline = buffer.firstIndex(of: UInt8(ascii: "\n")),
                        let length = Int(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)),
                        buffer.distance(from: newline, to: buffer.endIndex) > length
                    {
                        let start = buffer.index(after: newline)
                        let record = buffer[start..<buffer.index(start, offsetBy: length)]
                        continuation.yield((200, response.headers, Data(record)))
                        delivered = true
                    }
                    if response.status != .ok { break }
                }
                if !delivered { continuation.yield((Int(response.status.code), response.headers, nil)) }
            } catch {
                continuation.yield((-1, [:], nil))
            }
            continuation.finish()
        }
        let first = try await withThrowingTaskGroup(of: (Int, HTTPHeaders, Data?)?.self) { group in
            group.addTask { await head.first { _ in true } }
            group.addTask {
                try await Task.sleep(for: .seconds(15))
                return nil
            }
            let result = try await group.next()!
            group.cancelAll()
            return result
        }
        guard let first else {
            task.cancel()
            throw CancellationError()
        }
        return RecordStream(status: first.0, headers: first.1, record: first.2, task: task)
    }

    /// Ends the stream (the connection closes).
    func close() { self.task.cancel() }
}
