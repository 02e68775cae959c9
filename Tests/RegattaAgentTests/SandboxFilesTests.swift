// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

@testable import RegattaAgent

@Suite struct SandboxFilesTests {
    /// A sandbox with `stdout`, a subdirectory, a symlink out of it and one inside it; plus a secret beside it.
    private func withSandbox(_ body: (String, String) throws -> Void) async throws {
        try await TestSupport.withTemporaryDirectory { root in
            let sandbox = root + "/slaves/a/frameworks/f/executors/t/runs/c"
            try FileManager.default.createDirectory(atPath: sandbox + "/logs", withIntermediateDirectories: true)
            try "hello world\n".write(toFile: sandbox + "/stdout", atomically: true, encoding: .utf8)
            try "secret\n".write(toFile: root + "/secret", atomically: true, encoding: .utf8)
            try FileManager.default.createSymbolicLink(
                atPath: sandbox + "/escape", withDestinationPath: root + "/secret")
            try FileManager.default.createSymbolicLink(atPath: sandbox + "/etc", withDestinationPath: "/etc")
            try FileManager.default.createSymbolicLink(
                atPath: sandbox + "/out", withDestinationPath: sandbox + "/stdout")
            try body(sandbox, root)
        }
    }

    private func status(_ body: () throws -> Void) -> Int {
        do {
            try body()
            return 200
        } catch let failure as SandboxFiles.Failure {
            return failure.status
        } catch {
            Issue.record("unexpected error \(error)")
            return 0
        }
    }

    @Test func readsAndBrowsesInsideSandboxes() async throws {
        try await self.withSandbox { sandbox, _ in
            let chunk = try SandboxFiles.read(sandbox + "/stdout", offset: "0", length: nil, sandboxes: [sandbox])
            #expect(chunk == SandboxFiles.Chunk(data: "hello world\n", offset: 0))
            #expect(
                try SandboxFiles.read(sandbox + "/stdout", offset: "6", length: "3", sandboxes: [sandbox])
                    == SandboxFiles.Chunk(data: "wor", offset: 6))
            #expect(
                try SandboxFiles.read(sandbox + "/stdout", offset: nil, length: nil, sandboxes: [sandbox])
                    == SandboxFiles.Chunk(data: "", offset: 12))
            #expect(
                try SandboxFiles.read(sandbox + "/stdout", offset: "100", length: nil, sandboxes: [sandbox])
                    == SandboxFiles.Chunk(data: "", offset: 100))
            // A symlink that stays in the sandbox is followed when browsing
            let entries = try SandboxFiles.browse(sandbox, sandboxes: [sandbox])
            #expect(
                entries.map { ($0.path as NSString).lastPathComponent } == ["escape", "etc", "logs", "out", "stdout"])
            let stdout = try #require(entries.first { $0.path.hasSuffix("/stdout") })
            #expect(stdout.size == 12)
            #expect(stdout.mode == "-rw-r--r--")
            #expect(stdout.nlink == 1)
            #expect(entries.first { $0.path.hasSuffix("/logs") }?.mode.hasPrefix("d") == true)
            #expect(entries.first { $0.path.hasSuffix("/etc") }?.mode.hasPrefix("l") == true)
        }
    }

    @Test func normalizesPathsLexically() {
        #expect(SandboxFiles.normalized("/a/b/../c/./d//e/") == "/a/c/d/e")
        #expect(SandboxFiles.normalized("/a/../../../etc") == "/etc")
        #expect(SandboxFiles.normalized("/") == "/")
    }

    @Test func refusesPathsOutsideSandboxes() async throws {
        try await self.withSandbox { sandbox, root in
            // `..` out of a sandbox, symlinks out of it, and paths elsewhere
            #expect(
                self.status {
                    _ = try SandboxFiles.read(
                        sandbox + "/../../../../../../../etc/passwd", offset: "0", length: nil, sandboxes: [sandbox])
                } == 403)
            #expect(
                self.status {
                    _ = try SandboxFiles.read(
                        sandbox + "/../../../../../../../../../../../../../etc/passwd", offset: "0", length: nil,
                        sandboxes: [sandbox])
                } == 403)
            #expect(
                self.status {
                    _ = try SandboxFiles.read(
                        sandbox + "/logs/../stdout", offset: "0", length: nil, sandboxes: [sandbox])
                } == 200)
            #expect(
                self.status {
                    _ = try SandboxFiles.read(sandbox + "/escape", offset: "0", length: nil, sandboxes: [sandbox])
                } == 403)
            #expect(
                self.status {
                    _ = try SandboxFiles.read(sandbox + "/etc/passwd", offset: "0", length: nil, sandboxes: [sandbox])
                } == 403)
            #expect(self.status { _ = try SandboxFiles.browse(sandbox + "/etc", sandboxes: [sandbox]) } == 403)
            #expect(self.status { _ = try SandboxFiles.browse(sandbox + "/..", sandboxes: [sandbox]) } == 403)
            #expect(
                self.status { _ = try SandboxFiles.read("/etc/passwd", offset: "0", length: nil, sandboxes: [sandbox]) }
                    == 404)
            #expect(
                self.status {
                    _ = try SandboxFiles.read(root + "/secret", offset: "0", length: nil, sandboxes: [sandbox])
                } == 404)
            #expect(self.status { _ = try SandboxFiles.browse("/", sandboxes: [sandbox]) } == 404)
            #expect(
                self.status {
                    _ = try SandboxFiles.read(sandbox + "/missing", offset: "0", length: nil, sandboxes: [sandbox])
                } == 404)
            // A symlink to a file inside the sandbox is served (it resolves inside)
            #expect(
                self.status {
                    _ = try SandboxFiles.read(sandbox + "/out", offset: "0", length: nil, sandboxes: [sandbox])
                } == 200)
            // No sandboxes known: nothing is served
            #expect(
                self.status { _ = try SandboxFiles.read(sandbox + "/stdout", offset: "0", length: nil, sandboxes: []) }
                    == 404)
            // Bad requests
            #expect(
                self.status { _ = try SandboxFiles.read(nil, offset: "0", length: nil, sandboxes: [sandbox]) } == 400)
            #expect(
                self.status { _ = try SandboxFiles.read("stdout", offset: "0", length: nil, sandboxes: [sandbox]) }
                    == 400)
            #expect(
                self.status {
                    _ = try SandboxFiles.read(sandbox + "/stdout", offset: "x", length: nil, sandboxes: [sandbox])
                } == 400)
            #expect(
                self.status {
                    _ = try SandboxFiles.read(sandbox + "/logs", offset: "0", length: nil, sandboxes: [sandbox])
                } == 400)
        }
    }
}
