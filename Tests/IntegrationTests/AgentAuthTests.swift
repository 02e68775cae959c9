// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real `regatta agent`: safe by default on a reachable address, `--credentials` on its own API, `--credential`
/// towards the master.
@Suite struct AgentAuthTests {
    private func writeFile(_ directory: URL, _ name: String, _ text: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
        return path
    }

    @Test func anAgentOnAReachableAddressWithoutCredentialsRefusesToStart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("regatta-aa-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // When an agent is asked to listen on 0.0.0.0 with nobody authenticated
        let agent = try RegattaProcess(
            [
                "agent", "--master", "127.0.0.1:1", "--ip", "0.0.0.0", "--port", "\(freePort())", "--work_dir",
                directory.appendingPathComponent("agent").path,
            ],
            log: directory.appendingPathComponent("agent.log")
        )
        // Then it exits non-zero with one line naming --credentials and the opt-out
        try await eventually(timeout: .seconds(20), "the agent exited") { !agent.process.isRunning }
        #expect(agent.process.terminationStatus != 0)
        let log = agent.logTail()
        #expect(log.contains("--credentials FILE"), "\(log)")
        #expect(log.contains("--insecure_allow_unauthenticated"), "\(log)")
    }

    @Test func theAgentsStateNeedsCredentialsAndItRegistersWithItsCredential() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("regatta-aa-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let credentials = try self.writeFile(
            directory,
            "credentials.json",
            #"{"credentials": [{"principal": "ops", "secret": "ops-secret"}]}"#
        )
        let credential = try self.writeFile(directory, "credential.json", #"{"principal": "agent", "secret": "a"}"#)
        // Given an agent with --credentials (its API) and --credential (towards the master)
        let cluster = try await AgentCluster(agentFlags: ["--credentials", credentials, "--credential", credential])
        do {
            func get(_ path: String, _ authorization: String?) async throws -> (Int, String?) {
                var request = HTTPClientRequest(url: cluster.agentURL + path)
                if let authorization { request.headers.add(name: "Authorization", value: authorization) }
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                _ = try await response.body.collect(upTo: 1 << 22)
                return (Int(response.status.code), response.headers.first(name: "WWW-Authenticate"))
            }
            let good = "Basic " + Data("ops:ops-secret".utf8).base64EncodedString()
            let wrong = "Basic " + Data("ops:nope".utf8).base64EncodedString()
            // Then /state and /files answer Mesos's 401 to anonymous and wrong callers, 200 to the principal
            for path in ["/state", "/files/browse?path=/", "/metrics/snapshot"] {
                let (status, challenge) = try await get(path, nil)
                #expect(status == 401, "\(path)")
                #expect(challenge == #"Basic realm="mesos""#)
                #expect(try await get(path, wrong).0 == 401, "\(path)")
            }
            #expect(try await get("/state", good).0 == 200)
            #expect(try await get("/state", "Bearer ops-secret").0 == 200)
            #expect(try await get("/health", nil).0 == 200)
        } catch {
            Issue.record("\(error)\n\(cluster.logs())")
        }
        await cluster.stop()
    }

    @Test func aMalformedCredentialFileStopsTheAgentNamingTheFlag() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("regatta-aa-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let credential = try self.writeFile(directory, "credential.json", #"{"principal": "agent"}"#)
        let agent = try RegattaProcess(
            [
                "agent", "--master", "127.0.0.1:1", "--port", "\(freePort())", "--credential", credential,
                "--work_dir", directory.appendingPathComponent("agent").path,
            ],
            log: directory.appendingPathComponent("agent.log")
        )
        try await eventually(timeout: .seconds(20), "the agent exited") { !agent.process.isRunning }
        #expect(agent.process.terminationStatus != 0)
        #expect(agent.logTail().contains("--credential:"), "\(agent.logTail())")
    }
}
