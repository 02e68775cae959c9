// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc

/// Fuzzing of the agent's sandbox path resolution for `/files` (`REGATTA_FUZZ_TARGET=sandbox`):
/// ``SandboxFiles/resolve(_:sandboxes:)``, ``SandboxFiles/normalized(_:)``, ``SandboxFiles/read(_:offset:length:sandboxes:)``
/// and ``SandboxLayout/sandbox(agent:framework:task:container:)``.
///
/// Resolution looks at the file system, so the harness builds a fixed tree once under a temporary work directory:
/// two sandboxes (one a name-prefix of the other: `runs/c1` and `runs/c10`), files, directories, and symlinks that
/// point inside, to the parent, to `/`, to `/etc/passwd`, to the other sandbox and in a loop. In the input, `@1`, `@2`
/// and `@w` stand for the two sandboxes and the work directory, so the fuzzer can name them. Only `lstat`, `realpath`
/// and reads happen: nothing outside the temporary directory is written.
///
/// Input: a selector byte (which sandboxes the agent knows), then `path\noffset\nlength\nagent\nframework\ntask\ncontainer`.
///
/// - Important: Invariants: nothing traps; a path ``SandboxFiles/resolve(_:sandboxes:)`` returns, with every symlink
///   resolved, equals itself and lies inside a known sandbox (compared by path components, so `c10` is not inside
///   `c1`); a read never returns more than ``SandboxFiles/maximumReadLength`` bytes; ``SandboxFiles/normalized(_:)``
///   is absolute, has no empty, `.` or `..` components and is idempotent; a sandbox path built from any ids
///   normalizes to itself and lies under `slaves/`, seven components deep.
enum SandboxFuzzer {
    struct Tree {
        var workDir: String
        var sandboxes: [String]
    }

    static let tree: Tree = {
        let base = FileManager.default.temporaryDirectory.path + "/regatta-fuzz-sandbox-\(getpid())"
        let layout = SandboxLayout(workDir: base)
        let first = layout.sandbox(
            agent: AgentID("a"),
            framework: FrameworkID("f"),
            task: TaskID("t"),
            container: ContainerID("c1")
        )
        let second = layout.sandbox(
            agent: AgentID("a"),
            framework: FrameworkID("f"),
            task: TaskID("t"),
            container: ContainerID("c10")
        )
        let fm = FileManager.default
        for sandbox in [first, second] {
            try! fm.createDirectory(atPath: sandbox + "/dir/sub", withIntermediateDirectories: true)
            fm.createFile(atPath: sandbox + "/stdout", contents: Data(repeating: 65, count: 300))
            fm.createFile(atPath: sandbox + "/dir/file", contents: Data("hello".utf8))
            try? fm.createSymbolicLink(atPath: sandbox + "/in", withDestinationPath: "stdout")
            try? fm.createSymbolicLink(atPath: sandbox + "/up", withDestinationPath: "..")
            try? fm.createSymbolicLink(atPath: sandbox + "/root", withDestinationPath: "/")
            try? fm.createSymbolicLink(atPath: sandbox + "/passwd", withDestinationPath: "/etc/passwd")
            try? fm.createSymbolicLink(atPath: sandbox + "/loop", withDestinationPath: "loop")
            try? fm.createSymbolicLink(atPath: sandbox + "/dir/back", withDestinationPath: "../../")
        }
        try? fm.createSymbolicLink(atPath: first + "/other", withDestinationPath: second)
        fm.createFile(atPath: base + "/secret", contents: Data("secret".utf8))
        atexit { try? FileManager.default.removeItem(atPath: SandboxFuzzer.tree.workDir) }
        return Tree(workDir: base, sandboxes: [first, second])
    }()

    static func run(_ bytes: UnsafeRawBufferPointer) {
        let tree = self.tree
        var input = FuzzBytes(bytes)
        let selector = input.byte()
        let known = [tree.sandboxes[0], tree.sandboxes[1], tree.sandboxes[0] + "/", tree.sandboxes[1] + "/./"]
            .enumerated().filter { selector & (1 << $0.offset) != 0 }.map(\.element)
        let text = String(decoding: input.rest(), as: UTF8.self)
            .replacingOccurrences(of: "@1", with: tree.sandboxes[0])
            .replacingOccurrences(of: "@2", with: tree.sandboxes[1])
            .replacingOccurrences(of: "@w", with: tree.workDir)
        let fields = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func field(_ index: Int) -> String? { index < fields.count ? fields[index] : nil }
        let path = field(0)

        // Resolution.
        let roots = known.compactMap(self.realPath)
        if case .success(let resolved) = Result(catching: { try SandboxFiles.resolve(path, sandboxes: known) }) {
            FuzzCheck.require(self.realPath(resolved) == resolved, "resolved '\(resolved)' is not a real path")
            FuzzCheck.require(
                roots.contains { self.isInside(resolved, root: $0) },
                "'\(path ?? "")' resolved to '\(resolved)', outside the sandboxes \(roots)"
            )
            if let chunk = try? SandboxFiles.read(path, offset: field(1), length: field(2), sandboxes: known) {
                FuzzCheck.require(
                    chunk.data.utf8.count <= SandboxFiles.maximumReadLength * 3,
                    "read returned \(chunk.data.utf8.count) bytes"
                )
            }
        }

        // Normalization, without the file system.
        let raw = path ?? ""
        if raw.hasPrefix("/") {
            let normal = SandboxFiles.normalized(raw)
            FuzzCheck.require(normal.hasPrefix("/"), "normalized '\(raw)' to relative '\(normal)'")
            let components = normal.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            FuzzCheck.require(
                normal == "/" || !components.contains { $0.isEmpty || $0 == "." || $0 == ".." },
                "normalized '\(raw)' to '\(normal)'"
            )
            FuzzCheck.require(SandboxFiles.normalized(normal) == normal, "normalizing '\(normal)' again changes it")
        }

        // A sandbox path built from hostile ids stays one sandbox deep under `slaves/`.
        let layout = SandboxLayout(workDir: tree.workDir)
        let sandbox = layout.sandbox(
            agent: AgentID(field(3) ?? ""),
            framework: FrameworkID(field(4) ?? ""),
            task: TaskID(field(5) ?? ""),
            container: ContainerID(field(6) ?? "")
        )
        FuzzCheck.require(SandboxFiles.normalized(sandbox) == sandbox, "sandbox path '\(sandbox)' is not normal")
        FuzzCheck.require(
            self.isInside(sandbox, root: layout.sandboxesRoot) && sandbox != layout.sandboxesRoot,
            "sandbox path '\(sandbox)' is outside '\(layout.sandboxesRoot)'"
        )
        let depth = PathComponents.split(sandbox).count - PathComponents.split(layout.sandboxesRoot).count
        FuzzCheck.require(depth == 7, "sandbox path '\(sandbox)' is \(depth) components deep, not 7")
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Containment by whole components.
    private static func isInside(_ path: String, root: String) -> Bool {
        // Split bytes: splitting a String splits grapheme clusters, and `/` followed by a combining mark is one.
        let slash = UInt8(ascii: "/")
        let pathComponents = path.utf8.split(separator: slash).map { Array($0) }
        let rootComponents = root.utf8.split(separator: slash).map { Array($0) }
        return path.utf8.first == slash && pathComponents.count >= rootComponents.count
            && Array(pathComponents.prefix(rootComponents.count)) == rootComponents
    }
}
