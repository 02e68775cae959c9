// SPDX-License-Identifier: Apache-2.0

/// Order statistics of a set of samples (nearest-rank percentiles).
public struct Percentiles: Sendable {
    private let sorted: [Double]

    public init(_ samples: [Double]) {
        self.sorted = samples.sorted()
    }

    public var count: Int { self.sorted.count }

    /// The `p`-th percentile (`0...100`) by the nearest-rank method; `nan` without samples.
    public func value(_ p: Double) -> Double {
        guard !self.sorted.isEmpty else { return .nan }
        let rank = Int((p / 100 * Double(self.sorted.count)).rounded(.up))
        return self.sorted[Swift.min(Swift.max(rank, 1), self.sorted.count) - 1]
    }

    public var median: Double { self.value(50) }
    public var p99: Double { self.value(99) }
    public var min: Double { self.sorted.first ?? .nan }
    public var max: Double { self.sorted.last ?? .nan }
}

extension Duration {
    /// The duration in milliseconds.
    var milliseconds: Double {
        Double(self.components.seconds) * 1000 + Double(self.components.attoseconds) / 1e15
    }

    /// The duration in seconds.
    var inSeconds: Double {
        Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18
    }
}
