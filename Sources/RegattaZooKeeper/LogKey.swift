// SPDX-License-Identifier: Apache-2.0

/// Metadata keys this module logs with.
enum LogKey {
    static let servers = "zk.servers"
    static let path = "zk.path"
    static let sessionID = "zk.session.id"
    static let sessionState = "zk.session.state"
    static let leaderNode = "zk.leader.node"
    static let message = "zk.message"
    static let function = "zk.function"
    static let master = "master.address"
    static let error = "error"
}
