// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
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
                atPath: sandbox + "/escape",
                withDestinationPath: root + "/secret"
            )
            try FileManager.default.createSymbolicLink(atPath: sandbox + "/etc", withDestinationPath: "/etc")
            try FileManager.default.createSymbolicLink(
                atPath: sandbox + "/out",
                withDestinationPath: sandbox + "/stdout"
            )
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
                    == SandboxFiles.Chunk(data: "wor", offset: 6)
            )
            #expect(
                try SandboxFiles.read(sandbox + "/stdout", offset: nil, length: nil, sandboxes: [sandbox])
                    == SandboxFiles.Chunk(data: "", offset: 12)
            )
            #expect(
                try SandboxFiles.read(sandbox + "/stdout", offset: "100", length: nil, sandboxes: [sandbox])
                    == SandboxFiles.Chunk(data: "", offset: 100)
            )
            // A symlink that stays in the sandbox is followed when browsing
            let entries = try SandboxFiles.browse(sandbox, sandboxes: [sandbox])
            #expect(
                entries.map { ($0.path as NSString).lastPathComponent } == ["escape", "etc", "logs", "out", "stdout"]
            )
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

    @Test func pathsAreSplitOnTheSlashByteNotOnGraphemes() {
        // A `/` followed by a combining mark (U+034F) is one grapheme to String, but a separator to the kernel: the
        // `..` before it must still climb (the fuzzer found the sandbox check fooled by such a component).
        #expect(SandboxFiles.normalized("/sandbox/../\u{34F}etc") == "/\u{34F}etc")
        #expect(ContainerPolicy.hasDotDot("/data/../\u{34F}etc"))
        // Differently normalized names are different directories on disk.
        #expect(!ContainerPolicy.isInside("/srv/e\u{301}/x", root: "/srv/\u{E9}"))
        #expect(ContainerPolicy.isInside("/srv/\u{E9}/x", root: "/srv/\u{E9}"))
    }

    @Test func refusesPathsOutsideSandboxes() async throws {
        try await self.withSandbox { sandbox, root in
            // `..` out of a sandbox, symlinks out of it, and paths elsewhere
            #expect(
                self.status {
                    _ = try SandboxFiles.read(
                        sandbox + "/../../../../../../../etc/passwd",
                        offset: "0",
                        length: nil,
                        sandboxes: [sandbox]
                    )
                } == 403
            )
            #expect(
                self.status {
                    _ = try SandboxFiles.read(
                        sandbox + "/../../../../../../../../../../../../../etc/passwd",
                        offset: "0",
                        length: nil,
                        sandboxes: [sandbox]
                    )
                } == 403
            )
            #expect(
                self.status {
                    _ = try SandboxFiles.read(
                        sandbox + "/logs/../stdout",
                        offset: "0",
                        length: nil,
                        sandboxes: [sandbox]
                    )
                } == 200
            )
            #expect(
                self.status {
                    _ = try SandboxFiles.read(sandbox + "/escape", offset: "0", length: nil, sandboxes: [sandbox])
                } == 403
            )
            #expect(
                self.status {
                    _ = try SandboxFiles.read(sandbox + "/etc/passwd", offset: "0", length: nil, sandboxes: [sandbox])
                } == 403
            )
            #expect(self.status { _ = try SandboxFiles.browse(sandbox + "/etc", sandboxes: [sandbox]) } == 403)
            #expect(self.status { _ = try SandboxFiles.browse(sandbox + "/..", sandboxes: [sandbox]) } == 403)
            #expect(
                self.status { _ = try SandboxFiles.read("/etc/passwd", offset: "0", length: nil, sandboxes: [sandbox]) }
                    == 404
            )
            #expect(
                self.status {
                    _ = try SandboxFiles.read(root + "/secret", offset: "0", length: nil, sandboxes: [sandbox])
                } == 404
            )
            #expect(self.status { _ = try SandboxFiles.browse("/", sandboxes: [sandbox]) } == 404)
            #expect(
                self.status {
                    _ = try SandboxFiles.read(sandbox + "/missing", offset: "0", length: nil, sandboxes: [sandbox])
                } == 404
            )
            // A symlink to a file inside the sandbox is served (it resolves inside)
            #expect(
                self.status {
                    _ = try SandboxFiles.read(sandbox + "/out", offset: "0", length: nil, sandboxes: [sandbox])
                } == 200
            )
            // No sandboxes known: nothing is served
            #expect(
                self.status { _ = try SandboxFiles.read(sandbox + "/stdout", offset: "0", length: nil, sandboxes: []) }
                    == 404
            )
            // Bad requests
            #expect(
                self.status { _ = try SandboxFiles.read(nil, offset: "0", length: nil, sandboxes: [sandbox]) } == 400
            )
            #expect(
                self.status { _ = try SandboxFiles.read("stdout", offset: "0", length: nil, sandboxes: [sandbox]) }
                    == 400
            )
            #expect(
                self.status {
                    _ = try SandboxFiles.read(sandbox + "/stdout", offset: "x", length: nil, sandboxes: [sandbox])
                } == 400
            )
            #expect(
                self.status {
                    _ = try SandboxFiles.read(sandbox + "/logs", offset: "0", length: nil, sandboxes: [sandbox])
                } == 400
            )
        }
    }
}

