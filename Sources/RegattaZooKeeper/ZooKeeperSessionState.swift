// SPDX-License-Identifier: Apache-2.0
import CZooKeeper

/// The state of a ZooKeeper session, as the C client reports it: the coordination session states.
///
/// A session starts `connecting`, becomes `connected`, may drop back to `connecting` while the client fails over to
/// another server (ephemeral nodes and watches survive that), and ends `expired`, `authenticationFailed` or `closed`.
/// The three end states are final: the client cannot be used again.
public typealias ZooKeeperSessionState = CoordinationSessionState

extension CoordinationSessionState {
    /// Maps a C `ZOO_*_STATE` value.
    init(cState state: Int32) {
        switch state {
        case ZOO_CONNECTED_STATE, ZOO_READONLY_STATE: self = .connected
        case ZOO_EXPIRED_SESSION_STATE: self = .expired
        case ZOO_AUTH_FAILED_STATE: self = .authenticationFailed
        default: self = .connecting
        }
    }
}

/// The identity of an established session: pass it to `ZooKeeperClient.connect(…, resuming:)` to resume the session
/// from another client, for example after a process restart within the session timeout.
///
/// `description` shows the id only; the password never appears in logs.
public struct ZooKeeperSessionID: Hashable, Sendable, CustomStringConvertible {
    /// The session id the server assigned.
    public var id: Int64
    /// The session password (16 bytes).
    public var password: [UInt8]

    public init(id: Int64, password: [UInt8]) {
        self.id = id
        self.password = password
    }

    public var description: String { "0x" + String(UInt64(bitPattern: self.id), radix: 16) }

    init(_ clientID: clientid_t) {
        self.id = clientID.client_id
        var passwd = clientID.passwd
        self.password = withUnsafeBytes(of: &passwd) { Array($0) }
    }

    var clientID: clientid_t {
        var clientID = clientid_t()
        clientID.client_id = self.id
        withUnsafeMutableBytes(of: &clientID.passwd) { buffer in
            for (index, byte) in self.password.prefix(buffer.count).enumerated() { buffer[index] = byte }
        }
        return clientID
    }
}
