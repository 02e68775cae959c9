// SPDX-License-Identifier: Apache-2.0

/// Metadata keys of the benchmarks' log messages.
enum LogKey {
    static let scenario = "bench.scenario"
    static let phase = "bench.phase"
    static let error = "error"
}