/// `/files/read` never blocks on, or serves, anything but a regular file.
@Suite struct SandboxFilesSpecialFileTests {
    @Test func fifosAreRefusedWithoutBlocking() async throws {
        try await TestSupport.withTemporaryDirectory { sandbox in
            // Given: a FIFO planted in the sandbox (nobody writes to it)
            #expect(mkfifo(sandbox + "/pipe", 0o644) == 0)
            // When
            var status = 0
            var message = ""
            do {
                _ = try SandboxFiles.read(sandbox + "/pipe", offset: "0", length: nil, sandboxes: [sandbox])
            } catch let failure as SandboxFiles.Failure {
                status = failure.status
                message = failure.message
            }
            // Then: refused at once with a message
            #expect(status == 400)
            #expect(message.contains("not a regular file"))
        }
    }

    @Test func symlinksToDevicesAreRefused() async throws {
        try await TestSupport.withTemporaryDirectory { sandbox in
            // Given
            try FileManager.default.createSymbolicLink(atPath: sandbox + "/zero", withDestinationPath: "/dev/zero")
            // When / Then
            #expect(throws: SandboxFiles.Failure.self) {
                try SandboxFiles.read(sandbox + "/zero", offset: "0", length: nil, sandboxes: [sandbox])
            }
        }
    }
}

/// The agent's own sandbox files (`stdout`, `stderr`, the Docker log position) cannot be redirected.
@Suite struct SandboxFileTests {
    @Test func createsRegularFilesAndRefusesPlantedSymlinks() async throws {
        try await TestSupport.withTemporaryDirectory { root in
            // Given: a sandbox whose `stdout` a task replaced with a symlink to a host file
            let sandbox = root + "/sandbox"
            try FileManager.default.createDirectory(atPath: sandbox, withIntermediateDirectories: true)
            try "host\n".write(toFile: root + "/host-file", atomically: true, encoding: .utf8)
            try FileManager.default.createSymbolicLink(
                atPath: sandbox + "/stdout",
                withDestinationPath: root + "/host-file"
            )
            // When / Then: opening it fails, and the host file is untouched
            #expect(throws: AgentError.self) { try SandboxOutputFile(name: "stdout", in: sandbox) }
            #expect(try String(contentsOfFile: root + "/host-file", encoding: .utf8) == "host\n")
            // A dangling symlink is not followed to create its target either
            try FileManager.default.createSymbolicLink(atPath: sandbox + "/stderr", withDestinationPath: root + "/new")
            #expect(throws: AgentError.self) { try SandboxOutputFile(name: "stderr", in: sandbox) }
            #expect(!FileManager.default.fileExists(atPath: root + "/new"))
            // And a missing file is created as a regular file
            let position = try DockerLogPosition(sandbox: sandbox)
            try position.record(DockerLogTimestamp(seconds: 1_700_000_000, nanoseconds: 5))
            #expect(
                DockerLogPosition.read(sandbox: sandbox) == DockerLogTimestamp(seconds: 1_700_000_000, nanoseconds: 5)
            )
        }
    }

    @Test func recoveryRefusesReplacedFilesWithoutBlocking() async throws {
        try await TestSupport.withTemporaryDirectory { root in
            // Given: while the agent was down, the task replaced the position file with a FIFO and stdout with a
            // symlink to a host file
            let sandbox = root + "/sandbox"
            try FileManager.default.createDirectory(atPath: sandbox, withIntermediateDirectories: true)
            #expect(mkfifo(sandbox + "/" + DockerLogPosition.fileName, 0o644) == 0)
            try "x".write(toFile: root + "/host-file", atomically: true, encoding: .utf8)
            try FileManager.default.createSymbolicLink(
                atPath: sandbox + "/stdout",
                withDestinationPath: root + "/host-file"
            )
            // When: the agent reads where to resume and reopens the files
            let resume = DockerContainerRuntime.resumePoint(in: sandbox)
            // Then: nothing blocks, the symlink's target does not count, and the files are refused
            #expect(resume == nil)
            #expect(throws: AgentError.self) { try DockerContainerRuntime.SandboxOutput(sandbox: sandbox) }
            #expect(throws: AgentError.self) { try DockerLogPosition(sandbox: sandbox) }
        }
    }
}
