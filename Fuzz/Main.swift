// SPDX-License-Identifier: Apache-2.0
import Foundation

/// The libFuzzer entry point of the fuzz binary built by `scripts/fuzz.sh`.
///
/// One binary holds every target (one build for all of them); `REGATTA_FUZZ_TARGET` picks the one to run, so each
/// target keeps its own corpus. All sources are compiled into one module named `RegattaCore`, which makes the
/// `import RegattaCore` of the master, agent and scheduler files a no-op and gives the harnesses internal access.
///
/// - Important: A harness reports a broken invariant with ``FuzzCheck/fail(_:)`` (a trap), which libFuzzer records as
///   a crash with its reproducer, exactly like a trap in the code under test.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: count > 0 ? start : nil, count: count)
    switch FuzzTarget.selected {
    case .codec: CodecFuzzer.run(bytes)
    case .recordio: RecordIOFuzzer.run(bytes)
    case .parsers: ParsersFuzzer.run(bytes)
    case .sandbox: SandboxFuzzer.run(bytes)
    case .app: AppFuzzer.run(bytes)
    case .master: MasterStateFuzzer.run(bytes)
    }
    return 0
}

/// The fuzz targets; the raw value is what `REGATTA_FUZZ_TARGET` and `scripts/fuzz.sh` call them.
enum FuzzTarget: String, CaseIterable {
    case codec, recordio, parsers, sandbox, app, master

    /// The target named by `REGATTA_FUZZ_TARGET`, read once.
    static let selected: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["REGATTA_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            FileHandle.standardError.write(Data("Set REGATTA_FUZZ_TARGET to one of: \(names).\n".utf8))
            exit(2)
        }
        return target
    }()
}

/// Invariant checks that stop the run with a message libFuzzer prints next to the reproducer.
enum FuzzCheck {
    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("\nINVARIANT BROKEN: \(message)\n".utf8))
        fatalError("invariant broken: \(message)")
    }

    static func require(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { self.fail(message()) }
    }

    /// The findings reported and not fixed yet that `REGATTA_FUZZ_ALLOW` (comma-separated ids) tolerates, so a run can
    /// look for new ones meanwhile. Each id names a reproducer under `Fuzz/Crashes/`.
    static let allowed: Set<String> = Set(
        (ProcessInfo.processInfo.environment["REGATTA_FUZZ_ALLOW"] ?? "").split(separator: ",").map(String.init)
    )

    /// Whether the known finding `id` is tolerated in this run.
    static func isAllowed(_ id: String) -> Bool { self.allowed.contains(id) }
}

/// Reads fuzzer bytes as choices; past the end every read is zero, so any input is a complete program.
struct FuzzBytes {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var isAtEnd: Bool { self.index >= self.bytes.count }

    mutating func byte() -> UInt8 {
        guard self.index < self.bytes.count else { return 0 }
        defer { self.index += 1 }
        return self.bytes[self.index]
    }

    /// A number in `0..<count` (`count` at most 256).
    mutating func choose(_ count: Int) -> Int { Int(self.byte()) % max(1, count) }

    mutating func bool() -> Bool { self.byte() & 1 == 1 }

    mutating func pick<T>(_ values: [T]) -> T { values[self.choose(values.count)] }

    mutating func uint64() -> UInt64 {
        var value: UInt64 = 0
        for _ in 0..<8 { value = value << 8 | UInt64(self.byte()) }
        return value
    }

    /// Up to `maximum` bytes as (possibly invalid, repaired) UTF-8.
    mutating func string(maximum: Int) -> String {
        let count = self.choose(maximum + 1)
        var result: [UInt8] = []
        while result.count < count, !self.isAtEnd { result.append(self.byte()) }
        return String(decoding: result, as: UTF8.self)
    }

    /// The rest of the input.
    mutating func rest() -> UnsafeRawBufferPointer {
        let start = min(self.index, self.bytes.count)
        self.index = self.bytes.count
        return UnsafeRawBufferPointer(rebasing: self.bytes[start...])
    }
}

/// Numbers that have broken daemons before: huge, negative, tiny, at the edges of `Int64` nanoseconds.
enum HostileNumbers {
    /// Seconds as JSON number text (JSON has no NaN or infinity, so these are what the wire can carry).
    static let seconds: [String] = [
        "0", "1", "5", "0.5", "-1", "-0.0", "1e300", "-1e300", "1.7976931348623157e308", "9223372036",
        "9223372036.854775807", "9223372037", "1e19", "1e-300", "604800", "315360000", "31536000", "1e12", "4e-324",
        "18446744073709551616", "-9223372036854775808",
    ]
    /// Nanoseconds (`DurationInfo.nanoseconds`, an int64 on the wire).
    static let nanoseconds: [String] = [
        "0", "1", "-1", "1000000000", "9223372036854775807", "-9223372036854775808", "30000000000", "-30000000000",
    ]
    /// Resource amounts.
    static let amounts: [String] = [
        "0", "0.001", "0.01", "0.1", "1", "2", "32", "128", "1024", "-1", "1e12", "1e13", "1e300", "0.0004", "4096",
    ]
}
