// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// A real master and a real `regatta scheduler` with `--http_credentials`, `--http_readonly_credentials` and a
/// credential for its own link to the master, in a temporary directory.
struct AuthScheduler {
    static let user = "admin"
    static let password = "admin-pw:x"
    static let viewer = "viewer"
    static let viewerPassword = "viewer-pw"
    static let principal = "marathon-principal"
    static let secret = "framework-s3cret"

    let dir: URL
    let masterPort: Int
    let httpPort: Int
    let master: RegattaProcess
    let scheduler: RegattaProcess
    var url: String { "http://127.0.0.1:\(self.httpPort)" }

    static func basic(_ user: String, _ password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    /// Starts both and waits until the scheduler answers and its framework is subscribed.
    ///
    /// - Parameter credentialsInEnvironment: pass the API's credentials as `REGATTA_HTTP_CREDENTIALS` and
    ///   `MARATHON_HTTP_READONLY_CREDENTIALS` instead of flags.
    static func start(credentialsInEnvironment: Bool = false) async throws -> AuthScheduler {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("regatta-auth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let secretFile = dir.appendingPathComponent("secret")
        try "\(Self.secret)\n".write(to: secretFile, atomically: true, encoding: .utf8)
        let masterPort = freePort()
        let httpPort = freePort()
        let master = try RegattaProcess(
            [
                "master", "--ip", "127.0.0.1", "--port", "\(masterPort)", "--work_dir",
                dir.appendingPathComponent("m").path,
            ],
            log: dir.appendingPathComponent("master.log")
        )
        var arguments = [
            "scheduler", "--master", "127.0.0.1:\(masterPort)", "--hostname", "127.0.0.1", "--http_port", "\(httpPort)",
            "--store", "sqlite://\(dir.appendingPathComponent("s.db").path)",
            "--mesos_authentication_principal", Self.principal,
            "--mesos_authentication_secret_file", secretFile.path,
        ]
        var environment: [String: String] = [:]
        if credentialsInEnvironment {
            environment["REGATTA_HTTP_CREDENTIALS"] = "\(Self.user):\(Self.password)"
            environment["MARATHON_HTTP_READONLY_CREDENTIALS"] = "\(Self.viewer):\(Self.viewerPassword)"
        } else {
            arguments += [
                "--http_credentials", "\(Self.user):\(Self.password)",
                "--http_readonly_credentials", "\(Self.viewer):\(Self.viewerPassword)",
            ]
        }
        let scheduler = try RegattaProcess(
            arguments,
            log: dir.appendingPathComponent("scheduler.log"),
            environment: environment
        )
        let cluster = AuthScheduler(
            dir: dir,
            masterPort: masterPort,
            httpPort: httpPort,
            master: master,
            scheduler: scheduler
        )
        do {
            try await eventually(timeout: .seconds(60), "the scheduler answers and its framework subscribed") {
                let ping = try await HTTP.get("\(cluster.url)/ping")
                let frameworks = try await HTTP.get("http://127.0.0.1:\(masterPort)/master/frameworks")
                let list = (frameworks.json as? [String: Any])?["frameworks"] as? [[String: Any]] ?? []
                return ping.text == "pong" && list.count == 1
            }
        } catch {
            await cluster.stop()
            throw error
        }
        return cluster
    }

    func stop() async {
        await self.scheduler.stop()
        await self.master.stop()
        try? FileManager.default.removeItem(at: self.dir)
    }

    /// Sends a request with an `Authorization` header (none when `nil`).
    func request(
        _ method: HTTPMethod,
        _ path: String,
        authorization: String?,
        body: String? = nil
    ) async throws -> (status: Int, json: Any?, text: String, headers: HTTPHeaders) {
        var request = HTTPClientRequest(url: self.url + path)
        request.method = method
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(15))
        let buffer = try await response.body.collect(upTo: 1 << 20)
        let data = Data(buffer.readableBytesView)
        return (
            Int(response.status.code), try? JSONSerialization.jsonObject(with: data),
            String(decoding: data, as: UTF8.self), response.headers
        )
    }

    /// Both logs, to check no secret is in them.
    func logs() -> String {
        ["master.log", "scheduler.log"].map {
            (try? String(contentsOf: self.dir.appendingPathComponent($0), encoding: .utf8)) ?? ""
        }.joined(separator: "\n")
    }
}

@Suite(.serialized) struct SchedulerAuthTests {
    @Test func theFrameworkSubscribesWithItsPrincipalAndTheAPINeedsCredentials() async throws {
        // Given a scheduler whose API credentials come from the environment
        let cluster = try await AuthScheduler.start(credentialsInEnvironment: true)
        do {
            // Then the master lists the framework with the principal it was given
            let frameworks = try await HTTP.get("http://127.0.0.1:\(cluster.masterPort)/master/frameworks")
            let framework = try #require(
                ((frameworks.json as? [String: Any])?["frameworks"] as? [[String: Any]])?.first
            )
            #expect(framework["name"] as? String == "marathon")
            #expect(framework["principal"] as? String == AuthScheduler.principal)

            // When the API is called without, with wrong and with right credentials
            let anonymous = try await cluster.request(.GET, "/v2/apps", authorization: nil)
            let wrong = try await cluster.request(
                .GET,
                "/v2/apps",
                authorization: AuthScheduler.basic(AuthScheduler.user, "nope")
            )
            let info = try await cluster.request(
                .GET,
                "/v2/info",
                authorization: AuthScheduler.basic(AuthScheduler.user, AuthScheduler.password)
            )
            let viewerWrite = try await cluster.request(
                .POST,
                "/v2/apps",
                authorization: AuthScheduler.basic(AuthScheduler.viewer, AuthScheduler.viewerPassword),
                body: #"{"id":"/x","cmd":"sleep 1","cpus":0.01,"mem":16}"#
            )
            let bearer = try await cluster.request(.GET, "/metrics", authorization: "Bearer \(AuthScheduler.password)")
            // Then
            #expect(anonymous.status == 401)
            #expect(anonymous.headers.first(name: "WWW-Authenticate") == #"Basic realm="Mesosphere""#)
            #expect((anonymous.json as? [String: Any])?.keys.sorted() == ["message"])
            #expect(wrong.status == 401)
            #expect(info.status == 200)
            #expect(viewerWrite.status == 403)
            #expect(bearer.status == 200)
            // And no secret is shown or logged
            #expect(!info.text.contains(AuthScheduler.secret) && !info.text.contains(AuthScheduler.password))
            let logs = cluster.logs()
            #expect(!logs.contains(AuthScheduler.secret))
            #expect(!logs.contains(AuthScheduler.password))
            #expect(!logs.contains(AuthScheduler.viewerPassword))
        } catch {
            Issue.record("scheduler log:\n\(cluster.scheduler.logTail(40))")
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }

