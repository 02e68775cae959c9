// SPDX-License-Identifier: Apache-2.0
import CZooKeeper

/// A znode's metadata, as ZooKeeper's `Stat`.
public struct ZooKeeperStat: Hashable, Sendable {
    /// The transaction that created the node.
    public var createdZxid: Int64
    /// The transaction that last changed the node's data.
    public var modifiedZxid: Int64
    /// The transaction that last changed the node's children.
    public var childrenModifiedZxid: Int64
    /// Creation time, in milliseconds since the Unix epoch.
    public var createdMilliseconds: Int64
    /// Last modification time, in milliseconds since the Unix epoch.
    public var modifiedMilliseconds: Int64
    /// The data version: pass it to `setData`/`delete` for a compare-and-set.
    public var version: Int32
    /// How often the children changed.
    public var childrenVersion: Int32
    /// How often the ACL changed.
    public var aclVersion: Int32
    /// The owning session of an ephemeral node, 0 for a persistent one.
    public var ephemeralOwner: Int64
    /// The data length in bytes.
    public var dataLength: Int32
    /// The number of children.
    public var numberOfChildren: Int32

    /// Whether the node is ephemeral (goes away with its session).
    public var isEphemeral: Bool { self.ephemeralOwner != 0 }

    init(_ stat: Stat) {
        self.createdZxid = stat.czxid
        self.modifiedZxid = stat.mzxid
        self.childrenModifiedZxid = stat.pzxid
        self.createdMilliseconds = stat.ctime
        self.modifiedMilliseconds = stat.mtime
        self.version = stat.version
        self.childrenVersion = stat.cversion
        self.aclVersion = stat.aversion
        self.ephemeralOwner = stat.ephemeralOwner
        self.dataLength = stat.dataLength
        self.numberOfChildren = stat.numChildren
    }
}

/// A znode's data together with its metadata.
public struct ZooKeeperNode: Hashable, Sendable {
    /// The data (empty for a node created without data).
    public var data: [UInt8]
    public var stat: ZooKeeperStat

    public init(data: [UInt8], stat: ZooKeeperStat) {
        self.data = data
        self.stat = stat
    }
}
