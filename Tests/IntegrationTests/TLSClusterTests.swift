// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RegattaHTTP
import RegattaTestKit
import Testing

/// TLS on every link with real processes on loopback and certificates made by openssl: master, agent and scheduler
/// serve HTTPS only; the agent and the scheduler reach the master over https (a bare `host:port` with
/// `--tls_ca_file`); the CLI and marathon-python reach the scheduler with the CA.
@Suite(.serialized, .enabled(if: TLSTestCertificates.available, "needs the openssl CLI"), .timeLimit(.minutes(4)))
struct TLSClusterTests {
    /// A client of the cluster that trusts `files`' CA (and presents its certificate when given one).
    static func client(_ files: TLSSettings.Files) throws -> HTTPClient {
        TLSHTTPClients.shared(tls: try TLSSettings(files))
    }

    static func get(_ client: HTTPClient, _ url: String) async throws -> (status: Int, json: Any?, text: String) {
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(15))
        let body = try await response.body.collect(upTo: 16 << 20)
        let data = Data(body.readableBytesView)
        return (
            Int(response.status.code), try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]),
            String(decoding: data, as: UTF8.self)
        )
    }

    static func activeAgents(_ client: HTTPClient, master: String) async throws -> Int {
        let metrics = try await Self.get(client, "\(master)/metrics/snapshot")
        return Int((metrics.json as? [String: Any])?["master/slaves_active"] as? Double ?? -1)
    }

    /// Runs `regatta` with `arguments` to its end; its status and output.
    static func regatta(_ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Package.regatta)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    final class Cluster: @unchecked Sendable {
        let pki: TLSTestCertificates
        let workDir: URL
        let masterPort = freePort()
        var processes: [RegattaProcess] = []

        var master: String { "https://127.0.0.1:\(self.masterPort)" }
        var serverFlags: [String] {
            ["--tls_cert_file", self.pki.serverCertificateFile, "--tls_key_file", self.pki.serverKeyFile]
        }

        /// Starts a master serving HTTPS with the test PKI's server certificate and `masterFlags(pki)`.
        init(masterFlags: (TLSTestCertificates) -> [String] = { _ in [] }) throws {
            self.pki = try TLSTestCertificates.make()
            self.workDir = self.pki.directory
            try self.start(
                "master",
                ["master", "--port", "\(self.masterPort)", "--work_dir", self.path("master")] + self.serverFlags
                    + masterFlags(self.pki)
            )
        }

        func path(_ name: String) -> String { self.workDir.appendingPathComponent(name).path }

        @discardableResult
        func start(_ name: String, _ arguments: [String]) throws -> RegattaProcess {
            let process = try RegattaProcess(arguments, log: self.workDir.appendingPathComponent("\(name).log"))
            self.processes.append(process)
            return process
        }

        /// An agent given the master as a bare `host:port` and `flags`.
        @discardableResult
        func startAgent(_ name: String, port: Int = freePort(), _ flags: [String]) throws -> RegattaProcess {
            try self.start(
                name,
                [
                    "agent", "--master", "127.0.0.1:\(self.masterPort)", "--port", "\(port)", "--hostname", name,
                    "--work_dir", self.path(name), "--resources", "cpus:1;mem:256;disk:256;" + uniqueAgentPorts(),
                ] + flags
            )
        }

        func logs() -> String {
            self.processes.map { "\($0.logURL.lastPathComponent): \($0.logTail(15))" }.joined(separator: "\n")
        }

        func stop() async {
            for process in self.processes.reversed() { await process.stop() }
            self.pki.remove()
        }

        func run(_ body: (Cluster) async throws -> Void) async throws {
            do {
                try await body(self)
            } catch {
                Issue.record("logs:\n\(self.logs())")
                await self.stop()
                throw error
            }
            await self.stop()
        }
    }

    @Test func everyLinkIsHTTPSAndATaskRuns() async throws {
        let cluster = try Cluster()
        try await cluster.run { cluster in
            let pki = cluster.pki
            let https = try Self.client(.init(caFile: pki.caFile))
            // Given an agent and a scheduler that serve HTTPS and reach the master with the CA
            let agentPort = freePort()
            try cluster.startAgent("agent-tls", port: agentPort, cluster.serverFlags + ["--tls_ca_file", pki.caFile])
            let schedulerPort = freePort()
            let scheduler = "https://127.0.0.1:\(schedulerPort)"
            try cluster.start(
                "scheduler",
                [
                    "scheduler", "--master", "127.0.0.1:\(cluster.masterPort)", "--http_port", "\(schedulerPort)",
                    "--store", "sqlite://\(cluster.path("scheduler.db"))", "--tls_ca_file", pki.caFile,
                ] + cluster.serverFlags
            )
            // Then the agent registers over https
            try await eventually("the agent registered over https") {
                try await Self.activeAgents(https, master: cluster.master) == 1
            }
            let state = try await Self.get(https, "\(cluster.master)/master/state")
            #expect(state.status == 200)
            #expect(try await Self.get(https, "https://127.0.0.1:\(agentPort)/state").status == 200)
            // And plain HTTP to the TLS ports fails
            for port in [cluster.masterPort, agentPort] {
                await #expect(throws: (any Error).self, "plain HTTP to \(port)") {
                    _ = try await HTTP.get("http://127.0.0.1:\(port)/health")
                }
            }
            // When an app is deployed through the CLI, which trusts the CA from REGATTA_TLS_CA_FILE
            try await eventually("the scheduler answers /ping over https") {
                try await Self.get(https, "\(scheduler)/ping").text == "pong"
            }
            let definition = cluster.path("app.json")
            try Data(#"{"id": "/tls", "cmd": "sleep 300", "cpus": 0.1, "mem": 16}"#.utf8)
                .write(to: URL(fileURLWithPath: definition))
            let (status, output) = try Self.regatta(
                ["app", "add", definition],
                environment: ["REGATTA_SCHEDULER": scheduler, "REGATTA_TLS_CA_FILE": pki.caFile]
            )
            #expect(status == 0, "regatta app add: \(output)")
            // Then its task runs: the scheduler subscribed to the master over https and the agent launched it
            try await eventually(timeout: .seconds(40), "the task runs") {
                let app = try await Self.get(https, "\(scheduler)/v2/apps/tls")
                return ((app.json as? [String: Any])?["app"] as? [String: Any])?["tasksRunning"] as? Int == 1
            }
            let info = try await https.execute(HTTPClientRequest(url: "\(scheduler)/v2/info"), timeout: .seconds(15))
            #expect(info.status == .ok)
            #expect(info.headers.first(name: "X-Marathon-Leader")?.hasPrefix("https://") == true)
            _ = try await info.body.collect(upTo: 1 << 20)
            // And the CLI without the CA is refused with the reason
            let (untrusted, refusal) = try Self.regatta(["app", "list"], environment: ["REGATTA_SCHEDULER": scheduler])
            #expect(untrusted != 0)
            #expect(refusal.contains("certificate"), "\(refusal)")
            // And marathon-python verifies the scheduler with the CA file
            let python = try MarathonClientTests.python()
            let script = Package.root.appendingPathComponent("Tests/IntegrationTests/Python/marathon_tls.py").path
            let result = try run(python, [script, scheduler, pki.caFile])
            #expect(result.status == 0 && result.output.contains("ALL OK"), "marathon_tls.py:\n\(result.output)")
        }
    }

    @Test func anAgentTrustingAnotherCADoesNotRegister() async throws {
        let cluster = try Cluster()
        try await cluster.run { cluster in
            let https = try Self.client(.init(caFile: cluster.pki.caFile))
            try await eventually("the master serves https") {
                try await Self.get(https, "\(cluster.master)/health").status == 200
            }
            // Given an agent that trusts a CA which did not sign the master's certificate
            let agent = try cluster.startAgent("agent-wrong-ca", ["--tls_ca_file", cluster.pki.otherCAFile])
            // Then its log names the verification failure, and the master has no agent
            try await eventually("the agent reports the certificate failure") {
                agent.logTail(200).contains("CERTIFICATE_VERIFY_FAILED")
            }
            #expect(try await Self.activeAgents(https, master: cluster.master) == 0)
        }
    }

    @Test func mutualTLSRefusesAClientWithoutACertificateAndServesAnAgentWithOne() async throws {
        let cluster = try Cluster { pki in ["--tls_ca_file", pki.caFile, "--tls_require_client_cert"] }
        try await cluster.run { cluster in
            let pki = cluster.pki
            let withCertificate = try Self.client(
                .init(certificateFile: pki.clientCertificateFile, keyFile: pki.clientKeyFile, caFile: pki.caFile)
            )
            try await eventually("the master serves clients with a certificate") {
                try await Self.get(withCertificate, "\(cluster.master)/health").status == 200
            }
            // A client with the CA but no certificate is refused in the handshake
            let anonymous = try Self.client(.init(caFile: pki.caFile))
            await #expect(throws: (any Error).self) { _ = try await Self.get(anonymous, "\(cluster.master)/health") }
            // An agent presenting its certificate registers
            try cluster.startAgent("agent-mtls", cluster.serverFlags + ["--tls_ca_file", pki.caFile])
            try await eventually("the agent registered with its client certificate") {
                try await Self.activeAgents(withCertificate, master: cluster.master) == 1
            }
        }
    }

    @Test func badTLSFlagsStopTheDaemonWithOneLine() throws {
        let pki = try TLSTestCertificates.make()
        defer { pki.remove() }
        let cases: [([String], String)] = [
            (["master", "--tls_cert_file", pki.serverCertificateFile], "--tls_key_file"),
            (["agent", "--master", "127.0.0.1:5050", "--tls_key_file", pki.serverKeyFile], "--tls_cert_file"),
            (
                [
                    "scheduler", "--master", "127.0.0.1:5050", "--tls_cert_file", pki.path("missing.crt"),
                    "--tls_key_file", pki.serverKeyFile,
                ], "--tls_cert_file"
            ),
            (
                [
                    "master", "--tls_cert_file", pki.serverCertificateFile, "--tls_key_file", pki.serverKeyFile,
                    "--tls_require_client_cert",
                ], "--tls_require_client_cert"
            ),
        ]
        for (arguments, flag) in cases {
            let (status, output) = try Self.regatta(arguments)
            #expect(status != 0, "\(arguments)")
            let lines = output.split(separator: "\n").filter { $0.contains("Error") || $0.contains(flag) }
            #expect(lines.count >= 1 && lines.allSatisfy { $0.contains(flag) }, "\(arguments): \(output)")
        }
    }
}