    @Test func marathonPythonWorksWithUsernameAndPasswordAndIsRefusedWithout() async throws {
        // Given marathon-python and a scheduler with credentials
        let python = try MarathonClientTests.python()
        let cluster = try await AuthScheduler.start()
        // When the client script runs with a read-write and a read-only user, and without
        let script = Package.root.appendingPathComponent("Tests/IntegrationTests/Python/marathon_auth.py").path
        let result = try run(
            python,
            [
                script, cluster.url, "\(AuthScheduler.user):\(AuthScheduler.password)",
                "\(AuthScheduler.viewer):\(AuthScheduler.viewerPassword)",
            ]
        )
        // Then
        #expect(result.status == 0, "output:\n\(result.output)\n--- scheduler log:\n\(cluster.scheduler.logTail(40))")
        for step in [
            "ping without credentials", "get_info", "create_app", "list_apps", "read-only get_app",
            "read-only scale_app refused", "anonymous list_apps refused", "anonymous create_app refused",
            "wrong password refused", "event_stream with credentials", "delete_app",
        ] {
            #expect(result.output.contains("ok: \(step)\n"), "step '\(step)' did not pass")
        }
        #expect(result.output.contains("ALL OK"))
        await cluster.stop()
    }

    @Test func aSchedulerOnANonLoopbackAddressNeedsCredentialsOrTheOptOut() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("regatta-auth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = "sqlite://\(dir.appendingPathComponent("s.db").path)"
        // When started on 0.0.0.0 without credentials
        let refused = try run(
            Package.regatta,
            [
                "scheduler", "--master", "127.0.0.1:1", "--http_address", "0.0.0.0", "--http_port", "\(freePort())",
                "--store", store,
            ]
        )
        // Then it refuses, naming the flag and the opt-out
        #expect(refused.status != 0)
        let line = try #require(refused.output.split(separator: "\n").first.map(String.init))
        #expect(line.hasPrefix("Error: Refusing to start the scheduler on 0.0.0.0 without authentication"))
        #expect(line.contains("--http_credentials user:password") && line.contains("--insecure_allow_unauthenticated"))

        // When one of the master-link flags comes without the other, or a credential is malformed
        for (arguments, message) in [
            (["--mesos_authentication_principal", "p"], "--mesos_authentication_principal needs"),
            (["--mesos_authentication_secret_file", "/nonexistent"], "--mesos_authentication_secret_file needs"),
            (
                ["--mesos_authentication_principal", "p", "--mesos_authentication_secret_file", "/nonexistent"],
                "--mesos_authentication_secret_file: Cannot read"
            ),
            (["--http_credentials", "nocolon"], "--http_credentials takes user:password"),
            (["--http_readonly_credentials", "v:w"], "--http_readonly_credentials needs --http_credentials"),
        ] {
            let result = try run(
                Package.regatta,
                ["scheduler", "--master", "127.0.0.1:1", "--store", store] + arguments
            )
            // Then it stops with a line naming the flag
            #expect(result.status != 0, "\(arguments)")
            #expect(result.output.hasPrefix("Error: \(message)"), "\(arguments): \(result.output)")
        }

        // When given the opt-out
        let port = freePort()
        let open = try RegattaProcess(
            [
                "scheduler", "--master", "127.0.0.1:1", "--http_address", "0.0.0.0", "--http_port", "\(port)",
                "--store", store, "--insecure_allow_unauthenticated",
            ],
            log: dir.appendingPathComponent("open.log")
        )
        // Then it serves without credentials
        try await eventually("the scheduler started with the opt-out answers") {
            try await HTTP.get("http://127.0.0.1:\(port)/v2/leader").status == 200
        }
        await open.stop()
    }
}
