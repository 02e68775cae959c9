// SPDX-License-Identifier: Apache-2.0

/// A store write was refused because another scheduler claimed a larger leadership epoch: this scheduler was
/// deposed (its ZooKeeper election was lost) and has not noticed yet. Nothing was changed.
///
/// A scheduler that sees this error must stop scheduling at once; `regatta scheduler` exits with code 103.
public struct LeadershipFencedError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The epoch this store claimed.
    public var ownEpoch: Int64
    /// The larger epoch found in the store.
    public var storedEpoch: Int64

    public init(ownEpoch: Int64, storedEpoch: Int64) {
        self.ownEpoch = ownEpoch
        self.storedEpoch = storedEpoch
    }

    public var description: String {
        "The store refused the write: this scheduler leads with epoch \(self.ownEpoch), but another scheduler has "
            + "taken over with epoch \(self.storedEpoch); this scheduler was deposed and must stop scheduling "
            + "(restart it to rejoin the election as a follower)."
    }
}
